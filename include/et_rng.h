/* et_rng: a counter-based random stream behind GSL's gsl_rng interface.
 *
 * Determinism across thread counts and across kill-and-resume needs random
 * numbers that depend only on *what* they are for (seed, generation, candidate;
 * or seed, sample index), never on how many were drawn before. GSL has no
 * counter-based generator, so this is the one we write by hand: the output is
 * splitmix64's finalizer applied to key + counter * golden-ratio increment, a
 * bijective 64-bit mix that passes BigCrush as a counter-based stream. It is
 * wrapped as a gsl_rng_type so that every GSL distribution (gsl_ran_gaussian_
 * ziggurat, gsl_ran_flat, ...) draws from it unchanged.
 *
 * Header-only so that sim/ stays self-contained and the trainer shares it. */
#ifndef ET_RNG_H
#define ET_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

typedef struct et_rng_state {
    uint64_t key;
    uint64_t ctr;
} et_rng_state;

static inline uint64_t et_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t et_rng_next64(et_rng_state *s)
{
    return et_mix64(s->key + (++s->ctr) * 0x9e3779b97f4a7c15ULL);
}

static inline void et_rng_set_(void *vs, unsigned long seed)
{
    et_rng_state *s = vs;
    s->key = et_mix64((uint64_t)seed);
    s->ctr = 0;
}

static inline unsigned long et_rng_get_(void *vs)
{
    return (unsigned long)(et_rng_next64(vs) >> 32);
}

static inline double et_rng_get_double_(void *vs)
{
    /* 53 random bits: uniform on [0, 1) with full double resolution. */
    return (double)(et_rng_next64(vs) >> 11) * 0x1.0p-53;
}

__attribute__((unused)) static const gsl_rng_type et_rng_ctr_type = {
    "et_ctr", 0xffffffffUL, 0, sizeof(et_rng_state), et_rng_set_, et_rng_get_, et_rng_get_double_};

/* A new stream; free it with gsl_rng_free. NULL only when out of memory. */
static inline gsl_rng *et_rng_alloc(void)
{
    return gsl_rng_alloc(&et_rng_ctr_type);
}

/* Point r at the stream named by (seed, stream, index): e.g. (seed,
 * ET_STREAM_NOISE, sample) or (seed, generation, candidate). Streams with
 * different names are statistically independent. */
static inline void et_rng_key(gsl_rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    et_rng_state *s = r->state;
    uint64_t k = et_mix64(seed ^ 0x6a09e667f3bcc909ULL);
    k = et_mix64(k ^ stream);
    k = et_mix64(k ^ (index + 0x3c6ef372fe94f82bULL));
    s->key = k;
    s->ctr = 0;
}

/* Named stream families, so no two users of one seed collide. */
enum {
    ET_STREAM_POSE = 1,     /* sim: pose of sample i */
    ET_STREAM_NOISE = 2,    /* sim: sensor noise of sample i */
    ET_STREAM_OPT = 3,      /* optimizer: sampling, keyed by generation */
    ET_STREAM_TRAIN = 4,    /* trainer: minibatch choice, keyed by generation */
    ET_STREAM_VALID = 5,    /* trainer: validation set */
    ET_STREAM_OPTBENCH = 6, /* optbench: start points, keyed by run */
    ET_STREAM_INIT = 7      /* trainer: the start point of the search */
};

#endif
