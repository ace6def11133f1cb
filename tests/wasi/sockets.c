/* The calls with nothing behind them: sock_* on a descriptor that is not a socket
 * (ENOTSOCK) or not open (EBADF), proc_raise (ENOTSUP), sched_yield, random_get,
 * fd_fdstat_set_rights (ENOTSUP, EBADF on stdio). */
#include "check.h"

/* wasi-libc no longer declares proc_raise. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t signal);

int main(void) {
  __wasi_fd_t fd;
  EXPECT_EQ("accept stdout", __wasi_sock_accept(1, 0, &fd), __WASI_ERRNO_NOTSOCK);
  EXPECT_EQ("accept preopen", __wasi_sock_accept(DIR_FD, 0, &fd), __WASI_ERRNO_NOTSOCK);
  EXPECT_EQ("accept closed", __wasi_sock_accept(99, 0, &fd), __WASI_ERRNO_BADF);
  uint8_t byte = 0;
  __wasi_iovec_t iov = {&byte, 1};
  __wasi_ciovec_t ciov = {&byte, 1};
  __wasi_size_t n;
  __wasi_roflags_t ro;
  EXPECT_EQ("recv stdin", __wasi_sock_recv(0, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK);
  EXPECT_EQ("recv closed", __wasi_sock_recv(99, &iov, 1, 0, &n, &ro), __WASI_ERRNO_BADF);
  EXPECT_EQ("send stdout", __wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
  EXPECT_EQ("send closed", __wasi_sock_send(99, &ciov, 1, 0, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("shutdown stderr", __wasi_sock_shutdown(2, __WASI_SDFLAGS_RD), __WASI_ERRNO_NOTSOCK);
  EXPECT_EQ("shutdown closed", __wasi_sock_shutdown(99, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
  EXPECT_EQ("proc_raise", raw_proc_raise(15 /* SIGTERM */), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("sched_yield", __wasi_sched_yield(), 0);
  uint8_t a[32] = {0}, b[32] = {0};
  EXPECT_EQ("random a", __wasi_random_get(a, sizeof a), 0);
  EXPECT_EQ("random b", __wasi_random_get(b, sizeof b), 0);
  EXPECT_TRUE("random differs", memcmp(a, b, sizeof a) != 0);
  EXPECT_EQ("set_rights stdout", __wasi_fd_fdstat_set_rights(1, 0, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("set_rights preopen", __wasi_fd_fdstat_set_rights(DIR_FD, 0, 0), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("set_rights closed", __wasi_fd_fdstat_set_rights(99, 0, 0), __WASI_ERRNO_BADF);
  __wasi_prestat_t pre;
  EXPECT_EQ("prestat", __wasi_fd_prestat_get(DIR_FD, &pre), 0);
  EXPECT_EQ("prestat name length", pre.u.dir.pr_name_len, 8);
  EXPECT_EQ("prestat stdout", __wasi_fd_prestat_get(1, &pre), __WASI_ERRNO_BADF);
  EXPECT_EQ("prestat closed", __wasi_fd_prestat_get(99, &pre), __WASI_ERRNO_BADF);
  return finish("non-sockets and the rest");
}
