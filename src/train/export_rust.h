/* export_rust: an integer network -> a no_std Rust module (a crate's
 * lib.rs) with the evonet kernel's arithmetic, the weights as const arrays
 * and the header's self-test. */
#ifndef ET_EXPORT_RUST_H
#define ET_EXPORT_RUST_H

#include <stdio.h>

#include "evonet.h"
#include "export.h"

/* Writes lib.rs for net to out: N_IN, N_OUT, infer(&[i16; N_IN], &mut
 * [i16; N_OUT]), selftest() (0 when good) and TEST_IN/TEST_OUT, the
 * expected outputs computed by evonet_forward. info->doc becomes its module
 * documentation. Deterministic. 0, or -1 (reported) if the network fails
 * evonet_validate. Weights must be the kernel's int8 layout (all that
 * evonet stores today): the caller refuses other formats. */
int et_export_rust(FILE *out, const evonet *net, const et_export_info *info);

#endif
