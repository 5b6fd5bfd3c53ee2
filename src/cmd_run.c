/* cmd_run: the commands that read a finished (or running) run directory:
 * export (firmware header) and eval (errors on held-out data). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "csv.h"
#include "export.h"
#include "run.h"
#include "sim.h"
#include "util.h"

#define N_SELFTEST 8

static const char *const out_names[SIM_POSE_DIM] = {
    "x (0.01 mm)", "y (0.01 mm)", "z (0.01 mm)", "roll (0.01 deg)", "pitch (0.01 deg)",
    "yaw (0.01 deg)"};

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *outp = NULL, *name = "pose_net";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: evotrain export DIR -o FILE.h [--name NAME]\n"
                   "Writes the best network of run DIR as a C header for the evonet kernel:\n"
                   "NAME_infer(in, out), NAME_selftest(), NAME_N_IN, NAME_N_OUT.\n");
            return ET_EXIT_OK;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            outp = argv[++i];
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "-q")) {
            et_verbosity = 0;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            et_error(NULL, 0, "export: unexpected argument '%s'", argv[i]);
            return ET_EXIT_USAGE;
        }
    }
    if (!dir || !outp) {
        et_error(NULL, 0, "export: usage: evotrain export DIR -o FILE.h [--name NAME]");
        return ET_EXIT_USAGE;
    }
    if (!et_is_identifier(name)) {
        et_error(NULL, 0, "export: --name '%s' is not a C identifier", name);
        return ET_EXIT_USAGE;
    }
    et_run r;
    if (et_run_open(dir, &r) != 0)
        return ET_EXIT_INPUT;
    /* Self-test vectors: fresh simulated readings of their own stream, so
     * the same run always gives the same header. */
    size_t ni = sim_n_readings(r.cfg.sim);
    int16_t *counts = et_malloc(sizeof(int16_t) * N_SELFTEST * ni);
    sim_sample(r.cfg.sim, r.cfg.seed, ET_SELFTEST_BASE, N_SELFTEST, 1, counts, NULL);
    char prov[512], input_doc[256];
    snprintf(prov, sizeof prov,
             "Made by evotrain from run %s (seed %llu, generation %llu; validation RMSE "
             "%.3f mm, %.2f/%.2f/%.2f deg).",
             dir, (unsigned long long)r.cfg.seed, (unsigned long long)r.st.best_generation,
             r.st.best_trans, r.st.best_rmse[3], r.st.best_rmse[4], r.st.best_rmse[5]);
    snprintf(input_doc, sizeof input_doc, "%zu raw ADC counts (int16) in the order %s, %s, ..., %s",
             ni, sim_reading_name(r.cfg.sim, 0), sim_reading_name(r.cfg.sim, 1),
             sim_reading_name(r.cfg.sim, ni - 1));
    et_export_info info = {name, prov, input_doc, out_names, counts, N_SELFTEST};
    et_afile af;
    int rc = ET_EXIT_INPUT;
    if (et_afile_open(&af, outp) == 0) {
        if (et_export_write(af.fp, &r.best->net, &info) == 0) {
            if (et_afile_commit(&af) == 0) {
                rc = ET_EXIT_OK;
                et_info("evotrain: wrote %s\n", outp);
            }
        } else {
            et_afile_abort(&af);
        }
    }
    free(counts);
    et_run_close(&r);
    return rc;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n) - 1;
    return v[k >= n ? n - 1 : k];
}

int cmd_eval(int argc, char **argv)
{
    const char *dir = NULL, *data = NULL;
    double nd = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: evotrain eval DIR [--data FILE.csv] [-n N]\n"
                   "Errors of run DIR's best network on N fresh simulated samples (default\n"
                   "20000, never seen in training or validation) or on a dataset CSV in the\n"
                   "format of `evotrain dataset`: per-axis RMSE, p50, p95 and max absolute\n"
                   "error, and the Euclidean translation error, in mm and deg.\n");
            return ET_EXIT_OK;
        } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            data = argv[++i];
        } else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            if (et_parse_double(argv[++i], &nd) != 0 || nd < 1 || nd > 1e8 || nd != floor(nd)) {
                et_error(NULL, 0, "eval: -n needs a whole number in [1, 1e8]");
                return ET_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "-q")) {
            et_verbosity = 0;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            et_error(NULL, 0, "eval: unexpected argument '%s'", argv[i]);
            return ET_EXIT_USAGE;
        }
    }
    if (!dir) {
        et_error(NULL, 0, "eval: usage: evotrain eval DIR [--data FILE.csv] [-n N]");
        return ET_EXIT_USAGE;
    }
    et_run r;
    if (et_run_open(dir, &r) != 0)
        return ET_EXIT_INPUT;
    size_t ni = sim_n_readings(r.cfg.sim), n;
    int16_t *counts;
    double *pose;
    et_dataset ds = {0};
    if (data) {
        if (et_dataset_read(data, r.cfg.sim, 0, &ds) != 0) {
            et_run_close(&r);
            return ET_EXIT_INPUT;
        }
        n = ds.n;
        counts = ds.counts;
        pose = ds.pose;
        if (n == 0) {
            et_error(data, 0, "no samples");
            et_dataset_free(&ds);
            et_run_close(&r);
            return ET_EXIT_INPUT;
        }
    } else {
        n = (size_t)nd;
        counts = et_malloc(sizeof(int16_t) * n * ni);
        pose = et_malloc(sizeof(double) * n * SIM_POSE_DIM);
        sim_sample(r.cfg.sim, r.cfg.seed, ET_EVAL_BASE, n, 1, counts, pose);
    }
    /* The shipped kernel itself, one sample at a time, as the device runs it. */
    double *err = et_malloc(sizeof(double) * n * (SIM_POSE_DIM + 1));
    uint8_t *scratch = et_malloc(evonet_scratch_bytes(&r.best->net) + 1);
    for (size_t s = 0; s < n; s++) {
        int16_t y[SIM_POSE_DIM];
        evonet_forward(&r.best->net, counts + s * ni, y, scratch);
        double e2 = 0;
        for (int k = 0; k < SIM_POSE_DIM; k++) {
            double e = y[k] / 100.0 - pose[s * SIM_POSE_DIM + k];
            err[(size_t)k * n + s] = e;
            if (k < 3)
                e2 += e * e;
        }
        err[(size_t)SIM_POSE_DIM * n + s] = sqrt(e2);
    }
    static const char *const names[] = {"x",    "y",     "z",   "roll",
                                        "pitch", "yaw", "translation"};
    printf("evaluated %zu samples (%s) with the integer kernel\n", n,
           data ? data : "fresh simulated");
    printf("%-12s %5s %9s %9s %9s %9s\n", "output", "unit", "rmse", "p50", "p95", "max");
    for (int k = 0; k <= SIM_POSE_DIM; k++) {
        double *v = err + (size_t)k * n, ss = 0;
        for (size_t s = 0; s < n; s++) {
            ss += v[s] * v[s];
            v[s] = fabs(v[s]);
        }
        qsort(v, n, sizeof *v, cmp_d);
        printf("%-12s %5s %9.4f %9.4f %9.4f %9.4f\n", names[k], k < 3 || k == 6 ? "mm" : "deg",
               sqrt(ss / (double)n), pct(v, n, 0.5), pct(v, n, 0.95), v[n - 1]);
    }
    free(err);
    free(scratch);
    if (data) {
        et_dataset_free(&ds);
    } else {
        free(counts);
        free(pose);
    }
    et_run_close(&r);
    return ET_EXIT_OK;
}
