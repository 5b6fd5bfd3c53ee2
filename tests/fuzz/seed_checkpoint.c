/* Writes the checkpoint harness's seed files (tests/fuzz/corpus/checkpoint/):
 * small but complete checkpoints whose optimizer state matches the harness's
 * optimizers, so mutations start from files every parser accepts. A real
 * run's checkpoint is hundreds of kB, too big to mutate quickly.
 *   make build/fuzz/seed_checkpoint && build/fuzz/seed_checkpoint DIR */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "genome.h"
#include "opt.h"
#include "run.h"

static void write_seed(const char *dir, const char *name, int mode, const char *algo)
{
    et_ckpt c;
    et_ckpt_init(&c);
    static const char cfg[] = "[run]\nname = seed\n";
    et_ckpt_add(&c, ET_CKPT_CONFIG, cfg, sizeof cfg - 1);
    et_train_state st = {.generation = 20, .evals = 120, .best_generation = 10, .log_bytes = 300};
    unsigned char sb[ET_STATE_BYTES];
    et_state_write(&st, sb);
    et_ckpt_add(&c, ET_CKPT_STATE, sb, sizeof sb);
    double x0[5] = {1, -2, 3, 0.5, 0};
    size_t n;
    if (algo) { /* the optimizer's state is ~300 kB (its history): not in every seed */
        et_opt_params p;
        et_opt_params_default(&p);
        p.lambda = 6;
        et_opt *o = et_opt_alloc(algo, 5, &p);
        et_opt_set_x0(o, x0, 1.0);
        n = et_opt_state_size(o);
        unsigned char *ob = malloc(n);
        et_opt_save(o, ob, n);
        et_ckpt_add(&c, ET_CKPT_OPT, ob, n);
        free(ob);
        et_opt_free(o);
    }
    unsigned sizes[3] = {3, 2, 6};
    et_net *net = et_net_alloc(sizes, 2);
    for (unsigned l = 0; l < 2; l++)
        for (unsigned j = 0; j < sizes[l + 1]; j++) {
            for (unsigned i = 0; i < sizes[l]; i++)
                et_net_set_w(net, l, j, i, (int)(i * 7 + j * 3) % 50 - 25);
            et_net_set_bias(net, l, j, (int32_t)j * 100 - 50);
            et_net_set_scale(net, l, j, 1.0 / 512.0);
        }
    n = et_net_bytes(net);
    unsigned char *nb = malloc(n);
    et_net_write(net, nb);
    et_ckpt_add(&c, ET_CKPT_BEST, nb, n);
    free(nb);
    et_net_free(net);
    double cal[4] = {1, 0.001, 0.002, 1};
    et_ckpt_add(&c, ET_CKPT_GENOME, cal, sizeof cal);
    et_ckpt_add(&c, ET_CKPT_BESTX, x0, sizeof x0);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/%s.plain", dir, name);
    if (et_ckpt_save(&c, tmp) != 0)
        exit(1);
    /* The harness's first byte is its mode (bit 0: recompute the CRC). */
    FILE *in = fopen(tmp, "rb");
    char out[520];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    fputc(mode, f);
    int ch;
    while ((ch = fgetc(in)) != EOF)
        fputc(ch, f);
    fclose(f);
    fclose(in);
    remove(tmp);
    et_ckpt_free(&c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seed_checkpoint DIR\n");
        return 2;
    }
    write_seed(argv[1], "noopt_crc_fixed", 1, NULL);
    write_seed(argv[1], "noopt_crc_kept", 0, NULL);
    write_seed(argv[1], "sep_cmaes", 1, "sep-cmaes");
    write_seed(argv[1], "cmaes", 1, "cmaes");
    write_seed(argv[1], "rs_1plus", 1, "rs-1+lambda");
    return 0;
}
