/* opt: the one ask/tell interface; dispatch, integer handling, ranking,
 * termination history, restarts and state serialization shared by all backends. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmaes.h"
#include "et_rng.h"
#include "randsearch.h"
#include "esadam.h"
#include "util.h"

/* From OpenBLAS' cblas.h, which clashes with GSL's CBLAS declarations. */
void openblas_set_num_threads(int num_threads);

#define OPT_MAGIC "ETOPTST"
#define OPT_VERSION 1u
#define HIST_CAP 20000
/* Below this a scale is treated as this: keeps A = floor / scale finite. */
#define TINY_SCALE 1e-280

static const char *const stop_names[ET_OPT_STOP_COUNT_] = {
    "running",    "target",       "maxevals",      "tolfun",     "tolx",        "condition",
    "stagnation", "noeffectaxis", "noeffectcoord", "tolupsigma", "flatfitness", "numeric"};

const char *et_opt_stop_name(et_opt_stop s)
{
    if ((int)s < 0 || s >= ET_OPT_STOP_COUNT_)
        return "unknown";
    return stop_names[s];
}

const char *et_opt_algorithms(void)
{
    return "cmaes sep-cmaes lm-maes ipop-cmaes bipop-cmaes ipop-sep-cmaes bipop-sep-cmaes "
           "ipop-lm-maes bipop-lm-maes rs-1+lambda rs-mu,lambda rs-antithetic es-adam";
}

static const et_opt_backend *parse_algo(const char *algo, int *restart_mode);

