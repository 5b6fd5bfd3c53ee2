/* fitness: genome -> integer network -> loss on a minibatch, in physical units. */
#include "fitness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "util.h"

#define MAXH 256 /* features of the ridge fit: last hidden width + 1 */
#define NB 256   /* samples per block of the normal sums */

typedef struct ws {
    et_net *net;
    et_batch_ws *bws;
    uint8_t *H;     /* last hidden activations [nh][ld] */
    int16_t *Y;     /* outputs [n_out][ld] */
    double *A;      /* normal matrix (nh + 1)^2, then its Cholesky factor */
    int64_t *G, *R; /* exact integer sums for the normal equations */
    int16_t *Wb;    /* a block of activations and targets as int16 */
} ws;

struct et_fitness {
    const et_genome *g;
    unsigned n_in, n_out, nh, nl;
    /* weight[k] * (100 / inv_scale[k])^2: the loss is sum wss[k] * ss[k] /
     * (n 10^4), which for 0.01 steps (inv_scale 100) is the same bits as
     * the weight itself. */
    double wss[ET_MAX_OUTPUTS], inv_scale[ET_MAX_OUTPUTS];
    unsigned n_groups;
    uint64_t group[ET_MAX_GROUPS];
    int classify, class_loss;
    double cw[ET_MAX_OUTPUTS]; /* class weights */
    double alpha;
    size_t max_batch;
    /* Row stride of H and Y: max_batch plus a cache line, so that rows are
     * not a multiple of 4 KiB apart (they would all compete for the same
     * L1 sets: about 4% of the time at max_batch = 16384). */
    size_t ld;
    int threads;
    ws *w;
};

et_fitness *et_fitness_alloc(const et_genome *g, const et_loss_spec *spec, double ridge_alpha,
                             size_t max_batch, int threads)
{
    et_fitness *f = et_calloc(1, sizeof *f);
    f->g = g;
    f->nl = g->n_layers;
    f->n_in = g->sizes[0];
    f->n_out = g->sizes[g->n_layers];
    f->nh = g->sizes[g->n_layers - 1];
    for (unsigned k = 0; k < f->n_out && k < ET_MAX_OUTPUTS; k++) {
        f->inv_scale[k] = spec->inv_scale ? spec->inv_scale[k] : 100.0;
        double r = 100.0 / f->inv_scale[k];
        f->wss[k] = spec->weight[k] * (r * r);
    }
    f->n_groups = spec->n_groups < ET_MAX_GROUPS ? spec->n_groups : ET_MAX_GROUPS;
    for (unsigned i = 0; i < f->n_groups; i++)
        f->group[i] = spec->group[i];
    f->classify = spec->classify;
    f->class_loss = spec->class_loss;
    for (unsigned k = 0; k < f->n_out && k < ET_MAX_OUTPUTS; k++)
        f->cw[k] = spec->classify && spec->class_weight ? spec->class_weight[k] : 1.0;
    f->alpha = ridge_alpha;
    f->max_batch = max_batch;
    f->ld = max_batch + 64;
    f->threads = threads < 1 ? 1 : threads;
    f->w = et_calloc((size_t)f->threads, sizeof *f->w);
    unsigned widest = 0;
    for (unsigned l = 0; l <= g->n_layers; l++)
        widest = g->sizes[l] > widest ? g->sizes[l] : widest;
    size_t p = f->nh + 1;
    for (int t = 0; t < f->threads; t++) {
        ws *w = &f->w[t];
        w->net = et_net_alloc(g->sizes, g->n_layers);
        et_net_set_wfmt_all(w->net, g);
        w->bws = et_batch_ws_alloc(EVONET_PAD(widest));
        w->H = et_malloc((size_t)f->nh * f->ld);
        w->Y = et_malloc(sizeof(int16_t) * f->n_out * f->ld);
        w->A = et_malloc(sizeof(double) * p * p);
        w->G = et_malloc(sizeof(int64_t) * p * p);
        w->R = et_malloc(sizeof(int64_t) * p * f->n_out);
        w->Wb = aligned_alloc(64, sizeof(int16_t) * NB * (f->nh + f->n_out));
        if (!w->Wb) {
            et_error(NULL, 0, "out of memory (fitness workspace)");
            exit(ET_EXIT_INPUT);
        }
    }
    return f;
}

