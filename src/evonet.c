/* evonet: the integer MLP inference kernel (freestanding C99; see evonet.h). */
#include "evonet.h"

/* The device kernel must never touch floating point, even by accident. */
#pragma GCC poison float double

/* Requantization and the output layer rely on >> being arithmetic. */
typedef char evonet_asr_is_arithmetic[((-8) >> 1) == -4 ? 1 : -1];

/* floor(acc * m / 2^(16 + r)), exact, using only 32-bit products.
 * acc in [-2^30, 2^30], m in [1, 65535], r in [1, 31].
 * With acc = hi * 2^16 + lo (lo in [0, 65535], |hi| <= 2^14):
 *   floor(acc * m / 2^16) = hi * m + floor(lo * m / 2^16)
 * where |hi * m| < 2^30 and lo * m < 2^32 fits an unsigned product; nested
 * floor divisions by powers of two compose exactly. On ARMv6-M this is two
 * MULS and no helper call. Rounding is floor: the exporter folds the half
 * step into the bias, which costs nothing here. */
static inline int32_t requant(int32_t acc, uint32_t m, uint32_t r)
{
    int32_t hi = acc >> 16;
    uint32_t lo = (uint32_t)acc & 0xffffu;
    return (hi * (int32_t)m + (int32_t)((lo * m) >> 16)) >> r;
}

/* ReLU to uint8. A non-positive accumulator gives 0 without the multiply
 * (m > 0 keeps the sign), which is about half the units. */
static inline int32_t relu_u8(int32_t acc, uint32_t m, uint32_t r)
{
    int32_t y = 0;
    if (acc > 0) {
        y = requant(acc, m, r);
        if (y > 255)
            y = 255;
    }
    return y;
}

/* Stores a hidden layer's group of four and returns the sum of the four
 * activations (the next layer's weight offset needs it). Padded outputs
 * (beyond n_out) have zero weights and bias, so their accumulator is exactly
 * 0 and they store 0 into the scratch buffer, which has room for them. */
static inline int32_t store_hidden(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                   const uint16_t *m, const uint8_t *r, uint8_t *out)
{
    int32_t y0 = relu_u8(a0, m[0], r[0]), y1 = relu_u8(a1, m[1], r[1]);
    int32_t y2 = relu_u8(a2, m[2], r[2]), y3 = relu_u8(a3, m[3], r[3]);
    out[0] = (uint8_t)y0;
    out[1] = (uint8_t)y1;
    out[2] = (uint8_t)y2;
    out[3] = (uint8_t)y3;
    return y0 + y1 + y2 + y3;
}

/* The last layer: saturate to int16; only the first n of the group exist in
 * the caller's output array. */
static void store_last(const int32_t *acc, const uint16_t *m, const uint8_t *r, int16_t *out,
                       unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        int32_t y = requant(acc[k], m[k], r[k]);
        if ((uint32_t)(y + 32768) > 65535u)
            y = y < 0 ? -32768 : 32767;
        out[k] = (int16_t)y;
    }
}

/* Multiply-accumulates input value V into the group's four accumulators
 * with the four weights at W. */
#define EVONET_MAC4(V, W)                                                                          \
    do {                                                                                           \
        int32_t v_ = (V);                                                                          \
        a0 += (uint32_t)(v_ * (W)[0]);                                                             \
        a1 += (uint32_t)(v_ * (W)[1]);                                                             \
        a2 += (uint32_t)(v_ * (W)[2]);                                                             \
        a3 += (uint32_t)(v_ * (W)[3]);                                                             \
    } while (0)

/* One layer over inputs of type XT. Four outputs share each input load. The
 * accumulators are unsigned so that partial sums wrap with defined behaviour:
 * sum(u * x) may pass 2^31 on the way, but the final value, which
 * evonet_validate bounds by 2^30, is exact modulo 2^32 and so exact. n_in % UNROLL
 * inputs are peeled first so the unrolled loop needs no tail. Size-optimised
 * builds unroll less; the arithmetic, and so every result, is the same. */
#ifdef __OPTIMIZE_SIZE__
#define EVONET_UNROLL 1
#else
#define EVONET_UNROLL 4
#endif
#define EVONET_LAYER(NAME, XT)                                                                     \
    static void NAME(const evonet_layer *L, const XT *x, int32_t sx, uint8_t *o8, int16_t *o16,    \
                     int32_t *sum)                                                                 \
    {                                                                                              \
        const uint8_t *w = L->w;                                                                   \
        const XT *end = x + L->n_in;                                                               \
        const XT *mid = x + L->n_in % EVONET_UNROLL;                                               \
        uint32_t corr = (uint32_t)(-128 * sx);                                                     \
        for (unsigned o = 0; o < L->n_out; o += EVONET_GROUP) {                                    \
            const int32_t *b = L->bias + o;                                                        \
            uint32_t a0 = (uint32_t)b[0] + corr, a1 = (uint32_t)b[1] + corr;                       \
            uint32_t a2 = (uint32_t)b[2] + corr, a3 = (uint32_t)b[3] + corr;                       \
            const XT *p = x;                                                                       \
            for (; p != mid; p++, w += 4)                                                          \
                EVONET_MAC4(*p, w);                                                                \
            for (; p != end; p += EVONET_UNROLL, w += 4 * EVONET_UNROLL) {                         \
                EVONET_MAC4(p[0], w);                                                              \
                if (EVONET_UNROLL > 1) {                                                           \
                    EVONET_MAC4(p[1], w + 4);                                                      \
                    EVONET_MAC4(p[2], w + 8);                                                      \
                    EVONET_MAC4(p[3], w + 12);                                                     \
                }                                                                                  \
            }                                                                                      \
            if (o16) {                                                                             \
                int32_t acc[EVONET_GROUP] = {(int32_t)a0, (int32_t)a1, (int32_t)a2, (int32_t)a3};  \
                unsigned n = L->n_out - o < EVONET_GROUP ? L->n_out - o : EVONET_GROUP;            \
                store_last(acc, L->mult + o, L->shift + o, o16 + o, n);                            \
            } else {                                                                               \
                *sum += store_hidden((int32_t)a0, (int32_t)a1, (int32_t)a2, (int32_t)a3,           \
                                     L->mult + o, L->shift + o, o8 + o);                           \
            }                                                                                      \
        }                                                                                          \
    }

typedef char evonet_group_is_four[EVONET_GROUP == 4 ? 1 : -1];

EVONET_LAYER(layer_s16, int16_t)
EVONET_LAYER(layer_u8, uint8_t)

size_t evonet_scratch_bytes(const evonet *net)
{
    unsigned widest = 0;
    for (unsigned l = 0; l + 1u < net->n_layers; l++)
        if (net->layers[l].n_out > widest)
            widest = net->layers[l].n_out;
    return EVONET_SCRATCH_BYTES(widest);
}

void evonet_forward(const evonet *net, const int16_t *in, int16_t *out, uint8_t *scratch)
{
    const evonet_layer *L = net->layers;
    unsigned last = net->n_layers - 1u;
    size_t half = evonet_scratch_bytes(net) / 2u;
    uint8_t *buf[2] = {scratch, scratch + half};
    int32_t sx = 0, sum = 0;

    for (unsigned i = 0; i < L[0].n_in; i++)
        sx += in[i];
    layer_s16(&L[0], in, sx, buf[0], last == 0 ? out : 0, &sum);
    for (unsigned l = 1; l <= last; l++) {
        sx = sum;
        sum = 0;
        layer_u8(&L[l], buf[(l - 1u) & 1u], sx, buf[l & 1u], l == last ? out : 0, &sum);
    }
}
