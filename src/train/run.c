/* run: a run directory (out/<name>/) and what lives in it. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "dist.h"
#include "evonet_check.h"
#include "sim.h"
#include "util.h"

char *et_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2, d = strlen(dir);
    char *p = et_malloc(n);
    /* "fw/" and "fw" give fw/evonet.h alike (not fw//evonet.h). */
    snprintf(p, n, "%s%s%s", dir, d && dir[d - 1] == '/' ? "" : "/", name);
    return p;
}

int et_run_lock(const char *dir)
{
    char *lp = et_path(dir, "lock");
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        et_error(dir, 0, "cannot open its lock file: %s", strerror(errno));
        free(lp);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char who[32] = "";
        ssize_t n = e == EWOULDBLOCK ? pread(fd, who, sizeof who - 1, 0) : -1;
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            et_error(dir, 0,
                     "the run is in use by process %s (training it or resuming it): wait for it "
                     "to end, or stop it first",
                     *who ? who : "(unknown)");
        else
            et_error(lp, 0, "cannot lock: %s", strerror(e));
        close(fd);
        free(lp);
        return -1;
    }
    /* Who holds it, for the message of the next process that tries. */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* The lock holds without the note. */
    }
    free(lp);
    return fd;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

void et_state_write(const et_train_state *s, unsigned char *b)
{
    uint64_t v[16] = {s->generation,          s->evals,
                      s->best_generation,     s->log_bytes,
                      dbits(s->elapsed_s),    dbits(s->best_loss),
                      dbits(s->best_group[0])};
    for (int k = 0; k < 6; k++)
        v[7 + k] = dbits(s->best_rmse[k]);
    v[13] = s->best_start;
    for (int k = 0; k < 16; k++)
        et_put_le(&b, v[k], 8);
}

int et_state_read(et_train_state *s, const void *buf, size_t len)
{
    if (len != ET_STATE_BYTES)
        return -1;
    const unsigned char *b = buf;
    uint64_t v[16];
    for (int k = 0; k < 16; k++)
        v[k] = et_get_le(&b, 8);
    s->generation = v[0];
    s->evals = v[1];
    s->best_generation = v[2];
    s->log_bytes = v[3];
    s->elapsed_s = bitsd(v[4]);
    s->best_loss = bitsd(v[5]);
    s->best_group[0] = bitsd(v[6]);
    for (int k = 0; k < 6; k++)
        s->best_rmse[k] = bitsd(v[7 + k]);
    s->best_start = v[13]; /* 0 in checkpoints from before starts */
    return 0;
}

unsigned et_net_sizes(const et_config *cfg, const et_task *task, unsigned *sizes)
{
    unsigned nl = 0;
    sizes[nl++] = task->n_in;
    for (int h = 0; h < cfg->n_hidden_layers; h++)
        sizes[nl++] = (unsigned)cfg->hidden[h];
    sizes[nl] = task->n_out;
    return nl;
}

unsigned char *et_errors_section(const et_train_state *s, const et_task *t, size_t *len)
{
    if (t->n_out <= 6 && t->n_groups <= 1)
        return NULL;
    *len = 8 * (size_t)(t->n_out + t->n_groups);
    unsigned char *b = et_malloc(*len), *p = b;
    for (unsigned k = 0; k < t->n_out; k++)
        et_put_le(&p, dbits(s->best_rmse[k]), 8);
    for (unsigned i = 0; i < t->n_groups; i++)
        et_put_le(&p, dbits(s->best_group[i]), 8);
    return b;
}

int et_errors_section_read(et_train_state *s, const et_task *t, const void *buf, size_t len)
{
    if (len != 8 * (size_t)(t->n_out + t->n_groups))
        return -1;
    const unsigned char *p = buf;
    for (unsigned k = 0; k < t->n_out; k++)
        s->best_rmse[k] = bitsd(et_get_le(&p, 8));
    for (unsigned i = 0; i < t->n_groups; i++)
        s->best_group[i] = bitsd(et_get_le(&p, 8));
    return 0;
}

void et_samples_set(et_samples *s, const et_task *task, const int16_t *inputs, double *targets,
                    size_t n, int keep)
{
    size_t ni = task->n_in, no = task->n_out;
    memset(s, 0, sizeof *s);
    s->n = n;
    s->n_in = ni;
    s->n_out = no;
    s->X = et_malloc(sizeof(int16_t) * n * ni);
    s->T = et_malloc(sizeof(int32_t) * n * no);
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < ni; i++)
            s->X[i * n + r] = inputs[r * ni + i];
        if (task->classify) {
            /* One label per row: the one-hot scores it asks for. */
            for (size_t k = 0; k < no; k++)
                s->T[k * n + r] = (size_t)targets[r] == k ? ET_CLASS_ONE : 0;
            continue;
        }
        /* Targets in the network's output steps, within what an int16
         * output can express (x 100 for 0.01 steps: the bits of old). */
        for (size_t k = 0; k < no; k++) {
            double t = nearbyint(targets[r * no + k] * task->inv_scale[k]);
            s->T[k * n + r] = (int32_t)(t < -32768 ? -32768 : t > 32767 ? 32767 : t);
        }
    }
    s->pose = keep ? targets : NULL;
}

