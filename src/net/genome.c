/* genome: the search space. A vector of doubles <-> an integer network. */
#include "genome.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "et_rng.h"
#include "evonet_check.h"
#include "util.h"

et_net *et_net_alloc(const unsigned *sizes, unsigned n_layers)
{
    et_net *n = et_calloc(1, sizeof *n);
    n->n_layers = n_layers;
    memcpy(n->sizes, sizes, sizeof(unsigned) * (n_layers + 1));
    for (unsigned l = 0; l < n_layers; l++) {
        unsigned ni = sizes[l], po = EVONET_PAD(sizes[l + 1]);
        n->w[l] = et_malloc((size_t)po * ni);
        memset(n->w[l], 128, (size_t)po * ni); /* zero weights, padding included */
        n->c[l] = et_malloc(po * sizeof(evonet_chan));
        for (unsigned o = 0; o < po; o++)
            n->c[l][o] = (evonet_chan){0, 1, 1};
        n->L[l] = (evonet_layer){.w = n->w[l],
                                 .chan = n->c[l],
                                 .n_in = (uint16_t)ni,
                                 .n_out = (uint16_t)sizes[l + 1],
                                 .wfmt = EVONET_W8};
    }
    n->net = (evonet){n->L, (uint16_t)n_layers};
    return n;
}

void et_net_free(et_net *n)
{
    if (!n)
        return;
    for (unsigned l = 0; l < n->n_layers; l++) {
        free(n->w[l]);
        free(n->c[l]);
    }
    free(n);
}

void et_net_copy(et_net *d, const et_net *s)
{
    for (unsigned l = 0; l < s->n_layers; l++) {
        unsigned ni = s->sizes[l], po = EVONET_PAD(s->sizes[l + 1]);
        memcpy(d->w[l], s->w[l], (size_t)po * ni);
        memcpy(d->c[l], s->c[l], po * sizeof(evonet_chan));
        d->L[l].wfmt = s->L[l].wfmt;
    }
}

void et_net_set_w(et_net *n, unsigned l, unsigned o, unsigned i, int w)
{
    evonet_weight_put(n->w[l], n->L[l].wfmt, n->sizes[l], o, i, w);
}

int et_net_get_w(const et_net *n, unsigned l, unsigned o, unsigned i)
{
    return evonet_weight(&n->L[l], o, i);
}

unsigned et_net_wfmt(const et_net *n, unsigned l)
{
    return n->L[l].wfmt;
}

void et_net_set_wfmt(et_net *n, unsigned l, unsigned fmt)
{
    unsigned ni = n->sizes[l], no = n->sizes[l + 1], po = EVONET_PAD(no);
    int lo, hi;
    if (fmt == n->L[l].wfmt || !evonet_wfmt_range(fmt, &lo, &hi))
        return;
    int *v = et_malloc(sizeof *v * (size_t)no * ni);
    for (unsigned o = 0; o < no; o++)
        for (unsigned i = 0; i < ni; i++) {
            int x = et_net_get_w(n, l, o, i);
            v[(size_t)o * ni + i] = x < lo ? lo : x > hi ? hi : x;
        }
    /* Zero weights everywhere (padding included), then the real ones. */
    memset(n->w[l], fmt == EVONET_W8 ? 128 : 0, (size_t)po * ni);
    n->L[l].wfmt = (uint16_t)fmt;
    for (unsigned o = 0; o < no; o++)
        for (unsigned i = 0; i < ni; i++)
            et_net_set_w(n, l, o, i, v[(size_t)o * ni + i]);
    free(v);
}

void et_net_set_bias(et_net *n, unsigned l, unsigned o, int32_t b)
{
    n->c[l][o].bias = b;
}

int32_t et_net_bias(const et_net *n, unsigned l, unsigned o)
{
    return n->c[l][o].bias;
}

void et_net_set_scale(et_net *n, unsigned l, unsigned o, double scale)
{
    evonet_requant_from_scale(scale, &n->c[l][o].mult, &n->c[l][o].shift);
}

