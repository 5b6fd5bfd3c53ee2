/* evonet_check: host-side validation of a network against the kernel's ranges. */
#ifndef ET_EVONET_CHECK_H
#define ET_EVONET_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "evonet.h"

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
