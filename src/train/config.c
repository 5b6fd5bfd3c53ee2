/* config: the INI file -> one resolved configuration (trainer keys + scenario). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "sim.h"
#include "util.h"

/* Lines longer than this are refused rather than silently split by inih. */
#define ET_INI_MAX_LINE 190

typedef enum {
    T_INT,
    T_LONG,
    T_U64,
    T_DOUBLE,
    T_STRING,
    T_INTLIST,
    T_CHOICE,
    T_DOUBLE3,
    T_WBITS
} key_type;

/* The one schema table for the trainer's keys: section, key, type, default,
 * range (or the allowed words of a choice), and the line of documentation that
 * --help, `config --doc` and the man page print. */
typedef struct {
    const char *section, *key;
    key_type type;
    size_t off;
    const char *def;
    double lo, hi;
    const char *choices; /* T_CHOICE: space-separated allowed words */
    const char *doc;
} key_spec;

_Static_assert(ET_MAX_HIDDEN == 7, "update the doc of [network] hidden");

#define F(m) offsetof(et_config, m)
static const key_spec schema[] = {
    {"run", "name", T_STRING, F(name), "pose", 0, 0, NULL, "run name: outputs go to out/<name>/"},
    {"run", "seed", T_U64, F(seed), "1", 0, 0, NULL, "seed of every random stream"},
    {"run", "threads", T_INT, F(threads), "0", 0, 256, NULL, "OpenMP threads (0: all cores)"},
    {"network", "hidden", T_INTLIST, F(hidden), "16 16", 1, 255, NULL,
     "hidden layer widths, space-separated (1 to 7 layers)"},
    {"network", "weight_bits", T_WBITS, F(wfmt), "8", 0, 0, "8 4 2 ternary",
     "weights per layer: 8, 4 or 2 bits or ternary (-1, 0, +1), one for every layer or one "
     "per layer, output layer last"},
    {"network", "requant", T_CHOICE, F(per_channel), "channel", 0, 0, "layer channel",
     "requantization per layer or per output channel"},
    {"network", "scale_search", T_CHOICE, F(scale_search), "none", 0, 0, "none layer channel",
     "requantization scales: calibrated once (none), or searched per layer or per channel"},
    {"train", "algo", T_STRING, F(algo), "sep-cmaes", 0, 0, NULL, "optimizer, one of:"},
    {"train", "lambda", T_INT, F(lambda), "92", 0, 100000, NULL,
     "population size (0: the optimizer's default)"},
    {"train", "sigma0", T_DOUBLE, F(sigma0), "8", 1e-3, 1e3, NULL,
     "initial step size, in weight grid steps"},
    {"train", "step_floor", T_DOUBLE, F(step_floor), "0.45", 0, 10, NULL,
     "per-coordinate step floor at the start, in grid steps"},
    {"train", "step_floor_end", T_DOUBLE, F(step_floor_end), "0.2", 0, 10, NULL,
     "step floor at the end of the budget (linear decay)"},
    {"train", "floor_generations", T_LONG, F(floor_generations), "50000", 1, 1e12, NULL,
     "generations over which the floor decays from step_floor to step_floor_end"},
    {"train", "starts", T_INT, F(starts), "1", 1, ET_MAX_STARTS, NULL,
     "independent starts raced side by side; the worse half is dropped every "
     "halving_generations until one is left"},
    {"train", "halving_generations", T_LONG, F(halving_generations), "40000", 1, 1e12, NULL,
     "generations between two halvings of the starts (each start's validated best decides)"},
    {"train", "mean_lr", T_DOUBLE, F(mean_lr), "1", 0.001, 1, NULL,
     "CMA-ES learning rate of the mean (below 1 averages out minibatch noise)"},
    {"train", "bias_step", T_DOUBLE, F(bias_step), "1", 0, 100, NULL,
     "pseudo-grid of bias and scale genes for the step floor (0: continuous, no floor)"},
    {"train", "margin", T_DOUBLE, F(margin), "0", -1, 0.49, NULL,
     "CMA-ES with Margin: alpha (0 off, -1 for 1/(n lambda); the optimizer needs it below 0.5)"},
    {"train", "init", T_STRING, F(init), "none", 0, 0, NULL,
     "warm start: a float network CSV to start from (see README), or none"},
    {"train", "init_weight_sd", T_DOUBLE, F(init_weight_sd), "15", 0, 127, NULL,
     "standard deviation of the random start weights, in weight steps"},
    {"train", "output_layer", T_CHOICE, F(ridge_output), "ridge", 0, 0, "search ridge",
     "last layer: searched like the others, or fitted per candidate by ridge least squares"},
    {"train", "ridge_alpha", T_DOUBLE, F(ridge_alpha), "1e-3", 0, 1e6, NULL,
     "ridge regularisation, relative to the mean diagonal of the normal matrix"},
    {"train", "refit", T_INT, F(refit_size), "16384", 64, 1 << 22, NULL,
     "training samples the output layer of a validated network is fitted on (ridge)"},
    {"train", "minibatch", T_INT, F(minibatch), "1024", 16, 1 << 20, NULL,
     "samples per generation (the same for every candidate of a generation)"},
    {"train", "pool", T_INT, F(pool_size), "262144", 256, 1 << 26, NULL,
     "simulated training samples drawn from (minibatches are windows of it)"},
    {"train", "valid", T_INT, F(valid_size), "8192", 64, 1 << 24, NULL,
     "fixed validation samples that pick the best network"},
    {"train", "time_limit_s", T_DOUBLE, F(time_limit_s), "600", 0, 1e7, NULL,
     "wall-clock budget in seconds (0: none); not used for determinism"},
    {"train", "max_generations", T_LONG, F(max_generations), "0", 0, 1e12, NULL,
     "generation budget (0: none)"},
    {"train", "max_evals", T_LONG, F(max_evals), "0", 0, 1e15, NULL, "evaluation budget (0: none)"},
    {"train", "polish_sweeps", T_INT, F(polish_sweeps), "0", 0, 100000, NULL,
     "after the search, sweeps of integer coordinate descent over the best network, scored on "
     "the whole pool (0: none; ends early when a sweep changes nothing)"},
    {"train", "polish_s", T_DOUBLE, F(polish_s), "0", 0, 1e7, NULL,
     "seconds of time_limit_s kept for the polish: the search stops that much earlier"},
    {"train", "checkpoint_every", T_INT, F(checkpoint_every), "1000", 1, 1000000, NULL,
     "generations between checkpoints"},
    {"train", "valid_every", T_INT, F(valid_every), "10", 1, 1000000, NULL,
     "generations between validations of the current mean"},
    {"train", "rot_weight", T_DOUBLE, F(rot_weight), "0.1", 0, 1e6, NULL,
     "loss weight of a squared degree relative to a squared millimetre"},
    {"train", "rot_axis_weight", T_DOUBLE3, F(rot_axis_weight), "1 1 1", 0, 1e3, NULL,
     "roll, pitch and yaw: factors on rot_weight, each axis's own"},
};
#undef F
#define N_SCHEMA (sizeof schema / sizeof schema[0])

