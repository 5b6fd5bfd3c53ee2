/* source_cmd: samples from an external program over pipes (the protocol is
 * in source.h). Workers are separate processes; one poll() loop hands each
 * idle worker the next chunk of the range and parses the rows as they come,
 * straight into their place, so the result does not depend on which worker
 * answered what. On any error every worker is killed and reaped before the
 * error returns: nothing is left running. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "source_impl.h"
#include "source_proc.h"
#include "util.h"

#define PROTOCOL_VERSION 1

/* ---- the handshake --------------------------------------------------------- */

/* One line of w within deadline: the line, or NULL (reported) after a
 * timeout, an end of output or an overlong line. */
static char *handshake_line(cmd_impl *c, worker *w, int k, double deadline)
{
    for (;;) {
        int too_long;
        char *line = cmdp_take_line(w, &too_long);
        if (line)
            return line;
        if (too_long) {
            cmdp_report_line(c, "handshake: line longer than 64 kB", cmdp_partial(w));
            return NULL;
        }
        double left = deadline - cmdp_now();
        struct pollfd p = {w->from, POLLIN, 0};
        int r = left > 0 ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            et_error(c->name, 0,
                     "worker %d: no complete handshake within %g s (it must first write "
                     "\"evotrain-sim %d\", its input and output lines and \"ready\")",
                     k, c->timeout, PROTOCOL_VERSION);
            return NULL;
        }
        int got = r > 0 ? cmdp_read_some(w) : -1;
        if (got <= 0) {
            char why[160];
            cmdp_why_silent(w, got, why, sizeof why);
            const char *rest = cmdp_partial(w);
            et_error(c->name, 0, "worker %d: %s during the handshake%s%s%s", k, why,
                     *rest ? " (last sent: \"" : "", rest, *rest ? "\")" : "");
            return NULL;
        }
    }
}

/* Reads worker k's handshake; worker 0's sets the variables of s, the others
 * must say the same. 0, or -1 (reported). */
