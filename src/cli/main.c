/* main: the evotrain command line, dispatching to one function per subcommand. */
#include <gsl/gsl_errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "evotrain %s: gradient-free training of integer neural networks for "
            "microcontrollers\n\nusage:\n",
            ET_VERSION);
    for (size_t i = 0; i < et_n_commands; i++)
        if (!et_commands[i].hidden)
            fprintf(out, "  %s\n", et_commands[i].usage);
    fprintf(out,
            "  evotrain --version\n\n%s"
            "`evotrain COMMAND --help` describes a command; `man evotrain` all of them and\n"
            "every configuration key (also `evotrain config --doc`).\n",
            ET_COMMON_HELP);
}

static const et_command *lookup(const char *name)
{
    for (size_t i = 0; i < et_n_commands; i++)
        if (!strcmp(et_commands[i].name, name))
            return &et_commands[i];
    return NULL;
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* -q and -v mean the same to every command, so they are taken out here, in
 * any position, and the commands never see them. */
static int strip_verbosity(int argc, char **argv)
{
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
            et_verbosity = 0;
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            et_verbosity = 2;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

/* Runs a command; after its own --help text comes what all commands share. */
static int dispatch(const et_command *c, int argc, char **argv)
{
    int help = 0;
    for (int i = 1; i < argc; i++)
        help |= is_help(argv[i]);
    int rc = c->fn(argc, argv);
    if (help && rc == ET_EXIT_OK)
        printf("\n%s", ET_COMMON_HELP);
    return rc;
}

#ifndef ET_MPI
/* Started by mpirun (or srun, mpiexec) as one of several ranks, a build
 * without MPI would run that many independent trainings writing the same
 * run directory, each ending with exit 0. The launchers say so in the
 * environment: Open MPI, PMI (MPICH, Intel MPI, Slurm) and MVAPICH give the
 * world size, PMIx at least the rank. A world of one is a plain run. Returns
 * the variable that tells, or NULL. */
static const char *launched_as_ranks(void)
{
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"};
    static const char *const ranks[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *v = getenv(sizes[i]);
        if (v && atol(v) > 1)
            return sizes[i];
    }
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++) {
        const char *v = getenv(ranks[i]);
        if (v && atol(v) > 0)
            return ranks[i];
    }
    return NULL;
}
#endif

/* OpenMP threads that wait for work by spinning (libgomp's default) take
 * processor time from the threads that have work whenever the cores are
 * shared: with one of this machine's two cores busy with another job, two
 * spinning threads trained 3x slower than one. libgomp reads OMP_WAIT_POLICY
 * only when it is loaded, before main, so the process starts itself again
 * once with the policy set (by its own path, so `ps` still says evotrain). A
 * user's own setting, MPI launches (their launcher owns the process) and a
 * failed exec leave everything as it was. */
static void passive_openmp(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK"))
        return;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
        return;
    self[n] = '\0';
    execv(self, argv);
}

int main(int argc, char **argv)
{
#ifndef ET_MPI
    /* First, before anything is read or written. */
    const char *mpi = launched_as_ranks();
    if (mpi) {
        et_error(NULL, 0,
                 "this evotrain is built without MPI but was started as one of several MPI "
                 "ranks (%s=%s): each rank would train alone into the same run directory; "
                 "build with `make MPI=1` and run evotrain-mpi",
                 mpi, getenv(mpi));
        return ET_EXIT_INPUT;
    }
#endif
    passive_openmp(argv);
    /* A file outgrowing `ulimit -f` must be a write error (EFBIG) that the
     * writer reports and cleans up after, not a silent death by SIGXFSZ
     * that leaves a half-written temp file behind. */
    signal(SIGXFSZ, SIG_IGN);
    /* GSL's default handler aborts: every command checks return codes
     * instead (the optimizers and the fitness also turn it off, for other
     * embedders; here it is off for every command, from the start). */
    gsl_set_error_handler_off();
    argc = strip_verbosity(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return ET_EXIT_USAGE;
    }
    if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return ET_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("evotrain %s\n", ET_VERSION);
        return ET_EXIT_OK;
    }
    /* Options first means the default command: `evotrain --config F`;
     * argv[0] stands in for the subcommand's name, as for the others. */
    if (argv[1][0] == '-')
        return dispatch(lookup("train"), argc, argv);
    const et_command *c = lookup(argv[1]);
    if (!c) {
        et_error(NULL, 0, "unknown command '%s' (see evotrain --help)", argv[1]);
        return ET_EXIT_USAGE;
    }
    return dispatch(c, argc - 1, argv + 1);
}
