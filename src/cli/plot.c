/* plot: a run's figures as PNG files, drawn by gnuplot. */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "runeval.h"
#include "util.h"

const char *const et_plot_png[ET_PLOT_N_PNG] = {"training_curve.png", "error_hist.png",
                                                "error_vs_pose.png"};

const char *et_plot_what(const et_task *t, int i)
{
    static const char *const what[ET_PLOT_N_PNG] = {
        "validation RMSE against elapsed time and evaluations (log scale)",
        "histogram of the signed error of each output",
        "RMSE against each pose component, in bins across the pose box"};
    if (i == 2 && strcmp(t->source, "sim"))
        return "RMSE against each output's true value, in bins across the range of the data";
    return what[i];
}

#define HIST_BINS 40
#define POSE_BINS 20
#define MAX_CURVES (ET_MAX_GROUPS + ET_MAX_OUTPUTS)

/* A curve of the training curve and of error_vs_pose.png: a group (its
 * Euclidean error), or the outputs in no group that share a unit (their
 * quadratic mean, so that one curve carries roll, pitch and yaw in degrees
 * for the pose). Titles are escaped for gnuplot's single quotes. */
typedef struct curve {
    char title[96];   /* "translation", "rotation", "roll, pitch", "yaw" */
    char legend[128]; /* "translation (Euclidean)", "rotation (roll, pitch, yaw)" */
    const char *unit;
    int group; /* the group's index, or -1 for a pool of outputs */
    uint64_t mask;
    unsigned count; /* outputs in mask */
} curve;

/* s for a single-quoted gnuplot string (a quote doubled) into buf. */
static const char *sq(char *buf, size_t n, const char *s)
{
    size_t j = 0;
    for (; *s && j + 2 < n; s++) {
        if (*s == '\'')
            buf[j++] = '\'';
        buf[j++] = *s;
    }
    buf[j] = '\0';
    return buf;
}

/* s for a double-quoted gnuplot string (backslash and quote escaped). */
static const char *dq(char *buf, size_t n, const char *s)
{
    size_t j = 0;
    for (; *s && j + 2 < n; s++) {
        if (*s == '"' || *s == '\\')
            buf[j++] = '\\';
        buf[j++] = *s;
    }
    buf[j] = '\0';
    return buf;
}

/* " (unit)", or nothing for an output without a unit. */
static const char *in_parens(char *buf, size_t n, const char *unit)
{
    char u[2 * ET_NAME_MAX];
    if (*unit)
        snprintf(buf, n, " (%s)", sq(u, sizeof u, unit));
    else
        buf[0] = '\0';
    return buf;
}

/* The names of the outputs in mask, joined by ", ", into buf (n bytes). */
static void join_names(const et_task *t, uint64_t mask, char *buf, size_t n)
{
    buf[0] = '\0';
    for (unsigned k = 0; k < t->n_out; k++)
        if (mask >> k & 1) {
            char e[2 * ET_NAME_MAX];
            size_t u = strlen(buf);
            snprintf(buf + u, n - u, "%s%s", u ? ", " : "", sq(e, sizeof e, t->out[k].name));
        }
}

/* The task's curves: each group, then the outputs in no group pooled by
 * unit, in the order of their first output. Returns the count. */
static unsigned task_curves(const et_task *t, curve *c)
{
    unsigned nc = 0;
    uint64_t grouped = 0;
    for (unsigned i = 0; i < t->n_groups; i++) {
        curve *g = &c[nc++];
        memset(g, 0, sizeof *g);
        sq(g->title, sizeof g->title, t->group[i].title);
        snprintf(g->legend, sizeof g->legend, "%.95s (Euclidean)", g->title);
        g->unit = t->group[i].unit;
        g->group = (int)i;
        g->mask = t->group[i].mask;
        grouped |= g->mask;
    }
    unsigned first_pool = nc;
    for (unsigned k = 0; k < t->n_out; k++) {
        if (grouped >> k & 1)
            continue;
        unsigned i = first_pool;
        while (i < nc && strcmp(c[i].unit, t->out[k].unit))
            i++;
        if (i == nc) {
            memset(&c[nc], 0, sizeof c[nc]);
            c[nc].unit = t->out[k].unit;
            c[nc++].group = -1;
        }
        c[i].mask |= UINT64_C(1) << k;
    }
    for (unsigned i = 0; i < nc; i++)
        for (unsigned k = 0; k < t->n_out; k++)
            c[i].count += c[i].mask >> k & 1;
    for (unsigned i = first_pool; i < nc; i++) {
        curve *p = &c[i];
        char names[96];
        join_names(t, p->mask, names, sizeof names);
        if (p->count == 1) {
            snprintf(p->title, sizeof p->title, "%s", names);
            snprintf(p->legend, sizeof p->legend, "%s", names);
        } else if (!strcmp(names, "roll, pitch, yaw")) {
            /* The pose's angles: its figures always called them rotation. */
            snprintf(p->title, sizeof p->title, "rotation");
            snprintf(p->legend, sizeof p->legend, "rotation (%.95s)", names);
        } else {
            if (p->count <= 4)
                snprintf(p->title, sizeof p->title, "%s", names);
            else if (*p->unit)
                snprintf(p->title, sizeof p->title, "%u outputs in %.40s", p->count, p->unit);
            else
                snprintf(p->title, sizeof p->title, "%u outputs without unit", p->count);
            snprintf(p->legend, sizeof p->legend, "%.95s (quadratic mean)", p->title);
        }
    }
    return nc;
}

