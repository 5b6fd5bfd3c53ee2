/* rundata: a run's samples from its data source (see rundata.h). */
#include "rundata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "run.h"
#include "sim.h"
#include "util.h"

/* Words of s (blank-separated) as a NULL-terminated array of copies. */
static char **words(const char *s, size_t *n)
{
    char *dup = et_strdup(s), *save = NULL;
    size_t cap = 8, k = 0;
    char **w = et_malloc(sizeof *w * cap);
    for (char *t = strtok_r(dup, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (k + 1 >= cap) {
            cap *= 2;
            char **g = realloc(w, sizeof *w * cap);
            if (!g) {
                free(dup);
                free(w);
                return NULL;
            }
            w = g;
        }
        w[k++] = et_strdup(t);
    }
    w[k] = NULL;
    free(dup);
    *n = k;
    return w;
}

static void free_words(char **w)
{
    for (size_t i = 0; w && w[i]; i++)
        free(w[i]);
    free(w);
}

void et_free_words(char **w)
{
    free_words(w);
}

int et_config_classify(const et_config *cfg)
{
    return !strcmp(et_config_data(cfg, "task", "regress"), "classify");
}

long et_config_classes(const et_config *cfg, char ***names)
{
    *names = NULL;
    const char *v = et_config_data(cfg, "classes", NULL);
    if (!v)
        return 0;
    long line = et_config_data_line(cfg, "classes");
    size_t n = 0;
    char **w = words(v, &n);
    double k;
    if (w && n == 1 && et_parse_double(w[0], &k) == 0) {
        free_words(w);
        if (k < 2 || k > ET_SOURCE_MAX_CLASSES || k != (long)k) {
            et_error(cfg->path, line, "[data] classes: '%s' is not a class count in [2, %d] nor a list of names", v,
                     ET_SOURCE_MAX_CLASSES);
            return -1;
        }
        n = (size_t)k;
        w = et_malloc(sizeof *w * (n + 1));
        for (size_t c = 0; c < n; c++) {
            char b[24];
            snprintf(b, sizeof b, "%zu", c);
            w[c] = et_strdup(b);
        }
        w[n] = NULL;
    }
    if (!w || n < 2 || n > ET_SOURCE_MAX_CLASSES) {
        et_error(cfg->path, line, "[data] classes: %zu names; a classification has 2 to %d classes", n,
                 ET_SOURCE_MAX_CLASSES);
        free_words(w);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strlen(w[i]) > 63 || strpbrk(w[i], "\"\\,")) {
            et_error(cfg->path, line, "[data] classes: '%.40s' is not a class name (at most 63 characters, no \" \\ or comma)", w[i]);
            free_words(w);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(w[i], w[j])) {
                et_error(cfg->path, line, "[data] classes: '%s' is named twice", w[i]);
                free_words(w);
                return -1;
            }
    }
    *names = w;
    return (long)n;
}

/* A CSV file of the run: columns chosen by [data] inputs / targets. */
et_source *et_rundata_csv(const et_config *cfg, const char *path, const et_source *classes)
{
    char **cw = NULL;
    long nc = 0;
    int labels = et_config_classify(cfg);
    if (labels && !classes && (nc = et_config_classes(cfg, &cw)) < 0)
        return NULL;
    size_t ni = 0, nt = 0;
    const char *in = et_config_data(cfg, "inputs", NULL),
               *tg = et_config_data(cfg, "targets", NULL);
    char **iw = in ? words(in, &ni) : NULL, **tw = tg ? words(tg, &nt) : NULL;
    if (!tg && cfg->n_targets > 0) {
        /* The [target] sections name the targets when [data] targets does not. */
        tw = et_malloc(sizeof *tw * (size_t)(cfg->n_targets + 1));
        for (int i = 0; i < cfg->n_targets; i++)
            tw[nt++] = et_strdup(cfg->target[i].name);
        tw[nt] = NULL;
    }
    et_source_desc d = {.kind = ET_SOURCE_CSV,
                        .path = path,
                        .inputs = (const char *const *)iw,
                        .n_inputs = ni,
                        .targets = (const char *const *)tw,
                        .n_targets = nt,
                        .labels = labels};
    const char *fixed[ET_SOURCE_MAX_CLASSES];
    if (classes && et_source_n_classes(classes)) {
        d.n_classes = et_source_n_classes(classes);
        for (size_t k = 0; k < d.n_classes; k++)
            fixed[k] = et_source_class(classes, k);
        d.classes = fixed;
    } else if (nc > 0) {
        d.n_classes = (size_t)nc;
        d.classes = (const char *const *)cw;
    }
    et_source *s = et_source_open(&d);
    free_words(iw);
    free_words(tw);
    free_words(cw);
    return s;
}

