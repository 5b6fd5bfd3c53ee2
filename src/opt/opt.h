/* opt: the optimizers behind one ask/tell interface (CMA-ES family, random search).
 *
 * The shape follows GSL's gsl_multimin: alloc / set / (ask, tell, test)* / free,
 * no callbacks, every allocation at alloc time (or at a restart, which happens
 * between generations). Optimizers know a dimension, a start point, a step size
 * and a fitness vector (lower is better); nothing about networks.
 *
 * Algorithms: the rows of et_opt_algos[] (src/opt/algos.c), each a name, a
 * backend and one line of documentation; `evotrain config --doc` prints them.
 * The CMA-ES variants ("cmaes": full-covariance active CMA-ES after Hansen,
 * arXiv 1604.00772; "sep-cmaes": diagonal, Ros & Hansen 2008; "lm-maes":
 * Loshchilov, Glasmachers and Beyer 2017) also take an "ipop-" or "bipop-"
 * prefix (restarts with a doubling population, or Hansen 2009's alternating
 * large and small populations), e.g. "bipop-sep-cmaes"; the backends' files
 * say more about each.
 *
 * Determinism: candidate k of generation g is a pure function of the state and
 * (seed, g, k): its normal deviates come from the counter stream et_rng_key(seed,
 * ET_STREAM_OPT, (g << 20) | k) (antithetic pairs share the even member's stream).
 * So any subset of candidates can be produced anywhere (et_opt_ask_one), and
 * et_opt_ask, which is OpenMP-parallel, gives the same bits for any thread count.
 * g counts generations since alloc across restarts, so no stream is ever reused.
 * Linear algebra whose summation order matters is either hand-written with a
 * fixed order (sampling) or run through OpenBLAS pinned to one thread
 * (openblas_set_num_threads(1) at every et_opt_alloc), because a multi-threaded
 * BLAS may split sums differently with the thread count. tell is serial; call it
 * outside any parallel region.
 *
 * Integer-aware sampling (the trainer rounds coordinates to a grid): candidates
 * are x = m + sigma * A * y with y the algorithm's step and A a diagonal >= 1
 * that only widens grid coordinates. Two rules set A, usable together:
 *   step floor  A_i >= floor * step_i / (sigma * sd_i), i.e. the sampling
 *               standard deviation of a grid coordinate never falls below
 *               `floor` grid steps, however far sigma shrinks (sd_i: the
 *               coordinate's marginal standard deviation in units of sigma).
 *   margin      CMA-ES with Margin (Hamano et al., GECCO 2022, arXiv 2205.13482):
 *               after each update, A_i (and the mean) are corrected so that at
 *               least alpha / 2 of the marginal probability lies past each
 *               threshold of the current grid cell; alpha = 1 / (n lambda) by
 *               default. Grid assumed unbounded (thresholds at (k + 1/2) step).
 * The covariance and sigma are updated from y, not from A y, as in the margin
 * paper, so the floor never biases the adaptation; the mean moves by the actual
 * steps. A floored coordinate's step is computed as floor * step_i * z_i
 * directly, so no NaN or infinity arises even when sigma underflows toward 0.
 * The optimizer returns continuous x; the caller rounds.
 *
 * Fitness: lower is better. NaN (and +inf) rank worst, ties by candidate index;
 * a generation whose every value is NaN is refused (-1), since nothing can be
 * learned from it.
 *
 * Errors: functions returning int give 0 on success and -1 on bad input or
 * state, after reporting through et_error ("evotrain: optimizer: ...");
 * et_opt_alloc returns NULL likewise. Nothing aborts.
 */
#ifndef ET_OPT_H
#define ET_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct et_opt et_opt;

