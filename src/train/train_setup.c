/* train_setup: a run from its configuration (or its directory) to the
 * first generation: configuration, run directory, search, state. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "dist.h"
#include "trainer.h"
#include "warmstart.h"

/* The genome's weight formats, from weight_bits. */
static void genome_wfmt(et_genome *g, const et_config *cfg)
{
    unsigned f[EVONET_MAX_LAYERS];
    for (unsigned l = 0; l < g->n_layers; l++)
        f[l] = (unsigned)et_config_wfmt(cfg, l);
    et_genome_set_wfmt(g, f);
}

/* The configuration as text: the checkpoint's form (dump) or the run's
 * config.ini (shortest numbers); see et_config_print. */
static char *dump_string(const et_config *cfg, int print)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (print)
        et_config_print(cfg, f);
    else
        et_config_dump(cfg, f);
    fclose(f);
    return buf;
}

static int write_text_atomic(const char *path, const char *text)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    fputs(text, af.fp);
    return et_afile_commit(&af);
}

void tr_free(trainer *t)
{
    et_rundata_close(&t->data);
    if (t->locked)
        close(t->lock_fd);
    for (int j = 0; j < t->n_starts; j++) {
        et_opt_free(t->opt[j]);
        if (j > 0)
            et_genome_free(t->gs[j]);
    }
    et_fitness_free(t->fit);
    et_genome_free(t->g);
    et_samples_free(&t->pool);
    et_samples_free(&t->valid);
    free(t->Xmb);
    free(t->Tmb);
    free(t->mb_idx);
    free(t->pool_xs);
    free(t->pool_ts);
    free(t->X);
    free(t->loss);
    free(t->x0);
    free(t->best_x);
    et_net_free(t->best);
    et_net_free(t->polished);
    for (int j = 0; j < ET_MAX_STARTS; j++)
        et_net_free(t->cur[j]);
    if (t->log)
        fclose(t->log);
    free(t->dir);
    free(t->ckpt_path);
    free(t->log_path);
    free(t->cfg_text);
    et_config_free(&t->cfg);
}

/* The search the configuration asks for, tried before anything is written:
 * a network the kernel cannot run, an unknown algorithm or more MPI ranks
 * than candidates are refused here. */