static int is_trainer_section(const char *s)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (!strcmp(schema[i].section, s))
            return 1;
    return 0;
}

/* Parse one value into cfg per its spec. 0 ok, -1 with message in err.
 * Long on purpose: one case per key type of the schema, each with its own
 * range message, read top to bottom like the table. */
static int set_value(et_config *cfg, const key_spec *k, const char *v, char *err, size_t n)
{
    char *base = (char *)cfg;
    long l;
    double d;
    switch (k->type) {
    case T_INT:
    case T_LONG:
        if (et_parse_long(v, &l) != 0) {
            snprintf(err, n, "%s: '%s' is not an integer", k->key, v);
            return -1;
        }
        if (l < k->lo || l > k->hi) {
            snprintf(err, n, "%s: %ld is out of range [%.0f, %.0f]", k->key, l, k->lo, k->hi);
            return -1;
        }
        if (k->type == T_INT)
            *(int *)(base + k->off) = (int)l;
        else
            *(long *)(base + k->off) = l;
        return 0;
    case T_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-') {
            snprintf(err, n, "%s: '%s' is not a non-negative integer", k->key, v);
            return -1;
        }
        *(uint64_t *)(base + k->off) = u;
        return 0;
    }
    case T_DOUBLE:
        if (et_parse_double(v, &d) != 0) {
            snprintf(err, n, "%s: '%s' is not a finite number", k->key, v);
            return -1;
        }
        if (d < k->lo || d > k->hi) {
            snprintf(err, n, "%s: %g is out of range [%g, %g]", k->key, d, k->lo, k->hi);
            return -1;
        }
        *(double *)(base + k->off) = d;
        return 0;
    case T_STRING: {
        if (!*v) {
            snprintf(err, n, "%s: empty value", k->key);
            return -1;
        }
        /* inih keeps "key=;x" as ";x", but the dump's "key = ;x" reads back
         * as a comment: the run's config.ini would not load on resume. */
        if (*v == ';') {
            snprintf(err, n, "%s: '%s' starts with ';', which begins a comment", k->key, v);
            return -1;
        }
        char **dst = (char **)(base + k->off);
        free(*dst);
        *dst = et_strdup(v);
        return 0;
    }
    case T_CHOICE: {
        /* The stored value is the word's index in the list. */
        size_t len = strlen(v);
        int idx = 0;
        for (const char *c = k->choices; *c; idx++) {
            size_t w = strcspn(c, " ");
            if (w == len && !strncmp(c, v, len)) {
                *(int *)(base + k->off) = idx;
                return 0;
            }
            c += w;
            while (*c == ' ')
                c++;
        }
        snprintf(err, n, "%s: '%s' is not one of: %s", k->key, v, k->choices);
        return -1;
    }
    case T_INTLIST: {
        int tmp[ET_MAX_HIDDEN], cnt = 0;
        char *dup = et_strdup(v), *save = NULL;
        for (char *t = strtok_r(dup, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
            if (cnt == ET_MAX_HIDDEN) {
                snprintf(err, n,
                         "%s: more than %d layers (the kernel runs at most %d, the output "
                         "layer among them)",
                         k->key, ET_MAX_HIDDEN, EVONET_MAX_LAYERS);
                free(dup);
                return -1;
            }
            int nan = et_parse_long(t, &l) != 0;
            if (nan || l < k->lo || l > k->hi) {
                if (nan)
                    snprintf(err, n, "%s: '%s' is not an integer", k->key, t);
                else
                    snprintf(err, n, "%s: a layer of %ld units: widths are %.0f to %.0f", k->key, l,
                             k->lo, k->hi);
                free(dup);
                return -1;
            }
            tmp[cnt++] = (int)l;
        }
        free(dup);
        if (cnt == 0) {
            snprintf(err, n, "%s: empty list", k->key);
            return -1;
        }
        memcpy(base + k->off, tmp, sizeof tmp);
        cfg->n_hidden_layers = cnt;
        return 0;
    }
    case T_WBITS: {
        /* The words in the order of the formats: 8 is EVONET_W8 (0). */
        static const char *const words[] = {"8", "4", "2", "ternary"};
        int tmp[EVONET_MAX_LAYERS], cnt = 0;
        char *dup = et_strdup(v), *save = NULL;
        for (char *t = strtok_r(dup, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
            int f = -1;
            for (int w = 0; w < 4; w++)
                f = strcmp(t, words[w]) ? f : w;
            if (f < 0 || cnt == EVONET_MAX_LAYERS) {
                snprintf(err, n,
                         f < 0 ? "%s: '%s' is not one of 8, 4, 2, ternary"
                               : "%s: '%s': more values than layers (at most %d)",
                         k->key, t, EVONET_MAX_LAYERS);
                free(dup);
                return -1;
            }
            tmp[cnt++] = f;
        }
        free(dup);
        if (cnt == 0) {
            snprintf(err, n, "%s: empty list", k->key);
            return -1;
        }
        memcpy(base + k->off, tmp, sizeof tmp);
        cfg->n_wfmt = cnt;
        return 0;
    }
    case T_DOUBLE3: {
        double tmp[3];
        int cnt = 0, bad = 0;
        char *dup = et_strdup(v), *save = NULL;
        for (char *t = strtok_r(dup, " ,\t", &save); t && !bad; t = strtok_r(NULL, " ,\t", &save)) {
            bad = cnt == 3 || et_parse_double(t, &d) != 0 || d < k->lo || d > k->hi;
            if (!bad)
                tmp[cnt++] = d;
        }
        free(dup);
        if (bad || cnt != 3) {
            snprintf(err, n, "%s: '%s' is not 3 numbers in [%g, %g]", k->key, v, k->lo, k->hi);
            return -1;
        }
        memcpy(base + k->off, tmp, sizeof tmp);
        return 0;
    }
    }
    return -1;
}

