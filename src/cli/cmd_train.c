/* cmd_train: `evotrain [train]`, its arguments -> et_train (src/train/train.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "train.h"
#include "util.h"

static void train_usage(FILE *o)
{
    fprintf(o, "usage: evotrain [train] --config FILE [--name NAME] [--out DIR] [--force]\n"
               "       evotrain [train] --resume DIR [--config FILE]\n"
               "options: --threads N  --time-limit S  --max-generations N  --max-evals N\n"
               "         --init WEIGHTS.csv  start from a float network (warm start)\n"
               "         -q quiet, -v verbose\n"
               "Trains the network of FILE and writes DIR = out/NAME/ (config.ini, log.csv,\n"
               "checkpoint.bin). An existing DIR is refused unless --force. --resume DIR\n"
               "continues from its checkpoint; a larger budget may be given then, and\n"
               "--config FILE is checked against the run's configuration.\n");
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
    if (!v || et_parse_double(v, out) != 0 || *out < lo || *out > hi) {
        et_error(NULL, 0, "%s needs a number in [%g, %g]", opt, lo, hi);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, et_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out = "out";
    o->threads = -1;
    o->time_limit = -1;
    o->max_generations = -1;
    o->max_evals = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            train_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--config") && v) {
            o->config = v, i++;
        } else if (!strcmp(a, "--resume") && v) {
            o->resume = v, i++;
        } else if (!strcmp(a, "--init") && v) {
            o->init = v, i++;
        } else if (!strcmp(a, "--name") && v) {
            o->name = v, i++;
        } else if (!strcmp(a, "--out") && v) {
            o->out = v, i++;
        } else if (!strcmp(a, "--force")) {
            o->force = 1;
        } else if (!strcmp(a, "--threads")) {
            if (parse_num(a, v, 0, 256, &d))
                return -1;
            o->threads = (int)d, i++;
        } else if (!strcmp(a, "--time-limit")) {
            if (parse_num(a, v, 0, 1e9, &d))
                return -1;
            o->time_limit = d, i++;
        } else if (!strcmp(a, "--max-generations")) {
            if (parse_num(a, v, 0, 1e15, &d))
                return -1;
            o->max_generations = (long)d, i++;
        } else if (!strcmp(a, "--max-evals")) {
            if (parse_num(a, v, 0, 1e15, &d))
                return -1;
            o->max_evals = (long)d, i++;
        } else {
            et_error(NULL, 0, "train: unexpected argument '%s' (see evotrain train --help)", a);
            return -1;
        }
    }
    if (!o->config && !o->resume) {
        et_error(NULL, 0, "train: give --config FILE or --resume DIR");
        return -1;
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    et_train_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc)
        return prc > 0 ? ET_EXIT_OK : ET_EXIT_USAGE;
    return et_train(&o);
}
