/* Tests of the device kernel: exact requantization, forward pass against the
 * int64 reference, the validator's every refusal, and the exporter. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "et_rng.h"
#include "evonet_check.h"
#include "export.h"

/* A random network of the given widths, owning its arrays. */
typedef struct {
    evonet net;
    evonet_layer L[EVONET_MAX_LAYERS];
    void *mem[EVONET_MAX_LAYERS][2];
} tnet;

static void tnet_make(tnet *t, const unsigned *w, unsigned nl, gsl_rng *r, int wmax)
{
    memset(t, 0, sizeof *t);
    for (unsigned l = 0; l < nl; l++) {
        unsigned ni = w[l], no = w[l + 1], po = EVONET_PAD(no);
        uint8_t *u = calloc((size_t)po * ni, 1);
        evonet_chan *c = calloc(po, sizeof *c);
        for (unsigned o = 0; o < po; o++) {
            for (unsigned i = 0; i < ni; i++) {
                int v =
                    o < no ? (int)gsl_rng_uniform_int(r, (unsigned long)(2 * wmax + 1)) - wmax : 0;
                if (v > 127)
                    v = 127;
                u[((o / EVONET_GROUP) * ni + i) * EVONET_GROUP + o % EVONET_GROUP] =
                    (uint8_t)(v + 128);
            }
            c[o].bias = o < no ? (int32_t)gsl_rng_uniform_int(r, 200001) - 100000 : 0;
            /* Scales that keep activations spread over their range. */
            double typical = (l == 0 ? 300.0 : 100.0) * wmax * 2.0 * (double)ni;
            double target = l + 1 == nl ? 20000.0 : 300.0;
            evonet_requant_from_scale(target / typical * (0.3 + gsl_rng_uniform(r)), &c[o].mult,
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

static void random_input(gsl_rng *r, int16_t *x, unsigned n, unsigned kind)
{
    for (unsigned i = 0; i < n; i++) {
        switch (kind % 5) {
        case 0:
            x[i] = -32768;
            break;
        case 1:
            x[i] = 32767;
            break;
        case 2:
            x[i] = (int16_t)((i & 1) ? 2047 : -2048);
            break;
        case 3:
            x[i] = (int16_t)((int)gsl_rng_uniform_int(r, 65536) - 32768);
            break;
        default:
            x[i] = (int16_t)((int)gsl_rng_uniform_int(r, 801) - 400);
            break;
        }
    }
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    static const unsigned shapes[][EVONET_MAX_LAYERS + 1] = {{18, 16, 16, 6},
                                                             {1, 1},
                                                             {3, 5},
                                                             {7, 9, 2},
                                                             {18, 13, 11, 6},
                                                             {255, 4, 3},
                                                             {2, 3, 4, 5, 6, 7, 8, 9, 1},
                                                             {17, 255, 1},
                                                             {4, 4, 4, 4}};
    static const unsigned layers[] = {3, 1, 1, 2, 3, 2, 8, 2, 3};
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 2, 901, 0);
    int checked = 0, saturated = 0;
    for (size_t s = 0; s < sizeof layers / sizeof layers[0]; s++) {
        for (int rep = 0; rep < 4; rep++) {
            tnet t;
            tnet_make(&t, shapes[s], layers[s], r, shapes[s][0] > 100 ? 1 : 127);
            if (rep == 3) { /* output scales near 1 need shift 0 */
                evonet_chan *c = t.mem[layers[s] - 1][1];
                for (unsigned o = 0; o < shapes[s][layers[s]]; o++) {
                    c[o].shift = 0;
                    c[o].mult = (uint16_t)(1 + gsl_rng_uniform_int(r, 3000));
                }
            }
            char err[256];
            if (evonet_validate(&t.net, err, sizeof err) != 0)
                fail_msg("shape %zu: %s", s, err);
            size_t nb = evonet_scratch_bytes(&t.net);
            uint8_t *scratch = malloc(nb + 1);
            unsigned ni = shapes[s][0], no = shapes[s][layers[s]];
            for (unsigned v = 0; v < 300; v++) {
                int16_t x[256], y[256], yr[256];
                random_input(r, x, ni, v);
                evonet_forward(&t.net, x, y, scratch);
                evonet_forward_ref(&t.net, x, yr);
                for (unsigned k = 0; k < no; k++) {
                    if (y[k] != yr[k])
                        fail_msg("shape %zu vector %u output %u: %d != %d", s, v, k, y[k], yr[k]);
                    saturated += y[k] == 32767 || y[k] == -32768;
                    checked++;
                }
            }
            free(scratch);
            tnet_free(&t);
        }
    }
    assert_true(checked > 10000);
    assert_true(saturated > 0); /* the saturating path was exercised */
    gsl_rng_free(r);
}

/* Layer l of t in format fmt: its int8 weights divided by div, clamped to
 * the format's range and packed; the scale grows by div so that the
 * activations keep their spread. */
static void tnet_lowbit(tnet *t, unsigned l, unsigned fmt, int div)
{
    evonet_layer *L = &t->L[l];
    unsigned ni = L->n_in, no = L->n_out;
    int lo, hi;
    assert_int_not_equal(evonet_wfmt_range(fmt, &lo, &hi), 0);
    size_t nb = evonet_weight_bytes(fmt, ni, no);
    uint8_t *w = calloc(nb, 1);
    for (unsigned o = 0; o < no; o++)
        for (unsigned i = 0; i < ni; i++) {
            int v = evonet_weight(L, o, i) / div;
            v = v < lo ? lo : v > hi ? hi : v;
            evonet_weight_put(w, fmt, ni, o, i, v);
            L->wfmt = (uint16_t)fmt;
            L->w = w;
            assert_int_equal(evonet_weight(L, o, i), v); /* the one decoder reads it back */
            L->wfmt = EVONET_W8;
            L->w = t->mem[l][0];
        }
    evonet_chan *c = t->mem[l][1];
    for (unsigned o = 0; o < no; o++) {
        double sc = ldexp(c[o].mult, -(16 + c[o].shift)) * div;
        evonet_requant_from_scale(sc, &c[o].mult, &c[o].shift);
    }
    free(t->mem[l][0]);
    t->mem[l][0] = w;
    L->w = w;
    L->wfmt = (uint16_t)fmt;
}

/* Every weight format, alone and mixed per layer, at the widths and depths
 * of the int8 test: the kernel (fast or compact, whichever this build is)
 * equals the int64 reference, and each format's values all occur. */
static void test_lowbit_matches_reference(void **state)
{
    (void)state;
    static const unsigned shapes[][EVONET_MAX_LAYERS + 1] = {
        {18, 16, 16, 6}, {1, 1}, {7, 9, 2}, {18, 13, 11, 6}, {255, 4, 3}, {3, 40, 17, 9}};
    static const unsigned layers[] = {3, 1, 2, 3, 2, 3};
    static const int div[] = {1, 15, 50, 96};
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 3, 902, 0);
    long checked = 0;
    int seen[4][256] = {{0}};
    for (size_t s = 0; s < sizeof layers / sizeof layers[0]; s++)
        for (unsigned mode = 0; mode < 5; mode++) {
            tnet t;
            tnet_make(&t, shapes[s], layers[s], r, shapes[s][0] > 100 ? 1 : 127);
            for (unsigned l = 0; l < layers[s]; l++) {
                /* modes 1-3: every layer int4, int2, ternary; 4: mixed */
                unsigned f = mode < 4 ? mode : (unsigned)gsl_rng_uniform_int(r, 4);
                if (f)
                    tnet_lowbit(&t, l, f, shapes[s][0] > 100 ? 1 : div[f]);
                for (unsigned o = 0; o < shapes[s][l + 1]; o++)
                    for (unsigned i = 0; i < shapes[s][l]; i++)
                        seen[f][evonet_weight(&t.L[l], o, i) + 128] = 1;
            }
            char err[256];
            if (evonet_validate(&t.net, err, sizeof err) != 0)
                fail_msg("shape %zu mode %u: %s", s, mode, err);
            uint8_t *scratch = malloc(evonet_scratch_bytes(&t.net) + 1);
            unsigned ni = shapes[s][0], no = shapes[s][layers[s]];
            for (unsigned v = 0; v < 200; v++) {
                int16_t x[256], y[256], yr[256];
                random_input(r, x, ni, v);
                evonet_forward(&t.net, x, y, scratch);
                evonet_forward_ref(&t.net, x, yr);
                for (unsigned k = 0; k < no; k++, checked++)
                    if (y[k] != yr[k])
                        fail_msg("shape %zu mode %u vector %u output %u: %d != %d", s, mode, v, k,
                                 y[k], yr[k]);
            }
            free(scratch);
            tnet_free(&t);
        }
    for (unsigned f = 1; f < 4; f++) {
        int lo, hi;
        evonet_wfmt_range(f, &lo, &hi);
        for (int v = lo; v <= hi; v++)
            if (!seen[f][v + 128])
                fail_msg("format %u: weight %d never tested", f, v);
    }
    assert_true(checked > 10000);
    gsl_rng_free(r);
}

static void test_scratch_bytes(void **state)
{
    (void)state;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 3, 902, 0);
    tnet t;
    static const unsigned s1[] = {18, 13, 6};
    tnet_make(&t, s1, 2, r, 10);
    assert_int_equal(evonet_scratch_bytes(&t.net), EVONET_SCRATCH_BYTES(13));
    assert_int_equal(EVONET_SCRATCH_BYTES(13), 32);
    tnet_free(&t);
    static const unsigned s2[] = {5, 3};
    tnet_make(&t, s2, 1, r, 10);
    assert_int_equal(evonet_scratch_bytes(&t.net), 0);
    tnet_free(&t);
    gsl_rng_free(r);
}

/* Each refusal names the layer and the offending value. */
static void expect_invalid(const evonet *net, const char *needle)
{
    char err[256] = "";
    assert_int_equal(evonet_validate(net, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("message '%s' does not contain '%s'", err, needle);
}

static void test_validator_refusals(void **state)
{
    (void)state;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 4, 903, 0);
    static const unsigned sh[] = {18, 16, 6};
    tnet t;
    tnet_make(&t, sh, 2, r, 127);
    char err[256];
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);

    t.net.n_layers = 0;
    expect_invalid(&t.net, "layer count 0");
    t.net.n_layers = EVONET_MAX_LAYERS + 1;
    expect_invalid(&t.net, "layer count 9");
    t.net.n_layers = 2;

    evonet_chan *c1 = t.mem[1][1], *c0 = t.mem[0][1];
    t.L[1].wfmt = 4;
    expect_invalid(&t.net, "layer 1: weight format 4 is not one of");
    t.L[1].wfmt = EVONET_W8;
    /* A ternary weight cannot be +1 and -1 at once. */
    tnet_lowbit(&t, 1, EVONET_WT, 96);
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);
    uint8_t *tw = t.mem[1][0];
    tw[2] |= 1, tw[3] |= 1;
    expect_invalid(&t.net, "layer 1: a ternary weight is both +1 and -1 (bytes 2, 3)");
    tw[3] &= (uint8_t)~1u;
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);

    c1[3].mult = 0;
    expect_invalid(&t.net, "layer 1 output 3: mult 0");
    c1[3].mult = 1000;
    c0[5].shift = 0; /* total shift 16: scales up to 65535/65536 */
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);
    c0[5].shift = 32;
    expect_invalid(&t.net, "layer 0 output 5: shift 32 is outside [0, 31]");
    c0[5].shift = 20;
    c1[2].bias = (1 << 30) + 1;
    expect_invalid(&t.net, "layer 1 output 2: bias 1073741825");
    c1[2].bias = 0;
    c1[EVONET_PAD(6) - 1].bias = 7; /* a padding output */
    expect_invalid(&t.net, "layer 1: padding output 7");
    c1[EVONET_PAD(6) - 1].bias = 0;
    t.L[1].n_in = 15;
    expect_invalid(&t.net, "layer 1: 15 inputs but layer 0 has 16 outputs");
    t.L[1].n_in = 16;
    t.L[0].n_out = 0;
    expect_invalid(&t.net, "layer 0: size 18x0");
    t.L[0].n_out = 16;
    const uint8_t *w = t.L[0].w;
    t.L[0].w = NULL;
    expect_invalid(&t.net, "layer 0: missing");
    t.L[0].w = w;
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);
    tnet_free(&t);

    /* 255 full-range int16 inputs with w = 127: sum(u * x) passes 2^31 on the
     * way (the kernel's unsigned accumulators wrap exactly), the final value
     * stays within 2^30 and is accepted; a bias on top of it is not. */
    static const unsigned wide[] = {255, 4};
    tnet_make(&t, wide, 1, r, 127);
    uint8_t *u = t.mem[0][0];
    evonet_chan *wc = t.mem[0][1];
    for (unsigned i = 0; i < 255; i++)
        u[i * EVONET_GROUP] = 255;
    wc[0].bias = 0;
    assert_int_equal(evonet_validate(&t.net, err, sizeof err), 0);
    int16_t x[255], y[4], yr[4];
    uint8_t scratch[8];
    for (unsigned i = 0; i < 255; i++)
        x[i] = 32767;
    evonet_forward(&t.net, x, y, scratch);
    evonet_forward_ref(&t.net, x, yr);
    assert_memory_equal(y, yr, sizeof y);
    for (unsigned i = 0; i < 255; i++)
        x[i] = -32768;
    evonet_forward(&t.net, x, y, scratch);
    evonet_forward_ref(&t.net, x, yr);
    assert_memory_equal(y, yr, sizeof y);
    wc[0].bias = 20000000;
    expect_invalid(&t.net, "layer 0 output 0: accumulator can reach");
    tnet_free(&t);
    gsl_rng_free(r);
}

