/* source_proc: the worker processes of the command source and the lines
 * they send (source_cmd.c speaks the protocol over them). Private to
 * src/data. */
#ifndef ET_SOURCE_PROC_H
#define ET_SOURCE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* Monotonic seconds (timeouts). */
double cmdp_now(void);
int cmdp_cloexec_pipe(int fd[2]);
int cmdp_spawn(cmd_impl *c, worker *w);
int cmdp_reap(worker *w, double grace);
void cmdp_close_fds(worker *w);
void cmdp_stop_all(cmd_impl *c, int polite);
void cmdp_describe_end(worker *w, char *out, size_t outlen);
int cmdp_send_line(worker *w, const char *s);
int cmdp_read_some(worker *w);
char *cmdp_take_line(worker *w, int *too_long);
const char *cmdp_partial(worker *w);
size_t cmdp_fields(char *line, char **f, size_t max);
void cmdp_report_line(const cmd_impl *c, const char *what, const char *line);

/* Why cmdp_read_some returned got <= 0: the read's error (got < 0, errno
 * still set) or how the program ended (got == 0). */
void cmdp_why_silent(worker *w, int got, char *why, size_t n);

#endif
