/* train: the training loop, its run directory, checkpoints, resume and signals.
 *
 * One generation: ask the optimizer for lambda genomes; draw the generation's
 * minibatch from the pool (a pure function of seed and generation); score
 * every candidate on it (OpenMP across candidates); tell. Every valid_every
 * generations the optimizer's mean is decoded, its output layer fitted on the
 * refit set, and its errors measured on the fixed validation set; the best
 * validated network is kept. Nothing here depends on wall-clock time except
 * when the run stops (time_limit_s) and what is printed, so a run resumed
 * from any checkpoint ends with the same bits as one never interrupted. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "checkpoint.h"
#include "config.h"
#include "dist.h"
#include "et_rng.h"
#include "evonet_check.h"
#include "fitness.h"
#include "genome.h"
#include "opt.h"
#include "polish.h"
#include "run.h"
#include "train.h"
#include "sim.h"
#include "util.h"
#include "warmstart.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static char *dump_string(const et_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    et_config_dump(cfg, f);
    fclose(f);
    return buf;
}

/* A key that evotrain gained after the run's configuration a was written,
 * at its default (the run means exactly that) or a budget key (a resume may
 * set those anyway): it does not stop a resume. */
static int new_key_allowed(const char *a, const char *line)
{
    size_t k = strcspn(line, " =");
    if (!et_config_default_line(line) && !et_config_is_budget_key(line, k))
        return 0;
    for (const char *p = a; *p;) {
        if (!strncmp(p, line, k) && !strncmp(p + k, " = ", 3))
            return 0;
        p += strcspn(p, "\n");
        p += *p == '\n';
    }
    return 1;
}

/* 0 if b differs from a at most in budget keys and in keys new since a was
 * written (at their defaults, or budget keys); otherwise -1 with the first differing key
 * reported. */
static int compare_configs(const char *a, const char *b, const char *bpath)
{
    char *da = et_strdup(a), *db = et_strdup(b), *sa = NULL, *sb = NULL;
    char *la = strtok_r(da, "\n", &sa), *lb = strtok_r(db, "\n", &sb);
    char section[128] = "";
    int rc = 0;
    while (la || lb) {
        if (lb && (!la || strcmp(la, lb)) && new_key_allowed(a, lb)) {
            lb = strtok_r(NULL, "\n", &sb);
            continue;
        }
        if (!la || !lb) {
            et_error(bpath, 0,
                     "the configuration differs from the run's (a section or key "
                     "was added or removed): refusing to resume");
            rc = -1;
            break;
        }
        if (la[0] == '[')
            snprintf(section, sizeof section, "%s", la);
        if (strcmp(la, lb)) {
            char key[128];
            size_t k = strcspn(la, " =");
            snprintf(key, sizeof key, "%.*s", (int)k, la);
            if (la[0] == '[' || !et_config_is_budget_key(la, k)) {
                et_error(bpath, 0,
                         "%s %s differs from the run's configuration: refusing to "
                         "resume (only the budget and threads may change)",
                         section, la[0] == '[' ? "section" : key);
                rc = -1;
                break;
            }
        }
        la = strtok_r(NULL, "\n", &sa);
        lb = strtok_r(NULL, "\n", &sb);
    }
    free(da);
    free(db);
    return rc;
}

static int write_text_atomic(const char *path, const char *text)
{
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    fputs(text, af.fp);
    return et_afile_commit(&af);
}

typedef struct trainer {
    et_config cfg;
    char *dir, *ckpt_path, *log_path, *cfg_text;
    unsigned sizes[EVONET_MAX_LAYERS + 1], nl;
    et_genome *g;
    et_fitness *fit;
    /* The starts raced side by side (one unless [train] starts says more):
     * opt[j] is start j's optimizer while alive[j]; start_best[j] its best
     * validated loss, which decides the halvings. */
    int n_starts, n_alive;
    et_opt *opt[ET_MAX_STARTS];
    et_genome *gs[ET_MAX_STARTS]; /* start j's decoding, calibrated on its own start; gs[0] = g */
    int alive[ET_MAX_STARTS];
    double start_best[ET_MAX_STARTS];
    size_t off[ET_MAX_STARTS + 1]; /* start j's candidates in this generation */
    et_samples pool, valid;
    int16_t *Xmb;
    int32_t *Tmb;
    size_t *mb_idx;
    /* The pool again, sample by sample (inputs, then targets): a minibatch
     * gathers one or two cache lines a sample instead of one a reading. */
    int16_t *pool_xs;
    int32_t *pool_ts;
    double *X, *loss, *x0;
    et_net *best, *cur[ET_MAX_STARTS]; /* cur[j]: start j's last validated network */
    double *best_x;
    /* The polish of best after the search (polish.h): active from its
     * start until the search moves on again; polished is its network,
     * pol_valid its validation once the polish ended. */
    int pol_active, pol_validated;
    et_polish pol;
    et_net *polished;
    et_errors pol_valid;
    et_train_state st;
    FILE *log;
    int threads;
    int resume; /* continuing from a checkpoint (not only --resume given) */
    double out_weight[SIM_POSE_DIM];
    double t_start, elapsed0;
} trainer;

