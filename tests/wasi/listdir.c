/* Lists the directory argv[1] and prints how many entries (other than . and ..) it has and
 * the total length of their names. Large directories take several fd_readdir calls. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  DIR *d = opendir(argv[1]);
  if (!d) {
    printf("opendir failed: errno=%d\n", errno);
    return 1;
  }
  int count = 0;
  size_t total = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      count++;
      total += strlen(e->d_name);
    }
  }
  closedir(d);
  printf("entries=%d name_bytes=%zu\n", count, total);
  return 0;
}
