/* The flash figures of `evotrain report` (the ASan build in $ET_BIN) against
 * the arrays of the header `evotrain export` writes for the same run: the
 * element counts parsed from the header, and, when arm-none-eabi-gcc is
 * installed, the symbol sizes of that header compiled for the Cortex-M0. A
 * change of the kernel's data layout that report.c misses fails here. The
 * network (18-12-5-6) pads every layer, so the padding is counted too. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256], run_dir[300], hdr[300], report[320];
static const char *bin;

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_report_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    if (run("sed -e 's/^hidden = .*/hidden = 12 5/' -e 's/^max_generations = .*/max_generations = "
            "10/' -e 's/^floor_generations = .*/floor_generations = 10/' tests/data/tiny.ini > "
            "%s/c.ini",
            tmp) != 0)
        return -1;
    if (run("%s --config %s/c.ini --out %s --force -q", bin, tmp, tmp) != 0)
        return -1;
    snprintf(run_dir, sizeof run_dir, "%s/tiny", tmp);
    snprintf(hdr, sizeof hdr, "%s/rnet.h", tmp);
    snprintf(report, sizeof report, "%s/report.md", run_dir);
    if (run("%s export %s -o %s --name rnet -q", bin, run_dir, hdr) != 0)
        return -1;
    if (run("GNUPLOT=/nonexistent/gnuplot %s report %s -n 200 -q 2>/dev/null", bin, run_dir) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf %s", tmp);
    return 0;
}

/* The number after the last "**" pair of the table row that holds `label`. */
static long report_bytes(const char *md, const char *label)
{
    const char *p = strstr(md, label);
    if (!p)
        return -1;
    const char *eol = strchr(p, '\n'), *b = NULL;
    for (const char *q = p; (q = strstr(q, "| **")) && q < eol; q += 4)
        b = q;
    long v = -1;
    if (!b || sscanf(b, "| **%ld**", &v) != 1)
        return -1;
    return v;
}

/* Sums of the element counts of the header's arrays: `static const TYPE
 * rnet_PREFIX...[N]` (every match), or the product N*M of a 2-D array. */
static long header_count(const char *h, const char *decl)
{
    long total = 0;
    size_t dl = strlen(decl);
    for (const char *p = h; (p = strstr(p, decl)); p += dl) {
        const char *br = strchr(p + dl, '[');
        long n = 0, m = 1;
        if (!br || sscanf(br, "[%ld]", &n) != 1)
            return -1;
        const char *br2 = strchr(br + 1, '[');
        if (br2 && br2 < strchr(br, '=') && sscanf(br2, "[%ld]", &m) != 1)
            return -1;
        total += n * m;
    }
    return total;
}

/* Report's "network data" equals the bytes of the exported arrays, with the
 * element sizes of a 32-bit Cortex-M: uint8_t 1, evonet_chan 8 (int32_t and
 * two uint16_t), evonet_layer 12 (two pointers, two uint16_t), evonet 8. */
static void test_flash_matches_header(void **state)
{
    (void)state;
    char *md = slurp(report, NULL), *h = slurp(hdr, NULL);
    assert_non_null(md);
    assert_non_null(h);
    long w = header_count(h, "static const uint8_t rnet_w");
    long ch = header_count(h, "static const evonet_chan rnet_c");
    long layers = header_count(h, "static const evonet_layer rnet_layers");
    assert_int_equal(layers, 3);
    assert_non_null(strstr(h, "static const evonet rnet_net = "));
    /* 18 -> 12 -> 5 -> 6: padded to 16, 8, 8 outputs. */
    assert_int_equal(w, 16 * 18 + 8 * 12 + 8 * 5);
    assert_int_equal(ch, 16 + 8 + 8);
    long data = w + 8 * ch + 16 * layers + 8; /* ABI 4: 16-byte layer entries */
    assert_int_equal(report_bytes(md, "**network data**"), data);
    /* The self-test vectors: int16_t test_in[T][18] and test_out[T][6]. */
    long tv = 2 * (header_count(h, "static const int16_t rnet_test_in") +
                   header_count(h, "static const int16_t rnet_test_out"));
    char s[96];
    snprintf(s, sizeof s, "self-test vectors (%ld bytes)", tv);
    assert_non_null(strstr(md, s));
    free(md);
    free(h);
}

/* The same figure from the compiler itself: the header built for the
 * Cortex-M0, the sizes of its network symbols summed by nm. */
static void test_flash_matches_m0_symbols(void **state)
{
    (void)state;
    if (run("command -v arm-none-eabi-gcc >/dev/null 2>&1") != 0) {
        printf("        (skipped: arm-none-eabi-gcc not found)\n");
        skip();
    }
    char *md = slurp(report, NULL);
    assert_non_null(md);
    assert_int_equal(run("printf '#include \"rnet.h\"\\nconst void *keep = &rnet_net;\\n' > "
                         "%s/keep.c && arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0 -mthumb "
                         "-ffreestanding -O1 -Iinclude -I%s -c %s/keep.c -o %s/keep.o",
                         tmp, tmp, tmp, tmp),
                     0);
    char sizes[512];
    snprintf(sizes, sizeof sizes, "%s/sizes.txt", tmp);
    assert_int_equal(run("arm-none-eabi-nm -S -t d %s/keep.o | awk '$4 ~ "
                         "/^rnet_(w[0-9]+|c[0-9]+|layers|net)$/ {n++; s += $2} "
                         "END {print n, s}' > %s",
                         tmp, sizes),
                     0);
    char *t = slurp(sizes, NULL);
    assert_non_null(t);
    long n = 0, bytes = 0;
    assert_int_equal(sscanf(t, "%ld %ld", &n, &bytes), 2);
    assert_int_equal(n, 3 + 3 + 1 + 1);
    assert_int_equal(report_bytes(md, "**network data**"), bytes);
    free(t);
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flash_matches_header),
        cmocka_unit_test(test_flash_matches_m0_symbols),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
