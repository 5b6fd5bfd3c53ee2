/* dist: evaluation across processes with MPI (built with `make MPI=1`).
 *
 * Every rank runs the same training loop on the same optimizer state. What
 * crosses the network is only what must: each rank regenerates the genomes of
 * its share of the population from (seed, generation, candidate), scores them,
 * and the ranks exchange the fitness values (8 bytes a candidate); rank 0
 * alone decides when to stop (time limit, signals) and broadcasts it, and
 * alone writes logs, checkpoints and exports. Without MPI every function here
 * is the trivial single-process version, so the trainer has one code path. */
#ifndef ET_DIST_H
#define ET_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Starts MPI when built with it (safe to call once, before anything else). */
void et_dist_init(int *argc, char ***argv);
void et_dist_finalize(void);
int et_dist_rank(void);
int et_dist_size(void);
int et_dist_enabled(void); /* 1 in an MPI build */

/* The candidates [lo, hi) of lambda that this rank scores: contiguous,
 * balanced shares, a pure function of (lambda, rank, size). */
void et_dist_share(size_t lambda, size_t *lo, size_t *hi);

/* Fills loss[0 .. lambda) on every rank from each rank's share. */
void et_dist_allgather(double *loss, size_t lambda);

/* Each rank computes rows [lo, hi) of an (n x width) int16 / int32 array;
 * afterwards every rank holds all of it. The shares are et_dist_share(n). */
void et_dist_allgather_rows_i16(int16_t *a, size_t n, size_t width);
void et_dist_allgather_rows_f64(double *a, size_t n, size_t width);

/* Rank 0's value of *v on every rank. */
void et_dist_bcast_int(int *v);

/* The largest of every rank's v (e.g. "this rank failed": any nonzero). */
int et_dist_max_int(int v);

/* The end of a setup phase: 1 if any rank failed. Ranks other than 0 keep
 * their errors (et_error_capture) and rank 0 prints each that differs from
 * its own as "rank N: ...", so a job says what went wrong once, not P times. */
int et_dist_phase(int failed, const char *what);

/* 0 if every rank runs the same build as rank 0, else -1 (reported by rank 0). */
int et_dist_check_build(void);

/* Ends every rank at once with this exit code (a rank that cannot go on). */
void et_dist_abort(int code) __attribute__((noreturn));

#endif