double et_net_get_scale(const et_net *n, unsigned l, unsigned o)
{
    return ldexp((double)n->c[l][o].mult, -(16 + n->c[l][o].shift));
}

/* Canonical layout, independent of the kernel's storage (which may change
 * with its ABI version): u32 n_layers, u32 sizes[n_layers + 1] (bits 16-23
 * of sizes[l + 1] hold layer l's weight format, 0 for int8, so that an
 * int8 network's record is that of ABI version 3), then per
 * layer the weights as int8 in [o][i] order, biases (i32 LE), mults (u16 LE)
 * and shifts (u8) of the n_out real outputs. */
size_t et_net_bytes(const et_net *n)
{
    size_t b = 4 + 4 * (size_t)(n->n_layers + 1);
    for (unsigned l = 0; l < n->n_layers; l++) {
        size_t no = n->sizes[l + 1];
        b += no * n->sizes[l] + no * 4 + no * 2 + no;
    }
    return b;
}

void et_net_write(const et_net *n, unsigned char *p)
{
    et_put_le(&p, n->n_layers, 4);
    for (unsigned l = 0; l <= n->n_layers; l++)
        et_put_le(&p, n->sizes[l] | (l ? (uint32_t)n->L[l - 1].wfmt << 16 : 0), 4);
    for (unsigned l = 0; l < n->n_layers; l++) {
        unsigned ni = n->sizes[l], no = n->sizes[l + 1];
        for (unsigned o = 0; o < no; o++)
            for (unsigned i = 0; i < ni; i++)
                *p++ = (unsigned char)(int8_t)et_net_get_w(n, l, o, i);
        for (unsigned o = 0; o < no; o++)
            et_put_le(&p, (uint32_t)n->c[l][o].bias, 4);
        for (unsigned o = 0; o < no; o++) {
            *p++ = (unsigned char)(n->c[l][o].mult & 0xff);
            *p++ = (unsigned char)(n->c[l][o].mult >> 8);
        }
        /* Still one byte: every valid shift ([0, 31]) fits. */
        for (unsigned o = 0; o < no; o++)
            *p++ = (unsigned char)n->c[l][o].shift;
    }
}

et_net *et_net_read(const unsigned char *p, size_t len, char *err, size_t errlen)
{
    const unsigned char *end = p + len;
    if (len < 8) {
        snprintf(err, errlen, "network record truncated");
        return NULL;
    }
    unsigned nl = (uint32_t)et_get_le(&p, 4);
    if (nl < 1 || nl > EVONET_MAX_LAYERS || (size_t)(end - p) < 4 * (size_t)(nl + 1)) {
        snprintf(err, errlen, "network record has %u layers", nl);
        return NULL;
    }
    unsigned sizes[EVONET_MAX_LAYERS + 1], fmt[EVONET_MAX_LAYERS + 1];
    for (unsigned l = 0; l <= nl; l++) {
        uint32_t word = (uint32_t)et_get_le(&p, 4);
        sizes[l] = word & 0xffffu;
        fmt[l] = word >> 16;
        if (sizes[l] < 1 || sizes[l] > EVONET_MAX_WIDTH || fmt[l] > EVONET_WT ||
            (l == 0 && fmt[l])) {
            snprintf(err, errlen, "network record: layer width %u, weight format %u", sizes[l],
                     fmt[l]);
            return NULL;
        }
    }
    et_net *n = et_net_alloc(sizes, nl);
    for (unsigned l = 0; l < nl; l++)
        et_net_set_wfmt(n, l, fmt[l + 1]);
    if (et_net_bytes(n) != len) {
        snprintf(err, errlen, "network record has %zu bytes, expected %zu", len, et_net_bytes(n));
        et_net_free(n);
        return NULL;
    }
    for (unsigned l = 0; l < nl; l++) {
        unsigned ni = sizes[l], no = sizes[l + 1];
        int lo, hi;
        evonet_wfmt_range(fmt[l + 1], &lo, &hi);
        for (unsigned o = 0; o < no; o++)
            for (unsigned i = 0; i < ni; i++, p++) {
                if ((int8_t)*p < lo || (int8_t)*p > hi) {
                    snprintf(err, errlen, "network record: weight %d outside [%d, %d]", (int8_t)*p,
                             lo, hi);
                    et_net_free(n);
                    return NULL;
                }
                et_net_set_w(n, l, o, i, (int8_t)*p);
            }
        for (unsigned o = 0; o < no; o++)
            n->c[l][o].bias = (int32_t)(uint32_t)et_get_le(&p, 4);
        for (unsigned o = 0; o < no; o++, p += 2)
            n->c[l][o].mult = (uint16_t)(p[0] | (p[1] << 8));
        for (unsigned o = 0; o < no; o++)
            n->c[l][o].shift = *p++;
    }
    return n;
}