void et_fitness_free(et_fitness *f)
{
    if (!f)
        return;
    for (int t = 0; t < f->threads; t++) {
        ws *w = &f->w[t];
        et_net_free(w->net);
        et_batch_ws_free(w->bws);
        free(w->H);
        free(w->Y);
        free(w->A);
        free(w->G);
        free(w->R);
        free(w->Wb);
    }
    free(f->w);
    free(f);
}

/* Sums of one block of NB samples (NB known at compile time, so the
 * compiler vectorises the products of 8-bit activations). */
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) static void
normal_block(const uint8_t *H, size_t ldh, unsigned nh, const int32_t *T, size_t ldt, unsigned no,
             size_t cnt, int64_t *G, int64_t *R)
{
    unsigned p = nh + 1;
    for (unsigned i = 0; i < nh; i++) {
        const uint8_t *hi = H + (size_t)i * ldh;
        int32_t acc = 0;
        for (size_t s = 0; s < NB; s++)
            acc += s < cnt ? hi[s] : 0;
        G[i * p + nh] += acc;
        for (unsigned j = i; j < nh; j++) {
            const uint8_t *hj = H + (size_t)j * ldh;
            int32_t a = 0;
            if (cnt == NB)
                for (size_t s = 0; s < NB; s++)
                    a += hi[s] * hj[s];
            else
                for (size_t s = 0; s < cnt; s++)
                    a += hi[s] * hj[s];
            G[i * p + j] += a;
        }
        for (unsigned k = 0; k < no; k++) {
            const int32_t *t = T + (size_t)k * ldt;
            int32_t a = 0;
            if (cnt == NB)
                for (size_t s = 0; s < NB; s++)
                    a += hi[s] * t[s];
            else
                for (size_t s = 0; s < cnt; s++)
                    a += hi[s] * t[s];
            R[i * no + k] += a;
        }
    }
    for (unsigned k = 0; k < no; k++) {
        const int32_t *t = T + (size_t)k * ldt;
        int64_t a = 0;
        for (size_t s = 0; s < cnt; s++)
            a += t[s];
        R[nh * no + k] += a;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ET_HAVE_NORMAL_BW 1

/* Sum over V vectors of a[v] . b[v * bstep], pairs of 16-bit products per
 * 32-bit lane (bstep 0: b is one vector, e.g. all ones for a plain sum). */
__attribute__((target("avx512f,avx512bw"))) static inline int32_t
dot_bw(const __m512i *a, const __m512i *b, size_t bstep, unsigned V)
{
    __m512i acc = _mm512_setzero_si512();
    for (unsigned v = 0; v < V; v++)
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(a[v], b[v * bstep]));
    return _mm512_reduce_add_epi32(acc);
}

/* normal_block on a full block with AVX-512BW's VPMADDWD: activations
 * (0..255) and targets (int16: run.c clamps them to the outputs' range) as
 * 16-bit lanes, two products summed exactly per 32-bit lane, so every sum is
 * the same integer as normal_block's. W: room for (nh + no) * NB int16,
 * 64-byte aligned. */
__attribute__((target("avx512f,avx512bw"))) static void
normal_block_bw(const uint8_t *H, size_t ldh, unsigned nh, const int32_t *T, size_t ldt,
                unsigned no, int64_t *G, int64_t *R, int16_t *W)
{
    enum { V = NB / 32 };
    unsigned p = nh + 1;
    __m512i *w = (__m512i *)(void *)W, *t = w + (size_t)nh * V;
    for (unsigned i = 0; i < nh; i++)
        for (unsigned v = 0; v < V; v++)
            w[i * V + v] = _mm512_cvtepu8_epi16(
                _mm256_loadu_si256((const void *)(H + (size_t)i * ldh + 32 * v)));
    for (unsigned k = 0; k < no; k++)
        for (unsigned v = 0; v < V; v++) {
            const int32_t *tk = T + (size_t)k * ldt + 32 * v;
            __m256i a = _mm512_cvtepi32_epi16(_mm512_loadu_si512((const void *)tk));
            __m256i b = _mm512_cvtepi32_epi16(_mm512_loadu_si512((const void *)(tk + 16)));
            t[k * V + v] = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
        }
    const __m512i one = _mm512_set1_epi16(1);
    for (unsigned i = 0; i < nh; i++) {
        const __m512i *hi = w + (size_t)i * V;
        G[i * p + nh] += dot_bw(hi, &one, 0, V);
        for (unsigned j = i; j < nh; j++)
            G[i * p + j] += dot_bw(hi, w + (size_t)j * V, 1, V);
        for (unsigned k = 0; k < no; k++)
            R[i * no + k] += dot_bw(hi, t + (size_t)k * V, 1, V);
    }
    for (unsigned k = 0; k < no; k++)
        R[nh * no + k] += dot_bw(t + (size_t)k * V, &one, 0, V);
}

#endif

/* The exact normal equations of the last layer: G = sum h h^T and R = sum h
 * t^T over the minibatch, h = (activations, 1). Integer sums are exact and
 * order-free; int32 partial sums over blocks of 256 samples cannot overflow
 * (255 * 255 * 256 and 255 * 32767 * 256 are below 2^31). */
static void normal_sums(const et_fitness *f, ws *w, const et_data *d)
{
    unsigned nh = f->nh, p = nh + 1, no = f->n_out;
    size_t n = d->n, ld = f->ld;
    memset(w->G, 0, sizeof(int64_t) * p * p);
    memset(w->R, 0, sizeof(int64_t) * p * no);
    for (size_t s0 = 0; s0 < n; s0 += NB) {
        size_t cnt = n - s0 < NB ? n - s0 : NB;
#ifdef ET_HAVE_NORMAL_BW
        if (cnt == NB && et_batch_avx512bw()) {
            normal_block_bw(w->H + s0, ld, nh, d->T + s0, d->ld, no, w->G, w->R, w->Wb);
            continue;
        }
#endif
        normal_block(w->H + s0, ld, nh, d->T + s0, d->ld, no, cnt, w->G, w->R);
    }
    w->G[nh * p + nh] = (int64_t)n;
}

/* The ridge system is (nh + 1)^2, 17 x 17 for the pose network, solved
 * once per candidate. By hand rather than through GSL: GSL's Cholesky goes
 * through the linked CBLAS, and OpenBLAS's level-2 routines take a global
 * lock for their buffers, which cost 8% of a 2-thread run in contention.
 * A: row-major, lower triangle used and overwritten by L (A = L L^T).
 * Returns -1 if A is not positive definite. */
static int cholesky(double *A, unsigned p)
{
    for (unsigned j = 0; j < p; j++) {
        double dj = A[j * p + j];
        for (unsigned k = 0; k < j; k++)
            dj -= A[j * p + k] * A[j * p + k];
        if (!(dj > 0))
            return -1;
        dj = sqrt(dj);
        A[j * p + j] = dj;
        for (unsigned i = j + 1; i < p; i++) {
            double v = A[i * p + j];
            for (unsigned k = 0; k < j; k++)
                v -= A[i * p + k] * A[j * p + k];
            A[i * p + j] = v / dj;
        }
    }
    return 0;
}

/* b <- (L L^T)^-1 b for the factor of cholesky(). */
static void cholesky_solve(const double *L, unsigned p, double *b)
{
    for (unsigned i = 0; i < p; i++) {
        double v = b[i];
        for (unsigned k = 0; k < i; k++)
            v -= L[i * p + k] * b[k];
        b[i] = v / L[i * p + i];
    }
    for (unsigned i = p; i-- > 0;) {
        double v = b[i];
        for (unsigned k = i + 1; k < p; k++)
            v -= L[k * p + i] * b[k];
        b[i] = v / L[i * p + i];
    }
}

/* Fits and quantizes the last layer of w->net from w->H on d. */
static void fit_output(const et_fitness *f, ws *w, const et_data *d)
{
    unsigned nh = f->nh, p = nh + 1, no = f->n_out, l = f->nl - 1;
    normal_sums(f, w, d);
    double tr = 0;
    for (unsigned i = 0; i < nh; i++)
        tr += (double)w->G[i * p + i];
    /* Ridge on the weights only, never the intercept; a dead unit (all-zero
     * column) makes the plain normal matrix singular, the ridge does not. */
    double lam = f->alpha * (tr / nh) + 1e-9;
    double *A = w->A;
    for (unsigned i = 0; i < p; i++)
        for (unsigned j = 0; j <= i; j++)
            A[i * p + j] = (double)w->G[j * p + i] + (i == j && i < nh ? lam : 0);
    int ok = cholesky(A, p) == 0;
    for (unsigned k = 0; k < no; k++) {
        double beta[MAXH];
        if (ok) {
            for (unsigned i = 0; i < p; i++)
                beta[i] = (double)w->R[i * no + k];
            cholesky_solve(A, p, beta);
        } else {
            for (unsigned i = 0; i < p; i++)
                beta[i] = i == nh ? (double)w->R[nh * no + k] / (double)d->n : 0;
        }
        /* Per-output scale: the largest weight becomes +-127 (int4: +-7).
         * On the int2 and ternary grids that would round most weights to
         * zero, so there the step is the mean |weight| (BitNet b1.58's
         * absmean rule) and the largest saturate. */
        unsigned fmt = f->g->wfmt[l];
        int lo = f->g->wlo[l], hi = f->g->whi[l];
        double amax = 0, amean = 0;
        for (unsigned i = 0; i < nh; i++) {
            amax = fabs(beta[i]) > amax ? fabs(beta[i]) : amax;
            amean += fabs(beta[i]) / nh;
        }
        double top = fmt == EVONET_W8 ? 127.0 : fmt == EVONET_W4 ? 7.0 : 0;
        double scale = top > 0 ? amax / top : amean;
        scale = scale > 0 ? scale : 1.0 / 65536.0;
        et_net_set_scale(w->net, l, k, scale);
        double s = et_net_get_scale(w->net, l, k);
        for (unsigned i = 0; i < nh; i++) {
            double q = nearbyint(beta[i] / s);
            et_net_set_w(w->net, l, k, i, q < lo ? lo : q > hi ? hi : (int)q);
        }
        /* The kernel floors; +0.5 output units makes that round-to-nearest. */
        double b = nearbyint((beta[nh] + 0.5) / s), lim = f->g->bias_lim[l];
        et_net_set_bias(w->net, l, k, (int32_t)(b < -lim ? -lim : b > lim ? lim : b));
    }
}

/* Weighted squared error, exact integer sums per output. */
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) static double
loss_of(const et_fitness *f, const int16_t *Y, size_t ldy, const et_data *d, double *ss_out)
{
    double loss = 0;
    for (unsigned k = 0; k < f->n_out; k++) {
        const int16_t *y = Y + (size_t)k * ldy;
        const int32_t *t = d->T + (size_t)k * d->ld;
        int64_t ss = 0;
        size_t s = 0;
        /* Fixed-length blocks vectorise at -O2; int16 differences squared
         * need int64. */
        for (; s + 64 <= d->n; s += 64) {
            int64_t b = 0;
            for (size_t u = 0; u < 64; u++) {
                int64_t e = (int64_t)y[s + u] - t[s + u];
                b += e * e;
            }
            ss += b;
        }
        for (; s < d->n; s++) {
            int64_t e = (int64_t)y[s] - t[s];
            ss += e * e;
        }
        if (ss_out)
            ss_out[k] = (double)ss;
        loss += f->wss[k] * (double)ss;
    }
    return loss / ((double)d->n * 1e4);
}

