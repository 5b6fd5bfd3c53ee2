/* The command line as a user meets it (the ASan build in $ET_BIN): --help and
 * exit codes of every command, -q/-v everywhere, plot, report, the man page,
 * kernel -o, and make install/uninstall into a temporary prefix. */
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
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256], run_dir[300];
static const char *bin;

static const char *const commands[] = {"train",    "export",  "eval",     "config",
                                       "simulate", "dataset", "optbench", "plot",
                                       "report",   "kernel",  "bench",    "man"};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int have_gnuplot(void)
{
    return run("command -v gnuplot >/dev/null 2>&1") == 0;
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_cli_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    /* One tiny run (about a second) serves every test that needs a run. */
    if (run("%s --config tests/data/tiny.ini --out %s --force -q", bin, tmp) != 0)
        return -1;
    snprintf(run_dir, sizeof run_dir, "%s/tiny", tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf %s", tmp);
    return 0;
}

/* Every command documents itself, with the shared options and exit codes,
 * on stdout and with status 0; -q and -v are accepted anywhere. */
static void test_help_everywhere(void **state)
{
    (void)state;
    char out[512];
    snprintf(out, sizeof out, "%s/help.txt", tmp);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        assert_int_equal(run("%s %s --help > %s 2>/dev/null", bin, commands[i], out), 0);
        char *t = slurp(out, NULL);
        assert_non_null(t);
        assert_non_null(strstr(t, "usage: evotrain"));
        assert_null(strstr(t, "Usage"));
        /* The exit codes once, in the common footer (issue 21). */
        const char *ec = strstr(t, "Exit codes: 0 ok, 1 error in the input, 2 usage, 130");
        assert_non_null(ec);
        assert_null(strstr(ec + 1, "Exit codes"));
        assert_null(strstr(t, "Exit status"));
        free(t);
        assert_int_equal(run("%s %s -q --help >/dev/null 2>&1", bin, commands[i]), 0);
        assert_int_equal(run("%s %s --help -v >/dev/null 2>&1", bin, commands[i]), 0);
    }
    assert_int_equal(run("%s --help > %s", bin, out), 0);
    char *t = slurp(out, NULL);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i], "man"))
            assert_non_null(strstr(t, commands[i]));
    assert_non_null(strstr(t, "130 interrupted"));
    free(t);
    assert_int_equal(run("%s --version > %s", bin, out), 0);
    t = slurp(out, NULL);
    assert_true(!strncmp(t, "evotrain ", 9));
    free(t);
}

/* Usage errors exit 2 and say so on stderr, leaving stdout empty. */
static void test_usage_errors(void **state)
{
    (void)state;
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/out.txt", tmp);
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        assert_int_equal(run("%s %s --no-such-option > %s 2> %s", bin, commands[i], out, err), 2);
        assert_int_equal(file_size(out), 0);
        assert_true(file_size(err) > 0);
    }
    assert_int_equal(run("%s no-such-command 2>/dev/null", bin), 2);
    assert_int_equal(run("%s 2>/dev/null", bin), 2);
    assert_int_equal(run("%s plot 2>/dev/null", bin), 2);
    assert_int_equal(run("%s report %s -n 0 2>/dev/null", bin, run_dir), 2);
    assert_int_equal(run("%s kernel 2>/dev/null", bin), 2);
    /* Input errors exit 1. */
    assert_int_equal(run("%s plot %s/nothing-here 2>/dev/null", bin, tmp), 1);
    assert_int_equal(run("%s report %s/nothing-here 2>/dev/null", bin, tmp), 1);
}

static void test_plot(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        skip();
        return;
    }
    assert_int_equal(run("%s plot %s -n 2000 -q", bin, run_dir), 0);
    static const char *const pngs[] = {"training_curve.png", "error_hist.png", "error_vs_pose.png"};
    for (size_t i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", run_dir, pngs[i]);
        assert_true(file_size(p) > 1000);
        FILE *f = fopen(p, "rb");
        unsigned char magic[8] = {0};
        assert_int_equal(fread(magic, 1, 8, f), 8);
        fclose(f);
        assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    }
}

