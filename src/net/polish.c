/* polish: integer coordinate descent on a complete network (see polish.h). */
#include "polish.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "evonet_check.h"
#include "util.h"

/* The state: sweep, pos, changed, changes, trials, done and the loss's
 * bits, 8 bytes each; then a byte-sized flag (whether validated) padded to 8
 * bytes, the validation errors (doubles) and the network. */
enum { STATE_BYTES = 7 * 8, HEAD_BYTES = STATE_BYTES + 8 + ET_ERRORS_BYTES };

unsigned char *et_polish_section(const et_polish *p, int validated, const et_errors *v,
                                 const et_net *net, size_t *len)
{
    *len = HEAD_BYTES + et_net_bytes(net);
    unsigned char *b = et_calloc(1, *len), *q = b;
    uint64_t loss;
    memcpy(&loss, &p->loss, 8);
    const uint64_t s[7] = {p->sweep, p->pos, p->changed, p->changes, p->trials, p->done, loss};
    for (int i = 0; i < 7; i++)
        et_put_le(&q, s[i], 8);
    *q = validated != 0;
    et_errors_write(v, q + 8);
    et_net_write(net, b + HEAD_BYTES);
    return b;
}

et_net *et_polish_section_read(const void *buf, size_t len, const et_net *shape, et_polish *p,
                               int *validated, et_errors *v, char *err, size_t errlen)
{
    const unsigned char *q = buf;
    if (len < HEAD_BYTES) {
        snprintf(err, errlen, "bad polish state");
        return NULL;
    }
    uint64_t s[7];
    for (int i = 0; i < 7; i++)
        s[i] = et_get_le(&q, 8);
    *p = (et_polish){s[0], s[1], s[2], s[3], s[4], s[5], 0};
    memcpy(&p->loss, &s[6], 8);
    if (p->done > 1 || !(p->loss >= 0) || *q > 1) {
        snprintf(err, errlen, "bad polish state");
        return NULL;
    }
    *validated = *q;
    et_errors_read(v, q + 8);
    et_net *n = et_net_read(q + 8 + ET_ERRORS_BYTES, len - HEAD_BYTES, err, errlen);
    if (!n)
        return NULL;
    if (n->n_layers != shape->n_layers ||
        memcmp(n->sizes, shape->sizes, sizeof(unsigned) * (shape->n_layers + 1)))
        snprintf(err, errlen, "polished network of another shape");
    else if (p->pos >= et_polish_coords(n))
        snprintf(err, errlen, "polish position out of range");
    else if (evonet_validate(&n->net, err, errlen) == 0)
        return n;
    et_net_free(n);
    return NULL;
}

uint64_t et_polish_coords(const et_net *n)
{
    uint64_t c = 0;
    for (unsigned l = 0; l < n->n_layers; l++)
        c += (uint64_t)n->sizes[l + 1] * (2 * n->sizes[l] + 1);
    return c;
}

struct et_polisher {
    et_fitness *f;
    const et_data *d;
    et_net *scratch;
    et_batch_ws *bws;
    uint8_t *H; /* one chunk of hidden activations */
    /* mean[l][i]: input i of layer l over d, rounded; fresh[l] while it is
     * the current network's. Layer 0's inputs are the data's. */
    int32_t *mean[EVONET_MAX_LAYERS];
    int fresh[EVONET_MAX_LAYERS];
};

enum { CHUNK = 4096 };

et_polisher *et_polisher_alloc(et_fitness *f, const et_data *d, const et_net *shape)
{
    et_polisher *w = et_calloc(1, sizeof *w);
    w->f = f;
    w->d = d;
    w->scratch = et_net_alloc(shape->sizes, shape->n_layers);
    unsigned widest = 0;
    for (unsigned l = 0; l <= shape->n_layers; l++)
        widest = shape->sizes[l] > widest ? shape->sizes[l] : widest;
    w->bws = et_batch_ws_alloc(EVONET_PAD(widest));
    w->H = et_malloc((size_t)widest * CHUNK);
    for (unsigned l = 0; l < shape->n_layers; l++)
        w->mean[l] = et_calloc(shape->sizes[l], sizeof(int32_t));
    /* Layer 0: the inputs themselves, the same for every network. */
    for (unsigned i = 0; i < shape->sizes[0]; i++) {
        int64_t sum = 0;
        for (size_t s = 0; s < d->n; s++)
            sum += d->X[i * d->ld + s];
        w->mean[0][i] = (int32_t)llround((double)sum / (double)d->n);
    }
    w->fresh[0] = 1;
    return w;
}

