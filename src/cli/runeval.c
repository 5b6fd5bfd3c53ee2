/* runeval: eval's, plot's and report's arguments, run and evaluation. */
#include "runeval.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* DIR [-n N | --data FILE.csv] [--help]: 0 ok; 1 when --help was shown; -1
 * usage error (reported). */
static int parse(const char *cmd, const char *help, int argc, char **argv, const char **dir,
                 const char **data, size_t *n)
{
    *dir = *data = NULL;
    *n = 20000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 1;
        } else if (!strcmp(a, "--data") && i + 1 < argc) {
            *data = argv[++i];
        } else if (!strcmp(a, "-n") && i + 1 < argc) {
            if (et_eval_parse_n(cmd, argv[++i], n) != 0)
                return -1;
        } else if (a[0] != '-' && !*dir) {
            *dir = a;
        } else {
            et_error(NULL, 0, "%s: unexpected argument '%s' (see evotrain %s --help)", cmd, a, cmd);
            return -1;
        }
    }
    if (!*dir) {
        et_error(NULL, 0, "%s: give the run directory (see evotrain %s --help)", cmd, cmd);
        return -1;
    }
    return 0;
}

int et_run_eval_open(const char *cmd, const char *help, int argc, char **argv, et_run_eval *re)
{
    const char *data;
    size_t n;
    memset(re, 0, sizeof *re);
    int a = parse(cmd, help, argc, argv, &re->dir, &data, &n);
    if (a != 0)
        return a > 0 ? ET_EXIT_OK : ET_EXIT_USAGE;
    if (et_run_open(re->dir, &re->run) != 0)
        return ET_EXIT_INPUT;
    if (et_eval_run(&re->run, data, n, &re->ev) != 0) {
        et_run_close(&re->run);
        return ET_EXIT_INPUT;
    }
    return ET_RUN_EVAL_OPEN;
}

void et_run_eval_close(et_run_eval *re)
{
    et_eval_free(&re->ev);
    et_run_close(&re->run);
}
