/* fd_readdir: `.` and `..` first with cookies 1 and 2, then every entry once; a cookie
 * resumes after the entry it belongs to; a cookie past the end gives nothing; a buffer
 * too small for an entry is filled to the brim. */
#include "check.h"
#include <stdlib.h>

#define ENTRIES 5

struct entry {
  char name[32];
  __wasi_dircookie_t next;
  __wasi_filetype_t type;
};

/* Reads every entry from `cookie` on with a buffer of `size` bytes per call. */
static int read_all(__wasi_fd_t fd, __wasi_dircookie_t cookie, size_t size, struct entry *out,
                    int max) {
  uint8_t *buf = malloc(size);
  int count = 0;
  for (;;) {
    __wasi_size_t used;
    EXPECT_EQ("readdir", __wasi_fd_readdir(fd, buf, size, cookie, &used), 0);
    size_t at = 0;
    while (at + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + at, sizeof d);
      if (at + sizeof d + d.d_namlen > used)
        break;
      if (count < max) {
        memset(out[count].name, 0, sizeof out[count].name);
        memcpy(out[count].name, buf + at + sizeof d, d.d_namlen < 31 ? d.d_namlen : 31);
        out[count].next = d.d_next;
        out[count].type = d.d_type;
      }
      count++;
      cookie = d.d_next;
      at += sizeof d + d.d_namlen;
    }
    if (used < size)
      break;
  }
  free(buf);
  return count;
}

int main(void) {
  __wasi_fd_t dir;
  EXPECT_EQ("mkdir", __wasi_path_create_directory(DIR_FD, "list"), 0);
  char name[16];
  for (int i = 0; i < ENTRIES; i++) {
    snprintf(name, sizeof name, "list/f%d", i);
    make_file(name, "x");
  }
  EXPECT_EQ("mkdir sub", __wasi_path_create_directory(DIR_FD, "list/sub"), 0);
  EXPECT_EQ("open", open_at("list", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &dir),
            0);
  struct entry e[16];
  int n = read_all(dir, 0, 4096, e, 16);
  EXPECT_EQ("entry count", n, ENTRIES + 3);
  EXPECT_EQ("first is .", strcmp(e[0].name, "."), 0);
  EXPECT_EQ(". cookie", e[0].next, 1);
  EXPECT_EQ(". type", e[0].type, __WASI_FILETYPE_DIRECTORY);
  EXPECT_EQ("second is ..", strcmp(e[1].name, ".."), 0);
  EXPECT_EQ(".. cookie", e[1].next, 2);
  EXPECT_EQ(".. type", e[1].type, __WASI_FILETYPE_DIRECTORY);
  int files = 0, dirs = 0;
  for (int i = 2; i < n && i < 16; i++) {
    EXPECT_EQ("cookies count up", e[i].next, i + 1);
    files += e[i].type == __WASI_FILETYPE_REGULAR_FILE && e[i].name[0] == 'f';
    dirs += e[i].type == __WASI_FILETYPE_DIRECTORY && !strcmp(e[i].name, "sub");
  }
  EXPECT_EQ("regular files", files, ENTRIES);
  EXPECT_EQ("subdirectory", dirs, 1);

  /* Resuming at cookie 2 skips . and .. and gives the same entries. */
  struct entry r[16];
  int m = read_all(dir, 2, 4096, r, 16);
  EXPECT_EQ("resumed count", m, ENTRIES + 1);
  EXPECT_EQ("resumed first", strcmp(r[0].name, e[2].name), 0);
  /* A buffer smaller than one entry: every entry is still seen once. */
  m = read_all(dir, 0, 30, r, 16);
  EXPECT_EQ("small-buffer count", m, ENTRIES + 3);
  __wasi_size_t used = 99;
  uint8_t buf[64];
  EXPECT_EQ("past the end", __wasi_fd_readdir(dir, buf, sizeof buf, 1000, &used), 0);
  EXPECT_EQ("past the end is empty", used, 0);
  EXPECT_EQ("tiny buffer", __wasi_fd_readdir(dir, buf, 10, 0, &used), 0);
  EXPECT_EQ("tiny buffer filled", used, 10);
  EXPECT_EQ("readdir of stdout", __wasi_fd_readdir(1, buf, sizeof buf, 0, &used),
            __WASI_ERRNO_BADF);
  EXPECT_EQ("close", __wasi_fd_close(dir), 0);

  for (int i = 0; i < ENTRIES; i++) {
    snprintf(name, sizeof name, "list/f%d", i);
    EXPECT_EQ("unlink", __wasi_path_unlink_file(DIR_FD, name), 0);
  }
  EXPECT_EQ("rmdir sub", __wasi_path_remove_directory(DIR_FD, "list/sub"), 0);
  EXPECT_EQ("rmdir", __wasi_path_remove_directory(DIR_FD, "list"), 0);
  return finish("readdir");
}
