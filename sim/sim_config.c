/* sim_config: the scenario's INI sections, from one schema table.
 *
 * Sections: [pose] (the sampling box), [field] (background), [magnet NAME]
 * (any number), [sensor NAME] (any number, readings in file order), and the
 * optional [magnets] / [sensors], whose keys are defaults for every magnet or
 * sensor that does not set them. set, dump and doc are all driven by keys[]. */
#include "sim_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum sect { SEC_POSE, SEC_FIELD, SEC_MAGNET, SEC_SENSOR };
enum type { TY_RANGE, TY_VEC3, TY_VEC3B, TY_REAL, TY_CLAMP, TY_MODEL, TY_AXES, TY_PARAMS };
enum {
    F_INSTANCE = 1, /* only in [magnet NAME] / [sensor NAME], not in the defaults section */
    F_OPEN_LO = 2   /* the lower bound itself is excluded (e.g. sizes > 0) */
};

struct key {
    enum sect sect;
    const char *key;
    enum type type;
    int flags;
    size_t off;      /* into sim_scenario, sim_magnet or sim_sensor by sect */
    const char *def; /* NULL: required */
    double lo, hi;   /* every number must lie in [lo, hi] */
    const char *doc;
};

#define SC(m) offsetof(struct sim_scenario, m)
#define MG(m) offsetof(struct sim_magnet, m)
#define SN(m) offsetof(struct sim_sensor, m)

static const struct key keys[] = {
    {SEC_POSE, "x_mm", TY_RANGE, 0, SC(box[0]), "-5 5", -1e4, 1e4,
     "translation x of the object: sampled uniformly in [lo, hi]"},
    {SEC_POSE, "y_mm", TY_RANGE, 0, SC(box[1]), "-5 5", -1e4, 1e4, "translation y"},
    {SEC_POSE, "z_mm", TY_RANGE, 0, SC(box[2]), "-5 5", -1e4, 1e4, "translation z"},
    {SEC_POSE, "roll_deg", TY_RANGE, 0, SC(box[3]), "-20 20", -180, 180,
     "rotation about x (applied first); R = Rz(yaw) Ry(pitch) Rx(roll)"},
    {SEC_POSE, "pitch_deg", TY_RANGE, 0, SC(box[4]), "-20 20", -180, 180, "rotation about y"},
    {SEC_POSE, "yaw_deg", TY_RANGE, 0, SC(box[5]), "-20 20", -180, 180,
     "rotation about z (applied last)"},
    {SEC_FIELD, "background_mT", TY_VEC3, 0, SC(background), "0 0 0", -1e4, 1e4,
     "constant field added at every sensor (world frame)"},
    {SEC_MAGNET, "model", TY_MODEL, 0, MG(model), "cuboid", 0, 0,
     "field model: cuboid or dipole (see sim/models.c)"},
    {SEC_MAGNET, "center_mm", TY_VEC3, F_INSTANCE, MG(center), NULL, -1e4, 1e4,
     "centre in the object frame"},
    {SEC_MAGNET, "dim_mm", TY_VEC3, F_INSTANCE, MG(dim), NULL, 1e-6, 1e4,
     "edge lengths along the magnet's axes (the dipole uses the volume)"},
    {SEC_MAGNET, "polarization_T", TY_VEC3, F_INSTANCE, MG(J), NULL, -100, 100,
     "polarization J in the magnet's frame"},
    {SEC_MAGNET, "rotation_deg", TY_VEC3, 0, MG(rot), "0 0 0", -360, 360,
     "roll pitch yaw of the magnet's axes in the object frame"},
    {SEC_MAGNET, "param", TY_PARAMS, 0, MG(param), "", -1e300, 1e300,
     "extra numbers for a user model (up to 8)"},
    {SEC_SENSOR, "position_mm", TY_VEC3, F_INSTANCE, SN(pos), NULL, -1e4, 1e4,
     "position in the world frame"},
    {SEC_SENSOR, "rotation_deg", TY_VEC3, 0, SN(rot), "0 0 0", -360, 360,
     "roll pitch yaw of the sensor's axes in the world frame"},
    {SEC_SENSOR, "axes", TY_AXES, 0, SN(axes), "xyz", 0, 0,
     "measured axes of the sensor frame, in reading order (1 to 3 of x, y, z)"},
    {SEC_SENSOR, "gain", TY_VEC3B, 0, SN(gain), "1", -1e3, 1e3,
     "sensitivity per sensor axis x y z (one value: all axes)"},
    {SEC_SENSOR, "offset_mT", TY_VEC3B, 0, SN(offset), "0", -1e4, 1e4,
     "offset per sensor axis x y z, added after the gain"},
    {SEC_SENSOR, "noise_mT", TY_REAL, 0, SN(noise), "0.1", 0, 1e4,
     "standard deviation of the Gaussian noise per reading"},
    {SEC_SENSOR, "lsb_mT", TY_REAL, F_OPEN_LO, SN(lsb), "0.098", 0, 1e4, "field per ADC count"},
    {SEC_SENSOR, "clamp", TY_CLAMP, 0, SN(clamp), "-2048 2047", -32768, 32767,
     "lowest and highest ADC count"},
};

