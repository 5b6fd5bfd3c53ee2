/* train_valid: validation of the starts, log.csv and the progress line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trainer.h"

void tr_log_header(trainer *t)
{
    fputs("generation,evals,elapsed_s,best_loss,median_loss,sigma,step,valid_loss", t->log);
    et_task_log_columns(&t->task, t->log);
    fputs(t->n_starts > 1 ? ",start\n" : "\n", t->log);
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
void tr_validate(trainer *t, et_errors *e)
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
            memcpy(t->st.best_rmse, e[j].rmse, sizeof t->st.best_rmse);
            memcpy(t->st.best_group, e[j].group_rmse, sizeof t->st.best_group);
            et_net_copy(t->best, t->cur[j]);
            memcpy(t->best_x, et_opt_mean(t->opt[j]), t->g->dim * sizeof(double));
        }
    }
}

void tr_log_row(trainer *t, int j, double best, double median, const et_errors *e)
{
    double el = t->elapsed0 + (tr_now() - t->t_start);
    fprintf(t->log, "%llu,%llu,%.2f,%.6g,%.6g,%.6g,%.6g,%.6g", (unsigned long long)t->st.generation,
            (unsigned long long)t->st.evals, el, best, median, et_opt_sigma(t->opt[j]),
            et_opt_step_median(t->opt[j]), e->loss);
    et_task_log_values(&t->task, e->rmse, e->group_rmse, t->log);
    if (t->n_starts > 1)
        fprintf(t->log, ",%d", j);
    fputc('\n', t->log);
    fflush(t->log);
    t->st.log_bytes = (uint64_t)ftell(t->log);
}

/* 1 (reported) if a write to log.csv failed, say on a full disk. */
int tr_log_failed(trainer *t)
{
    if (!ferror(t->log))
        return 0;
    et_error(t->log_path, 0, "cannot write: %s", strerror(errno));
    return 1;
}

/* Whether a progress line is due: always when forced, else four a second on
 * a terminal and one every 5 s on a pipe. */
int tr_progress_due(int force, int *tty)
{
    static double last;
    double now = tr_now();
    *tty = isatty(STDERR_FILENO);
    if (et_verbosity < 1 || (!force && now - last < (*tty ? 0.25 : 5.0)))
        return 0;
    last = now;
    return 1;
}

/* On a terminal the line rewrites itself; on a pipe each is a line. */
void tr_progress_line(const char *line, int tty, int final)
{
    if (tty)
        fprintf(stderr, "\r%-100s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

/* Seconds the polish after the search will take, estimated: each sweep
 * tries every coordinate at most twice (a step down, then up), each trial a
 * loss over the whole pool, timed once here on the best network (it changes
 * nothing). At most: a sweep that changes nothing ends the polish early. */
static double polish_estimate(trainer *t)
{
    if (t->cfg.polish_sweeps <= 0 || !isfinite(t->st.best_loss))
        return 0;
    if (t->pol_trial_s <= 0) {
        et_data pd = et_samples_data(&t->pool);
        et_errors e;
        /* The quickest of three: the first pays for cold caches. */
        for (int i = 0; i < 3; i++) {
            double t0 = tr_now();
            et_fitness_errors_all(t->fit, t->best, &pd, &e);
            double d = tr_now() - t0;
            t->pol_trial_s = i == 0 || d < t->pol_trial_s ? d : t->pol_trial_s;
        }
    }
    return t->pol_trial_s * 2.0 * (double)et_polish_coords(t->best) * t->cfg.polish_sweeps;
}

void tr_progress(trainer *t, int final, double evals_rate)
{
    int tty;
    if (!tr_progress_due(final, &tty))
        return;
    double now = tr_now();
    double el = t->elapsed0 + (now - t->t_start);
    /* The search's time left, then the polish's after it: a quick run's
     * polish can take longer than its search. */
    double rem = -1, search = -1;
    if (t->cfg.time_limit_s > 0)
        search = t->cfg.time_limit_s - (t->cfg.polish_sweeps > 0 ? t->cfg.polish_s : 0) - el;
    if (t->cfg.max_generations > 0 && t->st.generation > 0) {
        double r = el / (double)t->st.generation *
                   (double)(t->cfg.max_generations - (long)t->st.generation);
        search = search < 0 || r < search ? r : search;
    }
    if (search >= 0 && !final) {
        rem = search + polish_estimate(t);
        if (t->cfg.time_limit_s > 0 && rem > t->cfg.time_limit_s - el)
            rem = t->cfg.time_limit_s - el;
    }
    char errs[160], line[320];
    et_task_errors_named(&t->task, t->st.best_rmse, t->st.best_group, "  ", errs, sizeof errs);
    snprintf(line, sizeof line, "gen %llu  %.0f evals/s  valid %s  %.0fs elapsed",
             (unsigned long long)t->st.generation, evals_rate, errs, el);
    if (rem >= 0 && !final)
        snprintf(line + strlen(line), sizeof line - strlen(line), "  %.0fs left", rem);
    if (t->n_starts > 1 && t->n_alive > 1)
        snprintf(line + strlen(line), sizeof line - strlen(line), "  %d of %d starts", t->n_alive,
                 t->n_starts);
    tr_progress_line(line, tty, final);
}

void tr_progress_polish(const trainer *t, int force)
{
    int tty;
    if (!tr_progress_due(force, &tty))
        return;
    double now = tr_now();
    char line[300];
    uint64_t coords = et_polish_coords(t->polished), done = t->pol.sweep * coords + t->pol.pos,
             all = (uint64_t)t->cfg.polish_sweeps * coords;
    snprintf(line, sizeof line,
             "polish: %llu of %d sweeps done, coordinate %llu of %llu, %llu moves kept, pool "
             "loss %.5f, %.0fs elapsed",
             (unsigned long long)t->pol.sweep, t->cfg.polish_sweeps, (unsigned long long)t->pol.pos,
             (unsigned long long)coords, (unsigned long long)t->pol.changes, t->pol.loss,
             t->elapsed0 + (now - t->t_start));
    /* At the pace of the coordinates this process has polished so far. */
    if (done > t->pol_done0 && all > done) {
        double rem = (now - t->pol_t0) / (double)(done - t->pol_done0) * (double)(all - done);
        snprintf(line + strlen(line), sizeof line - strlen(line), ", %.0fs left at most", rem);
    }
    tr_progress_line(line, tty, 0);
}