/* Why the run (or, with restarts, the current local run) stopped. */
typedef enum et_opt_stop {
    ET_OPT_RUNNING = 0,
    ET_OPT_STOP_TARGET,        /* best f <= params.target */
    ET_OPT_STOP_MAXEVALS,      /* evaluations >= params.max_evals */
    ET_OPT_STOP_TOLFUN,        /* f range over recent generations < tolfun */
    ET_OPT_STOP_TOLX,          /* every step-size scale < tolx */
    ET_OPT_STOP_CONDITION,     /* covariance condition number > max_condition */
    ET_OPT_STOP_STAGNATION,    /* best and median f no longer improve */
    ET_OPT_STOP_NOEFFECTAXIS,  /* a principal-axis step no longer changes the mean */
    ET_OPT_STOP_NOEFFECTCOORD, /* a coordinate step no longer changes the mean */
    ET_OPT_STOP_TOLUPSIGMA,    /* sigma grew by > tolupsigma: diverging */
    ET_OPT_STOP_FLATFITNESS,   /* 70% of the population has equal fitness (not with a grid) */
    ET_OPT_STOP_NUMERIC,       /* eigendecomposition failed or state non-finite */
    ET_OPT_STOP_COUNT_
} et_opt_stop;

/* "running", "target", "maxevals", "tolfun", ...; never NULL. */
const char *et_opt_stop_name(et_opt_stop s);

typedef struct et_opt_params {
    int lambda;           /* population; 0 = 4 + floor(3 ln n); else >= 2 */
    int mu;               /* parents; 0 = lambda / 2; 1 <= mu <= lambda */
    uint64_t seed;        /* names the random streams */
    uint64_t max_evals;   /* 0 = unlimited */
    double target;        /* stop when best f <= target; -INFINITY = never (default) */
    double tolfun;        /* default 1e-11 */
    double tolx;          /* absolute; default 1e-11 */
    double tolupsigma;    /* default 1e20 */
    double max_condition; /* default 1e14 */
    int max_restarts;     /* IPOP restarts, BIPOP large-population restarts: default 9 */
    double ipop_factor;   /* population factor per IPOP restart, default 2 */
    int active;           /* CMA: 1 = negative weights (default), 0 = off */
    int budget_only;      /* 1: no local termination criterion stops the run (noisy f) */
    double mean_lr;       /* CMA: learning rate of the mean, (0, 1]; 0 means 1 */
    double margin;        /* CMA with Margin alpha: 0 = off (default), < 0 = 1/(n lambda) */
} et_opt_params;

/* Fill p with the defaults above (seed 1). */
void et_opt_params_default(et_opt_params *p);

/* One optimizer: et_opt_alloc's name for it, its backend (whose init
 * allocates its state; opaque outside src/opt), whether it is a CMA-ES variant
 * (takes the ipop-/bipop- prefixes and the margin) and one line of
 * documentation. The table is et_opt_algos[0 .. et_opt_n_algos). */
typedef struct et_opt_algo {
    const char *name;
    const struct et_opt_backend *be;
    int cma;
    const char *doc;
} et_opt_algo;
extern const et_opt_algo et_opt_algos[];
extern const size_t et_opt_n_algos;

/* Space-separated list of the accepted algorithm names (the table's, with the
 * restart prefixes), for error messages. */
const char *et_opt_algorithms(void);
/* 1 if algo names one of them (with or without a restart prefix). */
int et_opt_known(const char *algo);
/* The row algo names, its restart prefix stripped (*restart_mode: 0 none,
 * 1 IPOP, 2 BIPOP); NULL for an unknown name or a prefix on a non-CMA one. */
const et_opt_algo *et_opt_algo_find(const char *algo, int *restart_mode);
/* The table as documentation: a line per row, "NAME  DOC", each after indent,
 * and the restart prefixes. */
void et_opt_doc(FILE *out, const char *indent);

/* A new optimizer over R^n; p NULL means defaults. NULL (reported) on an
 * unknown name, n == 0, or out-of-range parameters. Pins OpenBLAS to one
 * thread (see above). Start with et_opt_set_x0 before the first ask. */
et_opt *et_opt_alloc(const char *algo, size_t n, const et_opt_params *p);
void et_opt_free(et_opt *opt);

/* Start point (n finite values, copied) and initial step size (> 0, finite).
 * Allowed only before the first tell; restarts begin from the same x0. */
int et_opt_set_x0(et_opt *opt, const double *x0, double sigma0);

