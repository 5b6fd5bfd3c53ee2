/* opt_state: an optimizer's state as bytes (et_opt_save / et_opt_load) and
 * the flat byte writer and reader the backends use for their part of it. */
#define ET_OPT_INTERNAL
#include "opt.h"

#include <string.h>

#include "util.h"

#define OPT_MAGIC "ETOPTST"
#define OPT_VERSION 1u

void et_ser_put(et_ser *s, const void *p, size_t bytes)
{
    if (s->w && !s->err) {
        if (s->pos + bytes > s->size) {
            s->err = 1;
            return;
        }
        memcpy(s->w + s->pos, p, bytes);
    }
    s->pos += bytes;
}

void et_ser_get(et_ser *s, void *p, size_t bytes)
{
    if (s->err || s->pos + bytes > s->size) {
        s->err = 1;
        memset(p, 0, bytes);
        return;
    }
    memcpy(p, s->r + s->pos, bytes);
    s->pos += bytes;
}

/* ---- save / load ---- */

#define PUT(s, v) et_ser_put(s, &(v), sizeof(v))
#define GET(s, v) et_ser_get(s, &(v), sizeof(v))

static void header(et_ser *s, const et_opt *o, int lam)
{
    char magic[8] = OPT_MAGIC;
    uint32_t ver = OPT_VERSION;
    uint64_t n = o->n;
    int32_t l = lam;
    et_ser_put(s, magic, sizeof magic);
    PUT(s, ver);
    et_ser_put(s, o->name, sizeof o->name);
    PUT(s, n);
    PUT(s, l);
}

/* Everything but the header, in one order for writing, reading and sizing. */
static void body(et_opt *o, et_ser *s, int load)
{
    size_t n = o->n, nb = n * sizeof(double);
#define F(v) (load ? GET(s, v) : PUT(s, v))
#define A(p, bytes) (load ? et_ser_get(s, p, bytes) : et_ser_put(s, p, bytes))
    F(o->p.seed);
    F(o->mu);
    F(o->gen);
    F(o->gen_local);
    F(o->evals);
    F(o->sigma);
    F(o->sigma0);
    F(o->sigma0_run);
    F(o->have_x0);
    A(o->x0, nb);
    A(o->m, nb);
    F(o->has_grid);
    A(o->step, nb);
    F(o->floor);
    F(o->margin);
    A(o->amarg, nb);
    F(o->best_f);
    F(o->have_best);
    A(o->best_x, nb);
    A(o->hist_best, o->hist_cap * sizeof(double));
    A(o->hist_med, o->hist_cap * sizeof(double));
    F(o->local_stop);
    F(o->restarts);
    F(o->last_restart_reason);
    F(o->bipop_large_runs);
    F(o->bipop_budget_small);
    F(o->bipop_budget_large);
    F(o->bipop_regime);
    F(o->evals_run_start);
#undef F
#undef A
    /* The checksum only says the bytes are ours; mu indexes the weights, so
     * a crafted value must stop here, before the backend uses it. */
    if (load && !s->err && (o->mu < 1 || o->mu > o->lambda)) {
        s->err = 2;
        return;
    }
    if (load)
        o->be->load(o, s);
    else
        o->be->save(o, s);
}

size_t et_opt_state_size(const et_opt *o)
{
    et_ser s = {0};
    header(&s, o, o->lambda);
    body((et_opt *)(uintptr_t)o, &s, 0);
    return s.pos;
}

int et_opt_save(const et_opt *o, void *buf, size_t size)
{
    if (!o || !buf) {
        et_opt_err("save: NULL argument");
        return -1;
    }
    et_ser s = {.w = buf, .size = size};
    header(&s, o, o->lambda);
    body((et_opt *)(uintptr_t)o, &s, 0);
    if (s.err) {
        et_opt_err("save: buffer of %zu bytes too small, need %zu", size, et_opt_state_size(o));
        return -1;
    }
    return 0;
}

int et_opt_load(et_opt *o, const void *buf, size_t size)
{
    if (!o || !buf) {
        et_opt_err("load: NULL argument");
        return -1;
    }
    et_ser s = {.r = buf, .size = size};
    char magic[8], name[32];
    uint32_t ver;
    uint64_t n;
    int32_t lam;
    et_ser_get(&s, magic, sizeof magic);
    GET(&s, ver);
    et_ser_get(&s, name, sizeof name);
    GET(&s, n);
    GET(&s, lam);
    if (s.err || memcmp(magic, OPT_MAGIC, sizeof magic)) {
        et_opt_err("load: not an optimizer state (bad magic or truncated header)");
        return -1;
    }
    if (ver != OPT_VERSION) {
        et_opt_err("load: state version %u, this build reads version %u", ver, OPT_VERSION);
        return -1;
    }
    name[sizeof name - 1] = '\0';
    if (strcmp(name, o->name)) {
        et_opt_err("load: state is for algorithm '%s', this optimizer is '%s'", name, o->name);
        return -1;
    }
    if (n != o->n) {
        et_opt_err("load: state has dimension %llu, this optimizer has %zu", (unsigned long long)n,
                   o->n);
        return -1;
    }
    if (lam < 2 || lam >= (1 << 20)) {
        et_opt_err("load: corrupt state (population %d)", (int)lam);
        return -1;
    }
    /* Check the size before touching the handle, so a refused load leaves it intact. */
    int old = o->lambda;
    o->lambda = lam;
    size_t want = et_opt_state_size(o);
    o->lambda = old;
    if (size != want) {
        et_opt_err("load: state is %zu bytes, expected %zu for %s with n = %zu, lambda = %d", size,
                   want, o->name, o->n, (int)lam);
        return -1;
    }
    o->lambda = lam;
    if (et_opt_ensure_cap(o) != 0)
        return -1;
    body(o, &s, 1);
    if (s.err == 2) {
        et_opt_err("load: corrupt state (mu %d, lambda %d)", (int)o->mu, o->lambda);
        return -1;
    }
    if (s.err) {
        et_opt_err("load: truncated state");
        return -1;
    }
    memset(o->have, 0, o->cap);
    return 0;
}
