/* test_faults: what a crash, a signal, a full disk or a damaged file does to
 * a run, through the real binary ($ET_BIN, the test build).
 *
 * - kill -9 at random moments, half of them while a checkpoint is being
 *   written (the test build holds each finished temp file for
 *   ET_TEST_COMMIT_DELAY_MS before renaming it, and the kill comes once the
 *   temp file is seen): the resumed run ends with the bits of a run never
 *   stopped. ET_FAULT_TRIALS sets the count (`make test-faults`: 24).
 * - a full disk (ulimit -f; also a small tmpfs when this process may mount
 *   one) and a read-only run directory: a clear error, exit 1, the previous
 *   checkpoint byte for byte, no temp file left.
 * - a truncated checkpoint, a flipped bit in every part of it, a future
 *   format version, another run's checkpoint: refused, saying which.
 * - SIGINT and SIGTERM during training and during export. */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <zlib.h>

#include <cmocka.h>

#include "testutil.h"

#include "checkpoint.h"
#include "opt.h"
#include "util.h"

static char tmp[64];
static const char *bin;
static char *ref_header; /* tiny.ini, 200 generations, never stopped */
static long ref_ms;      /* how long that run took: kills fall within it */

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* A formatted path, valid until pathf has been called 8 more times. */
static char *pathf(const char *fmt, ...)
{
    static char bufs[8][512];
    static int k;
    char *p = bufs[k++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, 512, fmt, ap);
    va_end(ap);
    return p;
}

/* Temp files of et_afile ("NAME.tmp.XXXXXX") in dir. */
static int n_temp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The exported header from its data on (the provenance line names the run
 * directory), named net as every export here. NULL if export fails. */
static char *header_of(const char *dir)
{
    char *out = pathf("%s/net.h", dir);
    if (run("%s export %s -o %s -q", bin, dir, out) != 0)
        return NULL;
    char *h = slurp(out, NULL);
    char *data = strdup(strstr(h, "#ifndef"));
    free(h);
    return data;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_faults_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    ref_ms = now_ms();
    if (run("%s --config tests/data/tiny.ini --out %s --name ref -q --max-generations 200", bin,
            tmp) != 0)
        return -1;
    ref_ms = now_ms() - ref_ms;
    ref_header = header_of(pathf("%s/ref", tmp));
    return ref_header ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(ref_header);
    return run("rm -rf %s", tmp);
}

/* Starts a training run of tiny.ini for 200 generations; env is one
 * NAME=VALUE or NULL. */
static pid_t start_run(const char *name, const char *env)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (env)
            putenv((char *)(uintptr_t)env);
        execl(bin, bin, "--config", "tests/data/tiny.ini", "--out", tmp, "--name", name, "-q",
              "--max-generations", "200", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits (polling) until path exists or the process has ended; 1 if it
 * exists while pid still runs. */
static int wait_file(pid_t pid, const char *path, int temp_of_dir)
{
    for (;;) {
        if (temp_of_dir ? n_temp(path) > 0 : exists(path))
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1; /* reaped: the caller must not wait again */
        usleep(200);
    }
}

static int trials(void)
{
    const char *s = getenv("ET_FAULT_TRIALS");
    return s ? atoi(s) : 2;
}

/* kill -9, then resume: the same bits as never stopped. */
static void test_kill9_resume(void **state)
{
    (void)state;
    int n = trials(), in_write = 0, random_kills = 0;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int trial = 0; trial < n; trial++) {
        char name[32];
        snprintf(name, sizeof name, "k%d", trial);
        char *dir = pathf("%s/%s", tmp, name), *ck = pathf("%s/checkpoint.bin", dir);
        int mode = trial % 2; /* 0: any moment; 1: inside a checkpoint write */
        pid_t pid = start_run(name, mode ? "ET_TEST_COMMIT_DELAY_MS=30" : NULL);
        int reaped = wait_file(pid, ck, 0) < 0;
        if (!reaped) {
            usleep((useconds_t)(rand() % (ref_ms * 1000 + 1)));
            if (mode == 1)
                reaped = wait_file(pid, dir, 1) < 0;
        }
        if (!reaped) {
            int writing = n_temp(dir) > 0;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            in_write += mode == 1 && writing;
            random_kills += mode == 0;
        }
        /* The last complete checkpoint is there and whole. */
        et_ckpt c;
        char errbuf[512] = "";
        et_error_capture = errbuf;
        et_error_capture_size = sizeof errbuf;
        int lrc = et_ckpt_load(&c, ck);
        et_error_capture = NULL;
        if (lrc != 0)
            fprintf(stderr, "trial %d: %s\n", trial, errbuf);
        assert_int_equal(lrc, 0);
        et_ckpt_free(&c);
        assert_int_equal(run("%s --resume %s -q", bin, dir), 0);
        char *h = header_of(dir);
        assert_non_null(h);
        assert_string_equal(h, ref_header);
        free(h);
        run("rm -rf %s", dir);
    }
    fprintf(stderr, "    %d trials: %d killed at a random moment, %d inside a checkpoint write\n",
            n, random_kills, in_write);
    /* The in-write kills are by construction, not luck: most must land. */
    if (n >= 2)
        assert_true(in_write >= 1);
}

