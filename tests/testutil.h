/* testutil: what the command-line tests share: run a shell command built
 * printf-style, and read a whole file. Header-only, each test is one file. */
#ifndef ET_TESTUTIL_H
#define ET_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The command's exit status, or -1 if it did not exit normally. */
__attribute__((format(printf, 1, 2), unused)) static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The file's bytes, NUL-terminated (free() them), or NULL; *len if wanted. */
__attribute__((unused)) static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[got] = '\0';
    if (len)
        *len = got;
    return b;
}

/* tests/data/tiny.ini with lines ("key = value\n"...) at the top of its
 * [train] section, written to path. 0, or -1. */
__attribute__((unused)) static int tiny_with(const char *path, const char *lines)
{
    char *t = slurp("tests/data/tiny.ini", NULL);
    char *at = t ? strstr(t, "[train]\n") : NULL;
    FILE *f = at ? fopen(path, "w") : NULL;
    if (!f) {
        free(t);
        return -1;
    }
    at += strlen("[train]\n");
    fwrite(t, 1, (size_t)(at - t), f);
    fputs(lines, f);
    fputs(at, f);
    free(t);
    return fclose(f) == 0 ? 0 : -1;
}

#endif
