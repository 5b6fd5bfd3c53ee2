/* test_cmd_sim: `evotrain simulate` and `evotrain dataset` end to end, in
 * process (under the sanitizers) and once through the real binary ($ET_BIN). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <omp.h>

#include "commands.h"
#include "util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/et_test_cmd_sim.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_in(const char *name)
{
    static char bufs[8][160];
    static int k;
    char *p = bufs[k++ % 8];
    snprintf(p, 160, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return s;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A copy of configs/pose.ini with one textual replacement (NULL: none). */
static const char *config_with(const char *name, const char *from, const char *to)
{
    char *text = slurp("configs/pose.ini", NULL);
    assert_non_null(text);
    char *out = malloc(strlen(text) + (to ? strlen(to) : 0) + 1);
    assert_non_null(out);
    char *at = from ? strstr(text, from) : NULL;
    if (from)
        assert_non_null(at);
    if (at)
        sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    else
        strcpy(out, text);
    const char *path = path_in(name);
    write_file(path, out);
    free(text);
    free(out);
    return path;
}

/* Run a command with argv given as a NULL-terminated list; stderr captured. */
static int run(int (*cmd)(int, char **), char **err, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 31)
        argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stderr);
    fflush(stdout);
    int saved = dup(2), saved_out = dup(1);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    dup2(fileno(tmp), 1);
    int rc = cmd(argc, argv);
    fflush(stderr);
    fflush(stdout);
    dup2(saved, 2);
    dup2(saved_out, 1);
    close(saved);
    close(saved_out);
    long n = ftell(tmp);
    char *s = calloc(1, (size_t)n + 1);
    rewind(tmp);
    assert_int_equal(fread(s, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    if (err)
        *err = s;
    else
        free(s);
    return rc;
}

/* No file of the temp dir has ".tmp." in its name (no half-written output). */
static void assert_no_temp_files(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            fail_msg("leftover temp file %s", e->d_name);
    closedir(d);
}

/* The pose columns of a golden file as a poses CSV. */
static const char *golden_poses(const char *golden, const char *name)
{
    FILE *in = fopen(golden, "r");
    assert_non_null(in);
    const char *path = path_in(name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    char line[8192];
    while (fgets(line, sizeof line, in)) {
        char *s = line;
        for (int c = 0; c < 6; c++)
            s = strchr(s, ',') + 1;
        fprintf(out, "%.*s\n", (int)(s - line - 1), line);
    }
    fclose(in);
    fclose(out);
    return path;
}

/* Compare simulate's output with the golden file: same header, same poses,
 * fields within 1e-9 mT. */
static void check_fields(const char *out, const char *golden)
{
    FILE *a = fopen(out, "r"), *b = fopen(golden, "r");
    assert_non_null(a);
    assert_non_null(b);
    char la[8192], lb[8192];
    assert_non_null(fgets(la, sizeof la, a));
    assert_non_null(fgets(lb, sizeof lb, b));
    assert_string_equal(la, lb);
    int rows = 0;
    while (fgets(lb, sizeof lb, b)) {
        assert_non_null(fgets(la, sizeof la, a));
        char *pa = la, *pb = lb;
        for (int c = 0; c < 24; c++) {
            double va = strtod(pa, &pa), vb = strtod(pb, &pb);
            pa++, pb++;
            if (c < 6)
                assert_true(va == vb);
            else if (fabs(va - vb) > 1e-9)
                fail_msg("%s row %d col %d: %.17g vs %.17g", out, rows + 2, c, va, vb);
        }
        rows++;
    }
    assert_null(fgets(la, sizeof la, a));
    assert_int_equal(rows, 300);
    fclose(a);
    fclose(b);
}

static void test_simulate_golden(void **state)
{
    (void)state;
    const char *poses = golden_poses("tests/data/pose_forward_cuboid.csv", "poses.csv");
    const char *out = path_in("fields.csv");
    assert_int_equal(run(cmd_simulate, NULL, "simulate", "--config", "configs/pose.ini", "--poses",
                         poses, "-o", out, (const char *)NULL),
                     0);
    check_fields(out, "tests/data/pose_forward_cuboid.csv");
    const char *dip =
        config_with("dipole.ini", "[magnets]\nmodel = cuboid", "[magnets]\nmodel = dipole");
    assert_int_equal(run(cmd_simulate, NULL, "simulate", "--config", dip, "--poses", poses, "-o",
                         out, (const char *)NULL),
                     0);
    check_fields(out, "tests/data/pose_forward_dipole.csv");
    assert_no_temp_files();
}

/* --counts writes a dataset; noise-free counts are the rounded fields. */
static void test_simulate_counts(void **state)
{
    (void)state;
    const char *poses = golden_poses("tests/data/pose_forward_cuboid.csv", "poses.csv");
    const char *out = path_in("counts.csv");
    assert_int_equal(run(cmd_simulate, NULL, "simulate", "--config=configs/pose.ini", "--poses",
                         poses, "-o", out, "--counts", "--no-noise", (const char *)NULL),
                     0);
    FILE *a = fopen(out, "r"), *b = fopen("tests/data/pose_forward_cuboid.csv", "r");
    char la[8192], lb[8192];
    assert_non_null(fgets(la, sizeof la, a));
    assert_true(strncmp(la, "s0_x,s0_y,s0_z,s1_x,", 20) == 0);
    assert_non_null(strstr(la, ",s5_z,x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg\n"));
    assert_non_null(fgets(lb, sizeof lb, b));
    while (fgets(lb, sizeof lb, b)) {
        assert_non_null(fgets(la, sizeof la, a));
        char *pa = la, *pb = lb;
        double gold[24];
        for (int c = 0; c < 24; c++)
            gold[c] = strtod(pb, &pb), pb++;
        for (int c = 0; c < 18; c++) {
            long v = strtol(pa, &pa, 10);
            assert_int_equal(*pa, ',');
            pa++;
            assert_int_equal(v, lround(gold[6 + c] / 0.098));
        }
        for (int c = 0; c < 6; c++) {
            double v = strtod(pa, &pa);
            pa++;
            assert_true(fabs(v - gold[c]) <= 5e-7);
        }
    }
    fclose(a);
    fclose(b);
    /* Noisy counts differ, and are reproducible by seed. */
    const char *n1 = path_in("n1.csv"), *n2 = path_in("n2.csv");
    assert_int_equal(run(cmd_simulate, NULL, "simulate", "--config", "configs/pose.ini", "--poses",
                         poses, "-o", n1, "--counts", "--seed", "7", (const char *)NULL),
                     0);
    assert_int_equal(run(cmd_simulate, NULL, "simulate", "--config", "configs/pose.ini", "--poses",
                         poses, "-o", n2, "--counts", "--seed=7", (const char *)NULL),
                     0);
    char *t0 = slurp(out, NULL), *t1 = slurp(n1, NULL), *t2 = slurp(n2, NULL);
    assert_string_equal(t1, t2);
    assert_true(strcmp(t0, t1) != 0);
    free(t0), free(t1), free(t2);
}

static void test_dataset_deterministic(void **state)
{
    (void)state;
    const char *a = path_in("a.csv"), *b = path_in("b.csv"), *c = path_in("c.csv");
    omp_set_num_threads(1);
    assert_int_equal(run(cmd_dataset, NULL, "dataset", "--config", "configs/pose.ini", "-n", "3000",
                         "-o", a, "--seed", "11", (const char *)NULL),
                     0);
    omp_set_num_threads(2);
    assert_int_equal(run(cmd_dataset, NULL, "dataset", "--config", "configs/pose.ini", "-n", "3000",
                         "-o", b, "--seed", "11", (const char *)NULL),
                     0);
    size_t la, lb, lc;
    char *ta = slurp(a, &la), *tb = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    /* A smaller N gives the first rows of the larger one. */
    assert_int_equal(run(cmd_dataset, NULL, "dataset", "--config", "configs/pose.ini", "-n", "100",
                         "-o", c, "--seed", "11", (const char *)NULL),
                     0);
    char *tc = slurp(c, &lc);
    assert_memory_equal(ta, tc, lc);
    /* 3001 lines: the header and one row per sample. */
    size_t lines = 0;
    for (size_t i = 0; i < la; i++)
        lines += ta[i] == '\n';
    assert_int_equal(lines, 3001);
    free(tc);
    /* Another seed, another file; --no-noise too. */
    assert_int_equal(run(cmd_dataset, NULL, "dataset", "--config", "configs/pose.ini", "-n", "3000",
                         "-o", c, "--seed", "12", (const char *)NULL),
                     0);
    tc = slurp(c, &lc);
    assert_true(lc != la || memcmp(ta, tc, la) != 0);
    free(tc);
    assert_int_equal(run(cmd_dataset, NULL, "dataset", "--config", "configs/pose.ini", "-n", "3000",
                         "-o", c, "--seed", "11", "--no-noise", (const char *)NULL),
                     0);
    tc = slurp(c, &lc);
    assert_true(lc != la || memcmp(ta, tc, la) != 0);
    free(ta), free(tb), free(tc);
    assert_no_temp_files();
}

/* Each bad input: exit 1, "evotrain: FILE:LINE: message", and the old
 * output file (if any) untouched. */
static void expect_input_error(const char *poses_text, const char *config, const char *msg)
{
    const char *poses = path_in("bad_poses.csv");
    const char *out = path_in("keep.csv");
    write_file(out, "keep\n");
    if (poses_text)
        write_file(poses, poses_text);
    char *err;
    int rc = run(cmd_simulate, &err, "simulate", "--config", config, "--poses",
                 poses_text ? poses : path_in("missing.csv"), "-o", out, (const char *)NULL);
    if (rc != 1 || !strstr(err, msg))
        fail_msg("rc %d, expected '%s', got '%s'", rc, msg, err);
    free(err);
    char *kept = slurp(out, NULL);
    assert_string_equal(kept, "keep\n");
    free(kept);
    assert_no_temp_files();
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *h = "x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg\n";
    char text[512], msg[256];
    const char *cfg = "configs/pose.ini";
    snprintf(msg, sizeof msg, "evotrain: %s: cannot open", path_in("missing.csv"));
    expect_input_error(NULL, cfg, msg);
    snprintf(text, sizeof text, "%s0,0,0,0,0,0\n1,2,3,4,5\n", h);
    snprintf(msg, sizeof msg, "evotrain: %s:3: row has 5 columns, expected 6",
             path_in("bad_poses.csv"));
    expect_input_error(text, cfg, msg);
    snprintf(text, sizeof text, "%s0,0,zero,0,0,0\n", h);
    expect_input_error(text, cfg, ":2: column z_mm: 'zero' is not a finite number");
    snprintf(text, sizeof text, "%s0,0,0,NaN,0,0\n", h);
    expect_input_error(text, cfg, ":2: column roll_deg: 'NaN' is not a finite number");
    snprintf(text, sizeof text, "x,y,z,roll,pitch,yaw\n0,0,0,0,0,0\n");
    expect_input_error(text, cfg, ":1: header column 1 is 'x', expected 'x_mm'");
    expect_input_error(h, cfg, "no poses");
    /* Magnet A's centre onto sensor 0: the field there is not physics. */
    snprintf(text, sizeof text, "%s0,0,0,0,0,0\n10,0,-12,0,0,0\n", h);
    expect_input_error(text, cfg, ":3: sensor 0 is inside magnet A at this pose");
    /* The config's own errors carry its file and line. */
    snprintf(text, sizeof text, "%s0,0,0,0,0,0\n", h);
    const char *zero = config_with("zero.ini", "dim_mm         = 6 3 3", "dim_mm = 6 0 3");
    snprintf(msg, sizeof msg, "evotrain: %s:", zero);
    expect_input_error(text, zero, msg);
    expect_input_error(text, zero, "dim_mm: 0 is out of range");
    const char *typo = config_with("typo.ini", "noise_mT  = 0.1", "noise_mt = 0.1");
    expect_input_error(text, typo, "noise_mt");
    const char *nopos = config_with("nopos.ini", "position_mm = -16 0 -12", "axes = xy");
    expect_input_error(text, nopos, "[sensor 3] needs position_mm");
}

static void test_usage(void **state)
{
    (void)state;
    char *err;
    const char *o = path_in("u.csv");
    assert_int_equal(run(cmd_dataset, &err, "dataset", "-n", "5", "-o", o, (const char *)NULL),
                     ET_EXIT_USAGE);
    assert_non_null(strstr(err, "--config FILE is required"));
    free(err);
    assert_int_equal(run(cmd_dataset, &err, "dataset", "--config", "configs/pose.ini", "-n", "0",
                         "-o", o, (const char *)NULL),
                     ET_EXIT_USAGE);
    free(err);
    assert_int_equal(run(cmd_dataset, &err, "dataset", "--config", "configs/pose.ini", "-n", "5",
                         "-o", o, "--seed", "-1", (const char *)NULL),
                     ET_EXIT_USAGE);
    free(err);
    assert_int_equal(run(cmd_dataset, &err, "dataset", "--config", "configs/pose.ini", "-n", "5",
                         "-o", o, "--bogus", (const char *)NULL),
                     ET_EXIT_USAGE);
    assert_non_null(strstr(err, "unknown option '--bogus'"));
    free(err);
    assert_int_equal(run(cmd_simulate, &err, "simulate", "--config", "configs/pose.ini", "-o", o,
                         (const char *)NULL),
                     ET_EXIT_USAGE);
    assert_non_null(strstr(err, "--poses FILE is required"));
    free(err);
    assert_int_equal(run(cmd_simulate, &err, "simulate", "--config", (const char *)NULL),
                     ET_EXIT_USAGE);
    free(err);
    assert_int_equal(run(cmd_simulate, &err, "simulate", "--help", (const char *)NULL), 0);
    assert_non_null(strstr(err, "usage: evotrain simulate"));
    free(err);
    assert_int_equal(run(cmd_dataset, &err, "dataset", "-h", (const char *)NULL), 0);
    assert_non_null(strstr(err, "usage: evotrain dataset"));
    free(err);
    assert_null(slurp(o, NULL));
}

/* Through the real binary: exit codes and thread-count independence. */
static void test_cli(void **state)
{
    (void)state;
    const char *bin = getenv("ET_BIN");
    if (!bin || access(bin, X_OK) != 0)
        skip();
    char cmd[1024];
    const char *a = path_in("cli1.csv"), *b = path_in("cli2.csv");
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 %s dataset --config configs/pose.ini -n 2000 -o %s && "
             "OMP_NUM_THREADS=2 %s dataset --config configs/pose.ini -n 2000 -o %s && "
             "cmp -s %s %s",
             bin, a, bin, b, a, b);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s simulate --config configs/pose.ini --poses %s -o %s 2>/dev/null",
             bin, path_in("nope.csv"), path_in("cli3.csv"));
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    snprintf(cmd, sizeof cmd, "%s dataset --config configs/pose.ini 2>/dev/null", bin);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    assert_null(slurp(path_in("cli3.csv"), NULL));
    /* Interrupted: exit 130, neither the output nor its temp file left. */
    snprintf(cmd, sizeof cmd,
             "timeout --preserve-status -s TERM 0.5 %s dataset --config configs/pose.ini "
             "-n 100000000 -o %s 2>/dev/null",
             bin, path_in("cli4.csv"));
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 130);
    assert_null(slurp(path_in("cli4.csv"), NULL));
    assert_no_temp_files();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simulate_golden),
        cmocka_unit_test(test_simulate_counts),
        cmocka_unit_test(test_dataset_deterministic),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