/* A run of tiny.ini stopped at 20 generations, to resume into a fault. */
static char *fresh_run(const char *name)
{
    char *dir = pathf("%s/%s", tmp, name);
    run("rm -rf %s", dir);
    assert_int_equal(run("%s --config tests/data/tiny.ini --out %s --name %s -q "
                         "--max-generations 20",
                         bin, tmp, name),
                     0);
    return strdup(dir);
}

/* The resume's failure: exit 1, the message, the checkpoint unchanged and
 * no temp file; then a resume without the fault ends like the reference. */
static void check_refused_intact(const char *dir, const char *cmd_prefix, const char *want)
{
    char *ck = pathf("%s/checkpoint.bin", dir), *errf = pathf("%s/refused.err", tmp);
    size_t n0, n1;
    char *before = slurp(ck, &n0);
    int rc = run("%s %s --resume %s -q --max-generations 200 2> %s", cmd_prefix, bin, dir, errf);
    char *msg = slurp(errf, NULL);
    if (rc != 1 || !strstr(msg, want))
        fprintf(stderr, "exit %d: %s", rc, msg);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(msg, want));
    char *after = slurp(ck, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(n_temp(dir), 0);
    free(before);
    free(after);
    free(msg);
}

static void resume_matches_reference(const char *dir)
{
    assert_int_equal(run("%s --resume %s -q --max-generations 200", bin, dir), 0);
    char *h = header_of(dir);
    assert_non_null(h);
    assert_string_equal(h, ref_header);
    free(h);
}

static void test_full_disk_ulimit(void **state)
{
    (void)state;
    char *dir = fresh_run("full");
    /* 100 kB per file: the log fits, the checkpoint (~340 kB) does not. */
    check_refused_intact(dir, "ulimit -f 200;",
                         "checkpoint.bin: cannot write checkpoint: File too large");
    resume_matches_reference(dir);
    free(dir);
}

static void test_full_disk_tmpfs(void **state)
{
    (void)state;
    char *mnt = pathf("%s/mnt", tmp);
    mkdir(mnt, 0777);
    /* Room for the run and one checkpoint, not for a second one beside it. */
    if (geteuid() != 0 || run("mount -t tmpfs -o size=600k tmpfs %s 2>/dev/null", mnt) != 0) {
        fprintf(stderr, "    (cannot mount a tmpfs here: covered by ulimit -f only)\n");
        skip();
    }
    char *src = fresh_run("fulltmp");
    char *dir = strdup(pathf("%s/r", mnt));
    assert_int_equal(run("cp -r %s %s", src, dir), 0);
    check_refused_intact(dir, "", "No space left on device");
    /* Room again: the same directory resumes to the reference's bits. */
    assert_int_equal(run("mount -o remount,size=2m %s", mnt), 0);
    resume_matches_reference(dir);
    run("umount %s", mnt);
    free(src);
    free(dir);
}

