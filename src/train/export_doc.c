/* export_doc: what firmware needs to know of a run's network, as the
 * exported header's comment: each input's name and scaling, each output's
 * name, unit and step, the states the network was trained on and the
 * rotation convention, so nobody has to read evotrain's source to use it. */
#include "export_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

/* Items appended to a comment line, wrapped before column 80. */
typedef struct wrap {
    FILE *o;
    int col;
    const char *indent;
} wrap;

static void wrap_item(wrap *w, const char *item, int last)
{
    int len = (int)strlen(item) + (last ? 0 : 1);
    if (w->col + 1 + len > 79) {
        fprintf(w->o, "\n%s", w->indent);
        w->col = (int)strlen(w->indent);
    } else {
        fputc(' ', w->o);
        w->col++;
    }
    fprintf(w->o, "%s%s", item, last ? "" : ",");
    w->col += len;
}

/* The built-in simulator's readings: one line for the conversion when every
 * reading shares it (the usual case), else one line per reading. */
static void sim_inputs(FILE *o, const et_run *r)
{
    const struct sim_scenario *sc = r->cfg.sim;
    size_t n = r->task.n_in;
    double g0, off0, lsb0;
    int lo0, hi0, same = 1;
    sim_reading_adc(sc, 0, &g0, &off0, &lsb0, &lo0, &hi0);
    for (size_t i = 1; i < n; i++) {
        double g, off, lsb;
        int lo, hi;
        sim_reading_adc(sc, i, &g, &off, &lsb, &lo, &hi);
        same &= g == g0 && off == off0 && lsb == lsb0 && lo == lo0 && hi == hi0;
    }
    fprintf(o,
            " * Inputs: in[0..%zu], raw ADC counts (int16) of the simulator's sensor axes:\n *  ",
            n - 1);
    wrap w = {o, 3, " *   "};
    for (size_t i = 0; i < n; i++) {
        char item[64];
        snprintf(item, sizeof item, "in[%zu] %s", i, r->task.in_name[i]);
        wrap_item(&w, item, i + 1 == n);
    }
    fputc('\n', o);
    for (size_t i = 0; i < n; i++) {
        double g, off, lsb;
        int lo, hi;
        sim_reading_adc(sc, i, &g, &off, &lsb, &lo, &hi);
        if (same)
            fprintf(o, " *   each: ");
        else
            fprintf(o, " *   in[%zu]: ", i);
        fprintf(o, "counts = round(B / %g mT), clamped to [%d, %d],\n *     ", lsb, lo, hi);
        if (g != 1 || off != 0)
            fprintf(o, "B = %g * field + %g mT, the field along the axis in mT\n", g, off);
        else
            fprintf(o, "B the field along the sensor axis in mT\n");
        if (same)
            break;
    }
}

static void other_inputs(FILE *o, const et_run *r)
{
    fprintf(o, " * Inputs: in[0..%u], int16 readings as the %s source gives them:\n",
            r->task.n_in - 1, r->task.source);
    for (unsigned i = 0; i < r->task.n_in; i++)
        fprintf(o, " *   in[%u] %s%s%s%s\n", i, r->task.in_name[i], *r->task.in_unit[i] ? " (" : "",
                r->task.in_unit[i], *r->task.in_unit[i] ? ")" : "");
}

/* The pose box the simulator drew the training poses from. */
static void sim_states(FILE *o, const et_run *r)
{
    double lo[SIM_POSE_DIM], hi[SIM_POSE_DIM];
    sim_pose_box(r->cfg.sim, lo, hi);
    fprintf(o, " * Trained on poses drawn uniformly from the box (outside it the outputs are\n"
               " * extrapolated):\n *  ");
    wrap w = {o, 3, " *   "};
    for (int k = 0; k < SIM_POSE_DIM; k++) {
        char item[96];
        snprintf(item, sizeof item, "%s [%g, %g]", sim_pose_names[k], lo[k], hi[k]);
        wrap_item(&w, item, k + 1 == SIM_POSE_DIM);
    }
    fprintf(o,
            "\n * Rotation: object -> world is R = Rz(yaw) Ry(pitch) Rx(roll), angles in degrees;\n"
            " * an object point p sits at R p + (x, y, z) in the world frame.\n");
}

/* A classification's pool: one label per sample; how many of each class. */
static void class_counts(FILE *o, const et_run *r, const double *T, size_t rows)
{
    fprintf(o, " * Trained on %zu samples, of each class:\n *  ", rows);
    wrap w = {o, 3, " *   "};
    for (unsigned k = 0; k < r->task.n_out; k++) {
        size_t n = 0;
        for (size_t s = 0; s < rows; s++)
            n += T[s] == k;
        char item[96];
        snprintf(item, sizeof item, "%s %zu", r->task.class_name[k], n);
        wrap_item(&w, item, k + 1 == r->task.n_out);
    }
    fputc('\n', o);
}

/* The range of each target over the training pool: what the network saw. */
static int pool_states(FILE *o, et_run *r)
{
    int16_t *X;
    double *T;
    size_t rows;
    if (et_rundata_rows(&r->data, ET_SET_POOL, (size_t)r->cfg.pool_size, &X, &T, &rows) != 0)
        return -1;
    free(X);
    if (r->task.classify) {
        class_counts(o, r, T, rows);
        free(T);
        return 0;
    }
    unsigned m = r->task.n_out;
    fprintf(o,
            " * Trained on %zu samples with targets in (outside this the outputs are\n"
            " * extrapolated):\n *  ",
            rows);
    wrap w = {o, 3, " *   "};
    for (unsigned k = 0; k < m; k++) {
        double lo = rows ? T[k] : 0, hi = lo;
        for (size_t s = 1; s < rows; s++) {
            double v = T[s * m + k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        char item[128];
        snprintf(item, sizeof item, "%s [%g, %g]%s%s", r->task.out[k].name, lo, hi,
                 *r->task.out[k].unit ? " " : "", r->task.out[k].unit);
        wrap_item(&w, item, k + 1 == m);
    }
    fputc('\n', o);
    free(T);
    return 0;
}

char *et_export_doc(et_run *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    if (!o) {
        et_error(NULL, 0, "export: out of memory");
        return NULL;
    }
    int sim = r->data.kind == ET_DATA_SIM, rc = 0;
    if (sim)
        sim_inputs(o, r);
    else
        other_inputs(o, r);
    if (r->task.classify) {
        fprintf(o, " * Outputs: out[k] is the score of class k (%d = 1.0; the largest wins):\n",
                ET_CLASS_ONE);
        for (unsigned k = 0; k < r->task.n_out; k++)
            fprintf(o, " *   out[%u] %s\n", k, r->task.class_name[k]);
    }
    for (unsigned k = 0; k < r->task.n_out && !r->task.classify; k++) {
        if (!k)
            fprintf(o, " * Outputs: out[k] in steps of its scale, value = out[k] * scale:\n");
        const et_target *t = &r->task.out[k];
        fprintf(o, " *   out[%u] %s: %g%s%s per step\n", k, t->name, t->scale, *t->unit ? " " : "",
                t->unit);
    }
    if (sim)
        sim_states(o, r);
    else
        rc = pool_states(o, r);
    if (fclose(o) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
