/* evonet_check: host-side validation of a network against the kernel's ranges. */
#include "evonet_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t weight(const evonet_layer *L, unsigned o, unsigned i)
{
    return evonet_weight(L, o, i);
}

void evonet_weight_put(uint8_t *w, unsigned fmt, unsigned n_in, unsigned o, unsigned i, int v)
{
    size_t gi = (size_t)(o / EVONET_GROUP) * n_in + i;
    unsigned k = o % EVONET_GROUP;
    switch (fmt) {
    case EVONET_W8:
        w[gi * EVONET_GROUP + k] = (uint8_t)(v + 128);
        return;
    case EVONET_W4: {
        uint8_t *b = &w[gi * 4 + k / 2];
        unsigned sh = 4 * (k & 1);
        *b = (uint8_t)((*b & ~(15u << sh)) | (((unsigned)v & 15u) << sh));
        return;
    }
    default: {
        /* int2: bit 0 in the first plane, the sign bit (-2) in the second;
         * ternary: +1 in the first, -1 in the second. */
        int p = fmt == EVONET_W2 ? v & 1 : v > 0, m = v < 0;
        uint8_t bit = (uint8_t)(1u << k);
        w[gi * 2] = (uint8_t)(p ? w[gi * 2] | bit : w[gi * 2] & ~bit);
        w[gi * 2 + 1] = (uint8_t)(m ? w[gi * 2 + 1] | bit : w[gi * 2 + 1] & ~bit);
        return;
    }
    }
}

int evonet_wfmt_range(unsigned fmt, int *lo, int *hi)
{
    static const int r[4][3] = {{-128, 127, 8}, {-8, 7, 4}, {-2, 1, 2}, {-1, 1, 2}};
    if (fmt > EVONET_WT)
        return 0;
    *lo = r[fmt][0];
    *hi = r[fmt][1];
    return r[fmt][2];
}

size_t evonet_weight_bytes(unsigned fmt, unsigned n_in, unsigned n_out)
{
    return (size_t)EVONET_PAD(n_out) / EVONET_GROUP * n_in * EVONET_WFMT_BYTES(fmt);
}

int64_t evonet_acc_bound(const evonet_layer *L, int first_layer, unsigned o)
{
    int64_t xmax = first_layer ? 32768 : 255;
    int64_t b = llabs((long long)L->chan[o].bias);
    for (unsigned i = 0; i < L->n_in; i++)
        b += llabs((long long)weight(L, o, i)) * xmax;
    return b;
}

