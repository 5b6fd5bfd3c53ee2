/* The polish (src/net/polish.c): it only ever lowers the loss, its loss is the
 * loss of the network it holds, every network it keeps runs exactly on the
 * kernel, and a polish stopped in the middle of a sweep and continued from
 * its checkpoint section ends with the bits of one never stopped, on 1 or
 * 2 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>

#include "et_rng.h"
#include "evonet_check.h"
#include "fitness.h"
#include "genome.h"
#include "polish.h"

enum { N = 1000, NI = 18, NO = 6 }; /* N: not a multiple of the chunks */

static int16_t X[NI * N];
static int32_t T[NO * N];
static const unsigned sizes[] = {NI, 8, 8, NO};
static const double weight[NO] = {1, 1, 1, 0.1, 0.1, 0.1};
static const et_loss_spec spec = {.weight = weight};

typedef struct fixture {
    et_genome *g;
    et_fitness *f1, *f2; /* 1 and 2 threads, chunks of 256 samples */
    et_net *net;         /* a network the search could have found */
    et_data d;
} fixture;

static int setup(void **state)
{
    static fixture fx;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 9, 31, 0);
    for (size_t s = 0; s < N; s++) {
        for (unsigned i = 0; i < NI; i++)
            X[i * N + s] =
                (int16_t)((int)(i * 37) - 300 + (int)gsl_ran_gaussian_ziggurat(r, 200.0 + 20 * i));
        for (unsigned k = 0; k < NO; k++)
            T[k * N + s] =
                X[k * N + s] * 3 - X[(k + 7) * N + s] + (int32_t)gsl_rng_uniform_int(r, 100);
    }
    gsl_rng_free(r);
    fx.d = (et_data){X, T, N, N};
    char err[256];
    fx.g = et_genome_alloc(sizes, 3, 1, 0, err, sizeof err);
    double *x = calloc(fx.g->dim, sizeof *x);
    et_genome_init(fx.g, 5, 15, x);
    et_fitness_calibrate(fx.g, x, &fx.d);
    fx.f1 = et_fitness_alloc(fx.g, &spec, 1e-3, 256, 1);
    fx.f2 = et_fitness_alloc(fx.g, &spec, 1e-3, 256, 2);
    fx.net = et_net_alloc(sizes, 3);
    et_fitness *whole = et_fitness_alloc(fx.g, &spec, 1e-3, N, 1); /* the ridge fit on all */
    et_fitness_eval(whole, x, &fx.d, 0, fx.net);
    et_fitness_free(whole);
    free(x);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    et_net_free(fx->net);
    et_fitness_free(fx->f1);
    et_fitness_free(fx->f2);
    et_genome_free(fx->g);
    return 0;
}

/* The parallel errors are those of the serial loop, to the bit. */
static void test_errors_all(void **state)
{
    fixture *fx = *state;
    et_errors a, b, c;
    et_fitness_errors(fx->f1, fx->net, &fx->d, 0, &a);
    et_fitness_errors_all(fx->f1, fx->net, &fx->d, &b);
    et_fitness_errors_all(fx->f2, fx->net, &fx->d, &c);
    assert_memory_equal(&a, &b, sizeof a);
    assert_memory_equal(&a, &c, sizeof a);
}

/* Polishes n for `steps` coordinates on f (with a polisher of its own,
 * as a resumed run has), checking every step. */
static void run_steps(const fixture *fx, et_fitness *f, et_polish *p, et_net *n, uint64_t steps,
                      int start)
{
    et_polisher *w = et_polisher_alloc(f, &fx->d, n);
    if (start)
        et_polish_init(p, w, n);
    char err[256];
    for (uint64_t k = 0; k < steps && !p->done; k++) {
        double before = p->loss;
        et_polish_step(p, w, n);
        assert_true(p->loss <= before);
        assert_int_equal(evonet_validate(&n->net, err, sizeof err), 0);
    }
    et_errors e;
    et_fitness_errors(f, n, &fx->d, 0, &e);
    assert_true(e.loss == p->loss);
    et_polisher_free(w);
}

static void test_polish_lowers_loss(void **state)
{
    fixture *fx = *state;
    et_net *n = et_net_alloc(sizes, 3);
    et_net_copy(n, fx->net);
    et_polish p;
    et_errors e0;
    et_fitness_errors(fx->f1, n, &fx->d, 0, &e0);
    uint64_t coords = et_polish_coords(n);
    assert_int_equal(coords, 8 * 37 + 8 * 17 + 6 * 17);
    run_steps(fx, fx->f2, &p, n, 3 * coords, 1);
    double start = e0.loss;
    assert_true(p.loss < 0.99 * start);
    assert_true(p.changes > 0);
    assert_true(p.sweep == 3 || p.done);
    assert_true(p.trials >= p.changes);
    et_net_free(n);
}

/* Stopped mid-sweep, written as a checkpoint section and read back, then
 * continued on another thread count: the bits of a polish never stopped. */
static void test_polish_resumes(void **state)
{
    fixture *fx = *state;
    uint64_t coords = et_polish_coords(fx->net), stop = coords + 37;
    et_net *a = et_net_alloc(sizes, 3), *b = et_net_alloc(sizes, 3);
    et_net_copy(a, fx->net);
    et_net_copy(b, fx->net);
    et_polish pa, pb;
    run_steps(fx, fx->f1, &pa, a, 2 * coords, 1);
    run_steps(fx, fx->f1, &pb, b, stop, 1);
    assert_int_equal(pb.pos, 37);
    et_errors v = {.loss = 1.5, .group_rmse = {0.25}};
    size_t len;
    unsigned char *sec = et_polish_section(&pb, 1, &v, b, &len);
    et_polish pr;
    et_errors vr;
    int validated = 0;
    char err[256];
    et_net *r = et_polish_section_read(sec, len, fx->net, &pr, &validated, &vr, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(validated, 1);
    assert_memory_equal(&v, &vr, sizeof v);
    assert_memory_equal(&pb, &pr, sizeof pb);
    run_steps(fx, fx->f2, &pr, r, 2 * coords - stop, 0);
    assert_memory_equal(&pa, &pr, sizeof pa);
    size_t na = et_net_bytes(a);
    unsigned char *ba = malloc(na), *br = malloc(na);
    et_net_write(a, ba);
    et_net_write(r, br);
    assert_memory_equal(ba, br, na);
    /* A cut section, or one of another network shape, is refused. */
    assert_null(
        et_polish_section_read(sec, len - 1, fx->net, &pr, &validated, &vr, err, sizeof err));
    const unsigned other[] = {NI, 8, 9, NO};
    et_net *o = et_net_alloc(other, 3);
    assert_null(et_polish_section_read(sec, len, o, &pr, &validated, &vr, err, sizeof err));
    et_net_free(o);
    free(ba);
    free(br);
    free(sec);
    et_net_free(r);
    et_net_free(a);
    et_net_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_all),
        cmocka_unit_test(test_polish_lowers_loss),
        cmocka_unit_test(test_polish_resumes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
