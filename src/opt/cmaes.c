/* cmaes: full active CMA-ES, separable CMA-ES and LM-MA-ES as opt.h backends.
 *
 * Full CMA-ES follows Hansen's tutorial (arXiv 1604.00772, 2023 revision):
 * log weights with negative weights for the worse half (alpha_mu, alpha_mueff,
 * alpha_posdef limits), CSA, rank-one with h_sigma, rank-mu with the negative
 * steps rescaled by n / ||C^-1/2 y||^2, and pycma's lazy eigendecomposition gap
 * 1 / (c1 + cmu) / n / 10 generations. The covariance update is two dsyrk calls
 * (positive and negative weights) on the lower triangle, the decomposition is
 * LAPACK dsyevd. Sampling uses a hand-written kernel with a fixed summation
 * order, so that a candidate's bits are the same alone or in a batch. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include "cmaes.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum { FULL, SEP, LM };

typedef struct cma {
    int kind;
    size_t n, cap;
    /* strategy constants for the current lambda, mu */
    double *w; /* lambda weights: mu positive (sum 1), then <= 0 */
    double mueff, cs, ds, cc, c1, cmu, chin, sumw, gap;
    /* state */
    double *pc, *ps;
    double *C;  /* FULL: n x n, lower triangle valid; SEP: n diagonal */
    double *B;  /* FULL: eigenvectors, column-major */
    double *D;  /* FULL: sqrt of eigenvalues */
    double *BD; /* FULL: B diag(D), the sampling matrix */
    double *sd; /* marginal sd per coordinate (FULL: of B D^2 B^T; SEP: sqrt C) */
    uint64_t last_eigen;
    double cond;
    /* LM-MA-ES */
    size_t nvec;
    double *M, *cdv, *ccv, csig;
    /* scratch */
    double *P, *yw, *zw, *t1;
    double *work;
    int *iwork;
    lapack_int lwork, liwork;
} cma;

static cma *S(const et_opt *o)
{
    return o->st;
}

#define ROW_BLOCK 64

static void sample(const et_opt *o, size_t k0, size_t cnt, double *Z, double *Y)
{
    const cma *c = S(o);
    size_t n = o->n;
#pragma omp parallel for schedule(static) if (cnt * n > 20000)
    for (size_t k = 0; k < cnt; k++)
        et_opt_normals(o, k0 + k, Z + k * n);
    if (c->kind == FULL) {
        size_t nb = (n + ROW_BLOCK - 1) / ROW_BLOCK;
#pragma omp parallel for schedule(static) if (cnt * n * n > 200000)
        for (size_t b = 0; b < nb; b++) {
            size_t i0 = b * ROW_BLOCK, i1 = i0 + ROW_BLOCK < n ? i0 + ROW_BLOCK : n;
            et_cmaes_mat_times_rows(n, c->BD, cnt, Z, Y, i0, i1);
        }
    } else if (c->kind == SEP) {
        for (size_t k = 0; k < cnt; k++)
            for (size_t i = 0; i < n; i++)
                Y[k * n + i] = c->sd[i] * Z[k * n + i];
    } else {
        /* d = z, then d <- (1 - cd_j) d + cd_j M_j (M_j . d) for the vectors learned so far */
        size_t used = o->gen_local < c->nvec ? (size_t)o->gen_local : c->nvec;
#pragma omp parallel for schedule(static) if (cnt * n * used > 100000)
        for (size_t k = 0; k < cnt; k++) {
            double *d = Y + k * n;
            memcpy(d, Z + k * n, n * sizeof(double));
            for (size_t j = 0; j < used; j++) {
                const double *mj = c->M + j * n;
                double dot = 0;
                for (size_t i = 0; i < n; i++)
                    dot += mj[i] * d[i];
                double a = 1 - c->cdv[j], b = c->cdv[j] * dot;
                for (size_t i = 0; i < n; i++)
                    d[i] = a * d[i] + b * mj[i];
            }
        }
    }
}