struct et_config_where {
    char *section, *key; /* key NULL: the section's header */
    long line;
};

static void note_where(et_config *cfg, const char *section, const char *key, long line)
{
    struct et_config_where *w = et_malloc((size_t)(cfg->n_where + 1) * sizeof *w);
    if (cfg->n_where)
        memcpy(w, cfg->where, (size_t)cfg->n_where * sizeof *w);
    w[cfg->n_where] =
        (struct et_config_where){et_strdup(section), key ? et_strdup(key) : NULL, line};
    free(cfg->where);
    cfg->where = w;
    cfg->n_where++;
}

long et_config_line(const et_config *cfg, const char *section, const char *key)
{
    for (int i = 0; i < cfg->n_where; i++) {
        const struct et_config_where *w = &cfg->where[i];
        if (!strcmp(w->section, section) && (key ? w->key && !strcmp(w->key, key) : !w->key))
            return w->line;
    }
    return 0;
}

/* " (did you mean 'threads'?)" for a trainer key nobody knows: the closest
 * key of the schema, within a third of its length in edits, or where a key
 * of that very name belongs; "" when nothing is close. */
static void suggest_key(const char *section, const char *key, char *buf, size_t n)
{
    size_t best = (size_t)-1, len = strlen(key);
    const key_spec *pick = NULL;
    buf[0] = '\0';
    for (size_t i = 0; i < N_SCHEMA; i++) {
        size_t d = et_edit_distance(key, schema[i].key), kl = strlen(schema[i].key);
        /* A known key with something added ("pool_size") is as good as a typo. */
        if (d && kl >= 4 && kl < len && !strncmp(key, schema[i].key, kl))
            d = 1;
        if (d < best || (d == best && !strcmp(schema[i].section, section))) {
            best = d;
            pick = &schema[i];
        }
    }
    if (!pick || best > (len < 6 ? 1 : len / 3))
        return;
    if (best == 0)
        snprintf(buf, n, " (it belongs in [%s])", pick->section);
    else if (strcmp(pick->section, section))
        snprintf(buf, n, " (did you mean [%s] %s?)", pick->section, pick->key);
    else
        snprintf(buf, n, " (did you mean '%s'?)", pick->key);
}

