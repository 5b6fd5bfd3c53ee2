/* opt: the one ask/tell interface: alloc and parameters, integer handling,
 * sampling and ask, and the accessors shared by all backends (tell, ranking,
 * termination and restarts in opt_tell.c; save and load in opt_state.c; the
 * table of optimizers in algos.c). */
#define ET_OPT_INTERNAL
#include "opt.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "et_rng.h"
#include "util.h"

/* From OpenBLAS' cblas.h, which clashes with GSL's CBLAS declarations. */
void openblas_set_num_threads(int num_threads);

#define HIST_CAP 20000

static const char *const stop_names[ET_OPT_STOP_COUNT_] = {
    "running",    "target",       "maxevals",      "tolfun",     "tolx",        "condition",
    "stagnation", "noeffectaxis", "noeffectcoord", "tolupsigma", "flatfitness", "numeric"};

const char *et_opt_stop_name(et_opt_stop s)
{
    if ((int)s < 0 || s >= ET_OPT_STOP_COUNT_)
        return "unknown";
    return stop_names[s];
}

void et_opt_params_default(et_opt_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->target = -INFINITY;
    p->tolfun = 1e-11;
    p->tolx = 1e-11;
    p->tolupsigma = 1e20;
    p->max_condition = 1e14;
    p->max_restarts = 9;
    p->ipop_factor = 2.0;
    p->active = 1;
}

void et_opt_err(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    et_error(NULL, 0, "optimizer: %s", msg);
}

/* ---- random streams ---- */

void et_opt_normals(const et_opt *o, size_t k, double *z)
{
    /* A gsl_rng on the stack: no allocation, nothing shared between threads. */
    et_rng_state st;
    gsl_rng r = {&et_rng_ctr_type, &st};
    et_rng_key(&r, o->p.seed, ET_STREAM_OPT, (o->gen << 20) | (uint64_t)k);
    for (size_t i = 0; i < o->n; i++)
        z[i] = gsl_ran_gaussian_ziggurat(&r, 1.0);
}

/* ---- weights ---- */

double et_opt_weights(int lambda, int mu, double *w)
{
    double sum = 0, sum2 = 0;
    for (int i = 0; i < lambda; i++) {
        w[i] = i < mu ? log((lambda + 1) / 2.0) - log(i + 1.0) : 0.0;
        /* mu > lambda / 2 would give non-positive log weights: keep them positive. */
        if (i < mu && w[i] <= 0)
            w[i] = 1e-3;
        sum += w[i];
    }
    for (int i = 0; i < mu; i++) {
        w[i] /= sum;
        sum2 += w[i] * w[i];
    }
    return 1.0 / sum2;
}

/* The per-generation buffers, sized by the largest lambda so far. */
static void free_generation(et_opt *o)
{
    free(o->X);
    free(o->Y);
    free(o->Z);
    free(o->have);
    free(o->fit);
    free(o->order);
}

int et_opt_ensure_cap(et_opt *o)
{
    size_t lam = (size_t)o->lambda;
    if (lam <= o->cap)
        return 0;
    size_t n = o->n;
    free_generation(o);
    o->X = et_calloc(lam * n, sizeof(double));
    o->Y = et_calloc(lam * n, sizeof(double));
    o->Z = et_calloc(lam * n, sizeof(double));
    o->have = et_calloc(lam, 1);
    o->fit = et_calloc(lam, sizeof(double));
    o->order = et_calloc(2 * lam, sizeof(size_t));
    o->cap = lam;
    return o->be->resize(o);
}

double et_opt_default_margin(const et_opt *o)
{
    return 1.0 / ((double)o->n * o->lambda);
}

/* The parameters' ranges for algorithm row a over R^n with restart mode
 * rmode; 0, or -1 (reported). lam is the population they give. */
