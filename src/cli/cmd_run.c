/* cmd_run: the commands that read a finished (or running) run directory:
 * export (firmware header) and eval (errors on held-out data). */
/* realpath is XSI, beyond the Makefile's _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "evalcore.h"
#include "export.h"
#include "export_doc.h"
#include "export_pkg.h"
#include "run.h"
#include "runeval.h"
#include "sim.h"
#include "util.h"

#define N_SELFTEST 8

static volatile sig_atomic_t export_signal;

static void on_export_signal(int sig)
{
    export_signal = sig;
}

/* The run's name for the header: the last component of its directory's
 * real path, so that out/x, ./out/x, out/x/ and /abs/out/x (or `.` inside
 * it) all give the same header, and the header does not depend on where the
 * run lies. (A directory name holds no '/', so it cannot end the comment it
 * is written into.) */
static void run_name_of(const char *dir, char *name, size_t size)
{
    char *real = realpath(dir, NULL);
    const char *base = real ? strrchr(real, '/') : NULL;
    snprintf(name, size, "%s", base && base[1] ? base + 1 : real ? real : dir);
    free(real);
}

/* The header's provenance line: the run by name, its seed, where its best
 * network came from and that network's validation errors (the polished
 * one's when the polish improved on the search). */
static void provenance(const et_run *r, const char *dir, char *prov, size_t size)
{
    char won[48] = "", pol[64] = "", run_name[256];
    if (r->cfg.starts > 1)
        snprintf(won, sizeof won, " of start %llu", (unsigned long long)r->st.best_start);
    const double *rm = r->polished ? r->polish_valid.rmse : r->st.best_rmse;
    const double *gr = r->polished ? r->polish_valid.group_rmse : r->st.best_group;
    char errs[200];
    et_task_errors_text(&r->task, rm, gr, ", ", errs, sizeof errs);
    if (r->polished)
        snprintf(pol, sizeof pol, ", polished in %llu sweeps", (unsigned long long)r->polish.sweep);
    run_name_of(dir, run_name, sizeof run_name);
    snprintf(prov, size,
             "Made by evotrain from run %s (seed %llu, generation %llu%s%s; validation %s"
             "%s).",
             run_name, (unsigned long long)r->cfg.seed, (unsigned long long)r->st.best_generation,
             won, pol, r->task.classify ? "" : "RMSE ", errs);
}

/* The header into outp, atomically, or the package into directory outp.
 * Ctrl-C or SIGTERM while a file is written would leave its temp file
 * behind: they are noted instead (a mask would not do: OpenMP's threads
 * would take them), and honoured once the file is renamed or removed (a
 * package stops before its next file): exit 130 either way, as the dataset
 * command does. */