static void trainer_free(trainer *t)
{
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

/* The genome's calibration (bias units and base scales) for the checkpoint. */
static size_t genome_cal_bytes(const et_genome *g)
{
    size_t n = g->n_layers;
    for (unsigned l = 0; l < g->n_layers; l++)
        n += g->sizes[l + 1];
    return n * sizeof(double);
}

static void genome_cal_write(const et_genome *g, double *p)
{
    for (unsigned l = 0; l < g->n_layers; l++) {
        *p++ = g->bias_unit[l];
        for (unsigned o = 0; o < g->sizes[l + 1]; o++)
            *p++ = g->base_scale[l][o];
    }
}

/* p may be unaligned (it points into the checkpoint's bytes). */
static void genome_cal_read(et_genome *g, const unsigned char *p)
{
    for (unsigned l = 0; l < g->n_layers; l++) {
        memcpy(&g->bias_unit[l], p, sizeof(double));
        p += sizeof(double);
        memcpy(g->base_scale[l], p, sizeof(double) * g->sizes[l + 1]);
        p += sizeof(double) * g->sizes[l + 1];
    }
}

/* ET_CKPT_STARTS: u32 count, then per start u32 alive, f64 best validated
 * loss, the genome calibration (genome_cal_bytes), u64 length and the
 * optimizer's state (length 0 once dropped). Little-endian, as the rest of
 * the file; the calibration is doubles, as in ET_CKPT_GENOME. */
static unsigned char *starts_write(const trainer *t, size_t *len)
{
    size_t n = 4, cal = genome_cal_bytes(t->g);
    for (int j = 0; j < t->n_starts; j++)
        n += 4 + 8 + cal + 8 + (t->alive[j] ? et_opt_state_size(t->opt[j]) : 0);
    unsigned char *b = et_malloc(n), *p = b;
    et_put_le(&p, (uint64_t)t->n_starts, 4);
    for (int j = 0; j < t->n_starts; j++) {
        uint64_t bits, sz = t->alive[j] ? et_opt_state_size(t->opt[j]) : 0;
        memcpy(&bits, &t->start_best[j], 8);
        et_put_le(&p, (uint64_t)t->alive[j], 4);
        et_put_le(&p, bits, 8);
        double *cb = et_malloc(cal);
        genome_cal_write(t->gs[j], cb);
        memcpy(p, cb, cal);
        free(cb);
        p += cal;
        et_put_le(&p, sz, 8);
        if (sz)
            et_opt_save(t->opt[j], p, sz);
        p += sz;
    }
    *len = n;
    return b;
}

static int starts_read(trainer *t, const void *buf, size_t len)
{
    const unsigned char *p = buf, *end = p + len;
    size_t cal = genome_cal_bytes(t->g);
    if (len < 4 || et_get_le(&p, 4) != (uint64_t)t->n_starts)
        return -1;
    t->n_alive = 0;
    for (int j = 0; j < t->n_starts; j++) {
        if ((size_t)(end - p) < 20 + cal)
            return -1;
        uint64_t alive = et_get_le(&p, 4), bits = et_get_le(&p, 8);
        genome_cal_read(t->gs[j], p);
        p += cal;
        uint64_t sz = et_get_le(&p, 8);
        if (alive > 1 || (alive && !sz) || (!alive && sz) || sz > (size_t)(end - p))
            return -1;
        memcpy(&t->start_best[j], &bits, 8);
        t->alive[j] = (int)alive;
        t->n_alive += (int)alive;
        if (sz && et_opt_load(t->opt[j], p, sz) != 0)
            return -1;
        p += sz;
    }
    return p == end && t->n_alive > 0 ? 0 : -1;
}

static int save_checkpoint(trainer *t)
{
    et_ckpt c;
    et_ckpt_init(&c);
    et_ckpt_add(&c, ET_CKPT_CONFIG, t->cfg_text, strlen(t->cfg_text));
    unsigned char sb[ET_STATE_BYTES];
    t->st.elapsed_s = t->elapsed0 + (now_s() - t->t_start);
    et_state_write(&t->st, sb);
    et_ckpt_add(&c, ET_CKPT_STATE, sb, sizeof sb);
    size_t n;
    if (t->n_starts == 1) {
        n = et_opt_state_size(t->opt[0]);
        unsigned char *ob = et_malloc(n);
        et_opt_save(t->opt[0], ob, n);
        et_ckpt_add(&c, ET_CKPT_OPT, ob, n);
        free(ob);
    } else {
        unsigned char *ob = starts_write(t, &n);
        et_ckpt_add(&c, ET_CKPT_STARTS, ob, n);
        free(ob);
    }
    n = et_net_bytes(t->best);
    unsigned char *nb = et_malloc(n);
    et_net_write(t->best, nb);
    et_ckpt_add(&c, ET_CKPT_BEST, nb, n);
    free(nb);
    n = genome_cal_bytes(t->g);
    double *gb = et_malloc(n);
    genome_cal_write(t->g, gb);
    et_ckpt_add(&c, ET_CKPT_GENOME, gb, n);
    free(gb);
    et_ckpt_add(&c, ET_CKPT_BESTX, t->best_x, t->g->dim * sizeof(double));
    if (t->pol_active) {
        unsigned char *pb =
            et_polish_section(&t->pol, t->pol_validated, &t->pol_valid, t->polished, &n);
        et_ckpt_add(&c, ET_CKPT_POLISH, pb, n);
        free(pb);
    }
    int rc = et_ckpt_save(&c, t->ckpt_path);
    et_ckpt_free(&c);
    return rc;
}

static int load_checkpoint(trainer *t)
{
    et_ckpt c;
    if (et_ckpt_load(&c, t->ckpt_path) != 0)
        return -1;
    int rc = -1;
    size_t len;
    const void *p;
    char err[256];
    p = et_ckpt_get(&c, ET_CKPT_CONFIG, &len);
    if (!p) {
        et_error(t->ckpt_path, 0, "checkpoint lacks its configuration");
        goto out;
    }
    char *ctext = et_malloc(len + 1);
    memcpy(ctext, p, len);
    ctext[len] = '\0';
    int same = compare_configs(ctext, t->cfg_text, t->ckpt_path);
    free(ctext);
    if (same != 0)
        goto out;
    p = et_ckpt_get(&c, ET_CKPT_STATE, &len);
    if (!p || et_state_read(&t->st, p, len) != 0) {
        et_error(t->ckpt_path, 0, "checkpoint: bad trainer state");
        goto out;
    }
    if (t->n_starts > 1) {
        p = et_ckpt_get(&c, ET_CKPT_STARTS, &len);
        if (!p || starts_read(t, p, len) != 0) {
            et_error(t->ckpt_path, 0, "checkpoint: bad state of the starts");
            goto out;
        }
    } else if (!(p = et_ckpt_get(&c, ET_CKPT_OPT, &len)) || et_opt_load(t->opt[0], p, len) != 0) {
        et_error(t->ckpt_path, 0, "checkpoint: bad optimizer state");
        goto out;
    }
    p = et_ckpt_get(&c, ET_CKPT_BEST, &len);
    et_net *b = p ? et_net_read(p, len, err, sizeof err) : NULL;
    /* Validated as export does: a run must not continue from a network the
     * kernel cannot run exactly (the CRC only says the bytes are ours). */
    if (!b || b->n_layers != t->nl || memcmp(b->sizes, t->sizes, sizeof(unsigned) * (t->nl + 1)) ||
        evonet_validate(&b->net, err, sizeof err) != 0) {
        et_error(t->ckpt_path, 0, "checkpoint: bad best network");
        et_net_free(b);
        goto out;
    }
    et_net_copy(t->best, b);
    et_net_free(b);
    p = et_ckpt_get(&c, ET_CKPT_GENOME, &len);
    if (!p || len != genome_cal_bytes(t->g)) {
        et_error(t->ckpt_path, 0, "checkpoint: bad genome calibration");
        goto out;
    }
    genome_cal_read(t->g, p);
    p = et_ckpt_get(&c, ET_CKPT_BESTX, &len);
    if (!p || len != t->g->dim * sizeof(double)) {
        et_error(t->ckpt_path, 0, "checkpoint: bad best genome");
        goto out;
    }
    memcpy(t->best_x, p, len);
    t->pol_active = 0;
    if ((p = et_ckpt_get(&c, ET_CKPT_POLISH, &len))) {
        et_net *pn = et_polish_section_read(p, len, t->best, &t->pol, &t->pol_validated,
                                            &t->pol_valid, err, sizeof err);
        if (!pn) {
            et_error(t->ckpt_path, 0, "checkpoint: %s", err);
            goto out;
        }
        et_net_copy(t->polished, pn);
        et_net_free(pn);
        t->pol_active = 1;
    }
    rc = 0;
out:
    et_ckpt_free(&c);
    return rc;
}

/* The generation's minibatch: minibatch draws from the pool, keyed by
 * (seed, generation), gathered into the fitness layout. */
static et_data draw_minibatch(trainer *t, uint64_t gen)
{
    size_t B = (size_t)t->cfg.minibatch, P = t->pool.n, ni = t->pool.n_in;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, t->cfg.seed, ET_STREAM_TRAIN, gen);
    for (size_t s = 0; s < B; s++)
        t->mb_idx[s] = (size_t)gsl_rng_uniform_int(r, P);
    gsl_rng_free(r);
    /* The samples are scattered over a pool larger than the caches: ask
     * for the lines of sample s + 16 while copying sample s. */
#pragma omp parallel for schedule(static) num_threads(t->threads)
    for (size_t s = 0; s < B; s++) {
        if (s + 16 < B) {
            __builtin_prefetch(t->pool_xs + t->mb_idx[s + 16] * ni);
            __builtin_prefetch(t->pool_ts + t->mb_idx[s + 16] * SIM_POSE_DIM);
        }
        const int16_t *x = t->pool_xs + t->mb_idx[s] * ni;
        const int32_t *y = t->pool_ts + t->mb_idx[s] * SIM_POSE_DIM;
        for (size_t i = 0; i < ni; i++)
            t->Xmb[i * B + s] = x[i];
        for (size_t k = 0; k < SIM_POSE_DIM; k++)
            t->Tmb[k * B + s] = y[k];
    }
    return (et_data){t->Xmb, t->Tmb, B, B};
}