static void test_readonly_dir(void **state)
{
    (void)state;
    char *dir = fresh_run("ro");
    char *ro = strdup(pathf("%s/ro_view", tmp));
    int mounted = 0;
    if (geteuid() == 0) {
        /* root writes through permissions: make a read-only view instead. */
        mkdir(ro, 0777);
        mounted =
            run("mount --bind %s %s 2>/dev/null && mount -o remount,bind,ro %s", dir, ro, ro) == 0;
        if (!mounted) {
            fprintf(stderr, "    (cannot bind-mount read-only as root here)\n");
            run("umount %s 2>/dev/null", ro);
            free(ro);
            free(dir);
            skip();
        }
    } else {
        free(ro);
        ro = strdup(dir);
        assert_int_equal(run("chmod a-w %s", ro), 0);
    }
    check_refused_intact(ro, "", mounted ? "Read-only file system" : "Permission denied");
    /* Export into it: refused, nothing there. */
    assert_int_equal(run("%s export %s -o %s/x.h 2>/dev/null", bin, dir, ro), 1);
    assert_false(exists(pathf("%s/x.h", ro)));
    assert_int_equal(n_temp(ro), 0);
    /* A new run under it: refused before anything is written. */
    assert_int_equal(
        run("%s --config tests/data/tiny.ini --out %s --name n -q 2>/dev/null", bin, ro), 1);
    assert_false(exists(pathf("%s/n", ro)));
    if (mounted)
        run("umount %s", ro);
    else
        run("chmod u+w %s", ro);
    resume_matches_reference(dir);
    free(ro);
    free(dir);
}

/* ---- damaged checkpoints ---------------------------------------------- */

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static void fix_crc(unsigned char *b, size_t n)
{
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(n - 4));
    for (int k = 0; k < 4; k++)
        b[n - 4 + (size_t)k] = (unsigned char)(crc >> (8 * k));
}

/* Loads b as a checkpoint in process; returns the message ("" if loaded). */
static const char *load_msg(const char *path, const unsigned char *b, size_t n)
{
    static char msg[512];
    spit(path, b, n);
    msg[0] = '\0';
    et_error_capture = msg;
    et_error_capture_size = sizeof msg;
    et_ckpt c;
    int rc = et_ckpt_load(&c, path);
    et_error_capture = NULL;
    if (rc == 0) {
        et_ckpt_free(&c);
        return "";
    }
    /* Refused means nothing handed out. */
    assert_null(c.buf);
    assert_int_equal(c.len, 0);
    return msg;
}

static int any_of(const char *msg, const char *a, const char *b, const char *c)
{
    return strstr(msg, a) || (b && strstr(msg, b)) || (c && strstr(msg, c));
}

