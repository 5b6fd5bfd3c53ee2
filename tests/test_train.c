/* The trainer end to end through the CLI (the ASan build in $ET_BIN):
 * determinism across thread counts, across a stop and resume (by budget and
 * by kill -9 at a random moment), refusals, and the exported header. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <signal.h>
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

#include "testutil.h"

static char tmp[256];
static const char *bin;

/* The exported header holds every bit of the best network. */
static char *header_of(const char *dir)
{
    char out[512];
    snprintf(out, sizeof out, "%s/net.h", dir);
    if (run("%s export %s -o %s -q", bin, dir, out) != 0)
        return NULL;
    return slurp(out, NULL);
}

/* Runs a and b (names under tmp) exported the same network. The provenance
 * line names the run directory; compare from the data on. */
static void assert_same_network(const char *a, const char *b)
{
    char d1[300], d2[300];
    snprintf(d1, sizeof d1, "%s/%s", tmp, a);
    snprintf(d2, sizeof d2, "%s/%s", tmp, b);
    char *h1 = header_of(d1), *h2 = header_of(d2);
    assert_non_null(h1);
    assert_non_null(h2);
    assert_string_equal(strstr(h1, "#ifndef"), strstr(h2, "#ifndef"));
    free(h1);
    free(h2);
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_train_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

static void test_threads_identical(void **state)
{
    (void)state;
    assert_int_equal(
        run("%s --config tests/data/tiny.ini --out %s --name t1 --threads 1 -q", bin, tmp), 0);
    assert_int_equal(
        run("%s --config tests/data/tiny.ini --out %s --name t2 --threads 2 -q", bin, tmp), 0);
    assert_same_network("t1", "t2");
}

static void test_resume_by_budget_identical(void **state)
{
    (void)state;
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name full -q", bin, tmp), 0);
    /* Stop at generation 23 (between checkpoints), then resume to the end. */
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name part "
                         "--max-generations 23 -q",
                         bin, tmp),
                     0);
    assert_int_equal(run("%s --resume %s/part --max-generations 40 -q", bin, tmp), 0);
    assert_same_network("full", "part");
    /* The log has no duplicated or missing generations after the resume. */
    char lp[320];
    snprintf(lp, sizeof lp, "%s/full/log.csv", tmp);
    char *l1 = slurp(lp, NULL);
    snprintf(lp, sizeof lp, "%s/part/log.csv", tmp);
    char *l2 = slurp(lp, NULL);
    int rows1 = 0, rows2 = 0;
    for (char *p = l1; *p; p++)
        rows1 += *p == '\n';
    for (char *p = l2; *p; p++)
        rows2 += *p == '\n';
    assert_int_equal(rows1, rows2);
    free(l1);
    free(l2);
}

/* kill -9 at a random moment (the first checkpoint written, the run still
 * going or maybe done), then resume: the same bits as uninterrupted. */
static void test_kill9_resume_identical(void **state)
{
    (void)state;
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name ref200 "
                         "--max-generations 200 -q",
                         bin, tmp),
                     0);
    char ref[300];
    snprintf(ref, sizeof ref, "%s/ref200", tmp);
    char *h1 = header_of(ref);
    assert_non_null(h1);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int trial = 0; trial < 3; trial++) {
        char name[32], dir[300];
        snprintf(name, sizeof name, "k%d", trial);
        snprintf(dir, sizeof dir, "%s/%s", tmp, name);
        pid_t pid = fork();
        if (pid == 0) {
            execl(bin, bin, "--config", "tests/data/tiny.ini", "--out", tmp, "--name", name, "-q",
                  "--max-generations", "200", (char *)NULL);
            _exit(127);
        }
        char ck[340];
        struct stat sb;
        snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
        for (int i = 0; i < 3000 && stat(ck, &sb) != 0; i++)
            usleep(2000);
        usleep((useconds_t)(rand() % 1000000));
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        assert_true(stat(ck, &sb) == 0);
        assert_int_equal(run("%s --resume %s -q", bin, dir), 0);
        char *h2 = header_of(dir);
        assert_non_null(h2);
        assert_string_equal(strstr(h1, "#ifndef"), strstr(h2, "#ifndef"));
        free(h2);
    }
    free(h1);
}

