/* source_cmd: samples from an external program over pipes (the protocol is
 * in source.h). Workers are separate processes; one poll() loop hands each
 * idle worker the next chunk of the range and parses the rows as they come,
 * straight into their place, so the result does not depend on which worker
 * answered what. On any error every worker is killed and reaped before the
 * error returns: nothing is left running. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <zlib.h>

#include "source_impl.h"
#include "util.h"

extern char **environ;

#define PROTOCOL_VERSION 1
#define MAX_WORKERS 64
#define MAX_LINE (1 << 16) /* 255 int16 + 64 doubles need ~4 kB */
#define MAX_FIELDS (255 + 64 + 1)
#define SHOW 100 /* characters of an offending line quoted in a message */

typedef struct worker {
    pid_t pid; /* 0: not running */
    int to;    /* its stdin, -1 closed */
    int from;  /* its stdout, -1 closed */
    char *buf; /* bytes read, not yet consumed: buf[off .. len) */
    size_t off, len, cap;
    int busy;       /* a request is outstanding */
    uint64_t first; /* the request's first sample and count, rows done */
    size_t count, done;
    double last; /* when it last sent a byte or was sent a request */
} worker;

typedef struct cmd_impl {
    char *name;  /* the command line, for messages */
    char **argv; /* NULL-terminated */
    int nw;
    worker *w;
    double timeout;
    size_t chunk;
    int dead; /* stopped after an error */
    /* the fill in progress */
    uint64_t seed, base;
    int16_t *X;
    double *T;
} cmd_impl;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- processes ------------------------------------------------------------- */