static int check_search(trainer *t)
{
    const et_config *c = &t->cfg;
    /* The optimizers stop on their budget only (minibatch noise is not
     * convergence), so without one a run would never end, nor polish. */
    if (t->cfg.time_limit_s <= 0 && t->cfg.max_generations <= 0 && t->cfg.max_evals <= 0) {
        et_error(t->cfg.path, 0,
                 "[train] has no budget: time_limit_s, max_generations and max_evals are all 0; "
                 "set one (or give --time-limit, --max-generations or --max-evals)");
        return -1;
    }
    if (t->cfg.polish_sweeps > 0 && t->cfg.time_limit_s > 0 &&
        t->cfg.polish_s >= t->cfg.time_limit_s) {
        et_error(t->cfg.path, et_config_line(c, "train", "polish_s"),
                 "[train] polish_s = %g leaves no time of time_limit_s = %g for the search",
                 t->cfg.polish_s, t->cfg.time_limit_s);
        return -1;
    }
    /* The simulator's pose box must fit the outputs' int16 steps; checked
     * here on the box itself, before the run directory is made and the
     * pool simulated (the samples are checked again as they are loaded). */
    if (t->data.kind == ET_DATA_SIM) {
        double lo[SIM_POSE_DIM], hi[SIM_POSE_DIM], box[2 * SIM_POSE_DIM];
        long line[ET_MAX_OUTPUTS] = {0};
        sim_pose_box(c->sim, lo, hi);
        for (int k = 0; k < SIM_POSE_DIM; k++) {
            box[k] = lo[k];
            box[SIM_POSE_DIM + k] = hi[k];
            line[k] = et_config_line(c, "pose", sim_pose_names[k]);
        }
        if (t->task.n_out == SIM_POSE_DIM &&
            et_task_check_range_at(&t->task, box, 2, c->path, line) != 0)
            return -1;
    }
    /* A minibatch is a window of the pool: a larger one would repeat it. */
    if (c->minibatch > c->pool_size) {
        long line = et_config_line(c, "train", "pool");
        et_error(c->path, line ? line : et_config_line(c, "train", "minibatch"),
                 "[train] pool = %d is smaller than minibatch = %d: a minibatch is drawn from the "
                 "pool (make pool at least minibatch, best many times it)",
                 c->pool_size, c->minibatch);
        return -1;
    }
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    unsigned nl = et_net_sizes(&t->cfg, &t->task, sizes);
    char err[256];
    et_genome *g =
        et_genome_alloc(sizes, nl, t->cfg.ridge_output, t->cfg.scale_search, err, sizeof err);
    if (!g) {
        et_error(t->cfg.path, 0, "[network] %s", err);
        return -1;
    }
    genome_wfmt(g, &t->cfg);
    /* A halving before a start's first validation would judge it on
     * nothing. */
    if (t->cfg.starts > 1 && t->cfg.halving_generations < t->cfg.valid_every) {
        et_error(t->cfg.path, et_config_line(c, "train", "halving_generations"),
                 "[train] halving_generations = %ld is less than valid_every = %d: the starts "
                 "would be halved before they are validated",
                 t->cfg.halving_generations, t->cfg.valid_every);
        et_genome_free(g);
        return -1;
    }
    et_opt_params p;
    tr_opt_params(t, 0, &p);
    /* An unknown name gets one message, with the file; other refusals come
     * from the optimizer itself, with this line for context. */
    if (!et_opt_known(t->cfg.algo)) {
        et_error(t->cfg.path, et_config_line(c, "train", "algo"),
                 "[train] algo = %s: unknown (algorithms: %s)", t->cfg.algo, et_opt_algorithms());
        et_genome_free(g);
        return -1;
    }
    et_opt *opt = et_opt_alloc(t->cfg.algo, g->dim, &p);
    int rc = 0;
    if (!opt) {
        et_error(t->cfg.path, et_config_line(c, "train", "algo"),
                 "[train] algo = %s: cannot start it (algorithms: %s)", t->cfg.algo,
                 et_opt_algorithms());
        rc = -1;
    } else if ((size_t)et_dist_size() > et_opt_lambda(opt)) {
        et_error(NULL, 0,
                 "%d MPI ranks but only %zu candidates per generation: use at most "
                 "%zu ranks or a larger [train] lambda",
                 et_dist_size(), et_opt_lambda(opt), et_opt_lambda(opt));
        rc = -1;
    }
    et_opt_free(opt);
    et_genome_free(g);
    return rc;
}

/* Phase 1, every rank: the configuration (the file given, or the run's own
 * on resume) with the command line's overrides. */
int tr_setup_config(trainer *t, const et_train_opts *o)
{
    if (o->resume) {
        t->dir = et_strdup(o->resume);
        char *cp = et_path(t->dir, "config.ini");
        struct stat sb;
        /* Say what is missing: the run, not a file inside it. */
        const char *why = stat(t->dir, &sb) != 0  ? "no such directory"
                          : !S_ISDIR(sb.st_mode)  ? "not a directory"
                          : access(cp, F_OK) != 0 ? "no config.ini (not a run directory)"
                                                  : NULL;
        if (why) {
            et_error(t->dir, 0, "no run to resume there: %s", why);
            free(cp);
            return -1;
        }
        int lrc = et_config_load(o->config ? o->config : cp, &t->cfg);
        free(cp);
        if (lrc != 0)
            return -1;
    } else {
        if (et_config_load(o->config, &t->cfg) != 0)
            return -1;
        const char *name = o->name ? o->name : t->cfg.name;
        if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
            et_error(o->config, 0, "run name '%s' is not a plain directory name", name);
            return -1;
        }
        t->dir = et_path(o->out, name);
    }
    if (o->init && o->resume) {
        et_error(NULL, 0, "train: --init starts a run; it cannot be given with --resume");
        return -1;
    }
    if (o->init) {
        free(t->cfg.init);
        t->cfg.init = et_strdup(o->init);
    }
    if (o->threads >= 0)
        t->cfg.threads = o->threads;
    if (o->time_limit >= 0)
        t->cfg.time_limit_s = o->time_limit;
    if (o->max_generations >= 0)
        t->cfg.max_generations = o->max_generations;
    if (o->max_evals >= 0)
        t->cfg.max_evals = o->max_evals;
    if (et_rundata_open(&t->cfg, &t->data) != 0 ||
        et_task_from_config(&t->cfg, &t->data, &t->task) != 0)
        return -1;
    t->cfg_text = dump_string(&t->cfg, 0);
    t->ckpt_path = et_path(t->dir, "checkpoint.bin");
    t->log_path = et_path(t->dir, "log.csv");
    t->resume = o->resume != NULL;
    if (t->resume && access(t->ckpt_path, F_OK) != 0 && errno == ENOENT) {
        /* Stopped before its first checkpoint (while simulating the pool):
         * nothing was done that a fresh start would not redo identically. */
        if (et_dist_rank() == 0)
            et_info("evotrain: %s has no checkpoint yet: starting the run from its beginning\n",
                    t->dir);
        t->resume = 0;
    }
    if (!o->resume) {
        /* Without them the defaults train a 16-16 network for 10 minutes: a
         * configuration that has only the problem in it is likely one that
         * lost its training part, so it is said, not guessed. */
        static const char *const need[][2] = {{"network", "a 16 16 network"},
                                              {"train", "for 10 minutes (time_limit_s = 600)"}};
        for (int i = 0; i < 2; i++)
            if (!et_config_line(&t->cfg, need[i][0], NULL)) {
                et_error(o->config, 0,
                         "no [%s] section: the defaults would train %s; add [%s] (left empty, it "
                         "takes the defaults that `evotrain config --doc` lists)",
                         need[i][0], need[i][1], need[i][0]);
                return -1;
            }
    }
    return check_search(t);
}

