/* test_task: the outputs as a description ([target NAME], [group NAME]):
 * per-output weights are what rot_weight and rot_axis_weight always meant,
 * a scale changes the network's output step, a group adds a Euclidean error
 * to the log and to eval, and a bad description is refused with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256];
static const char *bin;

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_task_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

/* tests/data/tiny.ini with text appended, to path under tmp. */
static void tiny_plus(const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    assert_int_equal(run("cp tests/data/tiny.ini %s && printf '%%s' '%s' >> %s", p, text, p), 0);
}

/* The exported header from its include guard on (the provenance names
 * the run), named net whatever the file's name. */
static char *network_of(const char *run_name)
{
    assert_int_equal(
        run("%s export %s/%s -o %s/%s.h --name net -q", bin, tmp, run_name, tmp, run_name), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/%s.h", tmp, run_name);
    char *h = slurp(p, NULL);
    assert_non_null(h);
    return h;
}

/* Roll and pitch weighted 0 by [target] sections train the same bits as
 * rot_axis_weight = 0 0 1. */
static void test_weights_are_the_old_keys(void **state)
{
    (void)state;
    tiny_plus("a.ini", "\n[target roll]\nweight = 0\n\n[target pitch]\nweight = 0\n");
    assert_int_equal(run("sed 's/^valid_every = 5/valid_every = 5\\nrot_axis_weight = 0 0 1/' "
                         "tests/data/tiny.ini > %s/b.ini",
                         tmp),
                     0);
    assert_int_equal(run("%s --config %s/a.ini --out %s --name a -q", bin, tmp, tmp), 0);
    assert_int_equal(run("%s --config %s/b.ini --out %s --name b -q", bin, tmp, tmp), 0);
    char *a = network_of("a"), *b = network_of("b");
    assert_string_equal(strstr(a, "#ifndef"), strstr(b, "#ifndef"));
    free(a);
    free(b);
    /* rot_weight = 0.1 on yaw: the [target yaw] weight that says the same
     * is the same run too. */
    tiny_plus("c.ini", "\n[target roll]\nweight = 0\n\n[target pitch]\nweight = 0\n\n"
                       "[target yaw]\nweight = 0.1\n");
    assert_int_equal(run("%s --config %s/c.ini --out %s --name c -q", bin, tmp, tmp), 0);
    char *c = network_of("c");
    b = network_of("b");
    assert_string_equal(strstr(c, "#ifndef"), strstr(b, "#ifndef"));
    free(b);
    free(c);
}

/* A scale of 0.02 mm on x: the header documents it, eval reads x in mm. A
 * group of x and y: a column of log.csv and a row of eval. */
static void test_scale_and_group(void **state)
{
    (void)state;
    tiny_plus("s.ini", "\n[target x]\nscale = 0.02\n\n[group xy]\noutputs = y x\n");
    assert_int_equal(run("%s --config %s/s.ini --out %s --name s -q", bin, tmp, tmp), 0);
    char *h = network_of("s");
    assert_non_null(strstr(h, " *   out[0] x: 0.02 mm per step\n"));
    assert_non_null(strstr(h, " *   out[1] y: 0.01 mm per step\n"));
    free(h);
    char p[400];
    snprintf(p, sizeof p, "%s/s/log.csv", tmp);
    char *log = slurp(p, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, ",valid_trans_mm,valid_xy_mm,valid_x_mm,"));
    free(log);
    assert_int_equal(run("%s eval %s/s -n 300 > %s/ev.txt", bin, tmp, tmp), 0);
    snprintf(p, sizeof p, "%s/ev.txt", tmp);
    char *ev = slurp(p, NULL);
    assert_non_null(ev);
    assert_non_null(strstr(ev, "\nxy "));
    assert_non_null(strstr(ev, "\ntranslation "));
    /* x in 0.02 mm steps is still reported in mm, about as good as y. */
    double ex = 0, ey = 0;
    const char *lx = strstr(ev, "\nx "), *ly = strstr(ev, "\ny ");
    assert_non_null(lx);
    assert_non_null(ly);
    assert_int_equal(sscanf(lx, " x mm %lf", &ex), 1);
    assert_int_equal(sscanf(ly, " y mm %lf", &ey), 1);
    assert_true(ex > 0.2 * ey && ex < 5 * ey);
    free(ev);
}

/* Each mistake in a description: exit 1, file and line, what is wrong. */
static void test_bad_descriptions(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"\n[target depth]\nweight = 1\n", "[target depth]: the data has no output of that name"},
        {"\n[group mixed]\noutputs = x roll\n", "share one unit"},
        {"\n[group g]\noutputs = x nothing\n", "[group g]: no output named 'nothing'"},
        {"\n[target x]\nscale = 0\n", "is not a positive number"},
        {"\n[target x]\nweight = -1\n", "is not a number in [0, 1e12]"},
        {"\n[target x]\ncolour = red\n", "unknown key 'colour' in [target x]"},
        {"\n[target 9x]\nweight = 1\n", "'9x' is not a name"},
        {"\n[group g]\nmembers = x\n", "unknown key 'members' in [group g]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tiny_plus("bad.ini", cases[i].text);
        assert_int_equal(
            run("%s --config %s/bad.ini --out %s --name bad -q 2> %s/err", bin, tmp, tmp, tmp), 1);
        char p[400];
        snprintf(p, sizeof p, "%s/err", tmp);
        char *m = slurp(p, NULL);
        assert_non_null(m);
        if (!strstr(m, cases[i].want) || !strstr(m, "bad.ini:"))
            fail_msg("case %zu: expected '%s' with the file and line, got: %s", i, cases[i].want,
                     m);
        free(m);
        assert_int_equal(run("test -e %s/bad", tmp), 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_are_the_old_keys),
        cmocka_unit_test(test_scale_and_group),
        cmocka_unit_test(test_bad_descriptions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
