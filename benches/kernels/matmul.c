/* matmul200: C = A x B for 200x200 f64 matrices, the naive i-j-k loop nest; returns the trace
 * of C truncated to an integer. `matmul_init` fills A and B. */
#include "kernel.h"

#define N 200

static double a[N][N], b[N][N], c[N][N];
KERNEL_PARAM int32_t matmul_n = N;

void matmul_init(void) {
    for (int32_t i = 0; i < N; i++) {
        for (int32_t j = 0; j < N; j++) {
            a[i][j] = (double)((i + j) % 7) * 0.5;
            b[i][j] = (double)((i * j) % 5) + 0.25;
        }
    }
}

int32_t matmul_run(void) {
    int32_t n = matmul_n;
    double trace = 0.0;
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (int32_t k = 0; k < n; k++) {
                sum += a[i][k] * b[k][j];
            }
            c[i][j] = sum;
        }
        trace += c[i][i];
    }
    return (int32_t)trace;
}
