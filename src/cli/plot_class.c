/* plot_class: a classification's figures (see plot.h): the validation error
 * rate against time and evaluations, and the confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util.h"

const char *const et_plot_class_png[ET_PLOT_N_CLASS_PNG] = {"training_curve.png",
                                                            "confusion.png"};

const char *et_plot_class_what(int i)
{
    static const char *const what[ET_PLOT_N_CLASS_PNG] = {
        "validation error rate (all samples and each class's) against elapsed time and "
        "evaluations",
        "confusion matrix: the share of each true class (row) that the network puts in each "
        "class (column), with the counts"};
    return what[i];
}

/* s for a gnuplot single-quoted string: a quote doubled. */
static void put_sq(FILE *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', o);
        fputc(*s, o);
    }
}

/* confusion.dat: one row per true class, the percentages of its samples
 * per predicted class; then the counts, for the labels. */
static int write_confusion(const char *path, const et_task *t, const et_eval *ev)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    unsigned no = ev->n_out;
    fprintf(af.fp, "# evotrain plot: confusion matrix, %zu samples; row = true class, column = "
                   "the network's class; percent of the row\n",
                   ev->n);
    for (unsigned k = 0; k < no; k++) {
        for (unsigned p = 0; p < no; p++) {
            double pct = ev->support[k] ? 100.0 * (double)ev->confusion[k * no + p] /
                                              (double)ev->support[k]
                                        : 0;
            fprintf(af.fp, "%s%.3f", p ? " " : "", pct);
        }
        fputc('\n', af.fp);
    }
    (void)t;
    return et_afile_commit(&af);
}

static void script(FILE *o, const et_run *r, const et_eval *ev)
{
    const et_task *t = &r->task;
    unsigned no = ev->n_out;
    static const char *const xs[2][2] = {{"elapsed_s", "elapsed time (s)"},
                                         {"evals", "evaluations"}};
    fprintf(o,
            "# Made by evotrain plot for run %s; run `gnuplot plot.gp` in this\n"
            "# directory to draw the figures again (needs the pngcairo terminal).\n"
            "set encoding utf8\n",
            r->dir);
    fprintf(o,
            "\n# Training curve, from the run's own log.csv.\n"
            "set output '%s'\nset terminal pngcairo size 1400,560 font 'sans,11' noenhanced\n"
            "set datafile separator ','\nset datafile columnheaders\n"
            "set multiplot layout 1,2 title 'run ",
            et_plot_class_png[0]);
    put_sq(o, r->cfg.name);
    fprintf(o,
            ": validation error rate of the optimizer mean (best network from generation "
            "%llu)' font 'sans,13'\n"
            /* From just below 0: a run without errors draws its flat line
             * at 0 without gnuplot's warning of an empty range. */
            "set grid\nset key top right\nset ylabel 'error (%%)'\nset yrange [-1e-9:*]\n",
            (unsigned long long)r->st.best_generation);
    for (int col = 0; col < 2; col++) {
        fprintf(o, "set xlabel '%s'\nset format x '%s'\n", xs[col][1], col ? "%.0s%c" : "%g");
        fprintf(o, "plot 'log.csv' using (column('%s')):(column('valid_error_pct')) with lines "
                   "lw 3 lc rgb 'black' title 'all samples'",
                xs[col][0]);
        for (unsigned k = 0; k < no && no <= 12; k++) {
            fprintf(o, ", \\\n     'log.csv' using (column('%s')):(column('valid_%s_error_pct')) "
                       "with lines lw 1 title '",
                    xs[col][0], t->out[k].name);
            put_sq(o, t->class_name[k]);
            fputc('\'', o);
        }
        fputc('\n', o);
    }
    fputs("unset multiplot\nset datafile separator whitespace\nset datafile nocolumnheaders\n"
          "set format x '%g'\nunset yrange\n",
          o);
    unsigned side = 200 + 60 * no;
    side = side < 600 ? 600 : side > 1600 ? 1600 : side;
    fprintf(o,
            "\n# Confusion matrix (confusion.dat: percent of each true class).\n"
            "set output '%s'\nset terminal pngcairo size %u,%u font 'sans,11' noenhanced\n"
            "set title 'run ",
            et_plot_class_png[1], side + 140, side);
    put_sq(o, r->cfg.name);
    fprintf(o,
            ": confusion matrix on %zu samples, accuracy %.2f %%' font 'sans,13'\n"
            "set xlabel 'the network''s class'\nset ylabel 'true class'\n"
            "set cblabel 'percent of the true class'\nset cbrange [0:100]\n"
            "set palette defined (0 'white', 1 '#c6dbef', 50 '#4292c6', 100 '#08306b')\n"
            "set xrange [-0.5:%u.5]\nset yrange [%u.5:-0.5]\nset tics scale 0\nunset key\n"
            "set xtics (",
            ev->n, 100.0 * (double)ev->correct / (double)ev->n, no - 1, no - 1);
    for (unsigned k = 0; k < no; k++) {
        fputs(k ? ", '" : "'", o);
        put_sq(o, t->class_name[k]);
        fprintf(o, "' %u", k);
    }
    fputs(") rotate by 30 right\nset ytics (", o);
    for (unsigned k = 0; k < no; k++) {
        fputs(k ? ", '" : "'", o);
        put_sq(o, t->class_name[k]);
        fprintf(o, "' %u", k);
    }
    fputs(")\n", o);
    /* Counts on the cells (small matrices only: 64 x 64 labels are noise). */
    for (unsigned k = 0; k < no && no <= 16; k++)
        for (unsigned p = 0; p < no; p++) {
            size_t c = ev->confusion[k * no + p];
            double pct = ev->support[k] ? 100.0 * (double)c / (double)ev->support[k] : 0;
            fprintf(o, "set label %u '%zu' at %u,%u center front tc rgb '%s'\n",
                    k * no + p + 1, c, p, k, pct > 50 ? "white" : "black");
        }
    fputs("plot 'confusion.dat' matrix with image\nunset label\n", o);
}

int et_plot_classes(const et_run *r, const et_eval *ev)
{
    char *cp = et_path(r->dir, "confusion.dat"), *gp = et_path(r->dir, "plot.gp");
    int rc = -1;
    et_afile af;
    if (write_confusion(cp, &r->task, ev) == 0 && et_afile_open(&af, gp) == 0) {
        script(af.fp, r, ev);
        if (et_afile_commit(&af) == 0)
            rc = et_plot_gnuplot(r->dir, "plot.gp");
    }
    for (int i = 0; rc == 0 && i < ET_PLOT_N_CLASS_PNG; i++)
        et_info("evotrain: wrote %s/%s\n", r->dir, et_plot_class_png[i]);
    free(cp);
    free(gp);
    return rc;
}
