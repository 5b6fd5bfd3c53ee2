/* commands: the subcommands of the evotrain CLI, one function each.
 *
 * Each returns a process exit code (ET_EXIT_*). argv[0] is the subcommand's
 * name. The command table names them all, so a missing one fails the link. */
#ifndef ET_COMMANDS_H
#define ET_COMMANDS_H

#include <stddef.h>

#ifndef ET_VERSION
#define ET_VERSION "0.1.0"
#endif

int cmd_train(int argc, char **argv);    /* src/cli/cmd_train.c */
int cmd_export(int argc, char **argv);   /* src/cli/cmd_run.c */
int cmd_eval(int argc, char **argv);     /* src/cli/cmd_run.c */
int cmd_config(int argc, char **argv);   /* src/cli/cmd_config.c */
int cmd_simulate(int argc, char **argv); /* src/cli/cmd_sim.c */
int cmd_dataset(int argc, char **argv);  /* src/cli/cmd_sim.c */
int cmd_optbench(int argc, char **argv); /* src/cli/optbench.c */
int cmd_plot(int argc, char **argv);     /* src/cli/plot.c */
int cmd_report(int argc, char **argv);   /* src/cli/report.c */
int cmd_kernel(int argc, char **argv);   /* src/cli/cmd_kernel.c */
int cmd_man(int argc, char **argv);      /* src/cli/man.c (hidden: for the build) */

/* The command table that the usage, the dispatch and the man page share, so
 * they cannot drift apart (src/cli/cli.c). */
typedef struct et_command {
    const char *name;
    int (*fn)(int, char **);
    const char *usage;   /* one line, "evotrain NAME ..." */
    const char *summary; /* one sentence */
    int hidden;          /* not listed by --help */
} et_command;
extern const et_command et_commands[];
extern const size_t et_n_commands;

/* Options every command accepts; main strips them before dispatch. */
#define ET_COMMON_HELP                                                                             \
    "Every command: -q quiet, -v verbose, -h/--help.\n"                                            \
    "Exit codes: 0 ok, 1 error in the input, 2 usage, 130 interrupted.\n"

/* `evotrain bench` runs these, printed as "name: value". The kernel's host
 * figures are bench_fitness's kernel_host_* lines (the batched twin that
 * scores candidates); its Cortex-M0 figures come from `make bench-m0`. */
void bench_fitness(void); /* src/cli/bench_fitness.c */
void bench_sim(void);     /* src/cli/cmd_sim.c */
void bench_opt(void);     /* src/cli/optbench.c */
void bench_data(void);    /* src/cli/bench_data.c */

#endif