#define N_KEYS (sizeof keys / sizeof keys[0])
_Static_assert(sizeof keys / sizeof keys[0] <= SIM_MAX_KEYS, "raise SIM_MAX_KEYS");

const char *const sim_pose_names[SIM_POSE_DIM] = {"x_mm",     "y_mm",      "z_mm",
                                                  "roll_deg", "pitch_deg", "yaw_deg"};

static const char *const sect_name[] = {"pose", "field", "magnet", "sensor"};

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Parse a list of numbers separated by blanks or commas. Returns the count, or
 * -1 for a token that is not a finite number (its text copied to bad). */
static int parse_numbers(const char *s, double *v, int max, char *bad, size_t badlen)
{
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            return n;
        const char *tok = s;
        while (*s && *s != ' ' && *s != '\t' && *s != ',')
            s++;
        char buf[64];
        size_t len = (size_t)(s - tok);
        snprintf(bad, badlen, "%.*s", (int)len, tok);
        if (len >= sizeof buf || n == max)
            return n == max ? max + 1 : -1;
        memcpy(buf, tok, len);
        buf[len] = '\0';
        char *end;
        errno = 0;
        double x = strtod(buf, &end);
        if (end == buf || *end || errno == ERANGE || !isfinite(x))
            return -1;
        v[n++] = x;
    }
}

static size_t type_size(enum type t)
{
    switch (t) {
    case TY_RANGE:
        return 2 * sizeof(double);
    case TY_VEC3:
    case TY_VEC3B:
        return 3 * sizeof(double);
    case TY_REAL:
        return sizeof(double);
    case TY_CLAMP:
        return 2 * sizeof(int);
    case TY_MODEL:
        return sizeof(const struct sim_model *);
    case TY_AXES:
        return 4;
    case TY_PARAMS:
        return sizeof(struct sim_params);
    }
    return 0;
}

static const char *type_doc(enum type t)
{
    static const char *const d[] = {"lo hi", "x y z", "x y z|v", "number",
                                    "lo hi", "name",  "letters", "numbers"};
    return d[t];
}