/* Phase 2, rank 0 only: the run directory. Never overwrite a run unless asked. */
/* The run being set up, for tr_abandon at exit (one run per process). */
static trainer *unstarted;

static void abandon_at_exit(void)
{
    if (unstarted)
        tr_abandon(unstarted);
}

void tr_abandon(trainer *t)
{
    if (!t->locked || t->resume || t->started)
        return;
    const char *files[] = {"config.ini", "log.csv", "checkpoint.bin", "lock"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = et_path(t->dir, files[i]);
        unlink(p);
        free(p);
    }
    if (t->made_dir)
        rmdir(t->dir);
    unstarted = NULL;
}

int tr_setup_dir(trainer *t, const et_train_opts *o)
{
    /* The lock comes before anything is changed: a second process on the
     * same run stops here, touching nothing. */
    if (o->resume) {
        if ((t->lock_fd = et_run_lock(t->dir)) < 0)
            return -1;
        t->locked = 1;
        return 0;
    }
    struct stat sb;
    if (stat(t->dir, &sb) == 0) {
        if (!o->force) {
            et_error(t->dir, 0,
                     "run directory exists (use --force to overwrite it, or "
                     "--resume %s to continue it)",
                     t->dir);
            return -1;
        }
        if ((t->lock_fd = et_run_lock(t->dir)) < 0)
            return -1;
        t->locked = 1;
        unlink(t->ckpt_path);
        unlink(t->log_path);
    } else {
        mkdir(o->out, 0777); /* may exist */
        if (mkdir(t->dir, 0777) != 0) {
            et_error(t->dir, 0, "cannot create run directory: %s", strerror(errno));
            return -1;
        }
        t->made_dir = 1;
        if ((t->lock_fd = et_run_lock(t->dir)) < 0)
            return -1;
        t->locked = 1;
    }
    static int registered;
    if (!registered && atexit(abandon_at_exit) == 0)
        registered = 1;
    unstarted = t;
    char *cp = et_path(t->dir, "config.ini"), *text = dump_string(&t->cfg, 1);
    int w = write_text_atomic(cp, text);
    free(text);
    free(cp);
    return w;
}

/* The raced starts: each with its optimizer at its start point and its own
 * calibration. 0 with *cap the most candidates a generation can ask, or -1. */