int et_samples_load(et_samples *s, et_rundata *d, const et_task *task, et_data_set set, size_t n)
{
    int16_t *X;
    double *T;
    size_t rows;
    if (et_rundata_rows(d, set, n, &X, &T, &rows) != 0)
        return -1;
    const char *what = d->kind == ET_DATA_SIM ? d->cfg->path : "the data";
    char where[512];
    if (task->classify) {
        static const char *const sets[] = {"training set", "validation set", "evaluation set",
                                           "self-test set"};
        const char *file = et_config_data(d->cfg, set == ET_SET_POOL ? "train"
                                                  : set == ET_SET_VALID && et_config_data(d->cfg, "valid", NULL) ? "valid" : "train", NULL);
        snprintf(where, sizeof where, "%s (the %s)", file ? file : et_config_data(d->cfg, "command", et_config_data(d->cfg, "plugin", "the data")), sets[set]);
        what = where;
    }
    int rc = task->classify ? et_task_check_labels(task, T, rows, what, set == ET_SET_POOL)
                            : et_task_check_range(task, T, rows, what);
    if (rc == 0)
        et_samples_set(s, task, X, T, rows, 0);
    free(X);
    free(T);
    return rc;
}

void et_samples_free(et_samples *s)
{
    free(s->X);
    free(s->T);
    free(s->pose);
    memset(s, 0, sizeof *s);
}

et_data et_samples_data(const et_samples *s)
{
    return (et_data){s->X, s->T, s->n, s->n};
}

/* Whether the checkpoint's configuration is the run's config.ini: no key
 * that both have may differ, except the budget and threads that a resume
 * may change (keys added by a later version of the schema are on one side
 * only and do not count). 0, or -1 reported. */
static int same_config(const et_run *r, const char *kp, const char *cp)
{
    size_t len;
    const char *ck = et_ckpt_get(&r->ck, ET_CKPT_CONFIG, &len);
    if (!ck) {
        et_error(kp, 0, "checkpoint lacks its configuration");
        return -1;
    }
    char *a = et_malloc(len + 1), *b = NULL, what[160];
    memcpy(a, ck, len);
    a[len] = '\0';
    size_t blen = 0;
    FILE *f = open_memstream(&b, &blen);
    et_config_dump(&r->cfg, f);
    fclose(f);
    int rc = et_config_diff(a, b, 0, what, sizeof what) == ET_CONFIG_SAME ? 0 : -1;
    if (rc)
        et_error(kp, 0, "the checkpoint is from another configuration: %s differs from %s", what,
                 cp);
    free(a);
    free(b);
    return rc;
}

int et_run_read_result(const et_ckpt *c, const char *kp, const et_config *cfg, const et_task *task,
                       et_train_state *st, et_net **best)
{
    size_t len;
    const void *p = et_ckpt_get(c, ET_CKPT_STATE, &len);
    *best = NULL;
    if (!p || et_state_read(st, p, len) != 0) {
        et_error(kp, 0, "checkpoint has no valid trainer state");
        return -1;
    }
    if ((p = et_ckpt_get(c, ET_CKPT_ERRORS, &len)) &&
        et_errors_section_read(st, task, p, len) != 0) {
        et_error(kp, 0, "checkpoint has errors of another number of outputs");
        return -1;
    }
    p = et_ckpt_get(c, ET_CKPT_BEST, &len);
    char err[256];
    et_net *b = p ? et_net_read(p, len, err, sizeof err) : NULL;
    if (!b) {
        et_error(kp, 0, "checkpoint has no valid best network%s%s", p ? ": " : "", p ? err : "");
        return -1;
    }
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    unsigned nl = et_net_sizes(cfg, task, sizes);
    if (nl != b->n_layers || memcmp(sizes, b->sizes, sizeof(unsigned) * (nl + 1))) {
        et_error(kp, 0, "the network in the checkpoint does not match %s", cfg->path);
        et_net_free(b);
        return -1;
    }
    /* The CRC only says the bytes are ours: a network the kernel cannot
     * run exactly is neither continued nor exported. */
    if (evonet_validate(&b->net, err, sizeof err) != 0) {
        et_error(kp, 0,
                 "the network in the checkpoint is invalid: %s (a best network must run "
                 "exactly on the kernel)",
                 err);
        et_net_free(b);
        return -1;
    }
    *best = b;
    return 0;
}

int et_run_open(const char *dir, et_run *r)
{
    memset(r, 0, sizeof *r);
    r->dir = et_strdup(dir);
    char *cp = et_path(dir, "config.ini"), *kp = et_path(dir, "checkpoint.bin");
    int rc = -1;
    if (et_config_load(cp, &r->cfg) != 0)
        goto out;
    if (et_ckpt_load(&r->ck, kp) != 0 || same_config(r, kp, cp) != 0)
        goto out;
    if (et_rundata_open(&r->cfg, &r->data) != 0 ||
        et_task_from_config(&r->cfg, &r->data, &r->task) != 0 ||
        et_run_read_result(&r->ck, kp, &r->cfg, &r->task, &r->st, &r->best) != 0)
        goto out;
    size_t len;
    const void *p;
    char err[256];
    if ((p = et_ckpt_get(&r->ck, ET_CKPT_POLISH, &len))) {
        int validated;
        et_net *pn = et_polish_section_read(p, len, r->best, &r->polish, &validated,
                                            &r->polish_valid, err, sizeof err);
        if (!pn) {
            et_error(kp, 0, "checkpoint: %s", err);
            goto out;
        }
        /* A polish still under way (interrupted) is not a result yet. */
        r->has_polish = validated;
        r->polished = validated && et_polish_wins(&r->polish_valid, r->st.best_loss);
        if (r->polished) {
            et_net_free(r->best);
            r->best = pn;
        } else {
            et_net_free(pn);
        }
    }
    rc = 0;
out:
    free(cp);
    free(kp);
    if (rc != 0)
        et_run_close(r);
    return rc;
}

void et_run_close(et_run *r)
{
    et_rundata_close(&r->data);
    et_net_free(r->best);
    et_ckpt_free(&r->ck);
    if (r->cfg.path || r->cfg.sim)
        et_config_free(&r->cfg);
    free(r->dir);
    memset(r, 0, sizeof *r);
}
