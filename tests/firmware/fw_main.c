/* The Cortex-M0 test image: runs the exported networks (one per weight
 * format: int8, int4, int2, ternary) over the test vectors and prints every
 * output over semihosting, one line per vector, network by network, for the
 * host to compare bit for bit; also times one inference of each network
 * between two markers for the m0cycles plugin (make bench-m0: regions 0 to
 * 3 in that order). */
#include <stdint.h>

#include "fixture_net.h"
#include "fixture_w2.h"
#include "fixture_w4.h"
#include "fixture_wt.h"
#include "fw.h"
#include "vectors.h"

/* Distinct bodies, so the linker cannot fold them into one address. */
__attribute__((noinline)) void bench_begin(void);
__attribute__((noinline)) void bench_end(void);
volatile int fw_marker;
__attribute__((noinline)) void bench_begin(void)
{
    fw_marker = 1;
}
__attribute__((noinline)) void bench_end(void)
{
    fw_marker = 2;
}

static char *put_int(char *p, int v)
{
    char tmp[8];
    int n = 0;
    unsigned u = v < 0 ? (unsigned)-v : (unsigned)v;
    if (v < 0)
        *p++ = '-';
    do {
        /* No divide instruction: a divide-by-10 via multiply would do, but
         * repeated subtraction is simpler and this is not the measured part. */
        unsigned q = 0;
        while (u >= 10) {
            u -= 10;
            q++;
        }
        tmp[n++] = (char)('0' + u);
        u = q;
    } while (u);
    while (n)
        *p++ = tmp[--n];
    return p;
}

typedef void (*infer_fn)(const int16_t in[], int16_t out[]);

int main(void)
{
    static const infer_fn nets[] = {fixture_net_infer, fixture_w4_infer, fixture_w2_infer,
                                    fixture_wt_infer};
    int16_t out[FIXTURE_NET_N_OUT];
    char line[FIXTURE_NET_N_OUT * 8 + 2];

    for (unsigned n = 0; n < sizeof nets / sizeof nets[0]; n++) {
        bench_begin();
        nets[n](fw_vectors[FW_BENCH_VECTOR], out);
        bench_end();
    }

    int st = fixture_net_selftest() | fixture_w4_selftest() | fixture_w2_selftest() |
             fixture_wt_selftest();
    for (unsigned n = 0; n < sizeof nets / sizeof nets[0]; n++)
        for (unsigned t = 0; t < FW_N_VECTORS; t++) {
            nets[n](fw_vectors[t], out);
            char *p = line;
            for (unsigned k = 0; k < FIXTURE_NET_N_OUT; k++) {
                if (k)
                    *p++ = ' ';
                p = put_int(p, out[k]);
            }
            *p++ = '\n';
            *p = '\0';
            fw_puts(line);
        }
    if (st != 0) {
        fw_puts("SELFTEST FAILED\n");
        return 1;
    }
    return 0;
}
