/* util: the one error funnel, checked allocation and atomic output files. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "util.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

int et_verbosity = 1;

char *et_error_capture;
size_t et_error_capture_size;

void et_verror(const char *file, long line, const char *fmt, va_list ap)
{
    if (et_error_capture) {
        if (et_error_capture[0])
            return; /* the first error is the one that matters */
        char where[512] = "";
        if (file && line > 0)
            snprintf(where, sizeof where, "%s:%ld: ", file, line);
        else if (file)
            snprintf(where, sizeof where, "%s: ", file);
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        snprintf(et_error_capture, et_error_capture_size, "%s%s", where, msg);
        return;
    }
    fputs("evotrain: ", stderr);
    if (file && line > 0)
        fprintf(stderr, "%s:%ld: ", file, line);
    else if (file)
        fprintf(stderr, "%s: ", file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void et_error(const char *file, long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    et_verror(file, line, fmt, ap);
    va_end(ap);
}

void et_info(const char *fmt, ...)
{
    if (et_verbosity < 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void out_of_memory(size_t n)
{
    fprintf(stderr, "evotrain: out of memory (%zu bytes)\n", n);
    exit(ET_EXIT_INPUT);
}

/* The test build fails any allocation larger than ET_TEST_MAX_ALLOC bytes,
 * so tests reach the out-of-memory exit without exhausting the machine. */
static int too_large(size_t n)
{
#ifdef ET_TESTING
    static long long max = -2;
    if (max == -2) {
        const char *m = getenv("ET_TEST_MAX_ALLOC");
        max = m ? atoll(m) : -1;
    }
    return max >= 0 && n > (unsigned long long)max;
#else
    (void)n;
    return 0;
#endif
}

void *et_malloc(size_t n)
{
    void *p = too_large(n) ? NULL : malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *et_calloc(size_t n, size_t size)
{
    void *p = too_large(n * size) ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

char *et_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = et_malloc(n);
    memcpy(p, s, n);
    return p;
}

FILE *et_fopen_read(const char *path, const char *what)
{
    FILE *fp = fopen(path, "r");
    struct stat sb;
    if (!fp) {
        et_error(path, 0, "cannot open%s%s: %s", what ? " " : "", what ? what : "",
                 strerror(errno));
        return NULL;
    }
    if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        et_error(path, 0, "is a directory");
        fclose(fp);
        return NULL;
    }
    return fp;
}

ssize_t et_getline_max(char **buf, size_t *cap, FILE *fp, size_t max, int *overlong)
{
    size_t n = 0;
    int c;
    *overlong = 0;
    while ((c = getc(fp)) != EOF) {
        if (n + 2 > *cap) {
            size_t want = *cap ? 2 * *cap : 128;
            if (want > max + 2)
                want = max + 2;
            if (want < n + 2)
                want = n + 2;
            char *p = realloc(*buf, want);
            if (!p)
                out_of_memory(want);
            *buf = p;
            *cap = want;
        }
        (*buf)[n++] = (char)c;
        if (c == '\n')
            break;
        if (n > max) {
            *overlong = 1;
            break;
        }
    }
    if (n == 0)
        return -1;
    (*buf)[n] = '\0';
    return (ssize_t)n;
}

int et_make_dirs(const char *dir)
{
    char *p = et_strdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            et_error(p, 0, "cannot create directory: %s", strerror(errno));
            rc = -1;
        } else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            et_error(p, 0, "not a directory");
            rc = -1;
        }
        *s = c;
        if (rc || !c)
            break;
    }
    free(p);
    return rc;
}

