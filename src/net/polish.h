/* polish: integer coordinate descent on a complete network, after the search.
 *
 * The search scores candidates on minibatches of 1,024 samples, and its
 * step floor keeps sampling a fraction of a weight step around the mean:
 * it cannot tell apart two networks that differ by one weight step. The
 * polish can: it tries each integer coordinate of the network, one at a
 * time, one step up and one step down, scores the result on the whole
 * training pool (262,144 samples in pose.ini) with the kernel's arithmetic,
 * and keeps a move that lowers the loss. Coordinates, in this order, for
 * every layer l and every output o of it:
 *   n_in weight moves: w[o][i] +-1, within [-127, 127];
 *   1 bias move: +-1/4 of an output step (2^(16 + shift) / mult
 *     accumulator steps), finer than the output's rounding;
 *   n_in centred weight moves: w[o][i] +-1 and the bias -+ round(mean of
 *     input i over the data), which keeps the mean accumulator: a ReLU
 *     unit's slope changes without shifting where it opens.
 * A sweep visits every coordinate once; sweeps repeat until one changes
 * nothing or the budget ends. Networks the kernel cannot run exactly
 * (evonet_validate) are never scored.
 *
 * The state is a position, so a polish stopped anywhere continues where it
 * was; the input means are a function of the current network, and the loss
 * an exact integer sum, so a continued polish is the same bits as one never
 * stopped, for any thread count. */
#ifndef ET_POLISH_H
#define ET_POLISH_H

#include <stdint.h>

#include "fitness.h"
#include "genome.h"

typedef struct et_polish {
    uint64_t sweep;   /* sweeps completed */
    uint64_t pos;     /* next coordinate of the current sweep */
    uint64_t changed; /* moves kept in the current sweep */
    uint64_t changes; /* moves kept in all */
    uint64_t trials;  /* networks scored */
    uint64_t done;    /* 1 once a whole sweep changed nothing */
    double loss;      /* loss of the network on the data */
} et_polish;

/* The checkpoint section of a polish: its state, whether its network was
 * validated (and the errors, on the validation set), the network. */
unsigned char *et_polish_section(const et_polish *p, int validated, const et_errors *v,
                                 const et_net *net, size_t *len);
/* A new network of shape's layer sizes, valid for the kernel, or NULL (with
 * a message in err) if buf is not such a section. */
et_net *et_polish_section_read(const void *buf, size_t len, const et_net *shape, et_polish *p,
                               int *validated, et_errors *v, char *err, size_t errlen);

/* The run's network is the polished one only if it validates better than
 * the search's best: the pool it was polished on is training data. */
static inline int et_polish_wins(const et_errors *polished_valid, double search_best_loss)
{
    return polished_valid->loss < search_best_loss;
}

/* Coordinates of one sweep. */
uint64_t et_polish_coords(const et_net *n);

/* What a polish on data d works with: the fitness that scores (its loss
 * weights and threads), a scratch network and the input means. Keeps
 * pointers to f and d. */
typedef struct et_polisher et_polisher;
et_polisher *et_polisher_alloc(et_fitness *f, const et_data *d, const et_net *shape);
void et_polisher_free(et_polisher *w);

/* A polish of net, from its start. */
void et_polish_init(et_polish *p, et_polisher *w, const et_net *net);

/* Tries coordinate p->pos of net, keeps a move that lowers the loss and
 * advances. 1 when that ended a sweep, else 0. */
int et_polish_step(et_polish *p, et_polisher *w, et_net *net);

#endif
