/* runeval: the start that eval, plot and report share: their arguments
 * (DIR [-n N | --data FILE.csv] [--help]), the run directory opened and its
 * best network evaluated on held-out samples (evalcore.h). */
#ifndef ET_RUNEVAL_H
#define ET_RUNEVAL_H

#include "evalcore.h"
#include "run.h"

typedef struct et_run_eval {
    const char *dir; /* as given on the command line */
    et_run run;
    et_eval ev;
} et_run_eval;

/* Returned by et_run_eval_open when the command goes on with re. */
#define ET_RUN_EVAL_OPEN (-1)

/* For command cmd (its --help text help): parse argv, open the run and
 * evaluate it. ET_RUN_EVAL_OPEN with re filled (close it with
 * et_run_eval_close); otherwise the command's exit code, re empty:
 * ET_EXIT_OK after --help, ET_EXIT_USAGE or ET_EXIT_INPUT (reported). */
int et_run_eval_open(const char *cmd, const char *help, int argc, char **argv, et_run_eval *re);
void et_run_eval_close(et_run_eval *re);

#endif
