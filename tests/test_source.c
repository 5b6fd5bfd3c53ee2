/* test_source: the data sources of src/data/source.h. The magnet simulator
 * through the plugin interface (the same bits as sim_sample), the example
 * plugin and misbehaving ones, the command backend with the Python tilt
 * example (1, 2, 4 workers: the same bits) and with misbehaving programs,
 * and the csv backend's refusals. Each refusal's message is checked.
 *
 * ET_BENCH=1 also prints figures as "name: value" lines (csv load and
 * command fill rates); build without sanitizers for real numbers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>
#include <zlib.h>

#include "evotrain_sim.h"
#include "sim.h"
#include "source.h"
#include "testutil.h"
#include "util.h"

static char dir[64];
static char plugin[160]; /* the example plugin, built by setup */
static const char *py;   /* a python3 with numpy, or NULL (tilt tests skip) */
static char captured[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/et_test_source.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(plugin, sizeof plugin, "%s/light2d.so", dir);
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd) ||
        run("make -s -C sim/examples/plugin EVOTRAIN_INC=%s/include OUT=%s", cwd, dir) != 0)
        return -1;
    /* PATH's python3 may be a private one without numpy; Debian's has it. */
    static const char *const pys[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < 2 && !py; i++)
        if (run("%s -c 'import numpy' 2>/dev/null", pys[i]) == 0)
            py = pys[i];
    if (!py)
        fprintf(stderr, "test_source: no python3 with numpy; the tilt tests are skipped\n");
    et_error_capture = captured;
    et_error_capture_size = sizeof captured;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    et_error_capture = NULL;
    return run("rm -rf '%s'", dir) == 0 ? 0 : -1;
}

