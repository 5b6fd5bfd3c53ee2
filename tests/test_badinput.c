/* test_badinput: broken inputs through the real binary ($ET_BIN), each with
 * its exact message from a golden file, a non-zero exit and nothing written.
 *
 * - every .ini file in tests/data/bad_configs (and a missing file): trained with
 *   `--config F --out DIR` and dumped with `config --dump`; the messages are
 *   in tests/data/bad_configs.golden. A few are valid INI that only the
 *   trainer refuses (the dump accepts them: "dump: accepted").
 * - tests/data/bad_csv/poses_*.csv through `simulate --poses`, data_*.csv
 *   through `eval --data`; messages in tests/data/bad_csv.golden.
 * - a checkpoint holding a network the kernel cannot run exactly (CRC
 *   intact): export refuses it, naming the reason.
 * - the documented extremes of every key (`config --doc` ranges), one at a
 *   time in tests/data/tiny.ini: each trains briefly or is refused with a
 *   message, never a crash; results in tests/data/bad_configs_extremes.golden.
 *
 * ET_UPDATE_GOLDEN=1 rewrites the golden files from what the binary says;
 * review the diff before committing it. */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <zlib.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[64];
static const char *bin;

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of entries in dir other than . and .. */
static int n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir ending in ext, sorted, plus extra (a name that does not
 * exist there). */
static char **case_files(const char *dir, const char *ext, const char *extra, size_t *n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **v = NULL;
    size_t k = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name), le = strlen(ext);
        if (l > le && !strcmp(e->d_name + l - le, ext)) {
            v = realloc(v, (k + 1) * sizeof *v);
            v[k++] = strdup(e->d_name);
        }
    }
    closedir(d);
    v = realloc(v, (k + 1) * sizeof *v);
    v[k++] = strdup(extra);
    qsort(v, k, sizeof *v, cmp_str);
    *n = k;
    return v;
}

/* Appends "prefix line\n" for every line of text to the growing string s. */
static void add_lines(char **s, const char *prefix, const char *text)
{
    size_t cur = *s ? strlen(*s) : 0, need = cur + 1;
    for (const char *p = text; *p;) {
        size_t l = strcspn(p, "\n");
        need += strlen(prefix) + l + 1;
        p += l + (p[l] == '\n');
    }
    *s = realloc(*s, need);
    char *o = *s + cur;
    for (const char *p = text; *p;) {
        size_t l = strcspn(p, "\n");
        o += sprintf(o, "%s%.*s\n", prefix, (int)l, p);
        p += l + (p[l] == '\n');
    }
    *o = '\0';
}

