/* test_golden: behaviour kept bit for bit. Two short runs (a polished run and
 * a 2-start race) must give the log, checkpoint and header recorded in
 * tests/data/golden/, and a checkpoint written by an earlier binary must
 * resume to the same network. A change that alters any of them on purpose
 * regenerates the files with ET_GOLDEN_WRITE=1 and says why in its commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zlib.h>

#include "testutil.h"

static char tmp[256];
static const char *bin;
static int writing; /* ET_GOLDEN_WRITE=1: record instead of compare */

#define GOLDEN "tests/data/golden"

/* The checkpoint with what legitimately differs between two runs zeroed:
 * the elapsed time and the log's length (its elapsed column varies in
 * width) in the trainer's state section. Layout in src/train/checkpoint.h. */
static unsigned char *ckpt_masked(const char *path, size_t *n)
{
    unsigned char *f = (unsigned char *)slurp(path, n);
    for (size_t p = 16; f && p + 12 <= *n;) {
        uint32_t t = 0;
        uint64_t l = 0;
        for (int i = 0; i < 4; i++)
            t |= (uint32_t)f[p + i] << (8 * i);
        for (int i = 0; i < 8; i++)
            l |= (uint64_t)f[p + 4 + i] << (8 * i);
        p += 12;
        if (l > *n - p)
            break;
        if (t == 2 && l >= 40) /* ET_CKPT_STATE: u64 log_bytes, double elapsed_s */
            memset(f + p + 24, 0, 16);
        p += l;
    }
    if (f && *n >= 4)
        memset(f + *n - 4, 0, 4); /* the CRC covers the masked bytes */
    return f;
}

/* One file compared with (or written to) GOLDEN/name. */
static void check(const char *name, const char *got, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, GOLDEN "/%s", name);
    if (writing) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(got, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
        return;
    }
    size_t m;
    char *want = slurp(path, &m);
    assert_non_null(want);
    int same = m == n && memcmp(want, got, n) == 0;
    free(want);
    if (!same)
        fail_msg("%s differs from the recorded run (%zu bytes against %zu)", path, n, m);
}

/* Run dir under tmp: its log (without the elapsed column), its checkpoint
 * (masked) and its exported header (from the include guard on: the
 * provenance line names the directory) against GOLDEN/<tag>.*. */
static void check_run(const char *dir, const char *tag)
{
    char path[600], name[300];
    size_t n;
    assert_int_equal(run("cut -d, -f1,2,4- %s/%s/log.csv > %s/%s.log", tmp, dir, tmp, tag), 0);
    snprintf(path, sizeof path, "%s/%s.log", tmp, tag);
    char *log = slurp(path, &n);
    assert_non_null(log);
    snprintf(name, sizeof name, "%s.log.csv", tag);
    check(name, log, n);
    free(log);

    /* The checkpoint is 340 kB: its length and CRC-32 are recorded. */
    snprintf(path, sizeof path, "%s/%s/checkpoint.bin", tmp, dir);
    unsigned char *ck = ckpt_masked(path, &n);
    assert_non_null(ck);
    char sum[64];
    int len = snprintf(sum, sizeof sum, "%zu %08lx\n", n, crc32(0, ck, (uInt)n));
    free(ck);
    snprintf(name, sizeof name, "%s.checkpoint", tag);
    check(name, sum, (size_t)len);

    assert_int_equal(run("%s export %s/%s -o %s/%s.h -q", bin, tmp, dir, tmp, tag), 0);
    snprintf(path, sizeof path, "%s/%s.h", tmp, tag);
    char *h = slurp(path, NULL);
    assert_non_null(h);
    const char *from = strstr(h, "#ifndef");
    assert_non_null(from);
    snprintf(name, sizeof name, "%s.h", tag);
    check(name, from, strlen(from));
    free(h);
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    writing = getenv("ET_GOLDEN_WRITE") && !strcmp(getenv("ET_GOLDEN_WRITE"), "1");
    snprintf(tmp, sizeof tmp, "/tmp/et_golden_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

/* tests/data/tiny.ini with two sweeps of the polish, on 2 threads. */
static void test_polished_run(void **state)
{
    (void)state;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/polish.ini", tmp);
    assert_int_equal(tiny_with(cfg, "polish_sweeps = 2\n"), 0);
    assert_int_equal(run("%s --config %s --out %s --name p --threads 2 -q", bin, cfg, tmp), 0);
    check_run("p", "polish");
}

/* Two starts raced, halved at generation 10. */
static void test_race(void **state)
{
    (void)state;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/race.ini", tmp);
    assert_int_equal(tiny_with(cfg, "starts = 2\nhalving_generations = 10\n"), 0);
    assert_int_equal(run("%s --config %s --out %s --name r -q", bin, cfg, tmp), 0);
    check_run("r", "race");
}

/* GOLDEN/resume/ is the polished run stopped at generation 20 by an earlier
 * binary (written with ET_GOLDEN_WRITE=1): it resumes to the recorded run. */
static void test_old_checkpoint_resumes(void **state)
{
    (void)state;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/polish.ini", tmp);
    assert_int_equal(tiny_with(cfg, "polish_sweeps = 2\n"), 0);
    if (writing) {
        assert_int_equal(run("rm -rf " GOLDEN "/resume && %s --config %s --out " GOLDEN
                             " --name resume --threads 2 --max-generations 20 -q",
                             bin, cfg),
                         0);
        return;
    }
    assert_int_equal(run("cp -r " GOLDEN "/resume %s/old", tmp), 0);
    assert_int_equal(run("%s --resume %s/old --max-generations 40 -q", bin, tmp), 0);
    check_run("old", "polish");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_polished_run),
        cmocka_unit_test(test_race),
        cmocka_unit_test(test_old_checkpoint_resumes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