static int cloexec_pipe(int fd[2])
{
    if (pipe(fd) != 0)
        return -1;
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static int spawn(cmd_impl *c, worker *w)
{
    int in[2], out[2];
    w->to = w->from = -1;
    if (cloexec_pipe(in) != 0) {
        et_error(c->name, 0, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    if (cloexec_pipe(out) != 0) {
        et_error(c->name, 0, "cannot make a pipe: %s", strerror(errno));
        close(in[0]);
        close(in[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawnattr_init(&at);
    /* The program gets the default SIGPIPE and no blocked signal, whatever
     * evotrain itself does with them. */
    sigset_t none, pipe_only;
    sigemptyset(&none);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &pipe_only);
    /* Its own process group, so that stopping it stops what it started too
     * (a shell script's children); killed -9, evotrain leaves it an end of
     * input, on which the protocol says it exits. */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawnp(&w->pid, c->argv[0], &fa, &at, c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        w->pid = 0;
        close(in[1]);
        close(out[0]);
        et_error(c->name, 0, "cannot start the program: %s", strerror(rc));
        return -1;
    }
    w->to = in[1];
    w->from = out[0];
    return 0;
}

/* Waits up to `grace` seconds for w to exit by itself, then kills it; either
 * way kills what is left of its process group, then reaps it (the group is
 * killed while the leader is unreaped, so its number cannot have been
 * reused). The exit status, as waitpid gives it, or -1. */
static int reap(worker *w, double grace)
{
    int st = -1;
    if (!w->pid)
        return -1;
    double until = now() + grace;
    for (;;) {
        siginfo_t info;
        info.si_pid = 0;
        int r = waitid(P_PID, (id_t)w->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if ((r == 0 && info.si_pid == w->pid) || (r < 0 && errno != EINTR))
            break;
        if (now() >= until)
            break;
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    kill(-w->pid, SIGKILL);
    kill(w->pid, SIGKILL);
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    return st;
}

static void close_fds(worker *w)
{
    if (w->to >= 0)
        close(w->to);
    if (w->from >= 0)
        close(w->from);
    w->to = w->from = -1;
}

/* Stops every worker: politely (EOF on its input, a moment to exit) or not
 * (SIGKILL at once); all are reaped. */
static void stop_all(cmd_impl *c, int polite)
{
    for (int i = 0; i < c->nw; i++) {
        worker *w = &c->w[i];
        if (w->to >= 0)
            close(w->to);
        w->to = -1;
        if (!polite && w->pid)
            kill(-w->pid, SIGKILL);
    }
    for (int i = 0; i < c->nw; i++) {
        reap(&c->w[i], polite ? 2.0 : 0.0);
        close_fds(&c->w[i]);
        free(c->w[i].buf);
        c->w[i].buf = NULL;
        c->w[i].off = c->w[i].len = c->w[i].cap = 0;
        c->w[i].busy = 0;
    }
    c->dead = !polite;
}

/* What became of a worker whose output ended, as a phrase. */
static void describe_end(worker *w, char *out, size_t outlen)
{
    int st = reap(w, 1.0);
    if (st == -1)
        snprintf(out, outlen, "the program closed its output");
    else if (WIFEXITED(st))
        snprintf(out, outlen, "the program exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, outlen, "the program was killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else
        snprintf(out, outlen, "the program ended (status 0x%x)", (unsigned)st);
}

/* Writes all of s to w, SIGPIPE held off (a dead reader gives EPIPE, not the
 * death of evotrain). 0, or -1 with errno. */
static int send_line(worker *w, const char *s)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    size_t n = strlen(s);
    int rc = 0;
    while (n) {
        ssize_t k = write(w->to, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            if (e == EPIPE) {
                struct timespec zero = {0, 0};
                sigtimedwait(&pipe_set, NULL, &zero); /* the SIGPIPE we caused */
            }
            errno = e;
            rc = -1;
            break;
        }
        s += k;
        n -= (size_t)k;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- reading lines --------------------------------------------------------- */

/* Reads what w has into its buffer: >0 bytes, 0 end of output, -1 error. */
static int read_some(worker *w)
{
    if (w->off > 0 && w->off == w->len)
        w->off = w->len = 0;
    if (w->off > w->cap / 2) {
        memmove(w->buf, w->buf + w->off, w->len - w->off);
        w->len -= w->off;
        w->off = 0;
    }
    if (w->cap - w->len < 65536) {
        w->cap = w->cap ? 2 * w->cap : 131072;
        char *b = realloc(w->buf, w->cap + 1);
        if (!b) {
            et_error(NULL, 0, "out of memory");
            exit(ET_EXIT_INPUT);
        }
        w->buf = b;
    }
    ssize_t k;
    do
        k = read(w->from, w->buf + w->len, w->cap - w->len);
    while (k < 0 && errno == EINTR);
    if (k > 0)
        w->len += (size_t)k;
    return k < 0 ? -1 : (int)(k > 0);
}

/* The next whole line of w (its end stripped, NUL-terminated in place), or
 * NULL if none has come yet. *too_long when the partial line is past
 * MAX_LINE. */
static char *take_line(worker *w, int *too_long)
{
    char *s = w->buf + w->off;
    char *nl = w->len > w->off ? memchr(s, '\n', w->len - w->off) : NULL;
    *too_long = 0;
    if (!nl) {
        *too_long = w->len - w->off > MAX_LINE;
        return NULL;
    }
    *nl = '\0';
    if (nl > s && nl[-1] == '\r')
        nl[-1] = '\0';
    w->off = (size_t)(nl + 1 - w->buf);
    return s;
}

/* What is left of w's output, for a message about a program that ended in
 * the middle of a line. */
static const char *partial(worker *w)
{
    if (!w->buf || w->len == w->off)
        return "";
    w->buf[w->len] = '\0';
    return w->buf + w->off;
}

/* Splits line at blanks and commas into f (at most max; the count may be
 * larger). */
static size_t fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *s = line;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return n;
        if (n < max)
            f[n] = s;
        n++;
        while (*s && *s != ' ' && *s != '\t' && *s != ',')
            s++;
        char *end = s;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == ',')
            s++;
        *end = '\0';
    }
}

/* Reports "NAME: what: "line"" (line cut at SHOW characters). */
static void report_line(const cmd_impl *c, const char *what, const char *line)
{
    size_t n = strlen(line);
    et_error(c->name, 0, "%s: \"%.*s%s\"", what, SHOW, line, n > SHOW ? "..." : "");
}

/* ---- the handshake --------------------------------------------------------- */

/* One line of w within deadline: the line, or NULL (reported) after a
 * timeout, an end of output or an overlong line. */
static char *handshake_line(cmd_impl *c, worker *w, int k, double deadline)
{
    for (;;) {
        int too_long;
        char *line = take_line(w, &too_long);
        if (line)
            return line;
        if (too_long) {
            report_line(c, "handshake: line longer than 64 kB", partial(w));
            return NULL;
        }
        double left = deadline - now();
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
        int got = r > 0 ? read_some(w) : -1;
        if (got <= 0) {
            char why[160];
            if (got < 0)
                snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
            else
                describe_end(w, why, sizeof why);
            const char *rest = partial(w);
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
    size_t n = fields(line, f, 4);
    if (n != 2 || strcmp(f[0], "evotrain-sim")) {
        report_line(c, "bad handshake: the first line must be \"evotrain-sim 1\", got", line);
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
        n = fields(line, f, 4);
        if (n == 1 && !strcmp(f[0], "ready"))
            break;
        int is_in = n >= 1 && !strcmp(f[0], "input");
        int is_out = n >= 1 && !strcmp(f[0], "output");
        if (!(is_in || is_out) || n != 3) {
            report_line(c,
                        "bad handshake: expected \"input NAME UNIT\", \"output NAME UNIT\" or "
                        "\"ready\", got",
                        copy);
            goto out;
        }
        if (is_in && no) {
            report_line(c, "bad handshake: an input after the outputs", copy);
            goto out;
        }
        if ((is_in && ni == 255) || (is_out && no == 64)) {
            report_line(c, "bad handshake: more than 255 inputs or 64 outputs", copy);
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
    size_t n = fields(line, f, MAX_FIELDS);
    if (n != want) {
        snprintf(what, sizeof what,
                 "sample %llu: %zu fields, expected %zu (%zu inputs, then %zu "
                 "targets)",
                 (unsigned long long)index, n, want, s->n_in, s->n_out);
        report_line(c, what, copy);
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
            report_line(c, what, copy);
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
    w->last = now();
    *next += m;
    if (send_line(w, req) != 0) {
        char why[160];
        if (errno == EPIPE)
            describe_end(w, why, sizeof why);
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
    int got = read_some(w);
    if (got <= 0) {
        char why[160];
        if (got < 0)
            snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
        else
            describe_end(w, why, sizeof why);
        const char *rest = partial(w);
        if (w->busy)
            et_error(c->name, 0, "sample %llu: %s%s%.*s%s",
                     (unsigned long long)(w->first + w->done), why,
                     *rest ? "; it last sent \"" : "", SHOW, rest, *rest ? "\"" : "");
        else
            et_error(c->name, 0, "%s between requests", why);
        return -1;
    }
    w->last = now();
    for (;;) {
        int too_long;
        char *line = take_line(w, &too_long);
        if (too_long) {
            report_line(c, "a line longer than 64 kB", partial(w));
            return -1;
        }
        if (!line)
            return 0;
        if (!w->busy) {
            report_line(c, "a line when no sample was asked for", line);
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
        double t = now(), soonest = 1e300;
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
        t = now();
        for (int j = 0; j < np; j++) {
            worker *w = &c->w[idx[j]];
            if (w->busy && t - w->last >= c->timeout) {
                const char *rest = partial(w);
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
        stop_all(c, 0);
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
    stop_all(c, 1);
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
        if (spawn(c, &c->w[i]) != 0)
            goto fail;
    double deadline = now() + c->timeout;
    for (int i = 0; i < c->nw; i++)
        if (handshake(c, &s, i, deadline) != 0)
            goto fail;
    return s;
fail:
    stop_all(c, 0);
    if (s != &stub) {
        source_free(s);
    }
    free_impl(c);
    return NULL;
}
