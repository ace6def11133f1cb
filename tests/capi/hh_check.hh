// Helpers shared by the C++ (`wasmtime.hh`) test programs.
#ifndef WASMJIT_HH_CHECK_HH
#define WASMJIT_HH_CHECK_HH

#include <cstdio>
#include <cstdlib>
#include <string>

// Exits with a message naming the failed condition.
#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
      std::exit(1);                                                                        \
    }                                                                                      \
  } while (0)

// True if `haystack` contains `needle`.
inline bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

#endif
