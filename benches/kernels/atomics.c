/* atomics: an uncontended atomic read-modify-write loop of 10^7 iterations. Each iteration
 * adds a pseudo-random value to one counter with a sequentially consistent `fetch_add`
 * (`lock xadd` natively on x86_64, `i32.atomic.rmw.add` in wasm), so the loop measures the
 * cost of the atomic instruction and of the wasm access around it. */
#include "kernel.h"

KERNEL_PARAM uint32_t atomics_n = 10000000;

static uint32_t counter;

int32_t atomics_run(void) {
    uint32_t n = atomics_n;
    uint32_t x = 1;
    __atomic_store_n(&counter, 0, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        __atomic_fetch_add(&counter, x >> 7, __ATOMIC_SEQ_CST);
    }
    return (int32_t)(__atomic_load_n(&counter, __ATOMIC_SEQ_CST) % 1000003u);
}
