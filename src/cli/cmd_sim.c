/* cmd_sim: `evotrain simulate`, `evotrain dataset` and the simulator benchmark. */
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ini.h>
#include <omp.h>

#include "commands.h"
#include "rundata.h"
#include "config.h"
#include "csv.h"
#include "sim.h"
#include "util.h"

/* Rows generated and written per batch: bounds memory for any -n. */
#define DATASET_BATCH 65536
#define DATASET_MAX_ROWS 1000000000L

static const char simulate_help[] =
    "usage: evotrain simulate --config FILE --poses IN.csv -o OUT.csv [--counts]\n"
    "                         [--seed S] [--no-noise]\n"
    "\n"
    "Run the forward model of the config's scenario on given poses.\n"
    "\n"
    "IN.csv has the header x_mm,y_mm,z_mm,roll_deg,pitch_deg,yaw_deg and one pose per\n"
    "row. Without --counts, OUT.csv repeats each pose and adds the noise-free field\n"
    "(mT) of every reading, columns B_s0_x_mT, B_s0_y_mT, ... in reading order, with\n"
    "17 significant digits: diff it against your own implementation. With --counts,\n"
    "OUT.csv is a dataset (see `evotrain dataset --help`): ADC counts, noisy unless\n"
    "--no-noise, the noise of row i drawn from the stream (seed, i).\n"
    "\n"
    "Any finite pose is accepted, also outside the [pose] box (the box is only the\n"
    "sampling range); a pose that puts a sensor inside or on a magnet is an error.\n"
    "\n"
    "  --config FILE  scenario (and trainer) configuration, INI\n"
    "  --poses FILE   poses to simulate\n"
    "  -o FILE        output, written atomically (complete or not at all); - is stdout\n"
    "  --counts       write ADC counts instead of fields\n"
    "  --seed S       noise seed (default: [run] seed of the config)\n"
    "  --no-noise     counts without noise\n";

static const char dataset_help[] =
    "usage: evotrain dataset --config FILE -n N -o OUT.csv [--seed S] [--no-noise]\n"
    "\n"
    "Draw N poses uniformly from the config's [pose] box and write the sensors'\n"
    "ADC counts for each. The header is s0_x,...,s5_z,x_mm,y_mm,z_mm,roll_deg,\n"
    "pitch_deg,yaw_deg (one column per reading of the scenario); counts are\n"
    "integers, the pose has 6 digits after the point. Sample i depends only on\n"
    "(seed, i): the same seed gives the same file whatever the thread count, and\n"
    "the first rows of a larger N are the same rows. Load it with\n"
    "numpy.loadtxt(F, delimiter=',', skiprows=1) or pandas.read_csv(F).\n"
    "\n"
    "  --config FILE  scenario (and trainer) configuration, INI\n"
    "  -n N           number of samples, 1 to 1000000000\n"
    "  -o FILE        output, written atomically (complete or not at all); - is stdout\n"
    "  --seed S       seed (default: [run] seed of the config)\n"
    "  --no-noise     noise-free counts\n";

