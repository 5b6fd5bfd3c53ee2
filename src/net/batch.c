/* batch: the host's batched forward pass, bit-identical to evonet_forward. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "evonet_check.h"
#include "util.h"

#define T ET_BATCH_TILE

et_batch_ws *et_batch_ws_alloc(size_t max_width)
{
    et_batch_ws *ws = et_malloc(sizeof *ws);
    ws->a = aligned_alloc(64, sizeof(int32_t) * T * max_width);
    ws->b = aligned_alloc(64, sizeof(int32_t) * T * max_width);
    /* Packed input pairs of the AVX-512BW path: (width + 1) / 2 rows. */
    ws->p = aligned_alloc(64, sizeof(int32_t) * T * (max_width / 2 + 1));
    /* Its packed weight pairs: padded outputs times input pairs, per layer. */
    ws->wp_layer = max_width * (max_width / 2 + 1);
    ws->wp = malloc(sizeof(int32_t) * ws->wp_layer * EVONET_MAX_LAYERS);
    if (!ws->a || !ws->b || !ws->p || !ws->wp) {
        et_error(NULL, 0, "out of memory (batch workspace)");
        exit(ET_EXIT_INPUT);
    }
    return ws;
}

void et_batch_ws_free(et_batch_ws *ws)
{
    if (!ws)
        return;
    free(ws->a);
    free(ws->b);
    free(ws->p);
    free(ws->wp);
    free(ws);
}

/* Any weight format: the twin computes the exact integer sums, so each
 * width's path is the int8 one with the layer's weights read through the
 * one decoder of their storage (evonet_weight). */
static inline int32_t weight(const evonet_layer *L, unsigned o, unsigned i)
{
    return evonet_weight(L, o, i);
}

/* One layer over one tile: out[o][s] from in[i][s]. The same exact integer
 * steps as the kernel: the accumulator bias + sum(w * x) equals the kernel's
 * bias - 128 sum(x) + sum(u * x) (validated networks never overflow it), and
 * requantization splits acc into 16-bit halves exactly as evonet.c does.
 * Four outputs per pass over the inputs keep the tile in registers. */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
layer_tile(const evonet_layer *L, const int32_t *restrict in, int32_t *restrict out, int last)
{
    unsigned no = L->n_out, ni = L->n_in;
    /* Four outputs per pass over the inputs: each input row is loaded once
     * for four accumulators. Padded outputs (zero weights and bias) exist up
     * to EVONET_PAD(n_out), a multiple of four, and the workspace has room. */
    for (unsigned o = 0; o < no; o += 4) {
        int32_t acc[4][T];
        for (unsigned k = 0; k < 4; k++)
            for (unsigned s = 0; s < T; s++)
                acc[k][s] = L->chan[o + k].bias;
        for (unsigned i = 0; i < ni; i++) {
            int32_t w0 = weight(L, o, i), w1 = weight(L, o + 1, i);
            int32_t w2 = weight(L, o + 2, i), w3 = weight(L, o + 3, i);
            const int32_t *x = in + (size_t)i * T;
            for (unsigned s = 0; s < T; s++) {
                int32_t v = x[s];
                acc[0][s] += w0 * v;
                acc[1][s] += w1 * v;
                acc[2][s] += w2 * v;
                acc[3][s] += w3 * v;
            }
        }
        for (unsigned k = 0; k < 4; k++) {
            int32_t m = L->chan[o + k].mult;
            int32_t r = L->chan[o + k].shift;
            int32_t *y = out + (size_t)(o + k) * T;
            for (unsigned s = 0; s < T; s++) {
                int32_t hi = acc[k][s] >> 16;
                uint32_t lo = (uint32_t)acc[k][s] & 0xffffu;
                int32_t v = (hi * m + (int32_t)((lo * (uint32_t)m) >> 16)) >> r;
                if (last)
                    v = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
                else
                    v = v < 0 ? 0 : v > 255 ? 255 : v;
                y[s] = v;
            }
        }
    }
}

int et_batch_generic_only;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ET_HAVE_AVX512BW_PATH 1

/* The same layer with AVX-512BW's 16-bit multiply-add (VPMADDWD): two inputs
 * per instruction. Every value fits: inputs are int16 (layer 0) or 0..255,
 * weights -128..127, so each product pair sums exactly in int32, and the
 * accumulator is the same exact integer as the generic path's. wp: the
 * layer's weights packed by pack_pairs. */
