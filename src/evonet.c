/* evonet: the integer MLP inference kernel (freestanding C99; see evonet.h). */
#include "evonet.h"

/* The device kernel must never touch floating point, even by accident. */
#pragma GCC poison float double

/* Requantization and the output layer rely on >> being arithmetic. */
typedef char evonet_asr_is_arithmetic[((-8) >> 1) == -4 ? 1 : -1];

/* round_half_up(acc * m / 2^(16 + r)), exact, using only 32-bit products.
 * acc in [-2^30, 2^30], m in [1, 65535], r in [1, 31].
 * With acc = hi * 2^16 + lo (lo in [0, 65535], |hi| <= 2^14):
 *   floor(acc * m / 2^16) = hi * m + floor(lo * m / 2^16)
 * where |hi * m| < 2^30 and lo * m < 2^32 fits an unsigned product. The
 * rounding constant 2^(15 + r) is a multiple of 2^16, so adding 2^(r - 1)
 * after the first division and then shifting by r is exact; the sum stays
 * below 2^31 in magnitude. On ARMv6-M this is two MULS and no helper call. */
static inline int32_t requant(int32_t acc, uint32_t m, uint32_t r)
{
    int32_t hi = acc >> 16;
    uint32_t lo = (uint32_t)acc & 0xffffu;
    int32_t t = hi * (int32_t)m + (int32_t)((lo * m) >> 16);
    return (t + (int32_t)(1u << (r - 1u))) >> r;
}

/* Stores a group's results: ReLU to uint8 for hidden layers (and adds them to
 * *sum, which the next layer needs for its weight offset), saturation to int16
 * for the last layer. Only the first `valid` of the group are stored. */
static void store(const evonet_layer *L, unsigned o, const int32_t *acc, uint8_t *o8,
                  int16_t *o16, int32_t *sum)
{
    for (unsigned k = 0; k < EVONET_GROUP && o + k < L->n_out; k++) {
        int32_t y = requant(acc[k], L->mult[o + k], L->shift[o + k]);
        if (o16) {
            o16[o + k] = (int16_t)(y < -32768 ? -32768 : y > 32767 ? 32767 : y);
        } else {
            y = y < 0 ? 0 : y > 255 ? 255 : y;
            o8[o + k] = (uint8_t)y;
            *sum += y;
        }
    }
}

/* One layer over inputs of type XT. The weight offset correction -128 * sum(x)
 * starts each accumulator, so every partial sum stays within the bound that
 * evonet_validate proves. Two inputs per iteration halve the loop overhead;
 * an odd input count is peeled first so the loop needs no tail. */
#define EVONET_LAYER(NAME, XT)                                                                     \
    static void NAME(const evonet_layer *L, const XT *x, int32_t sx, uint8_t *o8, int16_t *o16,    \
                     int32_t *sum)                                                                 \
    {                                                                                              \
        const uint8_t *w = L->w;                                                                   \
        const XT *end = x + L->n_in;                                                               \
        int32_t corr = -128 * sx;                                                                  \
        for (unsigned o = 0; o < L->n_out; o += EVONET_GROUP) {                                    \
            int32_t acc[EVONET_GROUP];                                                             \
            int32_t a0 = L->bias[o] + corr, a1 = L->bias[o + 1] + corr;                            \
            const XT *p = x;                                                                       \
            if (L->n_in & 1u) {                                                                    \
                int32_t v = *p++;                                                                  \
                a0 += v * w[0];                                                                    \
                a1 += v * w[1];                                                                    \
                w += 2;                                                                            \
            }                                                                                      \
            while (p != end) {                                                                     \
                int32_t v0 = p[0], v1 = p[1];                                                      \
                a0 += v0 * w[0];                                                                   \
                a1 += v0 * w[1];                                                                   \
                a0 += v1 * w[2];                                                                   \
                a1 += v1 * w[3];                                                                   \
                p += 2;                                                                            \
                w += 4;                                                                            \
            }                                                                                      \
            acc[0] = a0;                                                                           \
            acc[1] = a1;                                                                           \
            store(L, o, acc, o8, o16, sum);                                                        \
        }                                                                                          \
    }

typedef char evonet_group_is_two[EVONET_GROUP == 2 ? 1 : -1];

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
