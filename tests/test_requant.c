/* The kernel's requantization against an int64 reference on 10^7 values.
 * A file of its own because it includes the kernel source, whose float
 * poison would cover the rest of the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "et_rng.h"

/* The kernel's static requant() is tested directly: include the source under
 * other names so it does not clash with the linked copy. */
#define evonet_forward evonet_forward_under_test
#define evonet_scratch_bytes evonet_scratch_bytes_under_test
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "../src/kernel/evonet.c"
#pragma GCC diagnostic pop
#undef evonet_forward
#undef evonet_scratch_bytes

static int32_t requant_ref(int32_t acc, uint32_t m, uint32_t r)
{
    int64_t v = (int64_t)acc * m;
    int64_t d = (int64_t)1 << (16 + r);
    return (int32_t)(v >= 0 ? v / d : -((-v + d - 1) / d));
}

static void test_requant_exact(void **state)
{
    (void)state;
    gsl_rng *rng = et_rng_alloc();
    et_rng_key(rng, 1, 900, 0);
    static const int32_t accs[] = {
        0,      1,       -1,         65535,         -65535,         65536,     -65536,    32767,
        -32768, 1 << 30, -(1 << 30), (1 << 30) - 1, -(1 << 30) + 1, 123456789, -123456789};
    static const uint32_t ms[] = {1, 2, 255, 256, 32767, 32768, 65534, 65535};
    long n = 0;
    for (size_t a = 0; a < sizeof accs / sizeof accs[0]; a++)
        for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
            for (uint32_t r = 0; r <= 31; r++, n++)
                assert_int_equal(requant(accs[a], ms[k], r), requant_ref(accs[a], ms[k], r));
    for (long i = 0; i < 10000000; i++, n++) {
        uint64_t u = et_rng_next64(rng->state);
        /* Mix full-range accumulators with small ones, where rounding matters. */
        int32_t acc = (i & 1) ? (int32_t)(u % ((1u << 31) + 1)) - (1 << 30)
                              : (int32_t)((u >> 8) % 200001) - 100000;
        uint32_t m = 1 + (uint32_t)((u >> 40) % 65535);
        uint32_t r = (uint32_t)((u >> 56) % 32);
        if (requant(acc, m, r) != requant_ref(acc, m, r))
            fail_msg("requant(%d, %u, %u) = %d, reference %d", acc, m, r, requant(acc, m, r),
                     requant_ref(acc, m, r));
    }
    assert_true(n > 10000000);
    gsl_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requant_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
