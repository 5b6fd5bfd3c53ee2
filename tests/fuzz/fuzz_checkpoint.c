/* Fuzz target: the checkpoint loader and the section parsers behind it
 * (trainer state, network record, optimizer state), as train.c and run.c
 * call them.
 *
 * The first input byte is a mode: with bit 0 set the harness rewrites the
 * trailing CRC-32 before loading, so mutations get past the checksum and
 * reach the section walk and the section parsers, which a real file reaches
 * only when written by us or crafted on purpose. */
#define _GNU_SOURCE /* memfd_create, open_memstream */
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "evonet_check.h"
#include "fuzz_util.h"
#include "genome.h"
#include "opt.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small optimizers of each kind whose state a checkpoint may carry. */
static const char *const algos[] = {"sep-cmaes",       "cmaes",       "lm-maes",
                                    "bipop-sep-cmaes", "rs-1+lambda", "rs-mu,lambda"};
#define N_ALGOS (sizeof algos / sizeof algos[0])
#define DIM 5

static void try_sections(const et_ckpt *c)
{
    size_t len;
    const void *p = et_ckpt_get(c, ET_CKPT_STATE, &len);
    if (p) {
        et_train_state st;
        (void)et_state_read(&st, p, len);
    }
    p = et_ckpt_get(c, ET_CKPT_BEST, &len);
    if (p) {
        char err[256];
        et_net *n = et_net_read(p, len, err, sizeof err);
        if (n && evonet_validate(&n->net, err, sizeof err) == 0) {
            /* A network the loader and the validator accept must run. */
            int16_t in[EVONET_MAX_WIDTH], out[EVONET_MAX_WIDTH], ref[EVONET_MAX_WIDTH];
            for (unsigned i = 0; i < EVONET_MAX_WIDTH; i++)
                in[i] = (int16_t)(i * 4099u);
            uint8_t *scratch = malloc(evonet_scratch_bytes(&n->net));
            evonet_forward(&n->net, in, out, scratch);
            evonet_forward_ref(&n->net, in, ref);
            free(scratch);
            unsigned no = n->sizes[n->n_layers];
            if (memcmp(out, ref, no * sizeof out[0]) != 0)
                abort(); /* the kernel and its reference disagree on a valid net */
        }
        et_net_free(n);
    }
    p = et_ckpt_get(c, ET_CKPT_OPT, &len);
    if (p) {
        for (size_t a = 0; a < N_ALGOS; a++) {
            et_opt_params prm;
            et_opt_params_default(&prm);
            prm.lambda = 6;
            et_opt *o = et_opt_alloc(algos[a], DIM, &prm);
            if (o && et_opt_load(o, p, len) == 0) {
                /* A loaded state must ask without crashing. */
                double x[DIM];
                size_t lam = et_opt_lambda(o);
                for (size_t k = 0; k < lam && k < 64; k++)
                    (void)et_opt_ask_one(o, k, x);
            }
            et_opt_free(o);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    int fix_crc = data[0] & 1;
    data++;
    size--;
    unsigned char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (fix_crc && size >= 4) {
        uLong crc = crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 4));
        for (int k = 0; k < 4; k++)
            buf[size - 4 + (size_t)k] = (unsigned char)(crc >> (8 * k));
    }
    et_ckpt c;
    if (et_ckpt_load(&c, fuzz_file(buf, size)) == 0) {
        try_sections(&c);
        et_ckpt_free(&c);
    }
    free(buf);
    return 0;
}
