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

/* A classification: the kernel on each sample, the class the firmware
 * picks (the first largest score), counted against the label. */
static void measure_classes(const et_run *r, const int16_t *inputs, et_eval *ev)
{
    const et_task *t = &r->task;
    size_t n = ev->n, ni = t->n_in, no = t->n_out;
    ev->classify = 1;
    ev->n_out = t->n_out;
    ev->confusion = et_calloc(no * no, sizeof *ev->confusion);
    uint8_t *scratch = et_malloc(evonet_scratch_bytes(&r->best->net) + 1);
    int16_t y[ET_MAX_OUTPUTS];
    for (size_t s = 0; s < n; s++) {
        evonet_forward(&r->best->net, inputs + s * ni, y, scratch);
        size_t p = 0, lab = (size_t)ev->truth[s];
        for (size_t k = 1; k < no; k++)
            if (y[k] > y[p])
                p = k;
        ev->confusion[lab * no + p]++;
        ev->correct += p == lab;
    }
    free(scratch);
    for (size_t k = 0; k < no; k++) {
        for (size_t j = 0; j < no; j++) {
            ev->support[k] += ev->confusion[k * no + j];
            ev->predicted[k] += ev->confusion[j * no + k];
        }
        size_t tp = ev->confusion[k * no + k];
        ev->recall[k] = ev->support[k] ? (double)tp / (double)ev->support[k] : 0;
        ev->precision[k] = ev->predicted[k] ? (double)tp / (double)ev->predicted[k] : 0;
    }
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
    et_source *s = et_rundata_csv(&r->cfg, path, r->data.src);
    if (!s)
        return -1;
    int rc = -1;
    unsigned nt = r->task.classify ? 1 : r->task.n_out;
    if (et_source_n_inputs(s) != r->task.n_in || et_source_n_targets(s) != nt)
        et_error(path, 0, "%zu inputs and %zu targets; the run's network takes %u and gives %u",
                 et_source_n_inputs(s), et_source_n_targets(s), r->task.n_in, r->task.n_out);
    else if ((*n = (size_t)et_source_size(s)) == 0)
        et_error(path, 0, "no samples");
    else {
        *X = et_malloc(sizeof(int16_t) * *n * r->task.n_in);
        *T = et_malloc(sizeof(double) * *n * nt);
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
    if (r->task.classify) {
        if (et_task_check_labels(&r->task, pose, n, ev->source ? ev->source : "the data", 0) != 0) {
            free(counts);
            et_eval_free(ev);
            return -1;
        }
        measure_classes(r, counts, ev);
        free(counts);
        return 0;
    }
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
    free(ev->confusion);
    memset(ev, 0, sizeof *ev);
}

/* A classification's figures, with the class names of t. */
static void print_classes(const et_eval *ev, const et_task *t, FILE *out)
{
    unsigned no = ev->n_out;
    fprintf(out, "accuracy %.2f %% (%zu of %zu correct; error %.2f %%)\n",
            100.0 * (double)ev->correct / (double)ev->n, ev->correct, ev->n,
            100.0 - 100.0 * (double)ev->correct / (double)ev->n);
    fprintf(out, "%-16s %9s %9s %9s\n", "class", "precision", "recall", "samples");
    for (unsigned k = 0; k < no; k++)
        fprintf(out, "%-16s %8.2f%% %8.2f%% %9zu\n", t->class_name[k], 100 * ev->precision[k],
                100 * ev->recall[k], ev->support[k]);
    fprintf(out, "confusion matrix (rows: true class, columns: the network's class)\n%-16s", "");
    for (unsigned p = 0; p < no; p++)
        fprintf(out, " %8.8s", t->class_name[p]);
    fputc('\n', out);
    for (unsigned k = 0; k < no; k++) {
        fprintf(out, "%-16s", t->class_name[k]);
        for (unsigned p = 0; p < no; p++)
            fprintf(out, " %8zu", ev->confusion[k * no + p]);
        fputc('\n', out);
    }
}

void et_eval_print_task(const et_eval *ev, const et_task *t, FILE *out)
{
    if (ev->classify) {
        fprintf(out, "evaluated %zu samples (%s) with the integer kernel\n", ev->n,
                ev->source ? ev->source : ev->fresh);
        print_classes(ev, t, out);
        return;
    }
    et_eval_print(ev, out);
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
