/* loop1e7: a tight integer loop of 10^7 iterations. A linear congruential generator feeds an
 * accumulator: the recurrence keeps compilers from vectorising the loop or replacing it with a
 * closed form, so every engine runs ten million dependent iterations. */
#include "kernel.h"

KERNEL_PARAM uint32_t loop_n = 10000000;

int32_t loop_run(void) {
    uint32_t n = loop_n;
    uint32_t x = 1;
    uint64_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        acc += x >> 7;
    }
    return (int32_t)(acc % 1000003u);
}
