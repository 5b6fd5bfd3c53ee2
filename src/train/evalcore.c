/* evalcore: the errors of a run's best network on held-out samples. */
#include "evalcore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted v. */
static double pct(const double *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n) - 1;
    return v[k >= n ? n - 1 : k];
}

/* The shipped kernel itself on each sample, one at a time, as the device
 * runs it: ev's error rows from its inputs and ev->truth. */
static void measure(const et_run *r, const int16_t *inputs, et_eval *ev)
{
    const et_task *t = &r->task;
    size_t n = ev->n, ni = t->n_in, no = t->n_out;
    ev->n_out = t->n_out;
    ev->rows = t->n_out + t->n_groups;
    for (unsigned k = 0; k < t->n_out; k++) {
        ev->name[k] = t->out[k].name;
        ev->unit[k] = t->out[k].unit;
    }
    for (unsigned i = 0; i < t->n_groups; i++) {
        ev->name[no + i] = t->group[i].title;
        ev->unit[no + i] = t->group[i].unit;
    }
    ev->err = et_malloc(sizeof(double) * n * ev->rows);
    uint8_t *scratch = et_malloc(evonet_scratch_bytes(&r->best->net) + 1);
    int16_t y[ET_MAX_OUTPUTS];
    for (size_t s = 0; s < n; s++) {
        evonet_forward(&r->best->net, inputs + s * ni, y, scratch);
        for (size_t k = 0; k < no; k++)
            ev->err[k * n + s] = y[k] / t->inv_scale[k] - ev->truth[s * no + k];
        for (unsigned i = 0; i < t->n_groups; i++) {
            double e2 = 0;
            for (size_t k = 0; k < no; k++)
                if (t->group[i].mask >> k & 1)
                    e2 += ev->err[k * n + s] * ev->err[k * n + s];
            ev->err[(no + i) * n + s] = sqrt(e2);
        }
    }
    free(scratch);
}

/* The samples of a CSV in the run's columns (another source's eval --data). */
static int read_table(const et_run *r, const char *path, int16_t **X, double **T, size_t *n)
{
    et_source *s = et_rundata_csv(&r->cfg, path);
    if (!s)
        return -1;
    int rc = -1;
    if (et_source_n_inputs(s) != r->task.n_in || et_source_n_targets(s) != r->task.n_out)
        et_error(path, 0, "%zu inputs and %zu targets; the run's network takes %u and gives %u",
                 et_source_n_inputs(s), et_source_n_targets(s), r->task.n_in, r->task.n_out);
    else if ((*n = (size_t)et_source_size(s)) == 0)
        et_error(path, 0, "no samples");
    else {
        *X = et_malloc(sizeof(int16_t) * *n * r->task.n_in);
        *T = et_malloc(sizeof(double) * *n * r->task.n_out);
        rc = et_source_fill(s, 0, 0, *n, *X, *T);
        if (rc != 0) {
            free(*X);
            free(*T);
        }
    }
    et_source_close(s);
    return rc;
}

int et_eval_run(et_run *r, const char *data, size_t n, et_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    int16_t *counts;
    double *pose;
    et_dataset ds = {0};
    if (data && r->data.kind != ET_DATA_SIM) {
        if (read_table(r, data, &counts, &pose, &n) != 0)
            return -1;
    } else if (data) {
        if (et_dataset_read(data, r->cfg.sim, 0, &ds) != 0)
            return -1;
        if (ds.n == 0) {
            et_error(data, 0, "no samples");
            et_dataset_free(&ds);
            return -1;
        }
        n = ds.n;
        counts = ds.counts;
        pose = ds.pose;
        ds.pose = NULL; /* ev owns it now */
    } else if (et_rundata_rows(&r->data, ET_SET_EVAL, n, &counts, &pose, &n) != 0) {
        return -1;
    }
    ev->n = n;
    ev->source = data;
    ev->fresh = r->data.kind == ET_DATA_SIM ? "fresh simulated" : "fresh, from the data source";
    if (!data && r->data.kind == ET_DATA_CSV)
        ev->source = et_config_data(&r->cfg, "test", NULL)
                         ? et_config_data(&r->cfg, "test", NULL)
                         : et_config_data(&r->cfg, "valid", "the training file's held-out rows");
    ev->truth = pose;
    measure(r, counts, ev);
    if (data && r->data.kind == ET_DATA_SIM)
        et_dataset_free(&ds);
    else
        free(counts);

    double *v = et_malloc(sizeof(double) * n);
    for (unsigned k = 0; k < ev->rows; k++) {
        double ss = 0;
        for (size_t s = 0; s < n; s++) {
            double e = ev->err[(size_t)k * n + s];
            ss += e * e;
            v[s] = fabs(e);
        }
        qsort(v, n, sizeof *v, cmp_d);
        ev->rmse[k] = sqrt(ss / (double)n);
        ev->p50[k] = pct(v, n, 0.5);
        ev->p95[k] = pct(v, n, 0.95);
        ev->max[k] = v[n - 1];
    }
    free(v);
    return 0;
}

void et_eval_free(et_eval *ev)
{
    free(ev->truth);
    free(ev->err);
    memset(ev, 0, sizeof *ev);
}

void et_eval_print(const et_eval *ev, FILE *out)
{
    fprintf(out, "evaluated %zu samples (%s) with the integer kernel\n", ev->n,
            ev->source ? ev->source : ev->fresh);
    fprintf(out, "%-12s %5s %9s %9s %9s %9s\n", "output", "unit", "rmse", "p50", "p95", "max");
    for (unsigned k = 0; k < ev->rows; k++)
        fprintf(out, "%-12s %5s %9.4f %9.4f %9.4f %9.4f\n", ev->name[k], ev->unit[k], ev->rmse[k],
                ev->p50[k], ev->p95[k], ev->max[k]);
}

int et_eval_parse_n(const char *cmd, const char *s, size_t *n)
{
    double d;
    if (et_parse_double(s, &d) != 0 || d < 1 || d > 1e8 || d != floor(d)) {
        et_error(NULL, 0, "%s: -n needs a whole number in [1, 1e8]", cmd);
        return -1;
    }
    *n = (size_t)d;
    return 0;
}