/* " (did you mean [sensor 1]?)" for a section nobody knows: the closest
 * known kind of section by its first word, the rest (a name) kept. */
static void suggest_section(const char *section, char *buf, size_t n)
{
    static const char *const kinds[] = {"run",    "network", "train", "data",  "plugin",
                                        "target", "group",   "pose",  "field", "magnets",
                                        "magnet", "sensors", "sensor"};
    char word[64];
    size_t w = strcspn(section, " ");
    snprintf(word, sizeof word, "%.*s", (int)(w < 63 ? w : 63), section);
    size_t best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t d = et_edit_distance(word, kinds[i]);
        if (d < best) {
            best = d;
            pick = kinds[i];
        }
    }
    buf[0] = '\0';
    if (pick && best > 0 && best <= (strlen(word) < 6 ? 1 : strlen(word) / 3))
        snprintf(buf, n, " (did you mean [%s%s]?)", pick, section + w);
}

typedef struct {
    et_config *cfg;
    FILE *fp;
    long line;     /* line being parsed, counted by our reader */
    long err_line; /* first error */
    char err[320];
    char *seen; /* "\nsection\tkey" of every key so far, for duplicates */
    size_t seen_len;
    int bad_text; /* reader found a NUL byte or an overlong line */
    char *buf;
    size_t cap;
} parse_ctx;