static int handshake(cmd_impl *c, et_source **sp, int k, double deadline)
{
    worker *w = &c->w[k];
    char *f[4];
    char *line = handshake_line(c, w, k, deadline);
    if (!line)
        return -1;
    size_t n = cmdp_fields(line, f, 4);
    if (n != 2 || strcmp(f[0], "evotrain-sim")) {
        cmdp_report_line(c, "bad handshake: the first line must be \"evotrain-sim 1\", got", line);
        return -1;
    }
    if (strcmp(f[1], "1")) {
        et_error(c->name, 0, "speaks protocol version %.20s; this evotrain speaks %d", f[1],
                 PROTOCOL_VERSION);
        return -1;
    }
    /* names and units as sent, in order; worker 0's make the source. */
    char *names[MAX_FIELDS], *units[MAX_FIELDS];
    size_t ni = 0, no = 0;
    int rc = -1;
    for (;;) {
        if (!(line = handshake_line(c, w, k, deadline)))
            goto out;
        char copy[SHOW + 1];
        snprintf(copy, sizeof copy, "%s", line);
        n = cmdp_fields(line, f, 4);
        if (n == 1 && !strcmp(f[0], "ready"))
            break;
        int is_in = n >= 1 && !strcmp(f[0], "input");
        int is_out = n >= 1 && !strcmp(f[0], "output");
        if (!(is_in || is_out) || n != 3) {
            cmdp_report_line(c,
                             "bad handshake: expected \"input NAME UNIT\", \"output NAME UNIT\" or "
                             "\"ready\", got",
                             copy);
            goto out;
        }
        if (is_in && no) {
            cmdp_report_line(c, "bad handshake: an input after the outputs", copy);
            goto out;
        }
        if ((is_in && ni == 255) || (is_out && no == 64)) {
            cmdp_report_line(c, "bad handshake: more than 255 inputs or 64 outputs", copy);
            goto out;
        }
        names[ni + no] = et_strdup(f[1]);
        units[ni + no] = et_strdup(strcmp(f[2], "-") ? f[2] : "");
        if (is_in)
            ni++;
        else
            no++;
    }
    if (!ni || !no) {
        et_error(c->name, 0, "bad handshake: %zu inputs and %zu outputs (at least one of each)", ni,
                 no);
        goto out;
    }
    if (k == 0) {
        *sp = source_new((*sp)->ops, c, ni, no);
        char err[200];
        for (size_t i = 0; i < ni + no; i++)
            if (source_set_var(*sp, i >= ni, i >= ni ? i - ni : i, names[i], units[i], err,
                               sizeof err) != 0) {
                et_error(c->name, 0, "bad handshake: %s", err);
                goto out;
            }
    } else {
        et_source *s = *sp;
        int same = ni == s->n_in && no == s->n_out;
        for (size_t i = 0; same && i < ni + no; i++) {
            const et_source_var *v = i < ni ? &s->in[i] : &s->out[i - ni];
            same = !strcmp(v->name, names[i]) && !strcmp(v->unit, units[i]);
        }
        if (!same) {
            et_error(c->name, 0, "worker %d's handshake differs from worker 0's", k);
            goto out;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < ni + no; i++) {
        free(names[i]);
        free(units[i]);
    }
    return rc;
}

/* ---- filling ----------------------------------------------------------------- */

/* One row of w's current request from line. 0, or -1 (reported). */
static int take_row(cmd_impl *c, const et_source *s, worker *w, char *line)
{
    uint64_t index = w->first + w->done;
    char copy[SHOW + 4], what[320], why[160];
    snprintf(copy, sizeof copy, "%s", line);
    char *f[MAX_FIELDS];
    size_t want = s->n_in + s->n_out;
    size_t n = cmdp_fields(line, f, MAX_FIELDS);
    if (n != want) {
        snprintf(what, sizeof what,
                 "sample %llu: %zu fields, expected %zu (%zu inputs, then %zu "
                 "targets)",
                 (unsigned long long)index, n, want, s->n_in, s->n_out);
        cmdp_report_line(c, what, copy);
        return -1;
    }
    size_t row = (size_t)(index - c->base);
    for (size_t i = 0; i < want; i++) {
        int bad = i < s->n_in ? source_parse_input(f[i], &c->X[row * s->n_in + i], why, sizeof why)
                              : source_parse_target(f[i], &c->T[row * s->n_out + i - s->n_in], why,
                                                    sizeof why);
        if (bad) {
            snprintf(what, sizeof what, "sample %llu: %s %s: %s", (unsigned long long)index,
                     i < s->n_in ? "input" : "target",
                     i < s->n_in ? s->in[i].name : s->out[i - s->n_in].name, why);
            cmdp_report_line(c, what, copy);
            return -1;
        }
    }
    if (++w->done == w->count)
        w->busy = 0;
    return 0;
}

/* Gives w the next chunk of [*next, end). 0, or -1 (reported). */
static int ask(cmd_impl *c, worker *w, uint64_t *next, uint64_t end)
{
    size_t m = end - *next < c->chunk ? (size_t)(end - *next) : c->chunk;
    char req[80];
    snprintf(req, sizeof req, "%llu %llu %zu\n", (unsigned long long)c->seed,
             (unsigned long long)*next, m);
    w->first = *next;
    w->count = m;
    w->done = 0;
    w->busy = 1;
    w->last = cmdp_now();
    *next += m;
    if (cmdp_send_line(w, req) != 0) {
        char why[160];
        if (errno == EPIPE)
            cmdp_describe_end(w, why, sizeof why);
        else
            snprintf(why, sizeof why, "cannot write to it: %s", strerror(errno));
        et_error(c->name, 0, "sample %llu: %s", (unsigned long long)w->first, why);
        return -1;
    }
    return 0;
}

/* Handles what w has sent. 0, or -1 (reported). */
static int drain(cmd_impl *c, const et_source *s, worker *w)
{
    int got = cmdp_read_some(w);
    if (got <= 0) {
        char why[160];
        cmdp_why_silent(w, got, why, sizeof why);
        const char *rest = cmdp_partial(w);
        if (w->busy)
            et_error(c->name, 0, "sample %llu: %s%s%.*s%s",
                     (unsigned long long)(w->first + w->done), why,
                     *rest ? "; it last sent \"" : "", SHOW, rest, *rest ? "\"" : "");
        else
            et_error(c->name, 0, "%s between requests", why);
        return -1;
    }
    w->last = cmdp_now();
    for (;;) {
        int too_long;
        char *line = cmdp_take_line(w, &too_long);
        if (too_long) {
            cmdp_report_line(c, "a line longer than 64 kB", cmdp_partial(w));
            return -1;
        }
        if (!line)
            return 0;
        if (!w->busy) {
            cmdp_report_line(c, "a line when no sample was asked for", line);
            return -1;
        }
        if (take_row(c, s, w, line) != 0)
            return -1;
    }
}

static int cmd_fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T)
{
    cmd_impl *c = s->impl;
    if (c->dead) {
        et_error(c->name, 0, "the program was stopped after an earlier error");
        return -1;
    }
    c->seed = seed;
    c->base = first;
    c->X = X;
    c->T = T;
    uint64_t next = first, end = first + n;
    /* Smaller chunks when the range is short, so every worker gets some. */
    size_t per = (n + (size_t)c->nw - 1) / (size_t)c->nw;
    size_t saved = c->chunk;
    if (per < c->chunk)
        c->chunk = per ? per : 1;
    struct pollfd p[MAX_WORKERS];
    int rc = -1;
    for (;;) {
        int busy = 0;
        for (int i = 0; i < c->nw; i++) {
            if (!c->w[i].busy && next < end && ask(c, &c->w[i], &next, end) != 0)
                goto out;
            busy += c->w[i].busy;
        }
        if (!busy)
            break;
        double t = cmdp_now(), soonest = 1e300;
        int idx[MAX_WORKERS], np = 0;
        for (int i = 0; i < c->nw; i++)
            if (c->w[i].busy) {
                p[np] = (struct pollfd){c->w[i].from, POLLIN, 0};
                idx[np++] = i;
                if (c->w[i].last + c->timeout < soonest)
                    soonest = c->w[i].last + c->timeout;
            }
        int ms = soonest - t > 0 ? (int)((soonest - t) * 1000) + 1 : 0;
        int r = poll(p, (nfds_t)np, ms);
        if (r < 0 && errno != EINTR) {
            et_error(c->name, 0, "poll: %s", strerror(errno));
            goto out;
        }
        for (int j = 0; r > 0 && j < np; j++)
            if (p[j].revents && drain(c, s, &c->w[idx[j]]) != 0)
                goto out;
        t = cmdp_now();
        for (int j = 0; j < np; j++) {
            worker *w = &c->w[idx[j]];
            if (w->busy && t - w->last >= c->timeout) {
                const char *rest = cmdp_partial(w);
                et_error(c->name, 0,
                         "sample %llu: no answer for %g s (request \"%llu %llu %zu\"); the "
                         "program was stopped%s%.*s%s",
                         (unsigned long long)(w->first + w->done), c->timeout,
                         (unsigned long long)seed, (unsigned long long)w->first, w->count,
                         *rest ? "; it last sent \"" : "", SHOW, rest, *rest ? "\"" : "");
                goto out;
            }
        }
    }
    rc = 0;
out:
    c->chunk = saved;
    if (rc != 0)
        cmdp_stop_all(c, 0);
    return rc;
}

