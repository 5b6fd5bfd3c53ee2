/* source_proc: the command source's worker processes (spawned in their own
 * process groups, killed and reaped as groups) and the lines they send,
 * read without blocking past what poll() said is there. */
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
#include "source_proc.h"
#include "util.h"

extern char **environ;

double cmdp_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- processes ------------------------------------------------------------- */

int cmdp_cloexec_pipe(int fd[2])
{
    if (pipe(fd) != 0)
        return -1;
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

int cmdp_spawn(cmd_impl *c, worker *w)
{
    int in[2], out[2];
    w->to = w->from = -1;
    if (cmdp_cloexec_pipe(in) != 0) {
        et_error(c->name, 0, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    if (cmdp_cloexec_pipe(out) != 0) {
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
int cmdp_reap(worker *w, double grace)
{
    int st = -1;
    if (!w->pid)
        return -1;
    double until = cmdp_now() + grace;
    for (;;) {
        siginfo_t info;
        info.si_pid = 0;
        int r = waitid(P_PID, (id_t)w->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if ((r == 0 && info.si_pid == w->pid) || (r < 0 && errno != EINTR))
            break;
        if (cmdp_now() >= until)
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

void cmdp_close_fds(worker *w)
{
    if (w->to >= 0)
        close(w->to);
    if (w->from >= 0)
        close(w->from);
    w->to = w->from = -1;
}

/* Stops every worker: politely (EOF on its input, a moment to exit) or not
 * (SIGKILL at once); all are reaped. */
void cmdp_stop_all(cmd_impl *c, int polite)
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
        cmdp_reap(&c->w[i], polite ? 2.0 : 0.0);
        cmdp_close_fds(&c->w[i]);
        free(c->w[i].buf);
        c->w[i].buf = NULL;
        c->w[i].off = c->w[i].len = c->w[i].cap = 0;
        c->w[i].busy = 0;
    }
    c->dead = !polite;
}

/* What became of a worker whose output ended, as a phrase. */
void cmdp_describe_end(worker *w, char *out, size_t outlen)
{
    int st = cmdp_reap(w, 1.0);
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
int cmdp_send_line(worker *w, const char *s)
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
int cmdp_read_some(worker *w)
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
char *cmdp_take_line(worker *w, int *too_long)
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
const char *cmdp_partial(worker *w)
{
    if (!w->buf || w->len == w->off)
        return "";
    w->buf[w->len] = '\0';
    return w->buf + w->off;
}

/* Splits line at blanks and commas into f (at most max; the count may be
 * larger). */
size_t cmdp_fields(char *line, char **f, size_t max)
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
void cmdp_report_line(const cmd_impl *c, const char *what, const char *line)
{
    size_t n = strlen(line);
    et_error(c->name, 0, "%s: \"%.*s%s\"", what, SHOW, line, n > SHOW ? "..." : "");
}

void cmdp_why_silent(worker *w, int got, char *why, size_t n)
{
    if (got < 0)
        snprintf(why, n, "cannot read: %s", strerror(errno));
    else
        cmdp_describe_end(w, why, n);
}