/* A run stopped before its first checkpoint (the directory holds only its
 * config.ini) resumes by starting over, to the same bits; a kill -9 inside
 * a checkpoint write leaves a temporary file, which the resume removes. */
static void test_resume_before_first_checkpoint(void **state)
{
    (void)state;
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name early0 -q", bin, tmp), 0);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name early -q", bin, tmp), 0);
    assert_int_equal(run("rm %s/early/checkpoint.bin %s/early/log.csv", tmp, tmp), 0);
    assert_int_equal(run("echo junk > %s/early/checkpoint.bin.tmp.AbC123", tmp), 0);
    assert_int_equal(run("%s --resume %s/early -q", bin, tmp), 0);
    assert_int_equal(run("test -e %s/early/checkpoint.bin.tmp.AbC123", tmp), 1);
    assert_same_network("early0", "early");
}

/* The bytes of section tag of checkpoint file path (format in
 * src/train/checkpoint.h: magic, version, count, then {u32 tag, u64 length,
 * bytes}, little-endian), or NULL. */
static unsigned char *ckpt_section(const char *path, unsigned tag, size_t *len)
{
    size_t n;
    unsigned char *f = (unsigned char *)slurp(path, &n), *got = NULL;
    for (size_t p = 16; f && p + 12 <= n;) {
        uint32_t t = 0;
        uint64_t l = 0;
        for (int i = 0; i < 4; i++)
            t |= (uint32_t)f[p + i] << (8 * i);
        for (int i = 0; i < 8; i++)
            l |= (uint64_t)f[p + 4 + i] << (8 * i);
        p += 12;
        if (l > n - p)
            break;
        if (t == tag) {
            got = malloc(l ? l : 1);
            memcpy(got, f + p, l);
            *len = l;
            break;
        }
        p += l;
    }
    free(f);
    return got;
}

/* Rows of log.csv at generation gen (one per live start). */
static int rows_at(const char *log, long gen)
{
    int n = 0;
    for (const char *p = log; p && *p;) {
        n += *p >= '0' && *p <= '9' && strtol(p, NULL, 10) == gen;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return n;
}

/* Three starts raced, halved at generations 15 and 30: the same bits on 1
 * and 2 threads and across a stop between the halvings; the log shows 3,
 * then 2, then 1 start validated. */
static void test_starts_race(void **state)
{
    (void)state;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/starts.ini", tmp);
    assert_int_equal(tiny_with(cfg, "starts = 3\nhalving_generations = 15\n"), 0);
    assert_int_equal(run("%s --config %s --out %s --name r1 --threads 1 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name r2 --threads 2 -q", bin, cfg, tmp), 0);
    assert_same_network("r1", "r2");
    assert_int_equal(
        run("%s --config %s --out %s --name rp --max-generations 22 -q", bin, cfg, tmp), 0);
    /* Loaded and saved again without a generation between: the starts'
     * record (live flags, best losses, calibrations, optimizers) comes back
     * byte for byte. */
    char ck[320];
    snprintf(ck, sizeof ck, "%s/rp/checkpoint.bin", tmp);
    size_t n1, n2;
    unsigned char *s1 = ckpt_section(ck, 7, &n1);
    assert_int_equal(run("%s --resume %s/rp --max-generations 22 -q", bin, tmp), 0);
    unsigned char *s2 = ckpt_section(ck, 7, &n2);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    free(s1);
    free(s2);
    assert_int_equal(run("%s --resume %s/rp --max-generations 40 -q", bin, tmp), 0);
    assert_same_network("r1", "rp");
    /* The race itself too (which start was dropped when): the logs match
     * but for the elapsed time. */
    assert_int_equal(run("cut -d, -f1,2,4- %s/r1/log.csv > %s/r1.log && "
                         "cut -d, -f1,2,4- %s/rp/log.csv | cmp -s - %s/r1.log",
                         tmp, tmp, tmp, tmp),
                     0);
    char lp[320];
    snprintf(lp, sizeof lp, "%s/r1/log.csv", tmp);
    char *log = slurp(lp, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, ",start\n"));
    assert_int_equal(rows_at(log, 10), 3);
    assert_int_equal(rows_at(log, 15), 3); /* validated, then halved */
    assert_int_equal(rows_at(log, 20), 2);
    assert_int_equal(rows_at(log, 35), 1);
    free(log);
    /* One start is the plain run: the same bits as without the key. */
    snprintf(cfg, sizeof cfg, "%s/one.ini", tmp);
    assert_int_equal(tiny_with(cfg, "starts = 1\n"), 0);
    assert_int_equal(run("%s --config %s --out %s --name o1 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name o2 -q", bin, tmp), 0);
    assert_same_network("o1", "o2");
}

