/* bench_data: the data sources' figures (`evotrain bench`): how long a CSV of
 * 1 million rows and 24 columns takes to load, and how many samples a
 * second the example numpy simulator (sim/examples/tilt/tilt.py) fills
 * through the command protocol with 1 and 2 workers. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "source.h"
#include "util.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* 1M rows: 20 int16 inputs, 4 targets with 6 decimals (a dataset's look). */
static void bench_csv(void)
{
    char path[] = "/tmp/evotrain_bench_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        et_error(NULL, 0, "bench: cannot write a temporary CSV");
        return;
    }
    for (int c = 0; c < 24; c++)
        fprintf(f, "%sc%d", c ? "," : "", c);
    fputc('\n', f);
    uint64_t x = 1;
    for (long r = 0; r < 1000000; r++) {
        for (int c = 0; c < 24; c++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            if (c < 20)
                fprintf(f, "%s%d", c ? "," : "", (int)(x >> 53) - 1024);
            else
                fprintf(f, ",%.6f", (double)(x >> 11) / 9007199254740992.0 * 20 - 10);
        }
        fputc('\n', f);
    }
    fclose(f);
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = path, .n_in = 20};
    double t0 = now_s();
    et_source *s = et_source_open(&d);
    double t = now_s() - t0;
    if (s)
        printf("csv_load_1M_rows_24_cols_s: %.2f\n", t);
    et_source_close(s);
    unlink(path);
}

/* tilt.py with n workers: samples a second over 200,000 (after the
 * handshake and one warm-up request). */
static void bench_command(int workers)
{
    const char *args[] = {"sim/examples/tilt/tilt.py"};
    et_source_desc d = {.kind = ET_SOURCE_COMMAND,
                        .path = "/usr/bin/python3",
                        .argv = args,
                        .argc = 1,
                        .workers = workers};
    et_source *s = et_source_open(&d);
    if (!s)
        return;
    enum { N = 200000 };
    int16_t *X = et_malloc(sizeof *X * N * 3);
    double *T = et_malloc(sizeof *T * N * 2);
    et_source_fill(s, 1, 0, 1024, X, T);
    double t0 = now_s();
    if (et_source_fill(s, 1, 0, N, X, T) == 0)
        printf("command_fill_tilt_samples_per_s_%d_worker%s: %.0f\n", workers,
               workers > 1 ? "s" : "", N / (now_s() - t0));
    free(X);
    free(T);
    et_source_close(s);
}

void bench_data(void)
{
    bench_csv();
    /* The example needs Debian's python3-numpy. */
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
        printf("command_fill_tilt: skipped (no /usr/bin/python3 with numpy)\n");
        return;
    }
    bench_command(1);
    bench_command(2);
}