/* A classification's per-chunk sums: errors and samples per class, then
 * the weighted surrogate (see fitness.h). */
#define ET_STATS (2 * ET_MAX_OUTPUTS + 1)

/* The surrogate loss of one sample: scores y (n_out, stride ldy), label t,
 * one = the one-hot target in steps. Exact integers for the hinge and least
 * squares; the cross-entropy in double, in one fixed order. */
static double surrogate(const et_fitness *f, const int16_t *y, size_t ldy, unsigned t, double one)
{
    unsigned no = f->n_out;
    if (f->class_loss == ET_CLASS_LOSS_MSE) {
        int64_t ss = 0;
        for (unsigned k = 0; k < no; k++) {
            int64_t e = (int64_t)y[k * ldy] - (k == t ? (int64_t)one : 0);
            ss += e * e;
        }
        return (double)ss / (one * one);
    }
    if (f->class_loss == ET_CLASS_LOSS_XENT) {
        double m = -1e300, z[ET_MAX_OUTPUTS];
        for (unsigned k = 0; k < no; k++) {
            z[k] = 4.0 * y[k * ldy] / one;
            m = z[k] > m ? z[k] : m;
        }
        double sum = 0;
        for (unsigned k = 0; k < no; k++)
            sum += exp(z[k] - m);
        return m + log(sum) - z[t];
    }
    int32_t other = INT32_MIN;
    for (unsigned k = 0; k < no; k++)
        if (k != t && y[k * ldy] > other)
            other = y[k * ldy];
    int64_t short_ = (int64_t)one / 2 - ((int64_t)y[t * ldy] - other);
    return short_ > 0 ? (double)(short_ * short_) / (one * one) : 0.0;
}

