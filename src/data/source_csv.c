/* source_csv: a table of samples from a CSV file (see source.h), read whole
 * at open by csv.c's strict reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "source_impl.h"
#include "util.h"

typedef struct csv_impl {
    char *path;
    size_t rows;
    int16_t *X; /* rows x n_in */
    double *T;  /* rows x n_out */
    uint64_t bytes;
    uint32_t crc;
} csv_impl;

static int csv_fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T)
{
    csv_impl *c = s->impl;
    (void)seed; /* a table has one set of samples */
    if (first > c->rows || n > c->rows - first) {
        et_error(c->path, 0, "samples %llu to %llu asked, but the file has %zu rows",
                 (unsigned long long)first, (unsigned long long)(first + n - 1), c->rows);
        return -1;
    }
    memcpy(X, c->X + first * s->n_in, n * s->n_in * sizeof *X);
    memcpy(T, c->T + first * s->n_out, n * s->n_out * sizeof *T);
    return 0;
}

static char *csv_identity(et_source *s)
{
    csv_impl *c = s->impl;
    size_t len = strlen(c->path) + 64;
    char *id = et_malloc(len);
    snprintf(id, len, "csv %s size=%llu crc32=%08x", c->path, (unsigned long long)c->bytes,
             (unsigned)c->crc);
    return id;
}

static void csv_close(et_source *s)
{
    csv_impl *c = s->impl;
    if (!c)
        return;
    free(c->path);
    free(c->X);
    free(c->T);
    free(c);
    s->impl = NULL;
}

static const source_ops csv_ops = {csv_fill, csv_identity, csv_close};

/* The column of name, or -1 (reported at the header line). */
static long find_column(et_csv *csv, const char *name, const char *role)
{
    for (size_t i = 0; i < et_csv_ncol(csv); i++)
        if (!strcmp(et_csv_name(csv, i), name))
            return (long)i;
    et_csv_error(csv, "no column named '%s' (asked for as %s); the header has %s, ..., %s", name,
                 role, et_csv_name(csv, 0), et_csv_name(csv, et_csv_ncol(csv) - 1));
    return -1;
}

/* role[col]: 0 unused, 1 input, 2 target; order[] the columns of inputs then
 * targets as wanted. 0 ok, -1 (reported). */
static int choose_columns(et_csv *csv, const et_source_desc *d, unsigned char *role, size_t *order,
                          size_t *n_in, size_t *n_out)
{
    size_t ncol = et_csv_ncol(csv);
    *n_in = *n_out = 0;
    if (!d->inputs && !d->targets) {
        size_t k = d->n_in ? d->n_in : ncol - 1;
        if (k < 1 || k >= ncol) {
            et_csv_error(csv, "%zu input columns asked of %zu: at least one input and one target",
                         k, ncol);
            return -1;
        }
        for (size_t i = 0; i < ncol; i++) {
            role[i] = i < k ? 1 : 2;
            order[i] = i;
        }
        *n_in = k;
        *n_out = ncol - k;
        if (*n_in > 255 || *n_out > 64) {
            et_csv_error(csv, "%zu input and %zu target columns: at most 255 and 64", *n_in,
                         *n_out);
            return -1;
        }
        return 0;
    }
    const char *const *lists[2] = {d->inputs, d->targets};
    size_t lens[2] = {d->inputs ? d->n_inputs : 0, d->targets ? d->n_targets : 0};
    size_t *counts[2] = {n_in, n_out};
    size_t *pos = order;
    size_t picked[2][256 + 64];
    for (int r = 0; r < 2; r++) {
        for (size_t i = 0; i < lens[r]; i++) {
            long col = find_column(csv, lists[r][i], r ? "a target" : "an input");
            if (col < 0)
                return -1;
            if (role[col]) {
                et_csv_error(csv, "column %s is asked for twice (as %s and as %s)", lists[r][i],
                             role[col] == 1 ? "an input" : "a target", r ? "a target" : "an input");
                return -1;
            }
            role[col] = (unsigned char)(r + 1);
            if (*counts[r] < sizeof picked[r] / sizeof picked[r][0])
                picked[r][*counts[r]] = (size_t)col;
            ++*counts[r];
        }
    }
    /* The role not given: every other column, in file order. */
    for (int r = 0; r < 2; r++)
        if (!lists[r])
            for (size_t i = 0; i < ncol; i++)
                if (!role[i]) {
                    role[i] = (unsigned char)(r + 1);
                    if (*counts[r] < sizeof picked[r] / sizeof picked[r][0])
                        picked[r][*counts[r]] = i;
                    ++*counts[r];
                }
    if (*n_in < 1 || *n_in > 255 || *n_out < 1 || *n_out > 64) {
        et_csv_error(csv, "%zu input and %zu target columns: 1 to 255 inputs and 1 to 64 targets",
                     *n_in, *n_out);
        return -1;
    }
    for (int r = 0; r < 2; r++)
        for (size_t i = 0; i < *counts[r]; i++)
            *pos++ = picked[r][i];
    return 0;
}

