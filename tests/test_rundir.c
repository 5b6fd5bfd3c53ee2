/* test_rundir: a run directory is held by one process, a run that cannot
 * start leaves nothing behind, a run needs a budget, and a cut log is
 * refused rather than padded (issue 22, defects 2, 4, 5 and 7). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

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
    snprintf(tmp, sizeof tmp, "/tmp/et_rundir_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

static int exists(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* d/f in a static buffer (valid until the next call). */
static const char *pathcat(const char *d, const char *f)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", d, f);
    return p;
}

/* Whether err (a file) holds the text want. */
static int says(const char *err, const char *want)
{
    char *m = slurp(err, NULL);
    int ok = m && strstr(m, want);
    if (!ok)
        fprintf(stderr, "expected '%s' in: %s\n", want, m ? m : "(nothing)");
    free(m);
    return ok;
}

/* A run training in the background holds its directory: a second training
 * of the same name (--force) and a resume both stop with exit 1, name the
 * holder and change nothing; once the holder is killed (-9) the directory
 * is free again, with no stale lock. */
static void test_lock(void **state)
{
    (void)state;
    char cfg[300], dir[300], err[300];
    snprintf(cfg, sizeof cfg, "%s/long.ini", tmp);
    snprintf(dir, sizeof dir, "%s/held", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_int_equal(run("sed 's/^max_generations = 40/max_generations = 100000000/' "
                         "tests/data/tiny.ini > %s",
                         cfg),
                     0);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--config", cfg, "--out", tmp, "--name", "held", "-q", (char *)NULL);
        _exit(127);
    }
    char ck[320];
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
    for (int i = 0; i < 20000 && access(ck, F_OK) != 0; i++)
        usleep(1000);
    assert_int_equal(access(ck, F_OK), 0);
    char *cfg_before = slurp(pathcat(dir, "config.ini"), NULL);
    assert_non_null(cfg_before);

    char holder[64];
    snprintf(holder, sizeof holder, "in use by process %ld", (long)pid);
    assert_int_equal(
        run("%s --config tests/data/tiny.ini --out %s --name held --force -q 2> %s", bin, tmp, err),
        1);
    assert_true(says(err, holder));
    assert_int_equal(run("%s --resume %s -q 2> %s", bin, dir, err), 1);
    assert_true(says(err, holder));
    char *cfg_after = slurp(pathcat(dir, "config.ini"), NULL);
    assert_non_null(cfg_after);
    assert_string_equal(cfg_before, cfg_after);
    free(cfg_before);
    free(cfg_after);

    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(run("%s --resume %s -q --max-generations 1 2> %s", bin, dir, err), 0);
}

/* A run that fails while it is set up (a warm-start file that is missing,
 * or too little memory for its pool) exits 1 and leaves no directory, so
 * the same command runs once the cause is fixed. */
static void test_failed_setup_leaves_nothing(void **state)
{
    (void)state;
    char err[300];
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name noinit "
                         "--init %s/missing.csv -q 2> %s",
                         bin, tmp, tmp, err),
                     1);
    assert_false(exists(tmp, "noinit"));
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name noinit -q", bin, tmp), 0);

    /* The pool (4M samples of 18 readings) is larger than the test build
     * lets an allocation be: et_malloc's out-of-memory exit. */
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/big.ini", tmp);
    assert_int_equal(run("sed 's/^pool = 2048/pool = 4000000/' tests/data/tiny.ini > %s", cfg), 0);
    assert_int_equal(run("ET_TEST_MAX_ALLOC=100000000 %s --config %s --out %s --name oom -q 2> %s",
                         bin, cfg, tmp, err),
                     1);
    assert_true(says(err, "out of memory"));
    assert_false(exists(tmp, "oom"));
}

/* No time limit, no generation limit, no evaluation limit: refused, since
 * the run would never end. A limit on the command line is enough. */
static void test_no_budget(void **state)
{
    (void)state;
    char cfg[300], err[300];
    snprintf(cfg, sizeof cfg, "%s/nobudget.ini", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_int_equal(
        run("sed 's/^max_generations = 40/max_generations = 0/' tests/data/tiny.ini > %s", cfg), 0);
    assert_int_equal(run("%s --config %s --out %s --name nb -q 2> %s", bin, cfg, tmp, err), 1);
    assert_true(says(err, "has no budget"));
    assert_false(exists(tmp, "nb"));
    assert_int_equal(run("%s --config %s --out %s --name nb --max-generations 5 -q", bin, cfg, tmp),
                     0);
}

/* A log.csv cut shorter than the checkpoint's record is refused on resume
 * (it used to be padded with NUL bytes); the log is left as it was. */
static void test_cut_log(void **state)
{
    (void)state;
    char err[300], log[300];
    snprintf(err, sizeof err, "%s/err", tmp);
    snprintf(log, sizeof log, "%s/cut/log.csv", tmp);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name cut --max-generations 20 "
                         "-q",
                         bin, tmp),
                     0);
    assert_int_equal(run("truncate -s 100 %s", log), 0);
    assert_int_equal(run("%s --resume %s/cut -q 2> %s", bin, tmp, err), 1);
    assert_true(says(err, "has 100 bytes but the checkpoint recorded"));
    size_t n;
    char *l = slurp(log, &n);
    assert_non_null(l);
    assert_int_equal(n, 100);
    assert_null(memchr(l, '\0', n));
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_failed_setup_leaves_nothing),
        cmocka_unit_test(test_no_budget),
        cmocka_unit_test(test_cut_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