static void test_damaged_checkpoint_in_process(void **state)
{
    (void)state;
    size_t n;
    unsigned char *orig = (unsigned char *)slurp(pathf("%s/ref/checkpoint.bin", tmp), &n);
    assert_non_null(orig);
    unsigned char *b = malloc(n);
    char *path = pathf("%s/damaged.bin", tmp);
    int full = getenv("ET_FAULT_TRIALS") && atoi(getenv("ET_FAULT_TRIALS")) >= 10;
    long tried = 0;
    /* The byte classes: magic, version, count, then per section its tag,
     * its length and its payload (first, middle, last), then the CRC. */
    size_t pos[4096];
    int cls[4096], np = 0;
    enum { MAGIC, VERSION, COUNT, TAG, LENGTH, PAYLOAD, CRC };
    for (size_t i = 0; i < 16; i++, np++) {
        pos[np] = i;
        cls[np] = i < 8 ? MAGIC : i < 12 ? VERSION : COUNT;
    }
    size_t s = 16;
    uint32_t count = (uint32_t)le(orig + 12, 4);
    for (uint32_t k = 0; k < count; k++) {
        uint64_t l = le(orig + s + 4, 8);
        for (size_t i = 0; i < 12; i++, np++) {
            pos[np] = s + i;
            cls[np] = i < 4 ? TAG : LENGTH;
        }
        if (l) {
            size_t p3[3] = {s + 12, s + 12 + l / 2, s + 12 + l - 1};
            for (int i = 0; i < 3; i++, np++) {
                pos[np] = p3[i];
                cls[np] = PAYLOAD;
            }
        }
        s += 12 + l;
    }
    for (size_t i = n - 4; i < n; i++, np++) {
        pos[np] = i;
        cls[np] = CRC;
    }
    /* And payload bytes anywhere (more under make test-faults). */
    srand(12345);
    for (int i = 0; i < (full ? 400 : 40); i++, np++) {
        pos[np] = 16 + (size_t)rand() % (n - 20);
        cls[np] = -1;
    }
    for (int i = 0; i < np; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, orig, n);
            b[pos[i]] ^= (unsigned char)(1u << bit);
            const char *m = load_msg(path, b, n);
            tried++;
            int c = cls[i];
            int ok = 0;
            if (c == MAGIC)
                ok = !!strstr(m, "not an evotrain checkpoint");
            else if (c == VERSION)
                ok = any_of(m, "is newer than this evotrain understands", "is not supported", NULL);
            else if (c == COUNT || c == LENGTH)
                ok = any_of(m, "truncated", "trailing bytes", "checksum mismatch");
            else if (c == TAG || c == PAYLOAD || c == CRC)
                ok = !!strstr(m, "checksum mismatch");
            else /* a random position: some refusal */
                ok = m[0] != '\0';
            if (!ok)
                fprintf(stderr, "byte %zu bit %d (class %d): '%s'\n", pos[i], bit, c, m);
            assert_true(ok);
        }
    }
    /* Truncated anywhere: every length up to 64, around every section
     * boundary, and random ones. */
    size_t cut[2048];
    int nc = 0;
    for (size_t l = 0; l <= 64; l++)
        cut[nc++] = l;
    s = 16;
    for (uint32_t k = 0; k < count; k++) {
        for (int d = -2; d <= 14; d++)
            cut[nc++] = (size_t)((long)s + d);
        s += 12 + le(orig + s + 4, 8);
    }
    for (size_t l = n - 5; l < n; l++)
        cut[nc++] = l;
    for (int i = 0; i < (full ? 300 : 30); i++)
        cut[nc++] = (size_t)rand() % n;
    for (int i = 0; i < nc; i++) {
        const char *m = load_msg(path, orig, cut[i]);
        tried++;
        int ok = cut[i] < 8 ? !!strstr(m, "not an evotrain checkpoint")
                            : any_of(m, "truncated", "checksum mismatch", NULL);
        if (!ok)
            fprintf(stderr, "cut at %zu: '%s'\n", cut[i], m);
        assert_true(ok);
    }
    /* A future version, with a CRC that matches: refused for the version. */
    memcpy(b, orig, n);
    b[8] = 2;
    fix_crc(b, n);
    assert_string_equal(load_msg(path, b, n),
                        pathf("%s: checkpoint format version 2 is newer than this evotrain "
                              "understands (1)",
                              path));
    tried++;
    fprintf(stderr, "    %ld damaged checkpoints refused\n", tried);
    free(b);
    free(orig);
}

/* An optimizer state that passes the checkpoint's CRC but was crafted: a
 * mu outside [1, lambda] indexed the weights out of bounds in the CMA
 * backends' load (found by fuzz_checkpoint); now refused, for each backend. */
