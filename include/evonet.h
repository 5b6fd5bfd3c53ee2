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
 * Low-bit layers (the layer's wfmt field; EVONET_W8 = 0 is the int8
 * layout above). Outputs are
 * grouped by EVONET_GROUP and padded as for int8; per group g and input i
 * the weights of the group's eight outputs take a fixed number of bytes,
 * at w[(g * n_in + i) * B]:
 * - EVONET_W4 (B = 4): int4 weights in [-8, 7], two's complement, output
 *   2j of the group in the low nibble of byte j, output 2j + 1 in the high
 *   nibble. The kernel multiplies (MULS), as for int8.
 * - EVONET_W2 (B = 2): int2 weights in [-2, 1] as two bit planes: bit k of
 *   byte 0 is bit 0 of output k's weight (worth +1), bit k of byte 1 is its
 *   sign bit (worth -2).
 * - EVONET_WT (B = 2): ternary weights in [-1, 1]: bit k of byte 0 set is
 *   +1, bit k of byte 1 set is -1 for output k (never both).
 * The bit-plane widths need no multiply: the kernel adds the input where a
 * bit of the first plane is set and subtracts it (W2: twice it, a shift)
 * where a bit of the second is, skipping a plane byte that is zero. The
 * weight's scale is the channel's mult and shift, per output as for int8.
 * Padded outputs have all-zero weights (nibbles or plane bits 0).
 *
 * ABI version 4 added the wfmt field at the end of evonet_layer (the
 * low-bit formats); int8 layers are stored and computed as in version 3.
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
#define EVONET_ABI_VERSION 4

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

/* Weight formats (evonet_layer.wfmt) and their bytes per input per group
 * of EVONET_GROUP outputs. */
#define EVONET_W8 0 /* int8 [-128, 127], stored u = w + 128: 8 bytes */
#define EVONET_W4 1 /* int4 [-8, 7], nibbles: 4 bytes */
#define EVONET_W2 2 /* int2 [-2, 1], two bit planes: 2 bytes */
#define EVONET_WT 3 /* ternary [-1, 1], plus and minus planes: 2 bytes */
#define EVONET_WFMT_BYTES(f) ((f) == EVONET_W8 ? 8 : (f) == EVONET_W4 ? 4 : 2)

typedef struct evonet_layer {
    /* EVONET_PAD(n_out) / EVONET_GROUP * n_in * EVONET_WFMT_BYTES(wfmt)
     * bytes, layouts above (int8: u = w + 128). */
    const uint8_t *w;
    /* EVONET_PAD(n_out) channel records, one per output. */
    const evonet_chan *chan;
    uint16_t n_in;  /* [1, 255] */
    uint16_t n_out; /* [1, 255]; the last layer's n_out is the output count */
    uint16_t wfmt;  /* EVONET_W8 (0), EVONET_W4, EVONET_W2 or EVONET_WT */
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
 * -mcpu=cortex-m0 -mthumb), the largest of the builds firmware may pick:
 * -O2 (224: evonet_forward 40, the any-format layer 120, the int4 loop 64),
 * -Os (208) and the compact -O2 -DEVONET_COMPACT (216); its own frame plus
 * its deepest callees', as -fstack-usage and -fcallgraph-info measure them.
 * The scratch buffer is the caller's, on top. `make kernel-check` measures
 * every build and fails if this is not the largest, so the figure cannot go
 * stale. */
#define EVONET_STACK_BYTES 224

#ifdef __cplusplus
}
#endif

#endif
