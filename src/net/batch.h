/* batch: the host's batched forward pass, bit-identical to evonet_forward.
 *
 * The trainer scores thousands of candidate networks per second; running
 * evonet_forward one sample at a time would leave the host's vector units
 * idle. This computes the same integer arithmetic (same accumulators, same
 * requantization, same clamps) over tiles of ET_BATCH_TILE samples laid out
 * side by side, so the compiler vectorises across samples. tests/test_batch.c
 * proves it bit-identical to evonet_forward on random networks and extreme
 * inputs; fitness uses it only because of that test.
 *
 * Data layout: structure of arrays. Input i of sample s is X[i * ld + s]. */
#ifndef ET_BATCH_H
#define ET_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "evonet.h"

#define ET_BATCH_TILE 64

/* Per-thread scratch; size it for the widest layer with et_batch_ws_alloc. */
typedef struct et_batch_ws {
    int32_t *a, *b;
    void *p;
    int32_t *wp; /* packed weight pairs, wp_layer per layer */
    size_t wp_layer;
} et_batch_ws;

/* Nonzero: never take a processor-specific path (the tests run both). */
extern int et_batch_generic_only;

/* 1 if the AVX-512BW paths are taken (the processor has them and
 * et_batch_generic_only is 0). */
int et_batch_avx512bw(void);

et_batch_ws *et_batch_ws_alloc(size_t max_width);
void et_batch_ws_free(et_batch_ws *ws);

/* All layers but the last: H[j * ldh + s] = activation j (0..255) of the
 * last hidden layer for sample s. Needs net->n_layers >= 2. */
void et_batch_hidden(const evonet *net, const int16_t *X, size_t ldx, size_t n, uint8_t *H,
                     size_t ldh, et_batch_ws *ws);

/* The last layer alone, from its uint8 inputs H, to int16 outputs
 * Y[k * ldy + s]. */
void et_batch_last(const evonet_layer *L, const uint8_t *H, size_t ldh, size_t n, int16_t *Y,
                   size_t ldy, et_batch_ws *ws);

/* The whole network: Y[k * ldy + s], exactly evonet_forward's outputs. */
void et_batch_forward(const evonet *net, const int16_t *X, size_t ldx, size_t n, int16_t *Y,
                      size_t ldy, et_batch_ws *ws);

#endif
