#include <stddef.h>
void *malloc(size_t), *realloc(void *, size_t), *calloc(size_t, size_t);
void free(void *);
void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
void abort(void);
int atoi(const char *);