/* ---- constants ---- */

/* Weights and learning rates for o->lambda, o->mu (tutorial, Table 1). The
 * negative weights are scaled by min(alpha_mu, alpha_mueff, alpha_posdef) with
 * the learning rates of the variant (SEP's are (n + 1.5) / 3 larger), which
 * keeps the diagonal positive under the rescaled negative update. */
static void constants(et_opt *o)
{
    cma *c = S(o);
    int lam = o->lambda, mu = o->mu;
    double n = (double)o->n;
    c->mueff = et_opt_weights(lam, mu, c->w);
    double mueff = c->mueff;
    c->c1 = 2.0 / ((n + 1.3) * (n + 1.3) + mueff);
    c->cmu = fmin(1 - c->c1, 2.0 * (0.25 + mueff + 1 / mueff - 2) / ((n + 2) * (n + 2) + mueff));
    if (c->kind == SEP) {
        double f = (n + 1.5) / 3;
        double c1 = fmin(1, c->c1 * f);
        c->cmu = fmin(1 - c1, c->cmu * f);
        c->c1 = c1;
    }
    /* raw negative log weights of the ranks past (lambda + 1) / 2 */
    double sneg = 0, sneg2 = 0;
    for (int i = mu; i < lam; i++) {
        double r = log((lam + 1) / 2.0) - log(i + 1.0);
        c->w[i] = r < 0 && o->p.active && c->kind != LM ? r : 0.0;
        sneg += c->w[i];
        sneg2 += c->w[i] * c->w[i];
    }
    c->sumw = 1.0;
    if (sneg < 0) {
        double mueffneg = sneg * sneg / sneg2;
        double amu = 1 + c->c1 / c->cmu;
        double amueff = 1 + 2 * mueffneg / (mueff + 2);
        double aposdef = (1 - c->c1 - c->cmu) / (n * c->cmu);
        double scale = fmin(amu, fmin(amueff, aposdef)) / -sneg;
        for (int i = mu; i < lam; i++)
            c->w[i] *= scale;
        c->sumw -= fmin(amu, fmin(amueff, aposdef));
    }
    /* pycma's +3 (the tutorial has +5): reproduces its sphere figures exactly */
    c->cs = (mueff + 2) / (n + mueff + 3);
    c->ds = 1 + 2 * fmax(0, sqrt((mueff - 1) / (n + 1)) - 1) + c->cs;
    c->cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
    c->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    c->gap = 1.0 / (c->c1 + c->cmu) / n / 10;
    if (c->kind == LM) {
        c->csig = fmin(1.0, 2.0 * lam / n);
        for (size_t j = 0; j < c->nvec; j++) {
            c->cdv[j] = fmin(1.0, 1.0 / (pow(1.5, (double)j) * n));
            c->ccv[j] = fmin(1.0, lam / (pow(4.0, (double)j) * n));
        }
    }
}

/* ---- alloc / start ---- */