/* Panels in a grid of about as many columns as rows; 6 gives today's 2 x 3. */
static void grid(unsigned n, unsigned *rows, unsigned *cols)
{
    *cols = (unsigned)ceil(sqrt((double)n));
    *rows = (n + *cols - 1) / *cols;
}

/* Canvas pixels for a grid: 1400 x 900 up to 2 x 3 panels (the pose's),
 * then about 420 x 400 per panel so that 64 outputs stay readable. */
static void canvas(unsigned rows, unsigned cols, unsigned *w, unsigned *h)
{
    *w = cols <= 3 ? 1400 : 420 * cols + 140;
    *h = rows == 1 ? 560 : rows == 2 ? 900 : 400 * rows + 100;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v, so that
 * histogram axes end on a round number. */
static double nice_ceil(double v)
{
    if (!(v > 0))
        return 1e-3;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= v * (1 - 1e-12))
            return steps[i] * p;
    return 10 * p;
}

/* Histogram half-widths: the 99th percentile of |error| rounded up, so that a
 * few outliers do not squash the shape; what lies beyond is counted in the
 * panel's title instead. */
static void hist_ranges(const et_eval *ev, double *range, size_t *beyond)
{
    size_t n = ev->n;
    double *v = et_malloc(sizeof(double) * n);
    for (unsigned k = 0; k < ev->n_out; k++) {
        for (size_t s = 0; s < n; s++)
            v[s] = fabs(ev->err[(size_t)k * n + s]);
        qsort(v, n, sizeof *v, cmp_d);
        size_t i = (size_t)ceil(0.99 * (double)n) - 1;
        range[k] = nice_ceil(v[i >= n ? n - 1 : i]);
        beyond[k] = 0;
        for (size_t s = 0; s < n; s++)
            beyond[k] += v[s] > range[k];
    }
    free(v);
}

static int write_hist(const char *path, const et_task *t, const et_eval *ev, const double *range)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    /* The units met, in order, once each: "mm or deg" for the pose. */
    char units[256] = "";
    for (unsigned k = 0; k < ev->n_out; k++) {
        const char *u = ev->unit[k];
        int seen = !*u;
        for (unsigned i = 0; i < k && !seen; i++)
            seen = !strcmp(ev->unit[i], u);
        size_t l = strlen(units);
        if (!seen)
            snprintf(units + l, sizeof units - l, "%s%s", l ? " or " : "", u);
    }
    char names[ET_MAX_OUTPUTS * (ET_NAME_MAX + 2)];
    join_names(t, ~UINT64_C(0), names, sizeof names);
    fprintf(af.fp,
            "# evotrain plot: error histogram of each output, one block per output\n"
            "# (%s): bin centre%s%s%s, share of samples (%%)\n",
            names, *units ? " (" : "", units, *units ? ")" : "");
    size_t n = ev->n;
    for (unsigned k = 0; k < ev->n_out; k++) {
        double cnt[HIST_BINS] = {0}, w = 2 * range[k] / HIST_BINS;
        for (size_t s = 0; s < n; s++) {
            double e = ev->err[(size_t)k * n + s];
            if (fabs(e) > range[k])
                continue;
            long b = (long)floor((e + range[k]) / w);
            cnt[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
        }
        fprintf(af.fp, "# %s\n", ev->name[k]);
        for (int b = 0; b < HIST_BINS; b++)
            fprintf(af.fp, "%.6g %.6g\n", -range[k] + (b + 0.5) * w, 100.0 * cnt[b] / (double)n);
        fputs("\n\n", af.fp);
    }
    return et_afile_commit(&af);
}