static void fail(parse_ctx *p, const char *msg)
{
    if (p->err_line == 0) {
        p->err_line = p->line;
        snprintf(p->err, sizeof p->err, "%s", msg);
    }
}

/* inih's fgets-style reader, ours so that we know the line number in the
 * handler (Debian builds inih without INI_HANDLER_LINENO) and can refuse
 * binary files and overlong lines instead of misparsing them. */
static char *reader(char *str, int num, void *stream)
{
    parse_ctx *p = stream;
    int overlong;
    ssize_t len = et_getline_max(&p->buf, &p->cap, p->fp, ET_INI_MAX_LINE, &overlong);
    if (len < 0)
        return NULL;
    p->line++;
    if ((size_t)len != strlen(p->buf)) {
        fail(p, "not a text file (NUL byte)");
        p->bad_text = 1;
        return NULL;
    }
    if (overlong || len >= num) {
        char m[80];
        snprintf(m, sizeof m, "line longer than %d characters", ET_INI_MAX_LINE);
        fail(p, m);
        p->bad_text = 1;
        return NULL;
    }
    /* A section's header line, as inih reads it (the name up to the first
     * ']'), so that a section given with no keys is known to be there. */
    const char *q = p->buf + strspn(p->buf, " \t");
    size_t e = *q == '[' ? strcspn(q + 1, "]") : 0;
    if (*q == '[' && q[1 + e] == ']') {
        char name[ET_INI_MAX_LINE + 1];
        snprintf(name, sizeof name, "%.*s", (int)e, q + 1);
        if (!et_config_line(p->cfg, name, NULL))
            note_where(p->cfg, name, NULL, p->line);
    }
    memcpy(str, p->buf, (size_t)len + 1);
    return str;
}

/* Whether entry (n bytes) is one of seen's entries: a match must end where
 * an entry ends, or "\nrun\tname" would be found in "\nrun\tnamex". */
static int seen_before(const char *seen, const char *entry, size_t n)
{
    for (const char *s = seen; s && (s = strstr(s, entry)) != NULL; s++)
        if (s[n] == '\n' || s[n] == '\0')
            return 1;
    return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *p = user;
    char m[300];
    if (p->err_line)
        return 1; /* report only the first error */
    if (!*section) {
        snprintf(m, sizeof m, "key '%s' outside any [section]", key);
        fail(p, m);
        return 0;
    }
    /* Duplicates are refused: a second value silently winning hides typos. */
    size_t need = strlen(section) + strlen(key) + 3;
    char *entry = et_malloc(need);
    snprintf(entry, need, "\n%s\t%s", section, key);
    if (seen_before(p->seen, entry, need - 1)) {
        snprintf(m, sizeof m, "duplicate key '%s' in [%s]", key, section);
        free(entry);
        fail(p, m);
        return 0;
    }
    p->seen = realloc(p->seen, p->seen_len + need);
    if (!p->seen) {
        free(entry);
        fail(p, "out of memory");
        return 0;
    }
    memcpy(p->seen + p->seen_len, entry, need);
    p->seen_len += need - 1;
    free(entry);
    note_where(p->cfg, section, key, p->line);

    if (is_trainer_section(section)) {
        for (size_t i = 0; i < N_SCHEMA; i++) {
            if (strcmp(schema[i].section, section) || strcmp(schema[i].key, key))
                continue;
            if (set_value(p->cfg, &schema[i], value, m, sizeof m) != 0) {
                fail(p, m);
                return 0;
            }
            if (schema[i].type == T_WBITS)
                p->cfg->wfmt_line = p->line;
            return 1;
        }
        char hint[96];
        suggest_key(section, key, hint, sizeof hint);
        snprintf(m, sizeof m, "unknown key '%s' in [%s]%s", key, section, hint);
        fail(p, m);
        return 0;
    }
    int rc = et_config_task_set(p->cfg, section, key, value, p->line, m, sizeof m);
    if (rc < 0) {
        fail(p, m);
        return 0;
    }
    if (rc > 0)
        return 1;
    rc = sim_config_set(p->cfg->sim, section, key, value, p->line, m, sizeof m);
    if (rc > 0 && !p->cfg->sim_line)
        p->cfg->sim_line = p->line;
    if (rc == 0) {
        char hint[96];
        suggest_section(section, hint, sizeof hint);
        snprintf(m, sizeof m, "unknown section [%s]%s", section, hint);
        fail(p, m);
    } else if (rc < 0) {
        fail(p, m);
    }
    return rc > 0;
}

