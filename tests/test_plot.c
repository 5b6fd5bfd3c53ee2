/* plot and report for tasks other than the pose (the ASan build in $ET_BIN):
 * the simulator's outputs with a second group and mixed scales (tiny.ini
 * with [target x] and [group xy]), and a CSV source of four outputs in three
 * units with one group, whose ranges come from the data. The data files are
 * written before gnuplot runs, so their shape is checked even without
 * gnuplot; the PNGs when gnuplot is installed. The pose's own figures are
 * checked against their old header lines here and byte for byte by hand
 * (see the commit that generalised plot.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256], pose_dir[300], xy_dir[300], csv_dir[300];
static const char *bin;

static int have_gnuplot(void)
{
    return run("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* GNUPLOT for the commands below: the real one if installed, else one that
 * is missing, so that plot stops after writing its data files. */
static const char *gnuplot_env(void)
{
    return have_gnuplot() ? "" : "GNUPLOT=/nonexistent/gnuplot ";
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_plot_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    if (run("sed -e 's/^max_generations = .*/max_generations = 10/' -e "
            "'s/^floor_generations = .*/floor_generations = 10/' tests/data/tiny.ini > %s/pose.ini",
            tmp) != 0 ||
        run("%s --config %s/pose.ini --out %s --force -q", bin, tmp, tmp) != 0)
        return -1;
    snprintf(pose_dir, sizeof pose_dir, "%s/tiny", tmp);
    /* Six outputs, two groups, x in steps of 0.02 mm. */
    if (run("(sed -e 's/^name = tiny/name = xy/' %s/pose.ini; printf '\\n[target x]\\nscale = "
            "0.02\\n\\n[group xy]\\noutputs = x y\\n') > %s/xy.ini",
            tmp, tmp) != 0 ||
        run("%s --config %s/xy.ini --out %s --force -q", bin, tmp, tmp) != 0)
        return -1;
    snprintf(xy_dir, sizeof xy_dir, "%s/xy", tmp);
    /* A CSV of the simulator's samples, four of its columns the targets: x_mm
     * and y_mm in mm (the group xy), roll_deg in deg, z_mm without a unit. */
    if (run("%s dataset --config tests/data/tiny.ini -n 1500 -o %s/d.csv --seed 5 -q", bin, tmp) !=
            0 ||
        run("(printf '[run]\\nname = csvt\\nseed = 3\\nthreads = 1\\n[data]\\nsource = csv\\n"
            "train = %s/d.csv\\ntargets = x_mm y_mm roll_deg z_mm\\ninputs = '; head -1 %s/d.csv "
            "| tr ',' '\\n' | grep '^s' | tr '\\n' ' '; printf '\\n[target x_mm]\\nunit = mm\\n"
            "[target y_mm]\\nunit = mm\\n[target roll_deg]\\nunit = deg\\n[group xy]\\noutputs "
            "= x_mm y_mm\\n[network]\\nhidden = 8\\n[train]\\nlambda = 12\\nminibatch = 128\\n"
            "valid = 256\\nrefit = 512\\ntime_limit_s = 0\\nmax_generations = 10\\n"
            "floor_generations = 10\\nvalid_every = 5\\ncheckpoint_every = 10\\n') > %s/csv.ini",
            tmp, tmp, tmp) != 0 ||
        run("%s --config %s/csv.ini --out %s --force -q", bin, tmp, tmp) != 0)
        return -1;
    snprintf(csv_dir, sizeof csv_dir, "%s/csvt", tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf %s", tmp);
    return 0;
}

static char *slurp_in(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return slurp(p, NULL);
}

/* Blocks of a gnuplot data file: each ends with two blank lines. */
static int blocks(const char *t)
{
    int n = 0;
    for (const char *p = t; (p = strstr(p, "\n\n\n")); p += 3)
        n++;
    return n;
}

/* Fields of the first data line (not a comment) of t. */
static int fields_of_first_row(const char *t)
{
    for (const char *p = t; *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        if (*p != '#' && eol > p) {
            int n = 0, in = 0;
            for (const char *q = p; q < eol; q++) {
                n += !in && *q != ' ';
                in = *q != ' ';
            }
            return n;
        }
        p = eol + 1;
    }
    return -1;
}

/* The three PNGs of dir, when gnuplot drew them. */
static void check_pngs(const char *dir)
{
    if (!have_gnuplot()) {
        printf("        (PNGs not checked: gnuplot not found)\n");
        return;
    }
    static const char *const pngs[] = {"training_curve.png", "error_hist.png", "error_vs_pose.png"};
    for (size_t i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, pngs[i]);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_true(st.st_size > 1000);
        FILE *f = fopen(p, "rb");
        unsigned char magic[8] = {0};
        assert_int_equal(fread(magic, 1, 8, f), 8);
        fclose(f);
        assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    }
}