static char *export_to_string(const evonet *net, const et_export_info *info, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rc = et_export_write(f, net, info);
    fclose(f);
    return buf;
}

static void test_export_deterministic_and_checked(void **state)
{
    (void)state;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 5, 904, 0);
    static const unsigned sh[] = {18, 16, 16, 6};
    tnet t;
    tnet_make(&t, sh, 3, r, 127);
    int16_t tin[3 * 18];
    for (unsigned i = 0; i < 3 * 18; i++)
        tin[i] = (int16_t)(i * 37 - 900);
    static const char *const names[] = {"x (0.01 mm)",     "y (0.01 mm)",      "z (0.01 mm)",
                                        "roll (0.01 deg)", "pitch (0.01 deg)", "yaw (0.01 deg)"};
    et_export_info info = {.name = "pose_net",
                           .provenance = "test",
                           .input_doc = "18 ADC counts",
                           .output_names = names,
                           .test_in = tin,
                           .n_tests = 3};
    int rc1, rc2;
    char *a = export_to_string(&t.net, &info, &rc1);
    char *b = export_to_string(&t.net, &info, &rc2);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "#define POSE_NET_N_IN 18"));
    assert_non_null(strstr(a, "#define POSE_NET_N_OUT 6"));
    assert_non_null(
        strstr(a, "static inline void pose_net_infer(const int16_t in[], int16_t out[])"));
    assert_non_null(strstr(a, "static inline int pose_net_selftest(void)"));
    assert_non_null(strstr(a, "EVONET_ABI_VERSION != 4"));
    assert_non_null(strstr(a, "roll (0.01 deg)"));
    free(a);
    free(b);

    info.name = "9bad";
    a = export_to_string(&t.net, &info, &rc1);
    assert_int_equal(rc1, -1);
    free(a);
    info.name = "pose_net";
    evonet_chan *c2 = t.mem[2][1];
    c2[0].mult = 0; /* a network the kernel cannot run exactly is refused */
    a = export_to_string(&t.net, &info, &rc1);
    assert_int_equal(rc1, -1);
    free(a);
    tnet_free(&t);
    gsl_rng_free(r);
}