int et_opt_known(const char *algo)
{
    int rmode;
    return algo && parse_algo(algo, &rmode) != NULL;
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

static void oerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void oerr(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    et_error(NULL, 0, "optimizer: %s", msg);
}

/* ---- serialization ---- */

void et_ser_put(et_ser *s, const void *p, size_t bytes)
{
    if (s->w && !s->err) {
        if (s->pos + bytes > s->size) {
            s->err = 1;
            return;
        }
        memcpy(s->w + s->pos, p, bytes);
    }
    s->pos += bytes;
}

void et_ser_get(et_ser *s, void *p, size_t bytes)
{
    if (s->err || s->pos + bytes > s->size) {
        s->err = 1;
        memset(p, 0, bytes);
        return;
    }
    memcpy(p, s->r + s->pos, bytes);
    s->pos += bytes;
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

/* ---- algorithm names ---- */

static const et_opt_backend *parse_algo(const char *algo, int *restart_mode)
{
    *restart_mode = 0;
    if (!strncmp(algo, "ipop-", 5)) {
        *restart_mode = 1;
        algo += 5;
    } else if (!strncmp(algo, "bipop-", 6)) {
        *restart_mode = 2;
        algo += 6;
    }
    if (!strcmp(algo, "cmaes"))
        return &et_opt_be_cmaes;
    if (!strcmp(algo, "sep-cmaes"))
        return &et_opt_be_sepcmaes;
    if (!strcmp(algo, "lm-maes"))
        return &et_opt_be_lmmaes;
    if (*restart_mode)
        return NULL;
    if (!strcmp(algo, "rs-1+lambda"))
        return &et_opt_be_rs1plus;
    if (!strcmp(algo, "rs-mu,lambda") || !strcmp(algo, "rs-antithetic"))
        return &et_opt_be_rscomma;
    if (!strcmp(algo, "es-adam"))
        return &et_opt_be_esadam;
    return NULL;
}

static int is_cma(const et_opt *o)
{
    return o->be == &et_opt_be_cmaes || o->be == &et_opt_be_sepcmaes || o->be == &et_opt_be_lmmaes;
}

/* (Re)allocate the per-generation buffers for o->lambda rows; only between
 * generations (alloc, restart, load). */
static int ensure_cap(et_opt *o)
{
    size_t lam = (size_t)o->lambda;
    if (lam <= o->cap)
        return 0;
    size_t n = o->n;
    free(o->X);
    free(o->Y);
    free(o->Z);
    free(o->have);
    free(o->fit);
    free(o->order);
    o->X = et_calloc(lam * n, sizeof(double));
    o->Y = et_calloc(lam * n, sizeof(double));
    o->Z = et_calloc(lam * n, sizeof(double));
    o->have = et_calloc(lam, 1);
    o->fit = et_calloc(lam, sizeof(double));
    o->order = et_calloc(2 * lam, sizeof(size_t));
    o->cap = lam;
    return o->be->resize(o);
}

static double default_margin(const et_opt *o)
{
    return 1.0 / ((double)o->n * o->lambda);
}

et_opt *et_opt_alloc(const char *algo, size_t n, const et_opt_params *pin)
{
    et_opt_params p;
    if (pin)
        p = *pin;
    else
        et_opt_params_default(&p);
    int rmode;
    const et_opt_backend *be = algo ? parse_algo(algo, &rmode) : NULL;
    if (!be) {
        oerr("unknown algorithm '%s' (one of: %s)", algo ? algo : "(null)", et_opt_algorithms());
        return NULL;
    }
    if (n == 0 || n > (1u << 26)) {
        oerr("dimension must be between 1 and %u, got %zu", 1u << 26, n);
        return NULL;
    }
    if (p.lambda != 0 && (p.lambda < 2 || p.lambda >= (1 << 20))) {
        oerr("population size lambda must be >= 2 and < 2^20 (or 0 for the default), got %d",
             p.lambda);
        return NULL;
    }
    int lam = p.lambda ? p.lambda : 4 + (int)floor(3 * log((double)n));
    if (p.mu < 0 || p.mu > lam) {
        oerr("mu must be between 1 and lambda = %d (or 0 for lambda/2), got %d", lam, p.mu);
        return NULL;
    }
    if (!(p.tolfun >= 0) || !(p.tolx >= 0) || !(p.tolupsigma > 0) || !(p.max_condition > 1) ||
        isnan(p.target)) {
        oerr("tolerances must be >= 0, tolupsigma > 0, max_condition > 1, target not NaN");
        return NULL;
    }
    if (p.max_restarts < 0 || p.max_restarts > 16 || !(p.ipop_factor >= 1.1) ||
        !(p.ipop_factor <= 10)) {
        oerr("max_restarts must be in [0, 16] and ipop_factor in [1.1, 10]");
        return NULL;
    }
    if (isnan(p.margin)) {
        oerr("margin must be a number");
        return NULL;
    }
    if (!(p.mean_lr >= 0 && p.mean_lr <= 1)) {
        oerr("mean_lr must be in [0, 1] (0 = 1), got %g", p.mean_lr);
        return NULL;
    }
    if (p.margin != 0 && be != &et_opt_be_cmaes && be != &et_opt_be_sepcmaes &&
        be != &et_opt_be_lmmaes) {
        oerr("margin is only for the CMA-ES variants, not '%s'", algo);
        return NULL;
    }
    if (rmode) {
        /* The largest restart population must stay addressable by the stream key. */
        double lmax = lam * pow(rmode == 1 ? p.ipop_factor : 2.0, p.max_restarts);
        if (lmax >= (1 << 20)) {
            oerr("restarts would grow lambda to %.0f, beyond 2^20: lower max_restarts", lmax);
            return NULL;
        }
    }
    /* A multi-threaded BLAS may split sums by thread count; determinism needs one. */
    openblas_set_num_threads(1);
    gsl_set_error_handler_off();

    et_opt *o = et_calloc(1, sizeof *o);
    o->be = be;
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
    if (be->init(o) != 0 || ensure_cap(o) != 0) {
        et_opt_free(o);
        return NULL;
    }
    o->margin = p.margin < 0 ? default_margin(o) : p.margin;
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
    free(o->X);
    free(o->Y);
    free(o->Z);
    free(o->have);
    free(o->fit);
    free(o->order);
    free(o);
}

int et_opt_set_x0(et_opt *o, const double *x0, double sigma0)
{
    if (!o || !x0) {
        oerr("set_x0: NULL argument");
        return -1;
    }
    if (o->gen > 0) {
        oerr("set_x0: the start point can only be set before the first generation");
        return -1;
    }
    if (!(sigma0 > 0) || !isfinite(sigma0)) {
        oerr("initial step size sigma0 must be positive and finite, got %g", sigma0);
        return -1;
    }
    for (size_t i = 0; i < o->n; i++)
        if (!isfinite(x0[i])) {
            oerr("start point x0[%zu] is %g: every coordinate must be finite", i, x0[i]);
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
        oerr("set_grid: NULL optimizer");
        return -1;
    }
    if (step)
        for (size_t i = 0; i < o->n; i++)
            if (!(step[i] >= 0) || !isfinite(step[i])) {
                oerr("grid step[%zu] is %g: must be finite and >= 0 (0 = continuous)", i, step[i]);
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
        oerr("step floor must be finite and >= 0 grid steps, got %g", grid_units);
        return -1;
    }
    o->floor = grid_units;
    memset(o->have, 0, o->cap);
    return 0;
}

int et_opt_set_margin(et_opt *o, double alpha)
{
    if (!o || isnan(alpha) || alpha >= 0.5) {
        oerr("margin alpha must be < 0.5 (0 = off, < 0 = 1/(n lambda)), got %g", alpha);
        return -1;
    }
    if (alpha != 0 && !is_cma(o)) {
        oerr("margin is only for the CMA-ES variants, not '%s'", o->name);
        return -1;
    }
    o->margin = alpha < 0 ? default_margin(o) : alpha;
    return 0;
}

/* ---- sampling ---- */

/* Candidate rows [k0, k0 + cnt): the backend's steps, then x = m + sigma A y
 * with the floor/margin diagonal A; a floored coordinate is written as
 * floor * step * y / sd so that no tiny sigma enters a division. */
static void generate(et_opt *o, size_t k0, size_t cnt)
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

static int ready(const et_opt *o, const char *what)
{
    if (!o) {
        oerr("%s: NULL optimizer", what);
        return 0;
    }
    if (!o->have_x0) {
        oerr("%s: set the start point with et_opt_set_x0 first", what);
        return 0;
    }
    return 1;
}

int et_opt_ask(et_opt *o, double *x, size_t count)
{
    if (!ready(o, "ask"))
        return -1;
    if (!x || count != (size_t)o->lambda) {
        oerr("ask: room for %zu candidates given, lambda is %d", count, o->lambda);
        return -1;
    }
    size_t lam = (size_t)o->lambda;
    size_t first = 0;
    while (first < lam && o->have[first])
        first++;
    if (first < lam)
        generate(o, first, lam - first);
    memcpy(x, o->X, lam * o->n * sizeof(double));
    return 0;
}

int et_opt_ask_one(et_opt *o, size_t k, double *x)
{
    if (!ready(o, "ask_one"))
        return -1;
    if (!x || k >= (size_t)o->lambda) {
        oerr("ask_one: candidate %zu out of range (lambda is %d)", k, o->lambda);
        return -1;
    }
    if (!o->have[k])
        generate(o, k, 1);
    memcpy(x, o->X + k * o->n, o->n * sizeof(double));
    return 0;
}

/* ---- ranking: NaN worst, ties by index, so the order is a total order ---- */

static int before(const double *f, size_t a, size_t b)
{
    double fa = f[a], fb = f[b];
    int na = isnan(fa), nb = isnan(fb);
    if (na != nb)
        return nb;
    if (!na && fa != fb)
        return fa < fb;
    return a < b;
}

/* Bottom-up merge sort of o->order[0..lam) using o->order[lam..2 lam) as scratch. */
static void rank(et_opt *o)
{
    size_t lam = (size_t)o->lambda;
    size_t *a = o->order, *b = o->order + lam;
    for (size_t i = 0; i < lam; i++)
        a[i] = i;
    for (size_t w = 1; w < lam; w *= 2) {
        for (size_t lo = 0; lo < lam; lo += 2 * w) {
            size_t mid = lo + w < lam ? lo + w : lam, hi = lo + 2 * w < lam ? lo + 2 * w : lam;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = before(o->fit, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        size_t *t = a;
        a = b;
        b = t;
    }
    if (a != o->order)
        memcpy(o->order, a, lam * sizeof(size_t));
}

/* ---- margin (Hamano et al. 2022), unbounded grid ---- */

static void margin_correct(et_opt *o)
{
    double alpha = o->margin, a2 = alpha / 2;
    for (size_t i = 0; i < o->n; i++) {
        double s = o->step[i];
        if (!(s > 0))
            continue;
        double sd = o->sd ? o->sd[i] : 1.0;
        double base = o->sigma * sd;
        if (!(base > TINY_SCALE))
            base = TINY_SCALE;
        double scale = base * o->amarg[i];
        double m = o->m[i];
        double c = nearbyint(m / s);
        double lo = (c - 0.5) * s, up = (c + 0.5) * s;
        double plo = gsl_cdf_ugaussian_P((lo - m) / scale);
        double pup = gsl_cdf_ugaussian_Q((up - m) / scale);
        double mid = 1.0 - plo - pup;
        if (plo >= a2 && pup >= a2)
            continue; /* the correction would be the identity */
        double ql = plo > a2 ? plo : a2, qu = pup > a2 ? pup : a2;
        double denom = ql + mid + qu - 3 * a2;
        double excess = ql + qu + mid - 1.0;
        if (denom > 0) {
            ql -= excess * (ql - a2) / denom;
            qu -= excess * (qu - a2) / denom;
        }
        ql = fmin(fmax(ql, 1e-10), 0.5 - 1e-10);
        qu = fmin(fmax(qu, 1e-10), 0.5 - 1e-10);
        double cl = gsl_cdf_ugaussian_Qinv(ql), cu = gsl_cdf_ugaussian_Qinv(qu);
        double a = (up - lo) / ((cl + cu) * base);
        if (!isfinite(a) || a < 1.0)
            a = isfinite(a) ? 1.0 : 1e280;
        o->amarg[i] = a;
        o->m[i] = (lo * cu + up * cl) / (cl + cu);
    }
}

/* ---- termination shared by all backends ---- */

static double hist_at(const double *h, size_t cap, uint64_t g)
{
    return h[g % cap];
}

/* Median of v[0..n) by sorting in place (n is at most a few thousand). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Stagnation (Hansen's tutorial, B.3, with pycma's minimum length): over the
 * last W generations, the median of the newest 30% of best and of median f is
 * not better than that of the oldest 30%. Checked every 10 generations. */
static int stagnating(et_opt *o)
{
    uint64_t g = o->gen_local;
    double lim = 100 + 100 * pow((double)o->n, 1.5) / o->lambda;
    if ((double)g <= lim || g % 10)
        return 0;
    uint64_t w = (uint64_t)fmax(lim, 0.2 * (double)g);
    if (w > o->hist_cap)
        w = o->hist_cap;
    size_t part = (size_t)(0.3 * (double)w);
    if (part < 2)
        return 0;
    double *tmp = o->hist_tmp;
    const double *hs[2] = {o->hist_best, o->hist_med};
    int stag = 1;
    for (int h = 0; h < 2 && stag; h++) {
        for (size_t i = 0; i < part; i++)
            tmp[i] = hist_at(hs[h], o->hist_cap, g - w + i);
        double old = median_of(tmp, part);
        for (size_t i = 0; i < part; i++)
            tmp[i] = hist_at(hs[h], o->hist_cap, g - part + i);
        double recent = median_of(tmp, part);
        if (recent < old)
            stag = 0;
    }
    return stag;
}

static et_opt_stop common_stop(et_opt *o)
{
    size_t lam = (size_t)o->lambda;
    const double *f = o->fit;
    double fb = f[o->order[0]];
    /* flat fitness: the best and the 70th percentile are equal. Not with a
     * grid, where rounding makes plateaus the normal case, not a dead end. */
    size_t q = (size_t)ceil(0.7 * (double)lam) - 1;
    if (lam >= 3 && !o->has_grid && fb == f[o->order[q]])
        return ET_OPT_STOP_FLATFITNESS;
    /* tolfun: recent best values and this generation's values within tolfun */
    uint64_t len = 10 + (uint64_t)ceil(30.0 * (double)o->n / (double)lam);
    if (o->gen_local >= len && len <= o->hist_cap) {
        double lo = INFINITY, hi = -INFINITY;
        for (uint64_t g = o->gen_local - len; g < o->gen_local; g++) {
            double v = hist_at(o->hist_best, o->hist_cap, g);
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        for (size_t k = 0; k < lam; k++) {
            if (isnan(f[k]))
                continue;
            lo = fmin(lo, f[k]);
            hi = fmax(hi, f[k]);
        }
        if (hi - lo < o->p.tolfun)
            return ET_OPT_STOP_TOLFUN;
    }
    if (stagnating(o))
        return ET_OPT_STOP_STAGNATION;
    return ET_OPT_RUNNING;
}

static et_opt_stop global_stop(const et_opt *o)
{
    if (o->have_best && o->best_f <= o->p.target)
        return ET_OPT_STOP_TARGET;
    if (o->p.max_evals && o->evals >= o->p.max_evals)
        return ET_OPT_STOP_MAXEVALS;
    return ET_OPT_RUNNING;
}

/* ---- restarts ---- */

static double restart_uniform(const et_opt *o, uint64_t which)
{
    et_rng_state st;
    gsl_rng r = {&et_rng_ctr_type, &st};
    et_rng_key(&r, o->p.seed, ET_STREAM_OPT, (UINT64_C(1) << 62) | which);
    return gsl_rng_uniform(&r);
}

/* Begin the next local run, or return 1 when the restart budget is spent.
 * IPOP: lambda_def * factor^r, at most max_restarts times. BIPOP (Hansen 2009):
 * after the first run, a large-population run (lambda_def * 2^i, sigma0,
 * i <= max_restarts) whenever the evaluations spent in small runs reach those
 * spent in large ones, else a small run with lambda_def * (lambda_large /
 * (2 lambda_def))^(u^2) and sigma0 * 10^(-2 u'); small runs are not counted
 * against max_restarts, as in the paper, since the budget rule bounds them. */
static int restart(et_opt *o, et_opt_stop why)
{
    uint64_t used = o->evals - o->evals_run_start;
    int lam = o->lambda_default;
    double sig = o->sigma0;
    if (o->restart_mode == 1) {
        if (o->restarts >= o->p.max_restarts)
            return 1;
        lam = (int)floor(o->lambda_default * pow(o->p.ipop_factor, o->restarts + 1) + 0.5);
    } else {
        uint64_t small = o->bipop_budget_small, large = o->bipop_budget_large;
        if (o->bipop_regime == 0)
            large += used;
        else
            small += used;
        int go_small = o->bipop_large_runs > 0 && small < large;
        if (!go_small && o->bipop_large_runs >= o->p.max_restarts)
            return 1;
        o->bipop_budget_small = small;
        o->bipop_budget_large = large;
        if (go_small) {
            double u1 = restart_uniform(o, 2 * (uint64_t)o->restarts);
            double u2 = restart_uniform(o, 2 * (uint64_t)o->restarts + 1);
            double ratio = 0.5 * pow(2.0, o->bipop_large_runs);
            lam = (int)floor(o->lambda_default * pow(ratio, u1 * u1));
            if (lam < 2)
                lam = 2;
            sig = o->sigma0 * pow(10.0, -2 * u2);
            o->bipop_regime = 1;
        } else {
            o->bipop_large_runs++;
            lam = o->lambda_default << o->bipop_large_runs;
            o->bipop_regime = 0;
        }
    }
    o->restarts++;
    o->last_restart_reason = why;
    o->lambda = lam;
    o->mu = o->p.mu ? (int)fmax(1, floor((double)o->p.mu * lam / o->lambda_default)) : lam / 2;
    if (o->mu < 1)
        o->mu = 1;
    o->sigma0_run = sig;
    o->gen_local = 0;
    o->evals_run_start = o->evals;
    o->local_stop = ET_OPT_RUNNING;
    for (size_t i = 0; i < o->n; i++)
        o->amarg[i] = 1.0;
    if (o->p.margin < 0)
        o->margin = default_margin(o);
    if (ensure_cap(o) != 0)
        return -1;
    memset(o->have, 0, o->cap);
    return o->be->start(o) != 0 ? -1 : 0;
}

int et_opt_tell(et_opt *o, const double *f, size_t count)
{
    if (!ready(o, "tell"))
        return -1;
    size_t lam = (size_t)o->lambda, n = o->n;
    if (!f || count != lam) {
        oerr("tell: %zu fitness values given, lambda is %zu", count, lam);
        return -1;
    }
    size_t nan = 0;
    for (size_t k = 0; k < lam; k++)
        nan += isnan(f[k]) != 0;
    if (nan == lam) {
        oerr("tell: every fitness value is NaN; nothing to rank");
        return -1;
    }
    for (size_t k = 0; k < lam; k++)
        if (!o->have[k])
            generate(o, k, 1);
    memcpy(o->fit, f, lam * sizeof(double));
    rank(o);
    size_t b = o->order[0]; /* never NaN: not all are, and NaN ranks last */
    if (!o->have_best || o->fit[b] < o->best_f) {
        o->best_f = o->fit[b];
        memcpy(o->best_x, o->X + b * n, n * sizeof(double));
        o->have_best = 1;
    }
    o->hist_best[o->gen_local % o->hist_cap] = o->fit[b];
    o->hist_med[o->gen_local % o->hist_cap] = o->fit[o->order[lam / 2]];
    o->gen++;
    o->gen_local++;
    o->evals += lam;
    int rc = o->be->update(o);
    if (o->margin > 0 && o->has_grid && rc == 0)
        margin_correct(o);
    memset(o->have, 0, o->cap);
    et_opt_stop local = rc != 0 ? ET_OPT_STOP_NUMERIC : o->be->stop(o);
    if (local == ET_OPT_RUNNING)
        local = common_stop(o);
    /* A noisy objective (the trainer's minibatches) trips convergence tests
     * without having converged; there only the budget ends a run. */
    if (o->p.budget_only && local != ET_OPT_STOP_NUMERIC)
        local = ET_OPT_RUNNING;
    o->local_stop = local;
    if (local != ET_OPT_RUNNING && o->restart_mode && global_stop(o) == ET_OPT_RUNNING) {
        int r = restart(o, local);
        if (r < 0)
            return -1;
        if (r == 0)
            return 1;
    }
    return 0;
}

et_opt_stop et_opt_test(const et_opt *o)
{
    if (!o)
        return ET_OPT_STOP_NUMERIC;
    et_opt_stop g = global_stop(o);
    return g != ET_OPT_RUNNING ? g : o->local_stop;
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

/* ---- save / load ---- */

#define PUT(s, v) et_ser_put(s, &(v), sizeof(v))
#define GET(s, v) et_ser_get(s, &(v), sizeof(v))

static void header(et_ser *s, const et_opt *o, int lam)
{
    char magic[8] = OPT_MAGIC;
    uint32_t ver = OPT_VERSION;
    uint64_t n = o->n;
    int32_t l = lam;
    et_ser_put(s, magic, sizeof magic);
    PUT(s, ver);
    et_ser_put(s, o->name, sizeof o->name);
    PUT(s, n);
    PUT(s, l);
}

/* Everything but the header, in one order for writing, reading and sizing. */
static void body(et_opt *o, et_ser *s, int load)
{
    size_t n = o->n, nb = n * sizeof(double);
#define F(v) (load ? GET(s, v) : PUT(s, v))
#define A(p, bytes) (load ? et_ser_get(s, p, bytes) : et_ser_put(s, p, bytes))
    F(o->p.seed);
    F(o->mu);
    F(o->gen);
    F(o->gen_local);
    F(o->evals);
    F(o->sigma);
    F(o->sigma0);
    F(o->sigma0_run);
    F(o->have_x0);
    A(o->x0, nb);
    A(o->m, nb);
    F(o->has_grid);
    A(o->step, nb);
    F(o->floor);
    F(o->margin);
    A(o->amarg, nb);
    F(o->best_f);
    F(o->have_best);
    A(o->best_x, nb);
    A(o->hist_best, o->hist_cap * sizeof(double));
    A(o->hist_med, o->hist_cap * sizeof(double));
    F(o->local_stop);
    F(o->restarts);
    F(o->last_restart_reason);
    F(o->bipop_large_runs);
    F(o->bipop_budget_small);
    F(o->bipop_budget_large);
    F(o->bipop_regime);
    F(o->evals_run_start);
#undef F
#undef A
    /* The checksum only says the bytes are ours; mu indexes the weights, so
     * a crafted value must stop here, before the backend uses it. */
    if (load && !s->err && (o->mu < 1 || o->mu > o->lambda)) {
        s->err = 2;
        return;
    }
    if (load)
        o->be->load(o, s);
    else
        o->be->save(o, s);
}

size_t et_opt_state_size(const et_opt *o)
{
    et_ser s = {0};
    header(&s, o, o->lambda);
    body((et_opt *)(uintptr_t)o, &s, 0);
    return s.pos;
}

int et_opt_save(const et_opt *o, void *buf, size_t size)
{
    if (!o || !buf) {
        oerr("save: NULL argument");
        return -1;
    }
    et_ser s = {.w = buf, .size = size};
    header(&s, o, o->lambda);
    body((et_opt *)(uintptr_t)o, &s, 0);
    if (s.err) {
        oerr("save: buffer of %zu bytes too small, need %zu", size, et_opt_state_size(o));
        return -1;
    }
    return 0;
}

int et_opt_load(et_opt *o, const void *buf, size_t size)
{
    if (!o || !buf) {
        oerr("load: NULL argument");
        return -1;
    }
    et_ser s = {.r = buf, .size = size};
    char magic[8], name[32];
    uint32_t ver;
    uint64_t n;
    int32_t lam;
    et_ser_get(&s, magic, sizeof magic);
    GET(&s, ver);
    et_ser_get(&s, name, sizeof name);
    GET(&s, n);
    GET(&s, lam);
    if (s.err || memcmp(magic, OPT_MAGIC, sizeof magic)) {
        oerr("load: not an optimizer state (bad magic or truncated header)");
        return -1;
    }
    if (ver != OPT_VERSION) {
        oerr("load: state version %u, this build reads version %u", ver, OPT_VERSION);
        return -1;
    }
    name[sizeof name - 1] = '\0';
    if (strcmp(name, o->name)) {
        oerr("load: state is for algorithm '%s', this optimizer is '%s'", name, o->name);
        return -1;
    }
    if (n != o->n) {
        oerr("load: state has dimension %llu, this optimizer has %zu", (unsigned long long)n, o->n);
        return -1;
    }
    if (lam < 2 || lam >= (1 << 20)) {
        oerr("load: corrupt state (population %d)", (int)lam);
        return -1;
    }
    /* Check the size before touching the handle, so a refused load leaves it intact. */
    int old = o->lambda;
    o->lambda = lam;
    size_t want = et_opt_state_size(o);
    o->lambda = old;
    if (size != want) {
        oerr("load: state is %zu bytes, expected %zu for %s with n = %zu, lambda = %d", size, want,
             o->name, o->n, (int)lam);
        return -1;
    }
    o->lambda = lam;
    if (ensure_cap(o) != 0)
        return -1;
    body(o, &s, 1);
    if (s.err == 2) {
        oerr("load: corrupt state (mu %d, lambda %d)", (int)o->mu, o->lambda);
        return -1;
    }
    if (s.err) {
        oerr("load: truncated state");
        return -1;
    }
    memset(o->have, 0, o->cap);
    return 0;
}
