/* test_csv: the strict CSV reader and the dataset format, every refusal once. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>

#include "csv.h"
#include "sim.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/et_test_csv.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write text to a file in the temp dir; returns its path (static buffer). */
static const char *file_with(const char *name, const char *text, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* Run fn with stderr captured; returns what it wrote (caller frees). */
static char *stderr_of(int (*fn)(const void *), const void *arg, int *rc)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    *rc = fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(tmp);
    char *s = calloc(1, (size_t)n + 1);
    rewind(tmp);
    assert_int_equal(fread(s, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return s;
}

static const char *const names3[] = {"a", "b", "c"};

/* Read a whole 3-column file: rows read, or -1. */
static int read_all(const void *path)
{
    et_csv *c = et_csv_open(path, names3, 3);
    if (!c)
        return -1;
    double row[3];
    int rc, n = 0;
    while ((rc = et_csv_read(c, row)) == 1)
        n++;
    et_csv_close(c);
    return rc < 0 ? -1 : n;
}

/* The file's rows must be refused with this message at this line. */
static void expect_error(const char *text, const char *msg, long line)
{
    const char *path = file_with("bad.csv", text, strlen(text));
    int rc;
    char *err = stderr_of(read_all, path, &rc);
    assert_int_equal(rc, -1);
    char want[512];
    if (line)
        snprintf(want, sizeof want, "evotrain: %s:%ld: %s", path, line, msg);
    else
        snprintf(want, sizeof want, "evotrain: %s: %s", path, msg);
    if (!strstr(err, want))
        fail_msg("expected '%s', got '%s'", want, err);
    free(err);
}

static void test_csv_good(void **state)
{
    (void)state;
    const char *t = "a,b,c\n1,2,3\n -4.5 ,\t5e-3,6\r\n7,8,1e-310";
    const char *path = file_with("good.csv", t, strlen(t));
    et_csv *c = et_csv_open(path, names3, 3);
    assert_non_null(c);
    double row[3];
    assert_int_equal(et_csv_read(c, row), 1);
    assert_true(row[0] == 1 && row[2] == 3);
    assert_int_equal(et_csv_read(c, row), 1);
    assert_true(row[0] == -4.5 && row[1] == 5e-3 && row[2] == 6);
    assert_int_equal(et_csv_line(c), 3);
    assert_int_equal(et_csv_read(c, row), 1); /* last line without a newline */
    assert_true(row[0] == 7 && row[2] > 0 && row[2] < 1e-300);
    assert_int_equal(et_csv_read(c, row), 0);
    et_csv_close(c);
}

static void test_csv_refusals(void **state)
{
    (void)state;
    expect_error("a,b,c\n1,2,3\n1,2\n", "row has 2 columns, expected 3", 3);
    expect_error("a,b,c\n1,2,3,4\n", "row has 4 columns, expected 3", 2);
    expect_error("a,b,c\n1,x,3\n", "column b: 'x' is not a finite number", 2);
    expect_error("a,b,c\n1,nan,3\n", "column b: 'nan' is not a finite number", 2);
    expect_error("a,b,c\n1,2,inf\n", "column c: 'inf' is not a finite number", 2);
    expect_error("a,b,c\n1,2,1e999\n", "column c: '1e999' is not a finite number", 2);
    expect_error("a,b,c\n1,2,0x\n", "column c: '0x' is not a finite number", 2);
    expect_error("a,b,c\n1,,3\n", "column b is empty", 2);
    expect_error("a,b,c\n1,2,3\n\n4,5,6\n", "empty line", 3);
    expect_error("a,b,c\n1,2,3 4\n", "column c: '3 4' is not a finite number", 2);
    expect_error("a,b\n1,2\n", "header has 2 columns, expected 3", 1);
    expect_error("a,x,c\n1,2,3\n", "header column 2 is 'x', expected 'b'", 1);
    expect_error("", "empty file", 0);
    const char nul[] = "a,b,c\n1,2\0,3\n";
    const char *path = file_with("nul.csv", nul, sizeof nul - 1);
    int rc;
    char *err = stderr_of(read_all, path, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, ":2: NUL byte"));
    free(err);
    err = stderr_of(read_all, "/nonexistent/x.csv", &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "evotrain: /nonexistent/x.csv: cannot open"));
    free(err);
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    char err[256];
    return sim_config_set(user, section, key, value, 0, err, sizeof err) == 1;
}

