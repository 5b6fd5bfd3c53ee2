/* test_opt: the ask/tell interface: every bad-input path, NaN ranking, ask_one
 * == ask, thread-count independence, and save/load bit-identical continuation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <omp.h>
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

/* Make an optimizer at a fixed, "high-entropy" start point. */
static et_opt *make(const char *algo, size_t n, uint64_t seed)
{
    et_opt_params p;
    et_opt_params_default(&p);
    p.seed = seed;
    p.max_restarts = 3;
    et_opt *o = et_opt_alloc(algo, n, &p);
    assert_non_null(o);
    double *x0 = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        x0[i] = sin(1.7 * (double)i + 0.3);
    assert_int_equal(et_opt_set_x0(o, x0, 0.3), 0);
    free(x0);
    return o;
}

/* g generations on f (flat = constant fitness, to force restarts). */
static void run(et_opt *o, int g, int flat)
{
    size_t n = et_opt_dim(o);
    for (int i = 0; i < g; i++) {
        size_t lam = et_opt_lambda(o);
        double *X = malloc(lam * n * sizeof(double)), *F = malloc(lam * sizeof(double));
        assert_int_equal(et_opt_ask(o, X, lam), 0);
        for (size_t k = 0; k < lam; k++)
            F[k] = flat ? 1.0 : sphere(X + k * n, n);
        assert_true(et_opt_tell(o, F, lam) >= 0);
        free(X);
        free(F);
    }
}

static void test_bad_alloc(void **state)
{
    (void)state;
    et_opt_params p;
    et_opt_params_default(&p);
    assert_null(et_opt_alloc("nope", 3, NULL));
    assert_null(et_opt_alloc(NULL, 3, NULL));
    assert_null(et_opt_alloc("ipop-rs-1+lambda", 3, NULL));
    assert_null(et_opt_alloc("cmaes", 0, NULL));
    p.lambda = 1;
    assert_null(et_opt_alloc("cmaes", 3, &p));
    p.lambda = 10;
    p.mu = 11;
    assert_null(et_opt_alloc("cmaes", 3, &p));
    et_opt_params_default(&p);
    p.tolx = -1;
    assert_null(et_opt_alloc("sep-cmaes", 3, &p));
    et_opt_params_default(&p);
    p.margin = -1;
    assert_null(et_opt_alloc("rs-1+lambda", 3, &p));
    et_opt_params_default(&p);
    p.max_restarts = 17;
    assert_null(et_opt_alloc("ipop-cmaes", 3, &p));
    et_opt_params_default(&p);
    p.target = NAN;
    assert_null(et_opt_alloc("cmaes", 3, &p));
    assert_non_null(strstr(et_opt_algorithms(), "sep-cmaes"));
    /* et_opt_known agrees with what et_opt_alloc accepts. */
    assert_true(et_opt_known("sep-cmaes") && et_opt_known("bipop-lm-maes"));
    assert_false(et_opt_known("nope") || et_opt_known("sep") || et_opt_known(NULL));
    assert_false(et_opt_known("ipop-rs-1+lambda"));
}

