/* test_data: training on data from a CSV, an external program and a plugin
 * ([data] source), end to end through the binary: deterministic across
 * thread and worker counts, resumable, refusing a changed source, exported
 * to a header whose self-test passes, and every mistake in [data] refused
 * with its file and line. The examples of sim/examples are what is run. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256];
static const char *bin;
static const char *py; /* a python3 with numpy, or NULL (the tilt tests skip) */

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_data_XXXXXX");
    static const char *const pys[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < 2 && !py; i++)
        if (run("%s -c 'import numpy' 2>/dev/null", pys[i]) == 0)
            py = pys[i];
    if (!py)
        fprintf(stderr, "test_data: no python3 with numpy; the tilt tests are skipped\n");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

/* The header of run name, from its include guard on, named pose_net
 * whatever the file's name. */
static char *network_of(const char *name)
{
    assert_int_equal(
        run("%s export %s/%s -o %s/%s.h --name pose_net -q", bin, tmp, name, tmp, name), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/%s.h", tmp, name);
    char *h = slurp(p, NULL);
    assert_non_null(h);
    return h;
}

static void assert_same_network(const char *a, const char *b)
{
    char *ha = network_of(a), *hb = network_of(b);
    assert_string_equal(strstr(ha, "#ifndef"), strstr(hb, "#ifndef"));
    free(ha);
    free(hb);
}

/* The exported header compiles as C99 with the kernel and its self-test
 * (the kernel's outputs on the header's own vectors) passes. */
static void assert_selftest(const char *name)
{
    assert_int_equal(
        run("printf '#include \"%s.h\"\\nint main(void){return pose_net_selftest();}\\n' "
            "> %s/%s_main.c && cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 "
            "-Iinclude -I%s -o %s/%s_st %s/%s_main.c src/kernel/evonet.c && %s/%s_st",
            name, tmp, name, tmp, tmp, name, tmp, name, tmp, name),
        0);
}

/* The tilt example's configuration, shortened, with this machine's python
 * and `extra` lines at the top of [train]. */
static void tilt_ini(const char *path, const char *extra)
{
    assert_int_equal(
        run("sed -e 's|^command = /usr/bin/python3|command = %s|' "
            "-e 's/^max_generations = 1500/max_generations = 60/' "
            "-e 's/^floor_generations = 1500/floor_generations = 60/' "
            "-e 's/^pool          = 65536/pool = 4096/' -e 's/^valid         = 4096/valid = 1024/' "
            "-e 's/^\\[train\\]$/[train]\\n%s/' sim/examples/tilt/tilt.ini > %s",
            py, extra, path),
        0);
}

/* A pose dataset written by `evotrain dataset`, trained with source = csv:
 * the same bits on 1 and 2 threads, eval on the held-out rows and on a
 * file, resumable; a training file changed since is refused on resume. */
static void test_csv(void **state)
{
    (void)state;
    assert_int_equal(run("%s dataset --config tests/data/tiny.ini -n 3000 -o %s/train.csv -q "
                         "&& %s dataset --config tests/data/tiny.ini -n 500 --seed 9 -o "
                         "%s/test.csv -q",
                         bin, tmp, bin, tmp),
                     0);
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/csv.ini", tmp);
    assert_int_equal(run("sed -n '/^\\[run\\]/,$p' tests/data/tiny.ini > %s && printf "
                         "'\\n[data]\\nsource = csv\\ntrain = %s/train.csv\\ntargets = x_mm y_mm "
                         "z_mm roll_deg pitch_deg yaw_deg\\n' >> %s",
                         cfg, tmp, cfg),
                     0);
    assert_int_equal(run("%s --config %s --out %s --name c1 --threads 1 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name c2 --threads 2 -q", bin, cfg, tmp), 0);
    assert_same_network("c1", "c2");
    /* Stopped at 20 and resumed: the run never stopped. */
    assert_int_equal(
        run("%s --config %s --out %s --name c3 --max-generations 20 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --resume %s/c3 --max-generations 40 -q", bin, tmp), 0);
    assert_same_network("c1", "c3");
    assert_int_equal(run("%s eval %s/c1 > %s/ev1.txt && grep -q \"held-out rows\" %s/ev1.txt", bin,
                         tmp, tmp, tmp),
                     0);
    assert_int_equal(run("%s eval %s/c1 --data %s/test.csv > %s/ev2.txt && grep -q '^yaw_deg ' "
                         "%s/ev2.txt",
                         bin, tmp, tmp, tmp, tmp),
                     0);
    char *h = network_of("c1");
    /* Each input by name, each target's range over the training file (but
     * the 256 rows held out to validate). */
    assert_non_null(strstr(h, " *   in[0] s0_x\n *   in[1] s0_y\n"));
    assert_non_null(strstr(h, "Trained on 2744 samples with targets in"));
    assert_non_null(strstr(h, "x_mm ["));
    free(h);
    assert_selftest("c1");
    /* One row more in the training file: the resume refuses, naming it. */
    assert_int_equal(
        run("%s --config %s --out %s --name c4 --max-generations 20 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("tail -1 %s/train.csv >> %s/train.csv", tmp, tmp), 0);
    assert_int_equal(run("%s --resume %s/c4 -q 2> %s/err", bin, tmp, tmp), 1);
    char p[400];
    snprintf(p, sizeof p, "%s/err", tmp);
    char *m = slurp(p, NULL);
    assert_non_null(m);
    assert_non_null(strstr(m, "the data changed since the run was written"));
    assert_non_null(strstr(m, "train.csv"));
    free(m);
}

/* The numpy tilt simulator as a command: 1 and 2 workers, 1 and 2 threads
 * give the same network; the header's self-test passes. */
static void test_command(void **state)
{
    (void)state;
    if (!py)
        skip();
    char c1[300], c2[300];
    snprintf(c1, sizeof c1, "%s/t1.ini", tmp);
    snprintf(c2, sizeof c2, "%s/t2.ini", tmp);
    tilt_ini(c1, "");
    tilt_ini(c2, "");
    assert_int_equal(run("sed -i 's/^workers = 2/workers = 1/' %s", c1), 0);
    assert_int_equal(run("%s --config %s --out %s --name w1 --threads 1 -q", bin, c1, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name w2 --threads 2 -q", bin, c2, tmp), 0);
    assert_same_network("w1", "w2");
    char *h = network_of("w1");
    assert_non_null(strstr(h, "ax (counts)"));
    assert_non_null(strstr(h, "out[0] roll: 0.01 deg per step"));
    assert_non_null(strstr(h, "roll ["));
    free(h);
    assert_selftest("w1");
    assert_int_equal(run("%s eval %s/w1 -n 2000 | grep -q '^pitch *deg'", bin, tmp), 0);
    /* `dataset` writes the program's samples as the CSV a csv source reads;
     * `simulate` is the magnet simulator's alone. */
    assert_int_equal(run("%s dataset --config %s -n 50 -o %s/tilt.csv -q && head -1 %s/tilt.csv "
                         "| grep -qx 'ax,ay,az,roll,pitch' && test $(wc -l < %s/tilt.csv) = 51",
                         bin, c1, tmp, tmp, tmp),
                     0);
    assert_int_equal(run("%s simulate --config %s --poses /dev/null -o - 2>/dev/null", bin, c1), 2);
}

/* The light2d plugin, built out of tree against an installed evotrain_sim.h,
 * loaded by path; trained, resumed, exported. */
static void test_plugin(void **state)
{
    (void)state;
    /* As a user would: evotrain installed into a prefix, the plugin built
     * against the installed evotrain_sim.h, outside the source tree. */
    const char *mk = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory";
    assert_int_equal(
        run("%s install PREFIX=%s/prefix EVOTRAIN=%s >/dev/null && test -f "
            "%s/prefix/share/evotrain/evotrain_sim.h && %s -C sim/examples/plugin PREFIX=%s/prefix "
            "OUT=%s >/dev/null",
            mk, tmp, bin, tmp, mk, tmp, tmp),
        0);
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/l.ini", tmp);
    assert_int_equal(run("sed -e 's|^plugin = out/light2d.so|plugin = %s/light2d.so|' "
                         "-e 's/^max_generations = 1500/max_generations = 60/' "
                         "-e 's/^pool          = 65536/pool = 4096/' "
                         "sim/examples/plugin/light2d.ini > %s",
                         tmp, cfg),
                     0);
    assert_int_equal(run("%s --config %s --out %s --name l1 -q", bin, cfg, tmp), 0);
    assert_int_equal(
        run("%s --config %s --out %s --name l2 --max-generations 30 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --resume %s/l2 --max-generations 60 -q", bin, tmp), 0);
    assert_same_network("l1", "l2");
    assert_selftest("l1");
}

/* Mistakes in [data]: exit 1, the file and line, what is wrong; no run
 * directory left. */
static void test_bad_data(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[data]\nsource = csv\n", "source = csv needs train = FILE.csv"},
        {"[data]\nsource = excel\n", "source: 'excel' is not one of: sim csv command plugin"},
        {"[data]\nsource = csv\nsheet = 1\n", "unknown key 'sheet' in [data]"},
        {"[data]\nsource = csv\ntrain = /nonexistent/t.csv\n", "/nonexistent/t.csv"},
        {"[data]\nsource = command\n", "source = command needs command = PROGRAM"},
        {"[data]\nsource = command\ncommand = /nonexistent/sim\n", "/nonexistent/sim"},
        {"[data]\nsource = plugin\n", "source = plugin needs plugin = PATH"},
        {"[data]\nsource = plugin\nplugin = /nonexistent/p.so\n", "/nonexistent/p.so"},
        {"[data]\nsource = command\ncommand = true\nworkers = 0\n", "workers: '0'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cfg[300];
        snprintf(cfg, sizeof cfg, "%s/bad.ini", tmp);
        FILE *f = fopen(cfg, "w");
        assert_non_null(f);
        fprintf(f, "[run]\nname = bad\n\n[train]\nmax_generations = 5\n\n%s", cases[i].text);
        fclose(f);
        assert_int_equal(run("%s --config %s --out %s --name bad -q 2> %s/err", bin, cfg, tmp, tmp),
                         1);
        char p[400];
        snprintf(p, sizeof p, "%s/err", tmp);
        char *m = slurp(p, NULL);
        assert_non_null(m);
        if (!strstr(m, cases[i].want))
            fail_msg("case %zu: expected '%s', got: %s", i, cases[i].want, m);
        free(m);
        assert_int_equal(run("test -e %s/bad", tmp), 1);
    }
    /* The magnet scenario with another source is a mistake too. */
    assert_int_equal(run("cp tests/data/tiny.ini %s/mix.ini && printf '\\n[data]\\nsource = "
                         "csv\\ntrain = x.csv\\n' >> %s/mix.ini",
                         tmp, tmp),
                     0);
    assert_int_equal(run("%s --config %s/mix.ini --out %s -q 2> %s/err && exit 1; grep -q "
                         "'mix.ini:[0-9]*: the magnet scenario.s sections are for' %s/err",
                         bin, tmp, tmp, tmp, tmp),
                     0);
}

/* The float reference of the README ("A float reference"): two datasets
 * of the run's configuration into sim/examples/baseline.py, as documented,
 * on a tiny set: per output, least squares and a float MLP, both finite
 * and the MLP better than the linear fit, summed over the outputs. */
static void test_baseline(void **state)
{
    (void)state;
    if (!py)
        skip();
    assert_int_equal(
        run("%s dataset --config tests/data/tiny.ini -n 8000 --seed 11 -o %s/bl_train.csv "
            "-q && %s dataset --config tests/data/tiny.ini -n 1000 --seed 12 -o "
            "%s/bl_test.csv -q",
            bin, tmp, bin, tmp),
        0);
    assert_int_equal(run("%s sim/examples/baseline.py %s/bl_train.csv %s/bl_test.csv --targets 6 "
                         "--hidden 16 16 --epochs 30 > %s/bl.txt",
                         py, tmp, tmp, tmp),
                     0);
    char p[400];
    snprintf(p, sizeof p, "%s/bl.txt", tmp);
    char *t = slurp(p, NULL);
    assert_non_null(t);
    const char *head = "target,linear_least_squares_rmse,float_mlp_16_16_rmse\n";
    assert_true(!strncmp(t, head, strlen(head)));
    static const char *const names[] = {"x_mm", "y_mm", "z_mm", "roll_deg", "pitch_deg", "yaw_deg"};
    double lin_sum = 0, mlp_sum = 0;
    for (int k = 0; k < 6; k++) {
        char key[32];
        snprintf(key, sizeof key, "\n%s,", names[k]);
        const char *row = strstr(t, key);
        assert_non_null(row);
        double lin, mlp;
        assert_int_equal(sscanf(row + strlen(key), "%lf,%lf", &lin, &mlp), 2);
        assert_true(lin > 0 && lin < 100 && mlp > 0 && mlp < 100);
        lin_sum += lin;
        mlp_sum += mlp;
    }
    assert_true(mlp_sum < lin_sum);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),      cmocka_unit_test(test_command),
        cmocka_unit_test(test_plugin),   cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_baseline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
