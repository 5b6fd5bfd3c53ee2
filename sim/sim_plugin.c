/* sim_plugin: the magnet simulator as an evotrain_sim plugin (see sim_plugin.h). */
#include "sim_plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "sim.h"

/* Bumped whenever the samples for a (seed, index, scenario) change. */
#define SIM_PLUGIN_VERSION "magnet-sim 1"

struct evotrain_sim {
    struct sim_scenario *sc;
    int noise;
    char version[96];
};

static const char *const pose_units[SIM_POSE_DIM] = {"mm", "mm", "mm", "deg", "deg", "deg"};

/* Whether section belongs to the scenario (sim_config.c's sections); the
 * others are skipped so that a whole evotrain configuration can be named. */
static int scenario_section(const char *section)
{
    static const char *const plain[] = {"pose", "field", "magnets", "sensors"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!strcmp(section, plain[i]))
            return 1;
    return !strncmp(section, "magnet ", 7) || !strncmp(section, "sensor ", 7);
}

typedef struct load_ctx {
    struct sim_scenario *sc;
    FILE *fp;
    const char *path;
    long line;
    char *err;
    size_t errlen;
    int failed;
} load_ctx;

/* inih's fgets-style reader, ours so that the handler knows the line. */
static char *count_lines(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    char *s = fgets(str, num, c->fp);
    if (s)
        c->line++;
    return s;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    load_ctx *c = user;
    if (c->failed || !scenario_section(section))
        return 1;
    char m[256];
    int rc = sim_config_set(c->sc, section, key, value, c->line, m, sizeof m);
    if (rc == 0)
        snprintf(m, sizeof m, "unknown key '%s' in [%s]", key, section);
    if (rc <= 0) {
        snprintf(c->err, c->errlen, "%s:%ld: %s", c->path, c->line, m);
        c->failed = 1;
        return 0;
    }
    return 1;
}

static int on_default_entry(void *user, const char *section, const char *key, const char *value)
{
    char m[256];
    return sim_config_set(user, section, key, value, 0, m, sizeof m) == 1;
}

/* The scenario of path (NULL: the default one), finished. NULL on error,
 * with "FILE:LINE: message" in err. */
static struct sim_scenario *load_scenario(const char *path, char *err, size_t errlen)
{
    struct sim_scenario *sc = sim_scenario_alloc();
    if (!sc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!path) {
        if (ini_parse_string(sim_default_scenario_ini, on_default_entry, sc) != 0) {
            snprintf(err, errlen, "the built-in default scenario does not parse");
            goto fail;
        }
    } else {
        load_ctx c = {.sc = sc, .path = path, .err = err, .errlen = errlen};
        c.fp = fopen(path, "r");
        if (!c.fp) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
        int rc = ini_parse_stream(count_lines, &c, on_entry, &c);
        fclose(c.fp);
        if (c.failed)
            goto fail;
        if (rc != 0) {
            snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path,
                     rc);
            goto fail;
        }
    }
    char m[256];
    long line = 0;
    if (sim_config_finish(sc, m, sizeof m, &line) != 0) {
        if (line)
            snprintf(err, errlen, "%s:%ld: %s", path ? path : "default scenario", line, m);
        else
            snprintf(err, errlen, "%s: %s", path ? path : "default scenario", m);
        goto fail;
    }
    return sc;
fail:
    sim_scenario_free(sc);
    return NULL;
}

/* FNV-1a over the scenario as sim_config_dump writes it: the version then
 * changes with any value that changes the samples. */
static uint32_t scenario_hash(const struct sim_scenario *sc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    uint32_t h = 2166136261u;
    if (!f)
        return 0;
    sim_config_dump(sc, f);
    if (fclose(f) != 0) {
        free(text);
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    free(text);
    return h;
}

static evotrain_sim *magnet_create(const char *const *keys, const char *const *values, size_t n,
                                   char *err, size_t errlen)
{
    const char *path = NULL;
    int noise = 1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "scenario")) {
            path = values[i];
        } else if (!strcmp(keys[i], "noise")) {
            if (strcmp(values[i], "0") && strcmp(values[i], "1")) {
                snprintf(err, errlen, "noise: '%s' is not 0 or 1", values[i]);
                return NULL;
            }
            noise = values[i][0] == '1';
        } else {
            snprintf(err, errlen, "unknown key '%s' (the magnet simulator knows scenario, noise)",
                     keys[i]);
            return NULL;
        }
    }
    struct sim_scenario *sc = load_scenario(path, err, errlen);
    if (!sc)
        return NULL;
    evotrain_sim *s = calloc(1, sizeof *s);
    if (!s) {
        sim_scenario_free(sc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->sc = sc;
    s->noise = noise;
    snprintf(s->version, sizeof s->version, "%s scenario=%08x noise=%d", SIM_PLUGIN_VERSION,
             (unsigned)scenario_hash(sc), noise);
    return s;
}

static size_t magnet_n_inputs(const evotrain_sim *s)
{
    return sim_n_readings(s->sc);
}

static size_t magnet_n_outputs(const evotrain_sim *s)
{
    (void)s;
    return SIM_POSE_DIM;
}

static const char *magnet_input_name(const evotrain_sim *s, size_t i)
{
    return sim_reading_name(s->sc, i);
}

static const char *magnet_input_unit(const evotrain_sim *s, size_t i)
{
    (void)s;
    (void)i;
    return "counts";
}

static const char *magnet_output_name(const evotrain_sim *s, size_t i)
{
    (void)s;
    return sim_pose_names[i];
}

static const char *magnet_output_unit(const evotrain_sim *s, size_t i)
{
    (void)s;
    return pose_units[i];
}

/* sim_sample reads the finished scenario only, so concurrent calls are safe. */
static int magnet_fill(const evotrain_sim *s, uint64_t seed, uint64_t first, size_t count,
                       int16_t *inputs, double *targets, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sim_sample(s->sc, seed, first, count, s->noise, inputs, targets);
    return 0;
}

static const char *magnet_version(const evotrain_sim *s)
{
    return s->version;
}

static void magnet_destroy(evotrain_sim *s)
{
    if (!s)
        return;
    sim_scenario_free(s->sc);
    free(s);
}

static const evotrain_sim_api magnet_api = {
    .abi_version = EVOTRAIN_SIM_ABI_VERSION,
    .struct_size = sizeof(evotrain_sim_api),
    .name = "magnet",
    .create = magnet_create,
    .n_inputs = magnet_n_inputs,
    .n_outputs = magnet_n_outputs,
    .input_name = magnet_input_name,
    .input_unit = magnet_input_unit,
    .output_name = magnet_output_name,
    .output_unit = magnet_output_unit,
    .fill = magnet_fill,
    .version = magnet_version,
    .destroy = magnet_destroy,
};

const evotrain_sim_api *sim_plugin_magnet(void)
{
    return &magnet_api;
}
