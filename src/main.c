/* main: the evotrain command line, dispatching to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

#ifndef ET_VERSION
#define ET_VERSION "0.1.0"
#endif

typedef int (*cmd_fn)(int, char **);

static const struct {
    const char *name;
    const char *usage;
} commands[] = {
    {"train", "evotrain [train] --config FILE [--name N] [--force] | --resume DIR"},
    {"export", "evotrain export DIR -o FILE.h [--name NAME]"},
    {"eval", "evotrain eval DIR [--data FILE.csv] [-n N]"},
    {"config", "evotrain config --dump [--config FILE]"},
    {"simulate", "evotrain simulate --config FILE --poses IN.csv -o OUT.csv [--counts]"},
    {"dataset", "evotrain dataset --config FILE -n N -o OUT.csv [--seed S] [--no-noise]"},
    {"optbench", "evotrain optbench --function F --dim N --runs R [--algo A] [--seed S]"},
    {"plot", "evotrain plot DIR"},
    {"report", "evotrain report DIR"},
    {"kernel", "evotrain kernel -o DIR"},
    {"bench", "evotrain bench"},
};

static cmd_fn lookup(const char *name)
{
    if (!strcmp(name, "train")) return cmd_train;
    if (!strcmp(name, "export")) return cmd_export;
    if (!strcmp(name, "eval")) return cmd_eval;
    if (!strcmp(name, "config")) return cmd_config;
    if (!strcmp(name, "simulate")) return cmd_simulate;
    if (!strcmp(name, "dataset")) return cmd_dataset;
    if (!strcmp(name, "optbench")) return cmd_optbench;
    if (!strcmp(name, "plot")) return cmd_plot;
    if (!strcmp(name, "report")) return cmd_report;
    if (!strcmp(name, "kernel")) return cmd_kernel;
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "evotrain %s: gradient-free training of integer neural networks for "
                 "microcontrollers\n\nUsage:\n",
            ET_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].usage);
    fprintf(out, "\nOptions for every command: -q quiet, -v verbose, --help.\n"
                 "Exit codes: 0 ok, 1 error in input, 2 usage, 130 interrupted.\n");
}

static int run_bench(void)
{
    if (bench_kernel) bench_kernel();
    if (bench_fitness) bench_fitness();
    if (bench_sim) bench_sim();
    if (bench_opt) bench_opt();
    return ET_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ET_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return ET_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("evotrain %s\n", ET_VERSION);
        return ET_EXIT_OK;
    }
    if (!strcmp(argv[1], "bench"))
        return run_bench();
    /* Options first means the default command: `evotrain --config F`. */
    if (argv[1][0] == '-') {
        if (!cmd_train) {
            et_error(NULL, 0, "training is not built into this binary");
            return ET_EXIT_USAGE;
        }
        /* argv[0] stands in for the subcommand's name, as for the others. */
        return cmd_train(argc, argv);
    }
    cmd_fn fn = lookup(argv[1]);
    if (!fn) {
        et_error(NULL, 0, "unknown command '%s' (see evotrain --help)", argv[1]);
        return ET_EXIT_USAGE;
    }
    return fn(argc - 1, argv + 1);
}
