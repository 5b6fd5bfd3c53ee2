/* util: the one error funnel, checked allocation and atomic output files. */
#ifndef ET_UTIL_H
#define ET_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit codes, documented in the README and the man page. */
enum { ET_EXIT_OK = 0, ET_EXIT_INPUT = 1, ET_EXIT_USAGE = 2, ET_EXIT_INTERRUPTED = 130 };

/* Every user-facing error goes through et_error, so there is one breakpoint and
 * one format: "evotrain: FILE:LINE: message" (file and line omitted when NULL/0). */
void et_error(const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void et_verror(const char *file, long line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* When set, errors are kept here (the first one, formatted as printed)
 * instead of printed: MPI ranks other than 0 report through rank 0. */
extern char *et_error_capture;
extern size_t et_error_capture_size;

/* Verbosity set by -q / -v: 0 quiet, 1 normal, 2 verbose. */
extern int et_verbosity;
void et_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that cannot return NULL: running out of memory ends the process
 * with a message, since no caller could do anything better. */
void *et_malloc(size_t n);
void *et_calloc(size_t n, size_t size);
char *et_strdup(const char *s);

/* An output file that appears complete or not at all (Redis' rdbSave pattern):
 * write to a temp file beside the target, then fflush, fsync, rename, and fsync
 * the directory. On any failure the temp file is unlinked and the old target,
 * if any, is untouched. Only a regular file (or a new one) is replaced so:
 * "-" is stdout, and a FIFO or a device is opened and written directly (tmp
 * is NULL then); a symbolic link is followed to the file it names, which is
 * replaced atomically (the link stays); a dangling link and a directory are
 * refused. */
typedef struct et_afile {
    FILE *fp;
    char *path; /* the file written: a symbolic link's target */
    char *tmp;  /* NULL when written directly */
} et_afile;

int et_afile_open(et_afile *af, const char *path); /* 0 ok, -1 error (reported) */
int et_afile_commit(et_afile *af);                 /* 0 ok, -1 error (reported) */
void et_afile_abort(et_afile *af);
/* Removes the temporary files et_afile_open made for path that a killed
 * process never committed nor aborted. */
void et_afile_remove_stale(const char *path);

/* fopen(path, "r") for an input, refusing a directory (which Linux opens,
 * and which then reads as empty). NULL with the error reported; what names
 * the input in the message ("cannot open checkpoint: ..."), or NULL. */
FILE *et_fopen_read(const char *path, const char *what);

/* getline(3) with a bound: the next line of fp, its '\n' included, into
 * *buf (grown as needed, as getline does), and its length; -1 at the end of
 * the file or on a read error. A line longer than max bytes is not read
 * further: max + 1 bytes are returned and *overlong is set, so a file with
 * no line end (/dev/zero, a 300 MB blob) costs max bytes, not its size. */
ssize_t et_getline_max(char **buf, size_t *cap, FILE *fp, size_t max, int *overlong);

/* mkdir -p dir (a file's directories, as `kernel -o` and export create
 * them). 0 ok, -1 reported with the component that failed. */
int et_make_dirs(const char *dir);

/* fsync the directory holding path, so a rename in it is durable. */
int et_fsync_dir_of(const char *path);

/* Strict number parsing: the whole string must be the number. 0 ok, -1 not. */
int et_parse_double(const char *s, double *out);
int et_parse_long(const char *s, long *out);

/* This thread's number in the enclosing OpenMP team (0 outside one, or
 * without OpenMP): the index of its workspace. */
int et_thread_num(void);

/* Little-endian integers of `bytes` bytes (1 to 8), the byte order of every
 * file evotrain writes: put stores v at *p, get reads at *p; both advance *p. */
void et_put_le(unsigned char **p, uint64_t v, int bytes);
uint64_t et_get_le(const unsigned char **p, int bytes);

/* The shortest "%.Ng" form of x (N from 15 to 17) that strtod reads back as
 * x exactly: 0.45, not 0.45000000000000001. buf holds at least 32 bytes. */
void et_fmt_double(char *buf, size_t n, double x);

/* Edit distance between a and b (insertions, deletions, substitutions and
 * swaps of two neighbours: optimal string alignment), for "did you mean"
 * suggestions; strings longer than 63 bytes count as far from everything. */
size_t et_edit_distance(const char *a, const char *b);

#endif