static void test_bad_x0_and_sets(void **state)
{
    (void)state;
    et_opt *o = et_opt_alloc("cmaes", 3, NULL);
    assert_non_null(o);
    double x0[3] = {0, NAN, 0}, X[3 * 16], F[16] = {0};
    size_t lam = et_opt_lambda(o);
    assert_int_equal(et_opt_ask(o, X, lam), -1); /* no x0 yet */
    assert_int_equal(et_opt_ask_one(o, 0, X), -1);
    assert_int_equal(et_opt_tell(o, F, lam), -1);
    assert_int_equal(et_opt_set_x0(o, x0, 1.0), -1);
    x0[1] = INFINITY;
    assert_int_equal(et_opt_set_x0(o, x0, 1.0), -1);
    x0[1] = 0;
    assert_int_equal(et_opt_set_x0(o, x0, 0.0), -1);
    assert_int_equal(et_opt_set_x0(o, x0, -1.0), -1);
    assert_int_equal(et_opt_set_x0(o, x0, NAN), -1);
    assert_int_equal(et_opt_set_x0(o, NULL, 1.0), -1);
    assert_int_equal(et_opt_set_x0(o, x0, 1.0), 0);
    double step[3] = {1, -1, 0};
    assert_int_equal(et_opt_set_grid(o, step), -1);
    step[1] = NAN;
    assert_int_equal(et_opt_set_grid(o, step), -1);
    step[1] = 0.5;
    assert_int_equal(et_opt_set_grid(o, step), 0);
    assert_int_equal(et_opt_set_grid(o, NULL), 0);
    assert_int_equal(et_opt_set_step_floor(o, -0.1), -1);
    assert_int_equal(et_opt_set_step_floor(o, NAN), -1);
    assert_int_equal(et_opt_set_step_floor(o, 0.4), 0);
    assert_int_equal(et_opt_set_margin(o, 0.5), -1);
    assert_int_equal(et_opt_set_margin(o, NAN), -1);
    assert_int_equal(et_opt_set_margin(o, -1), 0);
    assert_int_equal(et_opt_ask(o, X, lam + 1), -1);
    assert_int_equal(et_opt_ask(o, NULL, lam), -1);
    assert_int_equal(et_opt_ask_one(o, lam, X), -1);
    assert_int_equal(et_opt_ask(o, X, lam), 0);
    assert_int_equal(et_opt_tell(o, F, lam - 1), -1);
    assert_int_equal(et_opt_tell(o, NULL, lam), -1);
    for (size_t k = 0; k < lam; k++)
        F[k] = NAN;
    assert_int_equal(et_opt_tell(o, F, lam), -1); /* all NaN: refused, state unchanged */
    assert_int_equal(et_opt_generation(o), 0);
    assert_null(et_opt_best_x(o));
    assert_true(isinf(et_opt_best_f(o)));
    for (size_t k = 0; k < lam; k++)
        F[k] = 1.0;
    assert_int_equal(et_opt_tell(o, F, lam), 0);
    assert_int_equal(et_opt_set_x0(o, x0, 1.0), -1); /* too late */
    et_opt_free(o);
    et_opt *r = et_opt_alloc("rs-1+lambda", 3, NULL);
    assert_int_equal(et_opt_set_margin(r, 0.01), -1);
    et_opt_free(r);
    et_opt_free(NULL);
}

/* NaN ranks worst: candidates with NaN fitness never become best-ever. */
static void test_nan_is_worst(void **state)
{
    (void)state;
    et_opt *o = make("cmaes", 5, 7);
    size_t n = 5;
    for (int g = 0; g < 60; g++) {
        size_t lam = et_opt_lambda(o);
        double X[5 * 32], F[32];
        assert_int_equal(et_opt_ask(o, X, lam), 0);
        for (size_t k = 0; k < lam; k++)
            F[k] = k % 3 == 0 ? NAN : sphere(X + k * n, n);
        assert_int_equal(et_opt_tell(o, F, lam), 0);
        assert_false(isnan(et_opt_best_f(o)));
    }
    assert_true(et_opt_best_f(o) < 1e-3);
    assert_true(isfinite(et_opt_sigma(o)));
    et_opt_free(o);
}

static const char *const algos[] = {"cmaes",       "sep-cmaes",   "lm-maes",      "ipop-cmaes",
                                    "bipop-cmaes", "rs-1+lambda", "rs-mu,lambda", "es-adam"};

