/* Raw preview1 calls. With an argument, one call with a pointer outside memory or not
 * aligned for its type, or an argument outside its type (enum value, flag bit): as in
 * Wasmtime it traps, so the program never prints "not trapped". Without, bad descriptors (EBADF, 8), then clocks, random bytes and a short
 * sleep through poll_oneoff. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t signal);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_advise")))
int32_t raw_fd_advise(int32_t fd, int64_t offset, int64_t len, int32_t advice);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_seek")))
int32_t raw_fd_seek(int32_t fd, int64_t offset, int32_t whence, uint64_t *out);

static void bad_pointer(const char *which) {
  __wasi_size_t n = 0;
  __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
  static uint64_t words[4];
  if (!strcmp(which, "iovs"))
    (void)__wasi_fd_write(1, (const __wasi_ciovec_t *)(uintptr_t)0xfffffff0u, 1, &n);
  if (!strcmp(which, "buffer")) {
    iov.buf = (const uint8_t *)(uintptr_t)0xffffff00u;
    iov.buf_len = 0x1000;
    (void)__wasi_fd_write(1, &iov, 1, &n);
  }
  if (!strcmp(which, "nwritten"))
    (void)__wasi_fd_write(1, &iov, 1, (__wasi_size_t *)(uintptr_t)0xfffffffeu);
  if (!strcmp(which, "args_sizes"))
    (void)__wasi_args_sizes_get((__wasi_size_t *)(uintptr_t)0xfffffffcu, &n);
  if (!strcmp(which, "random"))
    (void)__wasi_random_get((uint8_t *)(uintptr_t)0xffffff00u, 0x1000);
  if (!strcmp(which, "misaligned_fdstat"))
    (void)__wasi_fd_fdstat_get(1, (__wasi_fdstat_t *)((uintptr_t)words + 4));
  /* Arguments outside their types: Wasmtime traps while decoding them. */
  if (!strcmp(which, "bad_clock"))
    (void)__wasi_clock_time_get(99, 1, (__wasi_timestamp_t *)words);
  if (!strcmp(which, "bad_advice"))
    (void)raw_fd_advise(1, 0, 0, 6);
  if (!strcmp(which, "bad_whence"))
    (void)raw_fd_seek(1, 0, 3, words);
  if (!strcmp(which, "bad_signal"))
    (void)raw_proc_raise(31);
  if (!strcmp(which, "bad_fdflags"))
    (void)__wasi_fd_fdstat_set_flags(1, 1 << 5);
  if (!strcmp(which, "bad_oflags"))
    (void)__wasi_path_open(3, 0, "x", 1 << 4, 0, 0, 0, (__wasi_fd_t *)words);
  if (!strcmp(which, "bad_lookupflags"))
    (void)__wasi_path_filestat_get(3, 2, "x", (__wasi_filestat_t *)words);
  if (!strcmp(which, "bad_fstflags"))
    (void)__wasi_fd_filestat_set_times(1, 0, 0, 1 << 4);
  if (!strcmp(which, "bad_rights"))
    (void)__wasi_fd_fdstat_set_rights(1, 1ull << 40, 0);
  if (!strcmp(which, "misaligned_time"))
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1,
                                (__wasi_timestamp_t *)((uintptr_t)words + 2));
}

int main(int argc, char **argv) {
  if (argc > 1) {
    bad_pointer(argv[1]);
    printf("not trapped\n");
    return 1;
  }
  __wasi_size_t n = 0;
  __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
  printf("fd_write bad fd: %d\n", __wasi_fd_write(99, &iov, 1, &n));
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