/* rot_axis_weight weighs each rotation axis: with rot_weight 1 and factors
 * 0 1 0 the validation loss is the squared translation error plus the
 * squared pitch error, and nothing of roll or yaw. */
static void test_rot_axis_weight(void **state)
{
    (void)state;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/axis.ini", tmp);
    assert_int_equal(tiny_with(cfg, "rot_weight = 1\nrot_axis_weight = 0 1 0\n"), 0);
    assert_int_equal(
        run("%s --config %s --out %s --name axis -q --max-generations 10", bin, cfg, tmp), 0);
    char lp[320];
    snprintf(lp, sizeof lp, "%s/axis/log.csv", tmp);
    char *log = slurp(lp, NULL);
    assert_non_null(log);
    char *last = log + strlen(log) - 1; /* the last row */
    while (last > log && last[-1] != '\n')
        last--;
    double v[15];
    char *p = last;
    for (int k = 0; k < 15; k++) {
        v[k] = strtod(p, &p);
        p += *p == ',';
    }
    double loss = v[7], trans = v[8], pitch = v[13];
    assert_true(fabs(loss - (trans * trans + pitch * pitch)) < 1e-3 * loss);
    free(log);
}

/* The polish after the search: the same bits on 1 and 2 threads, after a
 * resume with a larger search or polish budget, and after a SIGTERM while it runs;
 * the network exported is the polished one, not the search's. */
static void test_polish(void **state)
{
    (void)state;
    char cfg[300], cfg1[300];
    snprintf(cfg, sizeof cfg, "%s/polish.ini", tmp);
    snprintf(cfg1, sizeof cfg1, "%s/polish1.ini", tmp);
    assert_int_equal(tiny_with(cfg, "polish_sweeps = 30\n"), 0);
    assert_int_equal(tiny_with(cfg1, "polish_sweeps = 1\n"), 0);
    assert_int_equal(run("%s --config %s --out %s --name p1 --threads 1 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name p2 --threads 2 -q", bin, cfg, tmp), 0);
    assert_same_network("p1", "p2");
    char ck[320];
    snprintf(ck, sizeof ck, "%s/p1/checkpoint.bin", tmp);
    size_t n;
    unsigned char *sec = ckpt_section(ck, 8, &n);
    assert_non_null(sec);
    assert_true(n > 64);
    assert_true(sec[0] >= 2);     /* sweeps done */
    assert_true(sec[24] > 0);     /* moves kept */
    assert_int_equal(sec[56], 1); /* validated */
    free(sec);
    /* Polished: not the network of the same run without the polish. */
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name p0 -q", bin, tmp), 0);
    char d0[300], d1[300];
    snprintf(d0, sizeof d0, "%s/p0", tmp);
    snprintf(d1, sizeof d1, "%s/p1", tmp);
    char *h0 = header_of(d0), *h1 = header_of(d1);
    assert_non_null(h0);
    assert_non_null(h1);
    assert_string_not_equal(strstr(h0, "#ifndef"), strstr(h1, "#ifndef"));
    assert_non_null(strstr(h1, "polished in"));
    free(h0);
    free(h1);
    /* Polished at generation 20, then resumed to 40: the search goes on
     * and its new best is polished, as in a run never stopped. */
    assert_int_equal(
        run("%s --config %s --out %s --name pg --max-generations 20 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --resume %s/pg --max-generations 40 -q", bin, tmp), 0);
    assert_same_network("p1", "pg");
    /* One sweep, then the rest on resume. */
    assert_int_equal(run("%s --config %s --out %s --name pb -q", bin, cfg1, tmp), 0);
    assert_int_equal(run("%s --resume %s/pb --config %s -q", bin, tmp, cfg), 0);
    assert_same_network("p1", "pb");
    /* SIGTERM once the first sweep is checkpointed: most likely inside a
     * later sweep. The resume ends on the same bits. */
    char dir[300];
    snprintf(dir, sizeof dir, "%s/ps", tmp);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--config", cfg, "--out", tmp, "--name", "ps", "-q", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 5000; i++) {
        unsigned char *s8 = ckpt_section(ck, 8, &n);
        free(s8);
        if (s8)
            break;
        usleep(1000);
    }
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(run("%s --resume %s -q", bin, dir), 0);
    assert_same_network("p1", "ps");
}