__attribute__((target("avx512f,avx512bw"))) static void
layer_tile_bw(const evonet_layer *L, const int32_t *restrict in, int32_t *restrict out, int last,
              __m512i *restrict P, const int32_t *restrict wp)
{
    enum { Q = T / 16 };
    unsigned no = L->n_out, ni = L->n_in, np = (ni + 1) / 2;
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    /* Inputs 2j and 2j + 1 of a sample side by side in one 32-bit lane. */
    for (unsigned j = 0; j < np; j++)
        for (unsigned q = 0; q < Q; q++) {
            __m512i a = _mm512_load_si512((const void *)(in + (size_t)(2 * j) * T + 16 * q));
            __m512i b =
                2 * j + 1 < ni
                    ? _mm512_load_si512((const void *)(in + (size_t)(2 * j + 1) * T + 16 * q))
                    : _mm512_setzero_si512();
            P[j * Q + q] = _mm512_or_si512(_mm512_and_si512(a, lo16), _mm512_slli_epi32(b, 16));
        }
    const __m512i lo_clamp = _mm512_set1_epi32(last ? -32768 : 0);
    const __m512i hi_clamp = _mm512_set1_epi32(last ? 32767 : 255);
    for (unsigned o = 0; o < no; o += 4) {
        /* Sixteen accumulators, all in registers (hence the unrolling). */
        __m512i acc[4][Q];
#pragma GCC unroll 4
        for (unsigned k = 0; k < 4; k++)
#pragma GCC unroll 4
            for (unsigned q = 0; q < Q; q++)
                acc[k][q] = _mm512_set1_epi32(L->chan[o + k].bias);
        const int32_t *wo = wp + (size_t)o * np;
        for (unsigned j = 0; j < np; j++) {
            __m512i w[4];
#pragma GCC unroll 4
            for (unsigned k = 0; k < 4; k++)
                w[k] = _mm512_set1_epi32(wo[k * np + j]);
#pragma GCC unroll 4
            for (unsigned q = 0; q < Q; q++) {
                __m512i x = P[j * Q + q];
#pragma GCC unroll 4
                for (unsigned k = 0; k < 4; k++)
                    acc[k][q] = _mm512_add_epi32(acc[k][q], _mm512_madd_epi16(x, w[k]));
            }
        }
        for (unsigned k = 0; k < 4; k++) {
            __m512i m = _mm512_set1_epi32(L->chan[o + k].mult);
            __m128i r = _mm_cvtsi32_si128(L->chan[o + k].shift);
            for (unsigned q = 0; q < Q; q++) {
                __m512i a = acc[k][q];
                __m512i hi = _mm512_mullo_epi32(_mm512_srai_epi32(a, 16), m);
                __m512i lo =
                    _mm512_srli_epi32(_mm512_mullo_epi32(_mm512_and_si512(a, lo16), m), 16);
                __m512i v = _mm512_sra_epi32(_mm512_add_epi32(hi, lo), r);
                v = _mm512_min_epi32(_mm512_max_epi32(v, lo_clamp), hi_clamp);
                _mm512_store_si512((void *)(out + (size_t)(o + k) * T + 16 * q), v);
            }
        }
    }
}
#endif

int et_batch_avx512bw(void)
{
#ifdef ET_HAVE_AVX512BW_PATH
    static int bw = -1;
    if (bw < 0) {
        __builtin_cpu_init();
        bw = __builtin_cpu_supports("avx512bw") ? 1 : 0;
    }
    return bw && !et_batch_generic_only;
#else
    return 0;
#endif
}

/* Weights of input pairs (2j, 2j + 1) as one int32 (low half, high half) per
 * output and pair, wp[o * np + j], for every output of the padded layer:
 * done once per batch call rather than once per tile. */
static void pack_pairs(const evonet_layer *L, int32_t *wp)
{
    unsigned ni = L->n_in, np = (ni + 1) / 2, po = EVONET_PAD(L->n_out);
    for (unsigned o = 0; o < po; o++)
        for (unsigned j = 0; j < np; j++) {
            int32_t w0 = weight(L, o, 2 * j);
            int32_t w1 = 2 * j + 1 < ni ? weight(L, o, 2 * j + 1) : 0;
            wp[(size_t)o * np + j] = (int32_t)(((uint32_t)w0 & 0xffffu) | ((uint32_t)w1 << 16));
        }
}

/* Packs layers [0, nl) of L for the vector path (when it is taken). */
static void prepare(const evonet_layer *L, unsigned nl, et_batch_ws *ws)
{
    if (!et_batch_avx512bw())
        return;
    for (unsigned l = 0; l < nl; l++)
        pack_pairs(&L[l], ws->wp + (size_t)l * ws->wp_layer);
}

/* Layer l (of those prepared) on the fastest path this processor has. */
static void layer(const evonet_layer *L, unsigned l, const int32_t *in, int32_t *out, int last,
                  et_batch_ws *ws)
{
#ifdef ET_HAVE_AVX512BW_PATH
    if (et_batch_avx512bw()) {
        layer_tile_bw(L, in, out, last, (__m512i *)ws->p, ws->wp + (size_t)l * ws->wp_layer);
        return;
    }
#else
    (void)ws;
    (void)l;
#endif
    layer_tile(L, in, out, last);
}

/* Tile loads and stores: whole tiles have a fixed trip count, which GCC
 * needs to vectorise at -O2; the clones use the processor's widest vectors. */
