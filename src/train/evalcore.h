/* evalcore: the errors of a run's best network on held-out samples, computed
 * once for eval, plot and report so that they always agree.
 *
 * The samples are either fresh simulated ones (indices from ET_EVAL_BASE of
 * the run's seed, never used in training or validation) or a dataset CSV in
 * the format of `evotrain dataset`. The network runs through evonet_forward,
 * one sample at a time, exactly as the device runs it. */
#ifndef ET_EVALCORE_H
#define ET_EVALCORE_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"
#include "sim.h"

/* Rows of the error table: the six outputs, then the Euclidean translation. */
enum { ET_EV_TRANS = SIM_POSE_DIM, ET_EV_ROWS = SIM_POSE_DIM + 1 };

extern const char *const et_ev_names[ET_EV_ROWS]; /* "x", ..., "yaw", "translation" */
extern const char *const et_ev_units[ET_EV_ROWS]; /* "mm" or "deg" */

typedef struct et_eval {
    size_t n;
    const char *source; /* the dataset path, or NULL for simulated samples */
    double *pose;       /* n x 6: the true poses (mm, deg) */
    double *err;        /* ET_EV_ROWS x n: err[k * n + s]; output minus truth for
                         * k < 6 (signed), the Euclidean translation error for k = 6 */
    double rmse[ET_EV_ROWS], p50[ET_EV_ROWS], p95[ET_EV_ROWS], max[ET_EV_ROWS]; /* of |err| */
} et_eval;

/* Evaluate r's best network on the dataset at data, or (data NULL) on n fresh
 * simulated samples. 0 ok; -1 on an error (reported), ev then empty. */
int et_eval_run(const et_run *r, const char *data, size_t n, et_eval *ev);
void et_eval_free(et_eval *ev);

/* The table `evotrain eval` prints: one row per output, unit, rmse, p50, p95, max. */
void et_eval_print(const et_eval *ev, FILE *out);

/* Parse the -n of eval, plot and report: a whole number in [1, 1e8]. 0 or -1 (reported). */
int et_eval_parse_n(const char *cmd, const char *s, size_t *n);

#endif
