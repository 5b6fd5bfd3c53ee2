/* plot: a run's figures as PNG files, drawn by gnuplot. */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "runeval.h"
#include "util.h"

const char *const et_plot_png[ET_PLOT_N_PNG] = {"training_curve.png", "error_hist.png",
                                                "error_vs_pose.png"};
const char *const et_plot_what[ET_PLOT_N_PNG] = {
    "validation RMSE against elapsed time and evaluations (log scale)",
    "histogram of the signed error of each output",
    "RMSE against each pose component, in bins across the pose box"};

#define HIST_BINS 40
#define POSE_BINS 20

/* Pose component labels with their units, for axis titles. */
static const char *const pose_label[SIM_POSE_DIM] = {"x (mm)",     "y (mm)",      "z (mm)",
                                                     "roll (deg)", "pitch (deg)", "yaw (deg)"};

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
    for (int k = 0; k < SIM_POSE_DIM; k++) {
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

static int write_hist(const char *path, const et_eval *ev, const double *range)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    fprintf(af.fp,
            "# evotrain plot: error histogram of each output, one block per output\n"
            "# (x, y, z, roll, pitch, yaw): bin centre (mm or deg), share of samples (%%)\n");
    size_t n = ev->n;
    for (int k = 0; k < SIM_POSE_DIM; k++) {
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

/* Binned RMSE against each pose component: where in the box the network is
 * weak. Rotation error is the quadratic mean of the roll, pitch and yaw
 * errors, so that one curve carries all three angles in degrees. */
static int write_pose(const char *path, const et_run *r, const et_eval *ev)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    fprintf(af.fp, "# evotrain plot: RMSE in bins of each pose component, one block per\n"
                   "# component (x, y, z, roll, pitch, yaw): bin centre, translation RMSE (mm),\n"
                   "# rotation RMSE (deg, mean over roll, pitch, yaw), samples in the bin\n");
    double lo[SIM_POSE_DIM], hi[SIM_POSE_DIM];
    sim_pose_box(r->cfg.sim, lo, hi);
    size_t n = ev->n;
    for (int j = 0; j < SIM_POSE_DIM; j++) {
        /* A dataset may hold poses outside the configured box. */
        for (size_t s = 0; s < n; s++) {
            double p = ev->truth[s * SIM_POSE_DIM + j];
            lo[j] = p < lo[j] ? p : lo[j];
            hi[j] = p > hi[j] ? p : hi[j];
        }
        double t2[POSE_BINS] = {0}, r2[POSE_BINS] = {0}, w = (hi[j] - lo[j]) / POSE_BINS;
        size_t cnt[POSE_BINS] = {0};
        for (size_t s = 0; s < n; s++) {
            long b = w > 0 ? (long)floor((ev->truth[s * SIM_POSE_DIM + j] - lo[j]) / w) : 0;
            b = b < 0 ? 0 : b >= POSE_BINS ? POSE_BINS - 1 : b;
            double et = ev->err[(size_t)ev->n_out * n + s], er = 0;
            for (int k = 3; k < 6; k++)
                er += ev->err[(size_t)k * n + s] * ev->err[(size_t)k * n + s];
            t2[b] += et * et;
            r2[b] += er / 3;
            cnt[b]++;
        }
        fprintf(af.fp, "# %s\n", pose_label[j]);
        for (int b = 0; b < POSE_BINS; b++)
            if (cnt[b])
                fprintf(af.fp, "%.6g %.6g %.6g %zu\n", lo[j] + (b + 0.5) * w,
                        sqrt(t2[b] / (double)cnt[b]), sqrt(r2[b] / (double)cnt[b]), cnt[b]);
        fputs("\n\n", af.fp);
    }
    return et_afile_commit(&af);
}

static void script_curve(FILE *o, const et_run *r)
{
    static const char *const xs[2][3] = {{"elapsed_s", "elapsed time (s)", "%g"},
                                         {"evals", "evaluations", "%.0s%c"}};
    static const char *const tcol[4] = {"valid_trans_mm", "valid_x_mm", "valid_y_mm", "valid_z_mm"};
    static const char *const ttit[4] = {"translation (Euclidean)", "x", "y", "z"};
    static const char *const rcol[3] = {"valid_roll_deg", "valid_pitch_deg", "valid_yaw_deg"};
    static const char *const rtit[3] = {"roll", "pitch", "yaw"};
    char won[48] = "";
    if (r->cfg.starts > 1)
        snprintf(won, sizeof won, ", start %llu of %d raced", (unsigned long long)r->st.best_start,
                 r->cfg.starts);
    fprintf(o,
            "\n# Training curve, from the run's own log.csv.\n"
            "set output '%s'\nset terminal pngcairo size 1400,900 font 'sans,11' noenhanced\n"
            "set datafile separator ','\nset datafile columnheaders\n"
            "set multiplot layout 2,2 title 'run %s: validation RMSE of the optimizer mean "
            "(best network from generation %llu%s)' font 'sans,13'\n"
            "set logscale y\nset grid xtics ytics mytics\nset key top right\n"
            /* 1-2-5 labels: decades alone leave a curve between 1 and 10
             * without a readable value. */
            "set ytics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, "
            "50, 100, 200, 500, 1000)\n",
            et_plot_png[0], r->cfg.name, (unsigned long long)r->st.best_generation, won);
    for (int row = 0; row < 2; row++) {
        for (int c = 0; c < 2; c++) {
            fprintf(o, "set xlabel '%s'\nset format x '%s'\nset ylabel '%s'\nset title '%s'\n",
                    xs[c][1], xs[c][2], row ? "rotation RMSE (deg)" : "translation RMSE (mm)",
                    row ? "rotation" : "translation");
            fputs("plot ", o);
            int nc = row ? 3 : 4;
            /* Raced starts interleave their rows: points, not a line
             * zigzagging between them. */
            for (int k = 0; k < nc; k++)
                fprintf(o,
                        "%s'log.csv' using (column('%s')):(column('%s')) with %s %d "
                        "title '%s'",
                        k ? ", \\\n     " : "", xs[c][0], row ? rcol[k] : tcol[k],
                        r->cfg.starts > 1 ? "points pt 7 ps 0.4 lc" : "lines lw",
                        r->cfg.starts > 1 ? k + 1
                        : !row && k == 0  ? 3
                                          : 2,
                        row ? rtit[k] : ttit[k]);
            fputc('\n', o);
        }
    }
    fputs("unset multiplot\nunset logscale y\nset ytics autofreq\nset format x '%g'\n"
          "set datafile separator whitespace\nset datafile nocolumnheaders\n",
          o);
}

static void script_hist(FILE *o, const et_eval *ev, const double *range, const size_t *beyond)
{
    fprintf(o,
            "\n# Error histograms (plot_hist.dat): one block per output.\n"
            "set output '%s'\nset terminal pngcairo size 1400,900 font 'sans,11' noenhanced\n"
            "set multiplot layout 2,3 title 'error of each output on %zu %s samples "
            "(output minus truth)' font 'sans,13'\n"
            "set style fill solid 0.6 border -1\nset grid ytics\nset key off\n"
            "set ylabel 'share of samples (%%)'\nset yrange [0:*]\n",
            et_plot_png[1], ev->n, ev->source ? "dataset" : "fresh simulated");
    for (int k = 0; k < SIM_POSE_DIM; k++) {
        if (beyond[k])
            fprintf(o, "set label 1 \"%zu beyond ±%g %s\\nnot shown\" at graph 0.03, graph 0.92\n",
                    beyond[k], range[k], ev->unit[k]);
        else
            fputs("unset label 1\n", o);
        fprintf(o,
                "set xlabel '%s error (%s)'\nset xrange [%g:%g]\nset boxwidth %g\n"
                "set title '%s: RMSE %.3g %s, p95 %.3g %s'\n"
                "plot 'plot_hist.dat' index %d using 1:2 with boxes lc rgb '#3a6ea5'\n",
                ev->name[k], ev->unit[k], -range[k], range[k], 2 * range[k] / HIST_BINS,
                ev->name[k], ev->rmse[k], ev->unit[k], ev->p95[k], ev->unit[k], k);
    }
    fputs("unset multiplot\nunset label 1\nset xrange [*:*]\nset yrange [*:*]\n", o);
}

static void script_pose(FILE *o, const et_eval *ev)
{
    fprintf(o,
            "\n# RMSE against each pose component (plot_pose.dat): one block per component.\n"
            "set output '%s'\nset terminal pngcairo size 1400,900 font 'sans,11' noenhanced\n"
            "set multiplot layout 2,3 title 'where in the pose box the network is weak: RMSE "
            "in %d bins of each pose component (%zu samples)' font 'sans,13' "
            "margins 0.06, 0.94, 0.07, 0.86 spacing 0.1, 0.13\n"
            "set grid xtics ytics\nset style data linespoints\n"
            /* One legend for all panels, under the title, off the curves. */
            "set key at screen 0.5, screen 0.935 center horizontal\n"
            "set ytics nomirror tc rgb '#3a6ea5'\nset y2tics tc rgb '#c0392b'\n"
            "set yrange [0:*]\nset y2range [0:*]\n",
            et_plot_png[2], POSE_BINS, ev->n);
    for (int j = 0; j < SIM_POSE_DIM; j++) {
        /* Axis titles on the outer columns only: the tick colours carry them
         * across a row, and inner ones would collide with their neighbours. */
        fputs(j % 3 == 0 ? "set ylabel 'translation RMSE (mm)' tc rgb '#3a6ea5'\n"
                         : "unset ylabel\n",
              o);
        fputs(j % 3 == 2 ? "set y2label 'rotation RMSE (deg)' tc rgb '#c0392b'\n"
                         : "unset y2label\n",
              o);
        fprintf(o,
                "set xlabel '%s'\nset title 'against %s'\n"
                "plot 'plot_pose.dat' index %d using 1:2 axes x1y1 pt 7 ps 0.6 lw 2 "
                "lc rgb '#3a6ea5' title 'translation (Euclidean)', \\\n"
                "     '' index %d using 1:3 axes x1y2 pt 5 ps 0.6 lw 2 lc rgb '#c0392b' "
                "title 'rotation (roll, pitch, yaw)'\n",
                pose_label[j], pose_label[j], j, j);
        if (j == 0)
            fputs("unset key\n", o);
    }
    fputs("unset multiplot\n", o);
}

/* Run gnuplot on the script in dir. An exec failure is passed back through a
 * close-on-exec pipe, so "not installed" is told apart from a script error. */
static int run_gnuplot(const char *dir, const char *script)
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
    double range[SIM_POSE_DIM];
    size_t beyond[SIM_POSE_DIM];
    hist_ranges(ev, range, beyond);
    char *hp = et_path(r->dir, "plot_hist.dat"), *pp = et_path(r->dir, "plot_pose.dat");
    char *gp = et_path(r->dir, "plot.gp");
    int rc = -1;
    if (write_hist(hp, ev, range) != 0 || write_pose(pp, r, ev) != 0)
        goto out;
    et_afile af;
    if (et_afile_open(&af, gp) != 0)
        goto out;
    fprintf(af.fp,
            "# Made by evotrain plot for run %s; run `gnuplot plot.gp` in this\n"
            "# directory to draw the figures again (needs the pngcairo terminal).\n"
            "set encoding utf8\n",
            r->dir);
    script_curve(af.fp, r);
    script_hist(af.fp, ev, range, beyond);
    script_pose(af.fp, ev);
    if (et_afile_commit(&af) != 0)
        goto out;
    rc = run_gnuplot(r->dir, "plot.gp");
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
    "  training_curve.png  validation RMSE (mm, deg; log scale) against elapsed time\n"
    "                      and against evaluations, from DIR/log.csv\n"
    "  error_hist.png      histogram of the signed error of each output\n"
    "  error_vs_pose.png   RMSE in bins of each pose component\n"
    "The errors are those of `evotrain eval DIR`: the best network, run by the integer\n"
    "kernel on N fresh simulated samples (default 20000) or on a dataset CSV.\n"
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
