/* rundata: a run's samples, from the data source its configuration names
 * ([data] source =): the built-in magnet simulator (called directly: the
 * bits of old), a CSV file, an external program or a plugin (the last three
 * through src/data/source.h).
 *
 * The sets of a run, for the simulator, a program and a plugin: samples of
 * the run's seed from index 0 (the pool), from ET_VALID_BASE (validation),
 * ET_EVAL_BASE (eval, plot, report) and ET_SELFTEST_BASE (the header's
 * self-test): never the same sample twice. For a CSV: the pool is the
 * training file ([data] train) but for its last `holdout` rows when no
 * [data] valid file is given (those validate); eval reads [data] test, or
 * the validation set; the self-test takes the validation set's first rows. */
#ifndef ET_RUNDATA_H
#define ET_RUNDATA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "source.h"

typedef enum { ET_DATA_SIM, ET_DATA_CSV, ET_DATA_COMMAND, ET_DATA_PLUGIN } et_data_kind;
typedef enum { ET_SET_POOL, ET_SET_VALID, ET_SET_EVAL, ET_SET_SELFTEST } et_data_set;

typedef struct et_rundata {
    const et_config *cfg;
    et_data_kind kind;
    et_source *src;          /* program or plugin: the stream; csv: the training file */
    et_source *valid, *test; /* csv: [data] valid and test, or NULL */
    size_t holdout;          /* csv without a validation file: its last rows validate */
    char *identity;          /* what a resumed run must find again (NULL for sim) */
} et_rundata;

/* Opens cfg's source (starts the program, loads the library, reads the
 * files). 0, or -1 reported with the configuration's file and line. */
int et_rundata_open(const et_config *cfg, et_rundata *d);
void et_rundata_close(et_rundata *d);

/* A CSV file with the columns of cfg's data (for eval --data). For a
 * classification its label column is read with the classes of `classes`
 * (the run's training file), else those [data] classes names, else the
 * file's own. NULL if it cannot be read (reported). */
et_source *et_rundata_csv(const et_config *cfg, const char *path, const et_source *classes);

/* 1 if cfg's [data] task is classify. */
int et_config_classify(const et_config *cfg);

/* [data] classes of cfg: a count K (names "0" .. "K-1") or the names, into
 * names (et_malloc'd copies, NULL-terminated; free with et_free_words).
 * Returns their number, 0 when the key is not given, -1 on a bad value
 * (reported with the file and line). */
long et_config_classes(const et_config *cfg, char ***names);
void et_free_words(char **w);

/* Rows of set (n of them for a stream; a CSV set has its own size, n
 * ignored) as row-major inputs (rows x n_in) and targets (rows x n_out),
 * newly allocated. 0 with *rows set, or -1 reported. */
int et_rundata_rows(et_rundata *d, et_data_set set, size_t n, int16_t **X, double **T,
                    size_t *rows);

#endif