static int check_params(const et_opt_algo *a, int rmode, size_t n, const et_opt_params *pp,
                        int *lam_out)
{
    et_opt_params p = *pp;
    if (n == 0 || n > (1u << 26)) {
        et_opt_err("dimension must be between 1 and %u, got %zu", 1u << 26, n);
        return -1;
    }
    if (p.lambda != 0 && (p.lambda < 2 || p.lambda >= (1 << 20))) {
        et_opt_err("population size lambda must be >= 2 and < 2^20 (or 0 for the default), got %d",
                   p.lambda);
        return -1;
    }
    int lam = p.lambda ? p.lambda : 4 + (int)floor(3 * log((double)n));
    if (p.mu < 0 || p.mu > lam) {
        et_opt_err("mu must be between 1 and lambda = %d (or 0 for lambda/2), got %d", lam, p.mu);
        return -1;
    }
    if (!(p.tolfun >= 0) || !(p.tolx >= 0) || !(p.tolupsigma > 0) || !(p.max_condition > 1) ||
        isnan(p.target)) {
        et_opt_err("tolerances must be >= 0, tolupsigma > 0, max_condition > 1, target not NaN");
        return -1;
    }
    if (p.max_restarts < 0 || p.max_restarts > 16 || !(p.ipop_factor >= 1.1) ||
        !(p.ipop_factor <= 10)) {
        et_opt_err("max_restarts must be in [0, 16] and ipop_factor in [1.1, 10]");
        return -1;
    }
    if (isnan(p.margin)) {
        et_opt_err("margin must be a number");
        return -1;
    }
    if (!(p.mean_lr >= 0 && p.mean_lr <= 1)) {
        et_opt_err("mean_lr must be in [0, 1] (0 = 1), got %g", p.mean_lr);
        return -1;
    }
    if (p.margin != 0 && !a->cma) {
        et_opt_err("margin is only for the CMA-ES variants, not '%s'", a->name);
        return -1;
    }
    if (rmode) {
        /* The largest restart population must stay addressable by the stream key. */
        double lmax = lam * pow(rmode == 1 ? p.ipop_factor : 2.0, p.max_restarts);
        if (lmax >= (1 << 20)) {
            et_opt_err("restarts would grow lambda to %.0f, beyond 2^20: lower max_restarts", lmax);
            return -1;
        }
    }
    *lam_out = lam;
    return 0;
}

et_opt *et_opt_alloc(const char *algo, size_t n, const et_opt_params *pin)
{
    et_opt_params p;
    if (pin)
        p = *pin;
    else
        et_opt_params_default(&p);
    int rmode, lam;
    const et_opt_algo *a = et_opt_algo_find(algo, &rmode);
    if (!a) {
        et_opt_err("unknown algorithm '%s' (one of: %s)", algo ? algo : "(null)",
                   et_opt_algorithms());
        return NULL;
    }
    if (check_params(a, rmode, n, &p, &lam) != 0)
        return NULL;
    /* A multi-threaded BLAS may split sums by thread count; determinism needs one. */
    openblas_set_num_threads(1);
    gsl_set_error_handler_off();

    et_opt *o = et_calloc(1, sizeof *o);
    o->be = a->be;
    o->cma = a->cma;
    snprintf(o->name, sizeof o->name, "%s", algo);
    o->restart_mode = rmode;
    o->n = n;
    o->p = p;
    o->lambda = o->lambda_default = lam;
    o->mu = p.mu ? p.mu : lam / 2;
    if (o->mu < 1)
        o->mu = 1;
    o->x0 = et_calloc(n, sizeof(double));
    o->m = et_calloc(n, sizeof(double));
    o->step = et_calloc(n, sizeof(double));
    o->amarg = et_calloc(n, sizeof(double));
    o->best_x = et_calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        o->amarg[i] = 1.0;
    o->hist_cap = HIST_CAP;
    o->hist_best = et_calloc(HIST_CAP, sizeof(double));
    o->hist_med = et_calloc(HIST_CAP, sizeof(double));
    o->hist_tmp = et_calloc(HIST_CAP, sizeof(double));
    o->best_f = INFINITY;
    o->sigma = o->sigma0 = o->sigma0_run = 1.0;
    if (o->be->init(o) != 0 || et_opt_ensure_cap(o) != 0) {
        et_opt_free(o);
        return NULL;
    }
    o->margin = p.margin < 0 ? et_opt_default_margin(o) : p.margin;
    return o;
}

