/* evonet_check: host-side validation of a network against the kernel's ranges. */
#ifndef ET_EVONET_CHECK_H
#define ET_EVONET_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "evonet.h"

/* The weight of output o for input i of layer L, in any weight format (the
 * layouts of evonet.h); the one reader of the storage on the host. */
static inline int evonet_weight(const evonet_layer *L, unsigned o, unsigned i)
{
    size_t gi = (size_t)(o / EVONET_GROUP) * L->n_in + i;
    unsigned k = o % EVONET_GROUP;
    switch (L->wfmt) {
    case EVONET_W8:
        return (int)L->w[gi * EVONET_GROUP + k] - 128;
    case EVONET_W4: {
        unsigned nib = (unsigned)(L->w[gi * 4 + k / 2] >> (4 * (k & 1))) & 15u;
        return nib >= 8 ? (int)nib - 16 : (int)nib;
    }
    default: {
        int p = (L->w[gi * 2] >> k) & 1, m = (L->w[gi * 2 + 1] >> k) & 1;
        return L->wfmt == EVONET_W2 ? p - 2 * m : p - m;
    }
    }
}

/* Writes weight v (in evonet_wfmt_range) of output o for input i into the
 * storage w of a layer with n_in inputs in format fmt. */
void evonet_weight_put(uint8_t *w, unsigned fmt, unsigned n_in, unsigned o, unsigned i, int v);

/* The weights a format holds: [*lo, *hi]; returns the bits per weight (8, 4, 2
 * and 2 for ternary), or 0 for an unknown format. */
int evonet_wfmt_range(unsigned fmt, int *lo, int *hi);

/* Bytes of a layer's weight storage, padding included. */
size_t evonet_weight_bytes(unsigned fmt, unsigned n_in, unsigned n_out);

/* 0 if the kernel computes net exactly for every int16 input; otherwise -1 and
 * a message naming the layer, the output and the offending value in err.
 * Checks the documented ranges of every field and proves by worst-case
 * bounds that no accumulator or partial sum can overflow. */
int evonet_validate(const evonet *net, char *err, size_t errlen);

/* Worst-case |accumulator| of output o of layer l over all inputs (the bound
 * evonet_validate compares with EVONET_ACC_LIMIT); the trainer uses it to
 * keep decoded candidates inside the range. */
int64_t evonet_acc_bound(const evonet_layer *L, int first_layer, unsigned o);

/* The straightforward reference: int64 arithmetic, no layout tricks beyond
 * reading the documented storage. Tests compare evonet_forward with it. */
void evonet_forward_ref(const evonet *net, const int16_t *in, int16_t *out);

/* The multiplier and shift whose scale mult / 2^(16 + shift) is nearest to
 * scale, with mult as large as possible (most precise). Scales outside the
 * representable [2^-47, 65535/65536] are clamped to it. */
void evonet_requant_from_scale(double scale, uint16_t *mult, uint16_t *shift);

#endif
