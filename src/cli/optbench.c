/* optbench: the optimizers on standard test functions (`evotrain optbench`) and
 * their per-generation cost (`evotrain bench`). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "et_rng.h"
#include "opt.h"
#include "util.h"

typedef double (*test_fn)(const double *x, size_t n);

static double f_sphere(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}

static double f_ellipsoid(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double e = n > 1 ? 6.0 * (double)i / (double)(n - 1) : 0;
        s += pow(10.0, e) * x[i] * x[i];
    }
    return s;
}

static double f_rosenbrock(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        s += 100 * a * a + b * b;
    }
    return s;
}

static double f_rastrigin(const double *x, size_t n)
{
    double s = 10.0 * (double)n;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i] - 10 * cos(6.283185307179586 * x[i]);
    return s;
}

static const struct {
    const char *name;
    test_fn f;
} functions[] = {{"sphere", f_sphere},
                 {"ellipsoid", f_ellipsoid},
                 {"rosenbrock", f_rosenbrock},
                 {"rastrigin", f_rastrigin}};

typedef struct bench_args {
    const char *function, *algo;
    long dim, runs, seed;
    double target, max_evals;
} bench_args;

static int usage_error(const char *what)
{
    et_error(NULL, 0,
             "optbench: %s\nusage: evotrain optbench --function sphere|ellipsoid|rosenbrock|"
             "rastrigin --dim N --runs R [--algo A] [--seed S] [--target 1e-8] "
             "[--max-evals M]",
             what);
    return ET_EXIT_USAGE;
}

/* One run from x0 drawn from the run's own stream; returns evaluations used
 * when the target was reached, 0 otherwise (or -1 on an optimizer error). */
static double one_run(const bench_args *a, test_fn f, long run, double *stop_out)
{
    size_t n = (size_t)a->dim;
    int rast = f == f_rastrigin;
    et_opt_params p;
    et_opt_params_default(&p);
    p.seed = (uint64_t)a->seed * 1000003u + (uint64_t)run;
    p.target = a->target;
    p.max_evals = (uint64_t)a->max_evals;
    et_opt *o = et_opt_alloc(a->algo, n, &p);
    if (!o)
        return -1;
    double *x0 = et_malloc(n * sizeof(double));
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, (uint64_t)a->seed, ET_STREAM_OPTBENCH, (uint64_t)run);
    double half = rast ? 5.0 : 1.0;
    for (size_t i = 0; i < n; i++)
        x0[i] = -half + 2 * half * gsl_rng_uniform(r);
    gsl_rng_free(r);
    double result = -1;
    if (et_opt_set_x0(o, x0, rast ? 2.0 : 0.5) == 0) {
        size_t cap = et_opt_lambda_max(o);
        double *X = et_malloc(cap * n * sizeof(double)), *F = et_malloc(cap * sizeof(double));
        result = 0;
        while (et_opt_test(o) == ET_OPT_RUNNING) {
            size_t lam = et_opt_lambda(o);
            if (et_opt_ask(o, X, lam) != 0) {
                result = -1;
                break;
            }
            for (size_t k = 0; k < lam; k++)
                F[k] = f(X + k * n, n);
            if (et_opt_tell(o, F, lam) < 0) {
                result = -1;
                break;
            }
        }
        *stop_out = et_opt_test(o);
        if (result == 0 && et_opt_best_f(o) < a->target)
            result = (double)et_opt_evals(o);
        if (et_verbosity >= 2)
            fprintf(stderr, "run %ld: %s after %llu evals, f %.3g, %d restarts\n", run,
                    et_opt_stop_name(et_opt_test(o)), (unsigned long long)et_opt_evals(o),
                    et_opt_best_f(o), et_opt_restarts(o));
        free(X);
        free(F);
    }
    free(x0);
    et_opt_free(o);
    return result;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile; failed runs count as infinitely many evaluations. */
static void print_pct(const char *name, const double *v, long r, double q)
{
    long i = (long)ceil(q * (double)r) - 1;
    if (i < 0)
        i = 0;
    if (isinf(v[i]))
        printf("%s: inf\n", name);
    else
        printf("%s: %.0f\n", name, v[i]);
}