static void test_crafted_optimizer_state(void **state)
{
    (void)state;
    const char *algos[] = {"sep-cmaes", "cmaes", "lm-maes"};
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
        unsigned char *buf[2];
        size_t n = 0;
        et_opt *o = NULL;
        for (int k = 0; k < 2; k++) {
            et_opt_params p;
            et_opt_params_default(&p);
            p.lambda = 8;
            p.mu = 2 + k;
            et_opt_free(o);
            o = et_opt_alloc(algos[a], 5, &p);
            assert_non_null(o);
            n = et_opt_state_size(o);
            buf[k] = malloc(n);
            assert_int_equal(et_opt_save(o, buf[k], n), 0);
        }
        /* mu is the one int field where the two states differ first. */
        size_t at = 0;
        while (at < n && buf[0][at] == buf[1][at])
            at++;
        assert_true(at < n);
        int bad[] = {0, -1, 9, 1 << 30, INT32_MIN};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(buf[1] + at, &bad[i], sizeof(int));
            char msg[512] = "";
            et_error_capture = msg;
            et_error_capture_size = sizeof msg;
            int rc = et_opt_load(o, buf[1], n);
            et_error_capture = NULL;
            assert_int_equal(rc, -1);
            assert_non_null(strstr(msg, "corrupt state (mu"));
        }
        /* The honest state still loads. */
        assert_int_equal(et_opt_load(o, buf[0], n), 0);
        et_opt_free(o);
        free(buf[0]);
        free(buf[1]);
    }
}

/* Through the binary: resume and export refuse, saying which, and leave the
 * file as it was. */
