/* export: an integer network -> a self-contained C header for firmware. */
#ifndef ET_EXPORT_H
#define ET_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "evonet.h"

typedef struct et_export_info {
    const char *name;                /* C identifier prefix, e.g. "pose_net" */
    const char *provenance;          /* one line: what produced this header */
    const char *input_doc;           /* one line: what the inputs are, with units */
    const char *const *output_names; /* n_out names with units, or NULL */
    const int16_t *test_in;          /* n_tests x n_in self-test inputs */
    unsigned n_tests;
    /* A classification: its n_out class names (NULL otherwise); the header
     * then has NAME_classify(in) and NAME_class_names. */
    const char *const *class_names;
} et_export_info;

/* Writes the header for net to out. The expected self-test outputs are
 * computed here with evonet_forward, so the header cannot disagree with the
 * kernel. Deterministic: the same network and info give the same bytes.
 * Returns 0, or -1 (reported) if the network fails evonet_validate or the
 * name is not a C identifier. */
int et_export_write(FILE *out, const evonet *net, const et_export_info *info);

/* 1 if s is a valid C identifier of at most 63 characters. */
int et_is_identifier(const char *s);

#endif