void et_opt_free(et_opt *o)
{
    if (!o)
        return;
    if (o->st)
        o->be->free(o);
    free(o->x0);
    free(o->m);
    free(o->step);
    free(o->amarg);
    free(o->best_x);
    free(o->hist_best);
    free(o->hist_med);
    free(o->hist_tmp);
    free_generation(o);
    free(o);
}

int et_opt_set_x0(et_opt *o, const double *x0, double sigma0)
{
    if (!o || !x0) {
        et_opt_err("set_x0: NULL argument");
        return -1;
    }
    if (o->gen > 0) {
        et_opt_err("set_x0: the start point can only be set before the first generation");
        return -1;
    }
    if (!(sigma0 > 0) || !isfinite(sigma0)) {
        et_opt_err("initial step size sigma0 must be positive and finite, got %g", sigma0);
        return -1;
    }
    for (size_t i = 0; i < o->n; i++)
        if (!isfinite(x0[i])) {
            et_opt_err("start point x0[%zu] is %g: every coordinate must be finite", i, x0[i]);
            return -1;
        }
    memcpy(o->x0, x0, o->n * sizeof(double));
    o->sigma0 = o->sigma0_run = sigma0;
    o->have_x0 = 1;
    memset(o->have, 0, o->cap);
    return o->be->start(o);
}

int et_opt_set_grid(et_opt *o, const double *step)
{
    if (!o) {
        et_opt_err("set_grid: NULL optimizer");
        return -1;
    }
    if (step)
        for (size_t i = 0; i < o->n; i++)
            if (!(step[i] >= 0) || !isfinite(step[i])) {
                et_opt_err("grid step[%zu] is %g: must be finite and >= 0 (0 = continuous)", i,
                           step[i]);
                return -1;
            }
    o->has_grid = 0;
    for (size_t i = 0; i < o->n; i++) {
        o->step[i] = step ? step[i] : 0.0;
        if (o->step[i] > 0)
            o->has_grid = 1;
    }
    memset(o->have, 0, o->cap);
    return 0;
}

int et_opt_set_step_floor(et_opt *o, double grid_units)
{
    if (!o || !(grid_units >= 0) || !isfinite(grid_units)) {
        et_opt_err("step floor must be finite and >= 0 grid steps, got %g", grid_units);
        return -1;
    }
    o->floor = grid_units;
    memset(o->have, 0, o->cap);
    return 0;
}

int et_opt_set_margin(et_opt *o, double alpha)
{
    if (!o || isnan(alpha) || alpha >= 0.5) {
        et_opt_err("margin alpha must be < 0.5 (0 = off, < 0 = 1/(n lambda)), got %g", alpha);
        return -1;
    }
    if (alpha != 0 && !o->cma) {
        et_opt_err("margin is only for the CMA-ES variants, not '%s'", o->name);
        return -1;
    }
    o->margin = alpha < 0 ? et_opt_default_margin(o) : alpha;
    return 0;
}

/* ---- sampling ---- */

/* Candidate rows [k0, k0 + cnt): the backend's steps, then x = m + sigma A y
 * with the floor/margin diagonal A; a floored coordinate is written as
 * floor * step * y / sd so that no tiny sigma enters a division. */
void et_opt_generate(et_opt *o, size_t k0, size_t cnt)
{
    size_t n = o->n;
    o->be->sample(o, k0, cnt, o->Z + k0 * n, o->Y + k0 * n);
#pragma omp parallel for schedule(static) if (cnt * n > 50000)
    for (size_t k = k0; k < k0 + cnt; k++) {
        const double *y = o->Y + k * n;
        double *x = o->X + k * n;
        double s = o->sigma;
        if (!o->has_grid) {
            for (size_t i = 0; i < n; i++)
                x[i] = o->m[i] + s * y[i];
        } else {
            for (size_t i = 0; i < n; i++) {
                double a = o->amarg[i];
                if (o->step[i] > 0) {
                    double sd = o->sd ? o->sd[i] : 1.0;
                    double fl = o->floor * o->step[i];
                    if (s * sd * a < fl) {
                        x[i] = o->m[i] + fl * (y[i] / sd);
                        continue;
                    }
                }
                x[i] = o->m[i] + s * a * y[i];
            }
        }
        o->have[k] = 1;
    }
}