static int setup_starts(trainer *t, const et_data *cal, size_t *cap_out)
{
    size_t dim = t->g->dim;
    char err[256];
    t->n_starts = t->cfg.starts;
    t->n_alive = t->n_starts;
    t->gs[0] = t->g;
    double *grid = et_malloc(dim * sizeof(double)), *xj = et_malloc(dim * sizeof(double));
    et_genome_grid(t->g, t->cfg.bias_step, grid);
    size_t cap = 0;
    int rc = 0;
    for (int j = 0; j < t->n_starts && rc == 0; j++) {
        et_opt_params p;
        tr_opt_params(t, j, &p);
        t->opt[j] = et_opt_alloc(t->cfg.algo, dim, &p);
        t->alive[j] = 1;
        t->start_best[j] = INFINITY;
        if (!t->opt[j]) {
            rc = -1; /* check_search tried the same allocation */
            break;
        }
        /* Each start is calibrated on its own start weights, as a run of
         * its own would be: start 0's per-channel scales do not fit another
         * start's weights. From a warm start they all begin at its point,
         * with its calibration, and differ in their random streams. */
        memcpy(xj, t->x0, dim * sizeof(double));
        if (j > 0) {
            t->gs[j] = et_genome_alloc(t->sizes, t->nl, t->cfg.ridge_output, t->cfg.scale_search,
                                       err, sizeof err);
            if (!t->gs[j]) {
                rc = -1;
                break;
            }
            genome_wfmt(t->gs[j], &t->cfg);
            t->gs[j]->per_layer = t->g->per_layer;
            if (t->resume) {
                /* the calibration comes back with the checkpoint */
            } else if (!strcmp(t->cfg.init, "none")) {
                et_genome_init(t->gs[j], tr_start_seed(t, j), t->cfg.init_weight_sd, xj);
                et_fitness_calibrate(t->gs[j], xj, cal);
            } else {
                et_genome_cal_copy(t->gs[j], t->g);
            }
        }
        et_opt_set_grid(t->opt[j], grid);
        if (et_opt_set_x0(t->opt[j], xj, t->cfg.sigma0) != 0 ||
            (t->cfg.margin != 0 && et_opt_set_margin(t->opt[j], t->cfg.margin) != 0))
            rc = -1;
        cap += et_opt_lambda_max(t->opt[j]);
    }
    free(grid);
    free(xj);
    *cap_out = cap;
    return rc;
}

/* Phase 3, every rank: network, data, start point, optimizer. Each rank
 * simulates its share of the pool; the shares are then exchanged. */
int tr_setup_search(trainer *t)
{
    t->threads = t->cfg.threads;
#ifdef _OPENMP
    if (t->threads <= 0)
        t->threads = omp_get_num_procs();
    omp_set_num_threads(t->threads);
#else
    t->threads = 1;
#endif
    t->nl = et_net_sizes(&t->cfg, &t->task, t->sizes);
    char err[256];
    t->g =
        et_genome_alloc(t->sizes, t->nl, t->cfg.ridge_output, t->cfg.scale_search, err, sizeof err);
    if (!t->g)
        return -1; /* check_search tried the same */
    genome_wfmt(t->g, &t->cfg);
    t->g->per_layer = !t->cfg.per_channel;
    size_t dim = t->g->dim;

    double t0 = tr_now();
    if (et_samples_load(&t->pool, &t->data, &t->task, ET_SET_POOL, (size_t)t->cfg.pool_size) != 0 ||
        et_samples_load(&t->valid, &t->data, &t->task, ET_SET_VALID, (size_t)t->cfg.valid_size) !=
            0)
        return -1;
    if (et_verbosity >= 2)
        et_info("evotrain: simulated %d + %d samples in %.1fs\n", t->cfg.pool_size,
                t->cfg.valid_size, tr_now() - t0);
    size_t maxb = (size_t)t->cfg.minibatch;
    maxb = (size_t)t->cfg.refit_size > maxb ? (size_t)t->cfg.refit_size : maxb;
    maxb = maxb < 4096 ? 4096 : maxb;
    et_task_class_weights(&t->task, t->pool.T, t->pool.n);
    et_loss_spec spec = et_task_loss(&t->task);
    t->fit = et_fitness_alloc(t->g, &spec, t->cfg.ridge_alpha, maxb, t->threads);
    t->Xmb = et_malloc(sizeof(int16_t) * (size_t)t->cfg.minibatch * t->pool.n_in);
    size_t no = t->task.n_out;
    t->Tmb = et_malloc(sizeof(int32_t) * (size_t)t->cfg.minibatch * no);
    t->mb_idx = et_malloc(sizeof(size_t) * (size_t)t->cfg.minibatch);
    size_t P = t->pool.n, ni = t->pool.n_in;
    t->pool_xs = et_malloc(sizeof(int16_t) * P * ni);
    t->pool_ts = et_malloc(sizeof(int32_t) * P * no);
    for (size_t i = 0; i < ni; i++)
        for (size_t k = 0; k < P; k++)
            t->pool_xs[k * ni + i] = t->pool.X[i * P + k];
    for (size_t i = 0; i < no; i++)
        for (size_t k = 0; k < P; k++)
            t->pool_ts[k * no + i] = t->pool.T[i * P + k];
    t->best = et_net_alloc(t->sizes, t->nl);
    t->polished = et_net_alloc(t->sizes, t->nl);
    for (int j = 0; j < t->cfg.starts; j++) {
        t->cur[j] = et_net_alloc(t->sizes, t->nl);
        et_net_set_wfmt_all(t->cur[j], t->g);
    }
    et_net_set_wfmt_all(t->best, t->g);
    et_net_set_wfmt_all(t->polished, t->g);
    t->best_x = et_calloc(dim, sizeof(double));
    t->x0 = et_calloc(dim, sizeof(double));
    et_data cal = et_samples_data(&t->pool);
    if (t->resume) {
        /* The start point and calibration come back with the checkpoint;
         * the warm-start file may be long gone. */
    } else if (strcmp(t->cfg.init, "none")) {
        if (et_warmstart(t->cfg.init, t->g, t->x0, &cal) != 0)
            return -1;
    } else {
        et_genome_init(t->g, t->cfg.seed, t->cfg.init_weight_sd, t->x0);
        et_fitness_calibrate(t->g, t->x0, &cal);
    }

    size_t cap;
    if (setup_starts(t, &cal, &cap) != 0)
        return -1;
    t->st.best_loss = INFINITY;
    for (int k = 0; k < ET_MAX_OUTPUTS; k++)
        t->st.best_rmse[k] = NAN;
    for (int i = 0; i < ET_MAX_GROUPS; i++)
        t->st.best_group[i] = NAN;
    memcpy(t->best_x, t->x0, dim * sizeof(double));
    t->X = et_malloc(sizeof(double) * cap * dim);
    t->loss = et_malloc(sizeof(double) * cap);
    return 0;
}

