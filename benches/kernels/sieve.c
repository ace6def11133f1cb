/* sieve1MiB: the sieve of Eratosthenes over 2^20 numbers, one byte each; returns the number
 * of primes below 2^20 (82025). */
#include "kernel.h"

#define SIEVE_SIZE (1u << 20)

static uint8_t composite[SIEVE_SIZE];
KERNEL_PARAM uint32_t sieve_size = SIEVE_SIZE;

int32_t sieve_run(void) {
    uint32_t n = sieve_size;
    for (uint32_t i = 0; i < n; i++) {
        composite[i] = 0;
    }
    for (uint32_t i = 2; i * i < n; i++) {
        if (!composite[i]) {
            for (uint32_t j = i * i; j < n; j += i) {
                composite[j] = 1;
            }
        }
    }
    int32_t count = 0;
    for (uint32_t i = 2; i < n; i++) {
        count += !composite[i];
    }
    return count;
}
