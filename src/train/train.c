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
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"
#include "export.h"
#include "trainer.h"

volatile sig_atomic_t tr_stop_signal;

enum { STOP_NONE = 0, STOP_SIGNAL = 1, STOP_TIME = 2, STOP_ERROR = 4 };

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void on_signal(int sig)
{
    tr_stop_signal = sig;
}

/* The search stops polish_s before the time limit, so that the polish fits. */
static double search_limit_s(const trainer *t)
{
    return t->cfg.time_limit_s - (t->cfg.polish_sweeps > 0 ? t->cfg.polish_s : 0);
}

/* One generation of every live start: ask, score on the generation's
 * minibatch (this rank's share, then gathered), tell. -1 if a tell failed
 * (on every rank alike). */
static int generation(trainer *t)
{
    uint64_t gen = t->st.generation;
    size_t total = 0;
    for (int j = 0; j < t->n_starts; j++) {
        t->off[j] = total;
        if (t->alive[j]) {
            et_opt_set_step_floor(t->opt[j], tr_floor_at(t, gen));
            total += et_opt_lambda(t->opt[j]);
        }
    }
    t->off[t->n_starts] = total;
    size_t lo, hi;
    et_dist_share(total, &lo, &hi);
    et_data mb = tr_draw_minibatch(t, gen);
    tr_score_share(t, lo, hi, &mb);
    et_dist_allgather(t->loss, total);
    int told = 0;
    for (int j = 0; j < t->n_starts && told == 0; j++)
        if (t->alive[j])
            told = et_opt_tell(t->opt[j], t->loss + t->off[j], t->off[j + 1] - t->off[j]);
    return told < 0 ? -1 : 0;
}

/* The run's last words: why it stopped, its best validation, the polish. */
static void report_end(const trainer *t, const char *why)
{
    char won[32] = "";
    if (t->n_starts > 1)
        snprintf(won, sizeof won, " (start %llu)", (unsigned long long)t->st.best_start);
    char errs[200];
    et_task_errors_named(&t->task, t->st.best_rmse, t->st.best_group, ", ", errs, sizeof errs);
    et_info("evotrain: %s after %llu generations, %llu evaluations; best validation at "
            "generation %llu%s: %s%s; run in %s\n",
            why, (unsigned long long)t->st.generation, (unsigned long long)t->st.evals,
            (unsigned long long)t->st.best_generation, won, errs,
            t->task.classify ? "" : " (RMSE)", t->dir);
    if (t->pol_validated) {
        const et_errors *e = &t->pol_valid;
        et_task_errors_named(&t->task, e->rmse, e->group_rmse, ", ", errs, sizeof errs);
        et_info("evotrain: polish: %llu sweeps%s, %llu of %llu moves kept; validation %s: %s\n",
                (unsigned long long)t->pol.sweep, t->pol.done ? " (converged)" : "",
                (unsigned long long)t->pol.changes, (unsigned long long)t->pol.trials, errs,
                et_polish_wins(e, t->st.best_loss)
                    ? "the run's network"
                    : "not better on validation: the search's network stays");
    }
    /* What to do next, with this run's directory: one line to copy. */
    if (!strcmp(why, "interrupted")) {
        et_info("evotrain: next: `evotrain --resume %s` continues where it stopped\n", t->dir);
    } else {
        /* The header's name from the run's (its directory's), when that
         * makes a C identifier. */
        const char *base = strrchr(t->dir, '/');
        base = base ? base + 1 : t->dir;
        char name[ET_CONFIG_NAME_MAX + 8] = "net";
        if (strlen(base) < ET_CONFIG_NAME_MAX) {
            snprintf(name, sizeof name, "%s_net", base);
            if (!et_is_identifier(name))
                snprintf(name, sizeof name, "net");
        }
        et_info("evotrain: next: `evotrain export %s -o %s/%s.h --name %s` (the firmware "
                "header), `evotrain report %s` (errors, flash, RAM, cycles, plots)\n",
                t->dir, t->dir, name, name, t->dir);
    }
}

