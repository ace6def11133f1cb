/* Raw preview1 calls with bad pointers and descriptors: EFAULT (21) and EBADF (8), never a
 * crash. Then clocks, random bytes and a short sleep through poll_oneoff. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

int main(void) {
  __wasi_size_t n = 0;
  const __wasi_ciovec_t *bad_iovs = (const __wasi_ciovec_t *)(uintptr_t)0xfffffff0u;
  printf("fd_write bad iovs: %d\n", __wasi_fd_write(1, bad_iovs, 1, &n));
  __wasi_ciovec_t iov = {(const uint8_t *)(uintptr_t)0xffffff00u, 0x1000};
  printf("fd_write bad buffer: %d\n", __wasi_fd_write(1, &iov, 1, &n));
  iov.buf = (const uint8_t *)"x";
  iov.buf_len = 1;
  printf("fd_write bad fd: %d\n", __wasi_fd_write(99, &iov, 1, &n));
  printf("fd_write bad nwritten: %d\n",
         __wasi_fd_write(1, &iov, 1, (__wasi_size_t *)(uintptr_t)0xfffffffeu));
  printf("args_sizes_get bad: %d\n",
         __wasi_args_sizes_get((__wasi_size_t *)(uintptr_t)0xfffffffcu, &n));
  printf("random_get bad: %d\n",
         __wasi_random_get((uint8_t *)(uintptr_t)0xffffff00u, 0x1000));
  printf("fd_close bad: %d\n", __wasi_fd_close(1234));
  __wasi_prestat_t pre;
  printf("fd_prestat_get stdout: %d\n", __wasi_fd_prestat_get(1, &pre));
  printf("fd_seek stdout: %d\n", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, NULL));

  uint8_t a[32] = {0}, b[32] = {0};
  printf("random_get: %d %d\n", __wasi_random_get(a, sizeof a), __wasi_random_get(b, sizeof b));
  printf("random differs: %d\n", memcmp(a, b, sizeof a) != 0);

  __wasi_timestamp_t t0, t1, res;
  printf("clock_res_get: %d\n", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res));
  printf("clock_time_get: %d\n", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0));
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
  printf("slept at least 20ms: %d\n", t1 - t0 >= 20 * 1000 * 1000);
  __wasi_timestamp_t now;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
  printf("realtime after 2020: %d\n", now > 1577836800ull * 1000000000ull);
  printf("sched_yield: %d\n", __wasi_sched_yield());
  __wasi_fdstat_t st;
  __wasi_errno_t r = __wasi_fd_fdstat_get(1, &st);
  printf("stdout fdstat: %d filetype=%d seek=%d\n", r, st.fs_filetype,
         (st.fs_rights_base & __WASI_RIGHTS_FD_SEEK) != 0);
  return 0;
}
