/* dist: evaluation across processes with MPI (built with `make MPI=1`). */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void et_dist_share(size_t lambda, size_t *lo, size_t *hi)
{
    size_t r = (size_t)et_dist_rank(), p = (size_t)et_dist_size();
    *lo = lambda * r / p;
    *hi = lambda * (r + 1) / p;
}

#ifdef ET_MPI
#include <mpi.h>

/* The build's identity: compiled-in source date and the version, plus the
 * sizes the ranks exchange. Ranks of different builds must not train together. */
#ifndef ET_BUILD_ID
#define ET_BUILD_ID __DATE__ " " __TIME__
#endif

static int inited;
static char captured[512];

void et_dist_init(int *argc, char ***argv)
{
    if (inited)
        return;
    MPI_Init(argc, argv);
    /* Errors abort every rank: a half-dead job must not go on. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    inited = 1;
    if (et_dist_rank() != 0) {
        et_error_capture = captured;
        et_error_capture_size = sizeof captured;
    }
}

int et_dist_phase(int failed, const char *what)
{
    int p = et_dist_size(), rank = et_dist_rank();
    if (p == 1)
        return failed;
    char mine[sizeof captured];
    memset(mine, 0, sizeof mine);
    mine[0] = failed ? 1 : 0;
    memcpy(mine + 1, captured, sizeof captured - 1);
    char *all = rank == 0 ? et_calloc((size_t)p, sizeof mine) : NULL;
    MPI_Gather(mine, sizeof mine, MPI_CHAR, all, sizeof mine, MPI_CHAR, 0, MPI_COMM_WORLD);
    int any = failed;
    if (rank == 0) {
        for (int r = 1; r < p; r++) {
            const char *m = all + (size_t)r * sizeof mine;
            if (!m[0])
                continue;
            any = 1;
            /* The same failure on every rank is said once, by rank 0. */
            if (!failed)
                fprintf(stderr, "evotrain: rank %d failed while %s: %s\n", r, what,
                        m[1] ? m + 1 : "(no message)");
        }
        free(all);
    }
    captured[0] = '\0';
    any = et_dist_max_int(any);
    return any;
}

void et_dist_finalize(void)
{
    if (inited)
        MPI_Finalize();
    inited = 0;
}

int et_dist_enabled(void)
{
    return 1;
}

int et_dist_rank(void)
{
    int r = 0;
    if (inited)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int et_dist_size(void)
{
    int s = 1;
    if (inited)
        MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

static void counts_of(size_t n, size_t width, int *cnt, int *disp)
{
    int p = et_dist_size();
    for (int r = 0; r < p; r++) {
        size_t lo = n * (size_t)r / (size_t)p, hi = n * (size_t)(r + 1) / (size_t)p;
        cnt[r] = (int)((hi - lo) * width);
        disp[r] = (int)(lo * width);
    }
}

static void allgather_rows(void *a, size_t n, size_t width, MPI_Datatype t)
{
    int p = et_dist_size();
    if (p == 1)
        return;
    int *cnt = et_malloc(sizeof(int) * (size_t)p), *disp = et_malloc(sizeof(int) * (size_t)p);
    counts_of(n, width, cnt, disp);
    MPI_Allgatherv(MPI_IN_PLACE, 0, t, a, cnt, disp, t, MPI_COMM_WORLD);
    free(cnt);
    free(disp);
}

void et_dist_allgather(double *loss, size_t lambda)
{
    allgather_rows(loss, lambda, 1, MPI_DOUBLE);
}

void et_dist_allgather_rows_i16(int16_t *a, size_t n, size_t width)
{
    allgather_rows(a, n, width, MPI_INT16_T);
}

void et_dist_allgather_rows_f64(double *a, size_t n, size_t width)
{
    allgather_rows(a, n, width, MPI_DOUBLE);
}

void et_dist_bcast_int(int *v)
{
    if (et_dist_size() > 1)
        MPI_Bcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

int et_dist_max_int(int v)
{
    int m = v;
    if (et_dist_size() > 1)
        MPI_Allreduce(&v, &m, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return m;
}

int et_dist_check_build(void)
{
    char id[64] = {0}, root[64] = {0};
    /* ET_TEST_BUILD_ID lets the tests pose as another build. */
    const char *fake = getenv("ET_TEST_BUILD_ID");
    snprintf(id, sizeof id, "%s|%zu|%zu", fake ? fake : ET_BUILD_ID, sizeof(void *), sizeof(long));
    memcpy(root, id, sizeof id);
    if (et_dist_size() == 1)
        return 0;
    MPI_Bcast(root, sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    int bad = et_dist_max_int(memcmp(root, id, sizeof id) != 0);
    if (bad && et_dist_rank() == 0)
        et_error(NULL, 0,
                 "the MPI ranks run different evotrain builds (this one: %s); "
                 "use one binary on every node",
                 id);
    return bad ? -1 : 0;
}

void et_dist_abort(int code)
{
    if (inited && et_dist_size() > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

#else /* one process */

void et_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}

void et_dist_finalize(void)
{
}

int et_dist_enabled(void)
{
    return 0;
}

int et_dist_rank(void)
{
    return 0;
}

int et_dist_size(void)
{
    return 1;
}

void et_dist_allgather(double *loss, size_t lambda)
{
    (void)loss;
    (void)lambda;
}

void et_dist_allgather_rows_i16(int16_t *a, size_t n, size_t width)
{
    (void)a, (void)n, (void)width;
}

void et_dist_allgather_rows_f64(double *a, size_t n, size_t width)
{
    (void)a, (void)n, (void)width;
}

void et_dist_bcast_int(int *v)
{
    (void)v;
}

int et_dist_max_int(int v)
{
    return v;
}

int et_dist_phase(int failed, const char *what)
{
    (void)what;
    return failed;
}

int et_dist_check_build(void)
{
    return 0;
}

void et_dist_abort(int code)
{
    exit(code);
}

#endif