/* Compare got with the golden file (or rewrite it under ET_UPDATE_GOLDEN). */
static void check_golden(const char *golden, const char *got)
{
    if (getenv("ET_UPDATE_GOLDEN")) {
        FILE *f = fopen(golden, "w");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
        return;
    }
    char *want = slurp(golden, NULL);
    assert_non_null(want);
    if (strcmp(want, got)) {
        char path[128];
        snprintf(path, sizeof path, "%s/got.golden", tmp);
        FILE *f = fopen(path, "w");
        fputs(got, f);
        fclose(f);
        run("diff -u %s %s >&2", golden, path);
    }
    assert_string_equal(want, got);
    free(want);
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_badinput_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

/* One edit of an INI file: set key in section to value. */
typedef struct {
    const char *section, *key, *value;
} ini_edit;

/* The value of the last edit of key in sect, marking every edit of it
 * applied, or NULL. */
static const char *edit_value(const ini_edit *e, size_t ne, int *done, const char *sect,
                              const char *key, size_t kl)
{
    const char *v = NULL;
    for (size_t i = 0; i < ne; i++)
        if (!strcmp(e[i].section, sect) && strlen(e[i].key) == kl && !strncmp(e[i].key, key, kl))
            v = e[i].value, done[i] = 1;
    return v;
}

/* Writes the edits of sect that no line of the file took. */
static void add_missing(FILE *f, const ini_edit *e, size_t ne, int *done, const char *sect)
{
    for (size_t i = 0; i < ne; i++)
        if (!done[i] && !strcmp(e[i].section, sect)) {
            const char *v = edit_value(e, ne, done, sect, e[i].key, strlen(e[i].key));
            fprintf(f, "%s = %s\n", e[i].key, v);
        }
}

/* tests/data/tiny.ini with the edits applied (a later edit of the same key
 * wins), written to path: a key present in its section is replaced, one
 * absent is added at the end of the section. */
static void tiny_edit(const char *path, const ini_edit *e, size_t ne)
{
    char *t = slurp("tests/data/tiny.ini", NULL);
    assert_non_null(t);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    int *done = calloc(ne + 1, sizeof *done);
    char sect[64] = "";
    for (char *p = t; *p;) {
        size_t l = strcspn(p, "\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)l, p);
        p += l + (p[l] == '\n');
        if (line[0] == '[') {
            add_missing(f, e, ne, done, sect);
            snprintf(sect, sizeof sect, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
            fprintf(f, "%s\n", line);
            continue;
        }
        size_t kl = strcspn(line, " =");
        const char *v = line[0] && line[0] != ';' ? edit_value(e, ne, done, sect, line, kl) : NULL;
        if (v)
            fprintf(f, "%.*s = %s\n", (int)kl, line, v);
        else
            fprintf(f, "%s\n", line);
    }
    add_missing(f, e, ne, done, sect);
    free(done);
    free(t);
    assert_int_equal(fclose(f), 0);
}

#define CFG_DIR "tests/data/bad_configs"

static void test_bad_configs(void **state)
{
    (void)state;
    size_t n;
    char **files = case_files(CFG_DIR, ".ini", "missing.ini", &n);
    assert_true(n >= 20);
    char *got = NULL;
    add_lines(&got, "", "");
    char out[128], err[128], dout[128];
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    snprintf(dout, sizeof dout, "%s/dump", tmp);
    for (size_t i = 0; i < n; i++) {
        char f[256], head[300];
        snprintf(f, sizeof f, CFG_DIR "/%s", files[i]);
        snprintf(head, sizeof head, "== %s", files[i]);
        add_lines(&got, "", head);
        /* Training: refused, exit 1, no output directory at all. */
        int rc = run("%s --config %s --out %s 2> %s", bin, f, out, err);
        if (rc != 1 || exists(out))
            fprintf(stderr, "%s: train exit %d, out %s\n", f, rc,
                    exists(out) ? "created" : "absent");
        assert_int_equal(rc, 1);
        assert_false(exists(out));
        char *msg = slurp(err, NULL);
        add_lines(&got, "train: ", msg);
        free(msg);
        /* The dump: the same message, nothing on stdout; or accepted, for
         * what only the trainer can judge (network shape, algorithm, name). */
        rc = run("%s config --dump --config %s > %s 2> %s", bin, f, dout, err);
        msg = slurp(err, NULL);
        size_t dlen;
        char *dtext = slurp(dout, &dlen);
        if (rc == 0) {
            assert_string_equal(msg, "");
            assert_true(dlen > 0);
            add_lines(&got, "dump: ", "accepted");
        } else {
            assert_int_equal(rc, 1);
            assert_int_equal(dlen, 0);
            add_lines(&got, "dump: ", msg);
        }
        free(dtext);
        free(msg);
        free(files[i]);
    }
    free(files);
    check_golden("tests/data/bad_configs.golden", got);
    free(got);
}

/* Extremes whose run costs minutes and gigabytes by design (a pool or
 * validation set of tens of millions of simulated samples, 100,000
 * candidates a generation, 100,000 polish sweeps): only the dump checks
 * them, the trainer is not started. */
static const char *const costly[] = {"pool = 67108864", "valid = 16777216", "lambda = 100000",
                                     "polish_sweeps = 100000"};

/* The case "[section] key = value": trained for two generations (or 24
 * evaluations) from tiny.ini, its outcome appended to got. */
static void extreme_case(char **got, const char *section, const char *key, const char *value)
{
    char cfg[128], out[128], err[128], head[400], kv[300];
    snprintf(cfg, sizeof cfg, "%s/extreme.ini", tmp);
    snprintf(out, sizeof out, "%s/extreme", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    snprintf(kv, sizeof kv, "%s = %s", key, value);
    snprintf(head, sizeof head, "== [%s] %s", section, kv);
    add_lines(got, "", head);
    const ini_edit e[] = {
        {"train", "max_generations", "2"}, {"train", "max_evals", "24"}, {section, key, value}};
    tiny_edit(cfg, e, sizeof e / sizeof e[0]);
    int skip = 0;
    for (size_t i = 0; i < sizeof costly / sizeof costly[0]; i++)
        skip |= !strcmp(kv, costly[i]);
    int rc = skip ? run("%s config --dump --config %s > /dev/null 2> %s", bin, cfg, err)
                  : run("rm -rf %s && %s --config %s --out %s --name x -q 2> %s", out, bin, cfg,
                        out, err);
    char *msg = slurp(err, NULL);
    assert_non_null(msg);
    if (rc != 0 && rc != 1)
        fprintf(stderr, "%s: exit %d: %s\n", head, rc, msg);
    assert_true(rc == 0 || rc == 1);
    if ((rc == 0) != !msg[0] || (rc == 1 && strncmp(msg, "evotrain: ", 10)))
        fprintf(stderr, "%s: exit %d: %s\n", head, rc, msg);
    if (rc == 0) {
        assert_string_equal(msg, "");
        add_lines(got, "train: ", skip ? "not run (minutes by design); dump: accepted" : "ok");
    } else {
        /* One line, through et_error, naming the file (its temporary path
         * replaced, for the golden file). */
        assert_int_equal(strncmp(msg, "evotrain: ", 10), 0);
        assert_non_null(strchr(msg, '\n'));
        assert_int_equal(strchr(msg, '\n')[1], '\0');
        char *at = strstr(msg, cfg), line[512];
        if (at)
            snprintf(line, sizeof line, "%.*sCONFIG%s", (int)(at - msg), msg, at + strlen(cfg));
        else
            snprintf(line, sizeof line, "%s", msg);
        add_lines(got, "train: ", line);
    }
    free(msg);
}

/* The value text of one documented extreme of a key: x repeated as the
 * key's value has numbers (three for a vector, a pair lo hi for a range). */
static void extreme_value(char *v, size_t n, const char *shape, const char *def, const char *x)
{
    int count = 1;
    if (!strcmp(shape, "x y z"))
        count = 3;
    else if (!shape[0]) /* a trainer key: as many numbers as its default */
        for (const char *p = def; *p; p++)
            count += *p == ' ' && p[1] && p[1] != ' ';
    v[0] = '\0';
    for (int i = 0; i < count; i++)
        snprintf(v + strlen(v), n - strlen(v), "%s%s", i ? " " : "", x);
}

static void test_key_extremes(void **state)
{
    (void)state;
    char doc[128];
    snprintf(doc, sizeof doc, "%s/doc", tmp);
    assert_int_equal(run("%s config --doc > %s", bin, doc), 0);
    char *text = slurp(doc, NULL);
    assert_non_null(text);
    char *got = NULL;
    add_lines(&got, "", "");
    int keys = 0, tried = 0;
    for (char *p = text, *next; *p; p = next) {
        char *head = p, *body = strchr(p, '\n');
        assert_non_null(body);
        *body++ = '\0';
        /* The body: every indented line up to the next key (the optimizer's
         * key lists the table of algorithms under its line). */
        next = body;
        while (*next == ' ') {
            char *nl = strchr(next, '\n');
            assert_non_null(nl);
            next = nl + 1;
        }
        next[-1] = '\0';
        /* "[section] key = default", "[magnet NAME] or [magnets] key = ...":
         * instance keys go to the first magnet or sensor of tiny.ini. */
        const char *section = "";
        char sect[64], key[64], def[128];
        snprintf(sect, sizeof sect, "%.*s", (int)strcspn(head + 1, "]"), head + 1);
        section = !strcmp(sect, "magnet NAME")   ? "magnet A"
                  : !strcmp(sect, "sensor NAME") ? "sensor 0"
                                                 : sect;
        char *k = strrchr(head, ']') + 2, *eq = strstr(k, " = ");
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - k), k);
        snprintf(def, sizeof def, "%s", eq + 3);
        keys++;
        char v[256];
        const char *r = strstr(body, "range "), *one = strstr(body, "(one of: ");
        if (r) {
            /* "(shape; range [above ]LO to HI[, integers])" or "(range LO to HI)" */
            char shape[32] = "", lo[32], hi[32];
            const char *open = strrchr(body, '(');
            if (open && open < r && r[-2] == ';')
                snprintf(shape, sizeof shape, "%.*s", (int)(r - 2 - open - 1), open + 1);
            r += 6;
            int above = !strncmp(r, "above ", 6);
            r += above ? 6 : 0;
            assert_int_equal(sscanf(r, "%31s to %31[^,)]", lo, hi), 2);
            if (above) /* the bound itself is refused: the smallest value above it */
                snprintf(lo, sizeof lo, "1e-9");
            if (!strcmp(shape, "lo hi")) {
                snprintf(v, sizeof v, "%s %s", lo, hi);
                extreme_case(&got, section, key, v), tried++;
            } else {
                extreme_value(v, sizeof v, shape, def, lo);
                extreme_case(&got, section, key, v), tried++;
                extreme_value(v, sizeof v, shape, def, hi);
                if (strcmp(lo, hi))
                    extreme_case(&got, section, key, v), tried++;
            }
        } else if (one) {
            char words[128];
            snprintf(words, sizeof words, "%.*s", (int)strcspn(one + 9, ")"), one + 9);
            char *save = NULL;
            for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
                extreme_case(&got, section, key, w), tried++;
        }
    }
    free(text);
    /* What the ranges above do not say: the most hidden layers (and one
     * more), the seed's bounds, the other field model, a single axis. */
    extreme_case(&got, "network", "hidden", "4 4 4 4 4 4 4");
    extreme_case(&got, "network", "hidden", "4 4 4 4 4 4 4 4");
    extreme_case(&got, "run", "seed", "0");
    extreme_case(&got, "run", "seed", "18446744073709551615");
    extreme_case(&got, "magnets", "model", "dipole");
    extreme_case(&got, "sensors", "axes", "x");
    assert_true(keys >= 40);
    assert_true(tried >= 60);
    check_golden("tests/data/bad_configs_extremes.golden", got);
    free(got);
}

#define CSV_DIR "tests/data/bad_csv"

/* A small finished run for eval --data. */
static const char *run_dir(void)
{
    static char dir[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/runs/r", tmp);
        assert_int_equal(run("%s --config tests/data/tiny.ini --out %s/runs --name r -q "
                             "--max-generations 10",
                             bin, tmp),
                         0);
    }
    return dir;
}

/* One broken CSV through its command: exit 1, nothing on stdout, nothing
 * written; the message is returned. */
static char *refuse_csv(const char *f)
{
    char work[128], err[128], outp[160];
    snprintf(work, sizeof work, "%s/work", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    snprintf(outp, sizeof outp, "%s/fields.csv", work);
    assert_int_equal(run("rm -rf %s && mkdir %s", work, work), 0);
    const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
    int rc;
    if (!strncmp(base, "data_", 5))
        rc = run("%s eval %s --data %s > %s/stdout 2> %s", bin, run_dir(), f, work, err);
    else
        rc = run("%s simulate --config tests/data/tiny.ini --poses %s -o %s > %s/stdout 2> %s", bin,
                 f, outp, work, err);
    assert_int_equal(rc, 1);
    char so[160];
    snprintf(so, sizeof so, "%s/stdout", work);
    size_t len;
    char *s = slurp(so, &len);
    assert_int_equal(len, 0);
    free(s);
    /* Only the (empty) stdout capture: no output file, no temp file. */
    assert_int_equal(n_entries(work), 1);
    return slurp(err, NULL);
}

static void test_bad_csv(void **state)
{
    (void)state;
    size_t n;
    char **files = case_files(CSV_DIR, ".csv", "poses_missing.csv", &n);
    assert_true(n >= 20);
    char *got = NULL;
    add_lines(&got, "", "");
    for (size_t i = 0; i < n; i++) {
        char f[256], head[300];
        snprintf(f, sizeof f, CSV_DIR "/%s", files[i]);
        snprintf(head, sizeof head, "== %s", files[i]);
        add_lines(&got, "", head);
        char *msg = refuse_csv(f);
        add_lines(&got, "", msg);
        free(msg);
        free(files[i]);
    }
    free(files);
    check_golden("tests/data/bad_csv.golden", got);
    free(got);
}

/* A line too long for any row we could use: generated, not committed. */
static void test_csv_overlong_line(void **state)
{
    (void)state;
    char f[128];
    snprintf(f, sizeof f, "%s/long.csv", tmp);
    FILE *o = fopen(f, "w");
    fputs("x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg\n0,0,0,0,0,", o);
    for (int i = 0; i < (1 << 20); i++)
        fputc('0', o);
    fputs("\n", o);
    fclose(o);
    char *msg = refuse_csv(f);
    char want[256];
    snprintf(want, sizeof want, "evotrain: %s:2: line longer than 1048576 bytes\n", f);
    assert_string_equal(msg, want);
    free(msg);
}

/* Little-endian helpers for the checkpoint's layout (src/train/checkpoint.h). */
static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

/* Sets the first shift of the best network in dir's checkpoint and makes
 * the CRC right again, so only the network's own check can catch it.
 * Returns the shift it replaced. */
static int set_shift(const char *dir, int shift)
{
    int old = -1;
    char ck[256];
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
    size_t len;
    unsigned char *b = (unsigned char *)slurp(ck, &len);
    assert_non_null(b);
    size_t pos = 16;
    uint32_t count = (uint32_t)le(b + 12, 4);
    int found = 0;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t tag = (uint32_t)le(b + pos, 4);
        uint64_t l = le(b + pos + 4, 8);
        if (tag == 4) { /* ET_CKPT_BEST: nl, sizes, then layer 0's w, bias, mult, shift */
            unsigned char *p = b + pos + 12;
            uint32_t nl = (uint32_t)le(p, 4);
            uint32_t ni = (uint32_t)le(p + 4, 4), no = (uint32_t)le(p + 8, 4);
            p += 4 + 4 * (nl + 1) + (size_t)ni * no + 4 * no + 2 * no;
            old = *p;
            *p = (unsigned char)shift;
            found = 1;
        }
        pos += 12 + l;
    }
    assert_true(found);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)pos);
    for (int k = 0; k < 4; k++)
        b[pos + (size_t)k] = (unsigned char)(crc >> (8 * k));
    FILE *f = fopen(ck, "wb");
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    free(b);
    return old;
}

