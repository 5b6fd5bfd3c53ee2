/* The Cortex-M0 test image: runs an exported network over the test vectors and
 * prints every output over semihosting, one line per vector, for the host to
 * compare bit for bit; also times one inference between two markers for the
 * m0cycles plugin (make bench-m0). */
#include <stdint.h>

#include "fixture_net.h"
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

int main(void)
{
    int16_t out[FIXTURE_NET_N_OUT];
    char line[FIXTURE_NET_N_OUT * 8 + 2];

    bench_begin();
    fixture_net_infer(fw_vectors[FW_BENCH_VECTOR], out);
    bench_end();

    int st = fixture_net_selftest();
    for (unsigned t = 0; t < FW_N_VECTORS; t++) {
        fixture_net_infer(fw_vectors[t], out);
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
