/* fitness: genome -> integer network -> loss on a minibatch, in physical units.
 *
 * Every candidate is scored by the integer kernel's arithmetic (the batched
 * host kernel, proven bit-identical to evonet_forward by tests/test_batch.c).
 * With a ridge output layer, a candidate's hidden layers come from its genome
 * and its output layer is fitted on the same minibatch by ridge least squares
 * on the integer activations, then quantized (per-output scale so that
 * max |w| = 127) and scored exactly like any other layer.
 *
 * Loss = mean over samples of sum_k weight_k * (y_k - t_k)^2, outputs and
 * targets in the network's units (0.01 mm, 0.01 deg), divided by 10^4 so it
 * reads in mm^2 and deg^2. The sums are exact integers, so a candidate's
 * loss is the same bits whichever thread computes it. */
#ifndef ET_FITNESS_H
#define ET_FITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "genome.h"

typedef struct et_fitness et_fitness;

/* Data in structure-of-arrays layout: X[i * ld + s] (int16 counts), T[k * ld
 * + s] (int32 targets in output units). The fitness keeps pointers; the
 * caller keeps the arrays alive and unchanged while they are in use. */
typedef struct et_data {
    const int16_t *X;
    const int32_t *T;
    size_t n, ld;
} et_data;

/* out_weight: n_out loss weights. ridge_alpha: ridge strength relative to the
 * mean diagonal of the normal matrix. threads: workspaces for that many
 * concurrent evaluations (OpenMP thread ids 0 .. threads - 1). */
et_fitness *et_fitness_alloc(const et_genome *g, const double *out_weight, double ridge_alpha,
                             size_t max_batch, int threads);
void et_fitness_free(et_fitness *f);

/* Calibrates g's bias units and base scales from the start point x0 on data
 * (see genome.h): done once, before the search. */
void et_fitness_calibrate(et_genome *g, const double *x0, const et_data *d);

/* Loss of genome x on d using workspace tid. If net is not NULL it receives
 * the complete integer network that was scored. */
double et_fitness_eval(et_fitness *f, const double *x, const et_data *d, int tid, et_net *net);
/* The same, x decoded by g: a genome of f's shape with calibration of its
 * own (each raced start has one). */
double et_fitness_eval_as(et_fitness *f, const et_genome *g, const double *x, const et_data *d,
                          int tid, et_net *net);

/* Losses of count genomes (rows of x) on d, in parallel (OpenMP); the same
 * bits for any thread count. */
void et_fitness_eval_all(et_fitness *f, const double *x, size_t count, const et_data *d,
                         double *loss);

/* Errors of a complete network on d, per output in the output's physical
 * units (units / 100): rmse[k], and the Euclidean RMSE of outputs 0..2. */
typedef struct et_errors {
    double rmse[16];
    double trans_rmse;
    double loss;
} et_errors;
void et_fitness_errors(et_fitness *f, const et_net *net, const et_data *d, int tid, et_errors *e);
/* The same on every workspace in parallel (OpenMP; not from inside a
 * parallel region): the same bits as et_fitness_errors. */
void et_fitness_errors_all(et_fitness *f, const et_net *net, const et_data *d, et_errors *e);

#endif