/* The label of sample s: the output whose one-hot target is not 0. */
static unsigned label_of(const et_fitness *f, const et_data *d, size_t s)
{
    for (unsigned k = 0; k < f->n_out; k++)
        if (d->T[(size_t)k * d->ld + s] != 0)
            return k;
    return 0;
}

/* The class the firmware picks: the first largest score. */
static unsigned argmax_of(const int16_t *y, size_t ldy, unsigned n)
{
    unsigned b = 0;
    for (unsigned k = 1; k < n; k++)
        if (y[k * ldy] > y[b * ldy])
            b = k;
    return b;
}

/* Sums over the samples of d (scores Y): stats as ET_STATS, or NULL; the
 * weighted mean surrogate returned. One sample after the other, so the
 * double sum is the same bits on every thread. */
static double class_of(const et_fitness *f, const int16_t *Y, size_t ldy, const et_data *d,
                       double *stats)
{
    unsigned no = f->n_out;
    double sum = 0, one = f->inv_scale[0];
    if (stats)
        memset(stats, 0, sizeof(double) * ET_STATS);
    for (size_t s = 0; s < d->n; s++) {
        unsigned t = label_of(f, d, s);
        sum += f->cw[t] * surrogate(f, Y + s, ldy, t, one);
        if (stats) {
            stats[ET_MAX_OUTPUTS + t] += 1;
            stats[t] += argmax_of(Y + s, ldy, no) != t;
        }
    }
    if (stats)
        stats[2 * ET_MAX_OUTPUTS] = sum;
    return sum / (double)d->n;
}