struct opts {
    const char *config, *poses, *out;
    int counts, no_noise, help, have_seed;
    uint64_t seed;
    long n;
};

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* 0 ok, -1 usage error (reported). */
static int parse_opts(int argc, char **argv, int dataset, struct opts *o)
{
    const char *cmd = argv[0];
    memset(o, 0, sizeof *o);
    o->n = -1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *val = NULL;
        char name[32];
        /* --name=value and --name value alike. */
        char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), a);
        int takes = !strcmp(name, "--config") || !strcmp(name, "-o") || !strcmp(name, "--output") ||
                    !strcmp(name, "--seed") || (!dataset && !strcmp(name, "--poses")) ||
                    (dataset && !strcmp(name, "-n"));
        if (takes) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                et_error(NULL, 0, "%s: %s needs a value (see evotrain %s --help)", cmd, name, cmd);
                return -1;
            }
        } else if (eq) {
            et_error(NULL, 0, "%s: %s takes no value", cmd, name);
            return -1;
        }
        if (!strcmp(name, "--help") || !strcmp(name, "-h"))
            o->help = 1;
        else if (!strcmp(name, "--config"))
            o->config = val;
        else if (!strcmp(name, "-o") || !strcmp(name, "--output"))
            o->out = val;
        else if (!strcmp(name, "--poses"))
            o->poses = val;
        else if (!strcmp(name, "--no-noise"))
            o->no_noise = 1;
        else if (!dataset && !strcmp(name, "--counts"))
            o->counts = 1;
        else if (!strcmp(name, "--seed")) {
            if (parse_u64(val, &o->seed) != 0) {
                et_error(NULL, 0, "%s: --seed '%s' is not an integer in [0, 2^64)", cmd, val);
                return -1;
            }
            o->have_seed = 1;
        } else if (!strcmp(name, "-n")) {
            if (et_parse_long(val, &o->n) != 0 || o->n < 1 || o->n > DATASET_MAX_ROWS) {
                et_error(NULL, 0, "%s: -n '%s' is not a count in [1, %ld]", cmd, val,
                         DATASET_MAX_ROWS);
                return -1;
            }
        } else {
            et_error(NULL, 0, "%s: unknown option '%s' (see evotrain %s --help)", cmd, a, cmd);
            return -1;
        }
    }
    if (o->help)
        return 0;
    const char *missing = !o->config              ? "--config FILE"
                          : !o->out               ? "-o FILE"
                          : !dataset && !o->poses ? "--poses FILE"
                          : dataset && o->n < 0   ? "-n N"
                                                  : NULL;
    if (missing) {
        et_error(NULL, 0, "%s: %s is required (see evotrain %s --help)", cmd, missing, cmd);
        return -1;
    }
    return 0;
}

/* Returned by start when the command goes on. */
#define START_GO (-1)

/* What simulate and dataset do first: their options (dataset or simulate),
 * --help, and the configuration loaded into cfg; o->seed is the config's
 * unless --seed gave one. START_GO with cfg to free (et_config_free), or the
 * exit code (nothing held). */
static int start(int argc, char **argv, int dataset, const char *help, struct opts *o,
                 et_config *cfg)
{
    if (parse_opts(argc, argv, dataset, o) != 0)
        return ET_EXIT_USAGE;
    if (o->help) {
        fputs(help, stdout);
        return ET_EXIT_OK;
    }
    if (et_config_load(o->config, cfg) != 0) {
        et_config_free(cfg);
        return ET_EXIT_INPUT;
    }
    if (!o->have_seed)
        o->seed = cfg->seed;
    const char *src = et_config_data(cfg, "source", "sim");
    if (strcmp(src, "sim") && (!dataset || !strcmp(src, "csv") || o->no_noise)) {
        et_error(o->config, 0, "%s: [data] source = %s; %s", dataset ? "dataset" : "simulate", src,
                 !dataset      ? "simulate runs the built-in magnet simulator only"
                 : o->no_noise ? "--no-noise is the magnet simulator's"
                               : "the data is already in CSV files");
        et_config_free(cfg);
        return ET_EXIT_USAGE;
    }
    return START_GO;
}

/* `dataset` of a program's or a plugin's samples: n of them from index 0 of
 * the seed, as the run's pool would be, in the CSV a csv source reads
 * (inputs as integers, then targets). */
static int dataset_of_source(const struct opts *o, et_config *cfg)
{
    et_rundata d;
    if (et_rundata_open(cfg, &d) != 0)
        return ET_EXIT_INPUT;
    size_t ni = et_source_n_inputs(d.src), nt = et_source_n_targets(d.src);
    size_t n = (size_t)o->n, batch = n < DATASET_BATCH ? n : DATASET_BATCH;
    int16_t *X = et_malloc(batch * ni * sizeof *X);
    double *T = et_malloc(batch * nt * sizeof *T);
    et_afile af;
    int rc = ET_EXIT_INPUT;
    if (et_afile_open(&af, o->out) == 0) {
        for (size_t i = 0; i < ni + nt; i++)
            fprintf(af.fp, "%s%s", i ? "," : "",
                    i < ni ? et_source_input(d.src, i)->name
                           : et_source_target(d.src, i - ni)->name);
        fputc('\n', af.fp);
        int ok = 1;
        for (size_t first = 0; ok && first < n; first += batch) {
            size_t m = n - first < batch ? n - first : batch;
            ok = et_source_fill(d.src, o->seed, first, m, X, T) == 0;
            for (size_t r = 0; ok && r < m; r++) {
                for (size_t i = 0; i < ni; i++)
                    fprintf(af.fp, "%s%d", i ? "," : "", X[r * ni + i]);
                for (size_t k = 0; k < nt; k++)
                    fprintf(af.fp, ",%.17g", T[r * nt + k]);
                fputc('\n', af.fp);
            }
        }
        if (!ok)
            et_afile_abort(&af);
        else if (et_afile_commit(&af) == 0)
            rc = ET_EXIT_OK;
    }
    free(X);
    free(T);
    et_rundata_close(&d);
    return rc;
}