/* "command PROG ARGS... sample-crc32=X": a checksum of samples 0 .. 15 of
 * seed 0, so that a program that now computes something else is noticed. */
static char *cmd_identity(et_source *s)
{
    cmd_impl *c = s->impl;
    enum { N = 16 };
    int16_t *X = et_malloc(N * s->n_in * sizeof *X);
    double *T = et_malloc(N * s->n_out * sizeof *T);
    char *id = NULL;
    if (cmd_fill(s, 0, 0, N, X, T) == 0) {
        uLong crc = crc32(0, (const Bytef *)X, (uInt)(N * s->n_in * sizeof *X));
        crc = crc32(crc, (const Bytef *)T, (uInt)(N * s->n_out * sizeof *T));
        size_t len = 0;
        for (char **a = c->argv; *a; a++)
            len += strlen(*a) + 1;
        id = et_malloc(len + 40);
        strcpy(id, "command");
        for (char **a = c->argv; *a; a++) {
            strcat(id, " ");
            strcat(id, *a);
        }
        sprintf(id + strlen(id), " sample-crc32=%08lx", crc);
    }
    free(X);
    free(T);
    return id;
}

static void free_impl(cmd_impl *c)
{
    for (char **a = c->argv; a && *a; a++)
        free(*a);
    free(c->argv);
    free(c->w);
    free(c->name);
    free(c);
}

static void cmd_close(et_source *s)
{
    cmd_impl *c = s->impl;
    if (!c)
        return;
    cmdp_stop_all(c, 1);
    free_impl(c);
    s->impl = NULL;
}

static const source_ops cmd_ops = {cmd_fill, cmd_identity, cmd_close};

et_source *source_open_command(const et_source_desc *d)
{
    if (!d->path || !*d->path) {
        et_error(NULL, 0, "command source without a program");
        return NULL;
    }
    if (d->workers < 0 || d->workers > MAX_WORKERS || d->timeout_s < 0) {
        et_error(d->path, 0, "%d workers, timeout %g s: 1 to %d workers, a timeout >= 0",
                 d->workers, d->timeout_s, MAX_WORKERS);
        return NULL;
    }
    cmd_impl *c = et_calloc(1, sizeof *c);
    c->nw = d->workers ? d->workers : 1;
    c->timeout = d->timeout_s > 0 ? d->timeout_s : 60;
    c->chunk = d->chunk ? d->chunk : 1024;
    c->argv = et_calloc(d->argc + 2, sizeof *c->argv);
    c->argv[0] = et_strdup(d->path);
    size_t len = strlen(d->path) + 1;
    for (size_t i = 0; i < d->argc; i++) {
        c->argv[i + 1] = et_strdup(d->argv[i]);
        len += strlen(d->argv[i]) + 1;
    }
    /* Messages name the program by its command line, cut to a sane size. */
    c->name = et_malloc(len);
    strcpy(c->name, d->path);
    for (size_t i = 0; i < d->argc; i++) {
        strcat(c->name, " ");
        strcat(c->name, d->argv[i]);
    }
    if (len > 160)
        strcpy(c->name + 150, " ...");
    c->w = et_calloc((size_t)c->nw, sizeof *c->w);
    for (int i = 0; i < c->nw; i++)
        c->w[i].to = c->w[i].from = -1;
    /* A stand-in source that carries the ops until worker 0's handshake
     * gives the real one its variables. */
    et_source stub = {.ops = &cmd_ops};
    et_source *s = &stub;
    for (int i = 0; i < c->nw; i++)
        if (cmdp_spawn(c, &c->w[i]) != 0)
            goto fail;
    double deadline = cmdp_now() + c->timeout;
    for (int i = 0; i < c->nw; i++)
        if (handshake(c, &s, i, deadline) != 0)
            goto fail;
    return s;
fail:
    cmdp_stop_all(c, 0);
    if (s != &stub) {
        source_free(s);
    }
    free_impl(c);
    return NULL;
}
