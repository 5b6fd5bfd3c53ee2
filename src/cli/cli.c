/* cli: the table of subcommands that usage, dispatch and the man page share. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static int cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: evotrain bench\n"
                   "Host throughput of the kernel, the fitness, the simulator and the\n"
                   "optimizer, printed as `name: value` lines (make bench).\n");
            return ET_EXIT_OK;
        }
        et_error(NULL, 0, "bench: unexpected argument '%s'", argv[i]);
        return ET_EXIT_USAGE;
    }
    bench_fitness();
    bench_sim();
    bench_opt();
    bench_data();
    return ET_EXIT_OK;
}

const et_command et_commands[] = {
    {"train", cmd_train, "evotrain [train] --config FILE [--name N] [--force] | --resume DIR",
     "Train the network a configuration describes; write or continue the run directory.", 0},
    {"export", cmd_export, "evotrain export DIR -o FILE.h | --format F -o DIR2 [--name NAME]",
     "Write the run's best network as a deterministic C header for the evonet kernel.", 0},
    {"eval", cmd_eval, "evotrain eval DIR [--data FILE.csv] [-n N]",
     "Print the best network's errors on fresh samples or on a dataset.", 0},
    {"plot", cmd_plot, "evotrain plot DIR [-n N | --data FILE.csv]",
     "Draw the training curve and the error figures of a run as PNGs (gnuplot).", 0},
    {"report", cmd_report, "evotrain report DIR [-n N | --data FILE.csv]",
     "Write DIR/report.md: configuration, errors, flash, RAM and Cortex-M0 cycles, plots.", 0},
    {"kernel", cmd_kernel, "evotrain kernel -o DIR [--force]",
     "Copy the device kernel's sources (evonet.h, evonet.c) into a firmware project.", 0},
    {"config", cmd_config, "evotrain config --dump --config FILE | --doc",
     "Print the resolved configuration, or every key with its default and range.", 0},
    {"simulate", cmd_simulate,
     "evotrain simulate --config FILE --poses IN.csv -o OUT.csv [--counts]",
     "Run the sensor simulator on given poses.", 0},
    {"dataset", cmd_dataset,
     "evotrain dataset --config FILE -n N -o OUT.csv [--seed S] [--no-noise]",
     "Write simulated samples (readings and poses) as CSV.", 0},
    {"optbench", cmd_optbench,
     "evotrain optbench --function F --dim N --runs R [--algo A] [--seed S]",
     "Run an optimizer on a test function (optimizer benchmark).", 0},
    {"bench", cmd_bench, "evotrain bench", "Print host throughput figures.", 0},
    {"man", cmd_man, "evotrain man", "Print the man page evotrain(1) in roff.", 1},
};
const size_t et_n_commands = sizeof et_commands / sizeof et_commands[0];