/* Check and store one value at dst. 0 ok, -1 with message. */
static int set_value(const struct key *k, void *dst, const char *value, char *err, size_t errlen)
{
    double v[SIM_MAX_PARAM];
    char bad[64];
    int want = 0, n;
    switch (k->type) {
    case TY_MODEL: {
        const struct sim_model *m = sim_model_find(value);
        if (!m) {
            char known[256] = "";
            for (size_t i = 0; i < sim_n_models; i++) {
                size_t used = strlen(known);
                snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                         sim_models[i].name);
            }
            fail(err, errlen, "%s: unknown model '%s' (known: %s)", k->key, value, known);
            return -1;
        }
        memcpy(dst, &m, sizeof m);
        return 0;
    }
    case TY_AXES: {
        size_t len = strlen(value);
        int seen[3] = {0, 0, 0};
        if (len < 1 || len > 3)
            goto bad_axes;
        for (size_t i = 0; i < len; i++) {
            int a = value[i] - 'x';
            if (a < 0 || a > 2 || seen[a]++)
                goto bad_axes;
        }
        memcpy(dst, value, len + 1);
        return 0;
    bad_axes:
        fail(err, errlen, "%s: '%s' is not 1 to 3 distinct letters of x, y, z", k->key, value);
        return -1;
    }
    case TY_RANGE:
    case TY_CLAMP:
        want = 2;
        break;
    case TY_VEC3:
        want = 3;
        break;
    case TY_VEC3B:
    case TY_REAL:
        want = k->type == TY_REAL ? 1 : 3;
        break;
    case TY_PARAMS:
        want = -1;
        break;
    }
    n = parse_numbers(value, v, SIM_MAX_PARAM, bad, sizeof bad);
    if (n < 0) {
        fail(err, errlen, "%s: '%s' is not a finite number", k->key, bad);
        return -1;
    }
    if (k->type == TY_VEC3B && n == 1) {
        v[1] = v[2] = v[0];
        n = 3;
    }
    if (want >= 0 && n != want) {
        fail(err, errlen, "%s: expected %d number%s (%s), got %s%d", k->key, want,
             want > 1 ? "s" : "", type_doc(k->type), n > SIM_MAX_PARAM ? "more than " : "",
             n > SIM_MAX_PARAM ? SIM_MAX_PARAM : n);
        return -1;
    }
    if (k->type == TY_PARAMS && n > SIM_MAX_PARAM) {
        fail(err, errlen, "%s: at most %d numbers", k->key, SIM_MAX_PARAM);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int low = (k->flags & F_OPEN_LO) ? v[i] <= k->lo : v[i] < k->lo;
        if (low || v[i] > k->hi) {
            fail(err, errlen, "%s: %g is out of range %s%g, %g]", k->key, v[i],
                 (k->flags & F_OPEN_LO) ? "(" : "[", k->lo, k->hi);
            return -1;
        }
    }
    if (k->type == TY_RANGE && v[0] > v[1]) {
        fail(err, errlen, "%s: lower bound %g above upper bound %g", k->key, v[0], v[1]);
        return -1;
    }
    if (k->type == TY_CLAMP) {
        if (v[0] != floor(v[0]) || v[1] != floor(v[1]) || v[0] >= v[1]) {
            fail(err, errlen, "%s: expected two integers lo < hi", k->key);
            return -1;
        }
        int c[2] = {(int)v[0], (int)v[1]};
        memcpy(dst, c, sizeof c);
        return 0;
    }
    if (k->type == TY_PARAMS) {
        struct sim_params p = {n, {0}};
        memcpy(p.v, v, (size_t)n * sizeof(double));
        memcpy(dst, &p, sizeof p);
        return 0;
    }
    memcpy(dst, v, type_size(k->type));
    return 0;
}

static void *field_ptr(void *base, const struct key *k)
{
    return (char *)base + k->off;
}

static void set_defaults(void *base, enum sect sect)
{
    char err[128];
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].sect == sect && keys[i].def)
            (void)set_value(&keys[i], field_ptr(base, &keys[i]), keys[i].def, err, sizeof err);
}

struct sim_scenario *sim_scenario_alloc(void)
{
    struct sim_scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    set_defaults(sc, SEC_POSE);
    set_defaults(sc, SEC_FIELD);
    set_defaults(&sc->mag_default, SEC_MAGNET);
    set_defaults(&sc->sen_default, SEC_SENSOR);
    return sc;
}

void sim_scenario_free(struct sim_scenario *sc)
{
    if (!sc)
        return;
    free(sc->mag);
    free(sc->sen);
    free(sc->rd);
    free(sc);
}

/* Split "magnet A" into kind and name. Returns the section kind, or -1 if the
 * section is not the simulator's; *name is "" for the defaults sections. */
