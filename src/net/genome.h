/* genome: the search space. A vector of doubles <-> an integer network.
 *
 * The optimizer sees only a vector. Its coordinates, layer by layer for the
 * searched layers (every hidden layer; the output layer too unless it is
 * fitted by ridge regression per candidate):
 *   weights  n_out * n_in, one unit = one weight step: w = clamp(round(g), -127, 127)
 *            (int4, int2, ternary layers: clamped to [-8, 7], [-2, 1], [-1, 1])
 *   biases   n_out, one unit = bias_unit[l] accumulator steps: b = round(g * bias_unit[l])
 *   scales   with scale search, 1 (per layer) or n_out (per channel) log2
 *            genes: scale = base_scale * 2^(g / 8), 8 units per octave
 * Requantization multiplier and shift come from the scale (evonet_requant_
 * from_scale); without scale search the scale is base_scale, calibrated once
 * on data at the start so that a unit's 99th percentile activation lands
 * near 200 of 255 (see fitness.c). Weight coordinates lie on an integer grid
 * (et_genome_grid), which the optimizer's step floor and margin need. */
#ifndef ET_GENOME_H
#define ET_GENOME_H

#include <stddef.h>
#include <stdint.h>

#include "evonet.h"

/* An integer network that owns its arrays, in the kernel's layout. Use the
 * accessors below rather than the arrays: they stay when the layout changes. */
typedef struct et_net {
    unsigned n_layers;
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    uint8_t *w[EVONET_MAX_LAYERS];
    evonet_chan *c[EVONET_MAX_LAYERS]; /* EVONET_PAD(n_out) channel records */
    evonet_layer L[EVONET_MAX_LAYERS];
    evonet net; /* points into the arrays above: pass &n->net to the kernel */
} et_net;

et_net *et_net_alloc(const unsigned *sizes, unsigned n_layers);
void et_net_free(et_net *n);
void et_net_copy(et_net *dst, const et_net *src); /* same shape */
/* w in the layer's weight format's range (evonet_wfmt_range: [-128, 127]
 * for int8, the default). */
void et_net_set_w(et_net *n, unsigned l, unsigned o, unsigned i, int w);
int et_net_get_w(const et_net *n, unsigned l, unsigned o, unsigned i);
/* Layer l's weight format (EVONET_W8 ...); setting it converts the layer's
 * weights, clamped to the new format's range. */
unsigned et_net_wfmt(const et_net *n, unsigned l);
void et_net_set_wfmt(et_net *n, unsigned l, unsigned fmt);
/* Bias of output o, in accumulator steps ([-2^30, 2^30] for a valid net). */
void et_net_set_bias(et_net *n, unsigned l, unsigned o, int32_t b);
int32_t et_net_bias(const et_net *n, unsigned l, unsigned o);
/* Sets a layer's (mult, shift) of output o from a real scale. */
void et_net_set_scale(et_net *n, unsigned l, unsigned o, double scale);
double et_net_get_scale(const et_net *n, unsigned l, unsigned o);
/* Flat bytes (little-endian, fixed order) for checkpoints; size query first. */
size_t et_net_bytes(const et_net *n);
void et_net_write(const et_net *n, unsigned char *buf);
/* NULL (with message in err) if buf does not hold a network of this shape. */
et_net *et_net_read(const unsigned char *buf, size_t len, char *err, size_t errlen);

typedef struct et_genome {
    unsigned n_layers, sizes[EVONET_MAX_LAYERS + 1];
    unsigned n_search; /* layers 0 .. n_search - 1 are in the genome */
    int scale_genes;   /* 0 none, 1 per layer, 2 per channel */
    int per_layer;     /* calibrate one scale per layer, not per channel */
    size_t dim;
    size_t off_w[EVONET_MAX_LAYERS], off_b[EVONET_MAX_LAYERS], off_s[EVONET_MAX_LAYERS];
    double bias_unit[EVONET_MAX_LAYERS];
    /* |bias| limit that keeps every accumulator within the kernel's 2^30
     * whatever the weights (+-127) and inputs: 2^30 - n_in * 127 * max|x|. */
    double bias_lim[EVONET_MAX_LAYERS];
    double *base_scale[EVONET_MAX_LAYERS]; /* per output channel */
    /* Weight format per layer (EVONET_W8 unless et_genome_set_wfmt) and
     * the integer grid's ends [wlo, whi] that decoding clamps to. */
    unsigned wfmt[EVONET_MAX_LAYERS];
    int wlo[EVONET_MAX_LAYERS], whi[EVONET_MAX_LAYERS];
} et_genome;

/* ridge_output: the last layer is fitted per candidate, not searched.
 * NULL, with a message in err, if a layer is too wide for the kernel's
 * integer ranges (its inputs alone could overflow the accumulator). */
et_genome *et_genome_alloc(const unsigned *sizes, unsigned n_layers, int ridge_output,
                           int scale_genes, char *err, size_t errlen);
void et_genome_free(et_genome *g);
/* Weight formats of every layer (n_layers values, EVONET_W8 ... EVONET_WT);
 * the genome's weight grid is then the format's integers. */
void et_genome_set_wfmt(et_genome *g, const unsigned *wfmt);
/* Gives every layer of n the genome's weight format. */
void et_net_set_wfmt_all(et_net *n, const et_genome *g);

/* 1 for weight coordinates (integer grid); `other` for biases and scale
 * genes: 0 leaves them continuous, a positive value gives them a pseudo-grid
 * so that the optimizer's step floor keeps them moving too when its global
 * step size has collapsed. */
void et_genome_grid(const et_genome *g, double other, double *step);

/* A start point: weights drawn N(0, w_sd) from (seed), biases and scale genes 0. */
void et_genome_init(const et_genome *g, uint64_t seed, double w_sd, double *x0);

/* The bias unit of a layer, from n samples of its inputs (h[s * ld + i], i <
 * ni): a bias step of one unit moves the accumulator like four weight steps
 * on a typical (RMS) input, and never by less than four accumulator steps.
 * The one rule for et_fitness_calibrate and the warm start. */
double et_genome_bias_unit(const double *h, size_t n, unsigned ni, size_t ld);

/* The calibration (every layer's bias unit and base scales) as bytes, for
 * checkpoints: per layer the bias unit, then the base scales, host doubles
 * (x86-64 and ARM64 agree). _read expects et_genome_cal_bytes(g) bytes, at
 * any alignment. _copy: between two genomes of the same shape (each raced
 * start has its own). */
size_t et_genome_cal_bytes(const et_genome *g);
void et_genome_cal_write(const et_genome *g, unsigned char *buf);
void et_genome_cal_read(et_genome *g, const unsigned char *buf);
void et_genome_cal_copy(et_genome *dst, const et_genome *src);

/* Fills the searched layers of net from x; other layers are left alone. */
void et_genome_decode(const et_genome *g, const double *x, et_net *net);

#endif
