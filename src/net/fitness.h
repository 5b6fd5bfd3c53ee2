/* fitness: genome -> integer network -> loss on a minibatch, in physical units.
 *
 * Every candidate is scored by the integer kernel's arithmetic (the batched
 * host kernel, proven bit-identical to evonet_forward by tests/test_batch.c).
 * With a ridge output layer, a candidate's hidden layers come from its genome
 * and its output layer is fitted on the same minibatch by ridge least squares
 * on the integer activations, then quantized (per-output scale so that
 * max |w| = 127) and scored exactly like any other layer.
 *
 * Loss = mean over samples of sum_k weight_k * ((y_k - t_k) / inv_scale_k)^2:
 * outputs and targets in the network's units (one int16 step, e.g. 0.01
 * mm), the loss in physical units squared (mm^2, deg^2). The sums are exact
 * integers, so a candidate's loss is the same bits whichever thread
 * computes it. */
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

#define ET_MAX_OUTPUTS 64 /* outputs of a network (the description's targets) */
#define ET_MAX_GROUPS 4   /* named groups of outputs with a Euclidean error */

/* What the loss and the errors count, per output k < n_out (the network's
 * last width): weight[k], the loss weight per squared physical unit;
 * inv_scale[k], output steps per physical unit (1 / scale: 100 for 0.01
 * mm), NULL for 100 each. group[i] (i < n_groups): a bit mask of outputs
 * of one unit whose errors add up to a Euclidean error (x, y, z -> the
 * translation error). The arrays are copied. */
typedef struct et_loss_spec {
    const double *weight;
    const double *inv_scale;
    unsigned n_groups;
    const uint64_t *group;
    /* classify 1: a classification (see below); class_weight[k] weighs
     * the samples of class k; class_loss is an ET_CLASS_LOSS_*. */
    int classify;
    const double *class_weight;
    int class_loss;
} et_loss_spec;

/* A classification's outputs are class scores and its targets one-hot:
 * inv_scale steps for the true class, 0 for the others, so a sample's label
 * is the output whose target is not 0. The firmware picks the first largest
 * score; an error is a sample where that is not its label. The search
 * descends a smooth surrogate of the error count, on the scores s_k in
 * units of the one-hot target (s = y / inv_scale), each sample weighted by
 * its class's weight:
 *   ET_CLASS_LOSS_MSE    sum_k (s_k - onehot_k)^2 (least squares, as the
 *                        ridge output layer fits)
 *   ET_CLASS_LOSS_HINGE  max(0, 1/2 - (s_label - max_{k != label} s_k))^2:
 *                        the squared margin shortfall (exact integers)
 *   ET_CLASS_LOSS_XENT   softmax cross-entropy of 4 s (the scores as logits
 *                        at temperature 1/4)
 * The errors (et_errors) of a classification are rates in percent:
 * group_rmse[0] of all samples, rmse[k] of class k's samples (100 minus its
 * recall); loss is the class-weighted error fraction plus ET_CLASS_TIE
 * times the surrogate, which then only breaks ties of the count. */
enum { ET_CLASS_LOSS_HINGE = 0, ET_CLASS_LOSS_MSE = 1, ET_CLASS_LOSS_XENT = 2 };
#define ET_CLASS_TIE 1e-4

/* ridge_alpha: ridge strength relative to the mean diagonal of the normal
 * matrix. threads: workspaces for that many concurrent evaluations (OpenMP
 * thread ids 0 .. threads - 1). */
et_fitness *et_fitness_alloc(const et_genome *g, const et_loss_spec *spec, double ridge_alpha,
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

/* Errors of a complete network on d, in the outputs' physical units:
 * rmse[k] of output k, group_rmse[i] the Euclidean RMSE of group i. */
typedef struct et_errors {
    double rmse[ET_MAX_OUTPUTS];
    double group_rmse[ET_MAX_GROUPS];
    double loss;
} et_errors;

/* The bytes checkpoints keep of an et_errors (the polish's validation):
 * the first 16 outputs' errors, the first group's and the loss, as
 * little-endian doubles (the layout since the first polish; a network with
 * more outputs keeps its loss, which decides, and recomputes the rest). */
#define ET_ERRORS_BYTES (18 * 8)
void et_errors_write(const et_errors *e, unsigned char *buf);
void et_errors_read(et_errors *e, const unsigned char *buf);
void et_fitness_errors(et_fitness *f, const et_net *net, const et_data *d, int tid, et_errors *e);
/* The same on every workspace in parallel (OpenMP; not from inside a
 * parallel region): the same bits as et_fitness_errors. */
void et_fitness_errors_all(et_fitness *f, const et_net *net, const et_data *d, et_errors *e);

#endif