/* A missing gnuplot is a clear input error naming the package. */
static void test_plot_without_gnuplot(void **state)
{
    (void)state;
    char err[512];
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    assert_int_equal(run("GNUPLOT=/nonexistent/gnuplot %s plot %s -n 100 2> %s", bin, run_dir, err),
                     1);
    char *t = slurp(err, NULL);
    assert_non_null(strstr(t, "gnuplot-nox"));
    free(t);
    /* The report is still written, without plots, with a warning. */
    assert_int_equal(
        run("GNUPLOT=/nonexistent/gnuplot %s report %s -n 100 2>/dev/null", bin, run_dir), 0);
}

/* The report's table holds the numbers of `evotrain eval`. */
static void test_report(void **state)
{
    (void)state;
    assert_int_equal(run("%s report %s -n 3000 -q", bin, run_dir), 0);
    char p[512], ev[512];
    snprintf(p, sizeof p, "%s/report.md", run_dir);
    char *t = slurp(p, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "| output | unit | RMSE | p50 | p95 | max |"));
    assert_non_null(strstr(t, "cycles per inference"));
    assert_non_null(strstr(t, "**network data**"));
    assert_non_null(strstr(t, "18 -> 8"));
    snprintf(ev, sizeof ev, "%s/eval.txt", tmp);
    assert_int_equal(run("%s eval %s -n 3000 > %s", bin, run_dir, ev), 0);
    char *e = slurp(ev, NULL);
    static const char *const rows[] = {"x", "y", "z", "roll", "pitch", "yaw", "translation"};
    for (size_t k = 0; k < 7; k++) {
        char key[32];
        snprintf(key, sizeof key, "\n%s ", rows[k]);
        char *line = strstr(e, key);
        assert_non_null(line);
        line++;
        char unit[8];
        double rmse, p50, p95, mx;
        assert_int_equal(
            sscanf(line + strlen(rows[k]), " %7s %lf %lf %lf %lf", unit, &rmse, &p50, &p95, &mx),
            5);
        char row[256];
        snprintf(row, sizeof row, "| %s | %s | %.4f | %.4f | %.4f | %.4f |", rows[k], unit, rmse,
                 p50, p95, mx);
        assert_non_null(strstr(t, row));
    }
    free(e);
    free(t);
}

/* Every configuration key that --doc lists is in the man page, and every command. */
static void test_man_has_every_key(void **state)
{
    (void)state;
    char man[512], doc[512];
    snprintf(man, sizeof man, "%s/evotrain.1", tmp);
    snprintf(doc, sizeof doc, "%s/doc.txt", tmp);
    assert_int_equal(run("%s man > %s", bin, man), 0);
    assert_int_equal(run("%s config --doc > %s", bin, doc), 0);
    char *m = slurp(man, NULL), *d = slurp(doc, NULL);
    assert_non_null(strstr(m, ".TH EVOTRAIN 1"));
    int keys = 0;
    for (char *line = strtok(d, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] != '[')
            continue;
        /* "[section] key = default" or, in columns, "[section] key  type ..." */
        char entry[160], *eq = strstr(line, " = "), *rb = strchr(line, ']');
        size_t ll = strlen(line);
        if (!eq && ll > 2 && !strcmp(line + ll - 2, " ="))
            eq = line + ll - 2;
        assert_non_null(rb);
        if (eq) {
            snprintf(entry, sizeof entry, "%.*s\n", (int)(eq - line), line);
        } else {
            int n = snprintf(entry, sizeof entry, "%.*s ", (int)(rb + 1 - line), line);
            sscanf(rb + 1, " %100s", entry + n);
        }
        assert_non_null(strstr(m, entry));
        keys++;
    }
    assert_true(keys > 40);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char ss[64];
        snprintf(ss, sizeof ss, ".SS \\&%s\n", commands[i]);
        if (strcmp(commands[i], "man"))
            assert_non_null(strstr(m, ss));
    }
    assert_non_null(strstr(m, ".SH EXIT STATUS"));
    /* man(1) itself renders it without complaint, when it is installed. */
    if (run("command -v man >/dev/null 2>&1") == 0)
        assert_int_equal(run("MANWIDTH=80 man -l %s > /dev/null 2>&1", man), 0);
    free(m);
    free(d);
}