/* Phase 4: the state to continue from (every rank reads the checkpoint),
 * and rank 0's log. */
int tr_setup_state(trainer *t)
{
    int root = et_dist_rank() == 0;
    t->t_start = tr_now();
    if (root) {
        /* A kill -9 inside an atomic write leaves its temporary file. */
        char *cp = et_path(t->dir, "config.ini");
        et_afile_remove_stale(cp);
        et_afile_remove_stale(t->ckpt_path);
        free(cp);
    }
    if (t->resume) {
        if (tr_load_checkpoint(t) != 0)
            return -1;
        if (root) {
            /* Rows logged after the checkpoint will be recomputed: drop
             * them. A log shorter than the checkpoint's record lost rows
             * that nothing recomputes: refuse rather than pad it. */
            struct stat lb;
            if (stat(t->log_path, &lb) == 0 && (uint64_t)lb.st_size < t->st.log_bytes) {
                et_error(t->log_path, 0,
                         "has %lld bytes but the checkpoint recorded %llu: it was cut or "
                         "replaced; restore it to resume",
                         (long long)lb.st_size, (unsigned long long)t->st.log_bytes);
                return -1;
            }
            if (truncate(t->log_path, (off_t)t->st.log_bytes) != 0) {
                et_error(t->log_path, 0, "cannot truncate: %s", strerror(errno));
                return -1;
            }
            t->log = fopen(t->log_path, "a");
        }
    } else if (root) {
        t->log = fopen(t->log_path, "w");
        if (t->log) {
            tr_log_header(t);
            et_errors e[ET_MAX_STARTS];
            tr_validate(t, e);
            for (int j = 0; j < t->n_starts; j++)
                tr_log_row(t, j, NAN, NAN, &e[j]);
        }
    }
    if (root && !t->log) {
        et_error(t->log_path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    t->elapsed0 = t->st.elapsed_s;
    /* A fresh run is resumable from its first generation on, whatever
     * stops it. */
    if (root && !t->resume && (tr_log_failed(t) || tr_save_checkpoint(t) != 0))
        return -1;
    t->started = 1;
    unstarted = NULL;
    return 0;
}
