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
    /* What firmware needs to know, as comment lines (" * ...\n" each): each
     * input's name and scaling, each output's, the states trained on. NULL:
     * the one-line input_doc and output_names instead. */
    const char *doc;
} et_export_info;

/* In the first line of every header export writes: a file that holds it
 * may be overwritten by export, any other only with --force. */
#define ET_EXPORT_MARKER "integer neural network for evonet (generated; do not edit)"

/* Writes the header for net to out. The expected self-test outputs are
 * computed here with evonet_forward, so the header cannot disagree with the
 * kernel. Deterministic: the same network and info give the same bytes.
 * Returns 0, or -1 (reported) if the network fails evonet_validate or the
 * name is not a C identifier. */
int et_export_write(FILE *out, const evonet *net, const et_export_info *info);

/* 1 if s is a valid C identifier of at most 63 characters. */
int et_is_identifier(const char *s);

/* The name a header or package at path gets without --name: the file's
 * base name without its extension, made a C identifier ("out/imu-net.h"
 * -> "imu_net", "9dof.h" -> "_9dof"); "net" when nothing is left ("-"). */
void et_export_name_of(const char *path, char name[64]);

/* Whether export may write path: 0 if it does not exist, is not a regular
 * file (a FIFO, a device) or was written by export (holds
 * ET_EXPORT_MARKER in its first line), or force; else -1, reported. */
int et_export_may_overwrite(const char *path, int force);

#endif