static int init_kind(et_opt *o, int kind)
{
    size_t n = o->n;
    cma *c = et_calloc(1, sizeof *c);
    o->st = c;
    c->kind = kind;
    c->n = n;
    c->pc = et_calloc(n, sizeof(double));
    c->ps = et_calloc(n, sizeof(double));
    c->sd = et_calloc(n, sizeof(double));
    c->yw = et_calloc(n, sizeof(double));
    c->zw = et_calloc(n, sizeof(double));
    c->t1 = et_calloc(n, sizeof(double));
    if (kind == FULL) {
        if (n > 46000) {
            et_error(NULL, 0,
                     "optimizer: full CMA-ES at n = %zu needs n^2 memory; use "
                     "sep-cmaes or lm-maes",
                     n);
            return -1;
        }
        c->C = et_calloc(n * n, sizeof(double));
        c->B = et_calloc(n * n, sizeof(double));
        c->BD = et_calloc(n * n, sizeof(double));
        c->D = et_calloc(n, sizeof(double));
        double wq;
        lapack_int iq;
        lapack_int info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, c->B,
                                              (lapack_int)n, c->D, &wq, -1, &iq, -1);
        if (info != 0) {
            et_error(NULL, 0, "optimizer: LAPACK workspace query failed (info %d)", (int)info);
            return -1;
        }
        c->lwork = (lapack_int)wq;
        c->liwork = iq;
        c->work = et_calloc((size_t)c->lwork, sizeof(double));
        c->iwork = et_calloc((size_t)c->liwork, sizeof(int));
    } else if (kind == SEP) {
        c->C = et_calloc(n, sizeof(double));
    } else {
        c->nvec = (size_t)(4 + floor(3 * log((double)n)));
        c->M = et_calloc(c->nvec * n, sizeof(double));
        c->cdv = et_calloc(c->nvec, sizeof(double));
        c->ccv = et_calloc(c->nvec, sizeof(double));
    }
    return 0;
}

static int init_full(et_opt *o)
{
    return init_kind(o, FULL);
}
static int init_sep(et_opt *o)
{
    return init_kind(o, SEP);
}
static int init_lm(et_opt *o)
{
    return init_kind(o, LM);
}

static void cma_free(et_opt *o)
{
    cma *c = S(o);
    free(c->w);
    free(c->pc);
    free(c->ps);
    free(c->C);
    free(c->B);
    free(c->D);
    free(c->BD);
    free(c->sd);
    free(c->M);
    free(c->cdv);
    free(c->ccv);
    free(c->P);
    free(c->yw);
    free(c->zw);
    free(c->t1);
    free(c->work);
    free(c->iwork);
    free(c);
    o->st = NULL;
}

static int resize(et_opt *o)
{
    cma *c = S(o);
    free(c->w);
    free(c->P);
    c->cap = o->cap;
    c->w = et_calloc(c->cap, sizeof(double));
    c->P = et_calloc((c->cap + 1) * o->n, sizeof(double));
    return 0;
}

/* sd and BD from B and D: deterministic, so load can rebuild them. */
static void derive_full(cma *c)
{
    size_t n = c->n;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
            c->BD[j * n + i] = c->B[j * n + i] * c->D[j];
    for (size_t i = 0; i < n; i++)
        c->sd[i] = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
            c->sd[i] += c->BD[j * n + i] * c->BD[j * n + i];
    double dmin = INFINITY, dmax = 0;
    for (size_t i = 0; i < n; i++) {
        c->sd[i] = sqrt(c->sd[i]);
        if (!(c->sd[i] > 1e-300))
            c->sd[i] = 1e-300;
        dmin = fmin(dmin, c->D[i]);
        dmax = fmax(dmax, c->D[i]);
    }
    c->cond = dmax * dmax / (dmin * dmin);
}

/* SEP: sd and the condition number from the diagonal C. */
static void derive_sep(cma *c)
{
    double dmin = INFINITY, dmax = 0;
    for (size_t i = 0; i < c->n; i++) {
        c->sd[i] = sqrt(c->C[i]);
        dmin = fmin(dmin, c->C[i]);
        dmax = fmax(dmax, c->C[i]);
    }
    c->cond = dmax / dmin;
}

static int start(et_opt *o)
{
    cma *c = S(o);
    size_t n = o->n;
    memcpy(o->m, o->x0, n * sizeof(double));
    o->sigma = o->sigma0_run;
    constants(o);
    memset(c->pc, 0, n * sizeof(double));
    memset(c->ps, 0, n * sizeof(double));
    c->last_eigen = 0;
    c->cond = 1;
    for (size_t i = 0; i < n; i++)
        c->sd[i] = 1;
    if (c->kind == FULL) {
        memset(c->C, 0, n * n * sizeof(double));
        memset(c->B, 0, n * n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            c->C[i * n + i] = c->B[i * n + i] = 1;
            c->D[i] = 1;
        }
        derive_full(c);
    } else if (c->kind == SEP) {
        for (size_t i = 0; i < n; i++)
            c->C[i] = 1;
    } else {
        memset(c->M, 0, c->nvec * n * sizeof(double));
    }
    o->sd = c->kind == LM ? NULL : c->sd;
    return 0;
}

