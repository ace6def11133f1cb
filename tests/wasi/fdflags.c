/* The fdflags a file was opened with come back from fd_fdstat_get; the sync flags cannot
 * be asked for (ENOTSUP, as in Wasmtime); fd_fdstat_set_flags changes APPEND and NONBLOCK
 * only. */
#include "check.h"

/* The sync flags are not supported (ENOTSUP), as in Wasmtime (cap-std lacks them). */
static void sync_flags_refused(__wasi_fdflags_t requested) {
  __wasi_fd_t fd;
  EXPECT_EQ("open with a sync flag",
            open_at("file", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, requested, &fd),
            __WASI_ERRNO_NOTSUP);
}

static __wasi_fdflags_t flags_after_open(__wasi_fdflags_t requested) {
  __wasi_fd_t fd;
  __wasi_fdstat_t st = {0};
  EXPECT_EQ("open with fdflags",
            open_at("file", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, requested, &fd), 0);
  EXPECT_EQ("fdstat", __wasi_fd_fdstat_get(fd, &st), 0);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);
  return st.fs_flags;
}

int main(void) {
  make_file("file", "0123456789");
  EXPECT_EQ("no flags", flags_after_open(0), 0);
  EXPECT_EQ("APPEND", flags_after_open(__WASI_FDFLAGS_APPEND), __WASI_FDFLAGS_APPEND);
  EXPECT_EQ("NONBLOCK", flags_after_open(__WASI_FDFLAGS_NONBLOCK), __WASI_FDFLAGS_NONBLOCK);
  EXPECT_EQ("APPEND|NONBLOCK", flags_after_open(__WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK),
            __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK);
  sync_flags_refused(__WASI_FDFLAGS_DSYNC);
  sync_flags_refused(__WASI_FDFLAGS_SYNC);
  sync_flags_refused(__WASI_FDFLAGS_RSYNC);
  sync_flags_refused(__WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_DSYNC);

  /* Appending: a write after seeking to 0 still lands at the end. */
  __wasi_fd_t fd;
  EXPECT_EQ("open append", open_at("file", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
                                                  __WASI_RIGHTS_FD_SEEK,
                                   __WASI_FDFLAGS_APPEND, &fd), 0);
  __wasi_filesize_t pos;
  EXPECT_EQ("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
  __wasi_ciovec_t iov = {(const uint8_t *)"ab", 2};
  __wasi_size_t n;
  EXPECT_EQ("append write", __wasi_fd_write(fd, &iov, 1, &n), 0);
  __wasi_filestat_t fst;
  EXPECT_EQ("filestat", __wasi_fd_filestat_get(fd, &fst), 0);
  EXPECT_EQ("appended size", fst.size, 12);

  /* Clearing APPEND: writes go where the position is. */
  EXPECT_EQ("set_flags 0", __wasi_fd_fdstat_set_flags(fd, 0), 0);
  __wasi_fdstat_t st;
  EXPECT_EQ("fdstat after clear", __wasi_fd_fdstat_get(fd, &st), 0);
  EXPECT_EQ("flags after clear", st.fs_flags, 0);
  EXPECT_EQ("seek 0 again", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
  EXPECT_EQ("positioned write", __wasi_fd_write(fd, &iov, 1, &n), 0);
  EXPECT_EQ("filestat 2", __wasi_fd_filestat_get(fd, &fst), 0);
  EXPECT_EQ("size unchanged", fst.size, 12);
  EXPECT_EQ("set_flags APPEND", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
  EXPECT_EQ("fdstat after set", __wasi_fd_fdstat_get(fd, &st), 0);
  EXPECT_EQ("flags after set", st.fs_flags, __WASI_FDFLAGS_APPEND);
  EXPECT_EQ("set_flags SYNC", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("set_flags DSYNC", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_DSYNC),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);

  EXPECT_EQ("set_flags stdout", __wasi_fd_fdstat_set_flags(1, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("set_flags closed", __wasi_fd_fdstat_set_flags(99, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("set_flags preopen", __wasi_fd_fdstat_set_flags(DIR_FD, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("path_unlink_file", __wasi_path_unlink_file(DIR_FD, "file"), 0);
  return finish("fdflags");
}
