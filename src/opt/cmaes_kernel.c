/* cmaes_kernel: the full CMA-ES's sampling product Y = Z (B D)^T with a fixed
 * summation order (see et_cmaes_mat_times_rows in cmaes.h), in a file of its
 * own: the one function of the family built for several instruction sets. */
#include "cmaes.h"

/* Cloned per instruction set; called through the plain function below,
 * because clang resolves a clone only from its own translation unit. */
static __attribute__((target_clones("avx512f", "avx2", "default"))) void
mat_times_rows(size_t n, const double *restrict M, size_t cnt, const double *restrict Z,
               double *restrict Y, size_t i0, size_t i1)
{
    for (size_t k = 0; k < cnt; k++)
        for (size_t i = i0; i < i1; i++)
            Y[k * n + i] = 0.0;
    /* Four columns per pass over y: a quarter of the loads and stores of y,
     * the same ascending-j order of additions for every element. */
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const double *restrict c0 = M + j * n, *restrict c1 = c0 + n, *restrict c2 = c1 + n,
                               *restrict c3 = c2 + n;
        for (size_t k = 0; k < cnt; k++) {
            const double *zk = Z + k * n + j;
            double z0 = zk[0], z1 = zk[1], z2 = zk[2], z3 = zk[3];
            double *restrict y = Y + k * n;
#pragma omp simd
            for (size_t i = i0; i < i1; i++) {
                double t = y[i];
                t += z0 * c0[i];
                t += z1 * c1[i];
                t += z2 * c2[i];
                t += z3 * c3[i];
                y[i] = t;
            }
        }
    }
    for (; j < n; j++) {
        const double *restrict col = M + j * n;
        for (size_t k = 0; k < cnt; k++) {
            double zk = Z[k * n + j];
            double *restrict y = Y + k * n;
#pragma omp simd
            for (size_t i = i0; i < i1; i++)
                y[i] += zk * col[i];
        }
    }
}

void et_cmaes_mat_times_rows(size_t n, const double *M, size_t cnt, const double *Z, double *Y,
                             size_t i0, size_t i1)
{
    mat_times_rows(n, M, cnt, Z, Y, i0, i1);
}