et_genome *et_genome_alloc(const unsigned *sizes, unsigned n_layers, int ridge_output,
                           int scale_genes, char *err, size_t errlen)
{
    for (unsigned l = 0; l < n_layers; l++) {
        double lim = (double)EVONET_ACC_LIMIT - sizes[l] * 127.0 * (l == 0 ? 32768.0 : 255.0);
        if (lim < 1 << 20 || sizes[l] > EVONET_MAX_WIDTH || sizes[l + 1] > EVONET_MAX_WIDTH) {
            snprintf(err, errlen,
                     "layer %u (%u inputs, %u outputs) overflows the kernel's integer ranges", l,
                     sizes[l], sizes[l + 1]);
            return NULL;
        }
    }
    et_genome *g = et_calloc(1, sizeof *g);
    g->n_layers = n_layers;
    memcpy(g->sizes, sizes, sizeof(unsigned) * (n_layers + 1));
    g->n_search = ridge_output ? n_layers - 1 : n_layers;
    g->scale_genes = scale_genes;
    size_t d = 0;
    for (unsigned l = 0; l < n_layers; l++) {
        unsigned ni = sizes[l], no = sizes[l + 1];
        g->base_scale[l] = et_malloc(no * sizeof(double));
        for (unsigned o = 0; o < no; o++)
            g->base_scale[l][o] = 1.0 / 1024.0;
        g->bias_unit[l] = 1.0;
        g->wlo[l] = -127;
        g->whi[l] = 127;
        g->bias_lim[l] = (double)EVONET_ACC_LIMIT - ni * 127.0 * (l == 0 ? 32768.0 : 255.0);
        if (l >= g->n_search)
            continue;
        g->off_w[l] = d;
        d += (size_t)ni * no;
        g->off_b[l] = d;
        d += no;
        g->off_s[l] = d;
        d += scale_genes == 1 ? 1 : scale_genes == 2 ? no : 0;
    }
    g->dim = d;
    return g;
}

void et_genome_free(et_genome *g)
{
    if (!g)
        return;
    for (unsigned l = 0; l < g->n_layers; l++)
        free(g->base_scale[l]);
    free(g);
}

void et_genome_grid(const et_genome *g, double other, double *step)
{
    for (size_t k = 0; k < g->dim; k++)
        step[k] = other;
    for (unsigned l = 0; l < g->n_search; l++)
        for (size_t k = 0; k < (size_t)g->sizes[l] * g->sizes[l + 1]; k++)
            step[g->off_w[l] + k] = 1;
}

void et_genome_init(const et_genome *g, uint64_t seed, double w_sd, double *x0)
{
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, seed, ET_STREAM_INIT, 0);
    for (size_t k = 0; k < g->dim; k++)
        x0[k] = 0;
    for (unsigned l = 0; l < g->n_search; l++) {
        /* w_sd is in int8 steps; a coarser grid starts as spread over its
         * few levels as int8 is over its (15 of 127: about 2.5 int4 steps,
         * 0.83 int2 or ternary steps, so that about a third of ternary
         * weights start at zero). */
        double sd = g->wfmt[l] == EVONET_W4 ? w_sd / 6.0 : g->wfmt[l] ? w_sd / 18.0 : w_sd;
        double lim = g->wfmt[l] ? g->whi[l] + 0.49 : 120;
        for (size_t k = 0; k < (size_t)g->sizes[l] * g->sizes[l + 1]; k++) {
            double v = gsl_ran_gaussian_ziggurat(r, sd);
            x0[g->off_w[l] + k] = v < -lim ? -lim : v > lim ? lim : v;
        }
    }
    gsl_rng_free(r);
}