void et_opt_sample_pairs(const et_opt *o, size_t k0, size_t cnt, int mirror, double *Z, double *Y)
{
    size_t n = o->n;
#pragma omp parallel for schedule(static) if (cnt * n > 20000)
    for (size_t j = 0; j < cnt; j++) {
        size_t k = k0 + j;
        double *z = Z + j * n;
        if (mirror && (k & 1)) {
            et_opt_normals(o, k - 1, z);
            for (size_t i = 0; i < n; i++)
                z[i] = -z[i];
        } else {
            et_opt_normals(o, k, z);
        }
        memcpy(Y + j * n, z, n * sizeof(double));
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double et_opt_step_median(const et_opt *o)
{
    double *v = et_malloc(o->n * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++) {
        double sd = (o->sd ? o->sd[i] : 1.0) * o->sigma * o->amarg[i];
        if (o->has_grid && o->step[i] > 0)
            v[k++] = fmax(sd, o->floor * o->step[i]) / o->step[i];
        else if (!o->has_grid)
            v[k++] = sd;
    }
    double med = NAN;
    if (k) {
        qsort(v, k, sizeof *v, cmp_dbl);
        med = v[k / 2];
    }
    free(v);
    return med;
}

int et_opt_ready(const et_opt *o, const char *what)
{
    if (!o) {
        et_opt_err("%s: NULL optimizer", what);
        return 0;
    }
    if (!o->have_x0) {
        et_opt_err("%s: set the start point with et_opt_set_x0 first", what);
        return 0;
    }
    return 1;
}

int et_opt_ask(et_opt *o, double *x, size_t count)
{
    if (!et_opt_ready(o, "ask"))
        return -1;
    if (!x || count != (size_t)o->lambda) {
        et_opt_err("ask: room for %zu candidates given, lambda is %d", count, o->lambda);
        return -1;
    }
    size_t lam = (size_t)o->lambda;
    size_t first = 0;
    while (first < lam && o->have[first])
        first++;
    if (first < lam)
        et_opt_generate(o, first, lam - first);
    memcpy(x, o->X, lam * o->n * sizeof(double));
    return 0;
}

int et_opt_ask_one(et_opt *o, size_t k, double *x)
{
    if (!et_opt_ready(o, "ask_one"))
        return -1;
    if (!x || k >= (size_t)o->lambda) {
        et_opt_err("ask_one: candidate %zu out of range (lambda is %d)", k, o->lambda);
        return -1;
    }
    if (!o->have[k])
        et_opt_generate(o, k, 1);
    memcpy(x, o->X + k * o->n, o->n * sizeof(double));
    return 0;
}
/* ---- accessors ---- */

const char *et_opt_name(const et_opt *o)
{
    return o->name;
}
size_t et_opt_dim(const et_opt *o)
{
    return o->n;
}
size_t et_opt_lambda(const et_opt *o)
{
    return (size_t)o->lambda;
}
size_t et_opt_lambda_max(const et_opt *o)
{
    if (!o->restart_mode)
        return (size_t)o->lambda_default;
    double f = o->restart_mode == 1 ? o->p.ipop_factor : 2.0;
    return (size_t)floor(o->lambda_default * pow(f, o->p.max_restarts) + 0.5);
}
const double *et_opt_mean(const et_opt *o)
{
    return o->m;
}
double et_opt_sigma(const et_opt *o)
{
    return o->sigma;
}
const double *et_opt_best_x(const et_opt *o)
{
    return o->have_best ? o->best_x : NULL;
}
double et_opt_best_f(const et_opt *o)
{
    return o->have_best ? o->best_f : INFINITY;
}
uint64_t et_opt_generation(const et_opt *o)
{
    return o->gen;
}
uint64_t et_opt_evals(const et_opt *o)
{
    return o->evals;
}
int et_opt_restarts(const et_opt *o)
{
    return o->restarts;
}
et_opt_stop et_opt_last_restart_reason(const et_opt *o)
{
    return o->last_restart_reason;
}
