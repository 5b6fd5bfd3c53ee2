/* source: the et_source interface, and its table backends (the built-in
 * magnet simulator and dlopen'd plugins, both through evotrain_sim.h). */
#include "source_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evotrain_sim.h"
#include "sim_plugin.h"
#include "util.h"

/* ---- the common part ------------------------------------------------------ */

et_source *source_new(const source_ops *ops, void *impl, size_t n_in, size_t n_out)
{
    et_source *s = et_calloc(1, sizeof *s);
    s->ops = ops;
    s->impl = impl;
    s->n_in = n_in;
    s->n_out = n_out;
    s->in = et_calloc(n_in ? n_in : 1, sizeof *s->in);
    s->out = et_calloc(n_out ? n_out : 1, sizeof *s->out);
    s->own = et_calloc(2 * (n_in + n_out) + 1, sizeof *s->own);
    s->size = UINT64_MAX;
    return s;
}

int source_valid_name(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
              (s[n] >= '0' && s[n] <= '9')))
            return 0;
    return n <= EVOTRAIN_SIM_MAX_NAME;
}

int source_set_var(et_source *s, int out, size_t i, const char *name, const char *unit, char *err,
                   size_t errlen)
{
    const char *what = out ? "output" : "input";
    et_source_var *v = out ? s->out : s->in;
    if (!source_valid_name(name)) {
        snprintf(err, errlen, "%s %zu: name '%.80s' is not [A-Za-z_][A-Za-z0-9_]* (1 to %d chars)",
                 what, i, name ? name : "(null)", EVOTRAIN_SIM_MAX_NAME);
        return -1;
    }
    for (size_t j = 0; j < i; j++)
        if (!strcmp(v[j].name, name)) {
            snprintf(err, errlen, "%s %zu: name '%s' is also %s %zu", what, i, name, what, j);
            return -1;
        }
    unit = unit ? unit : "";
    for (const char *c = unit; *c; c++)
        if (*c == ' ' || *c == '\t' || *c == ',' || *c == '\n' || *c == '\r') {
            snprintf(err, errlen, "%s %s: unit '%.40s' has a blank or a comma", what, name, unit);
            return -1;
        }
    char **own = s->own + 2 * (out ? s->n_in + i : i);
    own[0] = et_strdup(name);
    own[1] = et_strdup(unit);
    v[i].name = own[0];
    v[i].unit = own[1];
    return 0;
}

/* An input cell: an integer in int16. 0, or -1 with the reason in why. */
int source_parse_input(const char *s, int16_t *v, char *why, size_t whylen)
{
    if (!*s) {
        snprintf(why, whylen, "missing value (empty field)");
        return -1;
    }
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end != s && *end == '\0') {
        if (errno == ERANGE || x < INT16_MIN || x > INT16_MAX) {
            snprintf(why, whylen, "%.40s is out of the int16 range [-32768, 32767]", s);
            return -1;
        }
        *v = (int16_t)x;
        return 0;
    }
    double d = strtod(s, &end);
    if (end != s && *end == '\0' && isnan(d))
        snprintf(why, whylen, "'%.40s' is not a number (inputs are integers)", s);
    else if (end != s && *end == '\0' && isinf(d))
        snprintf(why, whylen, "'%.40s' is infinite (inputs are integers)", s);
    else if (end != s && *end == '\0')
        snprintf(why, whylen, "'%.40s' is not an integer (inputs are int16 readings)", s);
    else
        snprintf(why, whylen, "'%.40s' is not a number", s);
    return -1;
}

/* A target cell: a finite number (a subnormal is what it rounds to). */
int source_parse_target(const char *s, double *v, char *why, size_t whylen)
{
    if (!*s) {
        snprintf(why, whylen, "missing value (empty field)");
        return -1;
    }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(d) || (errno == ERANGE && fabs(d) > DBL_MIN)) {
        snprintf(why, whylen, "'%.40s' is not a finite number", s);
        return -1;
    }
    *v = d;
    return 0;
}

void source_free(et_source *s)
{
    for (size_t i = 0; i < 2 * (s->n_in + s->n_out); i++)
        free(s->own[i]);
    free(s->own);
    free(s->in);
    free(s->out);
    free(s->identity);
    for (size_t k = 0; k < s->n_classes; k++)
        free(s->classes[k]);
    free(s->classes);
    free(s);
}

size_t et_source_n_inputs(const et_source *s)
{
    return s->n_in;
}

size_t et_source_n_targets(const et_source *s)
{
    return s->n_out;
}

const et_source_var *et_source_input(const et_source *s, size_t i)
{
    return i < s->n_in ? &s->in[i] : NULL;
}

const et_source_var *et_source_target(const et_source *s, size_t i)
{
    return i < s->n_out ? &s->out[i] : NULL;
}