/* Binned RMSE of each curve against the true value of each output: where
 * in the pose box (or the data's range) the network is weak. Bins span the
 * simulator's pose box for the built-in simulator, widened to the data (a
 * dataset may hold poses outside it); otherwise the data's own range. */
static int write_pose(const char *path, const et_run *r, const et_eval *ev, const curve *c,
                      unsigned nc)
{
    const et_task *t = &r->task;
    int sim = !strcmp(t->source, "sim");
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    char names[ET_MAX_OUTPUTS * (ET_NAME_MAX + 2)];
    join_names(t, ~UINT64_C(0), names, sizeof names);
    fprintf(af.fp, "# evotrain plot: RMSE in bins of each %s, one block per\n# %s (%s): bin centre",
            sim ? "pose component" : "output's true value", sim ? "component" : "output", names);
    for (unsigned i = 0; i < nc; i++) {
        fprintf(af.fp, "%s%s RMSE (%s", i ? ",\n# " : ", ", c[i].title,
                *c[i].unit ? c[i].unit : "no unit");
        if (c[i].group < 0 && c[i].count > 1) {
            join_names(t, c[i].mask, names, sizeof names);
            fprintf(af.fp, ", mean over %s", names);
        }
        fputc(')', af.fp);
    }
    fputs(", samples in the bin\n", af.fp);
    double lo[ET_MAX_OUTPUTS], hi[ET_MAX_OUTPUTS];
    for (unsigned j = 0; j < t->n_out; j++)
        lo[j] = INFINITY, hi[j] = -INFINITY;
    if (sim && t->n_out == SIM_POSE_DIM)
        sim_pose_box(r->cfg.sim, lo, hi);
    size_t n = ev->n, no = ev->n_out;
    for (unsigned j = 0; j < no; j++) {
        for (size_t s = 0; s < n; s++) {
            double p = ev->truth[s * no + j];
            lo[j] = p < lo[j] ? p : lo[j];
            hi[j] = p > hi[j] ? p : hi[j];
        }
        double sq2[MAX_CURVES][POSE_BINS] = {{0}}, w = (hi[j] - lo[j]) / POSE_BINS;
        size_t cnt[POSE_BINS] = {0};
        for (size_t s = 0; s < n; s++) {
            long b = w > 0 ? (long)floor((ev->truth[s * no + j] - lo[j]) / w) : 0;
            b = b < 0 ? 0 : b >= POSE_BINS ? POSE_BINS - 1 : b;
            for (unsigned i = 0; i < nc; i++) {
                double e2 = 0;
                if (c[i].group >= 0) {
                    double e = ev->err[(no + (size_t)c[i].group) * n + s];
                    e2 = e * e;
                } else {
                    for (unsigned k = 0; k < no; k++)
                        if (c[i].mask >> k & 1)
                            e2 += ev->err[(size_t)k * n + s] * ev->err[(size_t)k * n + s];
                    e2 /= c[i].count;
                }
                sq2[i][b] += e2;
            }
            cnt[b]++;
        }
        fprintf(af.fp, "# %s", ev->name[j]);
        if (*ev->unit[j])
            fprintf(af.fp, " (%s)", ev->unit[j]);
        fputc('\n', af.fp);
        for (int b = 0; b < POSE_BINS; b++) {
            if (!cnt[b])
                continue;
            fprintf(af.fp, "%.6g", lo[j] + (b + 0.5) * w);
            for (unsigned i = 0; i < nc; i++)
                fprintf(af.fp, " %.6g", sqrt(sq2[i][b] / (double)cnt[b]));
            fprintf(af.fp, " %zu\n", cnt[b]);
        }
        fputs("\n\n", af.fp);
    }
    return et_afile_commit(&af);
}

/* log.csv's column of curve c's group, or of output k (et_task_log_columns),
 * as it is (raw) and escaped for the script (buf). */
static const char *log_col(const et_task *t, int group, unsigned k, char *buf, size_t n,
                           char raw[3 * ET_NAME_MAX])
{
    if (group >= 0)
        snprintf(raw, 3 * ET_NAME_MAX, "valid_%s_%s", t->group[group].name, t->group[group].unit);
    else
        snprintf(raw, 3 * ET_NAME_MAX, "valid_%s%s%s", t->out[k].name, *t->out[k].unit ? "_" : "",
                 t->out[k].unit);
    return sq(buf, n, raw);
}