static void test_requant_from_scale(void **state)
{
    (void)state;
    uint16_t m, s;
    evonet_requant_from_scale(1.0 / 600.0, &m, &s);
    assert_true(m >= 32768);
    double got = m / (double)(1ull << (16 + s));
    assert_true(got > (1.0 / 600.0) * (1 - 1e-4) && got < (1.0 / 600.0) * (1 + 1e-4));
    evonet_requant_from_scale(10.0, &m, &s); /* beyond the range: clamped */
    assert_int_equal(s, 0);
    assert_int_equal(m, 65535);
    /* Scales in [0.5, 1), the trainer's output scales among them, need shift 0. */
    evonet_requant_from_scale(0.75, &m, &s);
    assert_int_equal(s, 0);
    assert_int_equal(m, 49152);
    evonet_requant_from_scale(0.3, &m, &s);
    assert_int_equal(s, 1);
    assert_true(m >= 32768);
    evonet_requant_from_scale(1e-30, &m, &s);
    assert_int_equal(s, 31);
    assert_int_equal(m, 1);
    /* The search that starts near the answer agrees with the plain one from
     * shift 31 down, on scales around every power of two and at the
     * rounding edges of 65535.5. */
    for (int ex = -60; ex <= 20; ex++)
        for (int k = -3; k <= 3; k++) {
            double edge = 65535.5 / (double)(1ull << 16), sc = ldexp(1.0, ex) * (1 + k * 1e-12);
            double cases[3] = {sc, ldexp(edge, ex) * (1 + k * 1e-15), sc * 1.37};
            for (int c = 0; c < 3; c++) {
                uint16_t rm = 65535, rs = 0;
                for (int r = 31; r >= 0; r--) {
                    double v = cases[c] * (double)((int64_t)1 << (16 + r));
                    if (v < 65535.5) {
                        long mi = (long)(v + 0.5);
                        rm = (uint16_t)(mi < 1 ? 1 : mi);
                        rs = (uint16_t)r;
                        break;
                    }
                }
                evonet_requant_from_scale(cases[c], &m, &s);
                assert_int_equal(m, rm);
                assert_int_equal(s, rs);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_lowbit_matches_reference),
        cmocka_unit_test(test_scratch_bytes),
        cmocka_unit_test(test_validator_refusals),
        cmocka_unit_test(test_export_deterministic_and_checked),
        cmocka_unit_test(test_requant_from_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
