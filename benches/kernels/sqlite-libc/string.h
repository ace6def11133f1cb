#include <stddef.h>
void *memcpy(void *, const void *, size_t), *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *), strcspn(const char *, const char *), strspn(const char *, const char *);
int strcmp(const char *, const char *), strncmp(const char *, const char *, size_t);
char *strrchr(const char *, int), *strchr(const char *, int);
void *memchr(const void *, int, size_t);