int cmd_optbench(int argc, char **argv)
{
    bench_args a = {NULL, NULL, 0, 0, 1, 1e-8, 0};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            printf("usage: evotrain optbench --function sphere|ellipsoid|rosenbrock|rastrigin "
                   "--dim N --runs R [--algo A] [--seed S] [--target 1e-8] [--max-evals M]\n"
                   "algorithms (--algo; default cmaes, ipop-cmaes on rastrigin):\n");
            et_opt_doc(stdout, "  ");
            return ET_EXIT_OK;
        }
        if (i + 1 >= argc)
            return usage_error("missing value after an option");
        const char *v = argv[++i];
        if (!strcmp(k, "--function"))
            a.function = v;
        else if (!strcmp(k, "--algo"))
            a.algo = v;
        else if (!strcmp(k, "--dim")) {
            if (et_parse_long(v, &a.dim) || a.dim < 1 || a.dim > 100000)
                return usage_error("--dim must be an integer in [1, 100000]");
        } else if (!strcmp(k, "--runs")) {
            if (et_parse_long(v, &a.runs) || a.runs < 1 || a.runs > 100000)
                return usage_error("--runs must be an integer in [1, 100000]");
        } else if (!strcmp(k, "--seed")) {
            if (et_parse_long(v, &a.seed) || a.seed < 0)
                return usage_error("--seed must be a non-negative integer");
        } else if (!strcmp(k, "--target")) {
            if (et_parse_double(v, &a.target))
                return usage_error("--target must be a number");
        } else if (!strcmp(k, "--max-evals")) {
            if (et_parse_double(v, &a.max_evals) || a.max_evals < 1)
                return usage_error("--max-evals must be a positive number");
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option '%s'", k);
            return usage_error(msg);
        }
    }
    if (!a.function || !a.dim || !a.runs)
        return usage_error("--function, --dim and --runs are required");
    test_fn f = NULL;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        if (!strcmp(a.function, functions[i].name))
            f = functions[i].f;
    if (!f)
        return usage_error("unknown function");
    if (!a.algo)
        a.algo = f == f_rastrigin ? "ipop-cmaes" : "cmaes";
    if (a.max_evals == 0)
        a.max_evals = f == f_rastrigin ? 1e6 : 1e4 * (double)a.dim + 1e5;
    double *ev = et_malloc((size_t)a.runs * sizeof(double));
    long ok = 0;
    for (long r = 0; r < a.runs; r++) {
        double why = 0;
        double e = one_run(&a, f, r, &why);
        if (e < 0) {
            free(ev);
            return ET_EXIT_INPUT;
        }
        ev[r] = e > 0 ? e : INFINITY;
        ok += e > 0;
    }
    qsort(ev, (size_t)a.runs, sizeof *ev, cmp_d);
    printf("function: %s\ndim: %ld\nalgo: %s\n", a.function, a.dim, a.algo);
    print_pct("median_evals", ev, a.runs, 0.5);
    print_pct("p10_evals", ev, a.runs, 0.1);
    print_pct("p90_evals", ev, a.runs, 0.9);
    printf("successes: %ld/%ld\n", ok, a.runs);
    free(ev);
    return ET_EXIT_OK;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Optimizer CPU time per generation on the sphere (ask + tell only), one
 * thread, over whole eigendecomposition periods so the lazy schedule is
 * amortised as it is in a run. */
static double ms_per_gen(const char *algo, size_t n, int gens)
{
    et_opt_params p;
    et_opt_params_default(&p);
    et_opt *o = et_opt_alloc(algo, n, &p);
    if (!o)
        return NAN;
    double *x0 = et_calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        x0[i] = 1.0;
    et_opt_set_x0(o, x0, 0.5);
    size_t lam = et_opt_lambda(o);
    double *X = et_malloc(lam * n * sizeof(double)), *F = et_malloc(lam * sizeof(double));
    double spent = 0;
    for (int g = 0; g < gens; g++) {
        double t0 = cpu_now();
        et_opt_ask(o, X, lam);
        spent += cpu_now() - t0;
        for (size_t k = 0; k < lam; k++)
            F[k] = f_sphere(X + k * n, n);
        t0 = cpu_now();
        et_opt_tell(o, F, lam);
        spent += cpu_now() - t0;
    }
    free(X);
    free(F);
    free(x0);
    et_opt_free(o);
    return 1e3 * spent / gens;
}

void bench_opt(void)
{
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    static const struct {
        size_t n;
        int gens;
    } full[] = {{100, 400}, {500, 100}, {1000, 54}, {2000, 48}};
    for (size_t i = 0; i < sizeof full / sizeof full[0]; i++)
        printf("cmaes_ms_per_generation_n%zu: %.3f\n", full[i].n,
               ms_per_gen("cmaes", full[i].n, full[i].gens));
    printf("sepcmaes_ms_per_generation_n2000: %.3f\n", ms_per_gen("sep-cmaes", 2000, 300));
    printf("sepcmaes_ms_per_generation_n10000: %.3f\n", ms_per_gen("sep-cmaes", 10000, 100));
    printf("lmmaes_ms_per_generation_n10000: %.3f\n", ms_per_gen("lm-maes", 10000, 50));
    fflush(stdout);
    omp_set_num_threads(saved);
}
