/* simd_dot: the f32 dot product of two 64 Ki-element vectors, four lanes at a time, 16 times
 * over (each pass shifted by one element); returns the total truncated to an integer. The
 * wasm build uses wasm_simd128.h; the native build the same operations through the compiler's
 * vector extension, so both sum in the same order. The inputs are small integers: every sum is
 * exact. */
#include "kernel.h"

#define LEN (1 << 16)
#define PASSES 16

static float xs[LEN + PASSES * 4], ys[LEN];
KERNEL_PARAM int32_t simd_passes = PASSES;

#ifdef __wasm__
#include <wasm_simd128.h>
typedef v128_t vec;
#define LOAD(p) wasm_v128_load(p)
#define ADD(a, b) wasm_f32x4_add(a, b)
#define MUL(a, b) wasm_f32x4_mul(a, b)
#define SPLAT0() wasm_f32x4_splat(0.0f)
#define LANE(v, i) wasm_f32x4_extract_lane(v, i)
#else
typedef float vec __attribute__((vector_size(16)));
static inline vec load(const float *p) {
    vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
#define LOAD(p) load(p)
#define ADD(a, b) ((a) + (b))
#define MUL(a, b) ((a) * (b))
#define SPLAT0() ((vec){0, 0, 0, 0})
#define LANE(v, i) ((v)[i])
#endif

void simd_init(void) {
    for (int32_t i = 0; i < LEN + PASSES * 4; i++) {
        xs[i] = (float)(i % 7);
    }
    for (int32_t i = 0; i < LEN; i++) {
        ys[i] = (float)(i % 5);
    }
}

int32_t simd_run(void) {
    int32_t passes = simd_passes;
    float total = 0;
    for (int32_t p = 0; p < passes; p++) {
        const float *x = xs + p * 4;
        vec acc = SPLAT0();
        for (int32_t i = 0; i < LEN; i += 4) {
            acc = ADD(acc, MUL(LOAD(x + i), LOAD(ys + i)));
        }
        total += (LANE(acc, 0) + LANE(acc, 1)) + (LANE(acc, 2) + LANE(acc, 3));
    }
    return (int32_t)total;
}
