/* test_randsearch: (1+lambda) and mirrored (mu,lambda) random search converge
 * on the sphere, mirrored pairs are exact mirrors, the elitist parent never
 * gets worse, and the step floor holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

static double sphere(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}

static et_opt *make(const char *algo, size_t n, double sigma0)
{
    et_opt_params p;
    et_opt_params_default(&p);
    p.seed = 42;
    p.target = 1e-8;
    p.max_evals = 20000;
    et_opt *o = et_opt_alloc(algo, n, &p);
    assert_non_null(o);
    double x0[16];
    for (size_t i = 0; i < n; i++)
        x0[i] = cos(1.1 * (double)i);
    assert_int_equal(et_opt_set_x0(o, x0, sigma0), 0);
    return o;
}

/* Loose bounds: on the sphere n = 5 both reach 1e-8 in about 900 and 600
 * evaluations (medians over 11 seeds with optbench). */
static void test_converges(void **state)
{
    (void)state;
    const char *algos[] = {"rs-1+lambda", "rs-mu,lambda", "rs-antithetic"};
    for (int a = 0; a < 3; a++) {
        size_t n = 5;
        et_opt *o = make(algos[a], n, 0.5);
        double X[5 * 16], F[16], prev = INFINITY;
        while (et_opt_test(o) == ET_OPT_RUNNING) {
            size_t lam = et_opt_lambda(o);
            assert_int_equal(et_opt_ask(o, X, lam), 0);
            for (size_t k = 0; k < lam; k++)
                F[k] = sphere(X + k * n, n);
            assert_int_equal(et_opt_tell(o, F, lam), 0);
            assert_true(et_opt_best_f(o) <= prev);
            prev = et_opt_best_f(o);
            if (a == 0) /* elitist: the mean is the best point so far */
                assert_true(sphere(et_opt_mean(o), n) == et_opt_best_f(o));
        }
        assert_int_equal(et_opt_test(o), ET_OPT_STOP_TARGET);
        assert_true(et_opt_evals(o) < 2500);
        et_opt_free(o);
    }
}

static void test_mirrored_pairs(void **state)
{
    (void)state;
    size_t n = 4;
    et_opt *o = make("rs-mu,lambda", n, 0.7);
    size_t lam = et_opt_lambda(o);
    double *X = malloc(lam * n * sizeof(double));
    assert_int_equal(et_opt_ask(o, X, lam), 0);
    const double *m = et_opt_mean(o);
    for (size_t k = 0; k + 1 < lam; k += 2)
        for (size_t i = 0; i < n; i++) {
            double d0 = X[k * n + i] - m[i], d1 = X[(k + 1) * n + i] - m[i];
            assert_true(fabs(d0 + d1) < 1e-12);
            assert_true(fabs(d0) > 0);
        }
    free(X);
    et_opt_free(o);
}

static void test_floor(void **state)
{
    (void)state;
    size_t n = 3;
    et_opt *o = make("rs-1+lambda", n, 1e-250);
    double grid[3] = {1, 1, 1};
    et_opt_set_grid(o, grid);
    et_opt_set_step_floor(o, 0.45);
    size_t lam = et_opt_lambda(o);
    double X[3 * 16];
    et_opt_ask(o, X, lam);
    double dev = 0;
    for (size_t k = 0; k < lam * n; k++) {
        assert_true(isfinite(X[k]));
        dev = fmax(dev, fabs(X[k] - et_opt_mean(o)[k % n]));
    }
    assert_true(dev > 0.1);
    et_opt_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converges),
        cmocka_unit_test(test_mirrored_pairs),
        cmocka_unit_test(test_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
