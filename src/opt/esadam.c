/* esadam: an evolution-strategy gradient with Adam steps, a backend of opt.h.
 *
 * "es-adam" (Salimans et al. 2017, "Evolution Strategies as a Scalable
 * Alternative to Reinforcement Learning", with mirrored sampling and centred
 * ranks): candidates come in mirrored pairs x = m +- s z, s the per-coordinate
 * sampling deviation (sigma, or the step floor where that is larger). The
 * ranks of all lambda candidates, centred to utilities in [-1/2, 1/2], weight
 * the steps into a search-gradient estimate g = sum_k u_k z_k / lambda, and
 * Adam (Kingma and Ba 2015) turns the stream of estimates into mean updates
 * m_i += mean_lr * s_i * mhat_i / (sqrt(vhat_i) + eps).
 *
 * Why next to CMA-ES: on a noisy objective (the trainer's minibatches) CMA's
 * step-size control collapses sigma and leaves only the floor, and its mean
 * uses the better half of each generation alone. Here every candidate's rank
 * counts, mirrored pairs cancel the noise common to a pair, and Adam's moment
 * averages the estimates over about ten generations. sigma stays where it was
 * set; the trainer's decaying floor is the step-size schedule. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include "esadam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct esa {
    double *mo, *v, *g, *u; /* Adam moments, gradient, utilities */
    double t;               /* Adam steps taken */
    size_t cap;
} esa;

static const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;

static esa *E(const et_opt *o)
{
    return o->st;
}

static int init(et_opt *o)
{
    esa *e = et_calloc(1, sizeof *e);
    o->st = e;
    e->mo = et_calloc(o->n, sizeof(double));
    e->v = et_calloc(o->n, sizeof(double));
    e->g = et_calloc(o->n, sizeof(double));
    return 0;
}

static void esa_free(et_opt *o)
{
    esa *e = E(o);
    free(e->mo);
    free(e->v);
    free(e->g);
    free(e->u);
    free(e);
    o->st = NULL;
}

static int resize(et_opt *o)
{
    esa *e = E(o);
    free(e->u);
    e->cap = o->cap;
    e->u = et_calloc(e->cap, sizeof(double));
    return 0;
}

static int start(et_opt *o)
{
    esa *e = E(o);
    memcpy(o->m, o->x0, o->n * sizeof(double));
    o->sigma = o->sigma0_run;
    o->sd = NULL;
    memset(e->mo, 0, o->n * sizeof(double));
    memset(e->v, 0, o->n * sizeof(double));
    e->t = 0;
    return 0;
}

/* Mirrored pairs: candidate 2j + 1 is candidate 2j reflected through m. */
static void sample(const et_opt *o, size_t k0, size_t cnt, double *Z, double *Y)
{
    et_opt_sample_pairs(o, k0, cnt, 1, Z, Y);
}

/* The sampling deviation of coordinate i, as et_opt_generate() in opt.c applies it. */
static double dev(const et_opt *o, size_t i)
{
    double s = o->sigma * o->amarg[i];
    if (o->has_grid && o->step[i] > 0)
        s = fmax(s, o->floor * o->step[i]);
    return s;
}

static int update(et_opt *o)
{
    esa *e = E(o);
    size_t n = o->n, lam = (size_t)o->lambda;
    /* Centred ranks: the best gets +1/2, the worst -1/2, whatever the scale
     * of the fitness values (and NaN, ranked last, just counts as worst). */
    for (size_t r = 0; r < lam; r++)
        e->u[o->order[r]] = lam > 1 ? 0.5 - (double)r / (double)(lam - 1) : 0;
    memset(e->g, 0, n * sizeof(double));
    for (size_t k = 0; k < lam; k++) {
        const double *x = o->X + k * n;
        double uk = e->u[k] / (double)lam;
        for (size_t i = 0; i < n; i++)
            e->g[i] += uk * (x[i] - o->m[i]) / dev(o, i);
    }
    e->t += 1;
    double c1 = 1 - pow(beta1, e->t), c2 = 1 - pow(beta2, e->t);
    double lr = o->p.mean_lr > 0 ? o->p.mean_lr : 1.0;
    for (size_t i = 0; i < n; i++) {
        e->mo[i] = beta1 * e->mo[i] + (1 - beta1) * e->g[i];
        e->v[i] = beta2 * e->v[i] + (1 - beta2) * e->g[i] * e->g[i];
        o->m[i] += lr * dev(o, i) * (e->mo[i] / c1) / (sqrt(e->v[i] / c2) + eps);
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(o->m[i]))
            return -1;
    return 0;
}

static et_opt_stop stop(const et_opt *o)
{
    (void)o;
    return ET_OPT_RUNNING; /* a fixed-step method: the budget ends it */
}

static void save(const et_opt *o, et_ser *s)
{
    const esa *e = E(o);
    et_ser_put(s, &e->t, sizeof e->t);
    et_ser_put(s, e->mo, o->n * sizeof(double));
    et_ser_put(s, e->v, o->n * sizeof(double));
}

static void load(et_opt *o, et_ser *s)
{
    esa *e = E(o);
    o->sd = NULL;
    et_ser_get(s, &e->t, sizeof e->t);
    et_ser_get(s, e->mo, o->n * sizeof(double));
    et_ser_get(s, e->v, o->n * sizeof(double));
}

const et_opt_backend et_opt_be_esadam = {"es-adam", init,   esa_free, resize, start,
                                         sample,    update, stop,     save,   load};