static double floor_at(const trainer *t, uint64_t gen)
{
    double a = (double)gen / (double)t->cfg.floor_generations;
    a = a > 1 ? 1 : a;
    return t->cfg.step_floor + (t->cfg.step_floor_end - t->cfg.step_floor) * a;
}

/* Validates start j's mean: decode, fit the output layer on the refit set,
 * errors on the validation set, into the start's own network (safe to run
 * for several starts at once, each on its own workspace tid). */
static void measure(trainer *t, int j, int tid, et_errors *e)
{
    size_t R = (size_t)t->cfg.refit_size < t->pool.n ? (size_t)t->cfg.refit_size : t->pool.n;
    /* The refit set is the start of the pool (the pool is in sample order, so
     * this is a fixed, deterministic subset). */
    et_data refit = {t->pool.X, t->pool.T, R, t->pool.n};
    et_fitness_eval_as(t->fit, t->gs[j], et_opt_mean(t->opt[j]), &refit, tid, t->cur[j]);
    et_data vd = et_samples_data(&t->valid);
    et_fitness_errors(t->fit, t->cur[j], &vd, tid, e);
}

/* The live starts validated, in parallel; then, in start order, each
 * start's best and the run's best network are kept. */
static void validate(trainer *t, et_errors *e)
{
    int live[ET_MAX_STARTS], n = 0;
    for (int j = 0; j < t->n_starts; j++)
        if (t->alive[j])
            live[n++] = j;
#pragma omp parallel for schedule(dynamic, 1) num_threads(t->threads)
    for (int a = 0; a < n; a++) {
        int tid = et_thread_num();
        measure(t, live[a], tid, &e[live[a]]);
    }
    for (int a = 0; a < n; a++) {
        int j = live[a];
        if (e[j].loss < t->start_best[j])
            t->start_best[j] = e[j].loss;
        if (e[j].loss < t->st.best_loss) {
            t->st.best_start = (uint64_t)j;
            t->st.best_loss = e[j].loss;
            t->st.best_generation = t->st.generation;
            t->st.best_trans = e[j].trans_rmse;
            for (int k = 0; k < 6; k++)
                t->st.best_rmse[k] = e[j].rmse[k];
            et_net_copy(t->best, t->cur[j]);
            memcpy(t->best_x, et_opt_mean(t->opt[j]), t->g->dim * sizeof(double));
        }
    }
}