/* Runs `plot` on dir: 0 with gnuplot, 1 without (after the data files). */
static void plot(const char *dir)
{
    assert_int_equal(run("%s%s plot %s -n 1000 -q 2>/dev/null", gnuplot_env(), bin, dir),
                     have_gnuplot() ? 0 : 1);
}

/* Six outputs with two groups: a histogram per output, and per output a
 * block of bins with translation, xy and rotation (centre, 3 RMSEs, count). */
static void test_xy_plot(void **state)
{
    (void)state;
    plot(xy_dir);
    char *h = slurp_in(xy_dir, "plot_hist.dat"), *p = slurp_in(xy_dir, "plot_pose.dat");
    char *gp = slurp_in(xy_dir, "plot.gp");
    assert_non_null(h);
    assert_non_null(p);
    assert_non_null(gp);
    assert_int_equal(blocks(h), 6);
    assert_int_equal(blocks(p), 6);
    assert_int_equal(fields_of_first_row(p), 5);
    assert_non_null(strstr(p, "translation RMSE (mm),\n# xy RMSE (mm),\n# rotation RMSE (deg, "
                              "mean over roll, pitch, yaw)"));
    /* The pose box still spans the bins: x from -5 mm, first bin centre -4.75. */
    assert_non_null(strstr(p, "# x (mm)\n-4.75 "));
    assert_non_null(strstr(gp, "set multiplot layout 2,3"));
    assert_non_null(strstr(gp, "title 'xy (Euclidean)'"));
    /* The training curve: a row per group and one for the angles. */
    assert_non_null(strstr(gp, "set multiplot layout 3,2"));
    assert_non_null(strstr(gp, "column('valid_xy_mm')"));
    check_pngs(xy_dir);
    free(h);
    free(p);
    free(gp);
}

static void test_xy_report(void **state)
{
    (void)state;
    assert_int_equal(run("%s%s report %s -n 1000 -q 2>/dev/null", gnuplot_env(), bin, xy_dir), 0);
    char *t = slurp_in(xy_dir, "report.md");
    assert_non_null(t);
    assert_non_null(strstr(t, "| task | 18 inputs (s0_x, s0_y, s0_z, ..., s5_z; count); 6 "
                              "outputs: x (mm, step 0.02, weight 1), y (mm, step 0.01, weight 1)"));
    assert_non_null(strstr(t, "Euclidean groups: translation = x, y, z (mm); xy = x, y (mm) |"));
    assert_non_null(strstr(t, "| scenario | 2 magnets, 6 sensors, 18 readings; pose box"));
    assert_non_null(strstr(t, "\n| xy | mm | "));
    assert_non_null(strstr(t, "\n| translation | mm | "));
    free(t);
}

/* Four outputs in three units (mm, deg, none), from a CSV: bins over the
 * data's own range, curves xy (left axis) and roll_deg (right), z_mm only
 * in the data file (a third unit has no axis). */
static void test_csv_plot_and_report(void **state)
{
    (void)state;
    plot(csv_dir);
    char *h = slurp_in(csv_dir, "plot_hist.dat"), *p = slurp_in(csv_dir, "plot_pose.dat");
    char *gp = slurp_in(csv_dir, "plot.gp");
    assert_non_null(h);
    assert_non_null(p);
    assert_non_null(gp);
    assert_int_equal(blocks(h), 4);
    assert_int_equal(blocks(p), 4);
    assert_int_equal(fields_of_first_row(p), 5);
    assert_non_null(strstr(h, "# (x_mm, y_mm, roll_deg, z_mm): bin centre (mm or deg)"));
    assert_non_null(strstr(p, "bin centre, xy RMSE (mm),\n# roll_deg RMSE (deg),\n# z_mm RMSE "
                              "(no unit), samples in the bin"));
    assert_null(strstr(p, "pose"));
    assert_non_null(strstr(gp, "set multiplot layout 2,2"));
    assert_non_null(strstr(gp, "in plot_pose.dat, not drawn: z_mm"));
    assert_non_null(strstr(gp, "set y2label 'roll_deg RMSE (deg)'"));
    assert_non_null(strstr(gp, "set xlabel 'z_mm error'"));
    check_pngs(csv_dir);
    assert_int_equal(run("%s%s report %s -q 2>/dev/null", gnuplot_env(), bin, csv_dir), 0);
    char *t = slurp_in(csv_dir, "report.md");
    assert_non_null(t);
    assert_non_null(strstr(t, "| data | source csv; "));
    assert_non_null(strstr(t, "4 outputs: x_mm (mm, step 0.01, weight 1), y_mm (mm, step 0.01, "
                              "weight 1), roll_deg (deg, step 0.01, weight 1), z_mm (step 0.01, "
                              "weight 1); Euclidean groups: xy = x_mm, y_mm (mm) |"));
    assert_null(strstr(t, "| scenario |"));
    assert_non_null(strstr(t, "\n| xy | mm | "));
    assert_non_null(strstr(t, "| output (int16 outputs) |"));
    free(h);
    free(p);
    free(gp);
    free(t);
}

