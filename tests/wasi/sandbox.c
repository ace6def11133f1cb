/* Attempts to leave the preopen, each of which must fail with Wasmtime's errno. The host
 * (tests/wasi.rs) prepares, next to the preopen, `outside/secret.txt` ("SECRET"), and in
 * it: `abs` (a symlink to the absolute path of `outside`), `up` (to `..`), `sub/upup` (to
 * `../..`), `proc` (to `/proc`), `dev` (to `/dev`), `loop1`/`loop2` (to each other), `self`
 * (to itself), and `swap/secret.txt` ("INSIDE"). With the argument `race`, it only opens
 * `swap/secret.txt` over and over while the host swaps `swap` for a symlink to `outside`,
 * and fails if it ever reads the secret. */
#include "check.h"
#include <stdlib.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char *path, int32_t len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t *out);

static __wasi_errno_t try_open(const char *path, int follow) {
  __wasi_fd_t fd;
  __wasi_errno_t e = __wasi_path_open(DIR_FD, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
                                      path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  if (e == 0)
    (void)__wasi_fd_close(fd);
  return e;
}

static int race(void) {
  int secrets = 0, opened = 0;
  for (int i = 0; i < 20000; i++) {
    __wasi_fd_t fd;
    if (__wasi_path_open(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "swap/secret.txt", 0,
                         __WASI_RIGHTS_FD_READ, 0, 0, &fd))
      continue;
    opened++;
    char buf[8] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, 6};
    __wasi_size_t n;
    if (__wasi_fd_read(fd, &iov, 1, &n) == 0 && !memcmp(buf, "SECRET", 6))
      secrets++;
    (void)__wasi_fd_close(fd);
  }
  printf("race: opened %d times, read the secret %d times\n", opened, secrets);
  return secrets != 0 || opened == 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "race"))
    return race();
  const __wasi_errno_t PERM = __WASI_ERRNO_PERM;
  EXPECT_EQ("..", try_open("../outside/secret.txt", 1), PERM);
  EXPECT_EQ("sub/../..", try_open("sub/../../outside/secret.txt", 1), PERM);
  EXPECT_EQ("absolute path", try_open("/etc/passwd", 1), PERM);
  EXPECT_EQ("absolute symlink", try_open("abs/secret.txt", 1), PERM);
  EXPECT_EQ("absolute symlink last, followed", try_open("abs", 1), PERM);
  EXPECT_EQ("absolute symlink last, not followed", try_open("abs", 0), __WASI_ERRNO_LOOP);
  EXPECT_EQ("symlink to ..", try_open("up/outside/secret.txt", 1), PERM);
  EXPECT_EQ("symlink to ../..", try_open("sub/upup/outside/secret.txt", 1), PERM);
  EXPECT_EQ("/proc/self/fd", try_open("proc/self/fd/3", 1), PERM);
  EXPECT_EQ("/proc/self/root", try_open("proc/self/root/etc/passwd", 1), PERM);
  EXPECT_EQ("/dev/fd", try_open("dev/fd/0", 1), PERM);
  EXPECT_EQ("symlink loop", try_open("loop1/x", 1), __WASI_ERRNO_LOOP);
  EXPECT_EQ("symlink loop last", try_open("loop1", 1), __WASI_ERRNO_LOOP);
  EXPECT_EQ("self loop", try_open("self", 1), __WASI_ERRNO_LOOP);
  EXPECT_EQ("inside is fine", try_open("swap/secret.txt", 1), 0);
  EXPECT_EQ("sub/.. is fine", try_open("sub/../swap/secret.txt", 1), 0);

  /* Hard links, symlinks and renames that would reach out. */
  EXPECT_EQ("hard link from ..",
            __wasi_path_link(DIR_FD, 0, "../outside/secret.txt", DIR_FD, "h"), PERM);
  EXPECT_EQ("hard link through abs (following is refused)",
            __wasi_path_link(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs", DIR_FD, "h"),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("hard link to abs itself", __wasi_path_link(DIR_FD, 0, "abs/secret.txt", DIR_FD, "h"),
            PERM);
  EXPECT_EQ("hard link through up",
            __wasi_path_link(DIR_FD, 0, "up/outside/secret.txt", DIR_FD, "h"), PERM);
  EXPECT_EQ("hard link to ..", __wasi_path_link(DIR_FD, 0, "swap/secret.txt", DIR_FD, "../h"),
            PERM);
  EXPECT_EQ("rename out", __wasi_path_rename(DIR_FD, "swap/secret.txt", DIR_FD, "up/stolen"),
            PERM);
  EXPECT_EQ("rename in", __wasi_path_rename(DIR_FD, "../outside/secret.txt", DIR_FD, "stolen"),
            PERM);
  EXPECT_EQ("mkdir out", __wasi_path_create_directory(DIR_FD, "up/made"), PERM);
  EXPECT_EQ("unlink out", __wasi_path_unlink_file(DIR_FD, "abs/secret.txt"), PERM);
  EXPECT_EQ("symlink in out", __wasi_path_symlink("x", DIR_FD, "sub/upup/made"), PERM);
  EXPECT_EQ("absolute symlink made", __wasi_path_symlink("/etc", DIR_FD, "made"), PERM);
  __wasi_filestat_t st;
  EXPECT_EQ("stat out", __wasi_path_filestat_get(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                                 "up/outside/secret.txt", &st), PERM);
  EXPECT_EQ("stat abs followed",
            __wasi_path_filestat_get(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs", &st), PERM);
  EXPECT_EQ("stat abs itself", __wasi_path_filestat_get(DIR_FD, 0, "abs", &st), 0);
  /* Without following, a trailing slash is dropped: the symlink itself. */
  EXPECT_EQ("stat abs/", __wasi_path_filestat_get(DIR_FD, 0, "abs/", &st), 0);
  EXPECT_EQ("abs/ is the symlink", st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK);
  EXPECT_EQ("stat abs/ followed",
            __wasi_path_filestat_get(DIR_FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs/", &st), PERM);
  EXPECT_EQ("set times out",
            __wasi_path_filestat_set_times(DIR_FD, 0, "up/outside/secret.txt", 0, 0,
                                           __WASI_FSTFLAGS_MTIM_NOW), PERM);
  EXPECT_EQ("set times abs/",
            __wasi_path_filestat_set_times(DIR_FD, 0, "abs/", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), PERM);
  char buf[64];
  __wasi_size_t n;
  EXPECT_EQ("readlink out", __wasi_path_readlink(DIR_FD, "up/x", (uint8_t *)buf, 64, &n), PERM);

  /* Malformed paths. */
  int32_t fd;
  EXPECT_EQ("NUL byte", raw_path_open(DIR_FD, 0, "swap\0/x", 7, 0, __WASI_RIGHTS_FD_READ, 0, 0,
                                      &fd), __WASI_ERRNO_INVAL);
  EXPECT_EQ("invalid UTF-8", raw_path_open(DIR_FD, 0, "\xff\xfe", 2, 0, __WASI_RIGHTS_FD_READ, 0,
                                           0, &fd), __WASI_ERRNO_ILSEQ);
  EXPECT_EQ("empty path", raw_path_open(DIR_FD, 0, "", 0, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
            __WASI_ERRNO_NOENT);
  char *name = malloc(300);
  memset(name, 'n', 299);
  name[299] = 0;
  EXPECT_EQ("long name", try_open(name, 1), __WASI_ERRNO_NAMETOOLONG);
  char *path = malloc(10001);
  for (int i = 0; i < 10000; i += 2)
    memcpy(path + i, "./", 2);
  path[10000] = 0;
  memcpy(path + 9990, "secret.txt", 10);
  EXPECT_EQ("long path", try_open(path, 1), __WASI_ERRNO_NAMETOOLONG);
  for (int i = 0; i < 9000; i += 3)
    memcpy(path + i, "../", 3);
  path[9000] = 0;
  EXPECT_EQ("many ..", try_open(path, 1), __WASI_ERRNO_NAMETOOLONG);
  path[3 * 100] = 0;
  EXPECT_EQ("100 ..", try_open(path, 1), PERM);
  return finish("sandbox");
}