/* kernel -o: a new directory, sources that compile, idempotent, refusal of a
 * changed file unless --force. */
static void test_kernel(void **state)
{
    (void)state;
    char dir[512], c[600], h[600];
    snprintf(dir, sizeof dir, "%s/fw/lib/evonet", tmp);
    snprintf(c, sizeof c, "%s/evonet.c", dir);
    snprintf(h, sizeof h, "%s/evonet.h", dir);
    assert_int_equal(run("%s kernel -o %s -q", bin, dir), 0);
    assert_int_equal(run("cmp -s %s include/evonet.h && cmp -s %s src/kernel/evonet.c", h, c), 0);
    assert_int_equal(
        run("cc -std=c99 -Wall -Wextra -Werror -pedantic -c %s -o %s/evonet.o", c, dir), 0);
    assert_int_equal(run("%s kernel -o %s -q", bin, dir), 0);
    assert_int_equal(run("echo '/* local change */' >> %s", c), 0);
    assert_int_equal(run("%s kernel -o %s 2>/dev/null", bin, dir), 1);
    assert_int_equal(run("cmp -s %s src/kernel/evonet.c", c), 1);
    assert_int_equal(run("%s kernel -o %s --force -q", bin, dir), 0);
    assert_int_equal(run("cmp -s %s src/kernel/evonet.c", c), 0);
    /* A directory given with its slash names its files with one (issue 21). */
    char msg[600];
    snprintf(msg, sizeof msg, "%s/kernel.txt", tmp);
    assert_int_equal(run("%s kernel -o %s/fw2/ 2> %s", bin, tmp, msg), 0);
    char *t = slurp(msg, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "/fw2/evonet.h"));
    assert_null(strstr(t, "//"));
    free(t);
}

/* --resume of what is not a run says that, naming the directory, not a file
 * inside it (issue 21). */
static void test_resume_nothing(void **state)
{
    (void)state;
    char err[512];
    snprintf(err, sizeof err, "%s/resume.txt", tmp);
    assert_int_equal(run("%s --resume %s/no-such-run 2> %s", bin, tmp, err), 1);
    char *t = slurp(err, NULL);
    assert_non_null(strstr(t, "no-such-run: no run to resume there: no such directory"));
    assert_null(strstr(t, "config.ini"));
    free(t);
    assert_int_equal(run("mkdir -p %s/empty && %s --resume %s/empty 2> %s", tmp, bin, tmp, err), 1);
    t = slurp(err, NULL);
    assert_non_null(strstr(t, "empty: no run to resume there: no config.ini"));
    free(t);
}

/* After a run, one line says what to do next with this run: the export
 * command and the report, which work as given (issue 21). */
static void test_next_step(void **state)
{
    (void)state;
    char err[512];
    snprintf(err, sizeof err, "%s/next.txt", tmp);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name nx --max-generations 5 "
                         "2> %s",
                         bin, tmp, err),
                     0);
    char *t = slurp(err, NULL), want[1200];
    assert_non_null(t);
    snprintf(want, sizeof want,
             "evotrain: next: `evotrain export %s/nx -o %s/nx/nx_net.h --name nx_net` (the "
             "firmware header), `evotrain report %s/nx` (",
             tmp, tmp, tmp);
    assert_non_null(strstr(t, want));
    free(t);
    assert_int_equal(run("%s export %s/nx -o %s/nx/nx_net.h --name nx_net -q", bin, tmp, tmp), 0);
    assert_int_equal(run("grep -q 'nx_net_infer' %s/nx/nx_net.h", tmp), 0);
}