static void test_export_refuses_invalid_network(void **state)
{
    (void)state;
    char dir[160], err[160], h[160];
    snprintf(dir, sizeof dir, "%s/runs/bad", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    snprintf(h, sizeof h, "%s/net.h", tmp);
    assert_int_equal(run("cp -r %s %s", run_dir(), dir), 0);
    /* A requantization shift of 40 cannot be done by the kernel's 32-bit
     * arithmetic: the header would not compute what was scored. */
    int old = set_shift(dir, 40);
    assert_int_equal(run("%s export %s -o %s 2> %s", bin, dir, h, err), 1);
    assert_false(exists(h));
    char *msg = slurp(err, NULL);
    assert_non_null(strstr(msg, "the network in the checkpoint is invalid"));
    assert_non_null(strstr(msg, "shift"));
    free(msg);
    /* The trainer refuses to resume from it too. */
    assert_int_equal(run("%s --resume %s -q 2> %s", bin, dir, err), 1);
    msg = slurp(err, NULL);
    assert_non_null(strstr(msg, "best network"));
    free(msg);
    /* The same file with the shift put back is accepted: the refusal was
     * about the network and nothing else. */
    set_shift(dir, old);
    assert_int_equal(run("%s export %s -o %s -q", bin, dir, h), 0);
}

/* Inputs with no line end: /dev/zero as the configuration, as --data and
 * as --init is refused at its first line, after a bounded read (the readers
 * once grew their buffer until allocation failed). */
static void test_unbounded_inputs(void **state)
{
    (void)state;
    char err[128];
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_int_equal(run("%s config --dump --config /dev/zero > /dev/null 2> %s", bin, err), 1);
    char *msg = slurp(err, NULL);
    assert_string_equal(msg, "evotrain: /dev/zero:1: not a text file (NUL byte)\n");
    free(msg);
    assert_int_equal(run("%s eval %s --data /dev/zero > /dev/null 2> %s", bin, run_dir(), err), 1);
    msg = slurp(err, NULL);
    assert_string_equal(msg, "evotrain: /dev/zero:1: line longer than 1048576 bytes\n");
    free(msg);
    assert_int_equal(run("%s --config tests/data/tiny.ini --init /dev/zero --out %s/init -q 2> %s",
                         bin, tmp, err),
                     1);
    msg = slurp(err, NULL);
    assert_string_equal(msg, "evotrain: /dev/zero:1: line longer than 65536 bytes\n");
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_key_extremes),
        cmocka_unit_test(test_bad_csv),
        cmocka_unit_test(test_csv_overlong_line),
        cmocka_unit_test(test_unbounded_inputs),
        cmocka_unit_test(test_export_refuses_invalid_network),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