/* ---- update ---- */

static int eigen(cma *c)
{
    size_t n = c->n;
    /* dsyevd overwrites its input with the eigenvectors: decompose in B. */
    for (size_t j = 0; j < n; j++)
        memcpy(c->B + j * n + j, c->C + j * n + j, (n - j) * sizeof(double));
    lapack_int info =
        LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, c->B, (lapack_int)n, c->D,
                            c->work, c->lwork, c->iwork, c->liwork);
    double emax = n ? c->D[n - 1] : 0;
    if (info != 0 || !isfinite(emax) || !(emax > 0)) {
        /* keep sampling from the previous decomposition: B = BD / D */
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++)
                c->B[j * n + i] = c->BD[j * n + i] / c->D[j];
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double e = c->D[i];
        c->D[i] = sqrt(e > emax * 1e-300 ? e : emax * 1e-300);
    }
    derive_full(c);
    return 0;
}

/* The weighted means of the selected y and z, and the mean update from the
 * actual steps x - m (which include the integer-handling widening A). */
static void recombine(et_opt *o)
{
    cma *c = S(o);
    size_t n = o->n;
    memset(c->yw, 0, n * sizeof(double));
    memset(c->zw, 0, n * sizeof(double));
    memset(c->t1, 0, n * sizeof(double));
    for (int r = 0; r < o->mu; r++) {
        size_t k = o->order[r];
        double w = c->w[r];
        const double *y = o->Y + k * n, *z = o->Z + k * n, *x = o->X + k * n;
        for (size_t i = 0; i < n; i++) {
            c->yw[i] += w * y[i];
            c->zw[i] += w * z[i];
            c->t1[i] += w * (x[i] - o->m[i]);
        }
    }
    /* A mean learning rate below 1 averages the selected steps over about
     * 1 / mean_lr generations: on a noisy objective (minibatch fitness) the
     * noise in each generation's selection then cancels out. */
    double cm = o->p.mean_lr > 0 ? o->p.mean_lr : 1.0;
    for (size_t i = 0; i < n; i++)
        o->m[i] += cm * c->t1[i];
}

static double norm2(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return s;
}

/* The rows of the covariance update in c->P: mu rows sqrt(w) y and one
 * sqrt(c1/cmu) pc (*kp_out of them), then the *kn_out negative rows, each
 * rescaled by n / ||z||^2. */
static void update_rows(et_opt *o, size_t *kp_out, size_t *kn_out)
{
    cma *c = S(o);
    size_t n = o->n, lam = (size_t)o->lambda, kp = 0, kn = 0;
    double *P = c->P;
    for (int r = 0; r < o->mu; r++) {
        double s = sqrt(c->w[r]);
        const double *y = o->Y + o->order[r] * n;
        for (size_t i = 0; i < n; i++)
            P[kp * n + i] = s * y[i];
        kp++;
    }
    double s1 = sqrt(c->c1 / c->cmu);
    for (size_t i = 0; i < n; i++)
        P[kp * n + i] = s1 * c->pc[i];
    kp++;
    double *N = P + kp * n;
    for (size_t r = (size_t)o->mu; r < lam; r++) {
        if (!(c->w[r] < 0))
            continue;
        size_t k = o->order[r];
        double z2 = norm2(o->Z + k * n, n);
        double wo = -c->w[r] * (z2 > 0 ? (double)n / z2 : 0);
        double s = sqrt(wo);
        const double *y = o->Y + k * n;
        for (size_t i = 0; i < n; i++)
            N[kn * n + i] = s * y[i];
        kn++;
    }
    *kp_out = kp;
    *kn_out = kn;
}