void et_polisher_free(et_polisher *w)
{
    if (!w)
        return;
    et_net_free(w->scratch);
    et_batch_ws_free(w->bws);
    free(w->H);
    for (unsigned l = 0; l < EVONET_MAX_LAYERS; l++)
        free(w->mean[l]);
    free(w);
}

/* The means of layer l's inputs (l >= 1), the activations of layer l - 1,
 * for the network net. */
static void input_means(et_polisher *w, const et_net *net, unsigned l)
{
    evonet head = {net->net.layers, (uint16_t)(l + 1)}; /* layers 0 .. l: H is layer l - 1's */
    unsigned ni = net->sizes[l];
    int64_t sum[EVONET_MAX_WIDTH] = {0};
    const et_data *d = w->d;
    for (size_t s0 = 0; s0 < d->n; s0 += CHUNK) {
        size_t n = d->n - s0 < CHUNK ? d->n - s0 : CHUNK;
        et_batch_hidden(&head, d->X + s0, d->ld, n, w->H, CHUNK, w->bws);
        for (unsigned i = 0; i < ni; i++)
            for (size_t s = 0; s < n; s++)
                sum[i] += w->H[(size_t)i * CHUNK + s];
    }
    for (unsigned i = 0; i < ni; i++)
        w->mean[l][i] = (int32_t)llround((double)sum[i] / (double)d->n);
    w->fresh[l] = 1;
}

static double loss_on(et_fitness *f, const et_net *n, const et_data *d)
{
    et_errors e;
    et_fitness_errors_all(f, n, d, &e);
    return e.loss;
}

void et_polish_init(et_polish *p, et_polisher *w, const et_net *net)
{
    memset(p, 0, sizeof *p);
    p->loss = loss_on(w->f, net, w->d);
    for (unsigned l = 1; l < EVONET_MAX_LAYERS; l++)
        w->fresh[l] = 0;
}

/* Sets coordinate c of dst (a copy of src) one step in direction dir; *layer
 * gets the layer it is in. 0 if the move leaves the coordinate's range. */
static int move(et_polisher *w, const et_net *src, et_net *dst, uint64_t c, int dir,
                unsigned *layer)
{
    for (unsigned l = 0; l < src->n_layers; l++) {
        uint64_t ni = src->sizes[l], per = 2 * ni + 1, all = (uint64_t)src->sizes[l + 1] * per;
        if (c >= all) {
            c -= all;
            continue;
        }
        *layer = l;
        unsigned o = (unsigned)(c / per), i = (unsigned)(c % per);
        double b = (double)et_net_bias(src, l, o);
        if (i == ni) {
            double step = nearbyint(0.25 / et_net_get_scale(src, l, o));
            b += dir * (step < 1 ? 1 : step);
        } else {
            if (i > ni) { /* centred */
                i -= (unsigned)ni + 1;
                if (!w->fresh[l])
                    input_means(w, src, l);
                b -= dir * (double)w->mean[l][i];
            }
            int wt = et_net_get_w(src, l, o, i) + dir, lo, hi;
            /* One step on the layer's own grid; int8 stays symmetric. */
            evonet_wfmt_range(et_net_wfmt(src, l), &lo, &hi);
            if (wt < (lo == -128 ? -127 : lo) || wt > hi)
                return 0;
            et_net_set_w(dst, l, o, i, wt);
        }
        if (fabs(b) > (double)EVONET_ACC_LIMIT)
            return 0;
        et_net_set_bias(dst, l, o, (int32_t)b);
        return 1;
    }
    return 0;
}

int et_polish_step(et_polish *p, et_polisher *w, et_net *net)
{
    char err[128];
    for (int dir = -1; dir <= 1; dir += 2) {
        unsigned l = 0;
        et_net_copy(w->scratch, net);
        if (!move(w, net, w->scratch, p->pos, dir, &l) ||
            evonet_validate(&w->scratch->net, err, sizeof err))
            continue;
        p->trials++;
        double loss = loss_on(w->f, w->scratch, w->d);
        if (loss < p->loss) {
            p->loss = loss;
            et_net_copy(net, w->scratch);
            p->changed++;
            p->changes++;
            /* The layers after l see other inputs now. */
            for (unsigned k = l + 1; k < net->n_layers; k++)
                w->fresh[k] = 0;
            break;
        }
    }
    if (++p->pos < et_polish_coords(net))
        return 0;
    p->done = p->changed == 0;
    p->sweep++;
    p->pos = 0;
    p->changed = 0;
    return 1;
}
