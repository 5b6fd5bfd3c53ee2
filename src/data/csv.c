/* csv: strict numeric CSV files, and the dataset format built on them. */
#include "csv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sim.h"
#include "util.h"

/* A line longer than this is not a numeric CSV row we wrote or could use. */
#define CSV_MAX_LINE (1L << 20)

struct et_csv {
    FILE *fp;
    char *path;
    const char *const *names;
    size_t ncol;
    long line;
    char *buf;
    size_t cap;
    /* et_csv_open_header: the header's names, owned (hdr holds the text). */
    char *hdr;
    char **own_names;
    char **cells; /* et_csv_cells' row, ncol + 1 slots */
    /* Every byte read so far: their count and zlib crc32. */
    uint64_t bytes;
    uint32_t crc;
};

void et_csv_error(const et_csv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    et_verror(c->path, c->line, fmt, ap);
    va_end(ap);
}

/* The next line without its line end in c->buf: 1 ok, 0 end of file, -1 error. */
static int next_line(et_csv *c)
{
    errno = 0;
    int overlong;
    ssize_t len = et_getline_max(&c->buf, &c->cap, c->fp, CSV_MAX_LINE, &overlong);
    if (len < 0) {
        if (ferror(c->fp)) {
            c->line++;
            et_csv_error(c, "read error: %s", strerror(errno ? errno : EIO));
            return -1;
        }
        return 0;
    }
    c->line++;
    c->bytes += (uint64_t)len;
    c->crc = (uint32_t)crc32(c->crc, (const Bytef *)c->buf, (uInt)len);
    if (overlong) {
        et_csv_error(c, "line longer than %ld bytes", CSV_MAX_LINE);
        return -1;
    }
    if ((size_t)len != strlen(c->buf)) {
        et_csv_error(c, "NUL byte in line (not a text file?)");
        return -1;
    }
    while (len > 0 && (c->buf[len - 1] == '\n' || c->buf[len - 1] == '\r'))
        c->buf[--len] = '\0';
    return 1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Split buf at commas in place; returns the cell count (cells beyond max are
 * counted but not stored). */
static size_t split(char *buf, char **cells, size_t max)
{
    size_t n = 0;
    char *s = buf;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (n < max)
            cells[n] = trim(s);
        n++;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

/* A whole cell as a finite double. Unlike et_parse_double, a value that
 * underflows to a subnormal or zero (1e-310) is accepted as what it rounds to:
 * it is a valid number, only a very small one. */
static int parse_cell(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return -1;
    if (errno == ERANGE && fabs(v) > DBL_MIN)
        return -1;
    *out = v;
    return 0;
}

et_csv *et_csv_open(const char *path, const char *const *names, size_t ncol)
{
    FILE *fp = et_fopen_read(path, NULL);
    if (!fp)
        return NULL;
    et_csv *c = et_calloc(1, sizeof *c);
    c->fp = fp;
    c->path = et_strdup(path);
    c->names = names;
    c->ncol = ncol;
    int rc = next_line(c);
    if (rc == 0) {
        et_error(path, 0, "empty file (expected a header line starting with %s)", names[0]);
        goto fail;
    }
    if (rc < 0)
        goto fail;
    char *line = et_strdup(c->buf);
    size_t n = split(line, NULL, 0);
    free(line);
    char **cells = et_malloc(n * sizeof *cells);
    split(c->buf, cells, n);
    int bad = n != ncol;
    for (size_t i = 0; !bad && i < ncol; i++) {
        if (strcmp(cells[i], names[i])) {
            et_csv_error(c, "header column %zu is '%s', expected '%s'", i + 1, cells[i], names[i]);
            free(cells);
            goto fail;
        }
    }
    if (bad) {
        /* Name the first column missing, or else the first one too many. */
        const char *missing = NULL, *extra = NULL;
        for (size_t i = 0; i < ncol && !missing; i++) {
            size_t j = 0;
            while (j < n && strcmp(cells[j], names[i]))
                j++;
            missing = j == n ? names[i] : NULL;
        }
        for (size_t j = 0; j < n && !missing && !extra; j++) {
            size_t i = 0;
            while (i < ncol && strcmp(cells[j], names[i]))
                i++;
            extra = i == ncol ? cells[j] : NULL;
        }
        char what[200] = "";
        if (missing)
            snprintf(what, sizeof what, ": no column %s", missing);
        else if (extra)
            snprintf(what, sizeof what, ": column '%s' is not one of them", extra);
        et_csv_error(c, "header has %zu columns, expected %zu (%s, ..., %s)%s", n, ncol, names[0],
                     names[ncol - 1], what);
        free(cells);
        goto fail;
    }
    free(cells);
    return c;
fail:
    et_csv_close(c);
    return NULL;
}

et_csv *et_csv_open_header(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        et_error(path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    et_csv *c = et_calloc(1, sizeof *c);
    c->fp = fp;
    c->path = et_strdup(path);
    int rc = next_line(c);
    if (rc == 0) {
        et_error(path, 0, "empty file (expected a header line naming the columns)");
        goto fail;
    }
    if (rc < 0)
        goto fail;
    c->hdr = et_strdup(c->buf);
    size_t n = 1;
    for (const char *p = c->hdr; (p = strchr(p, ',')) != NULL; p++)
        n++;
    c->own_names = et_malloc(n * sizeof *c->own_names);
    split(c->hdr, c->own_names, n);
    c->names = (const char *const *)c->own_names;
    c->ncol = n;
    for (size_t i = 0; i < n; i++) {
        if (!c->own_names[i][0]) {
            et_csv_error(c, "header column %zu has no name", i + 1);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->own_names[i], c->own_names[j])) {
                et_csv_error(c, "header names column %s twice (columns %zu and %zu)",
                             c->own_names[i], j + 1, i + 1);
                goto fail;
            }
    }
    c->cells = et_malloc((n + 1) * sizeof *c->cells);
    return c;
fail:
    et_csv_close(c);
    return NULL;
}

size_t et_csv_ncol(const et_csv *c)
{
    return c->ncol;
}

const char *et_csv_name(const et_csv *c, size_t i)
{
    return c->names[i];
}

int et_csv_cells(et_csv *c, char ***cells)
{
    int rc = next_line(c);
    if (rc <= 0)
        return rc;
    if (!c->cells)
        c->cells = et_malloc((c->ncol + 1) * sizeof *c->cells);
    size_t n = split(c->buf, c->cells, c->ncol + 1);
    *cells = c->cells;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

uint64_t et_csv_bytes(const et_csv *c)
{
    return c->bytes;
}

uint32_t et_csv_crc32(const et_csv *c)
{
    return c->crc;
}

int et_csv_read(et_csv *c, double *row)
{
    int rc = next_line(c);
    if (rc <= 0)
        return rc;
    if (c->buf[0] == '\0') {
        et_csv_error(c, "empty line");
        return -1;
    }
    char **cells = et_malloc(c->ncol * sizeof *cells);
    size_t n = split(c->buf, cells, c->ncol);
    rc = 1;
    if (n != c->ncol) {
        et_csv_error(c, "row has %zu column%s, expected %zu", n, n == 1 ? "" : "s", c->ncol);
        rc = -1;
    }
    for (size_t i = 0; rc == 1 && i < n; i++) {
        if (!cells[i][0]) {
            et_csv_error(c, "column %s is empty", c->names[i]);
            rc = -1;
        } else if (parse_cell(cells[i], &row[i]) != 0) {
            et_csv_error(c, "column %s: '%s' is not a finite number", c->names[i], cells[i]);
            rc = -1;
        }
    }
    free(cells);
    return rc;
}

long et_csv_line(const et_csv *c)
{
    return c->line;
}

void et_csv_close(et_csv *c)
{
    if (!c)
        return;
    if (c->fp)
        fclose(c->fp);
    free(c->buf);
    free(c->path);
    free(c->hdr);
    free(c->own_names);
    free(c->cells);
    free(c);
}

void et_csv_write_header(FILE *out, const char *const *names, size_t ncol)
{
    for (size_t i = 0; i < ncol; i++)
        fprintf(out, "%s%s", i ? "," : "", names[i]);
    fputc('\n', out);
}

const char **et_dataset_columns(const struct sim_scenario *sc, size_t *ncol)
{
    size_t nr = sim_n_readings(sc);
    const char **names = et_malloc((nr + SIM_POSE_DIM) * sizeof *names);
    for (size_t i = 0; i < nr; i++)
        names[i] = sim_reading_name(sc, i);
    for (size_t i = 0; i < SIM_POSE_DIM; i++)
        names[nr + i] = sim_pose_names[i];
    *ncol = nr + SIM_POSE_DIM;
    return names;
}

int et_dataset_write(FILE *out, const struct sim_scenario *sc, const int16_t *counts,
                     const double *pose, size_t n, int header)
{
    size_t nr = sim_n_readings(sc);
    if (header) {
        size_t ncol;
        const char **names = et_dataset_columns(sc, &ncol);
        et_csv_write_header(out, names, ncol);
        free(names);
    }
    for (size_t r = 0; r < n; r++) {
        const int16_t *c = counts + nr * r;
        for (size_t i = 0; i < nr; i++)
            fprintf(out, "%d,", c[i]);
        const double *p = pose + SIM_POSE_DIM * r;
        /* -0.000000 would differ from 0.000000 for no reason; print one zero. */
        for (int i = 0; i < SIM_POSE_DIM; i++) {
            double v = fabs(p[i]) < 5e-7 ? 0.0 : p[i];
            fprintf(out, i + 1 < SIM_POSE_DIM ? "%.6f," : "%.6f\n", v);
        }
    }
    return ferror(out) ? -1 : 0;
}

int et_dataset_read(const char *path, const struct sim_scenario *sc, int check_box, et_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    size_t ncol, nr = sim_n_readings(sc);
    const char **names = et_dataset_columns(sc, &ncol);
    et_csv *c = et_csv_open(path, names, ncol);
    if (!c) {
        free(names);
        return -1;
    }
    double lo[SIM_POSE_DIM], hi[SIM_POSE_DIM];
    sim_pose_box(sc, lo, hi);
    double *row = et_malloc(ncol * sizeof *row);
    size_t cap = 0;
    int rc;
    ds->n_readings = nr;
    while ((rc = et_csv_read(c, row)) == 1) {
        for (size_t i = 0; rc == 1 && i < nr; i++)
            if (row[i] != floor(row[i]) || row[i] < INT16_MIN || row[i] > INT16_MAX) {
                et_csv_error(c, "column %s: %.10g is not an integer count in [-32768, 32767]",
                             names[i], row[i]);
                rc = -1;
            }
        for (size_t i = 0; rc == 1 && check_box && i < SIM_POSE_DIM; i++)
            if (row[nr + i] < lo[i] - 1e-6 || row[nr + i] > hi[i] + 1e-6) {
                et_csv_error(c, "column %s: %.10g is outside the config's [pose] range [%g, %g]",
                             names[nr + i], row[nr + i], lo[i], hi[i]);
                rc = -1;
            }
        if (rc != 1)
            break;
        if (ds->n == cap) {
            cap = cap ? 2 * cap : 1024;
            int16_t *nc = realloc(ds->counts, cap * (nr ? nr : 1) * sizeof *nc);
            double *np = nc ? realloc(ds->pose, cap * SIM_POSE_DIM * sizeof *np) : NULL;
            if (nc)
                ds->counts = nc;
            if (!np) {
                et_error(path, 0, "out of memory at %zu rows", ds->n);
                rc = -1;
                break;
            }
            ds->pose = np;
        }
        for (size_t i = 0; i < nr; i++)
            ds->counts[nr * ds->n + i] = (int16_t)row[i];
        memcpy(ds->pose + SIM_POSE_DIM * ds->n, row + nr, SIM_POSE_DIM * sizeof *row);
        ds->n++;
    }
    if (rc == 0 && ds->n == 0) {
        et_error(path, 0, "no data rows");
        rc = -1;
    }
    free(row);
    free(names);
    et_csv_close(c);
    if (rc < 0) {
        et_dataset_free(ds);
        return -1;
    }
    return 0;
}

void et_dataset_free(et_dataset *ds)
{
    free(ds->counts);
    free(ds->pose);
    memset(ds, 0, sizeof *ds);
}