/* Whether column col of log.csv (its text) holds a value above 0. A log
 * scale has no place for a curve that is 0 throughout (an output that never
 * varies, which the network gets exactly right), and gnuplot stops on one
 * whose points are all undefined: such a curve is left out, and said. */
static int log_positive(const char *log, const char *col)
{
    if (!log)
        return 1; /* no log to judge by: draw it, as before */
    size_t idx = 0, len = strlen(col);
    const char *p = log;
    for (;; idx++) {
        size_t f = strcspn(p, ",\n");
        if (f == len && !strncmp(p, col, len))
            break;
        if (p[f] != ',')
            return 0;
        p += f + 1;
    }
    for (const char *row = strchr(log, '\n'); row && row[1]; row = strchr(row + 1, '\n')) {
        const char *v = row + 1;
        for (size_t i = 0; i < idx && v; i++) {
            v += strcspn(v, ",\n");
            v = *v == ',' ? v + 1 : NULL;
        }
        if (v && strtod(v, NULL) > 0)
            return 1;
    }
    return 0;
}

/* The text of the run's log.csv, or NULL when it cannot be read. */
static char *read_log(const char *dir)
{
    char *lp = et_path(dir, "log.csv"), *buf = NULL;
    size_t len = 0;
    FILE *f = fopen(lp, "r"), *m = open_memstream(&buf, &len);
    free(lp);
    char chunk[4096];
    size_t got;
    while (f && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, m);
    fclose(m);
    if (!f) {
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

/* The training curve: one row of panels per curve of the task (a group
 * with its outputs; the outputs in no group of one unit), against elapsed
 * time and against evaluations. */
static void script_curve(FILE *o, const et_run *r, const curve *c, unsigned nc)
{
    static const char *const xs[2][3] = {{"elapsed_s", "elapsed time (s)", "%g"},
                                         {"evals", "evaluations", "%.0s%c"}};
    const et_task *t = &r->task;
    char won[48] = "", up[2 * ET_NAME_MAX + 4], raw[3 * ET_NAME_MAX], cn[6 * ET_NAME_MAX];
    if (r->cfg.starts > 1)
        snprintf(won, sizeof won, ", start %llu of %d raced", (unsigned long long)r->st.best_start,
                 r->cfg.starts);
    /* Which curves have something to draw; rows with none are left out. */
    char *log = read_log(r->dir), flat[200] = "";
    int draw[MAX_CURVES][ET_MAX_OUTPUTS + 1] = {{0}}; /* [row][1 + output], [row][0]: group */
    int row_any[MAX_CURVES];
    unsigned rows = 0;
    for (unsigned row = 0; row < nc; row++) {
        const curve *cv = &c[row];
        int any = 0;
        for (int i = cv->group >= 0 ? -1 : 0; i < (int)t->n_out; i++) {
            if (i >= 0 && !(cv->mask >> i & 1))
                continue;
            log_col(t, i < 0 ? cv->group : -1, (unsigned)(i < 0 ? 0 : i), cn, sizeof cn, raw);
            any |= draw[row][i + 1] = log_positive(log, raw);
        }
        rows += row_any[row] = any != 0;
        if (!any) {
            size_t l = strlen(flat);
            snprintf(flat + l, sizeof flat - l, "%s%.60s", l ? ", " : "", cv->title);
        }
    }
    free(log);
    if (!rows)
        return; /* nothing above 0 anywhere: no training curve to draw */
    /* The run's end, after the polish, as a point at the end of each curve:
     * the network exported is on the figure (log.csv ends with the search). */
    if (r->has_polish) {
        fputs("\n# The polished network's validation errors (from the checkpoint).\n"
              "$polished << EOD\nelapsed_s,evals",
              o);
        et_task_log_columns(t, o);
        fprintf(o, "\n%.2f,%llu", r->st.elapsed_s, (unsigned long long)r->st.evals);
        et_task_log_values(t, r->polish_valid.rmse, r->polish_valid.group_rmse, o);
        fputs("\nEOD\n", o);
    }
    unsigned w, h;
    canvas(rows, 2, &w, &h);
    fprintf(o,
            "\n# Training curve, from the run's own log.csv.\n"
            "set output '%s'\nset terminal pngcairo size %u,%u font 'sans,11' noenhanced\n"
            "set datafile separator ','\nset datafile columnheaders\n"
            "set multiplot layout %u,2 title 'run %s: validation RMSE of the optimizer mean "
            "(best network from generation %llu%s)%s%s%s' font 'sans,13'\n"
            "set logscale y\nset grid xtics ytics mytics\nset key top right\n"
            /* 1-2-5 labels: decades alone leave a curve between 1 and 10
             * without a readable value. */
            "set ytics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, "
            "50, 100, 200, 500, 1000)\n",
            et_plot_png[0], w, h, rows, r->cfg.name, (unsigned long long)r->st.best_generation, won,
            *flat ? "; 0 throughout, not drawn on the log scale: " : "", flat,
            r->has_polish ? "; the dots at the end: the polished network" : "");
    for (unsigned row = 0; row < nc; row++) {
        const curve *cv = &c[row];
        if (!row_any[row])
            continue;
        for (int col = 0; col < 2; col++) {
            fprintf(
                o, "set xlabel '%s'\nset format x '%s'\nset ylabel '%s RMSE%s'\nset title '%s'\n",
                xs[col][1], xs[col][2], cv->title, in_parens(up, sizeof up, cv->unit), cv->title);
            /* A key of dozens of outputs would hide the curves. */
            fputs(cv->count + (cv->group >= 0) > 12 ? "set key off\n" : "set key on\n", o);
            fputs("plot ", o);
            /* The group's Euclidean error first, thicker; then each output. */
            int k = 0;
            char tt[160];
            for (int i = cv->group >= 0 ? -1 : 0; i < (int)t->n_out; i++) {
                if ((i >= 0 && !(cv->mask >> i & 1)) || !draw[row][i + 1])
                    continue;
                if (i < 0)
                    snprintf(tt, sizeof tt, "%s", cv->legend);
                else
                    sq(tt, sizeof tt, t->out[i].name);
                const char *col_name = log_col(t, i < 0 ? cv->group : -1, (unsigned)(i < 0 ? 0 : i),
                                               cn, sizeof cn, raw);
                /* Raced starts interleave their rows: points, not a line
                 * zigzagging between them. */
                fprintf(o,
                        "%s'log.csv' using (column('%s')):(column('%s')) with %s %d "
                        "title '%s'",
                        k ? ", \\\n     " : "", xs[col][0], col_name,
                        r->cfg.starts > 1 ? "points pt 7 ps 0.4 lc" : "lines lw",
                        r->cfg.starts > 1 ? k + 1
                        : i < 0           ? 3
                                          : 2,
                        tt);
                if (r->has_polish)
                    fprintf(o,
                            ", \\\n     $polished using (column('%s')):(column('%s')) with "
                            "points pt 7 ps 1.2 lc rgb 'black' notitle",
                            xs[col][0], col_name);
                k++;
            }
            fputc('\n', o);
        }
    }
    fputs("unset multiplot\nunset logscale y\nset ytics autofreq\nset format x '%g'\n"
          "set key on\nset datafile separator whitespace\nset datafile nocolumnheaders\n",
          o);
}

static void script_hist(FILE *o, const et_eval *ev, const double *range, const size_t *beyond)
{
    unsigned rows, cols, w, h;
    grid(ev->n_out, &rows, &cols);
    canvas(rows, cols, &w, &h);
    fprintf(o,
            "\n# Error histograms (plot_hist.dat): one block per output.\n"
            "set output '%s'\nset terminal pngcairo size %u,%u font 'sans,11' noenhanced\n"
            "set multiplot layout %u,%u title 'error of each output on %zu %s samples "
            "(output minus truth)' font 'sans,13'\n"
            "set style fill solid 0.6 border -1\nset grid ytics\nset key off\n"
            "set ylabel 'share of samples (%%)'\nset yrange [0:*]\n",
            et_plot_png[1], w, h, rows, cols, ev->n,
            ev->source                              ? "dataset"
            : !strcmp(ev->fresh, "fresh simulated") ? ev->fresh
                                                    : "fresh");
    for (unsigned k = 0; k < ev->n_out; k++) {
        char nm[2 * ET_NAME_MAX], un[2 * ET_NAME_MAX], up[2 * ET_NAME_MAX + 4];
        sq(nm, sizeof nm, ev->name[k]);
        sq(un, sizeof un, ev->unit[k]);
        if (beyond[k]) {
            char ud[2 * ET_NAME_MAX];
            fprintf(o, "set label 1 \"%zu beyond ±%g %s\\nnot shown\" at graph 0.03, graph 0.92\n",
                    beyond[k], range[k], dq(ud, sizeof ud, ev->unit[k]));
        } else {
            fputs("unset label 1\n", o);
        }
        fprintf(o,
                "set xlabel '%s error%s'\nset xrange [%g:%g]\nset boxwidth %g\n"
                "set title '%s: RMSE %.3g%s%s, p95 %.3g%s%s'\n"
                "plot 'plot_hist.dat' index %u using 1:2 with boxes lc rgb '#3a6ea5'\n",
                nm, in_parens(up, sizeof up, ev->unit[k]), -range[k], range[k],
                2 * range[k] / HIST_BINS, nm, ev->rmse[k], *un ? " " : "", un, ev->p95[k],
                *un ? " " : "", un, k);
    }
    fputs("unset multiplot\nunset label 1\nset xrange [*:*]\nset yrange [*:*]\n", o);
}

/* The two units of error_vs_pose.png's axes: the unit that the most
 * outputs' curves carry on the left (the first met on a tie: the pose's mm),
 * the next on the right. Curves of any other unit stay in plot_pose.dat
 * only: RMSEs in three units have no common axis. */
static void pick_axes(const curve *c, unsigned nc, int *axis)
{
    unsigned covered[MAX_CURVES] = {0};
    for (unsigned i = 0; i < nc; i++)
        for (unsigned j = 0; j <= i; j++)
            if (!strcmp(c[j].unit, c[i].unit)) {
                covered[j] += c[i].count; /* j: the unit's first curve */
                break;
            }
    int best[2] = {-1, -1};
    for (int a = 0; a < 2; a++)
        for (unsigned i = 0; i < nc; i++)
            if (covered[i] && (int)i != best[0] && (best[a] < 0 || covered[i] > covered[best[a]]))
                best[a] = (int)i;
    for (unsigned i = 0; i < nc; i++) {
        axis[i] = 0;
        for (int a = 0; a < 2; a++)
            if (best[a] >= 0 && !strcmp(c[i].unit, c[best[a]].unit))
                axis[i] = a + 1;
    }
}

static void script_pose(FILE *o, const et_run *r, const et_eval *ev, const curve *c, unsigned nc)
{
    static const char *const colour[2][4] = {{"#3a6ea5", "#2a9d8f", "#6a4c93", "#1d3557"},
                                             {"#c0392b", "#e67e22", "#b5651d", "#7f1d1d"}};
    static const int point[2][4] = {{7, 9, 11, 13}, {5, 4, 6, 8}};
    int sim = !strcmp(r->task.source, "sim");
    /* A curve 0 throughout (outputs the network gets exactly, say ones that
     * never vary) is left out and named: gnuplot finds no range for it. */
    curve cz[MAX_CURVES];
    int zero[MAX_CURVES];
    for (unsigned i = 0; i < nc; i++) {
        zero[i] = 1;
        for (unsigned k = 0; k < ev->rows && zero[i]; k++) {
            int in = c[i].group >= 0 ? k == ev->n_out + (unsigned)c[i].group
                                     : k < ev->n_out && (c[i].mask >> k & 1);
            for (size_t s = 0; in && s < ev->n && zero[i]; s++)
                zero[i] = ev->err[(size_t)k * ev->n + s] == 0;
        }
        cz[i] = c[i];
        cz[i].count = zero[i] ? 0 : c[i].count;
    }
    int axis[MAX_CURVES];
    pick_axes(cz, nc, axis);
    for (unsigned i = 0; i < nc; i++)
        axis[i] = zero[i] ? 0 : axis[i];
    /* Per axis: its curves, and the first one's colour for its ticks. */
    unsigned on[3] = {0}, first[3] = {0};
    for (unsigned i = nc; i-- > 0;) {
        on[axis[i]]++;
        first[axis[i]] = i;
    }
    char ylab[2][160], u[2 * ET_NAME_MAX + 4];
    for (int a = 1; a <= 2; a++)
        if (on[a])
            snprintf(ylab[a - 1], sizeof ylab[a - 1], "%s%sRMSE%s",
                     on[a] == 1 ? c[first[a]].title : "", on[a] == 1 ? " " : "",
                     in_parens(u, sizeof u, c[first[a]].unit));
    char hidden[320] = "";
    for (int z = 0; z < 2; z++)
        for (unsigned i = 0, first_z = 1; i < nc; i++)
            if (!axis[i] && zero[i] == z) {
                size_t l = strlen(hidden);
                snprintf(hidden + l, sizeof hidden - l, "%s%.95s",
                         !first_z ? ", "
                         : z      ? "; 0 throughout, not drawn: "
                                  : "; in plot_pose.dat, not drawn: ",
                         c[i].title);
                first_z = 0;
            }
    unsigned rows, cols, w, h;
    grid(ev->n_out, &rows, &cols);
    canvas(rows, cols, &w, &h);
    /* The pose's margins (in pixels of its 1400 x 900 canvas) on any canvas:
     * room above the panels for the title and the one legend. */
    fprintf(o,
            "\n# RMSE against each %s (plot_pose.dat): one block per %s.\n"
            "set output '%s'\nset terminal pngcairo size %u,%u font 'sans,11' noenhanced\n"
            "set multiplot layout %u,%u title '%s: RMSE in %d bins of each %s (%zu samples%s)' "
            "font 'sans,13' margins %.3g, %.3g, %.3g, %.3g spacing %.3g, %.3g\n"
            "set grid xtics ytics\nset style data linespoints\n"
            /* One legend for all panels, under the title, off the curves. */
            "set key at screen 0.5, screen %.3g center horizontal\n",
            sim ? "pose component" : "output's true value", sim ? "component" : "output",
            et_plot_png[2], w, h, rows, cols,
            sim ? "where in the pose box the network is weak"
                : "where in the range of the data the network is weak",
            POSE_BINS, sim ? "pose component" : "output''s true value", ev->n, hidden, 84.0 / w,
            1 - 84.0 / w, 63.0 / h, 1 - 126.0 / h, 140.0 / w, 117.0 / h, 1 - 58.5 / h);
    if (on[2])
        fprintf(o, "set ytics nomirror tc rgb '%s'\nset y2tics tc rgb '%s'\n", colour[0][0],
                colour[1][0]);
    else
        fprintf(o, "set ytics mirror tc rgb '%s'\nunset y2tics\n", colour[0][0]);
    fputs("set yrange [0:*]\nset y2range [0:*]\n", o);
    for (unsigned j = 0; j < ev->n_out; j++) {
        /* Axis titles on the outer columns only: the tick colours carry them
         * across a row, and inner ones would collide with their neighbours. */
        if (j % cols == 0)
            fprintf(o, "set ylabel '%s' tc rgb '%s'\n", ylab[0], colour[0][0]);
        else
            fputs("unset ylabel\n", o);
        if (on[2] && (j % cols == cols - 1 || j + 1 == ev->n_out))
            fprintf(o, "set y2label '%s' tc rgb '%s'\n", ylab[1], colour[1][0]);
        else
            fputs("unset y2label\n", o);
        char nm[2 * ET_NAME_MAX + 2 * ET_NAME_MAX + 4];
        sq(nm, sizeof nm, ev->name[j]);
        in_parens(nm + strlen(nm), sizeof nm - strlen(nm), ev->unit[j]);
        /* An output that never varies has no range to bin: its panel says
         * so, over a unit-wide axis (gnuplot would warn of an empty one). */
        double v0 = ev->n ? ev->truth[j] : 0;
        int constant = 1;
        for (size_t s = 1; s < ev->n && constant; s++)
            constant = ev->truth[s * ev->n_out + j] == v0;
        if (constant)
            fprintf(o, "set xrange [%.6g:%.6g]\nset title 'against %s: %.6g in every sample'\n",
                    v0 - 1, v0 + 1, nm, v0);
        else
            fprintf(o, "set xrange [*:*]\nset title 'against %s'\n", nm);
        fprintf(o, "set xlabel '%s'\nplot ", nm);
        unsigned drawn[3] = {0};
        for (unsigned i = 0; i < nc; i++) {
            int a = axis[i];
            if (!a)
                continue;
            unsigned d = drawn[a]++ % 4;
            fprintf(o,
                    "%s index %u using 1:%u axes x1y%d pt %d ps 0.6 lw 2 lc rgb '%s' "
                    "title '%s'",
                    drawn[1] + drawn[2] > 1 ? ", \\\n     ''" : "'plot_pose.dat'", j, i + 2, a,
                    point[a - 1][d], colour[a - 1][d], c[i].legend);
        }
        fputc('\n', o);
        if (j == 0)
            fputs("unset key\n", o);
    }
    fputs("unset multiplot\nset key on\nset ytics mirror tc default\nunset y2tics\n"
          "unset ylabel\nunset y2label\nset xrange [*:*]\n",
          o);
}

/* Run gnuplot on the script in dir. An exec failure is passed back through a
 * close-on-exec pipe, so "not installed" is told apart from a script error. */
int et_plot_gnuplot(const char *dir, const char *script)
{
    const char *prog = getenv("GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    int pfd[2];
    if (pipe(pfd) != 0 || fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
        et_error(NULL, 0, "plot: pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        et_error(NULL, 0, "plot: fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        int e = 0;
        if (chdir(dir) != 0)
            e = errno;
        else
            execlp(prog, prog, script, (char *)NULL);
        if (!e)
            e = errno;
        ssize_t wr = write(pfd[1], &e, sizeof e);
        (void)wr;
        _exit(127);
    }
    close(pfd[1]);
    int e = 0;
    ssize_t got = read(pfd[0], &e, sizeof e);
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            et_error(NULL, 0, "plot: waitpid: %s", strerror(errno));
            return -1;
        }
    if (got == (ssize_t)sizeof e) {
        if (e == ENOENT) {
            et_error(NULL, 0,
                     "plot: '%s' not found: install gnuplot with the pngcairo terminal "
                     "(Debian: apt-get install gnuplot-nox), or name it in $GNUPLOT",
                     prog);
            return ET_PLOT_NO_GNUPLOT;
        }
        et_error(NULL, 0, "plot: cannot run '%s' in %s: %s", prog, dir, strerror(e));
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        et_error(NULL, 0, "plot: %s failed on %s/%s (see its messages above)", prog, dir, script);
        return -1;
    }
    return 0;
}

int et_plot_write(const et_run *r, const et_eval *ev)
{
    if (r->task.classify)
        return et_plot_classes(r, ev);
    double range[ET_MAX_OUTPUTS];
    size_t beyond[ET_MAX_OUTPUTS];
    curve c[MAX_CURVES];
    unsigned nc = task_curves(&r->task, c);
    hist_ranges(ev, range, beyond);
    char *hp = et_path(r->dir, "plot_hist.dat"), *pp = et_path(r->dir, "plot_pose.dat");
    char *gp = et_path(r->dir, "plot.gp");
    int rc = -1;
    if (write_hist(hp, &r->task, ev, range) != 0 || write_pose(pp, r, ev, c, nc) != 0)
        goto out;
    et_afile af;
    if (et_afile_open(&af, gp) != 0)
        goto out;
    fprintf(af.fp,
            "# Made by evotrain plot for run %s; run `gnuplot plot.gp` in this\n"
            "# directory to draw the figures again (needs the pngcairo terminal).\n"
            "set encoding utf8\n",
            r->dir);
    script_curve(af.fp, r, c, nc);
    script_hist(af.fp, ev, range, beyond);
    script_pose(af.fp, r, ev, c, nc);
    if (et_afile_commit(&af) != 0)
        goto out;
    rc = et_plot_gnuplot(r->dir, "plot.gp");
    for (int i = 0; rc == 0 && i < ET_PLOT_N_PNG; i++)
        et_info("evotrain: wrote %s/%s\n", r->dir, et_plot_png[i]);
out:
    free(hp);
    free(pp);
    free(gp);
    return rc;
}

static const char plot_help[] =
    "usage: evotrain plot DIR [-n N | --data FILE.csv]\n"
    "Draws the figures of run DIR with gnuplot into DIR:\n"
    "  training_curve.png  validation RMSE of each group and output (log scale) against\n"
    "                      elapsed time and against evaluations, from DIR/log.csv\n"
    "  error_hist.png      histogram of the signed error of each output\n"
    "  error_vs_pose.png   RMSE of each group, and of the outputs in no group (by unit),\n"
    "                      in bins of each output's true value (for the pose: of each\n"
    "                      pose component, across the pose box)\n"
    "The errors are those of `evotrain eval DIR`: the best network, run by the integer\n"
    "kernel on N fresh samples (default 20000), the run's test file, or a dataset CSV.\n"
    "The data files (plot_hist.dat, plot_pose.dat) and the script (plot.gp) stay in\n"
    "DIR for restyling. Needs gnuplot with the pngcairo terminal (Debian: gnuplot-nox);\n"
    "$GNUPLOT names another program.\n";

int cmd_plot(int argc, char **argv)
{
    et_run_eval re;
    int rc = et_run_eval_open("plot", plot_help, argc, argv, &re);
    if (rc != ET_RUN_EVAL_OPEN)
        return rc;
    rc = et_plot_write(&re.run, &re.ev) == 0 ? ET_EXIT_OK : ET_EXIT_INPUT;
    et_run_eval_close(&re);
    return rc;
}
