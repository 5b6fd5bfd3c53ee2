/* commands: the subcommands of the evotrain CLI, one function each.
 *
 * Each returns a process exit code (ET_EXIT_*). argv[0] is the subcommand's
 * name. They are declared weak so the CLI links while a module is absent and
 * says so instead of failing to build; every module defines its own. */
#ifndef ET_COMMANDS_H
#define ET_COMMANDS_H

#define ET_WEAK __attribute__((weak))

int cmd_train(int argc, char **argv) ET_WEAK;    /* src/train.c */
int cmd_export(int argc, char **argv) ET_WEAK;   /* src/export.c */
int cmd_eval(int argc, char **argv) ET_WEAK;     /* src/eval.c */
int cmd_config(int argc, char **argv) ET_WEAK;   /* src/config.c */
int cmd_simulate(int argc, char **argv) ET_WEAK; /* src/cmd_sim.c */
int cmd_dataset(int argc, char **argv) ET_WEAK;  /* src/cmd_sim.c */
int cmd_optbench(int argc, char **argv) ET_WEAK; /* src/optbench.c */
int cmd_plot(int argc, char **argv) ET_WEAK;     /* src/plot.c */
int cmd_report(int argc, char **argv) ET_WEAK;   /* src/report.c */
int cmd_kernel(int argc, char **argv) ET_WEAK;   /* src/export.c */

/* `evotrain bench` runs every module's figures, printed as "name: value". */
void bench_kernel(void) ET_WEAK;  /* src/bench_kernel.c */
void bench_sim(void) ET_WEAK;     /* src/cmd_sim.c */
void bench_opt(void) ET_WEAK;     /* src/optbench.c */
void bench_fitness(void) ET_WEAK; /* src/fitness.c */

#endif