/* The generations. Every rank runs this loop in lockstep; the one
 * collective per generation (a max over the ranks' flags) both exchanges
 * the stop decision and carries rank 0's I/O failures. Its length is the
 * stop decisions in the order they are taken, which must stay together. */
static int train_loop(trainer *t)
{
    int root = et_dist_rank() == 0;
    size_t cap_lambda = 0;
    for (int j = 0; j < t->n_starts; j++)
        cap_lambda =
            et_opt_lambda_max(t->opt[j]) > cap_lambda ? et_opt_lambda_max(t->opt[j]) : cap_lambda;
    double *sorted = et_malloc(sizeof(double) * cap_lambda);
    double rate_t = tr_now(), rate = 0;
    uint64_t rate_e = t->st.evals;
    const char *why = "budget";
    int flags = 0, rc = ET_EXIT_OK;
    for (;;) {
        if (tr_stop_signal)
            flags |= STOP_SIGNAL;
        double el = t->elapsed0 + (tr_now() - t->t_start);
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
        if (generation(t) < 0) {
            rc = ET_EXIT_INPUT; /* every rank fails alike: same state, same values */
            why = "error";
            break;
        }
        t->st.generation++;
        t->st.evals += t->off[t->n_starts]; /* the candidates of this generation */
        t->pol_active = 0; /* the search moved on: its best is polished anew at the end */
        if (root && t->st.generation % (uint64_t)t->cfg.valid_every == 0) {
            et_errors e[ET_MAX_STARTS];
            tr_validate(t, e);
            for (int j = 0; j < t->n_starts; j++) {
                if (!t->alive[j])
                    continue;
                size_t lam = t->off[j + 1] - t->off[j];
                memcpy(sorted, t->loss + t->off[j], lam * sizeof(double));
                qsort(sorted, lam, sizeof(double), cmp_d);
                tr_log_row(t, j, sorted[0], sorted[lam / 2], &e[j]);
            }
            if (tr_log_failed(t))
                flags |= STOP_ERROR;
        }
        if (t->n_alive > 1 && t->st.generation % (uint64_t)t->cfg.halving_generations == 0)
            tr_halve(t);
        if (!root)
            continue;
        if (t->st.generation % (uint64_t)t->cfg.checkpoint_every == 0 && tr_save_checkpoint(t) != 0)
            flags |= STOP_ERROR;
        double nw = tr_now();
        if (nw - rate_t > 1.0) {
            rate = (double)(t->st.evals - rate_e) / (nw - rate_t);
            rate_t = nw;
            rate_e = t->st.evals;
        }
        tr_progress(t, 0, rate);
    }
    free(sorted);
    if (!root || rc == ET_EXIT_INPUT)
        return rc;
    if (rc == ET_EXIT_OK && t->cfg.polish_sweeps > 0)
        rc = tr_polish(t, &why);
    if (rc == ET_EXIT_INPUT)
        return rc;
    /* No extra validation at the stop: the best network is chosen among
     * validations every valid_every generations only, so a run stopped and
     * resumed anywhere picks the same one as a run never stopped. */
    if (tr_save_checkpoint(t) != 0)
        return ET_EXIT_INPUT;
    tr_progress(t, 1, rate);
    report_end(t, why);
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
    if (any_failed(tr_setup_config(t, o) != 0, "loading the configuration"))
        goto out;
    if (any_failed(root && tr_setup_dir(t, o) != 0, "preparing the run directory"))
        goto out;
    if (any_failed(tr_setup_search(t) != 0, "setting up the search"))
        goto out;
    if (any_failed(tr_setup_state(t) != 0, "loading the state"))
        goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = train_loop(t);
out:
    tr_abandon(t);
    tr_free(t);
    et_dist_finalize();
    return rc;
}
