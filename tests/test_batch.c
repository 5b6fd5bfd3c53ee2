/* The batched host kernel gives exactly evonet_forward's outputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "et_rng.h"
#include "evonet_check.h"

typedef struct {
    evonet net;
    evonet_layer L[EVONET_MAX_LAYERS];
    void *mem[EVONET_MAX_LAYERS][2];
} tnet;

static void tnet_make(tnet *t, const unsigned *w, unsigned nl, gsl_rng *r)
{
    memset(t, 0, sizeof *t);
    for (unsigned l = 0; l < nl; l++) {
        unsigned ni = w[l], no = w[l + 1], po = EVONET_PAD(no);
        uint8_t *u = calloc((size_t)po * ni, 1);
        evonet_chan *c = calloc(po, sizeof *c);
        for (unsigned o = 0; o < po; o++) {
            for (unsigned i = 0; i < ni; i++)
                u[((o / EVONET_GROUP) * ni + i) * EVONET_GROUP + o % EVONET_GROUP] =
                    (uint8_t)(o < no ? 1 + gsl_rng_uniform_int(r, 255) : 128);
            c[o].bias = o < no ? (int32_t)gsl_rng_uniform_int(r, 400001) - 200000 : 0;
            double typical = (l == 0 ? 300.0 : 100.0) * 70.0 * (double)ni;
            double target = l + 1 == nl ? 30000.0 : 300.0;
            evonet_requant_from_scale(target / typical * (0.2 + gsl_rng_uniform(r)), &c[o].mult,
                                      &c[o].shift);
        }
        t->L[l] = (evonet_layer){
            .w = u, .chan = c, .n_in = (uint16_t)ni, .n_out = (uint16_t)no, .wfmt = EVONET_W8};
        t->mem[l][0] = u, t->mem[l][1] = c;
    }
    t->net = (evonet){t->L, (uint16_t)nl};
}

static void tnet_free(tnet *t)
{
    for (unsigned l = 0; l < EVONET_MAX_LAYERS; l++)
        for (unsigned k = 0; k < 2; k++)
            free(t->mem[l][k]);
}

/* Every layer of t in weight format fmt (> 0): int8 weights divided by div
 * and clamped, the scales grown by div. The batched twin reads any format
 * through evonet_weight, so this proves its path for each width. */
static void tnet_to_fmt(tnet *t, unsigned nl, unsigned fmt, int div)
{
    int lo, hi;
    evonet_wfmt_range(fmt, &lo, &hi);
    for (unsigned l = 0; l < nl; l++) {
        evonet_layer *L = &t->L[l];
        uint8_t *w = calloc(evonet_weight_bytes(fmt, L->n_in, L->n_out), 1);
        for (unsigned o = 0; o < L->n_out; o++)
            for (unsigned i = 0; i < L->n_in; i++) {
                int v = evonet_weight(L, o, i) / div;
                evonet_weight_put(w, fmt, L->n_in, o, i, v < lo ? lo : v > hi ? hi : v);
            }
        evonet_chan *c = t->mem[l][1];
        for (unsigned o = 0; o < L->n_out; o++)
            evonet_requant_from_scale(ldexp(c[o].mult, -(16 + c[o].shift)) * div, &c[o].mult,
                                      &c[o].shift);
        free(t->mem[l][0]);
        t->mem[l][0] = w;
        L->w = w;
        L->wfmt = (uint16_t)fmt;
    }
}

static void check_batch_matches_kernel(void)
{
    static const unsigned shapes[][5] = {
        {18, 16, 16, 6}, {18, 13, 7}, {5, 3, 2, 9, 4}, {1, 1, 1}, {40, 31, 1}};
    static const unsigned layers[] = {3, 2, 4, 2, 2};
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 7, 910, 0);
    long compared = 0, saturated = 0;
    static const int div[] = {1, 15, 50, 96};
    /* Each shape with int8 weights, then again as int4, int2, ternary. */
    for (size_t kf = 0; kf < 4 * (sizeof layers / sizeof layers[0]); kf++) {
        size_t k = kf % (sizeof layers / sizeof layers[0]);
        unsigned fmt = (unsigned)(kf / (sizeof layers / sizeof layers[0]));
        tnet t;
        tnet_make(&t, shapes[k], layers[k], r);
        if (fmt)
            tnet_to_fmt(&t, layers[k], fmt, div[fmt]);
        char err[256];
        if (evonet_validate(&t.net, err, sizeof err))
            fail_msg("%s", err);
        unsigned ni = shapes[k][0], no = shapes[k][layers[k]];
        size_t n = 1000, ld = 1003; /* not a multiple of the tile */
        int16_t *X = calloc((size_t)ni * ld, sizeof *X);
        int16_t *Y = calloc((size_t)no * ld, sizeof *Y);
        uint8_t *H = calloc((size_t)64 * ld, 1);
        for (size_t s = 0; s < n; s++)
            for (unsigned i = 0; i < ni; i++) {
                int v;
                switch (s % 6) {
                case 0:
                    v = -32768;
                    break;
                case 1:
                    v = 32767;
                    break;
                case 2:
                    v = (i + s) & 1 ? 2047 : -2048;
                    break;
                case 3:
                    v = (int)gsl_rng_uniform_int(r, 65536) - 32768;
                    break;
                default:
                    v = (int)gsl_rng_uniform_int(r, 601) - 300;
                    break;
                }
                X[i * ld + s] = (int16_t)v;
            }
        et_batch_ws *ws = et_batch_ws_alloc(64);
        et_batch_forward(&t.net, X, ld, n, Y, ld, ws);
        uint8_t scratch[128];
        for (size_t s = 0; s < n; s++) {
            int16_t x[64], y[64];
            for (unsigned i = 0; i < ni; i++)
                x[i] = X[i * ld + s];
            evonet_forward(&t.net, x, y, scratch);
            for (unsigned o = 0; o < no; o++) {
                if (y[o] != Y[o * ld + s])
                    fail_msg("shape %zu format %u sample %zu out %u: kernel %d batch %d", k, fmt, s,
                             o, y[o], Y[o * ld + s]);
                saturated += y[o] == 32767 || y[o] == -32768;
                compared++;
            }
        }
        /* The split path (hidden layers, then the last) agrees too. */
        if (layers[k] >= 2) {
            int16_t *Y2 = calloc((size_t)no * ld, sizeof *Y2);
            et_batch_hidden(&t.net, X, ld, n, H, ld, ws);
            et_batch_last(&t.L[layers[k] - 1], H, ld, n, Y2, ld, ws);
            for (unsigned o = 0; o < no; o++)
                assert_memory_equal(Y + o * ld, Y2 + o * ld, n * sizeof *Y);
            free(Y2);
        }
        et_batch_ws_free(ws);
        free(X);
        free(Y);
        free(H);
        tnet_free(&t);
    }
    assert_true(compared > 10000);
    assert_true(saturated > 0);
    gsl_rng_free(r);
}

/* The processor-specific path (AVX-512BW where the machine has it). */
static void test_batch_matches_kernel(void **state)
{
    (void)state;
    et_batch_generic_only = 0;
    check_batch_matches_kernel();
}

/* The portable path, which every other machine takes. */
static void test_generic_batch_matches_kernel(void **state)
{
    (void)state;
    et_batch_generic_only = 1;
    check_batch_matches_kernel();
    et_batch_generic_only = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_matches_kernel),
        cmocka_unit_test(test_generic_batch_matches_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
