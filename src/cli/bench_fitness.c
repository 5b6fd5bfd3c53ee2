/* bench_fitness: host throughput of the fitness (`evotrain bench`). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "batch.h"
#include "commands.h"
#include "config.h"
#include "fitness.h"
#include "genome.h"
#include "run.h"
#include "util.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The batched kernel alone: one network over the minibatch, repeated for a
 * second on 1 and 2 threads. */
static void batch_kernel(const et_net *net, const et_data *d, size_t B, double macs)
{
    double t0, t;
    for (int threads = 1; threads <= 2; threads++) {
        long reps = 0;
        t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : reps)
        {
            /* Each thread its own workspace and outputs, as in training. */
            et_batch_ws *tws = et_batch_ws_alloc(EVONET_PAD(32));
            int16_t *tY = et_malloc(sizeof(int16_t) * 6 * B);
            while (now_s() - t0 < 1.0) {
                et_batch_forward(&net->net, d->X, d->ld, B, tY, B, tws);
                reps++;
            }
            free(tY);
            et_batch_ws_free(tws);
        }
        t = now_s() - t0;
        const char *sfx = threads > 1 ? "s" : "";
        printf("kernel_host_mac_per_s_%dthread%s: %.3g\n", threads, sfx,
               (double)reps * (double)B * macs / t);
        printf("kernel_host_inferences_per_s_%dthread%s: %.3g\n", threads, sfx,
               (double)reps * (double)B / t);
    }
}

/* The pose network (18-16-16-6) scored on minibatches of 1024 samples of the
 * default scenario, as the trainer does: the batched integer kernel alone
 * (MAC/s), then whole fitness evaluations with the ridge output layer, on 1
 * and 2 threads. */
void bench_fitness(void)
{
    et_config cfg;
    if (et_config_load("configs/pose.ini", &cfg) != 0) {
        et_error(NULL, 0, "bench: configs/pose.ini is needed (run from the project root)");
        et_config_free(&cfg);
        return;
    }
    et_task task;
    et_task_from_config(&cfg, NULL, &task);
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    unsigned nl = et_net_sizes(&cfg, &task, sizes);
    char err[256];
    et_genome *g = et_genome_alloc(sizes, nl, 1, 0, err, sizeof err);
    size_t B = 1024, lambda = 96, dim = g->dim;
    et_rundata rd = {.cfg = &cfg, .kind = ET_DATA_SIM};
    et_samples s;
    et_samples_load(&s, &rd, &task, ET_SET_POOL, B);
    et_data d = et_samples_data(&s);
    double *x = et_malloc(sizeof(double) * lambda * dim),
           *loss = et_malloc(sizeof(double) * lambda);
    et_genome_init(g, 1, 40, x);
    et_fitness_calibrate(g, x, &d);
    for (size_t c = 1; c < lambda; c++)
        for (size_t k = 0; k < dim; k++)
            x[c * dim + k] = x[k] + (double)((c * 7 + k * 13) % 9) - 4;
    double w[6] = {1, 1, 1, 0.1, 0.1, 0.1};
    const et_loss_spec spec = {.weight = w};

    et_fitness *f1 = et_fitness_alloc(g, &spec, 1e-3, B, 1);
    et_net *net = et_net_alloc(sizes, nl);
    et_fitness_eval(f1, x, &d, 0, net);
    double macs = 0;
    for (unsigned l = 0; l < nl; l++)
        macs += (double)sizes[l] * sizes[l + 1];
    batch_kernel(net, &d, B, macs);
    double t0, t;
    for (int threads = 1; threads <= 2; threads++) {
        et_fitness *f = et_fitness_alloc(g, &spec, 1e-3, B, threads);
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        long evals = 0;
        t0 = now_s();
        do {
            et_fitness_eval_all(f, x, lambda, &d, loss);
            evals += (long)lambda;
        } while ((t = now_s() - t0) < 2.0);
        printf("fitness_evals_per_s_%dthread%s: %.0f\n", threads, threads > 1 ? "s" : "",
               (double)evals / t);
        printf("fitness_mac_per_s_%dthread%s: %.3g\n", threads, threads > 1 ? "s" : "",
               (double)evals * (double)B * macs / t);
        et_fitness_free(f);
    }
    printf("fitness_minibatch: %zu\n", B);
    et_net_free(net);
    et_fitness_free(f1);
    free(x);
    free(loss);
    et_samples_free(&s);
    et_genome_free(g);
    et_config_free(&cfg);
}