static void set_defaults(et_config *cfg)
{
    char err[256];
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (set_value(cfg, &schema[i], schema[i].def, err, sizeof err) != 0)
            abort(); /* a bad default is a programming error */
}

int et_config_load(const char *path, et_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path = et_strdup(path);
    cfg->sim = sim_scenario_alloc();
    set_defaults(cfg);

    parse_ctx p = {.cfg = cfg};
    p.fp = et_fopen_read(path, NULL);
    if (!p.fp)
        return -1;
    int rc = ini_parse_stream(reader, &p, handler, &p);
    int empty = p.line == 0;
    fclose(p.fp);
    free(p.buf);
    free(p.seen);
    /* inih goes on after a syntax error (it returns the first one's line), so
     * a key under a broken "[section" line would otherwise be blamed. */
    if (p.err_line && !(rc > 0 && rc < p.err_line)) {
        et_error(path, p.err_line, "%s", p.err);
        return -1;
    }
    if (rc != 0) {
        /* inih's own syntax errors: a line that is neither section nor key. */
        et_error(path, rc, "syntax error (expected [section] or key = value)");
        return -1;
    }
    if (empty) {
        et_error(path, 0, "empty configuration file");
        return -1;
    }
    int n_layers = cfg->n_hidden_layers + 1;
    if (cfg->n_wfmt != 1 && cfg->n_wfmt != n_layers) {
        et_error(path, cfg->wfmt_line,
                 "weight_bits: %d values for %d layers (%d hidden and the output); give one "
                 "for every layer or one per layer",
                 cfg->n_wfmt, n_layers, cfg->n_hidden_layers);
        return -1;
    }
    int low_bit = 0;
    for (int l = 0; l < n_layers; l++)
        low_bit |= et_config_wfmt(cfg, (unsigned)l) != EVONET_W8;
    if (strcmp(cfg->init, "none") && low_bit) {
        et_error(path, cfg->wfmt_line,
                 "weight_bits: a warm start (init = %s) needs 8-bit weights (its weights are "
                 "int8 steps)",
                 cfg->init);
        return -1;
    }
    long line = 0;
    char err[256];
    /* The scenario is the simulator's: another source has no use for it. */
    if (strcmp(et_config_data(cfg, "source", "sim"), "sim")) {
        if (cfg->sim_line) {
            et_error(path, cfg->sim_line,
                     "the magnet scenario's sections are for [data] source = sim, not %s",
                     et_config_data(cfg, "source", "sim"));
            return -1;
        }
        return 0;
    }
    if (sim_config_finish(cfg->sim, err, sizeof err, &line) != 0) {
        et_error(path, line, "%s", err);
        return -1;
    }
    return 0;
}