static void test_damaged_checkpoint_cli(void **state)
{
    (void)state;
    char *dir = fresh_run("dmg");
    char *ck = strdup(pathf("%s/checkpoint.bin", dir)), *errf = strdup(pathf("%s/err", tmp));
    size_t n;
    unsigned char *orig = (unsigned char *)slurp(ck, &n);
    unsigned char *b = malloc(n);
    struct {
        const char *what;
        long at; /* byte to flip, or -length to truncate to */
        int version;
        const char *want;
    } cases[] = {
        {"truncated", -(long)(n / 2), 0, "checkpoint is truncated"},
        {"payload bit", (long)n / 3, 0, "checkpoint checksum mismatch (the file is corrupted)"},
        {"crc bit", (long)n - 2, 0, "checkpoint checksum mismatch (the file is corrupted)"},
        {"length bit", 16 + 4 + 7, 0, "checkpoint is truncated"},
        {"magic", 0, 0, "not an evotrain checkpoint"},
        {"future version", -1, 7,
         "checkpoint format version 7 is newer than this evotrain understands (1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, orig, n);
        size_t len = n;
        if (cases[i].version) {
            b[8] = (unsigned char)cases[i].version;
            fix_crc(b, n);
        } else if (cases[i].at < 0) {
            len = (size_t)-cases[i].at;
        } else {
            b[cases[i].at] ^= 0x10;
        }
        spit(ck, b, len);
        char want[512];
        snprintf(want, sizeof want, "evotrain: %s: %s\n", ck, cases[i].want);
        for (int cmd = 0; cmd < 2; cmd++) {
            int rc = cmd ? run("%s export %s -o %s/x.h 2> %s", bin, dir, tmp, errf)
                         : run("%s --resume %s -q 2> %s", bin, dir, errf);
            char *msg = slurp(errf, NULL);
            if (rc != 1 || strcmp(msg, want))
                fprintf(stderr, "%s (%s): exit %d: %s", cases[i].what, cmd ? "export" : "resume",
                        rc, msg);
            assert_int_equal(rc, 1);
            assert_string_equal(msg, want);
            free(msg);
            assert_false(exists(pathf("%s/x.h", tmp)));
            size_t n2;
            char *now = slurp(ck, &n2);
            assert_int_equal(n2, len);
            assert_memory_equal(now, b, len);
            free(now);
        }
    }
    /* Another run's checkpoint (a different seed, the same network shape):
     * resume names the key that differs. */
    char *other = fresh_run("other");
    assert_int_equal(run("sed 's/^seed = 7/seed = 8/' tests/data/tiny.ini > %s/seed8.ini", tmp), 0);
    assert_int_equal(run("%s --config %s/seed8.ini --out %s --name seed8 -q --max-generations 20",
                         bin, tmp, tmp),
                     0);
    assert_int_equal(run("cp %s/seed8/checkpoint.bin %s", tmp, ck), 0);
    assert_int_equal(run("%s --resume %s -q 2> %s", bin, dir, errf), 1);
    char *msg = slurp(errf, NULL);
    char want[512];
    snprintf(want, sizeof want,
             "evotrain: %s: [run] seed differs from the run's configuration: refusing to resume "
             "(only the budget and threads may change)\n",
             ck);
    assert_string_equal(msg, want);
    free(msg);
    /* Export and eval would write another run's network under this run's
     * provenance: refused too. */
    assert_int_equal(run("%s export %s -o %s/x.h 2> %s", bin, dir, tmp, errf), 1);
    msg = slurp(errf, NULL);
    snprintf(want, sizeof want,
             "evotrain: %s: the checkpoint is from another configuration: [run] seed differs "
             "from %s/config.ini\n",
             ck, dir);
    assert_string_equal(msg, want);
    free(msg);
    assert_false(exists(pathf("%s/x.h", tmp)));
    assert_int_equal(run("%s eval %s -n 100 > /dev/null 2> %s", bin, dir, errf), 1);
    msg = slurp(errf, NULL);
    assert_string_equal(msg, want);
    free(msg);
    /* And a different network shape: export refuses as well. */
    assert_int_equal(
        run("sed 's/^hidden = 8 8/hidden = 8 9/' tests/data/tiny.ini > %s/h89.ini", tmp), 0);
    assert_int_equal(
        run("%s --config %s/h89.ini --out %s --name h89 -q --max-generations 10", bin, tmp, tmp),
        0);
    assert_int_equal(run("cp %s/h89/checkpoint.bin %s", tmp, ck), 0);
    assert_int_equal(run("%s --resume %s -q 2> %s", bin, dir, errf), 1);
    msg = slurp(errf, NULL);
    assert_non_null(strstr(msg, "[network] hidden differs from the run's configuration"));
    free(msg);
    assert_int_equal(run("%s export %s -o %s/x.h 2> %s", bin, dir, tmp, errf), 1);
    msg = slurp(errf, NULL);
    assert_non_null(strstr(msg, "[network] hidden differs from"));
    free(msg);
    assert_false(exists(pathf("%s/x.h", tmp)));
    free(other);
    free(b);
    free(orig);
    free(errf);
    free(ck);
    free(dir);
}

/* ---- signals ---------------------------------------------------------- */

/* SIGINT or SIGTERM during training, at a random moment or inside a
 * checkpoint write: exit 130, a checkpoint that loads, no temp file, and
 * the resumed run ends like the reference. */
static void test_signal_training(void **state)
{
    (void)state;
    int sigs[2] = {SIGINT, SIGTERM}, interrupted = 0;
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "sig%d", i);
        char *dir = strdup(pathf("%s/%s", tmp, name)), *ck = pathf("%s/checkpoint.bin", dir);
        int in_write = i >= 2;
        pid_t pid = start_run(name, in_write ? "ET_TEST_COMMIT_DELAY_MS=100" : NULL);
        if (wait_file(pid, ck, 0) < 0 || (in_write && wait_file(pid, dir, 1) < 0)) {
            free(dir);
            continue; /* finished first: nothing to interrupt */
        }
        if (!in_write)
            usleep((useconds_t)(rand() % 200000));
        kill(pid, sigs[i % 2]);
        int st;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            free(dir);
            continue; /* the signal came after the run's end */
        }
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 130);
        assert_int_equal(n_temp(dir), 0);
        resume_matches_reference(dir);
        interrupted++;
        free(dir);
    }
    /* Those signalled inside a checkpoint write (held 100 ms) cannot miss. */
    assert_true(interrupted >= 2);
}

/* SIGTERM or SIGINT while export writes its header (held open by the test
 * hook): exit 130 once the header is complete or removed, never a temp file
 * left behind. */