uint64_t et_source_size(const et_source *s)
{
    return s->size;
}

int et_source_fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T)
{
    if (n > UINT64_MAX - first) {
        et_error(NULL, 0, "samples %llu + %zu: index past 2^64", (unsigned long long)first, n);
        return -1;
    }
    return n ? s->ops->fill(s, seed, first, n, X, T) : 0;
}

const char *et_source_identity(et_source *s)
{
    if (!s->identity)
        s->identity = s->ops->identity(s);
    return s->identity;
}

size_t et_source_n_classes(const et_source *s)
{
    return s->n_classes;
}

const char *et_source_class(const et_source *s, size_t k)
{
    return k < s->n_classes ? s->classes[k] : NULL;
}

void et_source_close(et_source *s)
{
    if (!s)
        return;
    s->ops->close(s);
    source_free(s);
}

et_source *et_source_open(const et_source_desc *d)
{
    switch (d->kind) {
    case ET_SOURCE_SIM:
        return et_source_open_api(sim_plugin_magnet(), NULL, d);
    case ET_SOURCE_PLUGIN:
        return et_source_open_api(NULL, d->path, d);
    case ET_SOURCE_COMMAND:
        return source_open_command(d);
    case ET_SOURCE_CSV:
        return source_open_csv(d);
    }
    et_error(NULL, 0, "unknown data source kind %d", (int)d->kind);
    return NULL;
}

/* ---- a table of evotrain_sim.h: the magnet simulator or a plugin ---------- */

typedef struct api_impl {
    const evotrain_sim_api *api;
    evotrain_sim *inst;
    void *lib;   /* dlopen handle; NULL for the built-in simulator */
    char *what;  /* the library's path, or "magnet simulator", for messages */
    char *ident; /* "plugin PATH" or "sim" */
} api_impl;

/* Samples per call of the table's fill when a range is split across threads. */
#define API_CHUNK 4096

static int api_fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T)
{
    api_impl *a = s->impl;
    size_t nchunk = (n + API_CHUNK - 1) / API_CHUNK;
    /* The first failing chunk's message wins, whatever the thread order. */
    long bad = -1;
    char msg[1024] = "";
    /* The interface promises that fill may run concurrently, and every row
     * depends on its index only, so chunks go to threads in any order. */
#pragma omp parallel for schedule(dynamic, 1) if (nchunk > 1)
    for (size_t c = 0; c < nchunk; c++) {
        size_t lo = c * API_CHUNK, m = n - lo < API_CHUNK ? n - lo : API_CHUNK;
        char err[512] = "";
        int rc = a->api->fill(a->inst, seed, first + lo, m, X + lo * s->n_in, T + lo * s->n_out,
                              err, sizeof err);
        if (rc != 0) {
#pragma omp critical(et_source_api_fill)
            if (bad < 0 || (long)c < bad) {
                bad = (long)c;
                snprintf(msg, sizeof msg, "fill(seed %llu, first %llu, count %zu) failed: %.500s",
                         (unsigned long long)seed, (unsigned long long)(first + lo), m,
                         err[0] ? err : "(no message)");
            }
        }
    }
    if (bad >= 0) {
        et_error(a->what, 0, "%s", msg);
        return -1;
    }
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < s->n_out; j++)
            if (!isfinite(T[r * s->n_out + j])) {
                et_error(a->what, 0,
                         "sample %llu (seed %llu): target %s is %g, not a finite number",
                         (unsigned long long)(first + r), (unsigned long long)seed, s->out[j].name,
                         T[r * s->n_out + j]);
                return -1;
            }
    return 0;
}

static char *api_identity(et_source *s)
{
    api_impl *a = s->impl;
    const char *v = a->api->version(a->inst);
    v = v ? v : "";
    size_t len = strlen(a->ident) + strlen(v) + 2;
    char *id = et_malloc(len);
    snprintf(id, len, "%s %s", a->ident, v);
    return id;
}

static void api_close(et_source *s)
{
    api_impl *a = s->impl;
    if (!a)
        return;
    if (a->inst)
        a->api->destroy(a->inst);
    /* After destroy: the table's code lives in the library. */
    if (a->lib)
        dlclose(a->lib);
    free(a->what);
    free(a->ident);
    free(a);
    s->impl = NULL;
}

static const source_ops api_ops = {api_fill, api_identity, api_close};

/* The table's members, for the NULL check and its message. */
static const char *missing_member(const evotrain_sim_api *t)
{
    if (!t->create)
        return "create";
    if (!t->n_inputs)
        return "n_inputs";
    if (!t->n_outputs)
        return "n_outputs";
    if (!t->input_name)
        return "input_name";
    if (!t->input_unit)
        return "input_unit";
    if (!t->output_name)
        return "output_name";
    if (!t->output_unit)
        return "output_unit";
    if (!t->fill)
        return "fill";
    if (!t->version)
        return "version";
    if (!t->destroy)
        return "destroy";
    return NULL;
}

