/* The fitness scores exactly the network it reports, whatever the thread
 * and the vector path:
 * the loss of a candidate equals the loss of its decoded network (output
 * layer fitted by ridge) computed again by the plain forward pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>

#include "batch.h"
#include "et_rng.h"
#include "evonet_check.h"
#include "fitness.h"
#include "genome.h"

enum { N = 777, NI = 18, NO = 6 }; /* N: not a multiple of the tile */

typedef struct fixture {
    int16_t X[NI * N];
    int32_t T[NO * N];
    et_data d;
} fixture;

static void make_data(fixture *fx, gsl_rng *r)
{
    /* Readings with offsets and spreads like the pose scenario's, targets
     * that depend on them (so the ridge fit has something to find). */
    for (size_t s = 0; s < N; s++) {
        for (unsigned i = 0; i < NI; i++)
            fx->X[i * N + s] =
                (int16_t)((int)(i * 37) - 300 + (int)gsl_ran_gaussian_ziggurat(r, 200.0 + 20 * i));
        for (unsigned k = 0; k < NO; k++)
            fx->T[k * N + s] = fx->X[k * N + s] * 3 - fx->X[(k + 7) * N + s] +
                               (int32_t)gsl_rng_uniform_int(r, 100);
    }
    fx->d = (et_data){fx->X, fx->T, N, N};
}

/* The loss eval reports is the loss of the network it returns, computed
 * again by the plain batched forward pass; and 1 and 2 threads agree. */
static void test_scores_reported_net(void **state)
{
    (void)state;
    static fixture fx;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 3, 77, 0);
    make_data(&fx, r);
    unsigned sizes[] = {NI, 16, 16, NO};
    char err[256];
    et_genome *g = et_genome_alloc(sizes, 3, 1, 0, err, sizeof err);
    assert_non_null(g);
    double w[NO] = {1, 1, 1, 0.1, 0.1, 0.1};
    const et_loss_spec spec = {.weight = w};
    enum { C = 6 };
    double *x = calloc(C * g->dim, sizeof *x), l1[C], l2[C];
    et_genome_init(g, 5, 15, x);
    et_fitness_calibrate(g, x, &fx.d);
    for (size_t c = 1; c < C; c++)
        for (size_t k = 0; k < g->dim; k++)
            x[c * g->dim + k] = x[k] + gsl_ran_gaussian_ziggurat(r, 4.0);
    et_fitness *f1 = et_fitness_alloc(g, &spec, 1e-3, 1024, 1);
    et_fitness *f2 = et_fitness_alloc(g, &spec, 1e-3, 1024, 2);
    et_fitness_eval_all(f1, x, C, &fx.d, l1);
    et_fitness_eval_all(f2, x, C, &fx.d, l2);
    assert_memory_equal(l1, l2, sizeof l1);
    /* The portable paths (batched kernel and normal sums) give the same
     * bits as the processor-specific ones. */
    et_batch_generic_only = 1;
    et_fitness_eval_all(f2, x, C, &fx.d, l2);
    et_batch_generic_only = 0;
    assert_memory_equal(l1, l2, sizeof l1);
    et_net *net = et_net_alloc(sizes, 3);
    for (size_t c = 0; c < C; c++) {
        double l = et_fitness_eval(f1, x + c * g->dim, &fx.d, 0, net);
        assert_true(l == l1[c]);
        assert_int_equal(evonet_validate(&net->net, err, sizeof err), 0);
        et_errors e;
        et_fitness_errors(f2, net, &fx.d, 1, &e);
        assert_true(e.loss == l);
        assert_true(l > 0);
    }
    et_net_free(net);
    et_fitness_free(f1);
    et_fitness_free(f2);
    free(x);
    et_genome_free(g);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_reported_net),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
