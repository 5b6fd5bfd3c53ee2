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
#include "task.h"

/* Rows of the error table: the task's outputs, then its groups (the pose:
 * x, ..., yaw, then the Euclidean translation). */
#define ET_EV_MAX (ET_MAX_OUTPUTS + ET_MAX_GROUPS)

typedef struct et_eval {
    size_t n;
    const char *source;          /* the dataset path, or NULL for fresh samples */
    const char *fresh;           /* what fresh samples are ("fresh simulated") */
    unsigned n_out, rows;        /* rows = outputs + groups */
    const char *name[ET_EV_MAX]; /* row names: the outputs', then the groups' titles */
    const char *unit[ET_EV_MAX]; /* pointers into the run's task */
    double *truth;               /* n x n_out: the true targets, in their units */
    double *err;                 /* rows x n: err[k * n + s]; output minus truth for an
                                  * output (signed), the Euclidean error for a group */
    double rmse[ET_EV_MAX], p50[ET_EV_MAX], p95[ET_EV_MAX], max[ET_EV_MAX]; /* of |err| */
    /* A classification (classify 1): truth holds the n labels and err is
     * unused; confusion[t * n_out + p] counts the samples of class t that the
     * network (the firmware's rule: the first largest score) put in class p. */
    int classify;
    size_t *confusion;
    size_t correct;
    double precision[ET_MAX_OUTPUTS], recall[ET_MAX_OUTPUTS]; /* in [0, 1]; 0 with no samples */
    size_t support[ET_MAX_OUTPUTS], predicted[ET_MAX_OUTPUTS];
} et_eval;

/* Evaluate r's best network on the dataset at data (the dataset format for
 * the simulator, the run's columns for a CSV source), or (data NULL) on the
 * run's eval set: n fresh samples of a stream, a CSV source's test file (or
 * its validation set). 0 ok; -1 on an error (reported), ev then empty. */
int et_eval_run(et_run *r, const char *data, size_t n, et_eval *ev);
void et_eval_free(et_eval *ev);

/* The table `evotrain eval` prints: one row per output, unit, rmse, p50, p95, max;
 * for a classification the accuracy, each class's precision and recall, and
 * the confusion matrix. */
void et_eval_print(const et_eval *ev, FILE *out);
/* The same, a classification's with the class names of t. */
void et_eval_print_task(const et_eval *ev, const et_task *t, FILE *out);

/* Parse the -n of eval, plot and report: a whole number in [1, 1e8]. 0 or -1 (reported). */
int et_eval_parse_n(const char *cmd, const char *s, size_t *n);

#endif
