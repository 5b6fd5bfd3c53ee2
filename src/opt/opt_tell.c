/* opt_tell: tell and what it runs for every backend: ranking, the margin
 * correction, the termination tests and the IPOP/BIPOP restarts. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "et_rng.h"
#include "util.h"

/* Below this a scale is treated as this: keeps A = floor / scale finite. */
#define TINY_SCALE 1e-280

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
        o->margin = et_opt_default_margin(o);
    if (et_opt_ensure_cap(o) != 0)
        return -1;
    memset(o->have, 0, o->cap);
    return o->be->start(o) != 0 ? -1 : 0;
}

int et_opt_tell(et_opt *o, const double *f, size_t count)
{
    if (!et_opt_ready(o, "tell"))
        return -1;
    size_t lam = (size_t)o->lambda, n = o->n;
    if (!f || count != lam) {
        et_opt_err("tell: %zu fitness values given, lambda is %zu", count, lam);
        return -1;
    }
    size_t nan = 0;
    for (size_t k = 0; k < lam; k++)
        nan += isnan(f[k]) != 0;
    if (nan == lam) {
        et_opt_err("tell: every fitness value is NaN; nothing to rank");
        return -1;
    }
    for (size_t k = 0; k < lam; k++)
        if (!o->have[k])
            et_opt_generate(o, k, 1);
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
