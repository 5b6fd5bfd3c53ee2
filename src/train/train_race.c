/* train_race: the starts raced side by side, their minibatches and their
 * candidates: what a generation asks, draws and scores. */
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "et_rng.h"
#include "trainer.h"

/* Start 0 is the run's seed itself, so that one start is the plain run;
 * the others get seeds mixed from it. */
uint64_t tr_start_seed(const trainer *t, int j)
{
    return j == 0 ? t->cfg.seed
                  : et_mix64(t->cfg.seed + (uint64_t)j * UINT64_C(0x9E3779B97F4A7C15));
}

void tr_opt_params(const trainer *t, int j, et_opt_params *p)
{
    et_opt_params_default(p);
    p->lambda = t->cfg.lambda;
    p->seed = tr_start_seed(t, j);
    p->max_evals = 0;
    p->budget_only = 1; /* minibatch noise is not convergence: the budget decides */
    p->mean_lr = t->cfg.mean_lr;
}

/* The generation's minibatch: minibatch draws from the pool, keyed by
 * (seed, generation), gathered into the fitness layout. */
et_data tr_draw_minibatch(trainer *t, uint64_t gen)
{
    size_t B = (size_t)t->cfg.minibatch, P = t->pool.n, ni = t->pool.n_in, no = t->task.n_out;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, t->cfg.seed, ET_STREAM_TRAIN, gen);
    for (size_t s = 0; s < B; s++)
        t->mb_idx[s] = (size_t)gsl_rng_uniform_int(r, P);
    gsl_rng_free(r);
    /* The samples are scattered over a pool larger than the caches: ask
     * for the lines of sample s + 16 while copying sample s. */
#pragma omp parallel for schedule(static) num_threads(t->threads)
    for (size_t s = 0; s < B; s++) {
        if (s + 16 < B) {
            __builtin_prefetch(t->pool_xs + t->mb_idx[s + 16] * ni);
            __builtin_prefetch(t->pool_ts + t->mb_idx[s + 16] * no);
        }
        const int16_t *x = t->pool_xs + t->mb_idx[s] * ni;
        const int32_t *y = t->pool_ts + t->mb_idx[s] * no;
        for (size_t i = 0; i < ni; i++)
            t->Xmb[i * B + s] = x[i];
        for (size_t k = 0; k < no; k++)
            t->Tmb[k * B + s] = y[k];
    }
    return (et_data){t->Xmb, t->Tmb, B, B};
}

double tr_floor_at(const trainer *t, uint64_t gen)
{
    double a = (double)gen / (double)t->cfg.floor_generations;
    a = a > 1 ? 1 : a;
    return t->cfg.step_floor + (t->cfg.step_floor_end - t->cfg.step_floor) * a;
}

/* Candidates [lo, hi) of this rank, numbered across the live starts (start
 * j's are [off[j], off[j + 1])): asked and scored here, in parallel. */
void tr_score_share(trainer *t, size_t lo, size_t hi, const et_data *mb)
{
    size_t dim = t->g->dim;
    /* Asked and scored in one parallel loop: one wake-up of the waiting
     * threads per generation, not two. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(t->threads)
    for (size_t k = lo; k < hi; k++) {
        int j = 0, tid = et_thread_num();
        while (k >= t->off[j + 1])
            j++;
        et_opt_ask_one(t->opt[j], k - t->off[j], t->X + k * dim);
        t->loss[k] = et_fitness_eval_as(t->fit, t->gs[j], t->X + k * dim, mb, tid, NULL);
    }
}

/* Drops the worse half of the live starts (by best validated loss; ties
 * keep the lower number), keeping ceil(n / 2). Rank 0 alone validates, so
 * its choice is sent to every rank. */
void tr_halve(trainer *t)
{
    int keep = 0;
    if (et_dist_rank() == 0) {
        int live[ET_MAX_STARTS], n = 0;
        for (int j = 0; j < t->n_starts; j++)
            if (t->alive[j])
                live[n++] = j;
        for (int a = 1; a < n; a++) /* insertion sort: stable, n <= 16 */
            for (int b = a; b > 0 && t->start_best[live[b]] < t->start_best[live[b - 1]]; b--) {
                int x = live[b];
                live[b] = live[b - 1];
                live[b - 1] = x;
            }
        for (int a = 0; a < (n + 1) / 2; a++)
            keep |= 1 << live[a];
    }
    et_dist_bcast_int(&keep);
    t->n_alive = 0;
    for (int j = 0; j < t->n_starts; j++) {
        t->alive[j] = (keep >> j) & 1;
        t->n_alive += t->alive[j];
    }
}