int evonet_validate(const evonet *net, char *err, size_t n)
{
    if (!net || !net->layers || net->n_layers < 1 || net->n_layers > EVONET_MAX_LAYERS) {
        snprintf(err, n, "network: layer count %u is outside [1, %d]", net ? net->n_layers : 0,
                 EVONET_MAX_LAYERS);
        return -1;
    }
    for (unsigned l = 0; l < net->n_layers; l++) {
        const evonet_layer *L = &net->layers[l];
        if (!L->w || !L->chan) {
            snprintf(err, n, "layer %u: missing weights or channel records", l);
            return -1;
        }
        if (L->n_in < 1 || L->n_in > EVONET_MAX_WIDTH || L->n_out < 1 ||
            L->n_out > EVONET_MAX_WIDTH) {
            snprintf(err, n, "layer %u: size %ux%u is outside [1, %d]", l, L->n_in, L->n_out,
                     EVONET_MAX_WIDTH);
            return -1;
        }
        if (L->wfmt > EVONET_WT) {
            snprintf(err, n,
                     "layer %u: weight format %u is not one of 0 (int8), 1 (int4), "
                     "2 (int2), 3 (ternary)",
                     l, L->wfmt);
            return -1;
        }
        if (L->wfmt == EVONET_WT)
            for (size_t b = 0; b < evonet_weight_bytes(EVONET_WT, L->n_in, L->n_out); b += 2)
                if (L->w[b] & L->w[b + 1]) {
                    snprintf(err, n,
                             "layer %u: a ternary weight is both +1 and -1 (bytes %zu, %zu)", l, b,
                             b + 1);
                    return -1;
                }
        if (l > 0 && L->n_in != net->layers[l - 1].n_out) {
            snprintf(err, n, "layer %u: %u inputs but layer %u has %u outputs", l, L->n_in, l - 1,
                     net->layers[l - 1].n_out);
            return -1;
        }
        for (unsigned o = L->n_out; o < (unsigned)EVONET_PAD(L->n_out); o++) {
            int padded_zero = L->chan[o].bias == 0;
            for (unsigned i = 0; i < L->n_in; i++)
                padded_zero &= weight(L, o, i) == 0;
            if (!padded_zero) {
                snprintf(err, n, "layer %u: padding output %u must have zero weights and bias", l,
                         o);
                return -1;
            }
        }
        for (unsigned o = 0; o < L->n_out; o++) {
            const evonet_chan *c = &L->chan[o];
            if (c->mult < 1) {
                snprintf(err, n, "layer %u output %u: mult %u is outside [1, 65535]", l, o,
                         c->mult);
                return -1;
            }
            if (c->shift > 31) {
                snprintf(err, n, "layer %u output %u: shift %u is outside [0, 31]", l, o, c->shift);
                return -1;
            }
            if (c->bias < -EVONET_ACC_LIMIT || c->bias > EVONET_ACC_LIMIT) {
                snprintf(err, n, "layer %u output %u: bias %ld is outside [-2^30, 2^30]", l, o,
                         (long)c->bias);
                return -1;
            }
            int64_t b = evonet_acc_bound(L, l == 0, o);
            if (b > EVONET_ACC_LIMIT) {
                snprintf(err, n,
                         "layer %u output %u: accumulator can reach %lld, beyond 2^30 "
                         "(weights or bias too large)",
                         l, o, (long long)b);
                return -1;
            }
        }
    }
    return 0;
}

void evonet_forward_ref(const evonet *net, const int16_t *in, int16_t *out)
{
    int64_t x[EVONET_MAX_WIDTH], y[EVONET_MAX_WIDTH];
    unsigned n = net->layers[0].n_in;
    for (unsigned i = 0; i < n; i++)
        x[i] = in[i];
    for (unsigned l = 0; l < net->n_layers; l++) {
        const evonet_layer *L = &net->layers[l];
        int last = l + 1u == net->n_layers;
        for (unsigned o = 0; o < L->n_out; o++) {
            int64_t acc = L->chan[o].bias;
            for (unsigned i = 0; i < L->n_in; i++)
                acc += weight(L, o, i) * x[i];
            int64_t s = 16 + L->chan[o].shift;
            int64_t v = acc * L->chan[o].mult;
            /* floor division by 2^s, written without relying on >> of negatives */
            int64_t q = v >= 0 ? v / ((int64_t)1 << s) : -((-v + ((int64_t)1 << s) - 1) >> s);
            if (last)
                y[o] = q < -32768 ? -32768 : q > 32767 ? 32767 : q;
            else
                y[o] = q < 0 ? 0 : q > 255 ? 255 : q;
        }
        for (unsigned o = 0; o < L->n_out; o++)
            x[o] = y[o];
        n = L->n_out;
    }
    for (unsigned o = 0; o < n; o++)
        out[o] = (int16_t)x[o];
}

void evonet_requant_from_scale(double scale, uint16_t *mult, uint16_t *shift)
{
    /* Largest shift whose multiplier still fits 16 bits keeps the most
     * significant bits of the scale. The search starts just above it (the
     * exponent of 65535.5 / scale), not at 31: the trainer converts every
     * channel of every candidate. */
    int r = 31;
    if (scale > 0 && isfinite(scale)) {
        int e = ilogb(65535.5 / scale) - 15;
        r = e < r ? e : r;
    }
    for (; r >= 0; r--) {
        double m = scale * (double)((int64_t)1 << (16 + r));
        if (m < 65535.5) {
            long mi = (long)(m + 0.5);
            *mult = (uint16_t)(mi < 1 ? 1 : mi);
            *shift = (uint16_t)r;
            return;
        }
    }
    *mult = 65535;
    *shift = 0;
}