static struct sim_scenario *default_scenario(void)
{
    struct sim_scenario *sc = sim_scenario_alloc();
    char err[256];
    long line;
    assert_int_equal(ini_parse_string(sim_default_scenario_ini, handler, sc), 0);
    assert_int_equal(sim_config_finish(sc, err, sizeof err, &line), 0);
    return sc;
}

static struct sim_scenario *g_sc;

static int read_dataset(const void *path)
{
    et_dataset ds;
    if (et_dataset_read(path, g_sc, 1, &ds) != 0)
        return -1;
    int n = (int)ds.n;
    et_dataset_free(&ds);
    return n;
}

static void test_dataset_roundtrip(void **state)
{
    (void)state;
    struct sim_scenario *sc = default_scenario();
    g_sc = sc;
    const size_t n = 500;
    int16_t counts[500 * 18];
    double pose[500 * 6];
    sim_sample(sc, 9, 0, n, 1, counts, pose);
    pose[0] = -1e-9; /* printed as 0.000000, not -0.000000 */
    char path[128];
    snprintf(path, sizeof path, "%s/ds.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(et_dataset_write(f, sc, counts, pose, n, 1), 0);
    fclose(f);
    f = fopen(path, "r");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "s0_x,s0_y,s0_z,s1_x,s1_y,s1_z,s2_x,s2_y,s2_z,s3_x,s3_y,s3_z,"
                              "s4_x,s4_y,s4_z,s5_x,s5_y,s5_z,x_mm,y_mm,z_mm,roll_deg,"
                              "pitch_deg,yaw_deg\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",0.000000,"));
    fclose(f);
    et_dataset ds;
    assert_int_equal(et_dataset_read(path, sc, 1, &ds), 0);
    assert_int_equal(ds.n, n);
    assert_int_equal(ds.n_readings, 18);
    assert_memory_equal(ds.counts, counts, sizeof counts);
    for (size_t i = 0; i < n * 6; i++)
        assert_true(fabs(ds.pose[i] - pose[i]) <= 5e-7);
    et_dataset_free(&ds);
    sim_scenario_free(sc);
}

static void expect_dataset_error(const char *row, const char *msg)
{
    char text[2048];
    snprintf(text, sizeof text,
             "s0_x,s0_y,s0_z,s1_x,s1_y,s1_z,s2_x,s2_y,s2_z,s3_x,s3_y,s3_z,"
             "s4_x,s4_y,s4_z,s5_x,s5_y,s5_z,x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg\n%s",
             row);
    const char *path = file_with("bad_ds.csv", text, strlen(text));
    int rc;
    char *err = stderr_of(read_dataset, path, &rc);
    assert_int_equal(rc, -1);
    if (!strstr(err, msg))
        fail_msg("expected '%s', got '%s'", msg, err);
    free(err);
}

static void test_dataset_refusals(void **state)
{
    (void)state;
    g_sc = default_scenario();
    const char *ok = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,";
    char row[512];
    snprintf(row, sizeof row, "%s0,0,0,0,0,0\n", ok);
    expect_dataset_error("", "no data rows");
    snprintf(row, sizeof row, "1.5,%s0,0,0,0,0,0\n", ok + 2);
    expect_dataset_error(row, ":2: column s0_x: 1.5 is not an integer count");
    snprintf(row, sizeof row, "40000,%s0,0,0,0,0,0\n", ok + 2);
    expect_dataset_error(row, "column s0_x: 40000 is not an integer count");
    snprintf(row, sizeof row, "%s5.5,0,0,0,0,0\n", ok);
    expect_dataset_error(row, ":2: column x_mm: 5.5 is outside the config's [pose] range");
    snprintf(row, sizeof row, "%s0,0,0,0,0,-20.1\n", ok);
    expect_dataset_error(row, "column yaw_deg: -20.1 is outside");
    /* Within the file's precision of the box edge is inside. */
    snprintf(row, sizeof row, "%s5.0000005,0,0,0,0,0\n", ok);
    et_dataset ds;
    char text[2048];
    snprintf(text, sizeof text,
             "s0_x,s0_y,s0_z,s1_x,s1_y,s1_z,s2_x,s2_y,s2_z,s3_x,s3_y,s3_z,"
             "s4_x,s4_y,s4_z,s5_x,s5_y,s5_z,x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg\n%s",
             row);
    const char *path = file_with("edge.csv", text, strlen(text));
    assert_int_equal(et_dataset_read(path, g_sc, 1, &ds), 0);
    assert_int_equal(ds.n, 1);
    et_dataset_free(&ds);
    sim_scenario_free(g_sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_refusals),
        cmocka_unit_test(test_dataset_roundtrip),
        cmocka_unit_test(test_dataset_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
