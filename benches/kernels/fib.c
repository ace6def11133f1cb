/* fib30: recursive Fibonacci, calls and returns with almost no other work. */
#include "kernel.h"

KERNEL_PARAM int32_t fib_n = 30;

static int32_t fib(int32_t n) {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

int32_t fib_run(void) { return fib(fib_n); }