static int classify(const char *section, char *name, size_t namelen, int *is_default)
{
    *is_default = 0;
    name[0] = '\0';
    if (!strcmp(section, "pose"))
        return SEC_POSE;
    if (!strcmp(section, "field"))
        return SEC_FIELD;
    if (!strcmp(section, "magnets") || !strcmp(section, "sensors")) {
        *is_default = 1;
        return section[0] == 'm' ? SEC_MAGNET : SEC_SENSOR;
    }
    int kind;
    const char *rest;
    if (!strncmp(section, "magnet", 6) && isspace((unsigned char)section[6]))
        kind = SEC_MAGNET, rest = section + 6;
    else if (!strncmp(section, "sensor", 6) && isspace((unsigned char)section[6]))
        kind = SEC_SENSOR, rest = section + 6;
    else
        return -1;
    while (isspace((unsigned char)*rest))
        rest++;
    size_t len = strlen(rest);
    while (len && isspace((unsigned char)rest[len - 1]))
        len--;
    snprintf(name, namelen, "%.*s", (int)len, rest);
    return kind;
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= SIM_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

/* name has passed valid_name, so it fits. */
static void copy_name(char dst[SIM_NAME_MAX], const char *name)
{
    size_t len = strlen(name);
    if (len >= SIM_NAME_MAX)
        len = SIM_NAME_MAX - 1;
    memcpy(dst, name, len);
    dst[len] = '\0';
}

static void *grow(void *p, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? 2 * *cap : 8;
    void *q = realloc(p, ncap * elem);
    if (!q)
        return NULL;
    memset((char *)q + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return q;
}

/* The instance struct for [magnet NAME] / [sensor NAME], created on first use. */
static void *instance(struct sim_scenario *sc, int kind, const char *name, long line)
{
    if (kind == SEC_MAGNET) {
        for (size_t i = 0; i < sc->n_mag; i++)
            if (!strcmp(sc->mag[i].name, name))
                return &sc->mag[i];
        if (sc->n_mag == sc->cap_mag) {
            void *p = grow(sc->mag, &sc->cap_mag, sizeof *sc->mag);
            if (!p)
                return NULL;
            sc->mag = p;
        }
        struct sim_magnet *m = &sc->mag[sc->n_mag++];
        memset(m, 0, sizeof *m);
        copy_name(m->name, name);
        m->first_line = line;
        return m;
    }
    for (size_t i = 0; i < sc->n_sen; i++)
        if (!strcmp(sc->sen[i].name, name))
            return &sc->sen[i];
    if (sc->n_sen == sc->cap_sen) {
        void *p = grow(sc->sen, &sc->cap_sen, sizeof *sc->sen);
        if (!p)
            return NULL;
        sc->sen = p;
    }
    struct sim_sensor *s = &sc->sen[sc->n_sen++];
    memset(s, 0, sizeof *s);
    copy_name(s->name, name);
    s->first_line = line;
    return s;
}

int sim_config_set(struct sim_scenario *sc, const char *section, const char *key, const char *value,
                   long line, char *err, size_t errlen)
{
    char name[SIM_NAME_MAX + 8];
    int is_default;
    if (!strcmp(section, "magnet") || !strcmp(section, "sensor")) {
        fail(err, errlen, "[%s] needs a name: [%s NAME], e.g. [%s %s]", section, section, section,
             section[0] == 'm' ? "A" : "0");
        return -1;
    }
    int kind = classify(section, name, sizeof name, &is_default);
    if (kind < 0)
        return 0;
    if (sc->finished) {
        fail(err, errlen, "scenario already finished");
        return -1;
    }
    const struct key *k = NULL;
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].sect == (enum sect)kind && !strcmp(keys[i].key, key)) {
            k = &keys[i];
            break;
        }
    if (!k || (is_default && (k->flags & F_INSTANCE))) {
        char known[512] = "";
        for (size_t i = 0; i < N_KEYS; i++) {
            if (keys[i].sect != (enum sect)kind || (is_default && (keys[i].flags & F_INSTANCE)))
                continue;
            size_t used = strlen(known);
            snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", keys[i].key);
        }
        fail(err, errlen, "unknown key '%s' in [%s] (known: %s)", key, section, known);
        return -1;
    }
    if ((kind == SEC_MAGNET || kind == SEC_SENSOR) && !is_default && !valid_name(name)) {
        fail(err, errlen, "[%s]: name '%s' must be 1 to %d letters, digits, '_' or '-'", section,
             name, SIM_NAME_MAX - 1);
        return -1;
    }
    void *base;
    unsigned char *set;
    long *lines;
    if (kind == SEC_POSE || kind == SEC_FIELD) {
        base = sc, set = sc->set, lines = sc->line;
    } else if (is_default) {
        if (kind == SEC_MAGNET)
            base = &sc->mag_default, set = sc->mag_default.set, lines = sc->mag_default.line;
        else
            base = &sc->sen_default, set = sc->sen_default.set, lines = sc->sen_default.line;
    } else {
        base = instance(sc, kind, name, line);
        if (!base) {
            fail(err, errlen, "out of memory");
            return -1;
        }
        if (kind == SEC_MAGNET)
            set = ((struct sim_magnet *)base)->set, lines = ((struct sim_magnet *)base)->line;
        else
            set = ((struct sim_sensor *)base)->set, lines = ((struct sim_sensor *)base)->line;
    }
    if (set_value(k, field_ptr(base, k), value, err, errlen) != 0)
        return -1;
    size_t idx = (size_t)(k - keys);
    set[idx] = 1;
    lines[idx] = line;
    return 1;
}