static void log_row(trainer *t, int j, double best, double median, const et_errors *e)
{
    double el = t->elapsed0 + (now_s() - t->t_start);
    fprintf(t->log, "%llu,%llu,%.2f,%.6g,%.6g,%.6g,%.6g,%.6g,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f",
            (unsigned long long)t->st.generation, (unsigned long long)t->st.evals, el, best, median,
            et_opt_sigma(t->opt[j]), et_opt_step_median(t->opt[j]), e->loss, e->trans_rmse,
            e->rmse[0], e->rmse[1], e->rmse[2], e->rmse[3], e->rmse[4], e->rmse[5]);
    if (t->n_starts > 1)
        fprintf(t->log, ",%d", j);
    fputc('\n', t->log);
    fflush(t->log);
    t->st.log_bytes = (uint64_t)ftell(t->log);
}

/* 1 (reported) if a write to log.csv failed, say on a full disk. */
static int log_failed(trainer *t)
{
    if (!ferror(t->log))
        return 0;
    et_error(t->log_path, 0, "cannot write: %s", strerror(errno));
    return 1;
}

static const char log_header[] =
    "generation,evals,elapsed_s,best_loss,median_loss,sigma,step,valid_loss,valid_trans_mm,"
    "valid_x_mm,valid_y_mm,valid_z_mm,valid_roll_deg,valid_pitch_deg,valid_yaw_deg";

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether a progress line is due: always when forced, else four a second on
 * a terminal and one every 5 s on a pipe. */
static int progress_due(int force, int *tty)
{
    static double last;
    double now = now_s();
    *tty = isatty(STDERR_FILENO);
    if (et_verbosity < 1 || (!force && now - last < (*tty ? 0.25 : 5.0)))
        return 0;
    last = now;
    return 1;
}

