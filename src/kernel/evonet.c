/* evonet: the integer MLP inference kernel (freestanding C99; see evonet.h). */
#include "evonet.h"

/* The device kernel must never touch floating point, even by accident. */
#pragma GCC poison float double

/* Requantization and the output layer rely on >> being arithmetic. */
typedef char evonet_asr_is_arithmetic[((-8) >> 1) == -4 ? 1 : -1];
typedef char evonet_group_is_eight[EVONET_GROUP == 8 ? 1 : -1];
/* The output layer's range test converts int32 to int16 out of range. */
typedef char evonet_int16_wraps[(int16_t)40000 == -25536 ? 1 : -1];

/* floor(acc * m / 2^(16 + r)), exact, using only 32-bit products.
 * acc in [-2^30, 2^30], m in [1, 65535], r in [0, 31].
 * With acc = hi * 2^16 + lo (lo in [0, 65535], |hi| <= 2^14):
 *   floor(acc * m / 2^16) = hi * m + floor(lo * m / 2^16)
 * where |hi * m| < 2^30 and lo * m < 2^32 fits an unsigned product; nested
 * floor divisions by powers of two compose exactly. On ARMv6-M this is two
 * MULS and no helper call. */
static inline int32_t requant(int32_t acc, uint32_t m, uint32_t r)
{
    int32_t hi = acc >> 16;
    uint32_t lo = (uint16_t)acc;
    return (hi * (int32_t)m + (int32_t)((lo * m) >> 16)) >> r;
}

size_t evonet_scratch_bytes(const evonet *net)
{
    unsigned widest = 0;
    for (unsigned l = 0; l + 1u < net->n_layers; l++)
        if (net->layers[l].n_out > widest)
            widest = net->layers[l].n_out;
    return EVONET_SCRATCH_BYTES(widest);
}

#if defined(__GNUC__)
#define EVONET_NOINLINE __attribute__((noinline))
#else
#define EVONET_NOINLINE
#endif

/* The builds: the fast one (evonet_forward unrolled per layer kind, about
 * 5.7 kB of Thumb code) and the compact one (one loop per weight format,
 * under 1 kB). The compact one is taken at -Os or with -DEVONET_COMPACT,
 * the fast one otherwise or with -DEVONET_FAST. Both give the same bits. */
#if defined(EVONET_COMPACT) || (defined(__OPTIMIZE_SIZE__) && !defined(EVONET_FAST))
#define EVONET_USE_COMPACT 1
#else
#define EVONET_USE_COMPACT 0
#endif

/* An input of a layer: int16 (layer 0) or uint8 (the activations before). */
#define EVONET_X(i) (x16 ? (uint32_t)(int32_t)x16[i] : (uint32_t)x8[i])

/* The MAC loops of one group of eight outputs over all n inputs, one per
 * weight format. The accumulators come in and go back through acc, so each
 * loop has the whole register file for its eight sums (a Cortex-M0 has 8
 * low and 5 usable high registers). Accumulators are unsigned: partial sums
 * may wrap on the way (int16 inputs), the final value is exact modulo 2^32
 * and bounded by evonet_validate. */
