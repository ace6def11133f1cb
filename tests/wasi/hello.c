/* Prints a line to stdout and one to stderr. */
#include <stdio.h>

int main(void) {
  printf("hello, wasi\n");
  fprintf(stderr, "to stderr\n");
  return 0;
}
