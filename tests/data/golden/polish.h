#ifndef POLISH_H
#define POLISH_H

#include <stdint.h>

#include "evonet.h"

#if !defined(EVONET_ABI_VERSION) || EVONET_ABI_VERSION != 4 || EVONET_GROUP != 8
#error "polish.h needs the evonet kernel with ABI version 4 (evotrain kernel -o DIR)"
#endif

#define POLISH_N_IN 18
#define POLISH_N_OUT 6
#define POLISH_SCRATCH_BYTES 16
#define POLISH_STACK_BYTES 248
#define POLISH_N_TESTS 8

/* layer 0: 18 -> 8; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t polish_w0[144] = {
    105, 139, 122, 112, 122, 103, 127, 113, 158, 81, 89, 131, 125, 119, 147, 106,
    152, 150, 128, 104, 108, 127, 153, 137, 127, 102, 117, 131, 145, 91, 111, 115,
    124, 140, 177, 126, 94, 132, 142, 124, 132, 192, 144, 144, 113, 137, 126, 133,
    157, 139, 125, 160, 165, 120, 102, 123, 159, 105, 107, 152, 115, 161, 122, 121,
    143, 112, 104, 146, 105, 133, 143, 69, 149, 144, 101, 122, 135, 167, 162, 149,
    140, 108, 149, 73, 120, 178, 161, 93, 103, 121, 107, 112, 142, 90, 172, 135,
    149, 109, 155, 142, 156, 143, 132, 148, 137, 142, 130, 120, 135, 99, 149, 154,
    188, 165, 129, 135, 136, 141, 162, 149, 161, 134, 91, 85, 95, 131, 137, 123,
    118, 91, 145, 139, 134, 142, 146, 134, 115, 130, 157, 119, 110, 143, 142, 138
};
static const evonet_chan polish_c0[8] = {
    {1190, 32852, 3}, {842, 44055, 4}, {1372, 52608, 4}, {-1875, 42556, 3},
    {-333, 44072, 3}, {341, 43883, 3}, {91, 60956, 4}, {-684, 59292, 3}
};

/* layer 1: 8 -> 8; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t polish_w1[64] = {
    139, 131, 136, 105, 136, 147, 133, 83, 145, 165, 109, 120, 157, 117, 106, 90,
    153, 109, 98, 154, 118, 126, 112, 125, 136, 119, 140, 134, 104, 119, 106, 130,
    120, 134, 140, 125, 136, 108, 156, 138, 121, 112, 149, 129, 117, 132, 150, 124,
    137, 138, 184, 167, 122, 98, 134, 151, 137, 139, 141, 135, 118, 127, 163, 134
};
static const evonet_chan polish_c1[8] = {
    {-1061, 46514, 4}, {2399, 33909, 4}, {1645, 33756, 5}, {-5866, 60135, 3},
    {529, 47851, 3}, {3047, 43479, 3}, {182, 44589, 5}, {-1021, 57637, 4}
};

/* layer 2: 8 -> 6; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t polish_w2[64] = {
    251, 21, 196, 47, 100, 125, 128, 128, 67, 112, 150, 103, 31, 254, 128, 128,
    247, 255, 5, 252, 16, 18, 128, 128, 96, 132, 130, 148, 103, 112, 128, 128,
    176, 171, 82, 231, 150, 182, 128, 128, 236, 144, 174, 176, 169, 135, 128, 128,
    180, 62, 1, 71, 255, 228, 128, 128, 77, 100, 93, 98, 126, 99, 128, 128
};
static const evonet_chan polish_c2[8] = {
    {-39268, 35748, 5}, {1302, 45405, 5}, {27372, 61956, 6}, {-8828, 37315, 4},
    {14732, 54540, 3}, {-16943, 44928, 3}, {0, 1, 1}, {0, 1, 1}
};

static const evonet_layer polish_layers[3] = {
    {polish_w0, polish_c0, 18, 8, EVONET_W8},
    {polish_w1, polish_c1, 8, 8, EVONET_W8},
    {polish_w2, polish_c2, 8, 6, EVONET_W8},
};
static const evonet polish_net = {polish_layers, 3};

/* self-test vectors: inputs and the outputs the kernel must give */
static const int16_t polish_test_in[8][18] = {
    {-20, -14, 14, -3, -6, -3, -2, -9, 3, 9, 1, 11, 5, 7, 3, -4, 25, 24},
    {-30, 3, 19, 0, -25, 2, -8, -20, -3, 36, 17, 36, -1, 10, -5, 0, 15, 3},
    {-14, 3, 9, -6, -15, 8, -5, -13, 10, 4, 15, 12, 2, 6, -4, -2, 11, -3},
    {-30, -18, 21, 0, -10, -6, -1, -6, -1, 8, -5, 10, 7, 9, 7, -1, 26, 18},
    {-26, -6, -5, -9, -15, -7, 3, -13, -4, 7, -3, 8, 5, 11, 5, -10, 20, 2},
    {-30, -9, 48, 0, -15, 4, 2, -9, 3, 12, -1, 12, -2, 13, 4, 4, 23, 0},
    {-63, -19, -7, -4, -8, -7, -1, -12, 3, 14, 3, 12, 4, 11, -6, -15, 65, -5},
    {-46, 9, 40, 0, -25, -3, -1, -25, 18, 15, 10, 10, 2, 7, -3, 2, 18, -1},
};
static const int16_t polish_test_out[8][6] = {
    {-52, -264, 237, -458, -511, -1599},
    {-188, 118, -335, 36, -1568, -525},
    {-108, 154, 273, 48, -102, -1574},
    {230, -425, 117, -746, 259, -162},
    {-154, -225, -18, -614, 1400, 232},
    {294, -186, 151, -265, -1726, 517},
    {-25, -180, -320, -333, 1700, -1632},
    {200, 388, -53, 457, -753, -1757},
};

/* in: 18 int16 inputs; out: 6 int16 outputs. Stack: POLISH_STACK_BYTES. */
static inline void polish_infer(const int16_t in[], int16_t out[])
{
    uint8_t scratch[POLISH_SCRATCH_BYTES + 1];
    evonet_forward(&polish_net, in, out, scratch);
}

/* 0 when every self-test vector gives its expected output; otherwise the
 * 1-based index of the first that does not. */
static inline int polish_selftest(void)
{
    for (int t = 0; t < POLISH_N_TESTS; t++) {
        int16_t out[POLISH_N_OUT];
        polish_infer(polish_test_in[t], out);
        for (int k = 0; k < POLISH_N_OUT; k++)
            if (out[k] != polish_test_out[t][k])
                return t + 1;
    }
    return 0;
}

#endif /* POLISH_H */
