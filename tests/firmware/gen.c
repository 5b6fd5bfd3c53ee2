/* Generates the firmware test's data with the real exporter: a random
 * 18-16-16-6 network per weight format as an exported header (fixture_net.h
 * with int8 weights, fixture_w4.h, fixture_w2.h, fixture_wt.h), the test vectors
 * (vectors.h, including extreme inputs) and the outputs the host kernel gives
 * for them (expected.txt). It also checks the host kernel against the int64
 * reference on every vector before the device ever runs.
 * Usage: gen OUTDIR [SEED] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "et_rng.h"
#include "evonet_check.h"
#include "export.h"

#define N_VEC 1200
static const unsigned sizes[] = {18, 16, 16, 6};
#define NL 3

/* Names of the fixtures, one per weight format: the firmware runs each. */
static const char *const fixture[] = {"fixture_net", "fixture_w4", "fixture_w2", "fixture_wt"};
#define N_FMT 4

/* A random network with fmt weights; its arrays go to owned[] to be freed. */
static int make_net(gsl_rng *r, unsigned fmt, evonet_layer *L, void *owned[NL][2], evonet *net)
{
    /* RMS of a uniform weight of each format, for scales that keep the
     * activations spread over [0, 255] rather than all saturated. */
    static const double rms_w[N_FMT] = {74.0, 4.6, 1.2, 0.8};
    int lo, hi;
    evonet_wfmt_range(fmt, &lo, &hi);
    /* Typical |x| of each layer's input. */
    double typical_in = 150.0;
    for (unsigned l = 0; l < NL; l++) {
        unsigned ni = sizes[l], no = sizes[l + 1], po = EVONET_PAD(no);
        size_t nb = evonet_weight_bytes(fmt, ni, no);
        uint8_t *w = malloc(nb);
        memset(w, fmt == EVONET_W8 ? 128 : 0, nb);
        evonet_chan *c = calloc(po, sizeof *c);
        for (unsigned o = 0; o < no; o++)
            for (unsigned i = 0; i < ni; i++)
                evonet_weight_put(w, fmt, ni, o, i,
                                  lo + (int)gsl_rng_uniform_int(r, (unsigned long)(hi - lo + 1)));
        double typical_acc = typical_in * rms_w[fmt] * 4.0; /* sqrt(n) * rms(w), roughly */
        for (unsigned o = 0; o < po; o++) {
            c[o].bias = o < no ? (int32_t)gsl_rng_uniform_int(r, 20001) - 10000 : 0;
            if (fmt != EVONET_W8)
                c[o].bias = o < no ? c[o].bias / 16 : 0;
            double scale = (l + 1 < NL ? 100.0 : 20000.0) / typical_acc;
            scale *= 0.5 + gsl_rng_uniform(r);
            evonet_requant_from_scale(scale, &c[o].mult, &c[o].shift);
        }
        L[l] = (evonet_layer){w, c, (uint16_t)ni, (uint16_t)no, (uint16_t)fmt};
        owned[l][0] = w, owned[l][1] = c;
        typical_in = 80.0;
    }
    *net = (evonet){L, NL};
    char err[256];
    if (evonet_validate(net, err, sizeof err) != 0) {
        fprintf(stderr, "gen: fixture network invalid: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen OUTDIR [SEED]\n");
        return 2;
    }
    unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, seed, 100, 0);

    evonet_layer L[N_FMT][NL];
    void *owned[N_FMT][NL][2];
    evonet nets[N_FMT];
    /* The int8 network first, then the vectors: both as before the low-bit
     * formats came, so bench-m0's int8 figures stay comparable. */
    if (make_net(r, EVONET_W8, L[0], owned[0], &nets[0]) != 0)
        return 1;
    static int16_t in[N_VEC][18];
    static const int16_t extremes[] = {-2048, 2047, -32768, 32767, 0, -1, 1};
    unsigned v = 0;
    for (unsigned e = 0; e < sizeof extremes / sizeof extremes[0]; e++, v++)
        for (unsigned i = 0; i < 18; i++)
            in[v][i] = extremes[e];
    for (unsigned alt = 0; alt < 4; alt++, v++) /* alternating signs at the ADC limits */
        for (unsigned i = 0; i < 18; i++)
            in[v][i] = (int16_t)(((i + alt) & 1) ? 2047 : -2048);
    for (; v < N_VEC; v++) {
        /* Mostly sensor-like magnitudes, some full-range ADC values, some
         * full int16 range: the kernel must be exact for all of them. */
        double span = v % 10 == 0 ? 65535 : v % 10 == 1 ? 4095 : 60 + (double)(v % 7) * 100;
        for (unsigned i = 0; i < 18; i++) {
            double x = (gsl_rng_uniform(r) - 0.5) * span;
            in[v][i] = (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x);
        }
    }

    for (unsigned f = 1; f < N_FMT; f++)
        if (make_net(r, f, L[f], owned[f], &nets[f]) != 0)
            return 1;

    char path[4096], prov[160];
    for (unsigned f = 0; f < N_FMT; f++) {
        snprintf(path, sizeof path, "%s/%s.h", argv[1], fixture[f]);
        FILE *h = fopen(path, "w");
        if (!h) {
            perror(path);
            return 1;
        }
        snprintf(prov, sizeof prov,
                 "fixture for the firmware test: a random network (weight format %u) from "
                 "tests/firmware/gen.c",
                 f);
        et_export_info info = {.name = fixture[f],
                               .provenance = f ? prov
                                               : "fixture for the firmware test: a random network "
                                                 "from tests/firmware/gen.c",
                               .input_doc = "18 int16 values, any in [-32768, 32767]",
                               .output_names = NULL,
                               .test_in = &in[0][0],
                               .n_tests = 16};
        if (et_export_write(h, &nets[f], &info) != 0 || fclose(h) != 0)
            return 1;
    }

    snprintf(path, sizeof path, "%s/vectors.h", argv[1]);
    FILE *f = fopen(path, "w");
    snprintf(path, sizeof path, "%s/expected.txt", argv[1]);
    FILE *e = fopen(path, "w");
    if (!f || !e) {
        perror(path);
        return 1;
    }
    fprintf(f, "/* generated by tests/firmware/gen.c (seed %lu): firmware test inputs */\n", seed);
    fprintf(f, "#define FW_N_VECTORS %d\n#define FW_BENCH_VECTOR 20\n", N_VEC);
    fprintf(f, "static const int16_t fw_vectors[%d][18] = {\n", N_VEC);
    uint8_t scratch[160];
    int mismatches = 0, saturated = 0;
    for (v = 0; v < N_VEC; v++) {
        fprintf(f, "    {");
        for (unsigned i = 0; i < 18; i++)
            fprintf(f, "%d%s", in[v][i], i < 17 ? "," : "");
        fprintf(f, "},\n");
    }
    /* expected.txt: every network over every vector, network by network, as
     * the firmware prints them. */
    for (unsigned n = 0; n < N_FMT; n++)
        for (v = 0; v < N_VEC; v++) {
            int16_t y[6], yr[6];
            evonet_forward(&nets[n], in[v], y, scratch);
            evonet_forward_ref(&nets[n], in[v], yr);
            for (unsigned k = 0; k < 6; k++) {
                fprintf(e, "%s%d", k ? " " : "", y[k]);
                mismatches += y[k] != yr[k];
                saturated += y[k] == 32767 || y[k] == -32768;
            }
            fputc('\n', e);
        }
    fprintf(f, "};\n");
    if (fclose(f) != 0 || fclose(e) != 0)
        return 1;
    gsl_rng_free(r);
    for (unsigned n = 0; n < N_FMT; n++)
        for (unsigned l = 0; l < NL; l++)
            for (unsigned k = 0; k < 2; k++)
                free(owned[n][l][k]);
    if (mismatches) {
        fprintf(stderr, "gen: host kernel differs from the int64 reference in %d outputs\n",
                mismatches);
        return 1;
    }
    fprintf(stderr,
            "gen: %d vectors x %d weight formats, host kernel == reference; %d saturated "
            "outputs\n",
            N_VEC, N_FMT, saturated);
    return 0;
}
