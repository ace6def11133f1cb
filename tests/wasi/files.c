/* Files in the preopened directory /sandbox: write, read back, seek, list, rename, remove;
 * then attempts to leave the sandbox, which must all fail with EPERM (63, as Wasmtime). The host
 * prepares /sandbox/link (a symlink to a directory outside) and /sandbox/up (a symlink to
 * ".."). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    printf("opendir %s failed: errno=%d\n", dir, errno);
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("%s:", dir);
  for (int i = 0; i < n; i++) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void try_open(const char *path) {
  errno = 0;
  int fd = open(path, O_RDONLY);
  printf("open %s: %s errno=%d\n", path, fd >= 0 ? "opened" : "refused", errno);
  if (fd >= 0)
    close(fd);
}

int main(void) {
  FILE *f = fopen("/sandbox/note.txt", "w");
  if (!f) {
    printf("fopen for writing failed: errno=%d\n", errno);
    return 1;
  }
  fputs("first line\nsecond line\n", f);
  fclose(f);

  char buf[128] = {0};
  f = fopen("/sandbox/note.txt", "r");
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  printf("read %zu bytes: %s", got, buf);

  int fd = open("/sandbox/note.txt", O_RDWR);
  off_t end = lseek(fd, 0, SEEK_END);
  lseek(fd, 6, SEEK_SET);
  char word[5] = {0};
  read(fd, word, 4);
  pwrite(fd, "FIRST", 5, 0);
  char head[6] = {0};
  pread(fd, head, 5, 0);
  printf("size=%lld word=%s head=%s\n", (long long)end, word, head);
  close(fd);

  if (mkdir("/sandbox/sub", 0755) != 0)
    printf("mkdir failed: errno=%d\n", errno);
  f = fopen("/sandbox/sub/inner.txt", "w");
  fputs("x", f);
  fclose(f);
  list("/sandbox");
  list("/sandbox/sub");

  if (rename("/sandbox/note.txt", "/sandbox/sub/moved.txt") != 0)
    printf("rename failed: errno=%d\n", errno);
  struct stat st;
  if (stat("/sandbox/sub/moved.txt", &st) == 0)
    printf("moved.txt: %lld bytes, regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  list("/sandbox/sub");
  unlink("/sandbox/sub/moved.txt");
  unlink("/sandbox/sub/inner.txt");
  printf("rmdir: %d\n", rmdir("/sandbox/sub"));

  try_open("/sandbox/../outside.txt");
  try_open("/sandbox/link/outside.txt");
  try_open("/sandbox/up/outside.txt");
  try_open("/sandbox/sub2/../../outside.txt");

  /* An absolute path reaches path_open only through the raw call. */
  __wasi_fd_t out;
  __wasi_errno_t r = __wasi_path_open(3, 0, "/etc/passwd", 0, __WASI_RIGHTS_FD_READ, 0, 0, &out);
  printf("path_open /etc/passwd: errno=%d\n", r);
  r = __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link", 0, __WASI_RIGHTS_FD_READ,
                       0, 0, &out);
  printf("path_open link: errno=%d\n", r);
  list("/sandbox");
  return 0;
}