int et_fsync_dir_of(const char *path)
{
    char *dir = et_strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0) {
        /* Some file systems cannot fsync a directory (EINVAL); the rename
         * itself has happened, so only a real I/O error is fatal. */
        if (errno != EINVAL && errno != EROFS) {
            et_error(dir, 0, "cannot sync directory: %s", strerror(errno));
            rc = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Writes straight to what is at path, no temp file: stdout for "-", or a
 * FIFO, a device, a socket. Renaming over those would replace the thing
 * itself (run as root, `-o /dev/null` once destroyed /dev/null), and a
 * reader of a FIFO wants the bytes, not a new file. */
static int afile_open_direct(et_afile *af, const char *path)
{
    af->path = et_strdup(path);
    af->fp = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!af->fp) {
        et_error(path, 0, "cannot open: %s", strerror(errno));
        free(af->path);
        af->path = NULL;
        return -1;
    }
    return 0;
}

int et_afile_open(et_afile *af, const char *path)
{
    memset(af, 0, sizeof *af);
    struct stat sb;
    if (!strcmp(path, "-"))
        return afile_open_direct(af, path);
    /* A symbolic link is followed: the file it points to is replaced
     * atomically and the link stays a link (what `cp` or an editor does to
     * a linked file). One pointing nowhere is refused: creating a file
     * wherever a dangling link leads is rarely what was meant. */
    char *real = NULL;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        real = realpath(path, NULL);
        if (!real) {
            et_error(path, 0, "is a symbolic link to nothing that exists (%s)", strerror(errno));
            return -1;
        }
        path = real;
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        int rc = -1;
        if (S_ISDIR(sb.st_mode))
            et_error(path, 0, "is a directory");
        else
            rc = afile_open_direct(af, path);
        free(real);
        return rc;
    }
    size_t n = strlen(path) + 16;
    af->path = et_strdup(path);
    af->tmp = et_malloc(n);
    free(real);
    path = af->path;
    snprintf(af->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        et_error(path, 0, "cannot create: %s", strerror(errno));
        free(af->path);
        free(af->tmp);
        memset(af, 0, sizeof *af);
        return -1;
    }
    /* mkstemp makes 0600 files; an output file should look like any other. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    af->fp = fdopen(fd, "w");
    if (!af->fp) {
        et_error(path, 0, "cannot open: %s", strerror(errno));
        close(fd);
        et_afile_abort(af);
        return -1;
    }
    return 0;
}

void et_afile_abort(et_afile *af)
{
    if (af->fp && af->fp != stdout)
        fclose(af->fp);
    if (af->tmp)
        unlink(af->tmp);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
}

void et_afile_remove_stale(const char *path)
{
    /* Matched by name in the directory, not by glob(3): a run directory's
     * name may hold pattern characters. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? et_strdup(path) : et_strdup(".");
    if (slash)
        dir[slash - path + (slash == path)] = '\0';
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, base, n) && !strncmp(e->d_name + n, ".tmp.", 5)) {
            size_t m = strlen(dir) + strlen(e->d_name) + 2;
            char *p = et_malloc(m);
            snprintf(p, m, "%s/%s", dir, e->d_name);
            unlink(p);
            free(p);
        }
    if (d)
        closedir(d);
    free(dir);
}

int et_afile_commit(et_afile *af)
{
    int err = 0;
    if (!af->tmp) { /* written in place: nothing to rename, nothing to sync */
        if (ferror(af->fp) || fflush(af->fp) != 0)
            err = errno ? errno : EIO;
        if (af->fp != stdout && fclose(af->fp) != 0 && !err)
            err = errno ? errno : EIO;
        if (err)
            et_error(af->path, 0, "cannot write: %s", strerror(err));
        free(af->path);
        memset(af, 0, sizeof *af);
        return err ? -1 : 0;
    }
    if (ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0)
        err = errno ? errno : EIO;
    if (fclose(af->fp) != 0 && !err)
        err = errno ? errno : EIO;
    af->fp = NULL;
#ifdef ET_TESTING
    /* The test build can hold the complete temp file this long before the
     * rename, so tests/test_faults.c can kill or signal a process inside
     * the window on purpose rather than by luck. */
    const char *delay = getenv("ET_TEST_COMMIT_DELAY_MS");
    if (!err && delay) {
        long ms = atol(delay);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
#endif
    if (!err && rename(af->tmp, af->path) != 0)
        err = errno;
    if (err) {
        et_error(af->path, 0, "cannot write: %s", strerror(err));
        et_afile_abort(af);
        return -1;
    }
    int rc = et_fsync_dir_of(af->path);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
    return rc;
}

int et_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int et_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (end == s || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

void et_put_le(unsigned char **p, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++)
        *(*p)++ = (unsigned char)(v >> (8 * k));
}

uint64_t et_get_le(const unsigned char **p, int bytes)
{
    uint64_t v = 0;
    for (int k = 0; k < bytes; k++)
        v |= (uint64_t)(*(*p)++) << (8 * k);
    return v;
}

int et_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void et_fmt_double(char *buf, size_t n, double x)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

size_t et_edit_distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t na = strlen(a), nb = strlen(b);
    unsigned char d[MAX][MAX];
    if (na >= MAX || nb >= MAX)
        return (size_t)-1 / 2;
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1u < v)
                v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v)
                v = d[i][j - 1] + 1u;
            /* Two letters swapped ("trian") are one slip, not two. */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)v;
        }
    return d[na][nb];
}