static int parse_num(const et_config *cfg, const char *key, double lo, double hi, double *v)
{
    const char *s = et_config_data(cfg, key, NULL);
    if (!s)
        return 0;
    if (et_parse_double(s, v) != 0 || *v < lo || *v > hi) {
        et_error(cfg->path, cfg->data.line, "[data] %s: '%s' is not a number in [%g, %g]", key, s,
                 lo, hi);
        return -1;
    }
    return 0;
}

static int open_stream(const et_config *cfg, et_rundata *d)
{
    double workers = 1, timeout = 60;
    if (parse_num(cfg, "workers", 1, 64, &workers) ||
        parse_num(cfg, "timeout_s", 0.001, 1e6, &timeout))
        return -1;
    et_source_desc sd = {.workers = (int)workers, .timeout_s = timeout};
    char **argv = NULL;
    const char **keys = NULL, **values = NULL;
    if (d->kind == ET_DATA_COMMAND) {
        const char *cmd = et_config_data(cfg, "command", NULL);
        size_t n = 0;
        if (!cmd || !(argv = words(cmd, &n)) || n == 0) {
            et_error(cfg->path, cfg->data.line,
                     "[data] source = command needs command = PROGRAM [ARGS...]");
            free_words(argv);
            return -1;
        }
        sd.kind = ET_SOURCE_COMMAND;
        sd.path = argv[0];
        sd.argv = (const char *const *)argv + 1;
        sd.argc = n - 1;
    } else {
        sd.kind = ET_SOURCE_PLUGIN;
        sd.path = et_config_data(cfg, "plugin", NULL);
        if (!sd.path) {
            et_error(cfg->path, cfg->data.line,
                     "[data] source = plugin needs plugin = PATH (a shared library)");
            return -1;
        }
        keys = et_malloc(sizeof *keys * (size_t)(cfg->plugin.n + 1));
        values = et_malloc(sizeof *values * (size_t)(cfg->plugin.n + 1));
        for (int i = 0; i < cfg->plugin.n; i++) {
            keys[i] = cfg->plugin.key[i];
            values[i] = cfg->plugin.value[i];
        }
        sd.keys = keys;
        sd.values = values;
        sd.n_keys = (size_t)cfg->plugin.n;
    }
    d->src = et_source_open(&sd);
    free_words(argv);
    free(keys);
    free(values);
    return d->src ? 0 : -1;
}

static int open_files(const et_config *cfg, et_rundata *d)
{
    const char *train = et_config_data(cfg, "train", NULL);
    const char *valid = et_config_data(cfg, "valid", NULL);
    const char *test = et_config_data(cfg, "test", NULL);
    if (!train) {
        et_error(cfg->path, cfg->data.line, "[data] source = csv needs train = FILE.csv");
        return -1;
    }
    if (!(d->src = et_rundata_csv(cfg, train, NULL)) ||
        (valid && !(d->valid = et_rundata_csv(cfg, valid, d->src))) ||
        (test && !(d->test = et_rundata_csv(cfg, test, d->src))))
        return -1;
    for (et_source *o = d->valid; o; o = o == d->valid ? d->test : NULL) {
        if (!o)
            continue;
        if (et_source_n_inputs(o) != et_source_n_inputs(d->src) ||
            et_source_n_targets(o) != et_source_n_targets(d->src)) {
            et_error(cfg->path, cfg->data.line,
                     "[data] %s has %zu inputs and %zu targets, %s %zu and %zu: the files must "
                     "have the same columns",
                     o == d->valid ? valid : test, et_source_n_inputs(o), et_source_n_targets(o),
                     train, et_source_n_inputs(d->src), et_source_n_targets(d->src));
            return -1;
        }
    }
    uint64_t rows = et_source_size(d->src);
    if (!valid) {
        /* Without a validation file, the training file's last rows validate:
         * [data] holdout of them, by default a fifth (at most `valid`). */
        double h =
            (double)(rows / 5 < (uint64_t)cfg->valid_size ? rows / 5 : (uint64_t)cfg->valid_size);
        if (parse_num(cfg, "holdout", 1, (double)rows - 1, &h))
            return -1;
        d->holdout = (size_t)h;
    }
    if (rows < 2 || (uint64_t)d->holdout >= rows) {
        et_error(train, 0, "%llu rows: too few to train on and validate (give [data] valid = FILE)",
                 (unsigned long long)rows);
        return -1;
    }
    return 0;
}

