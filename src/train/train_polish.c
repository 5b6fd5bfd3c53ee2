/* train_polish: the polish of the search's best network after the search. */
#include <stdio.h>
#include <unistd.h>

#include "trainer.h"

/* Rank 0, after the search: the polish of its best network on the pool,
 * continued where a checkpoint left it. A checkpoint after every sweep; a
 * signal checkpoints and stops, the time limit ends the polish where it is. */
int tr_polish(trainer *t, const char **why)
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
    t->pol_t0 = tr_now();
    t->pol_done0 = t->pol.sweep * et_polish_coords(t->polished) + t->pol.pos;
    while (!t->pol.done && t->pol.sweep < (uint64_t)t->cfg.polish_sweeps) {
        if (tr_stop_signal) {
            *why = "interrupted";
            rc = ET_EXIT_INTERRUPTED;
            break;
        }
        if (t->cfg.time_limit_s > 0 &&
            t->elapsed0 + (tr_now() - t->t_start) >= t->cfg.time_limit_s) {
            *why = "time limit";
            break;
        }
        if (et_polish_step(&t->pol, w, t->polished)) {
            if (tr_save_checkpoint(t) != 0) {
                rc = ET_EXIT_INPUT;
                break;
            }
            tr_progress_polish(t, 1);
        } else {
            tr_progress_polish(t, 0);
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