/* Read every pose of path, refusing any that puts a sensor inside a magnet. */
static double *read_poses(const char *path, const struct sim_scenario *sc, size_t *n_out)
{
    et_csv *c = et_csv_open(path, sim_pose_names, SIM_POSE_DIM);
    if (!c)
        return NULL;
    size_t n = 0, cap = 256;
    double *pose = et_malloc(cap * SIM_POSE_DIM * sizeof *pose);
    int rc;
    while ((rc = et_csv_read(c, pose + SIM_POSE_DIM * n)) == 1) {
        char err[256];
        if (sim_pose_check(sc, pose + SIM_POSE_DIM * n, err, sizeof err) != 0) {
            et_csv_error(c, "%s", err);
            rc = -1;
            break;
        }
        if (++n == cap) {
            cap *= 2;
            double *p = realloc(pose, cap * SIM_POSE_DIM * sizeof *pose);
            if (!p) {
                et_csv_error(c, "out of memory");
                rc = -1;
                break;
            }
            pose = p;
        }
    }
    et_csv_close(c);
    if (rc == 0 && n == 0) {
        et_error(path, 0, "no poses (only a header)");
        rc = -1;
    }
    if (rc < 0) {
        free(pose);
        return NULL;
    }
    *n_out = n;
    return pose;
}

static void write_fields(FILE *out, const struct sim_scenario *sc, const double *pose,
                         const double *B, size_t n)
{
    size_t nr = sim_n_readings(sc);
    for (int i = 0; i < SIM_POSE_DIM; i++)
        fprintf(out, "%s,", sim_pose_names[i]);
    for (size_t i = 0; i < nr; i++)
        fprintf(out, "B_%s_mT%s", sim_reading_name(sc, i), i + 1 < nr ? "," : "\n");
    for (size_t r = 0; r < n; r++) {
        for (int i = 0; i < SIM_POSE_DIM; i++)
            fprintf(out, "%.17g,", pose[SIM_POSE_DIM * r + i]);
        for (size_t i = 0; i < nr; i++)
            fprintf(out, "%.17g%s", B[nr * r + i], i + 1 < nr ? "," : "\n");
    }
}

int cmd_simulate(int argc, char **argv)
{
    struct opts o;
    et_config cfg;
    int started = start(argc, argv, 0, simulate_help, &o, &cfg);
    if (started != START_GO)
        return started;
    const struct sim_scenario *sc = cfg.sim;
    size_t n, nr = sim_n_readings(sc);
    double *pose = read_poses(o.poses, sc, &n);
    if (!pose) {
        et_config_free(&cfg);
        return ET_EXIT_INPUT;
    }
    int rc = ET_EXIT_INPUT;
    et_afile af;
    if (et_afile_open(&af, o.out) == 0) {
        /* A write error stays in the stream; et_afile_commit reports it. */
        if (o.counts) {
            int16_t *counts = et_malloc(n * nr * sizeof *counts);
            sim_counts_for_poses(sc, o.seed, 0, n, !o.no_noise, pose, counts);
            (void)et_dataset_write(af.fp, sc, counts, pose, n, 1);
            free(counts);
        } else {
            double *B = et_malloc(n * nr * sizeof *B);
#pragma omp parallel for schedule(static) if (n >= 256)
            for (size_t r = 0; r < n; r++)
                sim_forward_field(sc, pose + SIM_POSE_DIM * r, B + nr * r);
            write_fields(af.fp, sc, pose, B, n);
            free(B);
        }
        if (et_afile_commit(&af) == 0) {
            rc = ET_EXIT_OK;
            if (et_verbosity >= 2)
                et_info("evotrain: %s: %zu poses\n", o.out, n);
        }
    }
    free(pose);
    et_config_free(&cfg);
    return rc;
}