/* On a terminal the line rewrites itself; on a pipe each is a line. */
static void progress_line(const char *line, int tty, int final)
{
    if (tty)
        fprintf(stderr, "\r%-100s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

static void progress(trainer *t, int final, double evals_rate)
{
    int tty;
    if (!progress_due(final, &tty))
        return;
    double now = now_s();
    double el = t->elapsed0 + (now - t->t_start);
    double rem = -1;
    if (t->cfg.time_limit_s > 0)
        rem = t->cfg.time_limit_s - el;
    if (t->cfg.max_generations > 0 && t->st.generation > 0) {
        double r = el / (double)t->st.generation *
                   (double)(t->cfg.max_generations - (long)t->st.generation);
        rem = rem < 0 || r < rem ? r : rem;
    }
    const double *r = t->st.best_rmse;
    char line[256];
    snprintf(line, sizeof line,
             "gen %llu  %.0f evals/s  valid %.3f mm  %.2f/%.2f/%.2f deg  %.0fs elapsed%s",
             (unsigned long long)t->st.generation, evals_rate, t->st.best_trans, r[3], r[4], r[5],
             el, "");
    if (rem >= 0 && !final)
        snprintf(line + strlen(line), sizeof line - strlen(line), "  %.0fs left", rem);
    if (t->n_starts > 1 && t->n_alive > 1)
        snprintf(line + strlen(line), sizeof line - strlen(line), "  %d of %d starts", t->n_alive,
                 t->n_starts);
    progress_line(line, tty, final);
}

/* Start 0 is the run's seed itself, so that one start is the plain run;
 * the others get seeds mixed from it. */
static uint64_t start_seed(const trainer *t, int j)
{
    return j == 0 ? t->cfg.seed
                  : et_mix64(t->cfg.seed + (uint64_t)j * UINT64_C(0x9E3779B97F4A7C15));
}

static void opt_params(const trainer *t, int j, et_opt_params *p)
{
    et_opt_params_default(p);
    p->lambda = t->cfg.lambda;
    p->seed = start_seed(t, j);
    p->max_evals = 0;
    p->budget_only = 1; /* minibatch noise is not convergence: the budget decides */
    p->mean_lr = t->cfg.mean_lr;
}

/* The search the configuration asks for, tried before anything is written:
 * a network the kernel cannot run, an unknown algorithm or more MPI ranks
 * than candidates are refused here. */
static int check_search(trainer *t)
{
    if (t->cfg.polish_sweeps > 0 && t->cfg.time_limit_s > 0 &&
        t->cfg.polish_s >= t->cfg.time_limit_s) {
        et_error(t->cfg.path, 0,
                 "[train] polish_s = %g leaves no time of time_limit_s = %g for the search",
                 t->cfg.polish_s, t->cfg.time_limit_s);
        return -1;
    }
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    unsigned nl = et_net_sizes(&t->cfg, sizes);
    char err[256];
    et_genome *g =
        et_genome_alloc(sizes, nl, t->cfg.ridge_output, t->cfg.scale_search, err, sizeof err);
    if (!g) {
        et_error(t->cfg.path, 0, "[network] %s", err);
        return -1;
    }
    /* A halving before a start's first validation would judge it on
     * nothing. */
    if (t->cfg.starts > 1 && t->cfg.halving_generations < t->cfg.valid_every) {
        et_error(t->cfg.path, 0,
                 "[train] halving_generations = %ld is less than valid_every = %d: the starts "
                 "would be halved before they are validated",
                 t->cfg.halving_generations, t->cfg.valid_every);
        et_genome_free(g);
        return -1;
    }
    et_opt_params p;
    opt_params(t, 0, &p);
    /* An unknown name gets one message, with the file; other refusals come
     * from the optimizer itself, with this line for context. */
    if (!et_opt_known(t->cfg.algo)) {
        et_error(t->cfg.path, 0, "[train] algo = %s: unknown (algorithms: %s)", t->cfg.algo,
                 et_opt_algorithms());
        et_genome_free(g);
        return -1;
    }
    et_opt *opt = et_opt_alloc(t->cfg.algo, g->dim, &p);
    int rc = 0;
    if (!opt) {
        et_error(t->cfg.path, 0, "[train] algo = %s: cannot start it (algorithms: %s)", t->cfg.algo,
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
static int setup_config(trainer *t, const et_train_opts *o)
{
    if (o->resume) {
        t->dir = et_strdup(o->resume);
        char *cp = et_path(t->dir, "config.ini");
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
    t->cfg_text = dump_string(&t->cfg);
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
    return check_search(t);
}

/* Phase 2, rank 0 only: the run directory. Never overwrite a run unless asked. */
static int setup_dir(trainer *t, const et_train_opts *o)
{
    if (o->resume)
        return 0;
    struct stat sb;
    if (stat(t->dir, &sb) == 0) {
        if (!o->force) {
            et_error(t->dir, 0,
                     "run directory exists (use --force to overwrite it, or "
                     "--resume %s to continue it)",
                     t->dir);
            return -1;
        }
        unlink(t->ckpt_path);
        unlink(t->log_path);
    } else {
        mkdir(o->out, 0777); /* may exist */
        if (mkdir(t->dir, 0777) != 0) {
            et_error(t->dir, 0, "cannot create run directory: %s", strerror(errno));
            return -1;
        }
    }
    char *cp = et_path(t->dir, "config.ini");
    int w = write_text_atomic(cp, t->cfg_text);
    free(cp);
    return w;
}

/* Phase 3, every rank: network, data, start point, optimizer. Each rank
 * simulates its share of the pool; the shares are then exchanged. */
static int setup_search(trainer *t)
{
    t->threads = t->cfg.threads;
#ifdef _OPENMP
    if (t->threads <= 0)
        t->threads = omp_get_num_procs();
    omp_set_num_threads(t->threads);
#else
    t->threads = 1;
#endif
    t->nl = et_net_sizes(&t->cfg, t->sizes);
    char err[256];
    t->g =
        et_genome_alloc(t->sizes, t->nl, t->cfg.ridge_output, t->cfg.scale_search, err, sizeof err);
    if (!t->g)
        return -1; /* check_search tried the same */
    t->g->per_layer = !t->cfg.per_channel;
    size_t dim = t->g->dim;
    for (int k = 0; k < SIM_POSE_DIM; k++)
        t->out_weight[k] = k < 3 ? 1.0 : t->cfg.rot_weight * t->cfg.rot_axis_weight[k - 3];

    double t0 = now_s();
    et_samples_sim(&t->pool, &t->cfg, 0, (size_t)t->cfg.pool_size, 0);
    et_samples_sim(&t->valid, &t->cfg, ET_VALID_BASE, (size_t)t->cfg.valid_size, 0);
    if (et_verbosity >= 2)
        et_info("evotrain: simulated %d + %d samples in %.1fs\n", t->cfg.pool_size,
                t->cfg.valid_size, now_s() - t0);
    size_t maxb = (size_t)t->cfg.minibatch;
    maxb = (size_t)t->cfg.refit_size > maxb ? (size_t)t->cfg.refit_size : maxb;
    maxb = maxb < 4096 ? 4096 : maxb;
    t->fit = et_fitness_alloc(t->g, t->out_weight, t->cfg.ridge_alpha, maxb, t->threads);
    t->Xmb = et_malloc(sizeof(int16_t) * (size_t)t->cfg.minibatch * t->pool.n_in);
    t->Tmb = et_malloc(sizeof(int32_t) * (size_t)t->cfg.minibatch * SIM_POSE_DIM);
    t->mb_idx = et_malloc(sizeof(size_t) * (size_t)t->cfg.minibatch);
    size_t P = t->pool.n, ni = t->pool.n_in;
    t->pool_xs = et_malloc(sizeof(int16_t) * P * ni);
    t->pool_ts = et_malloc(sizeof(int32_t) * P * SIM_POSE_DIM);
    for (size_t i = 0; i < ni; i++)
        for (size_t k = 0; k < P; k++)
            t->pool_xs[k * ni + i] = t->pool.X[i * P + k];
    for (size_t i = 0; i < SIM_POSE_DIM; i++)
        for (size_t k = 0; k < P; k++)
            t->pool_ts[k * SIM_POSE_DIM + i] = t->pool.T[i * P + k];
    t->best = et_net_alloc(t->sizes, t->nl);
    t->polished = et_net_alloc(t->sizes, t->nl);
    for (int j = 0; j < t->cfg.starts; j++)
        t->cur[j] = et_net_alloc(t->sizes, t->nl);
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

    t->n_starts = t->cfg.starts;
    t->n_alive = t->n_starts;
    t->gs[0] = t->g;
    double *grid = et_malloc(dim * sizeof(double)), *xj = et_malloc(dim * sizeof(double));
    et_genome_grid(t->g, t->cfg.bias_step, grid);
    size_t cap = 0;
    int rc = 0;
    for (int j = 0; j < t->n_starts && rc == 0; j++) {
        et_opt_params p;
        opt_params(t, j, &p);
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
            t->gs[j]->per_layer = t->g->per_layer;
            if (t->resume) {
                /* the calibration comes back with the checkpoint */
            } else if (!strcmp(t->cfg.init, "none")) {
                et_genome_init(t->gs[j], start_seed(t, j), t->cfg.init_weight_sd, xj);
                et_fitness_calibrate(t->gs[j], xj, &cal);
            } else {
                double *cb = et_malloc(genome_cal_bytes(t->g));
                genome_cal_write(t->g, cb);
                genome_cal_read(t->gs[j], (const unsigned char *)cb);
                free(cb);
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
    if (rc != 0)
        return -1;
    t->st.best_loss = INFINITY;
    t->st.best_trans = NAN;
    for (int k = 0; k < 6; k++)
        t->st.best_rmse[k] = NAN;
    memcpy(t->best_x, t->x0, dim * sizeof(double));
    t->X = et_malloc(sizeof(double) * cap * dim);
    t->loss = et_malloc(sizeof(double) * cap);
    return 0;
}

/* Phase 4: the state to continue from (every rank reads the checkpoint),
 * and rank 0's log. */
static int setup_state(trainer *t)
{
    int root = et_dist_rank() == 0;
    t->t_start = now_s();
    if (root) {
        /* A kill -9 inside an atomic write leaves its temporary file. */
        char *cp = et_path(t->dir, "config.ini");
        et_afile_remove_stale(cp);
        et_afile_remove_stale(t->ckpt_path);
        free(cp);
    }
    if (t->resume) {
        if (load_checkpoint(t) != 0)
            return -1;
        if (root) {
            /* Rows logged after the checkpoint will be recomputed: drop them. */
            if (truncate(t->log_path, (off_t)t->st.log_bytes) != 0) {
                et_error(t->log_path, 0, "cannot truncate: %s", strerror(errno));
                return -1;
            }
            t->log = fopen(t->log_path, "a");
        }
    } else if (root) {
        t->log = fopen(t->log_path, "w");
        if (t->log) {
            fprintf(t->log, "%s%s\n", log_header, t->n_starts > 1 ? ",start" : "");
            et_errors e[ET_MAX_STARTS];
            validate(t, e);
            for (int j = 0; j < t->n_starts; j++)
                log_row(t, j, NAN, NAN, &e[j]);
        }
    }
    if (root && !t->log) {
        et_error(t->log_path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    t->elapsed0 = t->st.elapsed_s;
    /* A fresh run is resumable from its first generation on, whatever
     * stops it. */
    if (root && !t->resume && (log_failed(t) || save_checkpoint(t) != 0))
        return -1;
    return 0;
}

/* Candidates [lo, hi) of this rank, numbered across the live starts (start
 * j's are [off[j], off[j + 1])): asked and scored here, in parallel. */
static void score_share(trainer *t, size_t lo, size_t hi, const et_data *mb)
{
    size_t dim = t->g->dim;
    /* Asked and scored in one parallel loop: one wake-up of the waiting
     * threads per generation, not two. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(t->threads)
    for (size_t k = lo; k < hi; k++) {
        int j = 0, tid = et_thread_num();
        while (k >= t->off[j + 1])
            j++;
        et_opt_ask_one(t->opt[j], k - t->off[j], t->X + k * dim);
        t->loss[k] = et_fitness_eval_as(t->fit, t->gs[j], t->X + k * dim, mb, tid, NULL);
    }
}

/* Drops the worse half of the live starts (by best validated loss; ties
 * keep the lower number), keeping ceil(n / 2). Rank 0 alone validates, so
 * its choice is sent to every rank. */
static void halve(trainer *t)
{
    int keep = 0;
    if (et_dist_rank() == 0) {
        int live[ET_MAX_STARTS], n = 0;
        for (int j = 0; j < t->n_starts; j++)
            if (t->alive[j])
                live[n++] = j;
        for (int a = 1; a < n; a++) /* insertion sort: stable, n <= 16 */
            for (int b = a; b > 0 && t->start_best[live[b]] < t->start_best[live[b - 1]]; b--) {
                int x = live[b];
                live[b] = live[b - 1];
                live[b - 1] = x;
            }
        for (int a = 0; a < (n + 1) / 2; a++)
            keep |= 1 << live[a];
    }
    et_dist_bcast_int(&keep);
    t->n_alive = 0;
    for (int j = 0; j < t->n_starts; j++) {
        t->alive[j] = (keep >> j) & 1;
        t->n_alive += t->alive[j];
    }
}

enum { STOP_NONE = 0, STOP_SIGNAL = 1, STOP_TIME = 2, STOP_ERROR = 4 };

/* The search stops polish_s before the time limit, so that the polish fits. */
static double search_limit_s(const trainer *t)
{
    return t->cfg.time_limit_s - (t->cfg.polish_sweeps > 0 ? t->cfg.polish_s : 0);
}

static void progress_polish(const trainer *t, int force)
{
    int tty;
    if (!progress_due(force, &tty))
        return;
    double now = now_s();
    char line[256];
    snprintf(line, sizeof line,
             "polish: %llu of %d sweeps done, coordinate %llu of %llu, %llu moves kept, pool "
             "loss %.5f, %.0fs elapsed",
             (unsigned long long)t->pol.sweep, t->cfg.polish_sweeps, (unsigned long long)t->pol.pos,
             (unsigned long long)et_polish_coords(t->polished), (unsigned long long)t->pol.changes,
             t->pol.loss, t->elapsed0 + (now - t->t_start));
    progress_line(line, tty, 0);
}

/* Rank 0, after the search: the polish of its best network on the pool,
 * continued where a checkpoint left it. A checkpoint after every sweep; a
 * signal checkpoints and stops, the time limit ends the polish where it is. */
static int polish(trainer *t, const char **why)
{
    et_data pd = et_samples_data(&t->pool);
    et_polisher *w = et_polisher_alloc(t->fit, &pd, t->polished);
    int rc = ET_EXIT_OK;
    if (!t->pol_active) {
        et_net_copy(t->polished, t->best);
        et_polish_init(&t->pol, w, t->polished);
        t->pol_active = 1;
        t->pol_validated = 0;
    }
    while (!t->pol.done && t->pol.sweep < (uint64_t)t->cfg.polish_sweeps) {
        if (stop_signal) {
            *why = "interrupted";
            rc = ET_EXIT_INTERRUPTED;
            break;
        }
        if (t->cfg.time_limit_s > 0 &&
            t->elapsed0 + (now_s() - t->t_start) >= t->cfg.time_limit_s) {
            *why = "time limit";
            break;
        }
        if (et_polish_step(&t->pol, w, t->polished)) {
            if (save_checkpoint(t) != 0) {
                rc = ET_EXIT_INPUT;
                break;
            }
            progress_polish(t, 1);
        } else {
            progress_polish(t, 0);
        }
    }
    et_polisher_free(w);
    if (isatty(STDERR_FILENO) && et_verbosity >= 1)
        fputc('\n', stderr);
    if (rc != ET_EXIT_OK)
        return rc;
    et_data vd = et_samples_data(&t->valid);
    et_fitness_errors_all(t->fit, t->polished, &vd, &t->pol_valid);
    t->pol_validated = 1;
    return ET_EXIT_OK;
}

/* The generations. Every rank runs this loop in lockstep; the one
 * collective per generation (a max over the ranks' flags) both exchanges
 * the stop decision and carries rank 0's I/O failures. */
static int train_loop(trainer *t)
{
    int root = et_dist_rank() == 0;
    size_t cap_lambda = 0;
    for (int j = 0; j < t->n_starts; j++)
        cap_lambda =
            et_opt_lambda_max(t->opt[j]) > cap_lambda ? et_opt_lambda_max(t->opt[j]) : cap_lambda;
    double *sorted = et_malloc(sizeof(double) * cap_lambda);
    double rate_t = now_s(), rate = 0;
    uint64_t rate_e = t->st.evals;
    const char *why = "budget";
    int flags = 0, rc = ET_EXIT_OK;
    for (;;) {
        if (stop_signal)
            flags |= STOP_SIGNAL;
        double el = t->elapsed0 + (now_s() - t->t_start);
        if (root && t->cfg.time_limit_s > 0 && el >= search_limit_s(t))
            flags |= STOP_TIME;
        flags = et_dist_max_int(flags);
        if (flags & STOP_ERROR) {
            rc = ET_EXIT_INPUT;
            why = "error";
            break;
        }
        if (flags & STOP_SIGNAL) {
            why = "interrupted";
            rc = ET_EXIT_INTERRUPTED;
            break;
        }
        if (flags & STOP_TIME) {
            why = "time limit";
            break;
        }
        if (t->cfg.max_generations > 0 && t->st.generation >= (uint64_t)t->cfg.max_generations)
            break;
        if (t->cfg.max_evals > 0 && t->st.evals >= (uint64_t)t->cfg.max_evals)
            break;
        et_opt_stop s = ET_OPT_RUNNING;
        for (int j = 0; j < t->n_starts && s == ET_OPT_RUNNING; j++)
            if (t->alive[j])
                s = et_opt_test(t->opt[j]);
        if (s != ET_OPT_RUNNING) {
            why = et_opt_stop_name(s);
            break;
        }
        uint64_t gen = t->st.generation;
        size_t total = 0;
        for (int j = 0; j < t->n_starts; j++) {
            t->off[j] = total;
            if (t->alive[j]) {
                et_opt_set_step_floor(t->opt[j], floor_at(t, gen));
                total += et_opt_lambda(t->opt[j]);
            }
        }
        t->off[t->n_starts] = total;
        size_t lo, hi;
        et_dist_share(total, &lo, &hi);
        et_data mb = draw_minibatch(t, gen);
        score_share(t, lo, hi, &mb);
        et_dist_allgather(t->loss, total);
        int told = 0;
        for (int j = 0; j < t->n_starts && told == 0; j++)
            if (t->alive[j])
                told = et_opt_tell(t->opt[j], t->loss + t->off[j], t->off[j + 1] - t->off[j]);
        if (told < 0) {
            rc = ET_EXIT_INPUT; /* every rank fails alike: same state, same values */
            why = "error";
            break;
        }
        t->st.generation++;
        t->st.evals += total;
        t->pol_active = 0; /* the search moved on: its best is polished anew at the end */
        if (root && t->st.generation % (uint64_t)t->cfg.valid_every == 0) {
            et_errors e[ET_MAX_STARTS];
            validate(t, e);
            for (int j = 0; j < t->n_starts; j++) {
                if (!t->alive[j])
                    continue;
                size_t lam = t->off[j + 1] - t->off[j];
                memcpy(sorted, t->loss + t->off[j], lam * sizeof(double));
                qsort(sorted, lam, sizeof(double), cmp_d);
                log_row(t, j, sorted[0], sorted[lam / 2], &e[j]);
            }
            if (log_failed(t))
                flags |= STOP_ERROR;
        }
        if (t->n_alive > 1 && t->st.generation % (uint64_t)t->cfg.halving_generations == 0)
            halve(t);
        if (!root)
            continue;
        if (t->st.generation % (uint64_t)t->cfg.checkpoint_every == 0 && save_checkpoint(t) != 0)
            flags |= STOP_ERROR;
        double nw = now_s();
        if (nw - rate_t > 1.0) {
            rate = (double)(t->st.evals - rate_e) / (nw - rate_t);
            rate_t = nw;
            rate_e = t->st.evals;
        }
        progress(t, 0, rate);
    }
    free(sorted);
    if (!root || rc == ET_EXIT_INPUT)
        return rc;
    if (rc == ET_EXIT_OK && t->cfg.polish_sweeps > 0)
        rc = polish(t, &why);
    if (rc == ET_EXIT_INPUT)
        return rc;
    /* No extra validation at the stop: the best network is chosen among
     * validations every valid_every generations only, so a run stopped and
     * resumed anywhere picks the same one as a run never stopped. */
    if (save_checkpoint(t) != 0)
        return ET_EXIT_INPUT;
    progress(t, 1, rate);
    char won[32] = "";
    if (t->n_starts > 1)
        snprintf(won, sizeof won, " (start %llu)", (unsigned long long)t->st.best_start);
    et_info("evotrain: %s after %llu generations, %llu evaluations; best validation at "
            "generation %llu%s: %.3f mm, %.2f/%.2f/%.2f deg (RMSE); run in %s\n",
            why, (unsigned long long)t->st.generation, (unsigned long long)t->st.evals,
            (unsigned long long)t->st.best_generation, won, t->st.best_trans, t->st.best_rmse[3],
            t->st.best_rmse[4], t->st.best_rmse[5], t->dir);
    if (t->pol_validated) {
        const et_errors *e = &t->pol_valid;
        et_info("evotrain: polish: %llu sweeps%s, %llu of %llu moves kept; validation %.3f mm, "
                "%.2f/%.2f/%.2f deg: %s\n",
                (unsigned long long)t->pol.sweep, t->pol.done ? " (converged)" : "",
                (unsigned long long)t->pol.changes, (unsigned long long)t->pol.trials,
                e->trans_rmse, e->rmse[3], e->rmse[4], e->rmse[5],
                et_polish_wins(e, t->st.best_loss)
                    ? "the run's network"
                    : "not better on validation: the search's network stays");
    }
    return rc;
}

/* After a phase: every rank learns whether any rank failed; rank 0 says
 * why, once (et_dist_phase). */
static int any_failed(int failed, const char *what)
{
    return et_dist_phase(failed, what);
}

int et_train(const et_train_opts *o)
{
    et_dist_init(NULL, NULL);
    int root = et_dist_rank() == 0;
    if (!root)
        et_verbosity = 0; /* one voice: rank 0 reports progress */
    trainer T = {0};
    trainer *t = &T;
    int rc = ET_EXIT_INPUT;
    if (any_failed(et_dist_check_build() != 0, "checking the build"))
        goto out;
    if (any_failed(setup_config(t, o) != 0, "loading the configuration"))
        goto out;
    if (any_failed(root && setup_dir(t, o) != 0, "preparing the run directory"))
        goto out;
    if (any_failed(setup_search(t) != 0, "setting up the search"))
        goto out;
    if (any_failed(setup_state(t) != 0, "loading the state"))
        goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = train_loop(t);
out:
    trainer_free(t);
    et_dist_finalize();
    return rc;
}
