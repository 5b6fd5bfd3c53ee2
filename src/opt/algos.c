/* algos: the optimizer table (name, backend, one line of documentation) that
 * et_opt_alloc, the help texts, `evotrain config --doc` and the man page read.
 * A new optimizer is one backend file and one row here. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include <string.h>

#include "cmaes.h"
#include "esadam.h"
#include "randsearch.h"

const et_opt_algo et_opt_algos[] = {
    {"cmaes", &et_opt_be_cmaes, 1,
     "full-covariance active CMA-ES; O(n^2) per sample, for n up to a few thousand"},
    {"sep-cmaes", &et_opt_be_sepcmaes, 1,
     "separable CMA-ES: diagonal covariance, active weights; O(n) per sample"},
    {"lm-maes", &et_opt_be_lmmaes, 1,
     "limited-memory matrix adaptation: 4 + 3 ln n directions, O(n ln n) per sample"},
    {"rs-1+lambda", &et_opt_be_rs1plus, 0,
     "(1+lambda) random search: isotropic steps, success-rule step size"},
    {"rs-mu,lambda", &et_opt_be_rscomma, 0,
     "(mu/mu_w, lambda) random search: mirrored pairs, cumulative step-size adaptation"},
    {"rs-antithetic", &et_opt_be_rscomma, 0, "another name of rs-mu,lambda"},
    {"es-adam", &et_opt_be_esadam, 0,
     "ES gradient from mirrored pairs and centred ranks, Adam steps on the mean, fixed sigma"},
};
const size_t et_opt_n_algos = sizeof et_opt_algos / sizeof et_opt_algos[0];

const et_opt_algo *et_opt_algo_find(const char *algo, int *restart_mode)
{
    *restart_mode = 0;
    if (!algo)
        return NULL;
    if (!strncmp(algo, "ipop-", 5)) {
        *restart_mode = 1;
        algo += 5;
    } else if (!strncmp(algo, "bipop-", 6)) {
        *restart_mode = 2;
        algo += 6;
    }
    for (size_t i = 0; i < et_opt_n_algos; i++)
        if (!strcmp(et_opt_algos[i].name, algo))
            return *restart_mode && !et_opt_algos[i].cma ? NULL : &et_opt_algos[i];
    return NULL;
}

int et_opt_known(const char *algo)
{
    int rmode;
    return et_opt_algo_find(algo, &rmode) != NULL;
}

/* Appends s (and a space before it unless first) to buf. */
static void add(char *buf, size_t size, const char *pre, const char *s)
{
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s%s", len ? " " : "", pre, s);
}

/* The CMA-ES variants, then their ipop- and bipop- forms, then the others:
 * the order the error messages have always printed. Built once, by the
 * first caller (the commands call it from their one thread). */
const char *et_opt_algorithms(void)
{
    static char buf[512];
    if (buf[0])
        return buf;
    for (size_t i = 0; i < et_opt_n_algos; i++)
        if (et_opt_algos[i].cma)
            add(buf, sizeof buf, "", et_opt_algos[i].name);
    for (size_t i = 0; i < et_opt_n_algos; i++)
        if (et_opt_algos[i].cma) {
            add(buf, sizeof buf, "ipop-", et_opt_algos[i].name);
            add(buf, sizeof buf, "bipop-", et_opt_algos[i].name);
        }
    for (size_t i = 0; i < et_opt_n_algos; i++)
        if (!et_opt_algos[i].cma)
            add(buf, sizeof buf, "", et_opt_algos[i].name);
    return buf;
}

void et_opt_doc(FILE *out, const char *indent)
{
    for (size_t i = 0; i < et_opt_n_algos; i++)
        fprintf(out, "%s%-15s %s\n", indent, et_opt_algos[i].name, et_opt_algos[i].doc);
    /* Every name the parser takes, spelled out: a pattern is easy to misread. */
    for (size_t i = 0; i < et_opt_n_algos; i++) {
        if (!et_opt_algos[i].cma)
            continue;
        char a[32], b[32];
        snprintf(a, sizeof a, "ipop-%s", et_opt_algos[i].name);
        snprintf(b, sizeof b, "bipop-%s", et_opt_algos[i].name);
        fprintf(out, "%s%-15s %s restarted with a doubled population when it stalls (IPOP)\n",
                indent, a, et_opt_algos[i].name);
        fprintf(out, "%s%-15s %s restarted with large and small populations in turn (BIPOP)\n",
                indent, b, et_opt_algos[i].name);
    }
}
