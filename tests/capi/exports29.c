/* Every function Wasmtime 29's C library exports (its default build; the list is
 * capi/tests/wasmtime29-exports.txt, made by scripts/wasmtime-capi-exports.sh) resolves in
 * libwasmjit.so, as language bindings that bind every name when they load need.
 * Usage: exports29 LIBRARY LIST */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s LIBRARY LIST\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  FILE *list = fopen(argv[2], "r");
  if (list == NULL) {
    perror(argv[2]);
    return 1;
  }
  char name[256];
  int total = 0, missing = 0;
  while (fgets(name, sizeof name, list) != NULL) {
    name[strcspn(name, "\r\n")] = 0;
    if (name[0] == 0) {
      continue;
    }
    total++;
    dlerror();
    if (dlsym(lib, name) == NULL) {
      fprintf(stderr, "missing: %s\n", name);
      missing++;
    }
  }
  fclose(list);
  printf("%d of %d names resolved\n", total - missing, total);
  return missing == 0 && total > 0 ? 0 : 1;
}