/* Grid spacing per coordinate (n values >= 0, 0 = continuous), copied; NULL
 * makes every coordinate continuous. May be called at any time. */
int et_opt_set_grid(et_opt *opt, const double *step);

/* Minimum sampling standard deviation of grid coordinates, in grid steps
 * (>= 0, 0 = none). May change between generations (e.g. decay 0.45 -> 0.2). */
int et_opt_set_step_floor(et_opt *opt, double grid_units);

/* Margin alpha (0 = off, < 0 = 1/(n lambda)); CMA variants only. */
int et_opt_set_margin(et_opt *opt, double alpha);

/* The current generation's candidates into x (count rows of n, row-major);
 * count must equal et_opt_lambda(). Repeatable: asking twice gives the same
 * rows. OpenMP-parallel, bit-identical for any thread count. */
int et_opt_ask(et_opt *opt, double *x, size_t count);

/* Candidate k (< lambda) alone, bit-identical to row k of et_opt_ask. Safe to
 * call concurrently from several threads for distinct k. */
int et_opt_ask_one(et_opt *opt, size_t k, double *x);

/* Fitness of the current generation's candidates, count == lambda, in candidate
 * order. Candidates never asked for are regenerated internally. Returns 0, or
 * 1 when a local stop triggered an IPOP/BIPOP restart (lambda may have changed:
 * re-read et_opt_lambda), or -1 on error (the state is then unchanged). */
int et_opt_tell(et_opt *opt, const double *f, size_t count);

/* ET_OPT_RUNNING while the run should go on. With restarts, local criteria
 * restart inside tell and only end the run once max_restarts is used up. */
et_opt_stop et_opt_test(const et_opt *opt);

/* Accessors; pointers stay valid until the next tell, load or free. */
const char *et_opt_name(const et_opt *opt);
size_t et_opt_dim(const et_opt *opt);
size_t et_opt_lambda(const et_opt *opt);
size_t et_opt_lambda_max(const et_opt *opt); /* largest lambda any restart can use */
const double *et_opt_mean(const et_opt *opt);
double et_opt_sigma(const et_opt *opt);
const double *et_opt_best_x(const et_opt *opt); /* NULL before the first tell */
double et_opt_best_f(const et_opt *opt);        /* +INFINITY before the first tell */
uint64_t et_opt_generation(const et_opt *opt);  /* tells so far, across restarts */
uint64_t et_opt_evals(const et_opt *opt);
int et_opt_restarts(const et_opt *opt);
/* The median over grid coordinates (all coordinates without a grid) of the
 * actual sampling standard deviation, in grid steps: what the floor and
 * sigma together give. For logs; allocates, so not for hot loops. */
double et_opt_step_median(const et_opt *opt);
et_opt_stop et_opt_last_restart_reason(const et_opt *opt);

/* Checkpointing. The state (distribution, paths, covariance and its
 * decomposition with its schedule, restart bookkeeping, grid, floor, margin,
 * best-ever, counters, seed) is a byte string in host byte order. The random
 * streams are counter-based and keyed by (seed, generation, candidate), so the
 * seed and the generation are their whole state. Load into a handle allocated
 * with the same algorithm and dimension; the stopping parameters (max_evals,
 * target, tolerances, max_restarts) stay those of the loading handle, so a
 * resumed run may get a larger budget. A run saved at generation g and loaded
 * continues bit-identically. */
size_t et_opt_state_size(const et_opt *opt);
int et_opt_save(const et_opt *opt, void *buf, size_t size); /* size >= state_size */
int et_opt_load(et_opt *opt, const void *buf, size_t size); /* refuses with a message */

#ifdef ET_OPT_INTERNAL
/* ---- For the files of src/opt only. ---- */

/* A flat byte writer/reader for save/load; a short buffer sets err. */
typedef struct et_ser {
    unsigned char *w;
    const unsigned char *r;
    size_t size, pos;
    int err;
} et_ser;
void et_ser_put(et_ser *s, const void *p, size_t bytes);
void et_ser_get(et_ser *s, void *p, size_t bytes);

