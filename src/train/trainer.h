/* trainer: what the files of the training run share (train.c and
 * train_*.c; nothing outside src/train includes this).
 *
 * The run's phases, in order: setup (train_setup.c: configuration, run
 * directory, search, state), the generations (train.c, with the starts,
 * minibatches and candidates of train_race.c and the validation, log and
 * progress of train_valid.c), the polish (train_polish.c); the checkpoint
 * (train_state.c) carries the whole state across a stop. */
#ifndef ET_TRAINER_H
#define ET_TRAINER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "fitness.h"
#include "genome.h"
#include "opt.h"
#include "polish.h"
#include "run.h"
#include "sim.h"
#include "rundata.h"
#include "task.h"
#include "train.h"
#include "util.h"

typedef struct trainer {
    et_config cfg;
    char *dir, *ckpt_path, *log_path, *cfg_text;
    unsigned sizes[EVONET_MAX_LAYERS + 1], nl;
    et_genome *g;
    et_fitness *fit;
    /* The starts raced side by side (one unless [train] starts says more):
     * opt[j] is start j's optimizer while alive[j]; start_best[j] its best
     * validated loss, which decides the halvings. */
    int n_starts, n_alive;
    et_opt *opt[ET_MAX_STARTS];
    et_genome *gs[ET_MAX_STARTS]; /* start j's decoding, calibrated on its own start; gs[0] = g */
    int alive[ET_MAX_STARTS];
    double start_best[ET_MAX_STARTS];
    size_t off[ET_MAX_STARTS + 1]; /* start j's candidates in this generation */
    et_samples pool, valid;
    int16_t *Xmb;
    int32_t *Tmb;
    size_t *mb_idx;
    /* The pool again, sample by sample (inputs, then targets): a minibatch
     * gathers one or two cache lines a sample instead of one a reading. */
    int16_t *pool_xs;
    int32_t *pool_ts;
    double *X, *loss, *x0;
    et_net *best, *cur[ET_MAX_STARTS]; /* cur[j]: start j's last validated network */
    double *best_x;
    /* The polish of best after the search (polish.h): active from its
     * start until the search moves on again; polished is its network,
     * pol_valid its validation once the polish ended. */
    int pol_active, pol_validated;
    et_polish pol;
    et_net *polished;
    et_errors pol_valid;
    /* For the progress line's time left (no effect on the result): one
     * loss over the pool timed during the search, and where and when this
     * process's polish began. */
    double pol_trial_s, pol_t0;
    uint64_t pol_done0;
    et_train_state st;
    FILE *log;
    int threads;
    int resume; /* continuing from a checkpoint (not only --resume given) */
    /* Rank 0 holds the run directory (et_run_lock) while locked; a fresh
     * run's files are removed if it fails before its first checkpoint
     * (tr_abandon), and its directory too when it made it. */
    int lock_fd, locked, made_dir, started;
    et_task task;    /* what the network computes: inputs, outputs, loss (task.h) */
    et_rundata data; /* where its samples come from (rundata.h) */
    double t_start, elapsed0;
} trainer;

/* Set by SIGINT and SIGTERM: the run checkpoints and stops (train.c). */
extern volatile sig_atomic_t tr_stop_signal;

/* Monotonic seconds: what the time limit and the progress line read. */
static inline double tr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Setup, in this order; each returns 0, or -1 reported (train_setup.c).
 * tr_setup_dir runs on rank 0 only. */
int tr_setup_config(trainer *t, const et_train_opts *o);
int tr_setup_dir(trainer *t, const et_train_opts *o);
int tr_setup_search(trainer *t);
int tr_setup_state(trainer *t);
void tr_free(trainer *t);

/* A fresh run that failed before its first checkpoint leaves nothing
 * behind: its files go, and its directory if it made it. Also run at exit,
 * since running out of memory exits at once (et_malloc). */
void tr_abandon(trainer *t);

/* The whole state <-> t->ckpt_path; 0, or -1 reported (train_state.c). */
int tr_save_checkpoint(trainer *t);
int tr_load_checkpoint(trainer *t);

/* The starts and a generation's work (train_race.c). Start j's seed (start
 * 0's is the run's) and optimizer parameters; the minibatch of generation
 * gen, a pure function of (seed, gen); the step floor at gen; candidates
 * [lo, hi) across the live starts asked and scored; the worse half of the
 * live starts dropped (rank 0 decides, every rank follows). */
uint64_t tr_start_seed(const trainer *t, int j);
void tr_opt_params(const trainer *t, int j, et_opt_params *p);
et_data tr_draw_minibatch(trainer *t, uint64_t gen);
double tr_floor_at(const trainer *t, uint64_t gen);
void tr_score_share(trainer *t, size_t lo, size_t hi, const et_data *mb);
void tr_halve(trainer *t);

/* Validation, log and progress (train_valid.c). tr_validate measures the
 * live starts into e[] and keeps the run's best; tr_log_row writes start
 * j's row; tr_log_failed is 1 (reported) after a failed write. */
void tr_log_header(trainer *t);
void tr_validate(trainer *t, et_errors *e);
void tr_log_row(trainer *t, int j, double best, double median, const et_errors *e);
int tr_log_failed(trainer *t);
int tr_progress_due(int force, int *tty);
void tr_progress_line(const char *line, int tty, int final);
void tr_progress(trainer *t, int final, double evals_rate);
void tr_progress_polish(const trainer *t, int force);

/* Rank 0 after the search: the polish of the best network, resumed where a
 * checkpoint left it; an exit code, *why set when it stops early
 * (train_polish.c). */
int tr_polish(trainer *t, const char **why);

#endif
