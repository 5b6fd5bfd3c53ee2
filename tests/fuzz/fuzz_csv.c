/* Fuzz target: the strict CSV reader, as `simulate --poses` (pose columns,
 * then the scenario's pose check) and the dataset reader of `eval --data` /
 * plot / report (with and without the pose-box check) use it. The first input
 * byte picks the reader. The scenario is the built-in default one. */
#define _GNU_SOURCE /* memfd_create, open_memstream */
#include <string.h>

#include "config.h"
#include "csv.h"
#include "fuzz_util.h"
#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sim_scenario *scenario(void)
{
    static et_config cfg;
    if (!cfg.sim) {
        const char *ini = sim_default_scenario_ini;
        if (et_config_load(fuzz_file((const uint8_t *)ini, strlen(ini)), &cfg) != 0) {
            fprintf(stderr, "default scenario: %s\n", et_error_capture);
            abort();
        }
    }
    return cfg.sim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const struct sim_scenario *sc = scenario();
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    const char *path = fuzz_file(data + 1, size - 1);
    if (mode == 2) {
        et_csv *c = et_csv_open(path, sim_pose_names, SIM_POSE_DIM);
        if (!c)
            return 0;
        double row[SIM_POSE_DIM];
        char err[256];
        int rc;
        while ((rc = et_csv_read(c, row)) == 1)
            if (sim_pose_check(sc, row, err, sizeof err) != 0)
                break;
        et_csv_close(c);
        return 0;
    }
    et_dataset ds;
    if (et_dataset_read(path, sc, mode, &ds) == 0) {
        /* What was accepted must be what was written: rows of in-range counts. */
        if (ds.n == 0 || ds.n_readings != sim_n_readings(sc))
            abort();
        et_dataset_free(&ds);
    }
    return 0;
}