typedef struct et_opt_backend {
    const char *name;
    /* Allocate backend state for dimension n (o->st); -1 on failure. */
    int (*init)(et_opt *o);
    void (*free)(et_opt *o);
    /* Resize buffers for o->lambda (between generations). */
    int (*resize)(et_opt *o);
    /* (Re)start the distribution at o->x0, o->sigma0 with o->lambda, o->mu. */
    int (*start)(et_opt *o);
    /* Rows k0 .. k0 + cnt - 1 of Z (the standard normal deviates, from the
     * candidate's stream) and Y (the step: x = m + sigma A y); Z and Y point at
     * row k0. Reads the state only; each row's bits must not depend on cnt or
     * on the thread count. */
    void (*sample)(const et_opt *o, size_t k0, size_t cnt, double *Z, double *Y);
    /* Update from the ranked generation (o->order best first). 0 ok, -1 numeric. */
    int (*update)(et_opt *o);
    /* Backend's local termination criteria after an update. */
    et_opt_stop (*stop)(const et_opt *o);
    void (*save)(const et_opt *o, et_ser *s);
    void (*load)(et_opt *o, et_ser *s);
} et_opt_backend;

struct et_opt {
    const et_opt_backend *be;
    int cma; /* a CMA-ES variant: the margin applies */
    char name[32];
    int restart_mode; /* 0 none, 1 IPOP, 2 BIPOP */
    size_t n;
    et_opt_params p;
    int have_x0;
    double *x0;
    double sigma0;     /* as given by set_x0 */
    double sigma0_run; /* of the current local run (BIPOP varies it) */
    double *step;      /* grid spacing, 0 = continuous */
    int has_grid;
    double floor;     /* in grid units */
    double margin;    /* alpha, 0 = off */
    double *amarg;    /* margin's diagonal A, 1 when off */
    const double *sd; /* backend: marginal sd per coordinate / sigma; NULL = 1 */
    /* generation */
    uint64_t gen, gen_local, evals;
    int lambda, mu, lambda_default;
    size_t cap; /* rows of X, Y, Z */
    double *X, *Y, *Z;
    unsigned char *have;
    double *fit;
    size_t *order; /* candidate indices, best first */
    double *m;
    double sigma;
    double best_f;
    double *best_x;
    int have_best;
    /* termination history: best and median f per local generation */
    double *hist_best, *hist_med, *hist_tmp;
    size_t hist_cap;
    double range_recent; /* f range over the tolfun window, updated in tell */
    et_opt_stop local_stop;
    /* restarts */
    int restarts;
    et_opt_stop last_restart_reason;
    int bipop_large_runs;
    uint64_t bipop_budget_small, bipop_budget_large;
    int bipop_regime; /* 0 first run / large, 1 small */
    uint64_t evals_run_start;
    void *st;
};

/* Fill z[0..n) with the standard normal deviates of candidate stream k (the
 * stream named (seed, ET_STREAM_OPT, (gen << 20) | k)). */
void et_opt_normals(const et_opt *o, size_t k, double *z);
/* Isotropic steps y = z for candidates [k0, k0 + cnt); with mirror, odd
 * candidates reflect the even one before them (antithetic pairs). */
void et_opt_sample_pairs(const et_opt *o, size_t k0, size_t cnt, int mirror, double *Z, double *Y);

/* Shared by opt.c, opt_tell.c and opt_state.c. */
void et_opt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* et_error */
/* (Re)allocate the per-generation buffers for o->lambda rows; only between
 * generations (alloc, restart, load). 0 or -1. */
int et_opt_ensure_cap(et_opt *o);
double et_opt_default_margin(const et_opt *o); /* 1 / (n lambda) */
/* Candidate rows [k0, k0 + cnt) into o->X (and o->Y, o->Z); marks them had. */
void et_opt_generate(et_opt *o, size_t k0, size_t cnt);
/* 1 if o may ask or tell (what names the call in the message), else 0. */
int et_opt_ready(const et_opt *o, const char *what);

/* Default recombination weights over lambda, the first mu positive summing to
 * 1, the rest zero (callers add negative weights). Returns mueff. */
double et_opt_weights(int lambda, int mu, double *w);
#endif

#endif