/* `dataset -o -` writes the CSV to stdout and no file named "-". */
static void test_dataset_to_stdout(void **state)
{
    (void)state;
    char *abin = realpath(bin, NULL);
    assert_non_null(abin);
    assert_int_equal(
        run("cd %s && %s dataset --config tiny/config.ini -n 3 -o - > ds.txt", tmp, abin), 0);
    free(abin);
    char p[600];
    snprintf(p, sizeof p, "%s/-", tmp);
    assert_int_equal(file_size(p), -1);
    snprintf(p, sizeof p, "%s/ds.txt", tmp);
    char *t = slurp(p, NULL);
    assert_non_null(t);
    assert_true(!strncmp(t, "s0_x,", 5));
    free(t);
}

/* The same run gives the same header however its directory is named
 * (issue 22, defect 8): absolute, with ./ or a trailing slash, relative from
 * its parent, or . from inside it; the header names the run by its name. */
static void test_export_path_forms(void **state)
{
    (void)state;
    char *abin = realpath(bin, NULL);
    assert_non_null(abin);
    /* What comes between tmp and "tiny", and after it. */
    const char *const pre[] = {"/", "/./", "/", "//"}, *const post[] = {"", "", "/", "//"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(run("%s export %s%stiny%s -o %s/form%zu.h --name n -q", abin, tmp, pre[i],
                             post[i], tmp, i),
                         0);
    assert_int_equal(run("cd %s && %s export ./tiny -o form4.h --name n -q", tmp, abin), 0);
    assert_int_equal(run("cd %s/tiny && %s export . -o ../form5.h --name n -q", tmp, abin), 0);
    for (size_t i = 1; i < 6; i++)
        assert_int_equal(run("cmp -s %s/form0.h %s/form%zu.h", tmp, tmp, i), 0);
    assert_int_equal(run("grep -q ' from run tiny (' %s/form0.h", tmp), 0);
    free(abin);
}

/* A build without MPI started as one of several MPI ranks stops first,
 * touching nothing, and says which build to use (issue 22, defect 10); a
 * world of one runs. The launchers' variables are set here, no mpirun. */
static void test_mpi_launch_refused(void **state)
{
    (void)state;
    static const char *const envs[] = {"OMPI_COMM_WORLD_SIZE=2", "PMI_SIZE=3", "PMIX_RANK=1",
                                       "OMPI_COMM_WORLD_RANK=1"};
    char err[600], out[600];
    snprintf(err, sizeof err, "%s/mpi.err", tmp);
    snprintf(out, sizeof out, "%s/mpi", tmp);
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        assert_int_equal(
            run("env %s %s --config tests/data/tiny.ini --out %s -q 2> %s", envs[i], bin, out, err),
            1);
        char *t = slurp(err, NULL);
        assert_non_null(t);
        assert_non_null(strstr(t, "evotrain: "));
        assert_non_null(strstr(t, "build with `make MPI=1` and run evotrain-mpi"));
        free(t);
        assert_true(file_size(out) < 0); /* nothing created */
    }
    assert_int_equal(run("env OMPI_COMM_WORLD_SIZE=1 PMI_SIZE=1 PMIX_RANK=0 %s --version "
                         ">/dev/null",
                         bin),
                     0);
}

/* Outputs that are not regular files (issue 22): a FIFO is written through,
 * not replaced; a symbolic link is followed and its target replaced, the
 * link staying a link; a dangling link and a directory are refused; "-" is
 * stdout. Each command that writes a file named by the user: export,
 * dataset, simulate. */