static int update_cma(et_opt *o)
{
    cma *c = S(o);
    size_t n = o->n;
    recombine(o);
    /* ps uses C^-1/2 <y>_w = B <z>_w (B of the decomposition the samples came from) */
    double a = sqrt(c->cs * (2 - c->cs) * c->mueff);
    if (c->kind == FULL)
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)n, 1.0, c->B, (int)n, c->zw, 1, 0.0,
                    c->t1, 1);
    else
        memcpy(c->t1, c->zw, n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        c->ps[i] = (1 - c->cs) * c->ps[i] + a * c->t1[i];
    double psn = sqrt(norm2(c->ps, n));
    double hs_den = sqrt(1 - pow(1 - c->cs, 2.0 * (double)o->gen_local));
    int hsig = psn / (hs_den > 0 ? hs_den : 1) < (1.4 + 2 / ((double)n + 1)) * c->chin;
    double ac = hsig ? sqrt(c->cc * (2 - c->cc) * c->mueff) : 0;
    for (size_t i = 0; i < n; i++)
        c->pc[i] = (1 - c->cc) * c->pc[i] + ac * c->yw[i];
    double beta = 1 + c->c1 * (hsig ? 0 : c->cc * (2 - c->cc)) - c->c1 - c->cmu * c->sumw;

    size_t kp, kn;
    update_rows(o, &kp, &kn);
    double *P = c->P, *N = P + kp * n;
    if (c->kind == FULL) {
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)n, (int)kp, c->cmu, P, (int)n,
                    beta, c->C, (int)n);
        if (kn)
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)n, (int)kn, -c->cmu, N,
                        (int)n, 1.0, c->C, (int)n);
    } else {
        for (size_t i = 0; i < n; i++) {
            double pos = 0, neg = 0;
            for (size_t r = 0; r < kp; r++)
                pos += P[r * n + i] * P[r * n + i];
            for (size_t r = 0; r < kn; r++)
                neg += N[r * n + i] * N[r * n + i];
            double v = beta * c->C[i] + c->cmu * (pos - neg);
            c->C[i] = v > 1e-300 ? v : 1e-300;
        }
    }
    double e = fmin(1.0, c->cs / c->ds * (psn / c->chin - 1));
    o->sigma *= exp(e);
    if (!(o->sigma > 1e-300))
        o->sigma = 1e-300;
    if (!isfinite(o->sigma) || !isfinite(psn))
        return -1;
    if (c->kind == FULL) {
        if ((double)(o->gen_local - c->last_eigen) > c->gap) {
            c->last_eigen = o->gen_local;
            if (eigen(c) != 0)
                return -1;
        }
    } else {
        derive_sep(c);
    }
    return 0;
}

/* LM-MA-ES (Loshchilov, Glasmachers, Beyer 2017, Algorithm 1). */
static int update_lm(et_opt *o)
{
    cma *c = S(o);
    size_t n = o->n;
    recombine(o);
    double a = sqrt(c->mueff * c->csig * (2 - c->csig));
    for (size_t i = 0; i < n; i++)
        c->ps[i] = (1 - c->csig) * c->ps[i] + a * c->zw[i];
    for (size_t j = 0; j < c->nvec; j++) {
        double *mj = c->M + j * n, cj = c->ccv[j];
        double b = sqrt(c->mueff * cj * (2 - cj));
        for (size_t i = 0; i < n; i++)
            mj[i] = (1 - cj) * mj[i] + b * c->zw[i];
    }
    double e = fmin(1.0, c->csig / 2 * (norm2(c->ps, n) / (double)n - 1));
    o->sigma *= exp(e);
    if (!(o->sigma > 1e-300))
        o->sigma = 1e-300;
    return isfinite(o->sigma) ? 0 : -1;
}

