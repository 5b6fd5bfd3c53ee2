/* warmstart: a float network trained elsewhere -> the search's start point.
 *
 * File layout (CSV, one line per neuron, layer after layer, first layer
 * first): each line holds the neuron's n_in input weights then its bias, as
 * PyTorch's Linear stores them (weight[o, :], bias[o]). Blank lines and lines
 * starting with '#' are ignored. The float network takes the raw ADC counts
 * and outputs the pose in mm and degrees, with ReLU after every hidden layer.
 *
 * Quantization, layer by layer, with a the float pre-activation:
 *   the inputs of layer l are integer activations h = a_prev / alpha_prev
 *   (alpha_prev: float units per activation step; alpha = 1 for the counts),
 *   so the layer's effective weights are alpha_prev * W. They are quantized
 *   with one step delta = max |alpha_prev W| / 127 per layer, biases to
 *   b / delta, and the requantization scale is delta / alpha_l, where alpha_l
 *   puts the 99th percentile of the layer's positive pre-activations (on
 *   calibration data) at 200 of 255. The output layer's alpha is 0.01 (the
 *   outputs are in 0.01 mm and 0.01 deg). */
#include "warmstart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define WARM_MAX_LINE (1 << 16)

/* Reads exactly the neurons g's layers need. 0, or -1 reported. */
static int read_layers(const char *path, const et_genome *g, double **W)
{
    FILE *f = et_fopen_read(path, NULL);
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long ln = 0;
    unsigned l = 0, o = 0;
    int rc = -1, overlong;
    /* 256 inputs of 17 characters and a bias are 4.4 kB: a longer line is
     * not a layer's neuron, and reading it whole could cost any amount. */
    while (et_getline_max(&line, &cap, f, WARM_MAX_LINE, &overlong) >= 0) {
        ln++;
        if (overlong) {
            et_error(path, ln, "line longer than %d bytes", WARM_MAX_LINE);
            goto out;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\n' || *p == '\r' || *p == '\0' || *p == '#')
            continue;
        if (l == g->n_layers) {
            et_error(path, ln, "more neurons than the network's %u layers have", g->n_layers);
            goto out;
        }
        unsigned ni = g->sizes[l], want = ni + 1, got = 0;
        for (char *tok = strtok(p, ",\r\n"); tok; tok = strtok(NULL, ",\r\n")) {
            double v;
            if (et_parse_double(tok, &v) != 0) {
                et_error(path, ln, "'%s' is not a finite number", tok);
                goto out;
            }
            if (got < want)
                W[l][(size_t)o * want + got] = v;
            got++;
        }
        if (got != want) {
            et_error(path, ln,
                     "layer %u neuron %u has %u values; expected %u (%u weights and the bias)", l,
                     o, got, want, ni);
            goto out;
        }
        if (++o == g->sizes[l + 1]) {
            o = 0;
            l++;
        }
    }
    if (l != g->n_layers) {
        et_error(path, ln, "file ends in layer %u neuron %u; the network has %u layers (%u", l, o,
                 g->n_layers, g->sizes[0]);
        for (unsigned k = 1; k <= g->n_layers; k++)
            fprintf(stderr, "-%u", g->sizes[k]);
        fprintf(stderr, ")\n");
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

int et_warmstart(const char *path, et_genome *g, double *x0, const et_data *cal)
{
    double *W[EVONET_MAX_LAYERS] = {0};
    for (unsigned l = 0; l < g->n_layers; l++)
        W[l] = et_calloc((size_t)g->sizes[l + 1] * (g->sizes[l] + 1), sizeof(double));
    int rc = read_layers(path, g, W);
    if (rc != 0)
        goto out;
    size_t n = cal->n < 4096 ? cal->n : 4096;
    /* Float activations of the calibration samples, layer by layer. */
    double *h = et_malloc(sizeof(double) * n * EVONET_MAX_WIDTH);
    double *a = et_malloc(sizeof(double) * n * EVONET_MAX_WIDTH);
    double *pos = et_malloc(sizeof(double) * n * EVONET_MAX_WIDTH);
    for (size_t s = 0; s < n; s++)
        for (unsigned i = 0; i < g->sizes[0]; i++)
            h[s * EVONET_MAX_WIDTH + i] = cal->X[(size_t)i * cal->ld + s];
    double alpha_prev = 1.0;
    for (unsigned l = 0; l < g->n_layers; l++) {
        unsigned ni = g->sizes[l], no = g->sizes[l + 1];
        int last = l + 1 == g->n_layers;
        double wmax = 0;
        for (unsigned o = 0; o < no; o++)
            for (unsigned i = 0; i < ni; i++)
                wmax = fmax(wmax, fabs(alpha_prev * W[l][(size_t)o * (ni + 1) + i]));
        double delta = wmax > 0 ? wmax / 127.0 : 1.0;
        size_t np = 0;
        for (size_t s = 0; s < n; s++)
            for (unsigned o = 0; o < no; o++) {
                double v = W[l][(size_t)o * (ni + 1) + ni];
                for (unsigned i = 0; i < ni; i++)
                    v += W[l][(size_t)o * (ni + 1) + i] * alpha_prev * h[s * EVONET_MAX_WIDTH + i];
                a[s * EVONET_MAX_WIDTH + o] = v;
                if (v > 0)
                    pos[np++] = v;
            }
        double alpha = 0.01;
        if (!last) {
            qsort(pos, np, sizeof *pos, cmp_d);
            double q = np ? pos[(size_t)(0.99 * (double)(np - 1))] : 1.0;
            alpha = (q > 0 ? q : 1.0) / 200.0;
        }
        if (l < g->n_search) {
            /* The genome's units: one weight step, and bias_unit accumulator
             * steps, by the calibration's rule. */
            g->bias_unit[l] = et_genome_bias_unit(h, n, ni, EVONET_MAX_WIDTH);
            for (unsigned o = 0; o < no; o++) {
                for (unsigned i = 0; i < ni; i++)
                    x0[g->off_w[l] + (size_t)o * ni + i] =
                        nearbyint(alpha_prev * W[l][(size_t)o * (ni + 1) + i] / delta);
                x0[g->off_b[l] + o] = W[l][(size_t)o * (ni + 1) + ni] / delta / g->bias_unit[l];
            }
        }
        for (unsigned o = 0; o < no; o++)
            g->base_scale[l][o] = delta / alpha;
        /* Integer-like activations for the next layer, as the kernel will
         * see them (float, but on the same grid). */
        for (size_t s = 0; s < n; s++)
            for (unsigned o = 0; o < no; o++) {
                double v = floor(a[s * EVONET_MAX_WIDTH + o] / alpha);
                h[s * EVONET_MAX_WIDTH + o] = v < 0 ? 0 : v > 255 ? 255 : v;
            }
        alpha_prev = alpha;
    }
    free(h);
    free(a);
    free(pos);
out:
    for (unsigned l = 0; l < g->n_layers; l++)
        free(W[l]);
    return rc;
}