/* Instance keys not given in the file come from the defaults section. */
static int resolve(void *inst, const unsigned char *set, long first_line, const void *defaults,
                   enum sect kind, const char *name, char *err, size_t errlen, long *err_line)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        if (k->sect != kind || set[i])
            continue;
        if (!k->def && (k->flags & F_INSTANCE)) {
            fail(err, errlen, "[%s %s] needs %s (%s)", sect_name[kind], name, k->key, k->doc);
            *err_line = first_line;
            return -1;
        }
        memcpy(field_ptr(inst, k), (const char *)defaults + k->off, type_size(k->type));
    }
    return 0;
}

static long key_line(const long *lines, const char *keyname, enum sect kind, long fallback)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].sect == kind && !strcmp(keys[i].key, keyname))
            return lines[i] ? lines[i] : fallback;
    return fallback;
}

int sim_config_finish(struct sim_scenario *sc, char *err, size_t errlen, long *err_line)
{
    *err_line = 0;
    if (sc->finished) {
        fail(err, errlen, "scenario already finished");
        return -1;
    }
    if (sc->n_mag == 0) {
        fail(err, errlen, "no magnets: add a [magnet NAME] section");
        return -1;
    }
    if (sc->n_sen == 0) {
        fail(err, errlen, "no sensors: add a [sensor NAME] section");
        return -1;
    }
    for (size_t i = 0; i < sc->n_mag; i++) {
        struct sim_magnet *m = &sc->mag[i];
        if (resolve(m, m->set, m->first_line, &sc->mag_default, SEC_MAGNET, m->name, err, errlen,
                    err_line) != 0)
            return -1;
        memcpy(m->geom.dim, m->dim, sizeof m->dim);
        memcpy(m->geom.J, m->J, sizeof m->J);
        memcpy(m->geom.param, m->param.v, sizeof m->param.v);
        m->geom.n_param = m->param.n;
        if (m->model->check && m->model->check(&m->geom, err, errlen) != 0) {
            *err_line = key_line(m->line, "model", SEC_MAGNET, m->first_line);
            return -1;
        }
        sim_rotation(m->rot[0], m->rot[1], m->rot[2], m->Rm);
        m->rotated = m->rot[0] != 0 || m->rot[1] != 0 || m->rot[2] != 0;
    }
    size_t n_rd = 0;
    for (size_t i = 0; i < sc->n_sen; i++) {
        struct sim_sensor *s = &sc->sen[i];
        if (resolve(s, s->set, s->first_line, &sc->sen_default, SEC_SENSOR, s->name, err, errlen,
                    err_line) != 0)
            return -1;
        n_rd += strlen(s->axes);
    }
    if (sc->n_sen > SIM_MAX_SENSORS) {
        fail(err, errlen, "%zu sensors: at most %d", sc->n_sen, SIM_MAX_SENSORS);
        return -1;
    }
    if (n_rd > SIM_MAX_READINGS) {
        fail(err, errlen, "%zu readings: at most %d", n_rd, SIM_MAX_READINGS);
        return -1;
    }
    sc->rd = calloc(n_rd, sizeof *sc->rd);
    if (!sc->rd) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    sc->n_rd = n_rd;
    size_t r = 0;
    for (size_t i = 0; i < sc->n_sen; i++) {
        const struct sim_sensor *s = &sc->sen[i];
        double Rs[9];
        sim_rotation(s->rot[0], s->rot[1], s->rot[2], Rs);
        for (const char *a = s->axes; *a; a++, r++) {
            struct sim_reading *rd = &sc->rd[r];
            int ax = *a - 'x';
            /* Column ax of Rs is the sensor's axis in world coordinates. */
            for (int j = 0; j < 3; j++)
                rd->u[j] = Rs[3 * j + ax];
            rd->axis = -1;
            for (int j = 0; j < 3; j++)
                if (rd->u[j] == 1 && rd->u[(j + 1) % 3] == 0 && rd->u[(j + 2) % 3] == 0)
                    rd->axis = j;
            rd->gain = s->gain[ax];
            rd->offset = s->offset[ax];
            rd->sigma = s->noise;
            rd->lsb = s->lsb;
            rd->inv_lsb = 1.0 / s->lsb;
            rd->lo = s->clamp[0];
            rd->hi = s->clamp[1];
            rd->sensor = i;
            int digits = 1;
            for (const char *c = s->name; *c; c++)
                digits &= isdigit((unsigned char)*c) != 0;
            snprintf(rd->name, sizeof rd->name, "%s%s_%c", digits ? "s" : "", s->name, *a);
        }
    }
    /* Column names must be unique for the CSV files to be readable. */
    for (size_t i = 0; i < n_rd; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sc->rd[i].name, sc->rd[j].name)) {
                fail(err, errlen, "sensors '%s' and '%s' both give column %s",
                     sc->sen[sc->rd[j].sensor].name, sc->sen[sc->rd[i].sensor].name,
                     sc->rd[i].name);
                *err_line = sc->sen[sc->rd[i].sensor].first_line;
                return -1;
            }
    sc->finished = 1;
    return 0;
}

