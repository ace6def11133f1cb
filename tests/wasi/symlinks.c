/* Links and symlinks inside the preopen: hard links share an inode, symlinks are followed
 * or not as the lookup flags say, readlink truncates to the buffer, loops end in ELOOP and
 * dangling links in ENOENT. */
#include "check.h"

int main(void) {
  make_file("file", "hello");
  EXPECT_EQ("hard link", __wasi_path_link(DIR_FD, 0, "file", DIR_FD, "hard"), 0);
  __wasi_filestat_t a, b;
  EXPECT_EQ("stat file", __wasi_path_filestat_get(DIR_FD, 0, "file", &a), 0);
  EXPECT_EQ("stat hard", __wasi_path_filestat_get(DIR_FD, 0, "hard", &b), 0);
  EXPECT_EQ("same inode", a.ino, b.ino);
  EXPECT_EQ("two links", b.nlink, 2);
  EXPECT_EQ("link over existing", __wasi_path_link(DIR_FD, 0, "file", DIR_FD, "hard"),
            __WASI_ERRNO_EXIST);

  EXPECT_EQ("symlink", __wasi_path_symlink("file", DIR_FD, "sym"), 0);
  EXPECT_EQ("lstat sym", __wasi_path_filestat_get(DIR_FD, 0, "sym", &b), 0);
  EXPECT_EQ("sym is a symlink", b.filetype, __WASI_FILETYPE_SYMBOLIC_LINK);
  EXPECT_EQ("stat through sym",
            __wasi_path_filestat_get(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", &b), 0);
  EXPECT_EQ("followed to the file", b.ino, a.ino);
  char buf[16];
  __wasi_size_t n;
  EXPECT_EQ("readlink", __wasi_path_readlink(DIR_FD, "sym", (uint8_t *)buf, sizeof buf, &n), 0);
  EXPECT_EQ("readlink length", n, 4);
  EXPECT_EQ("readlink short", __wasi_path_readlink(DIR_FD, "sym", (uint8_t *)buf, 2, &n), 0);
  EXPECT_EQ("readlink truncated", n, 2);
  EXPECT_EQ("readlink of a file", __wasi_path_readlink(DIR_FD, "file", (uint8_t *)buf, 16, &n),
            __WASI_ERRNO_INVAL);

  __wasi_fd_t fd;
  EXPECT_EQ("open sym nofollow", open_at("sym", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
            __WASI_ERRNO_LOOP);
  EXPECT_EQ("open sym follow", __wasi_path_open(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", 0,
                                                __WASI_RIGHTS_FD_READ, 0, 0, &fd), 0);
  EXPECT_EQ("close", __wasi_fd_close(fd), 0);
  EXPECT_EQ("hard link to symlink itself", __wasi_path_link(DIR_FD, 0, "sym", DIR_FD, "hsym"), 0);
  EXPECT_EQ("lstat hsym", __wasi_path_filestat_get(DIR_FD, 0, "hsym", &b), 0);
  EXPECT_EQ("hsym is a symlink", b.filetype, __WASI_FILETYPE_SYMBOLIC_LINK);
  /* Wasmtime never follows the source of a hard link. */
  EXPECT_EQ("hard link following",
            __wasi_path_link(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", DIR_FD, "hfile"),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("lstat hfile", __wasi_path_filestat_get(DIR_FD, 0, "hfile", &b), __WASI_ERRNO_NOENT);

  EXPECT_EQ("loop a", __wasi_path_symlink("b", DIR_FD, "a"), 0);
  EXPECT_EQ("loop b", __wasi_path_symlink("a", DIR_FD, "b"), 0);
  EXPECT_EQ("open loop", __wasi_path_open(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "a", 0,
                                          __WASI_RIGHTS_FD_READ, 0, 0, &fd), __WASI_ERRNO_LOOP);
  EXPECT_EQ("open through loop", open_at("a/x", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
            __WASI_ERRNO_LOOP);
  EXPECT_EQ("dangling", __wasi_path_symlink("missing", DIR_FD, "dangling"), 0);
  EXPECT_EQ("open dangling", __wasi_path_open(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                              "dangling", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
            __WASI_ERRNO_NOENT);
  EXPECT_EQ("symlink over existing", __wasi_path_symlink("x", DIR_FD, "file"), __WASI_ERRNO_EXIST);
  EXPECT_EQ("mkdir d", __wasi_path_create_directory(DIR_FD, "d"), 0);
  EXPECT_EQ("symlink to dir", __wasi_path_symlink("d", DIR_FD, "dl"), 0);
  EXPECT_EQ("rmdir through symlink", __wasi_path_remove_directory(DIR_FD, "dl"),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("unlink dir", __wasi_path_unlink_file(DIR_FD, "d"), __WASI_ERRNO_ISDIR);
  EXPECT_EQ("create via dir symlink", open_at("dl/new", __WASI_OFLAGS_CREAT,
                                              __WASI_RIGHTS_FD_WRITE, 0, &fd), 0);
  EXPECT_EQ("close new", __wasi_fd_close(fd), 0);
  EXPECT_EQ("new is in d", __wasi_path_filestat_get(DIR_FD, 0, "d/new", &b), 0);

  const char *names[] = {"d/new", "dl", "dangling", "a", "b", "hsym", "sym", "hard", "file"};
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
    EXPECT_EQ(names[i], __wasi_path_unlink_file(DIR_FD, names[i]), 0);
  EXPECT_EQ("rmdir d", __wasi_path_remove_directory(DIR_FD, "d"), 0);
  return finish("links and symlinks");
}
