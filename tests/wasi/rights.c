/* Rights a directory reports versus a file, and what a directory refuses: a directory never
 * claims fd_seek or fd_filestat_set_size, cannot be seeked, read or written as a file
 * (EBADF), nor opened with fd_write (EISDIR). */
#include "check.h"

#define NO_FILE_RIGHTS (__WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)

int main(void) {
  __wasi_fdstat_t st;
  EXPECT_EQ("fdstat preopen", __wasi_fd_fdstat_get(DIR_FD, &st), 0);
  EXPECT_EQ("preopen filetype", st.fs_filetype, __WASI_FILETYPE_DIRECTORY);
  EXPECT_EQ("preopen has no seek/set_size", st.fs_rights_base & NO_FILE_RIGHTS, 0);
  EXPECT_TRUE("preopen has path_open", st.fs_rights_base & __WASI_RIGHTS_PATH_OPEN);
  EXPECT_TRUE("preopen has fd_readdir", st.fs_rights_base & __WASI_RIGHTS_FD_READDIR);
  EXPECT_EQ("preopen has no fd_read", st.fs_rights_base & __WASI_RIGHTS_FD_READ, 0);
  EXPECT_TRUE("preopen passes fd_seek on", st.fs_rights_inheriting & __WASI_RIGHTS_FD_SEEK);

  EXPECT_EQ("mkdir", __wasi_path_create_directory(DIR_FD, "dir"), 0);
  __wasi_fd_t dir;
  EXPECT_EQ("open dir", open_at("dir", __WASI_OFLAGS_DIRECTORY,
                                __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR, 0, &dir), 0);
  EXPECT_EQ("fdstat dir", __wasi_fd_fdstat_get(dir, &st), 0);
  EXPECT_EQ("dir filetype", st.fs_filetype, __WASI_FILETYPE_DIRECTORY);
  EXPECT_EQ("dir has no seek/set_size", st.fs_rights_base & NO_FILE_RIGHTS, 0);
  EXPECT_EQ("dir has no fd_write", st.fs_rights_base & __WASI_RIGHTS_FD_WRITE, 0);
  EXPECT_TRUE("dir has fd_readdir", st.fs_rights_base & __WASI_RIGHTS_FD_READDIR);
  __wasi_filesize_t pos;
  EXPECT_EQ("seek dir", __wasi_fd_seek(dir, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_BADF);
  EXPECT_EQ("tell dir", __wasi_fd_tell(dir, &pos), __WASI_ERRNO_BADF);
  uint8_t byte;
  __wasi_iovec_t iov = {&byte, 1};
  __wasi_ciovec_t ciov = {&byte, 1};
  __wasi_size_t n;
  EXPECT_EQ("read dir", __wasi_fd_read(dir, &iov, 1, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("write dir", __wasi_fd_write(dir, &ciov, 1, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("pread dir", __wasi_fd_pread(dir, &iov, 1, 0, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("set_size dir", __wasi_fd_filestat_set_size(dir, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("allocate dir", __wasi_fd_allocate(dir, 0, 1), __WASI_ERRNO_BADF);
  EXPECT_EQ("advise dir", __wasi_fd_advise(dir, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
  EXPECT_EQ("set_flags dir", __wasi_fd_fdstat_set_flags(dir, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("fd_close", __wasi_fd_close(dir), 0);

  __wasi_fd_t fd;
  EXPECT_EQ("O_DIRECTORY + fd_write", open_at("dir", __WASI_OFLAGS_DIRECTORY,
                                             __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_FD_WRITE,
                                             0, &fd), __WASI_ERRNO_ISDIR);
  EXPECT_EQ("dir with fd_write", open_at("dir", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd),
            __WASI_ERRNO_ISDIR);
  EXPECT_EQ("O_DIRECTORY + O_CREAT", open_at("dir", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT,
                                            0, 0, &fd), __WASI_ERRNO_INVAL);
  EXPECT_EQ("O_DIRECTORY + O_TRUNC", open_at("dir", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_TRUNC,
                                            0, 0, &fd), __WASI_ERRNO_INVAL);
  EXPECT_EQ("dir read-only without O_DIRECTORY", open_at("dir", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
            0);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);

  make_file("file", "abc");
  EXPECT_EQ("O_DIRECTORY on a file", open_at("file", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("open file read-only", open_at("file", 0, __WASI_RIGHTS_FD_READ, 0, &fd), 0);
  EXPECT_EQ("fdstat file", __wasi_fd_fdstat_get(fd, &st), 0);
  EXPECT_EQ("file filetype", st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
  EXPECT_TRUE("file has fd_seek", st.fs_rights_base & __WASI_RIGHTS_FD_SEEK);
  EXPECT_TRUE("file has fd_read", st.fs_rights_base & __WASI_RIGHTS_FD_READ);
  EXPECT_EQ("read-only file has no fd_write", st.fs_rights_base & __WASI_RIGHTS_FD_WRITE, 0);
  EXPECT_EQ("write read-only file", __wasi_fd_write(fd, &ciov, 1, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("seek file", __wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), 0);
  EXPECT_EQ("seek file position", pos, 1);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);
  EXPECT_EQ("open file write-only", open_at("file", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd), 0);
  EXPECT_EQ("fdstat write-only file", __wasi_fd_fdstat_get(fd, &st), 0);
  EXPECT_EQ("write-only file has no fd_read", st.fs_rights_base & __WASI_RIGHTS_FD_READ, 0);
  EXPECT_TRUE("write-only file has fd_write", st.fs_rights_base & __WASI_RIGHTS_FD_WRITE);
  EXPECT_EQ("allocate file", __wasi_fd_allocate(fd, 0, 10), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("advise file", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_SEQUENTIAL), 0);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);

  EXPECT_EQ("fdstat stdin", __wasi_fd_fdstat_get(0, &st), 0);
  EXPECT_EQ("stdin rights", st.fs_rights_base, __WASI_RIGHTS_FD_READ);
  EXPECT_EQ("fdstat stdout", __wasi_fd_fdstat_get(1, &st), 0);
  EXPECT_EQ("stdout rights", st.fs_rights_base, __WASI_RIGHTS_FD_WRITE);
  EXPECT_EQ("seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);

  EXPECT_EQ("path_unlink_file", __wasi_path_unlink_file(DIR_FD, "file"), 0);
  EXPECT_EQ("path_remove_directory", __wasi_path_remove_directory(DIR_FD, "dir"), 0);
  return finish("rights");
}