static int clamp_w(double v, int lo, int hi)
{
    double r = nearbyint(v);
    return r < lo ? lo : r > hi ? hi : (int)r;
}

void et_genome_set_wfmt(et_genome *g, const unsigned *wfmt)
{
    for (unsigned l = 0; l < g->n_layers; l++) {
        g->wfmt[l] = wfmt[l];
        evonet_wfmt_range(wfmt[l], &g->wlo[l], &g->whi[l]);
        if (wfmt[l] == EVONET_W8) /* symmetric, as ever: -128 is never decoded */
            g->wlo[l] = -127;
    }
}

void et_net_set_wfmt_all(et_net *n, const et_genome *g)
{
    for (unsigned l = 0; l < g->n_layers; l++)
        et_net_set_wfmt(n, l, g->wfmt[l]);
}

void et_genome_decode(const et_genome *g, const double *x, et_net *net)
{
    for (unsigned l = 0; l < g->n_search; l++) {
        unsigned ni = g->sizes[l], no = g->sizes[l + 1];
        const double *xw = x + g->off_w[l], *xb = x + g->off_b[l], *xs = x + g->off_s[l];
        /* Whatever the optimizer proposes, the network stays valid. */
        double blim = g->bias_lim[l];
        for (unsigned o = 0; o < no; o++) {
            for (unsigned i = 0; i < ni; i++)
                et_net_set_w(net, l, o, i, clamp_w(xw[(size_t)o * ni + i], g->wlo[l], g->whi[l]));
            double b = nearbyint(xb[o] * g->bias_unit[l]);
            et_net_set_bias(net, l, o, (int32_t)(b < -blim ? -blim : b > blim ? blim : b));
            double e = g->scale_genes == 1 ? xs[0] : g->scale_genes == 2 ? xs[o] : 0;
            e = e < -200 ? -200 : e > 200 ? 200 : e;
            et_net_set_scale(net, l, o, g->base_scale[l][o] * exp2(e / 8.0));
        }
    }
}

double et_genome_bias_unit(const double *h, size_t n, unsigned ni, size_t ld)
{
    double ms = 0;
    for (size_t s = 0; s < n; s++)
        for (unsigned i = 0; i < ni; i++)
            ms += h[s * ld + i] * h[s * ld + i];
    double rms = sqrt(ms / ((double)n * ni));
    return 4.0 * (rms > 1 ? rms : 1);
}

size_t et_genome_cal_bytes(const et_genome *g)
{
    size_t n = g->n_layers;
    for (unsigned l = 0; l < g->n_layers; l++)
        n += g->sizes[l + 1];
    return n * sizeof(double);
}

void et_genome_cal_write(const et_genome *g, unsigned char *p)
{
    for (unsigned l = 0; l < g->n_layers; l++) {
        memcpy(p, &g->bias_unit[l], sizeof(double));
        p += sizeof(double);
        memcpy(p, g->base_scale[l], sizeof(double) * g->sizes[l + 1]);
        p += sizeof(double) * g->sizes[l + 1];
    }
}

void et_genome_cal_read(et_genome *g, const unsigned char *p)
{
    for (unsigned l = 0; l < g->n_layers; l++) {
        memcpy(&g->bias_unit[l], p, sizeof(double));
        p += sizeof(double);
        memcpy(g->base_scale[l], p, sizeof(double) * g->sizes[l + 1]);
        p += sizeof(double) * g->sizes[l + 1];
    }
}

void et_genome_cal_copy(et_genome *dst, const et_genome *src)
{
    for (unsigned l = 0; l < src->n_layers; l++) {
        dst->bias_unit[l] = src->bias_unit[l];
        memcpy(dst->base_scale[l], src->base_scale[l], sizeof(double) * src->sizes[l + 1]);
    }
}