#define ET_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))

ET_CLONES static void load_tile_s16(const int16_t *restrict X, size_t ld, size_t s0, size_t cnt,
                                    unsigned ni, int32_t *restrict dst)
{
    for (unsigned i = 0; i < ni; i++) {
        const int16_t *x = X + (size_t)i * ld + s0;
        int32_t *d = dst + (size_t)i * T;
        if (cnt == T) {
            for (size_t s = 0; s < T; s++)
                d[s] = x[s];
            continue;
        }
        for (size_t s = 0; s < T; s++)
            d[s] = s < cnt ? x[s] : 0;
    }
}

ET_CLONES static void load_tile_u8(const uint8_t *restrict H, size_t ld, size_t s0, size_t cnt,
                                   unsigned ni, int32_t *restrict dst)
{
    for (unsigned i = 0; i < ni; i++) {
        const uint8_t *x = H + (size_t)i * ld + s0;
        int32_t *d = dst + (size_t)i * T;
        if (cnt == T) {
            for (size_t s = 0; s < T; s++)
                d[s] = x[s];
            continue;
        }
        for (size_t s = 0; s < T; s++)
            d[s] = s < cnt ? x[s] : 0;
    }
}

ET_CLONES static void store_tile_u8(const int32_t *restrict src, unsigned no, size_t cnt,
                                    uint8_t *restrict H, size_t ld, size_t s0)
{
    for (unsigned j = 0; j < no; j++) {
        const int32_t *h = src + (size_t)j * T;
        uint8_t *d = H + (size_t)j * ld + s0;
        if (cnt == T)
            for (size_t s = 0; s < T; s++)
                d[s] = (uint8_t)h[s];
        else
            for (size_t s = 0; s < cnt; s++)
                d[s] = (uint8_t)h[s];
    }
}

ET_CLONES static void store_tile_s16(const int32_t *restrict src, unsigned no, size_t cnt,
                                     int16_t *restrict Y, size_t ld, size_t s0)
{
    for (unsigned k = 0; k < no; k++) {
        const int32_t *y = src + (size_t)k * T;
        int16_t *d = Y + (size_t)k * ld + s0;
        if (cnt == T)
            for (size_t s = 0; s < T; s++)
                d[s] = (int16_t)y[s];
        else
            for (size_t s = 0; s < cnt; s++)
                d[s] = (int16_t)y[s];
    }
}

/* Layers [0, nl) of net over one tile of X; returns the tile of layer
 * nl - 1's outputs (in one of the workspace's buffers). */
static const int32_t *run_layers(const evonet *net, unsigned nl, int last_is_output,
                                 const int16_t *X, size_t ld, size_t s0, size_t cnt,
                                 et_batch_ws *ws)
{
    int32_t *cur = ws->a, *nxt = ws->b;
    load_tile_s16(X, ld, s0, cnt, net->layers[0].n_in, cur);
    for (unsigned l = 0; l < nl; l++) {
        layer(&net->layers[l], l, cur, nxt, last_is_output && l + 1 == nl, ws);
        int32_t *t = cur;
        cur = nxt;
        nxt = t;
    }
    return cur;
}

void et_batch_hidden(const evonet *net, const int16_t *X, size_t ld, size_t n, uint8_t *H,
                     size_t ldh, et_batch_ws *ws)
{
    unsigned nl = net->n_layers - 1u;
    unsigned nh = net->layers[nl - 1].n_out;
    prepare(net->layers, nl, ws);
    for (size_t s0 = 0; s0 < n; s0 += T) {
        size_t cnt = n - s0 < T ? n - s0 : T;
        store_tile_u8(run_layers(net, nl, 0, X, ld, s0, cnt, ws), nh, cnt, H, ldh, s0);
    }
}

void et_batch_last(const evonet_layer *L, const uint8_t *H, size_t ld, size_t n, int16_t *Y,
                   size_t ldy, et_batch_ws *ws)
{
    prepare(L, 1, ws);
    for (size_t s0 = 0; s0 < n; s0 += T) {
        size_t cnt = n - s0 < T ? n - s0 : T;
        load_tile_u8(H, ld, s0, cnt, L->n_in, ws->a);
        layer(L, 0, ws->a, ws->b, 1, ws);
        store_tile_s16(ws->b, L->n_out, cnt, Y, ldy, s0);
    }
}

void et_batch_forward(const evonet *net, const int16_t *X, size_t ld, size_t n, int16_t *Y,
                      size_t ldy, et_batch_ws *ws)
{
    unsigned nl = net->n_layers;
    unsigned no = net->layers[nl - 1].n_out;
    prepare(net->layers, nl, ws);
    for (size_t s0 = 0; s0 < n; s0 += T) {
        size_t cnt = n - s0 < T ? n - s0 : T;
        store_tile_s16(run_layers(net, nl, 1, X, ld, s0, cnt, ws), no, cnt, Y, ldy, s0);
    }
}
