/* randsearch: random search backends of opt.h.
 *
 * "rs-1+lambda": an elitist (1+lambda) search with isotropic Gaussian steps and
 * the smoothed success rule of the (1+lambda)-CMA-ES (Igel, Hansen, Roth 2007):
 * p_succ <- (1 - c_p) p_succ + c_p lambda_succ / lambda, sigma <- sigma
 * exp((p_succ - p_target) / (d (1 - p_target))), p_target = 1 / (5 + sqrt(lambda)
 * / 2). The start point is not evaluated: the first generation's best becomes
 * the parent.
 *
 * "rs-mu,lambda" / "rs-antithetic": a (mu/mu_w, lambda) search with mirrored
 * pairs (candidate 2j + 1 steps by minus the step of 2j, halving the variance
 * of the mean's drift on symmetric landscapes) and cumulative step-size
 * adaptation. No covariance: a baseline, and robust on plateaus. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include "randsearch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct rs {
    int plus;
    double fp; /* parent fitness (1+lambda), +inf before the first tell */
    double psucc, ptarget, cp, d;
    double *w, mueff, cs, ds, chin;
    double *ps, *t;
    size_t cap;
} rs;

static rs *R(const et_opt *o)
{
    return o->st;
}

static int init_kind(et_opt *o, int plus)
{
    rs *r = et_calloc(1, sizeof *r);
    o->st = r;
    r->plus = plus;
    r->ps = et_calloc(o->n, sizeof(double));
    r->t = et_calloc(o->n, sizeof(double));
    return 0;
}

static int init_plus(et_opt *o)
{
    return init_kind(o, 1);
}
static int init_comma(et_opt *o)
{
    return init_kind(o, 0);
}

static void rs_free(et_opt *o)
{
    rs *r = R(o);
    free(r->w);
    free(r->ps);
    free(r->t);
    free(r);
    o->st = NULL;
}

static int resize(et_opt *o)
{
    rs *r = R(o);
    free(r->w);
    r->cap = o->cap;
    r->w = et_calloc(r->cap, sizeof(double));
    return 0;
}

static void constants(et_opt *o)
{
    rs *r = R(o);
    double n = (double)o->n, lam = o->lambda;
    r->ptarget = 1 / (5 + sqrt(lam) / 2);
    r->cp = r->ptarget * lam / (2 + r->ptarget * lam);
    r->d = 1 + n / (2 * lam);
    r->mueff = et_opt_weights(o->lambda, o->mu, r->w);
    r->cs = (r->mueff + 2) / (n + r->mueff + 5);
    r->ds = 1 + 2 * fmax(0, sqrt((r->mueff - 1) / (n + 1)) - 1) + r->cs;
    r->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
}

static int start(et_opt *o)
{
    rs *r = R(o);
    memcpy(o->m, o->x0, o->n * sizeof(double));
    o->sigma = o->sigma0_run;
    o->sd = NULL;
    constants(o);
    r->fp = INFINITY;
    r->psucc = r->ptarget;
    memset(r->ps, 0, o->n * sizeof(double));
    return 0;
}

static void sample(const et_opt *o, size_t k0, size_t cnt, double *Z, double *Y)
{
    et_opt_sample_pairs(o, k0, cnt, !R(o)->plus, Z, Y);
}

static int update(et_opt *o)
{
    rs *r = R(o);
    size_t n = o->n, lam = (size_t)o->lambda;
    if (r->plus) {
        size_t succ = 0;
        for (size_t k = 0; k < lam; k++)
            succ += o->fit[k] <= r->fp;
        size_t b = o->order[0];
        if (o->fit[b] <= r->fp) {
            r->fp = o->fit[b];
            memcpy(o->m, o->X + b * n, n * sizeof(double));
        }
        if (isfinite(r->fp) || o->gen_local > 1) {
            r->psucc = (1 - r->cp) * r->psucc + r->cp * (double)succ / (double)lam;
            o->sigma *= exp((r->psucc - r->ptarget) / (r->d * (1 - r->ptarget)));
        }
    } else {
        memset(r->t, 0, n * sizeof(double));
        for (int q = 0; q < o->mu; q++) {
            const double *z = o->Z + o->order[q] * n;
            for (size_t i = 0; i < n; i++)
                r->t[i] += r->w[q] * z[i];
        }
        for (size_t i = 0; i < n; i++) {
            double step = 0;
            for (int q = 0; q < o->mu; q++) {
                size_t k = o->order[q];
                step += r->w[q] * (o->X[k * n + i] - o->m[i]);
            }
            o->m[i] += step;
        }
        double a = sqrt(r->cs * (2 - r->cs) * r->mueff), s2 = 0;
        for (size_t i = 0; i < n; i++) {
            r->ps[i] = (1 - r->cs) * r->ps[i] + a * r->t[i];
            s2 += r->ps[i] * r->ps[i];
        }
        o->sigma *= exp(fmin(1.0, r->cs / r->ds * (sqrt(s2) / r->chin - 1)));
    }
    if (!(o->sigma > 1e-300))
        o->sigma = 1e-300;
    return isfinite(o->sigma) ? 0 : -1;
}

static et_opt_stop stop(const et_opt *o)
{
    if (o->sigma < o->p.tolx)
        return ET_OPT_STOP_TOLX;
    if (o->sigma / o->sigma0_run > o->p.tolupsigma)
        return ET_OPT_STOP_TOLUPSIGMA;
    return ET_OPT_RUNNING;
}

static void save(const et_opt *o, et_ser *s)
{
    const rs *r = R(o);
    et_ser_put(s, &r->fp, sizeof r->fp);
    et_ser_put(s, &r->psucc, sizeof r->psucc);
    et_ser_put(s, r->ps, o->n * sizeof(double));
}

static void load(et_opt *o, et_ser *s)
{
    rs *r = R(o);
    constants(o);
    o->sd = NULL;
    et_ser_get(s, &r->fp, sizeof r->fp);
    et_ser_get(s, &r->psucc, sizeof r->psucc);
    et_ser_get(s, r->ps, o->n * sizeof(double));
}

const et_opt_backend et_opt_be_rs1plus = {"rs-1+lambda", init_plus, rs_free, resize, start,
                                          sample,        update,    stop,    save,   load};
const et_opt_backend et_opt_be_rscomma = {"rs-mu,lambda", init_comma, rs_free, resize, start,
                                          sample,         update,     stop,    save,   load};
