/* cmaes: the CMA-ES family behind opt.h (full active CMA-ES, separable CMA-ES,
 * LM-MA-ES). Use them through et_opt_alloc("cmaes" | "sep-cmaes" | "lm-maes",
 * with an optional "ipop-" or "bipop-" prefix); this header only wires the
 * backends into the table (algos.c) and declares the sampling kernel
 * (cmaes_kernel.c) that cmaes.c calls. */
#ifndef ET_CMAES_H
#define ET_CMAES_H

#include <stddef.h>

#ifdef ET_OPT_INTERNAL
extern const et_opt_backend et_opt_be_cmaes, et_opt_be_sepcmaes, et_opt_be_lmmaes;
#endif

/* Y[k][i] = sum_j M[j n + i] Z[k][j] for k < cnt (M column-major n x n; Z, Y
 * row-major cnt x n), rows i in [i0, i1). Each element is summed alone in
 * ascending j, so its bits do not depend on cnt, on the row range, on the
 * thread or on the instruction set the clone was built for (ISO C mode: no
 * FMA contraction). */
void et_cmaes_mat_times_rows(size_t n, const double *M, size_t cnt, const double *Z, double *Y,
                             size_t i0, size_t i1);

#endif