static int write_export(const char *outp, const char *format, int force, const evonet *net,
                        const et_export_info *info)
{
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_export_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    et_afile af;
    int rc = ET_EXIT_INPUT;
    if (strcmp(format, "header")) {
        if (et_export_package(format, outp, force, net, info, &export_signal) == 0)
            rc = ET_EXIT_OK;
    } else if (et_afile_open(&af, outp) == 0) {
        if (et_export_write(af.fp, net, info) == 0 && !export_signal) {
            if (et_afile_commit(&af) == 0) {
                rc = ET_EXIT_OK;
                et_info("evotrain: wrote %s\n", outp);
            }
        } else {
            et_afile_abort(&af);
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return export_signal ? ET_EXIT_INTERRUPTED : rc;
}

/* The directory a header goes into, created if missing as `kernel -o`
 * does; nothing for a file in the working directory or stdout. */
static int make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = et_strdup(path);
    dir[slash - path] = '\0';
    int rc = et_make_dirs(dir);
    free(dir);
    return rc;
}

static const char export_usage[] =
    "usage: evotrain export DIR -o FILE.h [--name NAME] [--force]\n"
    "       evotrain export DIR --format FORMAT -o OUTDIR [--name NAME] [--force]\n";

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *outp = NULL, *name = NULL, *format = "header";
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf(
                "%s"
                "Writes the best network of run DIR as a C header for the evonet kernel:\n"
                "NAME_infer(in, out), NAME_selftest(), NAME_N_IN, NAME_N_OUT, NAME_STACK_BYTES,\n"
                "with each input's and output's scaling and the states trained on.\n"
                "NAME is the file's name without its extension (-o imu_net.h: imu_net_infer,\n"
                "IMU_NET_N_IN) unless --name says otherwise. Missing directories are\n"
                "created; an existing file not written by evotrain export is refused\n"
                "unless --force.\n"
                "--format packages the header with the kernel (evonet.h, evonet.c) into\n"
                "OUTDIR, NAME from OUTDIR's name:\n"
                "  header      the header alone (the default)\n"
                "  arduino     an Arduino library: library.properties, src/, examples/\n"
                "  platformio  a PlatformIO library: library.json, src/, examples/\n"
                "  zephyr      a Zephyr module: zephyr/module.yml, CMakeLists.txt, Kconfig\n"
                "  rust        a no_std Rust crate: Cargo.toml, src/lib.rs (the same\n"
                "              integer arithmetic, the weights as const arrays, selftest())\n",
                export_usage);
            return ET_EXIT_OK;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            outp = argv[++i];
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            et_error(NULL, 0, "export: unexpected argument '%s'", argv[i]);
            return ET_EXIT_USAGE;
        }
    }
    if (!dir || !outp) {
        et_error(NULL, 0, "export: give the run and the output:\n%s", export_usage);
        return ET_EXIT_USAGE;
    }
    if (strcmp(format, "header") && !et_export_format_known(format)) {
        et_error(NULL, 0,
                 "export: unknown --format '%s' (header, arduino, platformio, zephyr, rust)",
                 format);
        return ET_EXIT_USAGE;
    }
    char auto_name[64];
    if (!name) {
        et_export_name_of(outp, auto_name);
        name = auto_name;
    } else if (!et_is_identifier(name)) {
        et_error(NULL, 0, "export: --name '%s' is not a C identifier", name);
        return ET_EXIT_USAGE;
    }
    /* Refusals come before the run is opened: a program source is not
     * started for an export that cannot be written. */
    if (!strcmp(format, "header") && strcmp(outp, "-") &&
        (et_export_may_overwrite(outp, force) != 0 || make_parent(outp) != 0))
        return ET_EXIT_INPUT;
    et_run r;
    if (et_run_open(dir, &r) != 0)
        return ET_EXIT_INPUT;
    /* Self-test vectors: samples of their own (a stream's own indices, a
     * CSV's first validation rows), so the same run always gives the same
     * header. */
    int16_t *counts;
    double *truth;
    size_t n_tests;
    if (et_rundata_rows(&r.data, ET_SET_SELFTEST, N_SELFTEST, &counts, &truth, &n_tests) != 0) {
        et_run_close(&r);
        return ET_EXIT_INPUT;
    }
    free(truth);
    char prov[1024];
    provenance(&r, dir, prov, sizeof prov);
    const char *classes[ET_MAX_OUTPUTS];
    for (unsigned k = 0; k < r.task.n_out && r.task.classify; k++)
        classes[k] = r.task.class_name[k];
    char *doc = et_export_doc(&r);
    int rc = ET_EXIT_INPUT;
    if (doc) {
        et_export_info info = {
            name, prov, NULL, NULL, counts, (unsigned)n_tests, r.task.classify ? classes : NULL,
            doc};
        rc = write_export(outp, format, force, &r.best->net, &info);
    }
    free(doc);
    free(counts);
    et_run_close(&r);
    return rc;
}

static const char eval_help[] =
    "usage: evotrain eval DIR [--data FILE.csv] [-n N]\n"
    "Errors of run DIR's best network on N fresh samples of its data source\n"
    "(default 20000, never seen in training or validation; a CSV source: its test\n"
    "file, else its validation rows) or on FILE.csv (for the simulator, the format\n"
    "of `evotrain dataset`; else the run's columns): RMSE, p50, p95 and max\n"
    "absolute error of each output and the Euclidean error of each group (the\n"
    "pose's translation), in the outputs' units.\n";

int cmd_eval(int argc, char **argv)
{
    et_run_eval re;
    int rc = et_run_eval_open("eval", eval_help, argc, argv, &re);
    if (rc != ET_RUN_EVAL_OPEN)
        return rc;
    et_eval_print_task(&re.ev, &re.run.task, stdout);
    et_run_eval_close(&re);
    return ET_EXIT_OK;
}