/* Class labels of a labelled file (source.h): a fixed list, or the file's
 * own labels gathered as they come (n of them, in order of first
 * appearance; ints: every label so far was an integer). */
typedef struct labeler {
    const char *const *fixed;
    size_t n_fixed;
    char *name[ET_SOURCE_MAX_CLASSES];
    long value[ET_SOURCE_MAX_CLASSES];
    size_t n;
    int ints;
} labeler;

/* An integer label: [0, 2^31), no sign, no spaces. */
static int parse_index(const char *s, long *v)
{
    if (!*s || strlen(s) > 9)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    *v = strtol(s, NULL, 10);
    return 0;
}

/* The class of cell: into *k its index among lb's classes (the fixed list)
 * or among those seen so far. 0, or -1 reported at the row. */
static int label_of(et_csv *csv, const char *col, labeler *lb, const char *cell, double *k)
{
    long v = -1;
    int is_int = parse_index(cell, &v) == 0;
    if (lb->fixed) {
        for (size_t i = 0; i < lb->n_fixed; i++)
            if (!strcmp(lb->fixed[i], cell)) {
                *k = (double)i;
                return 0;
            }
        if (is_int && (size_t)v < lb->n_fixed) {
            *k = (double)v;
            return 0;
        }
        char list[256] = "";
        for (size_t i = 0; i < lb->n_fixed && strlen(list) < 200; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "",
                     lb->fixed[i]);
        et_csv_error(csv,
                     "column %s: label '%.40s' is not a class of the training data (%s%s) nor "
                     "an index 0 to %zu",
                     col, cell, list, strlen(list) >= 200 ? " ..." : "", lb->n_fixed - 1);
        return -1;
    }
    if (!*cell) {
        et_csv_error(csv, "column %s: missing label (empty field)", col);
        return -1;
    }
    for (size_t i = 0; i < lb->n; i++)
        if (!strcmp(lb->name[i], cell)) {
            *k = (double)i;
            return 0;
        }
    if (lb->n == ET_SOURCE_MAX_CLASSES || (is_int && v >= ET_SOURCE_MAX_CLASSES)) {
        et_csv_error(csv, "column %s: label '%.40s' makes more than %d classes (a network has at most %d outputs)",
                     col, cell, ET_SOURCE_MAX_CLASSES, ET_SOURCE_MAX_CLASSES);
        return -1;
    }
    if (strlen(cell) > 63) {
        et_csv_error(csv, "column %s: label '%.40s...' is longer than 63 characters", col, cell);
        return -1;
    }
    lb->ints &= is_int;
    lb->value[lb->n] = is_int ? v : -1;
    lb->name[lb->n] = et_strdup(cell);
    *k = (double)lb->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The classes of a file read without a fixed list, into s; the rows' labels
 * (T, rows of them) renumbered from order of appearance to class index. */
static void label_finish(labeler *lb, et_source *s, double *T, size_t rows)
{
    size_t map[ET_SOURCE_MAX_CLASSES], n = lb->n;
    if (lb->ints) {
        /* Integer labels are the indices; the classes run to the largest. */
        long top = 0;
        for (size_t i = 0; i < n; i++) {
            map[i] = (size_t)lb->value[i];
            top = lb->value[i] > top ? lb->value[i] : top;
        }
        s->n_classes = (size_t)top + 1;
        s->classes = et_calloc(s->n_classes, sizeof *s->classes);
        for (size_t c = 0; c < s->n_classes; c++) {
            char b[24];
            snprintf(b, sizeof b, "%zu", c);
            s->classes[c] = et_strdup(b);
        }
    } else {
        char *sorted[ET_SOURCE_MAX_CLASSES];
        memcpy(sorted, lb->name, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_str);
        s->n_classes = n;
        s->classes = et_calloc(n ? n : 1, sizeof *s->classes);
        for (size_t c = 0; c < n; c++) {
            s->classes[c] = et_strdup(sorted[c]);
            for (size_t i = 0; i < n; i++)
                if (lb->name[i] == sorted[c])
                    map[i] = c;
        }
    }
    for (size_t r = 0; r < rows; r++)
        T[r] = (double)map[(size_t)T[r]];
}

static void label_free(labeler *lb)
{
    for (size_t i = 0; i < lb->n; i++)
        free(lb->name[i]);
}

/* Grows the tables to hold cap rows. */
static void grow(csv_impl *c, size_t *cap, size_t n_in, size_t n_out)
{
    size_t nc = *cap ? 2 * *cap : 65536;
    int16_t *x = realloc(c->X, nc * n_in * sizeof *x);
    if (x)
        c->X = x;
    double *t = x ? realloc(c->T, nc * n_out * sizeof *t) : NULL;
    if (!t) {
        /* Nothing better to do, as et_malloc. */
        et_error(c->path, 0, "out of memory at %zu rows", c->rows);
        exit(ET_EXIT_INPUT);
    }
    c->T = t;
    *cap = nc;
}

et_source *source_open_csv(const et_source_desc *d)
{
    if (!d->path || !*d->path) {
        et_error(NULL, 0, "csv source without a file name");
        return NULL;
    }
    et_csv *csv = et_csv_open_header(d->path);
    if (!csv)
        return NULL;
    size_t ncol = et_csv_ncol(csv), n_in, n_out;
    unsigned char *role = et_calloc(ncol, 1);
    size_t *order = et_calloc(ncol, sizeof *order);
    csv_impl *c = et_calloc(1, sizeof *c);
    c->path = et_strdup(d->path);
    et_source *s = NULL;
    labeler lb = {.fixed = d->classes, .n_fixed = d->classes ? d->n_classes : 0, .ints = 1};
    if (choose_columns(csv, d, role, order, &n_in, &n_out) != 0)
        goto fail;
    if (d->labels && n_out != 1) {
        et_csv_error(csv,
                     "a classification takes one label column, but %zu target columns are chosen "
                     "(%s, ...): name it with [data] targets = COLUMN",
                     n_out, et_csv_name(csv, order[n_in]));
        goto fail;
    }
    s = source_new(&csv_ops, c, n_in, n_out);
    char why[160];
    for (size_t i = 0; i < n_in + n_out; i++) {
        const char *name = et_csv_name(csv, order[i]);
        int out = i >= n_in;
        if (source_set_var(s, out, out ? i - n_in : i, name, "", why, sizeof why) != 0) {
            et_csv_error(csv, "column %s: %s", name, why);
            goto fail;
        }
    }
    size_t cap = 0;
    char **cells;
    int rc;
    while ((rc = et_csv_cells(csv, &cells)) > 0) {
        if (rc == 1 && !cells[0][0] && ncol > 1) {
            et_csv_error(csv, "empty line");
            goto fail;
        }
        if ((size_t)rc < ncol) {
            et_csv_error(csv, "column %s: missing (the row has %d of the header's %zu fields)",
                         et_csv_name(csv, (size_t)rc), rc, ncol);
            goto fail;
        }
        if ((size_t)rc > ncol) {
            et_csv_error(csv, "the row has more fields than the header's %zu (%s, ..., %s)", ncol,
                         et_csv_name(csv, 0), et_csv_name(csv, ncol - 1));
            goto fail;
        }
        if (c->rows == cap)
            grow(c, &cap, n_in, n_out);
        int16_t *x = c->X + c->rows * n_in;
        double *t = c->T + c->rows * n_out;
        for (size_t i = 0; i < n_in + n_out; i++) {
            const char *cell = cells[order[i]];
            if (i >= n_in && d->labels) {
                if (label_of(csv, et_csv_name(csv, order[i]), &lb, cell, &t[i - n_in]) != 0)
                    goto fail;
                continue;
            }
            int bad = i < n_in ? source_parse_input(cell, &x[i], why, sizeof why)
                               : source_parse_target(cell, &t[i - n_in], why, sizeof why);
            if (bad) {
                et_csv_error(csv, "column %s: %s", et_csv_name(csv, order[i]), why);
                goto fail;
            }
        }
        c->rows++;
    }
    if (rc < 0)
        goto fail;
    if (c->rows == 0) {
        et_error(d->path, 0, "no data rows after the header");
        goto fail;
    }
    if (d->labels && lb.fixed) {
        s->n_classes = lb.n_fixed;
        s->classes = et_calloc(lb.n_fixed, sizeof *s->classes);
        for (size_t k = 0; k < lb.n_fixed; k++)
            s->classes[k] = et_strdup(lb.fixed[k]);
    } else if (d->labels) {
        label_finish(&lb, s, c->T, c->rows);
    }
    label_free(&lb);
    c->bytes = et_csv_bytes(csv);
    c->crc = et_csv_crc32(csv);
    s->size = c->rows;
    et_csv_close(csv);
    free(role);
    free(order);
    return s;
fail:
    label_free(&lb);
    et_csv_close(csv);
    free(role);
    free(order);
    if (s)
        et_source_close(s);
    else
        csv_close(&(et_source){.impl = c});
    return NULL;
}