/* The pose keeps its figures: the same header lines and columns as before
 * plot.c served any task, and its report the scenario and the old sentence. */
static void test_pose_unchanged(void **state)
{
    (void)state;
    plot(pose_dir);
    char *h = slurp_in(pose_dir, "plot_hist.dat"), *p = slurp_in(pose_dir, "plot_pose.dat");
    assert_non_null(h);
    assert_non_null(p);
    assert_true(!strncmp(h,
                         "# evotrain plot: error histogram of each output, one block per output\n"
                         "# (x, y, z, roll, pitch, yaw): bin centre (mm or deg), share of "
                         "samples (%)\n# x\n",
                         strlen("# evotrain plot: error histogram of each output, one block per "
                                "output\n# (x, y, z, roll, pitch, yaw): bin centre (mm or deg), "
                                "share of samples (%)\n# x\n")));
    static const char pose_head[] =
        "# evotrain plot: RMSE in bins of each pose component, one block per\n"
        "# component (x, y, z, roll, pitch, yaw): bin centre, translation RMSE (mm),\n"
        "# rotation RMSE (deg, mean over roll, pitch, yaw), samples in the bin\n# x (mm)\n";
    assert_true(!strncmp(p, pose_head, strlen(pose_head)));
    assert_int_equal(blocks(p), 6);
    assert_int_equal(fields_of_first_row(p), 4);
    check_pngs(pose_dir);
    assert_int_equal(run("%s%s report %s -n 1000 -q 2>/dev/null", gnuplot_env(), bin, pose_dir), 0);
    char *t = slurp_in(pose_dir, "report.md");
    assert_non_null(t);
    assert_non_null(strstr(t, "| scenario | 2 magnets"));
    assert_non_null(strstr(t, "translation is the Euclidean distance."));
    assert_non_null(strstr(t, "| output (int16 pose) |"));
    assert_non_null(strstr(t, "Euclidean groups: translation = x, y, z (mm) |"));
    free(h);
    free(p);
    free(t);
}

/* A translation-only setup (the angles held at 0, so their errors are 0
 * throughout): report writes its report and figures, leaving those curves
 * out and saying so, where gnuplot used to stop on a log scale with no
 * point (issue 21). With a polish, the training curve ends on the polished
 * network. */
static void test_constant_outputs(void **state)
{
    (void)state;
    assert_int_equal(run("sed -e 's/^name = tiny/name = tr/' -e 's/^\\(roll\\|pitch\\|yaw\\)_deg "
                         ".*/\\1_deg = 0 0/' -e 's/^max_generations = .*/max_generations = 10/' "
                         "-e 's/^\\[train\\]/[train]\\npolish_sweeps = 1/' tests/data/tiny.ini "
                         "> %s/tr.ini && grep -c '_deg = 0 0' %s/tr.ini | grep -q 3",
                         tmp, tmp),
                     0);
    assert_int_equal(run("%s --config %s/tr.ini --out %s --force -q", bin, tmp, tmp), 0);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/tr", tmp);
    assert_int_equal(run("%s%s report %s -n 1000 -q", gnuplot_env(), bin, dir), 0);
    char *t = slurp_in(dir, "report.md"), *gp = slurp_in(dir, "plot.gp");
    assert_non_null(t);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "0 throughout, not drawn on the log scale: rotation"));
    assert_non_null(strstr(gp, "0 throughout, not drawn: rotation"));
    assert_non_null(strstr(gp, "against roll (deg): 0 in every sample"));
    assert_null(strstr(gp, "column('valid_roll_deg')"));
    assert_non_null(strstr(gp, "$polished using (column('elapsed_s')):(column('valid_trans_mm'))"));
    if (have_gnuplot())
        check_pngs(dir);
    free(t);
    free(gp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xy_plot),
        cmocka_unit_test(test_xy_report),
        cmocka_unit_test(test_csv_plot_and_report),
        cmocka_unit_test(test_pose_unchanged),
        cmocka_unit_test(test_constant_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