void et_config_free(et_config *cfg)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (schema[i].type == T_STRING)
            free(*(char **)((char *)cfg + schema[i].off));
    et_config_task_free(cfg);
    for (int i = 0; i < cfg->n_where; i++) {
        free(cfg->where[i].section);
        free(cfg->where[i].key);
    }
    free(cfg->where);
    free(cfg->path);
    if (cfg->sim)
        sim_scenario_free(cfg->sim);
    memset(cfg, 0, sizeof *cfg);
}

static void put_double(FILE *out, const char *pre, double x, int shortest)
{
    char b[40];
    if (shortest)
        et_fmt_double(b, sizeof b, x);
    else
        snprintf(b, sizeof b, "%.17g", x);
    fprintf(out, "%s%s", pre, b);
}

static void dump_value(const et_config *cfg, const key_spec *k, FILE *out, int shortest)
{
    const char *base = (const char *)cfg;
    switch (k->type) {
    case T_INT:
        fprintf(out, "%d", *(const int *)(base + k->off));
        break;
    case T_LONG:
        fprintf(out, "%ld", *(const long *)(base + k->off));
        break;
    case T_U64:
        fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)(base + k->off));
        break;
    case T_DOUBLE:
        put_double(out, "", *(const double *)(base + k->off), shortest);
        break;
    case T_STRING:
        fputs(*(char *const *)(base + k->off), out);
        break;
    case T_CHOICE: {
        int idx = *(const int *)(base + k->off);
        const char *c = k->choices;
        for (int i = 0; i < idx; i++) {
            c += strcspn(c, " ");
            while (*c == ' ')
                c++;
        }
        fprintf(out, "%.*s", (int)strcspn(c, " "), c);
        break;
    }
    case T_INTLIST:
        for (int i = 0; i < cfg->n_hidden_layers; i++)
            fprintf(out, "%s%d", i ? " " : "", ((const int *)(base + k->off))[i]);
        break;
    case T_WBITS:
        for (int i = 0; i < cfg->n_wfmt; i++) {
            int f = ((const int *)(base + k->off))[i];
            fprintf(out, "%s%s", i ? " " : "",
                    f == EVONET_WT   ? "ternary"
                    : f == EVONET_W2 ? "2"
                    : f == EVONET_W4 ? "4"
                                     : "8");
        }
        break;
    case T_DOUBLE3: {
        const double *v = (const double *)(base + k->off);
        for (int i = 0; i < 3; i++)
            put_double(out, i ? " " : "", v[i], shortest);
        break;
    }
    }
}

static void dump(const et_config *cfg, FILE *out, int shortest)
{
    const char *sec = "";
    for (size_t i = 0; i < N_SCHEMA; i++) {
        if (strcmp(sec, schema[i].section)) {
            sec = schema[i].section;
            fprintf(out, "%s[%s]\n", i ? "\n" : "", sec);
        }
        fprintf(out, "%s = ", schema[i].key);
        dump_value(cfg, &schema[i], out, shortest);
        fputc('\n', out);
    }
    fputc('\n', out);
    et_config_task_dump(cfg, out, shortest);
    if (!strcmp(et_config_data(cfg, "source", "sim"), "sim"))
        sim_config_print(cfg->sim, out, shortest);
}

void et_config_dump(const et_config *cfg, FILE *out)
{
    dump(cfg, out, 0);
}

void et_config_print(const et_config *cfg, FILE *out)
{
    dump(cfg, out, 1);
}

int et_config_default_line(const char *line)
{
    for (size_t i = 0; i < N_SCHEMA; i++) {
        size_t n = strlen(schema[i].key);
        if (strncmp(line, schema[i].key, n) || strncmp(line + n, " = ", 3))
            continue;
        const char *v = line + n + 3;
        if (schema[i].type != T_DOUBLE)
            return !strcmp(v, schema[i].def);
        /* The checkpoint's dump writes doubles with %.17g: 0.1 comes back
         * as 0.10000000000000001. */
        char *end;
        double x = strtod(v, &end);
        return *end == '\0' && end != v && x == strtod(schema[i].def, NULL);
    }
    return 0;
}