static void test_outputs_special_files(void **state)
{
    (void)state;
    char d[400];
    snprintf(d, sizeof d, "%s/special", tmp);
    assert_int_equal(run("rm -rf %s && mkdir %s && mkfifo %s/fifo && cut -d, -f1-6 "
                         "tests/data/pose_forward_dipole.csv | head -4 > %s/poses.csv",
                         d, d, d, d),
                     0);
    char pre[3][600];
    /* --force: export refuses to replace a file it did not write (the
     * link's target "old"); test_export_pkg checks that refusal. */
    snprintf(pre[0], sizeof pre[0], "%s export %s --force", bin, run_dir);
    snprintf(pre[1], sizeof pre[1], "%s dataset --config tests/data/tiny.ini -n 5", bin);
    snprintf(pre[2], sizeof pre[2], "%s simulate --config tests/data/tiny.ini --poses %s/poses.csv",
             bin, d);
    for (size_t i = 0; i < 3; i++) {
        char out[500], cmd[1200];
        /* FIFO: a reader gets the bytes, and the FIFO is still one. */
        snprintf(out, sizeof out, "%s/fifo", d);
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], out);
        assert_int_equal(
            run("cat %s/fifo > %s/read & %s; rc=$?; : 1<>%s/fifo; wait; exit $rc", d, d, cmd, d),
            0);
        assert_int_equal(run("test -p %s/fifo && test -s %s/read", d, d), 0);
        /* Symbolic link: the target replaced, the link kept. */
        assert_int_equal(run("echo old > %s/target && ln -sf target %s/link", d, d), 0);
        snprintf(out, sizeof out, "%s/link", d);
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], out);
        assert_int_equal(run("%s", cmd), 0);
        assert_int_equal(run("test -L %s/link && ! grep -q '^old$' %s/target", d, d), 0);
        assert_int_equal(run("cmp -s %s/link %s/target", d, d), 0);
        /* A dangling link and a directory: refused, nothing created. */
        assert_int_equal(run("ln -sf nowhere %s/dangling", d), 0);
        snprintf(out, sizeof out, "%s/dangling", d);
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], out);
        assert_int_equal(run("%s 2> %s/err", cmd, d), 1);
        assert_int_equal(run("grep -q 'symbolic link to nothing' %s/err", d), 0);
        assert_int_equal(run("test ! -e %s/nowhere", d), 0);
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], d);
        assert_int_equal(run("%s 2> %s/err", cmd, d), 1);
        assert_int_equal(run("grep -q 'is a directory' %s/err", d), 0);
        /* "-": stdout. */
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], "-");
        assert_int_equal(run("%s > %s/stdout && test -s %s/stdout && test ! -e -", cmd, d, d), 0);
        /* /dev/null stays a character device. */
        snprintf(cmd, sizeof cmd, "%s -o %s -q", pre[i], "/dev/null");
        assert_int_equal(run("%s", cmd), 0);
        assert_int_equal(run("test -c /dev/null"), 0);
        /* No temp file left beside any of them. */
        assert_int_equal(run("ls %s | grep -q '\\.tmp\\.'", d), 1);
    }
}

/* make install / uninstall into a temporary prefix, with this test build. */
static void test_install(void **state)
{
    (void)state;
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    /* A make started by the test must not talk to the make running the tests. */
    const char *mk = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory";
    assert_int_equal(run("%s install PREFIX=%s EVOTRAIN=%s >/dev/null", mk, prefix, bin), 0);
    static const char *const files[] = {"bin/evotrain",
                                        "share/man/man1/evotrain.1",
                                        "share/evotrain/evonet.h",
                                        "share/evotrain/evonet.c",
                                        "share/doc/evotrain/README.md",
                                        "share/doc/evotrain/configs/pose.ini",
                                        "share/doc/evotrain/configs/quick.ini",
                                        "share/doc/evotrain/examples/tilt/tilt.py",
                                        "share/doc/evotrain/examples/plugin/light2d.c"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", prefix, files[i]);
        assert_true(file_size(p) > 0);
    }
    assert_int_equal(run("%s/bin/evotrain --version > /dev/null", prefix), 0);
    assert_int_equal(run("%s uninstall PREFIX=%s EVOTRAIN=%s >/dev/null", mk, prefix, bin), 0);
    assert_int_equal(run("test -z \"$(find %s -type f)\"", prefix), 0);
    assert_int_equal(run("test ! -e %s/share/doc/evotrain", prefix), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_plot_without_gnuplot),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_man_has_every_key),
        cmocka_unit_test(test_kernel),
        cmocka_unit_test(test_resume_nothing),
        cmocka_unit_test(test_dataset_to_stdout),
        cmocka_unit_test(test_next_step),
        cmocka_unit_test(test_export_path_forms),
        cmocka_unit_test(test_mpi_launch_refused),
        cmocka_unit_test(test_install),
        cmocka_unit_test(test_outputs_special_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