#if EVONET_USE_COMPACT
EVONET_NOINLINE static void mac_w8(uint32_t *acc, const int16_t *x16, const uint8_t *x8, unsigned n,
                                   const uint8_t *w)
{
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    for (unsigned i = 0; i < n; i++, w += 8) {
        uint32_t v = EVONET_X(i);
        a0 += v * w[0];
        a1 += v * w[1];
        a2 += v * w[2];
        a3 += v * w[3];
        a4 += v * w[4];
        a5 += v * w[5];
        a6 += v * w[6];
        a7 += v * w[7];
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}
#endif

/* int4: a nibble is sign-extended by two shifts, then multiplied. */
#define EVONET_LO4(b) ((uint32_t)((int32_t)((b) << 28) >> 28))
#define EVONET_HI4(b) ((uint32_t)((int32_t)((b) << 24) >> 28))
EVONET_NOINLINE static void mac_w4(uint32_t *acc, const int16_t *x16, const uint8_t *x8, unsigned n,
                                   const uint8_t *w)
{
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    for (unsigned i = 0; i < n; i++, w += 4) {
        uint32_t v = EVONET_X(i), b;
        b = w[0];
        a0 += v * EVONET_LO4(b);
        a1 += v * EVONET_HI4(b);
        b = w[1];
        a2 += v * EVONET_LO4(b);
        a3 += v * EVONET_HI4(b);
        b = w[2];
        a4 += v * EVONET_LO4(b);
        a5 += v * EVONET_HI4(b);
        b = w[3];
        a6 += v * EVONET_LO4(b);
        a7 += v * EVONET_HI4(b);
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

/* int2 and ternary, without a multiply: V is added where a bit of plane P
 * is set and D (V, or 2V for int2) subtracted where a bit of plane M is;
 * a zero plane byte (common: zero weights, and int2 weights >= 0) costs
 * one test. */
#define EVONET_PLANE(P, OP, D)                                                                     \
    if (P) {                                                                                       \
        if ((P)&1u)                                                                                \
            a0 OP D;                                                                               \
        if ((P)&2u)                                                                                \
            a1 OP D;                                                                               \
        if ((P)&4u)                                                                                \
            a2 OP D;                                                                               \
        if ((P)&8u)                                                                                \
            a3 OP D;                                                                               \
        if ((P)&16u)                                                                               \
            a4 OP D;                                                                               \
        if ((P)&32u)                                                                               \
            a5 OP D;                                                                               \
        if ((P)&64u)                                                                               \
            a6 OP D;                                                                               \
        if ((P)&128u)                                                                              \
            a7 OP D;                                                                               \
    }
EVONET_NOINLINE static void mac_w2(uint32_t *acc, const int16_t *x16, const uint8_t *x8, unsigned n,
                                   const uint8_t *w, unsigned neg_shift)
{
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    for (unsigned i = 0; i < n; i++, w += 2) {
        uint32_t v = EVONET_X(i), p = w[0], m = w[1];
        EVONET_PLANE(p, +=, v)
        v <<= neg_shift;
        EVONET_PLANE(m, -=, v)
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

/* One layer of any weight format (the compact build: every layer; the fast
 * build: the low-bit layers). x16 (layer 0) or x8 is the input, o16 (last
 * layer) or o8 the output. Returns the sum of the uint8 outputs, which a
 * following int8 layer of the fast build needs for its weight offset. */
static uint32_t layer_any(const evonet_layer *L, const int16_t *x16, const uint8_t *x8, uint8_t *o8,
                          int16_t *o16)
{
    unsigned n = L->n_in, fmt = L->wfmt;
    const uint8_t *w = L->w;
    const evonet_chan *c = L->chan;
    uint32_t corr = 0, sum = 0;
#if EVONET_USE_COMPACT
    /* int8 weights are stored as w + 128: the offset, once per layer. */
    if (fmt == EVONET_W8)
        for (unsigned i = 0; i < n; i++)
            corr -= EVONET_X(i) << 7;
#endif
    for (unsigned o = 0; o < L->n_out; o += EVONET_GROUP, c += EVONET_GROUP) {
        uint32_t a[EVONET_GROUP];
        for (unsigned k = 0; k < EVONET_GROUP; k++)
            a[k] = (uint32_t)c[k].bias + corr;
#if EVONET_USE_COMPACT
        if (fmt == EVONET_W8) {
            mac_w8(a, x16, x8, n, w);
            w += n * 8u;
        } else
#endif
            if (fmt == EVONET_W4) {
            mac_w4(a, x16, x8, n, w);
            w += n * 4u;
        } else {
            mac_w2(a, x16, x8, n, w, fmt == EVONET_W2);
            w += n * 2u;
        }
        for (unsigned k = 0; k < EVONET_GROUP && o + k < L->n_out; k++) {
            int32_t y = requant((int32_t)a[k], c[k].mult, c[k].shift);
            if (o16) {
                o16[o + k] = (int16_t)(y < -32768 ? -32768 : y > 32767 ? 32767 : y);
            } else {
                y = y < 0 ? 0 : y > 255 ? 255 : y;
                o8[o + k] = (uint8_t)y;
                sum += (uint32_t)y;
            }
        }
    }
    return sum;
}

#if EVONET_USE_COMPACT

void evonet_forward(const evonet *net, const int16_t *in, int16_t *out, uint8_t *scratch)
{
    const evonet_layer *L = net->layers;
    size_t half = evonet_scratch_bytes(net) / 2u;
    const int16_t *x16 = in;
    const uint8_t *x8 = 0;
    for (unsigned l = 0; l < net->n_layers; l++, L++) {
        int last = l + 1u == net->n_layers;
        uint8_t *o8 = scratch + (l & 1u ? half : 0);
        layer_any(L, x16, x8, last ? 0 : o8, last ? out : 0);
        x16 = 0;
        x8 = o8;
    }
}

#else

/* GCC for Thumb-1 otherwise regroups the unrolled sums per accumulator (all
 * four inputs live at once; its reassociation only touches wrapping types,
 * which is why unsigned accumulators once cost ~280 cycles more than signed
 * ones), hoists loads ahead of their use and splits the accumulators' live
 * ranges; each needs more registers than there are and spills inside the
 * MAC loop (measured: 5.4 instead of 4.5 cycles per MAC). Its scalar
 * evolution pass would also recompute the weight pointer after each loop
 * from the group's start plus a computed length, and partial redundancy
 * elimination keeps other values live across the loop; either ties up the
 * one spare register, which then no longer holds the loop's end pointer
 * (a stack reload per iteration) or layer 0's input sum (measured: 4384
 * instead of 4582 cycles per inference with both off). Other targets and
 * compilers are left alone. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb__) && !defined(__thumb2__)
#pragma GCC optimize("no-tree-reassoc", "no-schedule-insns", "ira-region=one",                     \
                     "ira-algorithm=priority", "no-tree-pre", "no-tree-scev-cprop")
#endif

/* ReLU to uint8. A non-positive accumulator gives 0 without the multiply
 * (mult > 0 keeps the sign), which is about half the units; a positive one
 * is requantized unsigned, which equals requant() there. */
static inline uint32_t relu_u8(uint32_t acc, const evonet_chan *c)
{
    uint32_t y = 0;
    if ((int32_t)acc > 0) {
        uint32_t m = c->mult;
        y = ((acc >> 16) * m + (((uint32_t)(uint16_t)acc * m) >> 16)) >> c->shift;
        if (y > 255)
            y = 255;
    }
    return y;
}

/* Saturation tested by a round trip through int16_t: no 32-bit constants,
 * which Thumb-1 cannot encode in one instruction. */
static inline int16_t sat_s16(uint32_t acc, const evonet_chan *c)
{
    int32_t y = requant((int32_t)acc, c->mult, c->shift);
    if (y != (int16_t)y)
        y = (y >> 31) ^ 0x7fff;
    return (int16_t)y;
}

/* Multiply-accumulates input value V into the accumulators with the weights
 * at W. Accumulators are unsigned so that partial sums wrap with defined
 * behaviour: with int16 inputs sum(u * x) may pass 2^31 on the way, but the
 * final value, which evonet_validate bounds by 2^30, is exact modulo 2^32. */
#define EVONET_MAC4(V, W)                                                                          \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(int32_t)(V);                                                      \
        if (first_)                                                                                \
            sx += v_;                                                                              \
        a0 += v_ * (W)[0];                                                                         \
        a1 += v_ * (W)[1];                                                                         \
        a2 += v_ * (W)[2];                                                                         \
        a3 += v_ * (W)[3];                                                                         \
    } while (0)
#define EVONET_MAC6(V, W)                                                                          \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(int32_t)(V);                                                      \
        if (first_)                                                                                \
            sx += v_;                                                                              \
        a0 += v_ * (W)[0];                                                                         \
        a1 += v_ * (W)[1];                                                                         \
        a2 += v_ * (W)[2];                                                                         \
        a3 += v_ * (W)[3];                                                                         \
        a4 += v_ * (W)[4];                                                                         \
        a5 += v_ * (W)[5];                                                                         \
    } while (0)
#define EVONET_MAC8(V, W)                                                                          \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(int32_t)(V);                                                      \
        if (first_)                                                                                \
            sx += v_;                                                                              \
        a0 += v_ * (W)[0];                                                                         \
        a1 += v_ * (W)[1];                                                                         \
        a2 += v_ * (W)[2];                                                                         \
        a3 += v_ * (W)[3];                                                                         \
        a4 += v_ * (W)[4];                                                                         \
        a5 += v_ * (W)[5];                                                                         \
        a6 += v_ * (W)[6];                                                                         \
        a7 += v_ * (W)[7];                                                                         \
    } while (0)

/* One pass over the inputs for a group: n_in % 4 inputs first, so that the
 * four-fold unrolled loop needs no tail. */
#define EVONET_PASS(MAC, XT)                                                                       \
    do {                                                                                           \
        const XT *p = x;                                                                           \
        for (; p != mid; p++, w += 8)                                                              \
            MAC(*p, w);                                                                            \
        for (; p != end; p += 4, w += 32) {                                                        \
            MAC(p[0], w);                                                                          \
            MAC(p[1], w + 8);                                                                      \
            MAC(p[2], w + 16);                                                                     \
            MAC(p[3], w + 24);                                                                     \
        }                                                                                          \
    } while (0)

#define EVONET_INIT4                                                                               \
    uint32_t sx = 0;                                                                               \
    uint32_t a0 = (uint32_t)c[0].bias, a1 = (uint32_t)c[1].bias;                                   \
    uint32_t a2 = (uint32_t)c[2].bias, a3 = (uint32_t)c[3].bias
/* The weight offset -128 * sum(x), from the caller or, for layer 0, from
 * the pass itself: each group's pass sums the inputs it loads anyway, one
 * add per input in a register that is free there, where a separate loop
 * over the int16 inputs cost five cycles per input. */
#define EVONET_CORR4                                                                               \
    do {                                                                                           \
        if (first_)                                                                                \
            corr = 0u - (sx << 7);                                                                 \
        a0 += corr;                                                                                \
        a1 += corr;                                                                                \
        a2 += corr;                                                                                \
        a3 += corr;                                                                                \
    } while (0)
#define EVONET_HIDDEN4(Y0, Y1, Y2, Y3, K)                                                          \
    do {                                                                                           \
        uint32_t y0 = relu_u8(Y0, c + (K)), y1 = relu_u8(Y1, c + (K) + 1);                         \
        uint32_t y2 = relu_u8(Y2, c + (K) + 2), y3 = relu_u8(Y3, c + (K) + 3);                     \
        o8[0] = (uint8_t)y0;                                                                       \
        o8[1] = (uint8_t)y1;                                                                       \
        o8[2] = (uint8_t)y2;                                                                       \
        o8[3] = (uint8_t)y3;                                                                       \
        sum += y0 + y1 + y2 + y3;                                                                  \
    } while (0)

/* One layer over inputs of type XT; LAST selects int16 outputs. A group of
 * eight outputs shares each input load; a final group of at most four real
 * outputs runs the four-wide loop instead (it reads the first four weights of
 * each eight). Hidden layers return the sum of their activations, which the
 * next layer's weight offset needs; padded outputs there have zero weights
 * and bias, so they store 0 into the scratch, which has room for them. */
#define EVONET_LAYER(NAME, XT, LAST)                                                               \
    EVONET_NOINLINE static int32_t NAME(const evonet_layer *L, const XT *x, uint32_t corr,         \
                                        uint8_t *o8, int16_t *o16)                                 \
    {                                                                                              \
        const uint8_t *w = L->w;                                                                   \
        const evonet_chan *c = L->chan;                                                            \
        const XT *end = x + L->n_in, *mid = x + (L->n_in & 3u);                                    \
        unsigned left = L->n_out;                                                                  \
        const int first_ = sizeof(XT) == 2;                                                        \
        uint32_t sum = 0;                                                                          \
        for (;;) {                                                                                 \
            if (left <= 4) {                                                                       \
                EVONET_INIT4;                                                                      \
                EVONET_PASS(EVONET_MAC4, XT);                                                      \
                EVONET_CORR4;                                                                      \
                if (LAST) {                                                                        \
                    o16[0] = sat_s16(a0, c + 0);                                                   \
                    if (left > 1)                                                                  \
                        o16[1] = sat_s16(a1, c + 1);                                               \
                    if (left > 2)                                                                  \
                        o16[2] = sat_s16(a2, c + 2);                                               \
                    if (left > 3)                                                                  \
                        o16[3] = sat_s16(a3, c + 3);                                               \
                } else {                                                                           \
                    EVONET_HIDDEN4(a0, a1, a2, a3, 0);                                             \
                }                                                                                  \
                break;                                                                             \
            }                                                                                      \
            EVONET_INIT4;                                                                          \
            uint32_t a4 = (uint32_t)c[4].bias, a5 = (uint32_t)c[5].bias;                           \
            uint32_t a6 = (uint32_t)c[6].bias, a7 = (uint32_t)c[7].bias;                           \
            if (LAST && left <= 6)                                                                 \
                EVONET_PASS(EVONET_MAC6, XT);                                                      \
            else                                                                                   \
                EVONET_PASS(EVONET_MAC8, XT);                                                      \
            EVONET_CORR4;                                                                          \
            a4 += corr;                                                                            \
            a5 += corr;                                                                            \
            a6 += corr;                                                                            \
            a7 += corr;                                                                            \
            if (LAST) {                                                                            \
                o16[0] = sat_s16(a0, c + 0);                                                       \
                o16[1] = sat_s16(a1, c + 1);                                                       \
                o16[2] = sat_s16(a2, c + 2);                                                       \
                o16[3] = sat_s16(a3, c + 3);                                                       \
                o16[4] = sat_s16(a4, c + 4);                                                       \
                if (left > 5)                                                                      \
                    o16[5] = sat_s16(a5, c + 5);                                                   \
                if (left > 6)                                                                      \
                    o16[6] = sat_s16(a6, c + 6);                                                   \
                if (left > 7)                                                                      \
                    o16[7] = sat_s16(a7, c + 7);                                                   \
                o16 += 8;                                                                          \
            } else {                                                                               \
                EVONET_HIDDEN4(a0, a1, a2, a3, 0);                                                 \
                o8 += 4;                                                                           \
                EVONET_HIDDEN4(a4, a5, a6, a7, 4);                                                 \
                o8 += 4;                                                                           \
            }                                                                                      \
            if (left <= 8)                                                                         \
                break;                                                                             \
            left -= 8;                                                                             \
            c += 8;                                                                                \
        }                                                                                          \
        return (int32_t)sum;                                                                       \
    }

EVONET_LAYER(first_hidden, int16_t, 0)
EVONET_LAYER(first_last, int16_t, 1)
EVONET_LAYER(next_hidden, uint8_t, 0)
EVONET_LAYER(next_last, uint8_t, 1)

void evonet_forward(const evonet *net, const int16_t *in, int16_t *out, uint8_t *scratch)
{
    const evonet_layer *L = net->layers;
    const evonet_layer *last = L + net->n_layers - 1;
    uint8_t *cur = scratch, *nxt = scratch + evonet_scratch_bytes(net) / 2u;
    /* Layer 0 sums its own inputs for the weight offset: corr is unused. */
    int32_t sx;
    if (L->wfmt != EVONET_W8)
        sx = (int32_t)layer_any(L, in, 0, L == last ? 0 : cur, L == last ? out : 0);
    else if (L == last)
        sx = first_last(L, in, 0, 0, out);
    else
        sx = first_hidden(L, in, 0, cur, 0);
    if (L == last)
        return;
    while (++L != last) {
        uint8_t *t = cur;
        if (L->wfmt != EVONET_W8)
            sx = (int32_t)layer_any(L, 0, cur, nxt, 0);
        else
            sx = next_hidden(L, cur, (uint32_t)(sx * -128), nxt, 0);
        cur = nxt;
        nxt = t;
    }
    if (L->wfmt != EVONET_W8)
        layer_any(L, 0, cur, 0, out);
    else
        next_last(L, cur, (uint32_t)(sx * -128), 0, out);
}

#endif