int et_rundata_open(const et_config *cfg, et_rundata *d)
{
    memset(d, 0, sizeof *d);
    d->cfg = cfg;
    const char *src = et_config_data(cfg, "source", "sim");
    d->kind = !strcmp(src, "csv")       ? ET_DATA_CSV
              : !strcmp(src, "command") ? ET_DATA_COMMAND
              : !strcmp(src, "plugin")  ? ET_DATA_PLUGIN
                                        : ET_DATA_SIM;
    if (d->kind == ET_DATA_SIM)
        return 0;
    int rc = d->kind == ET_DATA_CSV ? open_files(cfg, d) : open_stream(cfg, d);
    if (rc == 0) {
        /* A CSV's identity covers its validation and test files too. */
        char buf[2048] = "";
        et_source *all[3] = {d->src, d->valid, d->test};
        for (int i = 0; i < 3 && rc == 0; i++) {
            if (!all[i])
                continue;
            const char *id = et_source_identity(all[i]);
            if (!id)
                rc = -1;
            else
                snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "; " : "", id);
        }
        d->identity = rc == 0 ? et_strdup(buf) : NULL;
    }
    if (rc != 0)
        et_rundata_close(d);
    return rc;
}

void et_rundata_close(et_rundata *d)
{
    et_source_close(d->src);
    et_source_close(d->valid);
    et_source_close(d->test);
    free(d->identity);
    memset(d, 0, sizeof *d);
}

/* Rows [first, first + n) of s (seed for a stream) into new arrays. With
 * MPI a stream's rows are made in shares and exchanged, as the simulator's
 * are: sample i is keyed by its index, so the bits are those of one process. */
static int fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int share, int16_t **X,
                double **T)
{
    size_t ni = et_source_n_inputs(s), nt = et_source_n_targets(s);
    *X = et_malloc(sizeof(int16_t) * (n ? n : 1) * ni);
    *T = et_malloc(sizeof(double) * (n ? n : 1) * nt);
    size_t lo = 0, hi = n;
    if (share)
        et_dist_share(n, &lo, &hi);
    int rc = et_source_fill(s, seed, first + lo, hi - lo, *X + lo * ni, *T + lo * nt);
    if (share) {
        if (et_dist_max_int(rc != 0) != 0)
            rc = -1;
        else {
            et_dist_allgather_rows_i16(*X, n, ni);
            et_dist_allgather_rows_f64(*T, n, nt);
        }
    }
    if (rc != 0) {
        free(*X);
        free(*T);
        *X = NULL;
        *T = NULL;
    }
    return rc;
}

int et_rundata_rows(et_rundata *d, et_data_set set, size_t n, int16_t **X, double **T, size_t *rows)
{
    const et_config *cfg = d->cfg;
    static const uint64_t base[] = {0, ET_VALID_BASE, ET_EVAL_BASE, ET_SELFTEST_BASE};
    if (d->kind == ET_DATA_SIM) {
        size_t ni = sim_n_readings(cfg->sim);
        *X = et_malloc(sizeof(int16_t) * (n ? n : 1) * ni);
        *T = et_malloc(sizeof(double) * (n ? n : 1) * SIM_POSE_DIM);
        size_t lo = 0, hi = n;
        if (set != ET_SET_SELFTEST && set != ET_SET_EVAL)
            et_dist_share(n, &lo, &hi);
        sim_sample(cfg->sim, cfg->seed, base[set] + lo, hi - lo, 1, *X + lo * ni,
                   *T + lo * SIM_POSE_DIM);
        if (set != ET_SET_SELFTEST && set != ET_SET_EVAL) {
            et_dist_allgather_rows_i16(*X, n, ni);
            et_dist_allgather_rows_f64(*T, n, SIM_POSE_DIM);
        }
        *rows = n;
        return 0;
    }
    if (d->kind != ET_DATA_CSV) {
        *rows = n;
        return fill(d->src, cfg->seed, base[set], n, set == ET_SET_POOL || set == ET_SET_VALID, X,
                    T);
    }
    /* A CSV: its sets are its files' rows. */
    et_source *s = d->src;
    uint64_t total = et_source_size(s), first = 0, count = total - d->holdout;
    if (set != ET_SET_POOL) {
        if (set == ET_SET_EVAL && d->test)
            s = d->test, count = et_source_size(s);
        else if (d->valid)
            s = d->valid, count = et_source_size(s);
        else
            first = total - d->holdout, count = d->holdout;
        if (set == ET_SET_SELFTEST && count > n)
            count = n;
    }
    *rows = (size_t)count;
    return fill(s, 0, first, (size_t)count, 0, X, T);
}
