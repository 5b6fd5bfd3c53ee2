/* source_impl: what the backends of source.h share (private to src/data). */
#ifndef ET_SOURCE_IMPL_H
#define ET_SOURCE_IMPL_H

#include "source.h"

typedef struct source_ops {
    int (*fill)(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T);
    /* The identity line (et_malloc'd), or NULL (reported). */
    char *(*identity)(et_source *s);
    void (*close)(et_source *s); /* frees impl, not the common part */
} source_ops;

struct et_source {
    const source_ops *ops;
    void *impl;
    size_t n_in, n_out;
    et_source_var *in, *out;
    char **own; /* the vars' strings: input i at 2i, 2i+1, output j after them */
    uint64_t size;
    char *identity;
    char **classes; /* a labelled CSV's class names (n_classes), else NULL */
    size_t n_classes;
};

/* A source with n_in inputs and n_out targets, names not yet set. */
et_source *source_new(const source_ops *ops, void *impl, size_t n_in, size_t n_out);

/* Sets input (out == 0) or target i. NULL unit: "". 0, or -1 with the reason
 * in err (a bad or duplicate name; the caller adds who said it). */
int source_set_var(et_source *s, int out, size_t i, const char *name, const char *unit, char *err,
                   size_t errlen);

/* Frees the common part (after ops->close). */
void source_free(et_source *s);

/* 1 if s is [A-Za-z_][A-Za-z0-9_]* of at most EVOTRAIN_SIM_MAX_NAME chars. */
int source_valid_name(const char *s);

/* A field that must be an integer in int16 (an input), or a finite number
 * (a target; a subnormal is what it rounds to). 0, or -1 with the reason in
 * why, quoting the field ("'1.5' is not an integer ..."). */
int source_parse_input(const char *s, int16_t *v, char *why, size_t whylen);
int source_parse_target(const char *s, double *v, char *why, size_t whylen);

et_source *source_open_command(const et_source_desc *d);
et_source *source_open_csv(const et_source_desc *d);

#endif