static void test_refusals(void **state)
{
    (void)state;
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name once -q", bin, tmp), 0);
    /* An existing run is never overwritten without --force. */
    assert_int_equal(
        run("%s --config tests/data/tiny.ini --out %s --name once -q 2>/dev/null", bin, tmp), 1);
    /* A changed network is refused on resume, naming the key. */
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/changed.ini", tmp);
    assert_int_equal(run("sed 's/^hidden = 8 8/hidden = 8 9/' tests/data/tiny.ini > %s", cfg), 0);
    char errf[320];
    snprintf(errf, sizeof errf, "%s/err.txt", tmp);
    assert_int_equal(run("%s --resume %s/once --config %s 2> %s", bin, tmp, cfg, errf), 1);
    char *msg = slurp(errf, NULL);
    assert_non_null(strstr(msg, "hidden"));
    free(msg);
    /* A larger budget is fine. */
    assert_int_equal(run("%s --resume %s/once --max-generations 50 -q", bin, tmp), 0);
    /* A damaged checkpoint is refused, never loaded. */
    assert_int_equal(run("printf 'X' | dd of=%s/once/checkpoint.bin bs=1 seek=100 conv=notrunc "
                         "2>/dev/null",
                         tmp),
                     0);
    assert_int_equal(run("%s --resume %s/once -q 2> %s", bin, tmp, errf), 1);
    msg = slurp(errf, NULL);
    assert_non_null(strstr(msg, "checksum"));
    free(msg);
    assert_int_equal(run("%s export %s/once -o %s/x.h 2>/dev/null", bin, tmp, tmp), 1);
    assert_int_equal(run("test -e %s/x.h", tmp), 1); /* nothing half-written */
}

static void test_export_compiles_and_selftests(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/full", tmp);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name full -q", bin, tmp),
                         0);
    assert_int_equal(run("%s export %s -o %s/tiny_net.h --name tiny_net -q", bin, dir, tmp), 0);
    FILE *f;
    char src[320];
    snprintf(src, sizeof src, "%s/main.c", tmp);
    f = fopen(src, "w");
    fprintf(f, "#include \"tiny_net.h\"\nint main(void) { return tiny_net_selftest(); }\n");
    fclose(f);
    assert_int_equal(run("cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -I%s -o %s/st "
                         "%s src/kernel/evonet.c && %s/st",
                         tmp, tmp, src, tmp),
                     0);
    /* Same run, same bytes. */
    assert_int_equal(run("%s export %s -o %s/again.h --name tiny_net -q && cmp -s %s/again.h "
                         "%s/tiny_net.h",
                         bin, dir, tmp, tmp, tmp),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_resume_by_budget_identical),
        cmocka_unit_test(test_kill9_resume_identical),
        cmocka_unit_test(test_polish),
        cmocka_unit_test(test_resume_before_first_checkpoint),
        cmocka_unit_test(test_starts_race),
        cmocka_unit_test(test_rot_axis_weight),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_export_compiles_and_selftests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