static int update(et_opt *o)
{
    return S(o)->kind == LM ? update_lm(o) : update_cma(o);
}

/* ---- termination ---- */

static et_opt_stop stop(const et_opt *o)
{
    const cma *c = S(o);
    size_t n = o->n;
    double s = o->sigma;
    if (c->kind == LM) {
        if (s < o->p.tolx)
            return ET_OPT_STOP_TOLX;
        if (s / o->sigma0_run > o->p.tolupsigma)
            return ET_OPT_STOP_TOLUPSIGMA;
        return ET_OPT_RUNNING;
    }
    int tolx = 1;
    double dmax = 0;
    for (size_t i = 0; i < n; i++) {
        double cii = c->kind == FULL ? c->C[i * n + i] : c->C[i];
        double sdi = sqrt(cii);
        if (s * fmax(fabs(c->pc[i]), sdi) >= o->p.tolx)
            tolx = 0;
        dmax = fmax(dmax, sdi);
    }
    if (tolx)
        return ET_OPT_STOP_TOLX;
    if (c->cond > o->p.max_condition)
        return ET_OPT_STOP_CONDITION;
    if (s / o->sigma0_run > o->p.tolupsigma * dmax)
        return ET_OPT_STOP_TOLUPSIGMA;
    if (c->kind == FULL) {
        size_t ax = (size_t)(o->gen_local % n);
        int same = 1;
        for (size_t i = 0; i < n && same; i++)
            if (o->m[i] != o->m[i] + 0.1 * s * c->BD[ax * n + i])
                same = 0;
        if (same)
            return ET_OPT_STOP_NOEFFECTAXIS;
    }
    for (size_t i = 0; i < n; i++) {
        double cii = c->kind == FULL ? c->C[i * n + i] : c->C[i];
        if (o->m[i] == o->m[i] + 0.2 * s * sqrt(cii))
            return ET_OPT_STOP_NOEFFECTCOORD;
    }
    return ET_OPT_RUNNING;
}

/* ---- save / load ---- */

/* The state in one order for saving and loading: ps, then LM's directions,
 * or pc and C (FULL: also B, D and the decomposition's generation). Loading
 * rebuilds what derives from them. */
static void state_io(et_opt *o, et_ser *s, int load)
{
    cma *c = S(o);
    size_t n = o->n, nb = n * sizeof(double);
#define IO(p, bytes) (load ? et_ser_get(s, p, bytes) : et_ser_put(s, p, bytes))
    if (load) {
        constants(o);
        o->sd = c->kind == LM ? NULL : c->sd;
    }
    IO(c->ps, nb);
    if (c->kind == LM) {
        IO(c->M, c->nvec * nb);
        return;
    }
    IO(c->pc, nb);
    if (c->kind == SEP) {
        IO(c->C, nb);
        if (load)
            derive_sep(c);
        return;
    }
    IO(c->C, n * nb);
    IO(c->B, n * nb);
    IO(c->D, nb);
    IO(&c->last_eigen, sizeof c->last_eigen);
#undef IO
    if (load)
        derive_full(c);
}

static void save(const et_opt *o, et_ser *s)
{
    state_io((et_opt *)(uintptr_t)o, s, 0);
}

static void load(et_opt *o, et_ser *s)
{
    state_io(o, s, 1);
}

const et_opt_backend et_opt_be_cmaes = {"cmaes", init_full, cma_free, resize, start,
                                        sample,  update,    stop,     save,   load};
const et_opt_backend et_opt_be_sepcmaes = {"sep-cmaes", init_sep, cma_free, resize, start,
                                           sample,      update,   stop,     save,   load};
const et_opt_backend et_opt_be_lmmaes = {"lm-maes", init_lm, cma_free, resize, start,
                                         sample,    update,  stop,     save,   load};