double et_fitness_eval(et_fitness *f, const double *x, const et_data *d, int tid, et_net *net)
{
    return et_fitness_eval_as(f, f->g, x, d, tid, net);
}

double et_fitness_eval_as(et_fitness *f, const et_genome *g, const double *x, const et_data *d,
                          int tid, et_net *net)
{
    ws *w = &f->w[tid];
    et_genome_decode(g, x, w->net);
    size_t ld = f->ld;
    if (f->g->n_search < f->nl) {
        et_batch_hidden(&w->net->net, d->X, d->ld, d->n, w->H, ld, w->bws);
        fit_output(f, w, d);
        et_batch_last(&w->net->L[f->nl - 1], w->H, ld, d->n, w->Y, ld, w->bws);
    } else {
        et_batch_forward(&w->net->net, d->X, d->ld, d->n, w->Y, ld, w->bws);
    }
    if (net)
        et_net_copy(net, w->net);
    return f->classify ? class_of(f, w->Y, ld, d, NULL) : loss_of(f, w->Y, ld, d, NULL);
}

void et_fitness_eval_all(et_fitness *f, const double *x, size_t count, const et_data *d,
                         double *loss)
{
    size_t dim = f->g->dim;
#pragma omp parallel for schedule(dynamic, 1) num_threads(f->threads)
    for (size_t c = 0; c < count; c++) {
        int tid = et_thread_num();
        loss[c] = et_fitness_eval(f, x + c * dim, d, tid, NULL);
    }
}