int et_config_is_budget_key(const char *key, size_t len)
{
    static const char *const keys[] = {"time_limit_s",  "max_generations", "max_evals",
                                       "polish_sweeps", "polish_s",        "threads"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i]) == len && !memcmp(key, keys[i], len))
            return 1;
    return 0;
}

void et_config_doc(FILE *out)
{
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const key_spec *k = &schema[i];
        fprintf(out, "[%s] %s = %s\n    %s", k->section, k->key, k->def, k->doc);
        if (k->type == T_CHOICE || k->type == T_WBITS)
            fprintf(out, " (one of: %s)", k->choices);
        else if (k->type == T_INT || k->type == T_LONG || k->type == T_INTLIST)
            fprintf(out, " (range %.0f to %.0f)", k->lo, k->hi);
        else if (k->type == T_DOUBLE || k->type == T_DOUBLE3)
            fprintf(out, " (range %g to %g)", k->lo, k->hi);
        fputc('\n', out);
        if (!strcmp(k->key, "algo"))
            et_opt_doc(out, "        ");
    }
    et_config_task_doc(out);
    sim_config_doc(out);
}

/* The "key = value" line of key (klen bytes) under section (slen bytes,
 * with its brackets) in text, or NULL; *n is the line's length. */
static const char *find_line(const char *text, const char *section, size_t slen, const char *key,
                             size_t klen, size_t *n)
{
    const char *sec = NULL;
    size_t seclen = 0;
    for (const char *l = text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
        size_t len = strcspn(l, "\n");
        if (l[0] == '[') {
            sec = l;
            seclen = len;
        } else if (sec && seclen == slen && !memcmp(sec, section, slen) && len > klen &&
                   !memcmp(l, key, klen) && l[klen] == ' ') {
            *n = len;
            return l;
        }
    }
    return NULL;
}

/* Each "key = value" line of x, with its section, that y lacks or has with
 * another value. x_is_a: x is the run's text (a key it alone has was
 * removed); else x is b (a key it alone has may be new since a). */
static int diff_lines(const char *x, const char *y, int x_is_a, int strict, char *what, size_t wn)
{
    const char *sec = "";
    size_t slen = 0;
    for (const char *l = x; *l; l += strcspn(l, "\n"), l += *l == '\n') {
        size_t n = strcspn(l, "\n"), k = strcspn(l, " =\n"), on;
        if (l[0] == '[') {
            sec = l;
            slen = n;
            continue;
        }
        if (k == n || et_config_is_budget_key(l, k))
            continue;
        const char *other = find_line(y, sec, slen, l, k, &on);
        int rc = ET_CONFIG_SAME;
        if (other && (x_is_a && (on != n || memcmp(other, l, n))))
            rc = ET_CONFIG_KEY_DIFFERS;
        else if (!other && strict) {
            char *line = et_malloc(n + 1);
            memcpy(line, l, n);
            line[n] = '\0';
            if (x_is_a || !et_config_default_line(line))
                rc = ET_CONFIG_SHAPE_DIFFERS;
            free(line);
        }
        if (rc != ET_CONFIG_SAME) {
            snprintf(what, wn, "%.*s %.*s", (int)slen, sec, (int)k, l);
            return rc;
        }
    }
    return ET_CONFIG_SAME;
}

int et_config_diff(const char *a, const char *b, int strict, char *what, size_t n)
{
    int rc = diff_lines(a, b, 1, strict, what, n);
    return rc != ET_CONFIG_SAME ? rc : diff_lines(b, a, 0, strict, what, n);
}

int et_config_wfmt(const et_config *cfg, unsigned l)
{
    return cfg->n_wfmt > 1 && l < (unsigned)cfg->n_wfmt ? cfg->wfmt[l] : cfg->wfmt[0];
}
