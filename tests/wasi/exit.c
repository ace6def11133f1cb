/* Exits with the status given as its first argument (default 7) without returning. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 7;
  printf("exiting with %d\n", code);
  fflush(stdout);
  exit(code);
}
