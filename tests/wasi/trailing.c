/* Paths with trailing slashes: a trailing slash names a directory, so on a file, or as the
 * new name of a link or symlink, it fails; on a directory it is accepted, except by
 * path_remove_directory (EINVAL); path_filestat_get without following drops it. */
#include "check.h"

int main(void) {
  make_file("file", "x");
  EXPECT_EQ("mkdir with slash", __wasi_path_create_directory(DIR_FD, "dir/"), 0);
  __wasi_fd_t fd;
  EXPECT_EQ("open file/", open_at("file/", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("open dir/", open_at("dir/", 0, __WASI_RIGHTS_FD_READDIR, 0, &fd), 0);
  EXPECT_EQ("close dir", __wasi_fd_close(fd), 0);
  EXPECT_EQ("create file with slash", open_at("new/", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE,
                                              0, &fd), __WASI_ERRNO_ISDIR);
  __wasi_filestat_t st;
  /* Without following, path_filestat_get drops a trailing slash (as Wasmtime). */
  EXPECT_EQ("stat file/", __wasi_path_filestat_get(DIR_FD, 0, "file/", &st), 0);
  EXPECT_EQ("stat file/ type", st.filetype, __WASI_FILETYPE_REGULAR_FILE);
  EXPECT_EQ("stat file/ followed",
            __wasi_path_filestat_get(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "file/", &st),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("stat dir/", __wasi_path_filestat_get(DIR_FD, 0, "dir/", &st), 0);
  EXPECT_EQ("stat dir/ type", st.filetype, __WASI_FILETYPE_DIRECTORY);
  EXPECT_EQ("set_times file/",
            __wasi_path_filestat_set_times(DIR_FD, 0, "file/", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("set_times dir/",
            __wasi_path_filestat_set_times(DIR_FD, 0, "dir/", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0);

  EXPECT_EQ("symlink to new/", __wasi_path_symlink("file", DIR_FD, "link/"), __WASI_ERRNO_NOENT);
  EXPECT_EQ("symlink to dir/", __wasi_path_symlink("file", DIR_FD, "dir/"), __WASI_ERRNO_EXIST);
  EXPECT_EQ("symlink without slash", __wasi_path_symlink("file", DIR_FD, "link"), 0);
  EXPECT_EQ("unlink link", __wasi_path_unlink_file(DIR_FD, "link"), 0);
  EXPECT_EQ("link to new/", __wasi_path_link(DIR_FD, 0, "file", DIR_FD, "hard/"),
            __WASI_ERRNO_NOENT);
  EXPECT_EQ("link from file/", __wasi_path_link(DIR_FD, 0, "file/", DIR_FD, "hard"),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("rename file/", __wasi_path_rename(DIR_FD, "file/", DIR_FD, "other"),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("rename to other/", __wasi_path_rename(DIR_FD, "file", DIR_FD, "other/"),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("rename dir/ to dir2/", __wasi_path_rename(DIR_FD, "dir/", DIR_FD, "dir2/"), 0);
  EXPECT_EQ("unlink file/", __wasi_path_unlink_file(DIR_FD, "file/"), __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("rmdir file/", __wasi_path_remove_directory(DIR_FD, "file/"), __WASI_ERRNO_NOTDIR);
  /* "dir2/" is the directory itself (cap-std removes "." in it): EINVAL, as Wasmtime. */
  EXPECT_EQ("rmdir dir2/", __wasi_path_remove_directory(DIR_FD, "dir2/"), __WASI_ERRNO_INVAL);
  EXPECT_EQ("rmdir missing/", __wasi_path_remove_directory(DIR_FD, "missing/"),
            __WASI_ERRNO_NOENT);
  EXPECT_EQ("rmdir dir2", __wasi_path_remove_directory(DIR_FD, "dir2"), 0);
  EXPECT_EQ("unlink file", __wasi_path_unlink_file(DIR_FD, "file"), 0);
  return finish("trailing slashes");
}
