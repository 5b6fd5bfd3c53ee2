/* Training with MPI ranks ($ET_MPI_BIN, the `make MPI=1` build) gives the
 * bits of one process for any rank count, resumes with another rank count,
 * and refuses more ranks than candidates. Skipped without Open MPI. */
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

#include "testutil.h"

static char tmp[64];
static const char *mpi_bin, *bin;
/* Root in CI containers, and more ranks than cores on purpose. */
static const char *mpirun = "mpirun --allow-run-as-root --oversubscribe";

/* Exported header of a run, from the data on (the first lines name the run),
 * under one name whatever the file's. */
static char *net_of(const char *name)
{
    if (run("%s export %s/%s -o %s/%s.h --name net -q", bin, tmp, name, tmp, name) != 0)
        return NULL;
    char p[256];
    snprintf(p, sizeof p, "%s/%s.h", tmp, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = strstr(buf, "#ifndef");
    return s ? strdup(s) : NULL;
}

static void test_ranks_identical(void **state)
{
    (void)state;
    if (!mpi_bin) {
        skip();
        return;
    }
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name one -q", bin, tmp), 0);
    char *ref = net_of("one");
    assert_non_null(ref);
    for (int p = 1; p <= 3; p++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", p);
        assert_int_equal(run("%s -n %d %s --config tests/data/tiny.ini --out %s --name %s -q "
                             "--threads %d",
                             mpirun, p, mpi_bin, tmp, name, p == 2 ? 2 : 1),
                         0);
        char *h = net_of(name);
        assert_non_null(h);
        assert_string_equal(ref, h);
        free(h);
    }
    /* Stopped with 3 ranks, resumed with 2: still the same bits. */
    assert_int_equal(run("%s -n 3 %s --config tests/data/tiny.ini --out %s --name mix -q "
                         "--max-generations 17",
                         mpirun, mpi_bin, tmp),
                     0);
    assert_int_equal(
        run("%s -n 2 %s --resume %s/mix -q --max-generations 40", mpirun, mpi_bin, tmp), 0);
    char *h = net_of("mix");
    assert_non_null(h);
    assert_string_equal(ref, h);
    free(h);
    free(ref);
}

/* Raced starts and the polish after them: rank 0 alone validates, decides
 * each halving for all and polishes; 3 ranks give the log and the network
 * of one process. */
static void test_starts_ranks(void **state)
{
    (void)state;
    if (!mpi_bin) {
        skip();
        return;
    }
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/starts.ini", tmp);
    assert_int_equal(tiny_with(cfg, "starts = 3\nhalving_generations = 15\npolish_sweeps = 4\n"),
                     0);
    assert_int_equal(run("%s --config %s --out %s --name s1 -q", bin, cfg, tmp), 0);
    assert_int_equal(
        run("%s -n 3 %s --config %s --out %s --name s3 -q --threads 1", mpirun, mpi_bin, cfg, tmp),
        0);
    char *a = net_of("s1"), *b = net_of("s3");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(run("cut -d, -f1,2,4- %s/s1/log.csv > %s/s1.log && "
                         "cut -d, -f1,2,4- %s/s3/log.csv | cmp -s - %s/s1.log",
                         tmp, tmp, tmp, tmp),
                     0);
}

static void test_refusals(void **state)
{
    (void)state;
    if (!mpi_bin) {
        skip();
        return;
    }
    /* tiny.ini has 12 candidates per generation. */
    char err[128];
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    int rc = run("%s -n 13 %s --config tests/data/tiny.ini --out %s --name many -q 2> %s", mpirun,
                 mpi_bin, tmp, err);
    assert_int_not_equal(rc, 0);
    assert_int_equal(run("grep -q '13 MPI ranks but only 12 candidates' %s", err), 0);
    /* Nothing written. */
    assert_int_not_equal(run("test -e %s/many", tmp), 0);
    /* Ranks of different builds refuse to train together. */
    rc = run("%s -n 1 %s --config tests/data/tiny.ini --out %s --name mixed -q : "
             "-n 1 -x ET_TEST_BUILD_ID=other %s --config tests/data/tiny.ini --out %s "
             "--name mixed -q 2> %s",
             mpirun, mpi_bin, tmp, mpi_bin, tmp, err);
    assert_int_not_equal(rc, 0);
    assert_int_equal(run("grep -q 'different evotrain builds' %s", err), 0);
    assert_int_not_equal(run("test -e %s/mixed", tmp), 0);
    /* A configuration no rank can read. */
    rc =
        run("%s -n 2 %s --config %s/missing.ini --out %s -q 2> %s", mpirun, mpi_bin, tmp, tmp, err);
    assert_int_not_equal(rc, 0);
    assert_int_equal(run("grep -q 'missing.ini: cannot open' %s", err), 0);
}

/* `make MPI=1` in a tree where the plain ./evotrain exists (and newer than
 * every source) links ./evotrain-mpi, and `make` where only ./evotrain-mpi
 * exists links ./evotrain: switching builds always gives the one asked for.
 * A scratch tree of links to the sources, so the real build is untouched;
 * `make -n` only prints the commands. Needs no Open MPI. */
static void test_make_switches_builds(void **state)
{
    (void)state;
    char t[128];
    snprintf(t, sizeof t, "%s/tree", tmp);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(run("mkdir %s && for f in Makefile src include sim tests; do "
                         "ln -s %s/$f %s/$f; done && touch %s/evotrain",
                         t, cwd, t, t),
                     0);
    assert_int_equal(run("make -n -C %s MPI=1 2>&1 | grep -q -- '-o evotrain-mpi '", t), 0);
    assert_int_equal(run("rm %s/evotrain && touch %s/evotrain-mpi", t, t), 0);
    assert_int_equal(run("make -n -C %s 2>&1 | grep -q -- '-o evotrain '", t), 0);
    /* The plain build never links an MPI binary into ./evotrain. */
    assert_int_not_equal(run("make -n -C %s MPI=1 2>&1 | grep -q -- '-o evotrain '", t), 0);
}

/* Every data source keeps the bits across ranks: a CSV (every rank reads
 * the file), a plugin and a program (each rank makes its share of the
 * pool and validation set; the shares are exchanged). */
static void test_sources_ranks(void **state)
{
    (void)state;
    if (!mpi_bin) {
        skip();
        return;
    }
    assert_int_equal(run("%s dataset --config tests/data/tiny.ini -n 2000 -o %s/d.csv -q && "
                         "sed -n '/^\\[run\\]/,$p' tests/data/tiny.ini > %s/csv.ini && printf "
                         "'\\n[data]\\nsource = csv\\ntrain = %s/d.csv\\ntargets = x_mm "
                         "y_mm z_mm roll_deg pitch_deg yaw_deg\\n' >> %s/csv.ini",
                         bin, tmp, tmp, tmp, tmp),
                     0);
    assert_int_equal(run("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C sim/examples/plugin "
                         "EVOTRAIN_INC=\"$PWD/include\" OUT=%s >/dev/null && sed -e "
                         "'s|^plugin = out/light2d.so|plugin = %s/light2d.so|' -e "
                         "'s/^max_generations = 1500/max_generations = 40/' -e "
                         "'s/^pool          = 65536/pool = 4096/' "
                         "sim/examples/plugin/light2d.ini > %s/plugin.ini",
                         tmp, tmp, tmp),
                     0);
    int have_py = run("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0;
    if (have_py)
        assert_int_equal(run("sed -e 's/^max_generations = 1500/max_generations = 40/' -e "
                             "'s/^pool          = 65536/pool = 4096/' "
                             "sim/examples/tilt/tilt.ini > %s/command.ini",
                             tmp),
                         0);
    /* A classification: the gesture program's labels, the error-rate choice. */
    if (have_py)
        assert_int_equal(run("sed -e 's/^time_limit_s  = 120/time_limit_s = 0\\nmax_generations "
                             "= 40/' -e 's/^pool          = 65536/pool = 4096/' -e "
                             "'s/^polish_sweeps = 3/polish_sweeps = 1/' "
                             "sim/examples/gesture/gesture.ini > %s/classify.ini",
                             tmp),
                         0);
    static const char *const kinds[] = {"csv", "plugin", "command", "classify"};
    for (int k = 0; k < (have_py ? 4 : 2); k++) {
        char one[32], two[32];
        snprintf(one, sizeof one, "%s1", kinds[k]);
        snprintf(two, sizeof two, "%s2", kinds[k]);
        assert_int_equal(
            run("%s --config %s/%s.ini --out %s --name %s -q", bin, tmp, kinds[k], tmp, one), 0);
        assert_int_equal(run("%s -n 2 %s --config %s/%s.ini --out %s --name %s -q --threads 1",
                             mpirun, mpi_bin, tmp, kinds[k], tmp, two),
                         0);
        char *a = net_of(one), *b = net_of(two);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN") ? getenv("ET_BIN") : "build/test/evotrain";
    mpi_bin = getenv("ET_MPI_BIN");
    if (mpi_bin && run("command -v mpirun >/dev/null") != 0)
        mpi_bin = NULL;
    snprintf(tmp, sizeof tmp, "/tmp/et_mpi_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranks_identical),      cmocka_unit_test(test_starts_ranks),
        cmocka_unit_test(test_sources_ranks),        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_make_switches_builds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
