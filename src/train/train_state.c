/* train_state: the trainer's state <-> its checkpoint (the sections of
 * checkpoint.h), so that a resumed run continues with the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evonet_check.h"
#include "trainer.h"

/* ET_CKPT_STARTS: u32 count, then per start u32 alive, f64 best validated
 * loss, the genome calibration (et_genome_cal_bytes), u64 length and the
 * optimizer's state (length 0 once dropped). Little-endian, as the rest of
 * the file; the calibration is doubles, as in ET_CKPT_GENOME. */
static unsigned char *starts_write(const trainer *t, size_t *len)
{
    size_t n = 4, cal = et_genome_cal_bytes(t->g);
    for (int j = 0; j < t->n_starts; j++)
        n += 4 + 8 + cal + 8 + (t->alive[j] ? et_opt_state_size(t->opt[j]) : 0);
    unsigned char *b = et_malloc(n), *p = b;
    et_put_le(&p, (uint64_t)t->n_starts, 4);
    for (int j = 0; j < t->n_starts; j++) {
        uint64_t bits, sz = t->alive[j] ? et_opt_state_size(t->opt[j]) : 0;
        memcpy(&bits, &t->start_best[j], 8);
        et_put_le(&p, (uint64_t)t->alive[j], 4);
        et_put_le(&p, bits, 8);
        et_genome_cal_write(t->gs[j], p);
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
    size_t cal = et_genome_cal_bytes(t->g);
    if (len < 4 || et_get_le(&p, 4) != (uint64_t)t->n_starts)
        return -1;
    t->n_alive = 0;
    for (int j = 0; j < t->n_starts; j++) {
        if ((size_t)(end - p) < 20 + cal)
            return -1;
        uint64_t alive = et_get_le(&p, 4), bits = et_get_le(&p, 8);
        et_genome_cal_read(t->gs[j], p);
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

int tr_save_checkpoint(trainer *t)
{
    et_ckpt c;
    et_ckpt_init(&c);
    et_ckpt_add(&c, ET_CKPT_CONFIG, t->cfg_text, strlen(t->cfg_text));
    unsigned char sb[ET_STATE_BYTES];
    t->st.elapsed_s = t->elapsed0 + (tr_now() - t->t_start);
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
    n = et_genome_cal_bytes(t->g);
    unsigned char *gb = et_malloc(n);
    et_genome_cal_write(t->g, gb);
    et_ckpt_add(&c, ET_CKPT_GENOME, gb, n);
    free(gb);
    et_ckpt_add(&c, ET_CKPT_BESTX, t->best_x, t->g->dim * sizeof(double));
    if (t->data.identity)
        et_ckpt_add(&c, ET_CKPT_SOURCE, t->data.identity, strlen(t->data.identity));
    unsigned char *eb = et_errors_section(&t->st, &t->task, &n);
    if (eb) {
        et_ckpt_add(&c, ET_CKPT_ERRORS, eb, n);
        free(eb);
    }
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

int tr_load_checkpoint(trainer *t)
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
    char what[160];
    int diff = et_config_diff(ctext, t->cfg_text, 1, what, sizeof what);
    free(ctext);
    if (diff == ET_CONFIG_KEY_DIFFERS) {
        et_error(t->ckpt_path, 0,
                 "%s differs from the run's configuration: refusing to resume (only the budget "
                 "and threads may change)",
                 what);
        goto out;
    } else if (diff != ET_CONFIG_SAME) {
        et_error(t->ckpt_path, 0,
                 "%s is in only one of the run's configuration and this one: refusing to resume",
                 what);
        goto out;
    }
    /* The same samples, or the run would continue on others. */
    if (t->data.identity) {
        p = et_ckpt_get(&c, ET_CKPT_SOURCE, &len);
        if (!p || len != strlen(t->data.identity) || memcmp(p, t->data.identity, len)) {
            et_error(t->ckpt_path, 0,
                     "the data changed since the run was written: it was %.*s; it is %s: refusing "
                     "to resume",
                     p ? (int)(len < 400 ? len : 400) : 4, p ? (const char *)p : "none",
                     t->data.identity);
            goto out;
        }
    }
    et_net *b;
    if (et_run_read_result(&c, t->ckpt_path, &t->cfg, &t->task, &t->st, &b) != 0)
        goto out;
    et_net_copy(t->best, b);
    et_net_free(b);
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
    p = et_ckpt_get(&c, ET_CKPT_GENOME, &len);
    if (!p || len != et_genome_cal_bytes(t->g)) {
        et_error(t->ckpt_path, 0, "checkpoint: bad genome calibration");
        goto out;
    }
    et_genome_cal_read(t->g, p);
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