/* Exact squared-error sums per output of net on samples [s0, s0 + n) of d
 * (n <= max_batch), on workspace tid. */
static void chunk_ss(et_fitness *f, const et_net *net, const et_data *d, size_t s0, size_t n,
                     int tid, double *ss)
{
    ws *w = &f->w[tid];
    et_data c = {d->X + s0, d->T + s0, n, d->ld};
    et_batch_forward(&net->net, c.X, c.ld, c.n, w->Y, f->ld, w->bws);
    memset(ss, 0, sizeof(double) * ET_STATS);
    if (f->classify)
        class_of(f, w->Y, f->ld, &c, ss);
    else
        loss_of(f, w->Y, f->ld, &c, ss);
}

/* A classification's errors from its summed stats (ET_STATS). */
static void class_errors(const et_fitness *f, const double *st, size_t n, et_errors *e)
{
    memset(e, 0, sizeof *e);
    double err = 0, werr = 0, wn = 0;
    for (unsigned k = 0; k < f->n_out; k++) {
        double nk = st[ET_MAX_OUTPUTS + k];
        e->rmse[k] = nk > 0 ? 100.0 * st[k] / nk : 0;
        err += st[k];
        werr += f->cw[k] * st[k];
        wn += f->cw[k] * nk;
    }
    e->group_rmse[0] = 100.0 * err / (double)n;
    e->loss = werr / wn + ET_CLASS_TIE * st[2 * ET_MAX_OUTPUTS] / (double)n;
}

static void errors_of(const et_fitness *f, const double *ss, size_t n, et_errors *e)
{
    if (f->classify) {
        class_errors(f, ss, n, e);
        return;
    }
    memset(e, 0, sizeof *e);
    double loss = 0;
    for (unsigned k = 0; k < f->n_out; k++) {
        e->rmse[k] = sqrt(ss[k] / (double)n) / f->inv_scale[k];
        loss += f->wss[k] * ss[k];
    }
    /* A group's outputs share one unit; with one scale too (the usual
     * case) the sum is taken in output steps, as it always was. */
    for (unsigned i = 0; i < f->n_groups; i++) {
        double gsum = 0, gphys = 0, inv = 0;
        int one_scale = 1;
        for (unsigned k = 0; k < f->n_out; k++)
            if (f->group[i] >> k & 1) {
                one_scale &= inv == 0 || inv == f->inv_scale[k];
                inv = f->inv_scale[k];
                gsum += ss[k];
                gphys += ss[k] / (inv * inv);
            }
        e->group_rmse[i] =
            one_scale ? sqrt(gsum / (double)n) / (inv > 0 ? inv : 1) : sqrt(gphys / (double)n);
    }
    e->loss = loss / ((double)n * 1e4);
}

void et_errors_write(const et_errors *e, unsigned char *buf)
{
    double v[18];
    for (int k = 0; k < 16; k++)
        v[k] = e->rmse[k];
    v[16] = e->group_rmse[0];
    v[17] = e->loss;
    for (int k = 0; k < 18; k++) {
        uint64_t u;
        memcpy(&u, &v[k], 8);
        et_put_le(&buf, u, 8);
    }
}

void et_errors_read(et_errors *e, const unsigned char *buf)
{
    memset(e, 0, sizeof *e);
    double v[18];
    for (int k = 0; k < 18; k++) {
        uint64_t u = et_get_le(&buf, 8);
        memcpy(&v[k], &u, 8);
    }
    for (int k = 0; k < 16; k++)
        e->rmse[k] = v[k];
    e->group_rmse[0] = v[16];
    e->loss = v[17];
}

void et_fitness_errors(et_fitness *f, const et_net *net, const et_data *d, int tid, et_errors *e)
{
    double ss[ET_STATS], acc_ss[ET_STATS] = {0};
    /* Validation sets may be larger than the minibatch: go in chunks. */
    for (size_t s0 = 0; s0 < d->n; s0 += f->max_batch) {
        chunk_ss(f, net, d, s0, d->n - s0 < f->max_batch ? d->n - s0 : f->max_batch, tid, ss);
        for (unsigned k = 0; k < ET_STATS; k++)
            acc_ss[k] += ss[k];
    }
    errors_of(f, acc_ss, d->n, e);
}