static const char *path_in_dir(const char *name)
{
    static char p[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static const char *write_file(const char *name, const char *text, int exec)
{
    const char *p = path_in_dir(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    if (exec)
        chmod(p, 0755);
    return p;
}

/* The message must contain each of the fragments (NULL-terminated). */
static void expect_msg(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    for (const char *f = first; f; f = va_arg(ap, const char *))
        if (!strstr(captured, f)) {
            fprintf(stderr, "expected '%s' in: %s\n", f, captured);
            fail();
        }
    va_end(ap);
}

/* No child process of ours is left, running or unreaped. */
static void expect_no_children(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* A source that must open (the message shown if not). */
static et_source *must_open(const et_source_desc *d)
{
    captured[0] = '\0';
    et_source *s = et_source_open(d);
    if (!s)
        fprintf(stderr, "open failed: %s\n", captured);
    assert_non_null(s);
    return s;
}

/* Process pid has ended (gone, or a zombie for init to reap) within 2 s. */
static void expect_gone(int pid)
{
    for (int i = 0; i < 200; i++) {
        char path[64], *st;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        if (!(st = slurp(path, NULL)))
            return;
        char *close_paren = strrchr(st, ')');
        int zombie = close_paren && close_paren[2] == 'Z';
        free(st);
        if (zombie)
            return;
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    fail_msg("process %d is still running", pid);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- the magnet simulator through the interface -------------------------- */

static int on_default(void *user, const char *section, const char *key, const char *value)
{
    char err[256];
    return sim_config_set(user, section, key, value, 0, err, sizeof err) == 1;
}

static void test_magnet_bits(void **state)
{
    (void)state;
    struct sim_scenario *sc = sim_scenario_alloc();
    char err[256];
    long line;
    assert_int_equal(ini_parse_string(sim_default_scenario_ini, on_default, sc), 0);
    assert_int_equal(sim_config_finish(sc, err, sizeof err, &line), 0);
    size_t nr = sim_n_readings(sc), n = 5000;
    int16_t *c0 = malloc(n * nr * sizeof *c0), *c1 = malloc(n * nr * sizeof *c1);
    double *p0 = malloc(n * 6 * sizeof *p0), *p1 = malloc(n * 6 * sizeof *p1);
    sim_sample(sc, 7, 1000, n, 1, c0, p0);

    /* the default scenario, and configs/pose.ini named as the scenario file
     * (its trainer sections skipped): the same scenario, the same bits */
    const char *keys[] = {"scenario"}, *vals[] = {"configs/pose.ini"};
    for (int k = 0; k < 2; k++) {
        et_source_desc d = {
            .kind = ET_SOURCE_SIM, .keys = keys, .values = vals, .n_keys = (size_t)k};
        et_source *s = must_open(&d);
        assert_int_equal(et_source_n_inputs(s), nr);
        assert_int_equal(et_source_n_targets(s), 6);
        assert_string_equal(et_source_input(s, 0)->name, "s0_x");
        assert_string_equal(et_source_input(s, 0)->unit, "counts");
        assert_string_equal(et_source_target(s, 5)->name, "yaw_deg");
        assert_string_equal(et_source_target(s, 0)->unit, "mm");
        assert_true(et_source_size(s) == UINT64_MAX);
        memset(c1, 0, n * nr * sizeof *c1);
        /* in two uneven pieces: chunking changes nothing */
        assert_int_equal(et_source_fill(s, 7, 1000, 1234, c1, p1), 0);
        assert_int_equal(et_source_fill(s, 7, 2234, n - 1234, c1 + 1234 * nr, p1 + 1234 * 6), 0);
        assert_memory_equal(c0, c1, n * nr * sizeof *c0);
        assert_memory_equal(p0, p1, n * 6 * sizeof *p0);
        assert_non_null(strstr(et_source_identity(s), "sim magnet-sim 1 scenario="));
        et_source_close(s);
    }

    /* its create() refusals */
    const char *bad_keys[] = {"noise"}, *bad_vals[] = {"2"};
    et_source_desc d = {.kind = ET_SOURCE_SIM, .keys = bad_keys, .values = bad_vals, .n_keys = 1};
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg("magnet simulator: create failed: noise: '2' is not 0 or 1", NULL);
    const char *scen =
        write_file("bad.ini", "[train]\nwhatever = 1\n[sensor s0]\nposition = 1\n", 0);
    bad_keys[0] = "scenario";
    bad_vals[0] = scen;
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg("create failed: ", "bad.ini:4: unknown key 'position' in [sensor s0]", NULL);
    free(c0);
    free(c1);
    free(p0);
    free(p1);
    sim_scenario_free(sc);
}

/* ---- plugins ------------------------------------------------------------------ */

static void test_plugin_example(void **state)
{
    (void)state;
    const char *keys[] = {"side_mm"}, *vals[] = {"80"};
    et_source_desc d = {
        .kind = ET_SOURCE_PLUGIN, .path = plugin, .keys = keys, .values = vals, .n_keys = 1};
    et_source *s = must_open(&d);
    assert_int_equal(et_source_n_inputs(s), 4);
    assert_int_equal(et_source_n_targets(s), 2);
    assert_string_equal(et_source_input(s, 3)->name, "l3");
    assert_string_equal(et_source_target(s, 1)->name, "y");
    assert_string_equal(et_source_target(s, 1)->unit, "mm");
    enum { N = 20000 };
    static int16_t X0[N * 4], X1[N * 4];
    static double T0[N * 2], T1[N * 2];
    assert_int_equal(et_source_fill(s, 11, 5, N, X0, T0), 0); /* split across threads */
    for (size_t i = 0; i < N; i += 999) {
        size_t m = N - i < 999 ? N - i : 999;
        assert_int_equal(et_source_fill(s, 11, 5 + i, m, X1 + 4 * i, T1 + 2 * i), 0);
    }
    assert_memory_equal(X0, X1, sizeof X0);
    assert_memory_equal(T0, T1, sizeof T0);
    for (size_t i = 0; i < N * 2; i++)
        assert_true(fabs(T0[i]) <= 40);
    const char *id = et_source_identity(s);
    assert_non_null(strstr(id, "plugin "));
    assert_non_null(strstr(id, "light2d 1 side=80 "));
    et_source_close(s);

    vals[0] = "abc";
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg("light2d.so: create failed: side_mm: 'abc' is not a number", NULL);
}

/* A plugin that misbehaves as BAD says (built by the test). */
static const char bad_plugin_src[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include \"evotrain_sim.h\"\n"
    "struct evotrain_sim { int x; };\n"
    "static evotrain_sim *create(const char *const *k, const char *const *v, size_t n,\n"
    "    char *err, size_t len) { (void)k; (void)v; (void)n; (void)err; (void)len;\n"
    "  if (BAD == 1)\n    return NULL;\n  return calloc(1, sizeof(evotrain_sim)); }\n"
    "static size_t nin(const evotrain_sim *s) { (void)s; return BAD == 2 ? 0 : 2; }\n"
    "static size_t nout(const evotrain_sim *s) { (void)s; return 1; }\n"
    "static const char *iname(const evotrain_sim *s, size_t i) { (void)s;\n"
    "  return BAD == 7 ? \"a\" : i ? \"b\" : \"a\"; }\n"
    "static const char *oname(const evotrain_sim *s, size_t i) { (void)s; (void)i; return \"t\"; "
    "}\n"
    "static const char *unit(const evotrain_sim *s, size_t i) { (void)s; (void)i; return \"\"; }\n"
    "static int fill(const evotrain_sim *s, uint64_t seed, uint64_t first, size_t n,\n"
    "    int16_t *x, double *t, char *err, size_t len) { (void)s; (void)seed;\n"
    "  if (BAD == 4) { snprintf(err, len, \"the model diverged\"); return 1; }\n"
    "  for (size_t i = 0; i < n; i++) { x[2*i] = x[2*i+1] = 0;\n"
    "    t[i] = BAD == 3 && first + i == 4321 ? NAN : 1.0; } return 0; }\n"
    "static const char *ver(const evotrain_sim *s) { (void)s; return \"bad 1\"; }\n"
    "static void destroy(evotrain_sim *s) { free(s); }\n"
    "static const evotrain_sim_api api = { BAD == 5 ? 99 : EVOTRAIN_SIM_ABI_VERSION,\n"
    "  sizeof api, \"bad\", create, nin, nout, iname, unit, oname, unit, fill, ver,\n"
    "  BAD == 6 ? NULL : destroy };\n"
    "#if BAD != 8\n"
    "EVOTRAIN_SIM_EXPORT const evotrain_sim_api *evotrain_sim_entry(void) { return &api; }\n"
    "#else\n"
    "const evotrain_sim_api *other(void); const evotrain_sim_api *other(void) { return &api; }\n"
    "#endif\n";

static void test_plugin_refusals(void **state)
{
    (void)state;
    char src[160];
    snprintf(src, sizeof src, "%s", write_file("bad.c", bad_plugin_src, 0));
    static const struct {
        int bad;
        const char *msg;
    } cases[] = {
        {1, "create failed: (it returned NULL without a message)"},
        {2, "reports 0 inputs and 1 outputs (1 to 255 inputs, 1 to 64 outputs)"},
        {3, "sample 4321 (seed 1): target t is nan, not a finite number"},
        {4, "fill(seed 1, first 0, count 4096) failed: the model diverged"},
        {5, "plugin interface version 99, this evotrain speaks 1"},
        {6, "plugin table member destroy is NULL"},
        {7, "input 1: name 'a' is also input 0"},
        {8, "not an evotrain plugin: no symbol evotrain_sim_entry ("},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char so[32];
        snprintf(so, sizeof so, "bad%d.so", cases[k].bad);
        const char *lib = path_in_dir(so);
        assert_int_equal(run("cc -std=c11 -Wall -Werror -fPIC -shared -DBAD=%d -Iinclude -o %s %s",
                             cases[k].bad, lib, src),
                         0);
        et_source_desc d = {.kind = ET_SOURCE_PLUGIN, .path = lib};
        captured[0] = '\0';
        et_source *s = et_source_open(&d);
        if (s) { /* the fill misbehaves */
            int16_t *X = malloc(10000 * 2 * sizeof *X);
            double *T = malloc(10000 * sizeof *T);
            assert_int_equal(et_source_fill(s, 1, 0, 10000, X, T), -1);
            free(X);
            free(T);
            et_source_close(s);
        }
        expect_msg(lib, cases[k].msg, NULL);
    }
    et_source_desc d = {.kind = ET_SOURCE_PLUGIN, .path = path_in_dir("none.so")};
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg("none.so: cannot load the plugin: ", "No such file", NULL);
}

/* ---- the command backend -------------------------------------------------- */

static void test_command_tilt(void **state)
{
    (void)state;
    if (!py)
        skip();
    enum { N = 12000 };
    static int16_t X[3][N * 3];
    static double T[3][N * 2];
    const char *args[] = {"sim/examples/tilt/tilt.py"};
    static const int workers[] = {1, 2, 4};
    for (int k = 0; k < 3; k++) {
        et_source_desc d = {.kind = ET_SOURCE_COMMAND,
                            .path = py,
                            .argv = args,
                            .argc = 1,
                            .workers = workers[k],
                            .chunk = 700};
        et_source *s = must_open(&d);
        assert_int_equal(et_source_n_inputs(s), 3);
        assert_int_equal(et_source_n_targets(s), 2);
        assert_string_equal(et_source_input(s, 2)->name, "az");
        assert_string_equal(et_source_input(s, 2)->unit, "counts");
        assert_string_equal(et_source_target(s, 0)->name, "roll");
        assert_string_equal(et_source_target(s, 1)->unit, "deg");
        assert_int_equal(et_source_fill(s, 5, 0, N, X[k], T[k]), 0);
        assert_int_equal(et_source_fill(s, 5, 0, 0, X[k], T[k]), 0);
        if (k == 0) {
            assert_non_null(strstr(et_source_identity(s), "command "));
            assert_non_null(strstr(et_source_identity(s), "tilt.py sample-crc32="));
        }
        et_source_close(s);
    }
    assert_memory_equal(X[0], X[1], sizeof X[0]);
    assert_memory_equal(X[0], X[2], sizeof X[0]);
    assert_memory_equal(T[0], T[1], sizeof T[0]);
    assert_memory_equal(T[0], T[2], sizeof T[0]);
    for (size_t i = 0; i < 2 * N; i++)
        assert_true(fabs(T[0][i]) <= 60);

    /* The same script's CSV, read by the csv source: the same bits. */
    const char *csv = path_in_dir("tilt.csv");
    assert_int_equal(run("%s sim/examples/tilt/tilt.py --csv %d --seed 5 -o %s", py, N, csv), 0);
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = csv, .n_in = 3};
    et_source *s = must_open(&d);
    assert_int_equal(et_source_n_inputs(s), 3);
    assert_int_equal(et_source_size(s), N);
    assert_int_equal(et_source_fill(s, 0, 0, N, X[1], T[1]), 0);
    assert_memory_equal(X[0], X[1], sizeof X[0]);
    assert_memory_equal(T[0], T[1], sizeof T[0]);
    et_source_close(s);
    expect_no_children();
}

/* A program with inputs a, b and target t; sample 11 does what `bad` says. */
static const char *bad_program(const char *name, const char *handshake, const char *bad)
{
    char text[2048];
    snprintf(text, sizeof text,
             "#!/bin/sh\n%s"
             "while read seed first count; do\n"
             "  i=0; while [ $i -lt $count ]; do n=$((first + i))\n"
             "    if [ $n -eq 11 ]; then %s; else echo \"$n 0 0.5\"; fi\n"
             "    i=$((i + 1)); done\n"
             "done\n",
             handshake ? handshake
                       : "echo 'evotrain-sim 1'; echo 'input a counts'; echo 'input b -'\n"
                         "echo 'output t mm'; echo ready\n",
             bad);
    return write_file(name, text, 1);
}

static void expect_command_error(const char *name, const char *handshake, const char *bad,
                                 double timeout, const char *msg)
{
    const char *prog = bad_program(name, handshake, bad);
    et_source_desc d = {
        .kind = ET_SOURCE_COMMAND, .path = prog, .workers = 2, .chunk = 4, .timeout_s = timeout};
    captured[0] = '\0';
    double t0 = now();
    et_source *s = et_source_open(&d);
    if (s) {
        int16_t X[40];
        double T[20];
        assert_int_equal(et_source_fill(s, 1, 0, 20, X, T), -1);
        /* stopped: a second fill is refused at once */
        char first[1024];
        snprintf(first, sizeof first, "%s", captured);
        captured[0] = '\0';
        assert_int_equal(et_source_fill(s, 1, 0, 20, X, T), -1);
        assert_non_null(strstr(captured, "stopped after an earlier error"));
        snprintf(captured, sizeof captured, "%s", first);
        et_source_close(s);
    }
    assert_true(now() - t0 < timeout + 3);
    expect_msg(prog, msg, NULL);
    expect_no_children();
}

static void test_command_refusals(void **state)
{
    (void)state;
    expect_command_error("exit.sh", NULL, "exit 3", 5,
                         ": sample 11: the program exited with status 3");
    expect_command_error("crash.sh", NULL, "kill -SEGV $$", 5,
                         ": sample 11: the program was killed by signal 11");
    /* the hanging program's own child is stopped too */
    char hang[300];
    const char *pidfile = path_in_dir("sleep.pid");
    snprintf(hang, sizeof hang, "sleep 30 & echo $! > %s; wait", pidfile);
    expect_command_error("hang.sh", NULL, hang, 1,
                         ": sample 11: no answer for 1 s (request \"1 8 4\"); the program was "
                         "stopped");
    char *pid = slurp(pidfile, NULL);
    assert_non_null(pid);
    expect_gone(atoi(pid));
    free(pid);
    expect_command_error("fields.sh", NULL, "echo '11 0'", 5,
                         ": sample 11: 2 fields, expected 3 (2 inputs, then 1 targets): \"11 0\"");
    expect_command_error("nan.sh", NULL, "echo '11 0 nan'", 5,
                         ": sample 11: target t: 'nan' is not a finite number: \"11 0 nan\"");
    expect_command_error("inf.sh", NULL, "echo '11 0 -inf'", 5,
                         ": sample 11: target t: '-inf' is not a finite number");
    expect_command_error("float.sh", NULL, "echo '11 0.5 1'", 5,
                         ": sample 11: input b: '0.5' is not an integer");
    expect_command_error("range.sh", NULL, "echo '11 -32769 1'", 5,
                         ": sample 11: input b: -32769 is out of the int16 range [-32768, 32767]: "
                         "\"11 -32769 1\"");
    expect_command_error("text.sh", NULL, "echo '11 zero 1'", 5,
                         ": sample 11: input b: 'zero' is not a number");
    char longline[400];
    memset(longline, '7', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    char bad[500];
    snprintf(bad, sizeof bad, "echo '11 0 %s'", longline);
    expect_command_error("long.sh", NULL, bad, 5, "\"11 0 7777777777");
    /* One write (printf), so the extra line comes with the last row asked
     * for: a line that comes later would pass as the next request's. */
    expect_command_error("extra.sh", NULL, "printf '11 0 1\\n12 0 1\\n'", 5,
                         ": a line when no sample was asked for");
    expect_command_error("hello.sh", "echo hello\n", "true", 5,
                         ": bad handshake: the first line must be \"evotrain-sim 1\", got: "
                         "\"hello\"");
    expect_command_error("version.sh", "echo 'evotrain-sim 2'\n", "true", 5,
                         ": speaks protocol version 2; this evotrain speaks 1");
    expect_command_error("noinput.sh", "echo 'evotrain-sim 1'; echo 'output t mm'; echo ready\n",
                         "true", 5, ": bad handshake: 0 inputs and 1 outputs");
    expect_command_error("name.sh",
                         "echo 'evotrain-sim 1'; echo 'input 1a c'; echo 'output t mm'; "
                         "echo ready\n",
                         "true", 5, ": bad handshake: input 0: name '1a' is not");
    expect_command_error("silent.sh", "sleep 30\n", "true", 1,
                         ": worker 0: no complete handshake within 1 s");
    expect_command_error("early.sh", "echo 'evotrain-sim 1'; exit 4\n", "true", 5,
                         ": worker 0: the program exited with status 4 during the handshake");

    et_source_desc d = {.kind = ET_SOURCE_COMMAND, .path = path_in_dir("absent")};
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg("absent: cannot start the program: No such file", NULL);
    expect_no_children();
}

/* ---- the csv backend -------------------------------------------------------- */

static void expect_csv_error(const char *text, const char *msg)
{
    const char *p = write_file("t.csv", text, 0);
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = p, .n_in = 3};
    captured[0] = '\0';
    assert_null(et_source_open(&d));
    expect_msg(p, msg, NULL);
}

static void test_csv(void **state)
{
    (void)state;
    const char *text = "a,b,c,t1,t2\n1,2,3,0.5,1e-3\n-32768, 32767 ,0,-1.25,7\n4,5,6,8,9\n";
    const char *p = write_file("ok.csv", text, 0);
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = p, .n_in = 3};
    et_source *s = must_open(&d);
    assert_int_equal(et_source_size(s), 3);
    assert_string_equal(et_source_target(s, 1)->name, "t2");
    int16_t X[9];
    double T[6];
    assert_int_equal(et_source_fill(s, 99, 1, 2, X, T), 0);
    assert_int_equal(X[0], -32768);
    assert_int_equal(X[1], 32767);
    assert_int_equal(X[5], 6);
    assert_true(T[0] == -1.25 && T[3] == 9);
    char id[200];
    snprintf(id, sizeof id, "csv %s size=%zu crc32=%08lx", p, strlen(text),
             crc32(0, (const Bytef *)text, (uInt)strlen(text)));
    assert_string_equal(et_source_identity(s), id);
    captured[0] = '\0';
    assert_int_equal(et_source_fill(s, 0, 2, 2, X, T), -1);
    expect_msg(p, ": samples 2 to 3 asked, but the file has 3 rows", NULL);
    et_source_close(s);

    /* by name: inputs c, a; targets the rest in file order */
    const char *ins[] = {"c", "a"};
    d = (et_source_desc){.kind = ET_SOURCE_CSV, .path = p, .inputs = ins, .n_inputs = 2};
    s = must_open(&d);
    assert_int_equal(et_source_n_inputs(s), 2);
    assert_int_equal(et_source_n_targets(s), 3);
    assert_string_equal(et_source_input(s, 0)->name, "c");
    assert_string_equal(et_source_target(s, 0)->name, "b");
    assert_int_equal(et_source_fill(s, 0, 0, 1, X, T), 0);
    assert_int_equal(X[0], 3);
    assert_int_equal(X[1], 1);
    assert_true(T[0] == 2 && T[1] == 0.5 && T[2] == 1e-3);
    et_source_close(s);
    /* a target list only; an unknown name */
    const char *tg[] = {"t2", "t1"}, *unknown[] = {"t3"};
    d = (et_source_desc){.kind = ET_SOURCE_CSV, .path = p, .targets = tg, .n_targets = 2};
    s = must_open(&d);
    assert_int_equal(et_source_n_inputs(s), 3);
    assert_string_equal(et_source_target(s, 0)->name, "t2");
    assert_int_equal(et_source_fill(s, 0, 0, 1, X, T), 0);
    assert_true(T[0] == 1e-3 && T[1] == 0.5);
    et_source_close(s);
    captured[0] = '\0';
    d.targets = unknown;
    assert_null(et_source_open(&d));
    expect_msg(":1: no column named 't3' (asked for as a target)", NULL);

    const char *h = "a,b,c,t1,t2\n1,2,3,4,5\n";
    char buf[256];
#define BAD_ROW(row, msg)                                                                          \
    do {                                                                                           \
        snprintf(buf, sizeof buf, "%s%s", h, row);                                                 \
        expect_csv_error(buf, msg);                                                                \
    } while (0)
    BAD_ROW("1,2.5,3,4,5\n", ":3: column b: '2.5' is not an integer");
    BAD_ROW("1,nan,3,4,5\n", ":3: column b: 'nan' is not a number");
    BAD_ROW("1,2,inf,4,5\n", ":3: column c: 'inf' is infinite");
    BAD_ROW("1,2,40000,4,5\n", ":3: column c: 40000 is out of the int16 range");
    BAD_ROW("1,2,-99999999999999999999,4,5\n", ":3: column c: -99999999999999999999 is out of");
    BAD_ROW("1,,3,4,5\n", ":3: column b: missing value (empty field)");
    BAD_ROW("1,2,3,4\n", ":3: column t2: missing (the row has 4 of the header's 5 fields)");
    BAD_ROW("1,2,3,4,5,6\n", ":3: the row has more fields than the header's 5");
    BAD_ROW("1,2,3,nan,5\n", ":3: column t1: 'nan' is not a finite number");
    BAD_ROW("1,2,3,4,x\n", ":3: column t2: 'x' is not a finite number");
    BAD_ROW("\n", ":3: empty line");
    expect_csv_error("a,b,c,t1,t2\n", ": no data rows after the header");
    expect_csv_error("a,b,c,a,t2\n", ":1: header names column a twice");
    expect_csv_error("a,b,c\n1,2,3\n", ":1: 3 input columns asked of 3");
    expect_csv_error("", ": empty file");
}

/* ---- figures (ET_BENCH=1) ------------------------------------------------- */

static double load_seconds(const char *path, size_t n_in, size_t *rows)
{
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = path, .n_in = n_in};
    double t0 = now();
    et_source *s = et_source_open(&d);
    double t = now() - t0;
    assert_non_null(s);
    *rows = (size_t)et_source_size(s);
    et_source_close(s);
    return t;
}

static void test_bench(void **state)
{
    (void)state;
    if (!getenv("ET_BENCH"))
        skip();
    /* 1M rows of 24 columns: 18 readings, 6 poses, as `evotrain dataset` writes */
    const char *big = path_in_dir("bench24.csv");
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    for (int i = 0; i < 24; i++)
        fprintf(f, "%sc%d", i ? "," : "", i);
    fputc('\n', f);
    uint64_t x = 1;
    for (long r = 0; r < 1000000; r++) {
        for (int i = 0; i < 18; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            fprintf(f, "%d,", (int)(x >> 52) - 2048);
        }
        for (int i = 0; i < 6; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            fprintf(f, i < 5 ? "%.6f," : "%.6f\n", (double)(x >> 11) * 0x1p-53 * 40 - 20);
        }
    }
    assert_int_equal(fclose(f), 0);
    size_t rows;
    double t = load_seconds(big, 18, &rows);
    printf("csv_load_1M_rows_24_cols_s: %.2f\n", t);
    unlink(big);
    if (py) {
        const char *tilt = path_in_dir("bench_tilt.csv");
        assert_int_equal(run("%s sim/examples/tilt/tilt.py --csv 10000000 -o %s", py, tilt), 0);
        t = load_seconds(tilt, 3, &rows);
        assert_int_equal(rows, 10000000);
        printf("csv_load_10M_rows_5_cols_s: %.2f\n", t);
        unlink(tilt);
        enum { N = 400000 };
        int16_t *X = malloc(N * 3 * sizeof *X);
        double *T = malloc(N * 2 * sizeof *T);
        const char *args[] = {"sim/examples/tilt/tilt.py"};
        for (int w = 1; w <= 2; w++) {
            et_source_desc d = {.kind = ET_SOURCE_COMMAND,
                                .path = py,
                                .argv = args,
                                .argc = 1,
                                .workers = w,
                                .chunk = 8192};
            et_source *s = must_open(&d);
            double t0 = now();
            assert_int_equal(et_source_fill(s, 1, 0, N, X, T), 0);
            printf("command_fill_samples_per_s_%dw: %.0f\n", w, N / (now() - t0));
            et_source_close(s);
        }
        free(X);
        free(T);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magnet_bits),
        cmocka_unit_test(test_plugin_example),
        cmocka_unit_test(test_plugin_refusals),
        cmocka_unit_test(test_command_tilt),
        cmocka_unit_test(test_command_refusals),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