/* A number as %.17g (what the scenario's identity hashes), or in its
 * shortest form that reads back exactly (for people). */
static void put_num(FILE *out, const char *pre, double x, int shortest)
{
    char b[32];
    int prec = shortest ? 15 : 17;
    for (; prec < 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, x);
        if (strtod(b, NULL) == x)
            break;
    }
    fprintf(out, "%s%.*g", pre, prec, x);
}

static void dump_value(FILE *out, const struct key *k, const void *base, int sh)
{
    const void *p = (const char *)base + k->off;
    switch (k->type) {
    case TY_RANGE: {
        const double *v = p;
        put_num(out, "", v[0], sh);
        put_num(out, " ", v[1], sh);
        break;
    }
    case TY_VEC3:
    case TY_VEC3B: {
        const double *v = p;
        for (int i = 0; i < 3; i++)
            put_num(out, i ? " " : "", v[i], sh);
        break;
    }
    case TY_REAL:
        put_num(out, "", *(const double *)p, sh);
        break;
    case TY_CLAMP: {
        const int *v = p;
        fprintf(out, "%d %d", v[0], v[1]);
        break;
    }
    case TY_MODEL: {
        const struct sim_model *m;
        memcpy(&m, p, sizeof m);
        fputs(m->name, out);
        break;
    }
    case TY_AXES:
        fputs(p, out);
        break;
    case TY_PARAMS: {
        const struct sim_params *v = p;
        for (int i = 0; i < v->n; i++)
            put_num(out, i ? " " : "", v->v[i], sh);
        break;
    }
    }
}

static void dump_section(FILE *out, enum sect kind, const void *base, int sh)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].sect != kind)
            continue;
        if (keys[i].type == TY_PARAMS &&
            ((const struct sim_params *)((const char *)base + keys[i].off))->n == 0)
            continue;
        fprintf(out, "%s = ", keys[i].key);
        dump_value(out, &keys[i], base, sh);
        fputc('\n', out);
    }
}

void sim_config_dump(const struct sim_scenario *sc, FILE *out)
{
    sim_config_print(sc, out, 0);
}

void sim_config_print(const struct sim_scenario *sc, FILE *out, int sh)
{
    fputs("[pose]\n", out);
    dump_section(out, SEC_POSE, sc, sh);
    fputs("\n[field]\n", out);
    dump_section(out, SEC_FIELD, sc, sh);
    for (size_t i = 0; i < sc->n_mag; i++) {
        fprintf(out, "\n[magnet %s]\n", sc->mag[i].name);
        dump_section(out, SEC_MAGNET, &sc->mag[i], sh);
    }
    for (size_t i = 0; i < sc->n_sen; i++) {
        fprintf(out, "\n[sensor %s]\n", sc->sen[i].name);
        dump_section(out, SEC_SENSOR, &sc->sen[i], sh);
    }
}

/* Same shape as the trainer's keys in `evotrain config --doc`:
 *     [section] key = default
 *         what it is (value format; range) */
void sim_config_doc(FILE *out)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        char sec[32], range[64];
        if (k->sect != SEC_MAGNET && k->sect != SEC_SENSOR)
            snprintf(sec, sizeof sec, "%s", sect_name[k->sect]);
        else if (k->flags & F_INSTANCE)
            snprintf(sec, sizeof sec, "%s NAME", sect_name[k->sect]);
        else /* also settable for all at once in [magnets] / [sensors] */
            snprintf(sec, sizeof sec, "%s NAME] or [%ss", sect_name[k->sect], sect_name[k->sect]);
        if (k->type == TY_MODEL || k->type == TY_AXES)
            range[0] = '\0';
        else if (k->type == TY_PARAMS)
            snprintf(range, sizeof range, "; any finite numbers");
        else
            snprintf(range, sizeof range, "; range %s%g to %g%s",
                     (k->flags & F_OPEN_LO) ? "above " : "", k->lo, k->hi,
                     k->type == TY_CLAMP ? ", integers" : "");
        fprintf(out, "[%s] %s = %s\n    %s (%s%s)\n", sec, k->key, k->def ? k->def : "(required)",
                k->doc, type_doc(k->type), range);
    }
}
