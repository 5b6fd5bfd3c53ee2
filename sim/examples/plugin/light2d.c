/* light2d: an evotrain_sim plugin for a 2-D position from four light sensors.
 *
 * A lamp moves over a square table of side `side_mm` (default 100) at height
 * `height_mm` (default 30) above it; four photodiodes sit at the table's
 * corners. Each reads an intensity falling with the square of the distance,
 * I = I0 h / d^3 (inverse square times the cosine of incidence), plus 1 %
 * Gaussian noise, through a 12-bit ADC (0 .. 4095, full scale at the
 * brightest point). Inputs: l0 .. l3 (counts); targets: x, y (mm), the lamp's
 * position with the table's centre at 0.
 *
 * Sample i depends only on (seed, i): every random number is splitmix64 of a
 * counter made of (seed, i, draw). fill only reads the instance, so it is
 * safe to call concurrently, as evotrain_sim.h requires.
 *
 * With `quadrant = 1` the target is instead the quadrant of the table the
 * lamp is over, a class index (0 x < 0 and y < 0, 1 x >= 0 and y < 0, 2
 * x < 0 and y >= 0, 3 both >= 0): a classification (light2d_quadrant.ini,
 * [data] task = classify).
 *
 * Keys: side_mm, height_mm, noise (relative, default 0.01), quadrant (0 or 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evotrain_sim.h"

struct evotrain_sim {
    double side, height, noise;
    int quadrant; /* 1: the target is the quadrant's index */
    double full; /* intensity read as 4095 counts */
    char version[128];
};

static const char *const in_names[4] = {"l0", "l1", "l2", "l3"};
static const char *const out_names[2] = {"x", "y"};

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* Uniform in (0, 1) from (seed, index, draw). */
static double uniform(uint64_t seed, uint64_t index, unsigned draw)
{
    uint64_t b = splitmix64((index * 8 + draw) ^ splitmix64(seed));
    return ((double)(b >> 11) + 0.5) / 9007199254740992.0;
}

static double intensity(const evotrain_sim *s, double x, double y, int k)
{
    double cx = (k & 1 ? 0.5 : -0.5) * s->side, cy = (k & 2 ? 0.5 : -0.5) * s->side;
    double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy) + s->height * s->height;
    return s->height / (d2 * sqrt(d2));
}

static int number(const char *key, const char *v, double lo, double hi, double *out, char *err,
                  size_t errlen)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        snprintf(err, errlen, "%s: '%s' is not a number in [%g, %g]", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static evotrain_sim *create(const char *const *keys, const char *const *values, size_t n, char *err,
                            size_t errlen)
{
    double side = 100, height = 30, noise = 0.01, quadrant = 0;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!strcmp(keys[i], "side_mm"))
            rc = number(keys[i], values[i], 1, 1e4, &side, err, errlen);
        else if (!strcmp(keys[i], "height_mm"))
            rc = number(keys[i], values[i], 1, 1e4, &height, err, errlen);
        else if (!strcmp(keys[i], "noise"))
            rc = number(keys[i], values[i], 0, 1, &noise, err, errlen);
        else if (!strcmp(keys[i], "quadrant"))
            rc = number(keys[i], values[i], 0, 1, &quadrant, err, errlen);
        else {
            snprintf(err, errlen,
                     "unknown key '%s' (light2d knows side_mm, height_mm, noise, quadrant)",
                     keys[i]);
            rc = -1;
        }
        if (rc)
            return NULL;
    }
    evotrain_sim *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->side = side;
    s->height = height;
    s->noise = noise;
    s->quadrant = quadrant >= 0.5;
    s->full = 1.0 / (height * height); /* the lamp right above a sensor */
    snprintf(s->version, sizeof s->version, "light2d 1 side=%.17g height=%.17g noise=%.17g%s",
             side, height, noise, s->quadrant ? " quadrant" : "");
    return s;
}

static size_t n_inputs(const evotrain_sim *s)
{
    (void)s;
    return 4;
}

static size_t n_outputs(const evotrain_sim *s)
{
    return s->quadrant ? 1 : 2;
}

static const char *input_name(const evotrain_sim *s, size_t i)
{
    (void)s;
    return in_names[i];
}

static const char *input_unit(const evotrain_sim *s, size_t i)
{
    (void)s;
    (void)i;
    return "counts";
}

static const char *output_name(const evotrain_sim *s, size_t i)
{
    return s->quadrant ? "quadrant" : out_names[i];
}

static const char *output_unit(const evotrain_sim *s, size_t i)
{
    (void)i;
    return s->quadrant ? "" : "mm";
}

static int fill(const evotrain_sim *s, uint64_t seed, uint64_t first, size_t count, int16_t *inputs,
                double *targets, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    for (size_t r = 0; r < count; r++) {
        uint64_t i = first + r;
        double x = (uniform(seed, i, 0) - 0.5) * s->side, y = (uniform(seed, i, 1) - 0.5) * s->side;
        for (int k = 0; k < 4; k++) {
            /* Box-Muller, one normal per sensor from draws 2 + k and 6 */
            double u1 = uniform(seed, i, 2 + (unsigned)k), u2 = uniform(seed, i, 6);
            double g = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
            double v = intensity(s, x, y, k) / s->full * 4095 * (1 + s->noise * g);
            v = floor(v + 0.5);
            inputs[4 * r + (size_t)k] = (int16_t)(v < 0 ? 0 : v > 4095 ? 4095 : v);
        }
        if (s->quadrant) {
            targets[r] = (x >= 0) + 2 * (y >= 0);
            continue;
        }
        targets[2 * r] = x;
        targets[2 * r + 1] = y;
    }
    return 0;
}

static const char *version(const evotrain_sim *s)
{
    return s->version;
}

static void destroy(evotrain_sim *s)
{
    free(s);
}

static const evotrain_sim_api api = {
    EVOTRAIN_SIM_ABI_VERSION,
    sizeof(evotrain_sim_api),
    "light2d",
    create,
    n_inputs,
    n_outputs,
    input_name,
    input_unit,
    output_name,
    output_unit,
    fill,
    version,
    destroy,
};

EVOTRAIN_SIM_EXPORT const evotrain_sim_api *evotrain_sim_entry(void)
{
    return &api;
}
