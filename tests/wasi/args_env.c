/* Echoes its arguments and two environment variables. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++)
    printf("argv[%d]=%s\n", i, argv[i]);
  const char *greeting = getenv("GREETING");
  const char *missing = getenv("MISSING");
  printf("GREETING=%s\n", greeting ? greeting : "(unset)");
  printf("MISSING=%s\n", missing ? missing : "(unset)");
  return 0;
}