/* dlopen path and fetch its table; NULL (reported) on any problem. */
static const evotrain_sim_api *load_plugin(const char *path, void **lib)
{
    *lib = NULL;
    if (!path || !*path) {
        et_error(NULL, 0, "plugin source without a library path");
        return NULL;
    }
    /* dlopen searches the library path for a name without a slash; a plugin
     * is named by its path, so "x.so" means ./x.so as a user expects. */
    char *p = NULL;
    if (!strchr(path, '/')) {
        p = et_malloc(strlen(path) + 3);
        sprintf(p, "./%s", path);
    }
    dlerror();
    void *h = dlopen(p ? p : path, RTLD_NOW | RTLD_LOCAL);
    free(p);
    if (!h) {
        const char *e = dlerror();
        et_error(path, 0, "cannot load the plugin: %s", e ? e : "unknown dlopen error");
        return NULL;
    }
    dlerror();
    void *sym = dlsym(h, EVOTRAIN_SIM_ENTRY_NAME);
    const char *e = dlerror();
    if (e || !sym) {
        et_error(path, 0, "not an evotrain plugin: no symbol %s (%s)", EVOTRAIN_SIM_ENTRY_NAME,
                 e ? e : "it is NULL");
        dlclose(h);
        return NULL;
    }
    /* POSIX guarantees this conversion for dlsym's result. */
    evotrain_sim_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const evotrain_sim_api *t = entry();
    if (!t) {
        et_error(path, 0, "%s() returned NULL", EVOTRAIN_SIM_ENTRY_NAME);
        dlclose(h);
        return NULL;
    }
    *lib = h;
    return t;
}

et_source *et_source_open_api(const evotrain_sim_api *t, const char *path, const et_source_desc *d)
{
    void *lib = NULL;
    const char *what = path ? path : "magnet simulator";
    if (!t && !(t = load_plugin(path, &lib)))
        return NULL;
    char err[512] = "";
    const char *missing;
    if (t->abi_version != EVOTRAIN_SIM_ABI_VERSION) {
        et_error(what, 0,
                 "plugin interface version %u, this evotrain speaks %d (rebuild the plugin "
                 "against its evotrain_sim.h)",
                 (unsigned)t->abi_version, EVOTRAIN_SIM_ABI_VERSION);
        goto fail_lib;
    }
    if (t->struct_size < sizeof *t) {
        et_error(what, 0, "plugin table of %u bytes, expected %zu (a different evotrain_sim.h?)",
                 (unsigned)t->struct_size, sizeof *t);
        goto fail_lib;
    }
    if ((missing = missing_member(t)) != NULL) {
        et_error(what, 0, "plugin table member %s is NULL", missing);
        goto fail_lib;
    }
    evotrain_sim *inst = t->create(d->keys, d->values, d->n_keys, err, sizeof err);
    if (!inst) {
        et_error(what, 0, "create failed: %s",
                 err[0] ? err : "(it returned NULL without a message)");
        goto fail_lib;
    }
    size_t ni = t->n_inputs(inst), no = t->n_outputs(inst);
    if (ni < 1 || ni > EVOTRAIN_SIM_MAX_INPUTS || no < 1 || no > EVOTRAIN_SIM_MAX_OUTPUTS) {
        et_error(what, 0, "reports %zu inputs and %zu outputs (1 to %d inputs, 1 to %d outputs)",
                 ni, no, EVOTRAIN_SIM_MAX_INPUTS, EVOTRAIN_SIM_MAX_OUTPUTS);
        t->destroy(inst);
        goto fail_lib;
    }
    api_impl *a = et_calloc(1, sizeof *a);
    a->api = t;
    a->inst = inst;
    a->lib = lib;
    a->what = et_strdup(what);
    if (path) {
        a->ident = et_malloc(strlen(path) + 8);
        sprintf(a->ident, "plugin %s", path);
    } else {
        a->ident = et_strdup("sim");
    }
    et_source *s = source_new(&api_ops, a, ni, no);
    for (size_t i = 0; i < ni + no; i++) {
        int out = i >= ni;
        size_t k = out ? i - ni : i;
        const char *name = out ? t->output_name(inst, k) : t->input_name(inst, k);
        const char *unit = out ? t->output_unit(inst, k) : t->input_unit(inst, k);
        if (source_set_var(s, out, k, name, unit, err, sizeof err) != 0) {
            et_error(what, 0, "%s", err);
            et_source_close(s);
            return NULL;
        }
    }
    return s;
fail_lib:
    if (lib)
        dlclose(lib);
    return NULL;
}
