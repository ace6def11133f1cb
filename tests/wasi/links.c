/* Symlinks made by the guest in the preopened directory /sandbox: one inside works, ones
 * pointing out are refused when followed (EPERM, 63, as Wasmtime); then fd_renumber and
 * fd_fdstat_get on a renumbered file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
  int fd = open("/sandbox/target.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  write(fd, "target", 6);
  close(fd);

  printf("symlink inside: %d\n", symlink("target.txt", "/sandbox/inside"));
  char buf[64] = {0};
  ssize_t n = readlink("/sandbox/inside", buf, sizeof buf - 1);
  printf("readlink: %zd %s\n", n, buf);
  fd = open("/sandbox/inside", O_RDONLY);
  memset(buf, 0, sizeof buf);
  read(fd, buf, sizeof buf - 1);
  printf("through link: %s\n", buf);
  close(fd);

  printf("symlink out: %d\n", symlink("../..", "/sandbox/out"));
  errno = 0;
  printf("open via out: %d errno=%d\n", open("/sandbox/out/etc/passwd", O_RDONLY), errno);
  errno = 0;
  printf("symlink absolute: %d errno=%d\n", symlink("/etc", "/sandbox/abs"), errno);
  errno = 0;
  printf("mkdir via out: %d errno=%d\n", mkdir("/sandbox/out/escaped", 0755), errno);

  int a = open("/sandbox/target.txt", O_RDONLY);
  int b = open("/sandbox/target.txt", O_RDONLY);
  printf("renumber: %d\n", __wasi_fd_renumber(a, b));
  __wasi_fdstat_t st;
  printf("fdstat old: %d\n", __wasi_fd_fdstat_get(a, &st));
  printf("fdstat new: %d filetype=%d\n", __wasi_fd_fdstat_get(b, &st), st.fs_filetype);
  memset(buf, 0, sizeof buf);
  read(b, buf, 3);
  printf("read renumbered: %s\n", buf);
  printf("renumber to closed: %d\n", __wasi_fd_renumber(b, 77));
  close(b);

  unlink("/sandbox/inside");
  unlink("/sandbox/out");
  unlink("/sandbox/target.txt");
  return 0;
}