/* Ctrl-C during a long dataset: finish the batch, remove the temp file, exit
 * 130, so that nothing half-written is left behind. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int cmd_dataset(int argc, char **argv)
{
    struct opts o;
    et_config cfg;
    int started = start(argc, argv, 1, dataset_help, &o, &cfg);
    if (started != START_GO)
        return started;
    if (strcmp(et_config_data(&cfg, "source", "sim"), "sim")) {
        int drc = dataset_of_source(&o, &cfg);
        et_config_free(&cfg);
        return drc;
    }
    const struct sim_scenario *sc = cfg.sim;
    size_t n = (size_t)o.n, nr = sim_n_readings(sc);
    size_t batch = n < DATASET_BATCH ? n : DATASET_BATCH;
    int16_t *counts = et_malloc(batch * nr * sizeof *counts);
    double *pose = et_malloc(batch * SIM_POSE_DIM * sizeof *pose);
    et_afile af;
    int rc = ET_EXIT_INPUT;
    if (et_afile_open(&af, o.out) != 0)
        goto out;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (size_t first = 0; first < n; first += batch) {
        size_t m = n - first < batch ? n - first : batch;
        if (interrupted) {
            et_error(o.out, 0, "interrupted; nothing written");
            et_afile_abort(&af);
            rc = ET_EXIT_INTERRUPTED;
            goto restore;
        }
        sim_sample(sc, o.seed, first, m, !o.no_noise, counts, pose);
        for (size_t r = 0; r < m; r++) {
            char err[256];
            if (sim_pose_check(sc, pose + SIM_POSE_DIM * r, err, sizeof err) != 0) {
                et_error(o.config, 0, "sample %zu: %s; the [pose] box is too large", first + r,
                         err);
                et_afile_abort(&af);
                goto restore;
            }
        }
        if (et_dataset_write(af.fp, sc, counts, pose, m, first == 0) != 0)
            break; /* commit reports the error */
    }
    if (et_afile_commit(&af) == 0) {
        rc = ET_EXIT_OK;
        if (et_verbosity >= 2)
            et_info("evotrain: %s: %zu samples, seed %llu\n", o.out, n, (unsigned long long)o.seed);
    }
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    free(counts);
    free(pose);
    et_config_free(&cfg);
    return rc;
}

/* ---- benchmark ------------------------------------------------------------- */

static int bench_handler(void *user, const char *section, const char *key, const char *value)
{
    char err[256];
    if (sim_config_set(user, section, key, value, 0, err, sizeof err) != 1) {
        fprintf(stderr, "evotrain: built-in scenario: [%s] %s: %s\n", section, key, err);
        return 0;
    }
    return 1;
}

static struct sim_scenario *default_scenario(const char *model)
{
    struct sim_scenario *sc = sim_scenario_alloc();
    char err[256];
    long line;
    if (!sc || ini_parse_string(sim_default_scenario_ini, bench_handler, sc) != 0 ||
        sim_config_set(sc, "magnets", "model", model, 0, err, sizeof err) != 1 ||
        sim_config_finish(sc, err, sizeof err, &line) != 0) {
        sim_scenario_free(sc);
        return NULL;
    }
    return sc;
}

/* CPU time of this thread: the figure is per core, and on a shared machine
 * wall time would also count the time other processes held the core. With one
 * OpenMP thread all the work runs on the calling thread. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Noisy counts of the default scenario on one thread, for about a second. */
void bench_sim(void)
{
    static const char *const models[] = {"cuboid", "dipole"};
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    for (size_t k = 0; k < 2; k++) {
        struct sim_scenario *sc = default_scenario(models[k]);
        if (!sc) {
            printf("sim_samples_per_s_%s: error\n", models[k]);
            continue;
        }
        const size_t batch = 8192;
        int16_t *counts = et_malloc(batch * sim_n_readings(sc) * sizeof *counts);
        double *pose = et_malloc(batch * SIM_POSE_DIM * sizeof *pose);
        size_t done = 0;
        double t0 = now_s(), t;
        do {
            sim_sample(sc, 1, done, batch, 1, counts, pose);
            done += batch;
            t = now_s() - t0;
        } while (t < 1.0);
        printf("sim_samples_per_s_%s: %.0f\n", models[k], (double)done / t);
        free(counts);
        free(pose);
        sim_scenario_free(sc);
    }
    omp_set_num_threads(threads);
}
