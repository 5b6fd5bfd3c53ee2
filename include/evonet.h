/* evonet: the integer MLP inference kernel that runs on the microcontroller.
 *
 * This header and src/kernel/evonet.c are the whole device kernel. They are
 * freestanding C99 (only <stdint.h> and <stddef.h>): no libc, no heap, no
 * floating point, no division, no 64-bit multiply and no mutable static state,
 * so that the code compiled for a Cortex-M0 (ARMv6-M: 32x32->32 MULS only, no
 * divide) calls no libgcc helper and gives the same bits as on the host. The
 * trainer scores candidates with its batched twin (src/net/batch.c: the same
 * integer arithmetic over many samples at once), which tests/test_batch.c
 * proves bit-identical to evonet_forward; eval, the exported header's
 * self-test vectors and the firmware test run this code itself.
 *
 * A network is constant data (it can live in flash as `static const`):
 *
 *   layer l: acc[o] = bias[o] + sum_i (w[o][i]) * x[i]            (int32)
 *            y[o]   = floor(acc[o] * mult[o] / 2^(16 + shift[o]))
 *            hidden layers: out[o] = clamp(y, 0, 255)    (uint8, ReLU)
 *            last layer:    out[o] = clamp(y, -32768, 32767)  (int16)
 *
 * where bias[o], mult[o] and shift[o] are the fields of output o's channel
 * record. Inputs of layer 0 are int16 (raw ADC counts); inputs of later
 * layers are the uint8 activations of the layer before.
 *
 * Storage layout (chosen for ARMv6-M, where LDRB has an immediate offset but
 * LDRSB only a register offset):
 * - weights are stored offset by +128 as uint8: u = w + 128, u in [0, 255]
 *   (w in [-128, 127]); the kernel subtracts 128 * sum_i x[i] once per layer,
 *   which is exact.
 * - outputs are processed in groups of EVONET_GROUP (8): eight accumulators
 *   fill the Cortex-M0's registers (eight low for the multiplies, the adds
 *   also reach r8-r12), so each input load and loop step serves eight MACs.
 *   Weights are interleaved within a group, input by input:
 *   u[(g * n_in + i) * EVONET_GROUP + k] is the weight of output
 *   g * EVONET_GROUP + k for input i. n_out is padded up to a multiple of
 *   EVONET_GROUP (see EVONET_PAD); padded outputs have u = 128 (weight 0)
 *   and bias 0, so their accumulator is exactly 0; their mult and shift
 *   must exist but are never used in arithmetic (any value). A final group
 *   with at most four real outputs reads only the first four weights of
 *   each eight.
 * - bias, mult and shift of an output sit together in one 8-byte channel
 *   record (evonet_chan), EVONET_PAD(n_out) records per layer: the kernel
 *   keeps one pointer for all three, where three separate arrays cost it a
 *   pointer reload from the stack per output (the M0 has too few registers
 *   to keep them next to eight accumulators). Every field of the eight
 *   records of a group is within reach of LDR/LDRH's immediate offsets.
 *
 * ABI version 3 replaced version 2's separate bias, mult and shift arrays by
 * the channel records and widened shift to [0, 31]; the weights and the
 * arithmetic are those of version 2. Version 2 (EVONET_GROUP 4 -> 8) had
 * changed only the weight interleaving and the padding of version 1.
 *
 * Rounding: floor (toward minus infinity), computed exactly with two
 * 16x16->32 products (see evonet.c). Round-to-nearest costs one add per
 * output on the device; the same effect comes free by adding
 * 2^(15 + shift) / mult to the bias, which the trainer's decoding does. The kernel
 * requires that >> of a negative int32 is an arithmetic shift (true of GCC and
 * Clang on every target; checked at compile time).
 *
 * Overflow is excluded by validation, not by saturation inside the loop:
 * evonet_validate() (host side, in src/net/evonet_check.c) rejects any network
 * whose accumulator could leave the ranges below for ANY input, so a network
 * that validates is exact for every int16 input vector.
 */
#ifndef EVONET_H
#define EVONET_H

#include <stddef.h>
#include <stdint.h>

/* C linkage from C++ (every Arduino sketch is C++): evonet.c is compiled as C. */
#ifdef __cplusplus
extern "C" {
#endif

/* Version of the data layout below. An exported header states the version it
 * was made for, and refuses to compile against another (see export). */
#define EVONET_ABI_VERSION 3

/* Outputs computed together per pass over the inputs; part of the layout. */
#define EVONET_GROUP 8
#define EVONET_PAD(n) (((n) + EVONET_GROUP - 1) / EVONET_GROUP * EVONET_GROUP)

/* Limits checked by evonet_validate. */
#define EVONET_MAX_LAYERS 8
#define EVONET_MAX_WIDTH 255        /* n_in and n_out of every layer: [1, 255] */
#define EVONET_ACC_LIMIT (1L << 30) /* |acc| <= 2^30 for every input */

/* Requantization and bias of one output channel. */
typedef struct evonet_chan {
    /* [-2^30, 2^30], and with the weights satisfies the accumulator bound. */
    int32_t bias;
    /* [1, 65535], the requantization multiplier. */
    uint16_t mult;
    /* [0, 31]; the total right shift is 16 + shift, so the scale
     * mult / 2^(16 + shift) lies in [2^-47, 65535/65536]. */
    uint16_t shift;
} evonet_chan;

typedef struct evonet_layer {
    /* u = w + 128, layout above; EVONET_PAD(n_out) * n_in entries. */
    const uint8_t *w;
    /* EVONET_PAD(n_out) channel records, one per output. */
    const evonet_chan *chan;
    uint16_t n_in;  /* [1, 255] */
    uint16_t n_out; /* [1, 255]; the last layer's n_out is the output count */
} evonet_layer;

typedef struct evonet {
    const evonet_layer *layers;
    uint16_t n_layers; /* [1, EVONET_MAX_LAYERS] */
} evonet;

/* Scratch bytes evonet_forward needs: two activation buffers of the widest
 * hidden layer, padded to a multiple of EVONET_GROUP. A compile-time bound
 * for firmware is EVONET_SCRATCH_BYTES(widest hidden layer). */
#define EVONET_SCRATCH_BYTES(max_hidden) (2 * EVONET_PAD(max_hidden))
size_t evonet_scratch_bytes(const evonet *net);

/* Runs the network on one input vector.
 * in:      layers[0].n_in int16 values, any value in [-32768, 32767].
 * out:     layers[n_layers - 1].n_out int16 values.
 * scratch: evonet_scratch_bytes(net) bytes, owned by the caller, no alignment
 *          requirement; its contents on return are unspecified.
 * The network must have passed evonet_validate; the kernel itself checks
 * nothing, to stay small and fast on the device. */
void evonet_forward(const evonet *net, const int16_t *in, int16_t *out, uint8_t *scratch);

/* Stack bytes evonet_forward takes on a Cortex-M0 (arm-none-eabi-gcc 12,
 * -mcpu=cortex-m0 -mthumb), the larger of the -O2 build (112) and the -Os
 * build (128): its own frame plus its deepest callee's, as -fstack-usage and
 * -fcallgraph-info measure them. The scratch buffer is the caller's, on top.
 * `make kernel-check` measures both builds and fails if this is not the
 * larger, so the figure cannot go stale. */
#define EVONET_STACK_BYTES 128

#ifdef __cplusplus
}
#endif

#endif