static void test_ask_one_matches_ask(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
        size_t n = 7;
        et_opt *o = make(algos[a], n, 3);
        run(o, 3, 0);
        size_t lam = et_opt_lambda(o);
        double *X = malloc(lam * n * sizeof(double)), x[7];
        /* ask_one first (out of order), then ask: both must agree */
        for (size_t k = lam; k-- > 0;) {
            assert_int_equal(et_opt_ask_one(o, k, x), 0);
            memcpy(X + k * n, x, sizeof x);
        }
        et_opt *o2 = make(algos[a], n, 3);
        run(o2, 3, 0);
        double *X2 = malloc(lam * n * sizeof(double));
        assert_int_equal(et_opt_ask(o2, X2, lam), 0);
        assert_memory_equal(X, X2, lam * n * sizeof(double));
        free(X);
        free(X2);
        et_opt_free(o);
        et_opt_free(o2);
    }
}

/* The same run with 1 and 2 OpenMP threads: identical bits. n is large
 * enough that every parallel region really runs in parallel. */
static void test_threads_identical(void **state)
{
    (void)state;
    const char *which[] = {"cmaes", "sep-cmaes", "lm-maes", "rs-mu,lambda", "es-adam"};
    size_t n = 300;
    for (size_t a = 0; a < 4; a++) {
        double *m[2], sig[2], best[2];
        for (int t = 0; t < 2; t++) {
            omp_set_num_threads(t + 1);
            et_opt *o = make(which[a], n, 11);
            run(o, 12, 0);
            m[t] = malloc(n * sizeof(double));
            memcpy(m[t], et_opt_mean(o), n * sizeof(double));
            sig[t] = et_opt_sigma(o);
            best[t] = et_opt_best_f(o);
            et_opt_free(o);
        }
        assert_memory_equal(m[0], m[1], n * sizeof(double));
        assert_memory_equal(&sig[0], &sig[1], sizeof(double));
        assert_memory_equal(&best[0], &best[1], sizeof(double));
        free(m[0]);
        free(m[1]);
    }
    omp_set_num_threads(2);
}

/* Save at generation g, load into a fresh handle, continue: bit-identical to
 * the uninterrupted run; flat fitness makes the restart variants restart
 * before and after the checkpoint. */
static void check_resume(const char *algo, int flat, int g1, int g2)
{
    size_t n = 6;
    et_opt *a = make(algo, n, 5);
    run(a, g1 + g2, flat);

    et_opt *b = make(algo, n, 5);
    run(b, g1, flat);
    size_t sz = et_opt_state_size(b);
    unsigned char *buf = malloc(sz);
    assert_int_equal(et_opt_save(b, buf, sz - 1), -1);
    assert_int_equal(et_opt_save(b, buf, sz), 0);
    et_opt_free(b);

    et_opt_params p;
    et_opt_params_default(&p);
    p.seed = 999; /* the state's seed wins */
    p.max_restarts = 3;
    et_opt *c = et_opt_alloc(algo, n, &p);
    assert_int_equal(et_opt_load(c, buf, sz), 0);
    free(buf);
    run(c, g2, flat);

    assert_int_equal(et_opt_generation(a), et_opt_generation(c));
    assert_int_equal(et_opt_evals(a), et_opt_evals(c));
    assert_int_equal(et_opt_lambda(a), et_opt_lambda(c));
    assert_int_equal(et_opt_restarts(a), et_opt_restarts(c));
    assert_memory_equal(et_opt_mean(a), et_opt_mean(c), n * sizeof(double));
    double sa = et_opt_sigma(a), sc = et_opt_sigma(c), fa = et_opt_best_f(a), fc = et_opt_best_f(c);
    assert_memory_equal(&sa, &sc, sizeof sa);
    assert_memory_equal(&fa, &fc, sizeof fa);
    size_t lam = et_opt_lambda(a);
    double *Xa = malloc(lam * n * sizeof(double)), *Xc = malloc(lam * n * sizeof(double));
    assert_int_equal(et_opt_ask(a, Xa, lam), 0);
    assert_int_equal(et_opt_ask(c, Xc, lam), 0);
    assert_memory_equal(Xa, Xc, lam * n * sizeof(double));
    free(Xa);
    free(Xc);
    et_opt_free(a);
    et_opt_free(c);
}

