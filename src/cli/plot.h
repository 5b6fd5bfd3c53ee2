/* plot: a run's figures as PNG files, drawn by gnuplot.
 *
 * Data files and a gnuplot script are written into the run directory first,
 * so a figure can be restyled by editing plot.gp and running `gnuplot plot.gp`
 * there; then gnuplot (the program named by $GNUPLOT, default "gnuplot",
 * which needs the pngcairo terminal: Debian's gnuplot-nox) draws:
 *
 *   training_curve.png  validation RMSE against elapsed time and evaluations
 *   error_hist.png      histogram of the signed error of each output
 *   error_vs_pose.png   RMSE of each group and of the outputs in no group
 *                       (by unit) in bins of each output's true value: for
 *                       the pose, of each pose component across the pose box */
#ifndef ET_PLOT_H
#define ET_PLOT_H

#include "evalcore.h"
#include "run.h"

enum { ET_PLOT_N_PNG = 3 };
extern const char *const et_plot_png[ET_PLOT_N_PNG];
/* What figure i shows for task t, in one line (for the report). */
const char *et_plot_what(const et_task *t, int i);

/* Returned when gnuplot could not be started (reported, with the package to install). */
#define ET_PLOT_NO_GNUPLOT (-2)

/* Write the figures of run r, whose held-out errors are ev, into r->dir.
 * 0 ok; -1 on an error (reported); ET_PLOT_NO_GNUPLOT. */
int et_plot_write(const et_run *r, const et_eval *ev);

/* A classification's figures instead (plot_class.c): training_curve.png
 * (the validation error rates) and confusion.png. et_plot_write draws them
 * for a classification run. */
enum { ET_PLOT_N_CLASS_PNG = 2 };
extern const char *const et_plot_class_png[ET_PLOT_N_CLASS_PNG];
const char *et_plot_class_what(int i);
int et_plot_classes(const et_run *r, const et_eval *ev);

/* Runs gnuplot on script in dir: 0, -1 (reported) or ET_PLOT_NO_GNUPLOT. */
int et_plot_gnuplot(const char *dir, const char *script);

#endif
