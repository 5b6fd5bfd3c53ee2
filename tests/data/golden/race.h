#ifndef RACE_H
#define RACE_H

#include <stdint.h>

#include "evonet.h"

#if !defined(EVONET_ABI_VERSION) || EVONET_ABI_VERSION != 4 || EVONET_GROUP != 8
#error "race.h needs the evonet kernel with ABI version 4 (evotrain kernel -o DIR)"
#endif

#define RACE_N_IN 18
#define RACE_N_OUT 6
#define RACE_SCRATCH_BYTES 16
#define RACE_STACK_BYTES 248
#define RACE_N_TESTS 8

/* layer 0: 18 -> 8; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t race_w0[144] = {
    113, 173, 127, 156, 123, 135, 100, 137, 176, 124, 102, 84, 130, 114, 146, 98,
    106, 146, 117, 122, 134, 141, 179, 126, 139, 156, 143, 130, 137, 147, 150, 138,
    115, 114, 128, 102, 120, 127, 166, 145, 134, 164, 159, 111, 125, 129, 108, 114,
    143, 148, 151, 125, 145, 110, 108, 102, 78, 126, 110, 125, 133, 109, 125, 110,
    147, 111, 100, 121, 90, 87, 152, 88, 114, 153, 115, 123, 122, 162, 133, 153,
    103, 102, 131, 109, 95, 133, 126, 129, 208, 145, 150, 148, 134, 129, 145, 148,
    144, 111, 88, 118, 101, 127, 151, 115, 128, 130, 147, 113, 99, 90, 124, 143,
    122, 101, 107, 126, 133, 171, 106, 153, 130, 118, 136, 96, 51, 127, 153, 119,
    133, 108, 104, 108, 119, 123, 150, 157, 87, 127, 103, 135, 109, 119, 116, 137
};
static const evonet_chan race_c0[8] = {
    {967, 60176, 4}, {1912, 57316, 4}, {-794, 53443, 2}, {1367, 37239, 3},
    {448, 59383, 3}, {436, 54328, 3}, {433, 40277, 4}, {81, 50251, 3}
};

/* layer 1: 8 -> 8; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t race_w1[64] = {
    82, 165, 161, 170, 139, 128, 149, 146, 85, 135, 160, 91, 99, 139, 139, 179,
    144, 94, 96, 154, 119, 119, 93, 148, 137, 94, 122, 116, 113, 140, 154, 124,
    135, 143, 69, 105, 157, 141, 103, 119, 119, 127, 148, 117, 188, 101, 120, 180,
    121, 160, 146, 111, 122, 123, 148, 96, 171, 92, 167, 144, 141, 129, 115, 147
};
static const evonet_chan race_c1[8] = {
    {2354, 37985, 4}, {1018, 44699, 5}, {-4453, 54533, 5}, {1632, 42534, 4},
    {-2470, 54405, 5}, {2081, 53518, 4}, {2275, 65201, 5}, {-5014, 33060, 4}
};

/* layer 2: 8 -> 6; weights stored as w + 128, channels as {bias, mult, shift} */
static const uint8_t race_w2[64] = {
    174, 116, 92, 90, 149, 115, 128, 128, 255, 185, 64, 235, 117, 231, 128, 128,
    151, 39, 91, 188, 1, 49, 128, 128, 43, 193, 10, 149, 166, 65, 128, 128,
    107, 80, 1, 29, 113, 180, 128, 128, 43, 54, 125, 149, 130, 173, 128, 128,
    60, 255, 196, 1, 105, 23, 128, 128, 90, 200, 105, 117, 24, 255, 128, 128
};
static const evonet_chan race_c2[8] = {
    {23470, 33035, 5}, {-19236, 63678, 6}, {27823, 54786, 6}, {6672, 36745, 3},
    {26456, 54147, 4}, {2365, 53637, 4}, {0, 1, 1}, {0, 1, 1}
};

static const evonet_layer race_layers[3] = {
    {race_w0, race_c0, 18, 8, EVONET_W8},
    {race_w1, race_c1, 8, 8, EVONET_W8},
    {race_w2, race_c2, 8, 6, EVONET_W8},
};
static const evonet race_net = {race_layers, 3};

/* self-test vectors: inputs and the outputs the kernel must give */
static const int16_t race_test_in[8][18] = {
    {-20, -14, 14, -3, -6, -3, -2, -9, 3, 9, 1, 11, 5, 7, 3, -4, 25, 24},
    {-30, 3, 19, 0, -25, 2, -8, -20, -3, 36, 17, 36, -1, 10, -5, 0, 15, 3},
    {-14, 3, 9, -6, -15, 8, -5, -13, 10, 4, 15, 12, 2, 6, -4, -2, 11, -3},
    {-30, -18, 21, 0, -10, -6, -1, -6, -1, 8, -5, 10, 7, 9, 7, -1, 26, 18},
    {-26, -6, -5, -9, -15, -7, 3, -13, -4, 7, -3, 8, 5, 11, 5, -10, 20, 2},
    {-30, -9, 48, 0, -15, 4, 2, -9, 3, 12, -1, 12, -2, 13, 4, 4, 23, 0},
    {-63, -19, -7, -4, -8, -7, -1, -12, 3, 14, 3, 12, 4, 11, -6, -15, 65, -5},
    {-46, 9, 40, 0, -25, -3, -1, -25, 18, 15, 10, 10, 2, 7, -3, 2, 18, -1},
};
static const int16_t race_test_out[8][6] = {
    {171, -295, 179, -517, 31, -1095},
    {-169, 299, -458, -1335, -1715, -285},
    {15, 195, 132, 322, 651, -1016},
    {253, -317, 42, -925, -189, -985},
    {-268, -146, -54, -781, 1326, -46},
    {331, -81, 200, 63, -1361, -393},
    {46, -384, -381, 444, 279, -1346},
    {302, 388, -110, 1207, 222, -1354},
};

/* in: 18 int16 inputs; out: 6 int16 outputs. Stack: RACE_STACK_BYTES. */
static inline void race_infer(const int16_t in[], int16_t out[])
{
    uint8_t scratch[RACE_SCRATCH_BYTES + 1];
    evonet_forward(&race_net, in, out, scratch);
}

/* 0 when every self-test vector gives its expected output; otherwise the
 * 1-based index of the first that does not. */
static inline int race_selftest(void)
{
    for (int t = 0; t < RACE_N_TESTS; t++) {
        int16_t out[RACE_N_OUT];
        race_infer(race_test_in[t], out);
        for (int k = 0; k < RACE_N_OUT; k++)
            if (out[k] != race_test_out[t][k])
                return t + 1;
    }
    return 0;
}

#endif /* RACE_H */
