/* Shared by the conformance programs: each check prints a line on a mismatch and counts
 * it; `finish` prints a summary and makes the exit status non-zero when anything differed.
 * The expected values are Wasmtime 48's answers. Descriptor 3 is the preopen `/sandbox`. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define DIR_FD 3

static int failures;
static int checks;

#define EXPECT_EQ(what, got, want)                                                          \
  do {                                                                                     \
    long long got_ = (long long)(got), want_ = (long long)(want);                          \
    checks++;                                                                              \
    if (got_ != want_) {                                                                   \
      printf("MISMATCH %s: got %lld, want %lld (line %d)\n", what, got_, want_, __LINE__); \
      failures++;                                                                          \
    }                                                                                      \
  } while (0)

#define EXPECT_TRUE(what, cond) EXPECT_EQ(what, !!(cond), 1)

static int finish(const char *name) {
  printf("%s: %d checks, %d mismatches\n", name, checks, failures);
  return failures ? 1 : 0;
}

/* Opens `path` below the preopen with `oflags`, `rights` and `fdflags`; returns the errno
 * and stores the descriptor in `*fd`. */
__attribute__((unused)) static __wasi_errno_t open_at(const char *path, __wasi_oflags_t oflags, __wasi_rights_t rights,
                              __wasi_fdflags_t fdflags, __wasi_fd_t *fd) {
  *fd = (__wasi_fd_t)-1;
  return __wasi_path_open(DIR_FD, 0, path, oflags, rights, rights, fdflags, fd);
}

/* Creates `path` with `contents`. */
__attribute__((unused)) static void make_file(const char *path, const char *contents) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                             __WASI_RIGHTS_FD_WRITE, 0, &fd);
  EXPECT_EQ("create file", e, 0);
  if (e)
    return;
  __wasi_ciovec_t iov = {(const uint8_t *)contents, strlen(contents)};
  __wasi_size_t n;
  EXPECT_EQ("write file", __wasi_fd_write(fd, &iov, 1, &n), 0);
  EXPECT_EQ("fd_close", __wasi_fd_close(fd), 0);
}
