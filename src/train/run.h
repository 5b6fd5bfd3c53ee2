/* run: a run directory (out/<name>/) and what lives in it.
 *
 *   config.ini      the resolved configuration (evotrain config --dump)
 *   log.csv         one row per validation
 *   checkpoint.bin  the whole state: optimizer, counters, best network
 *
 * The data a run trains on is a pure function of the configuration: the
 * training pool is samples [0, pool) of the simulator's stream for the run's
 * seed, validation samples start at ET_VALID_BASE and evaluation samples at
 * ET_EVAL_BASE, so they never overlap. */
#ifndef ET_RUN_H
#define ET_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "config.h"
#include "fitness.h"
#include "genome.h"
#include "polish.h"
#include "rundata.h"
#include "task.h"

#define ET_VALID_BASE (UINT64_C(1) << 40)
#define ET_EVAL_BASE (UINT64_C(1) << 41)
#define ET_SELFTEST_BASE (UINT64_C(1) << 42)

/* The trainer's counters, saved in the checkpoint. */
typedef struct et_train_state {
    uint64_t generation, evals, best_generation, log_bytes;
    uint64_t best_start; /* which of the raced starts found the best (0 with one) */
    double elapsed_s, best_loss;
    /* The best validation's errors: of every output and of every group;
     * the state section keeps the first six outputs and the first group,
     * ET_CKPT_ERRORS the rest (et_errors_section). */
    double best_rmse[ET_MAX_OUTPUTS], best_group[ET_MAX_GROUPS];
} et_train_state;

void et_state_write(const et_train_state *s, unsigned char *buf); /* ET_STATE_BYTES */
int et_state_read(et_train_state *s, const void *buf, size_t len);
#define ET_STATE_BYTES (8 * 16)

/* Samples in the fitness layout (structure of arrays), owning their memory. */
typedef struct et_samples {
    int16_t *X;
    int32_t *T;
    double *pose; /* n x 6, exact targets (for eval), may be NULL */
    size_t n, n_in, n_out;
} et_samples;

/* A set of d's samples (rundata.h; n of them from a stream) into s, the
 * targets checked against their outputs' int16 steps. 0, or -1 reported. */
int et_samples_load(et_samples *s, et_rundata *d, const et_task *task, et_data_set set, size_t n);
/* n samples given row by row (inputs n x n_in, targets n x n_out in the
 * targets' units) into s: targets to output steps (rounded, within int16).
 * keep: s owns targets afterwards (as s->pose); else they stay the caller's. */
void et_samples_set(et_samples *s, const et_task *task, const int16_t *inputs, double *targets,
                    size_t n, int keep);

/* The best validation's errors beyond what the state section holds: every
 * output's and every group's, little-endian doubles (ET_CKPT_ERRORS). NULL
 * when the state section holds them all (six outputs or fewer, one group):
 * then nothing is written and checkpoints keep their layout. */
unsigned char *et_errors_section(const et_train_state *s, const et_task *t, size_t *len);
int et_errors_section_read(et_train_state *s, const et_task *t, const void *buf, size_t len);
void et_samples_free(et_samples *s);
et_data et_samples_data(const et_samples *s);

/* The network's layer widths for cfg: the task's inputs, then the hidden
 * layers, then the task's outputs. Returns the layer count. */
unsigned et_net_sizes(const et_config *cfg, const et_task *task,
                      unsigned *sizes); /* EVONET_MAX_LAYERS + 1 */

/* An opened run: its configuration, checkpoint and best network: the
 * polished one when the polish after the search ended and validated
 * better than the search's best (polished is then 1). */
typedef struct et_run {
    char *dir;
    et_config cfg;
    et_rundata data;
    et_task task;
    et_ckpt ck;
    et_train_state st;
    et_net *best;
    int has_polish, polished; /* a polish ended; its network is best */
    et_polish polish;
    et_errors polish_valid;
} et_run;

int et_run_open(const char *dir, et_run *r); /* 0, or -1 reported */

/* A run's checkpoint c (read from kp): its trainer state and best network,
 * checked against the configuration (shape) and the kernel's ranges, as
 * resume, export and eval need them. 0 with *best allocated, or -1
 * reported. */
int et_run_read_result(const et_ckpt *c, const char *kp, const et_config *cfg, const et_task *task,
                       et_train_state *st, et_net **best);
void et_run_close(et_run *r);

/* Holds the run directory dir for this process: an exclusive flock on
 * dir/lock, which the kernel releases when the process ends however it
 * ends, so a kill -9 never leaves a stale lock. The lock file stays (its
 * content, the holder's pid, is only for the message). The descriptor to
 * keep open while the run is held, or -1 reported: "in use by process N"
 * when another process holds it. */
int et_run_lock(const char *dir);

/* dir + "/" + name, newly allocated. */
char *et_path(const char *dir, const char *name);

#endif