void et_fitness_errors_all(et_fitness *f, const et_net *net, const et_data *d, et_errors *e)
{
    size_t nc = (d->n + f->max_batch - 1) / f->max_batch;
    double *ss = et_calloc(nc * ET_STATS, sizeof(double)), acc_ss[ET_STATS] = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(f->threads)
    for (size_t c = 0; c < nc; c++) {
        size_t s0 = c * f->max_batch;
        chunk_ss(f, net, d, s0, d->n - s0 < f->max_batch ? d->n - s0 : f->max_batch,
                 et_thread_num(), ss + c * ET_STATS);
    }
    /* Integer-valued sums below 2^53: exact, so the order cannot matter;
     * a classification's surrogate sums are added in chunk order, the same
     * as et_fitness_errors. */
    for (size_t c = 0; c < nc; c++)
        for (unsigned k = 0; k < ET_STATS; k++)
            acc_ss[k] += ss[c * ET_STATS + k];
    free(ss);
    errors_of(f, acc_ss, d->n, e);
}

/* The q-quantile of v (n values; v is reordered). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)(q * (double)(n - 1));
    return v[k];
}

void et_fitness_calibrate(et_genome *g, const double *x0, const et_data *d)
{
    size_t n = d->n < 4096 ? d->n : 4096;
    unsigned nl = g->n_layers;
    double *h = et_malloc(sizeof(double) * n * EVONET_MAX_WIDTH);
    double *h2 = et_malloc(sizeof(double) * n * EVONET_MAX_WIDTH);
    double *acc = et_malloc(sizeof(double) * n);
    for (size_t s = 0; s < n; s++)
        for (unsigned i = 0; i < g->sizes[0]; i++)
            h[s * EVONET_MAX_WIDTH + i] = d->X[(size_t)i * d->ld + s];
    for (unsigned l = 0; l < g->n_search; l++) {
        unsigned ni = g->sizes[l], no = g->sizes[l + 1];
        int last = l + 1 == nl;
        g->bias_unit[l] = et_genome_bias_unit(h, n, ni, EVONET_MAX_WIDTH);
        double common = 0;
        double *sc = g->base_scale[l];
        for (unsigned o = 0; o < no; o++) {
            for (size_t s = 0; s < n; s++) {
                double a = 0;
                for (unsigned i = 0; i < ni; i++)
                    a += x0[g->off_w[l] + (size_t)o * ni + i] * h[s * EVONET_MAX_WIDTH + i];
                acc[s] = a;
                h2[s * EVONET_MAX_WIDTH + o] = a;
            }
            double q;
            if (last) {
                /* Output layer: spread like the targets. */
                double m = 0, v = 0, tv = 0, tm = 0;
                for (size_t s = 0; s < n; s++)
                    m += acc[s], tm += d->T[(size_t)o * d->ld + s];
                m /= n, tm /= n;
                for (size_t s = 0; s < n; s++) {
                    v += (acc[s] - m) * (acc[s] - m);
                    double t = d->T[(size_t)o * d->ld + s] - tm;
                    tv += t * t;
                }
                sc[o] = v > 0 ? sqrt(tv / v) : 1.0 / 1024;
                continue;
            }
            /* Hidden: the 99th percentile of |acc| maps to 200 of 255. */
            for (size_t s = 0; s < n; s++)
                acc[s] = fabs(acc[s]);
            q = quantile(acc, n, 0.99);
            sc[o] = q > 0 ? 200.0 / q : 1.0 / 1024;
            common += log(sc[o]);
        }
        if (!last && g->per_layer) /* one scale per layer: the geometric mean */
            for (unsigned o = 0; o < no; o++)
                sc[o] = exp(common / no);
        for (size_t s = 0; s < n; s++)
            for (unsigned o = 0; o < no; o++) {
                double y = floor(h2[s * EVONET_MAX_WIDTH + o] * sc[o]);
                h[s * EVONET_MAX_WIDTH + o] = last ? y : y < 0 ? 0 : y > 255 ? 255 : y;
            }
    }
    free(h);
    free(h2);
    free(acc);
}