static void test_save_load_continues(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++)
        check_resume(algos[a], 0, 17, 23);
    check_resume("ipop-cmaes", 1, 2, 3);
    check_resume("bipop-sep-cmaes", 1, 3, 4);
}

/* The step floor and grid are part of the state too. */
static void test_save_load_with_grid(void **state)
{
    (void)state;
    size_t n = 6;
    double step[6] = {1, 1, 0, 0.5, 1, 2};
    et_opt *a = make("sep-cmaes", n, 8);
    et_opt_set_grid(a, step);
    et_opt_set_step_floor(a, 0.3);
    et_opt_set_margin(a, -1);
    run(a, 10, 0);
    size_t sz = et_opt_state_size(a);
    unsigned char *buf = malloc(sz);
    assert_int_equal(et_opt_save(a, buf, sz), 0);
    et_opt *c = et_opt_alloc("sep-cmaes", n, NULL);
    assert_int_equal(et_opt_load(c, buf, sz), 0);
    run(a, 10, 0);
    run(c, 10, 0);
    assert_memory_equal(et_opt_mean(a), et_opt_mean(c), n * sizeof(double));
    free(buf);
    et_opt_free(a);
    et_opt_free(c);
}

static void test_load_refuses(void **state)
{
    (void)state;
    et_opt *a = make("cmaes", 4, 1);
    run(a, 3, 0);
    size_t sz = et_opt_state_size(a);
    unsigned char *buf = malloc(sz);
    assert_int_equal(et_opt_save(a, buf, sz), 0);
    assert_int_equal(et_opt_save(a, NULL, sz), -1);

    et_opt *wrong_algo = et_opt_alloc("sep-cmaes", 4, NULL);
    assert_int_equal(et_opt_load(wrong_algo, buf, sz), -1);
    et_opt *wrong_dim = et_opt_alloc("cmaes", 5, NULL);
    assert_int_equal(et_opt_load(wrong_dim, buf, sz), -1);
    et_opt *ok = et_opt_alloc("cmaes", 4, NULL);
    assert_int_equal(et_opt_load(ok, buf, sz - 1), -1); /* truncated */
    assert_int_equal(et_opt_load(ok, buf, 5), -1);
    assert_int_equal(et_opt_load(ok, NULL, sz), -1);
    unsigned char *bad = malloc(sz);
    memcpy(bad, buf, sz);
    bad[0] ^= 0xff; /* magic */
    assert_int_equal(et_opt_load(ok, bad, sz), -1);
    memcpy(bad, buf, sz);
    bad[8] ^= 0x7f; /* version */
    assert_int_equal(et_opt_load(ok, bad, sz), -1);
    /* a refused load leaves the handle usable for a good one */
    assert_int_equal(et_opt_load(ok, buf, sz), 0);
    assert_int_equal(et_opt_generation(ok), 3);
    run(ok, 2, 0);
    free(bad);
    free(buf);
    et_opt_free(a);
    et_opt_free(wrong_algo);
    et_opt_free(wrong_dim);
    et_opt_free(ok);
}

static void test_stop_names(void **state)
{
    (void)state;
    assert_string_equal(et_opt_stop_name(ET_OPT_RUNNING), "running");
    assert_string_equal(et_opt_stop_name(ET_OPT_STOP_TOLX), "tolx");
    assert_string_equal(et_opt_stop_name(ET_OPT_STOP_NUMERIC), "numeric");
    assert_string_equal(et_opt_stop_name((et_opt_stop)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_alloc),           cmocka_unit_test(test_bad_x0_and_sets),
        cmocka_unit_test(test_nan_is_worst),        cmocka_unit_test(test_ask_one_matches_ask),
        cmocka_unit_test(test_threads_identical),   cmocka_unit_test(test_save_load_continues),
        cmocka_unit_test(test_save_load_with_grid), cmocka_unit_test(test_load_refuses),
        cmocka_unit_test(test_stop_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
