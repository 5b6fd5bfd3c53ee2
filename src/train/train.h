/* train: a training run, from a configuration or a run directory to its end
 * (see train.c for one generation, README "How it trains" for the method). */
#ifndef ET_TRAIN_H
#define ET_TRAIN_H

/* What the command line asks of a run. Unset numbers are -1 (the
 * configuration's value stands); out defaults to "out". */
typedef struct et_train_opts {
    const char *config, *resume, *name, *out, *init;
    int force, threads;
    double time_limit;
    long max_generations, max_evals;
} et_train_opts;

/* Trains (or resumes) the run o describes, on every MPI rank of a
 * `make MPI=1` build. Returns a process exit code (ET_EXIT_* of util.h):
 * 130 after an interrupt, with the checkpoint written. */
int et_train(const et_train_opts *o);

#endif
