/* checkpoint: a run's state <-> one file, written atomically and checksummed.
 *
 * File: "EVOTCKPT" (8 bytes), u32 format version, u32 section count, then
 * sections {u32 tag, u64 length, bytes}, then the CRC-32 (zlib) of all that
 * precedes it. Integers are little-endian; doubles are the host's IEEE-754
 * bytes (x86-64 and ARM64 agree). A loader refuses a wrong magic, a newer
 * version, a bad checksum or a truncated file, each with its own message,
 * and never returns part of a file. */
#ifndef ET_CHECKPOINT_H
#define ET_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define ET_CKPT_VERSION 1

enum {
    ET_CKPT_CONFIG = 1, /* the resolved configuration text */
    ET_CKPT_STATE = 2,  /* the trainer's counters (train.c) */
    ET_CKPT_OPT = 3,    /* the optimizer's state (et_opt_save) */
    ET_CKPT_BEST = 4,   /* the best network so far (et_net_write) */
    ET_CKPT_GENOME = 5, /* calibration of the genome decoding */
    ET_CKPT_BESTX = 6,  /* the genome of the best network (its start's calibration) */
    ET_CKPT_STARTS = 7, /* with starts > 1, instead of ET_CKPT_OPT: every start */
    ET_CKPT_POLISH = 8, /* the polish after the search, once it began (polish.h) */
    ET_CKPT_ERRORS = 9, /* more outputs' best errors than STATE holds (et_errors_section) */
    ET_CKPT_SOURCE = 10 /* the data source's identity, for any source but the simulator */
};

typedef struct et_ckpt {
    unsigned char *buf;
    size_t len, cap;
    uint32_t count;
} et_ckpt;

/* Building: start, add sections, save (atomic: temp, fsync, rename, fsync dir). */
void et_ckpt_init(et_ckpt *c);
void et_ckpt_add(et_ckpt *c, uint32_t tag, const void *data, size_t len);
int et_ckpt_save(et_ckpt *c, const char *path); /* 0, or -1 reported */
void et_ckpt_free(et_ckpt *c);

/* Loading: the whole file is checked before anything is returned. 0, or -1
 * with the reason reported as "evotrain: PATH: ...". */
int et_ckpt_load(et_ckpt *c, const char *path);
/* A section's bytes (valid until free), or NULL if absent. */
const void *et_ckpt_get(const et_ckpt *c, uint32_t tag, size_t *len);

#endif