static void test_signal_export(void **state)
{
    (void)state;
    char *dir = pathf("%s/ref", tmp);
    int sigs[2] = {SIGTERM, SIGINT}, whole = 0;
    for (int i = 0; i < 2; i++) {
        char *out = strdup(pathf("%s/sig_export%d.h", tmp, i));
        pid_t pid = fork();
        if (pid == 0) {
            putenv((char *)(uintptr_t) "ET_TEST_COMMIT_DELAY_MS=300");
            execl(bin, bin, "export", dir, "-o", out, "--name", "net", "-q", (char *)NULL);
            _exit(127);
        }
        assert_int_equal(wait_file(pid, tmp, 1), 1);
        usleep(100000); /* the header is written in far less: now the rename waits */
        kill(pid, sigs[i]);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 130);
        assert_int_equal(n_temp(tmp), 0);
        /* Whole (the signal came during the commit) or absent (it came
         * while the header was being written). */
        char *h = slurp(out, NULL);
        whole += h != NULL;
        if (h)
            assert_string_equal(strstr(h, "#ifndef"), ref_header);
        free(h);
        free(out);
    }
}

/* Outputs that are not regular files are never renamed over (issue 22):
 * /dev/null stays a device, a FIFO a FIFO (its reader gets the header), a
 * symbolic link a link (its target gets the file); the kernel command does
 * not block reading a FIFO where its file would go. */
static void test_special_outputs(void **state)
{
    (void)state;
    char *d = strdup(pathf("%s/special", tmp)), *ref = strdup(pathf("%s/ref", tmp));
    assert_int_equal(run("rm -rf %s && mkdir -p %s/k && mkfifo %s/fifo %s/k/evonet.c", d, d, d, d),
                     0);
    assert_int_equal(run("%s export %s -o /dev/null -q", bin, ref), 0);
    assert_int_equal(run("test -c /dev/null"), 0);
    assert_int_equal(run("cat %s/fifo > %s/read & %s export %s -o %s/fifo --name net -q; rc=$?; "
                         ": 1<>%s/fifo; wait; exit $rc",
                         d, d, bin, ref, d, d),
                     0);
    assert_int_equal(run("test -p %s/fifo", d), 0);
    char *h = slurp(pathf("%s/read", d), NULL);
    assert_non_null(h);
    assert_non_null(strstr(h, "#ifndef"));
    assert_string_equal(strstr(h, "#ifndef"), ref_header);
    free(h);
    assert_int_equal(run("echo old > %s/target.h && ln -s target.h %s/link.h", d, d), 0);
    /* --force: the target ("old") is not a header export wrote. */
    assert_int_equal(run("%s export %s -o %s/link.h --name net --force -q", bin, ref, d), 0);
    assert_int_equal(run("test -L %s/link.h", d), 0);
    h = slurp(pathf("%s/target.h", d), NULL);
    assert_string_equal(strstr(h, "#ifndef"), ref_header);
    free(h);
    /* report.md of a run, a link to a file elsewhere. */
    assert_int_equal(run("cp -r %s %s/run && echo old > %s/report.txt && "
                         "ln -s ../report.txt %s/run/report.md",
                         ref, d, d, d),
                     0);
    assert_int_equal(run("GNUPLOT=/nonexistent %s report %s/run -n 100 -q 2>/dev/null", bin, d), 0);
    assert_int_equal(run("test -L %s/run/report.md && grep -q '^#' %s/report.txt", d, d), 0);
    /* A FIFO where the kernel's source would go: refused, not read. */
    assert_int_equal(run("%s kernel -o %s/k 2>/dev/null", bin, d), 1);
    assert_int_equal(run("test -p %s/k/evonet.c", d), 0);
    assert_int_equal(n_temp(d), 0);
    free(d);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_resume),
        cmocka_unit_test(test_full_disk_ulimit),
        cmocka_unit_test(test_full_disk_tmpfs),
        cmocka_unit_test(test_readonly_dir),
        cmocka_unit_test(test_damaged_checkpoint_in_process),
        cmocka_unit_test(test_crafted_optimizer_state),
        cmocka_unit_test(test_damaged_checkpoint_cli),
        cmocka_unit_test(test_signal_training),
        cmocka_unit_test(test_signal_export),
        cmocka_unit_test(test_special_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
