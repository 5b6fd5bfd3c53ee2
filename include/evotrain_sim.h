/* evotrain_sim.h: the C plugin interface of evotrain's data sources.
 *
 * A plugin is a shared library that simulates samples for training: N int16
 * inputs (the sensor readings the network will see on the device) and M
 * double targets (what it should output, in the targets' own units). evotrain
 * loads it by path with dlopen, looks up one symbol, EVOTRAIN_SIM_ENTRY_NAME,
 * and calls it once: it returns a pointer to a constant table of functions
 * (evotrain_sim_api) that stays valid until the library is unloaded.
 *
 *     #include "evotrain_sim.h"
 *     static const evotrain_sim_api api = {EVOTRAIN_SIM_ABI_VERSION, sizeof api, "light2d",
 *                                          create, n_inputs, ..., destroy};
 *     EVOTRAIN_SIM_EXPORT const evotrain_sim_api *evotrain_sim_entry(void) { return &api; }
 *
 * Build: cc -std=c11 -O2 -fPIC -shared -I$PREFIX/share/evotrain -o mysim.so mysim.c
 * (`make install` puts this header beside evonet.h in $PREFIX/share/evotrain;
 * sim/examples/plugin/ is a complete example).
 *
 * Determinism (the rule that keeps training resumable and bit-exact): sample
 * i must be a pure function of (seed, i) and of the configuration given to
 * create(); never of the chunking, of the call order, of the thread, of time.
 * Use a counter-based random stream keyed by (seed, i), not a generator
 * stepped from call to call. evotrain checks nothing of this; it relies on it.
 *
 * Thread-safety: create and destroy are called from one thread. After create
 * returns, the instance is read-only as far as evotrain knows: fill, and every
 * query function, may be called concurrently on the same instance from
 * several threads (on disjoint output rows). A plugin that needs scratch
 * memory allocates it per call or per thread.
 *
 * Ownership: strings returned by the query functions belong to the instance
 * and must stay valid, unchanged, until destroy. Strings passed to create are
 * valid only during the call (copy what you keep).
 *
 * This header uses only <stddef.h> and <stdint.h> (available freestanding)
 * and compiles as C (C99 or later) and as C++. */
#ifndef EVOTRAIN_SIM_H
#define EVOTRAIN_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface. evotrain refuses a table whose abi_version
 * differs (a new version may change any of the table's members). */
#define EVOTRAIN_SIM_ABI_VERSION 1

/* The one symbol evotrain looks up, as a string for dlsym. */
#define EVOTRAIN_SIM_ENTRY_NAME "evotrain_sim_entry"

/* Marks the entry point as exported even with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define EVOTRAIN_SIM_EXPORT __attribute__((visibility("default")))
#else
#define EVOTRAIN_SIM_EXPORT
#endif

/* One instance of a simulator, defined by the plugin (opaque to evotrain). */
typedef struct evotrain_sim evotrain_sim;

/* Limits evotrain enforces on what a plugin reports. */
enum {
    EVOTRAIN_SIM_MAX_INPUTS = 255, /* 1 to 255 inputs */
    EVOTRAIN_SIM_MAX_OUTPUTS = 64, /* 1 to 64 outputs */
    EVOTRAIN_SIM_MAX_NAME = 63     /* names: [A-Za-z_][A-Za-z0-9_]*, at most 63 chars */
};

typedef struct evotrain_sim_api {
    /* EVOTRAIN_SIM_ABI_VERSION, as the plugin was compiled. */
    uint32_t abi_version;
    /* sizeof(evotrain_sim_api) as the plugin was compiled: a table shorter
     * than evotrain's is refused. */
    uint32_t struct_size;
    /* A short name for messages, e.g. "light2d". */
    const char *name;

    /* A new instance from the key/value pairs of the plugin's configuration
     * section (n pairs; keys are unique, in file order; values as written,
     * without surrounding blanks). An unknown key or a bad value is an error:
     * return NULL with a one-line message (no trailing newline) in err[0 ..
     * errlen - 1], naming the key. */
    evotrain_sim *(*create)(const char *const *keys, const char *const *values, size_t n, char *err,
                            size_t errlen);

    /* The number of inputs (1 to 255) and outputs (1 to 64); fixed for the
     * instance's life. */
    size_t (*n_inputs)(const evotrain_sim *s);
    size_t (*n_outputs)(const evotrain_sim *s);

    /* Name and unit of input or output i (i < n_inputs / n_outputs). Names
     * as in EVOTRAIN_SIM_MAX_NAME, unique among the inputs and among the
     * outputs; they become C identifiers and CSV column names. A unit is free
     * text without blanks or commas ("counts", "mm", "deg"; "" for none). */
    const char *(*input_name)(const evotrain_sim *s, size_t i);
    const char *(*input_unit)(const evotrain_sim *s, size_t i);
    const char *(*output_name)(const evotrain_sim *s, size_t i);
    const char *(*output_unit)(const evotrain_sim *s, size_t i);

    /* Samples first .. first + count - 1 for seed: row r (0 <= r < count) is
     * sample first + r. inputs is count x n_inputs, targets count x n_outputs,
     * both row-major, both written whole. Every target must be finite. Returns
     * 0, or nonzero with a one-line message in err (errlen bytes). Safe to
     * call concurrently (see the top of this file); count may be 0. */
    int (*fill)(const evotrain_sim *s, uint64_t seed, uint64_t first, size_t count, int16_t *inputs,
                double *targets, char *err, size_t errlen);

    /* What makes this instance's samples what they are, as one line: the
     * plugin's version and, ideally, a checksum of its configuration. A
     * resumed run whose plugin reports another version is refused, so change
     * it whenever the samples for a (seed, index) change. */
    const char *(*version)(const evotrain_sim *s);

    /* Frees the instance (NULL is allowed and does nothing). */
    void (*destroy)(evotrain_sim *s);
} evotrain_sim_api;

/* The entry point every plugin defines (extern "C" in C++): returns its
 * table, the same pointer on every call. */
typedef const evotrain_sim_api *(*evotrain_sim_entry_fn)(void);
EVOTRAIN_SIM_EXPORT const evotrain_sim_api *evotrain_sim_entry(void);

#ifdef __cplusplus
}
#endif

#endif
