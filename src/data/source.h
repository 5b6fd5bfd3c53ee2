/* source: where training samples come from, behind one interface.
 *
 * A source describes N int16 inputs and M double targets (each with a name and
 * a unit) and fills rows of them on request: fill(seed, first, n) gives
 * samples first .. first + n - 1, row-major (X n x N, T n x M). For every
 * backend but csv, sample i is a pure function of (seed, i): the same request
 * gives the same bits whatever the chunking, the thread or worker count.
 *
 * Backends (et_source_kind):
 *   sim      the built-in magnet simulator, through the plugin interface
 *            (sim/sim_plugin.h; keys scenario, noise).
 *   plugin   a shared library implementing include/evotrain_sim.h, loaded by
 *            path with dlopen (keys go to its create()).
 *   command  an external program in any language, speaking the line protocol
 *            below over pipes; `workers` copies of it fill a range in parallel.
 *   csv      a table of samples in a CSV file with a header row; the seed is
 *            ignored, row r is sample r, asking past the end is an error.
 *
 * Every error is reported through et_error, once, naming the file, library
 * or program and what is wrong; the functions then return NULL or -1. Nothing
 * is left running and nothing leaks on any error path.
 *
 * Thread-safety: one source serves one caller at a time (fill is not
 * reentrant: a command source owns its workers' pipes). A fill may use
 * several threads or processes inside.
 *
 * ---- the command protocol, version 1 -------------------------------------
 * evotrain starts PROGRAM ARGS... (searched in PATH when it has no slash) with
 * its standard input and output connected to evotrain by pipes; its standard
 * error is evotrain's. Lines end with "\n"; fields are separated by blanks
 * (spaces or tabs) or single commas. The program first writes its handshake:
 *
 *     evotrain-sim 1            the protocol and its version
 *     input NAME UNIT           one line per input, in order (1 to 255)
 *     output NAME UNIT          one line per output, in order (1 to 64)
 *     ready
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]* (at most 63 characters), UNIT is one word
 * ("-" for none). Then evotrain writes requests, one line each:
 *
 *     SEED FIRST COUNT          three unsigned decimal integers (64 bits)
 *
 * and the program answers with COUNT lines, one per sample FIRST, FIRST+1,
 * ..., each holding N integers in [-32768, 32767] (the inputs) and then M
 * finite decimal numbers (the targets; anything strtod reads), and flushes
 * its output (a line beyond COUNT is an error when it comes with the rows
 * asked for; one that comes after the next request would pass as that
 * request's row: a program must answer exactly COUNT lines). Sample i must
 * depend only on (SEED, i). When evotrain closes
 * the program's standard input the program exits (status 0). A program that
 * exits, crashes, sends nothing for `timeout_s` seconds, or sends a line that
 * breaks these rules is killed, reaped and reported with its name, the
 * sample index and the offending line (truncated).
 */
#ifndef ET_SOURCE_H
#define ET_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef enum et_source_kind {
    ET_SOURCE_SIM,
    ET_SOURCE_PLUGIN,
    ET_SOURCE_COMMAND,
    ET_SOURCE_CSV
} et_source_kind;

/* What to open. Only the fields of the chosen kind are read; zero means the
 * default. Every pointer need only be valid during et_source_open. */
typedef struct et_source_desc {
    et_source_kind kind;
    /* plugin: the library's path; csv: the file; command: the program
     * (argv[0]); sim: unused. */
    const char *path;
    /* command: the arguments after the program (argc of them). */
    const char *const *argv;
    size_t argc;
    /* sim and plugin: the key/value pairs for create() (n_keys of them). */
    const char *const *keys;
    const char *const *values;
    size_t n_keys;
    /* command: processes filling in parallel (default 1, at most 64), the
     * silence after which a busy one counts as hung (default 60 s), and the
     * samples per request (default 1024). */
    int workers;
    double timeout_s;
    size_t chunk;
    /* csv: the input and target columns by name, in the order wanted. Both
     * NULL: the first n_in columns are the inputs and the rest the targets
     * (n_in 0: every column but the last). Only inputs given: the targets
     * are the other columns, in file order; likewise the other way round. */
    const char *const *inputs;
    size_t n_inputs;
    const char *const *targets;
    size_t n_targets;
    size_t n_in;
    /* csv: the one target column holds class labels (labels 1), each an
     * integer class index or a class name; its value in T is the index.
     * classes (n_classes of them, at most ET_SOURCE_MAX_CLASSES) fixes the
     * classes: a label names one or is an index below n_classes. Without
     * them the file's own labels are the classes: 0 .. the largest when
     * every label is an integer, else the distinct names in sorted (strcmp)
     * order, so the order of the rows does not matter. */
    int labels;
    const char *const *classes;
    size_t n_classes;
} et_source_desc;

#define ET_SOURCE_MAX_CLASSES 64 /* a class per output of the network */

typedef struct et_source et_source;

/* A variable (an input or a target): strings owned by the source. */
typedef struct et_source_var {
    const char *name;
    const char *unit; /* "" when none */
} et_source_var;

/* Opens the source d describes: loads the library, starts the workers and
 * reads their handshakes, or reads the whole CSV file. NULL on error
 * (reported). */
et_source *et_source_open(const et_source_desc *d);

size_t et_source_n_inputs(const et_source *s);
size_t et_source_n_targets(const et_source *s);
const et_source_var *et_source_input(const et_source *s, size_t i);
const et_source_var *et_source_target(const et_source *s, size_t i);

/* A labelled CSV's classes (see et_source_desc.labels): their count (0
 * for any other source) and names, owned by s. */
size_t et_source_n_classes(const et_source *s);
const char *et_source_class(const et_source *s, size_t k);

/* The number of samples there are (csv: its rows), or UINT64_MAX when a
 * simulator makes them without end. */
uint64_t et_source_size(const et_source *s);

/* Samples first .. first + n - 1 of seed into X (n x inputs) and T (n x
 * targets). Targets are checked finite, inputs and counts as each backend
 * requires. 0 ok, -1 error (reported; X and T then hold garbage). */
int et_source_fill(et_source *s, uint64_t seed, uint64_t first, size_t n, int16_t *X, double *T);

/* One line saying what the samples are, for a resumed run to compare with
 * the one it recorded (a different line: a changed source):
 *   sim      "sim magnet-sim 1 scenario=HASH noise=1" (the plugin's version)
 *   plugin   "plugin PATH VERSION"
 *   command  "command PROG ARGS... sample-crc32=HEX" (a checksum of samples
 *            0 .. 15 of seed 0, asked for once, on the first call)
 *   csv      "csv PATH size=BYTES crc32=HEX"
 * NULL only if a command source fails to answer (reported). Owned by s. */
const char *et_source_identity(et_source *s);

/* Stops the workers, unloads the library, frees everything (NULL is fine). */
void et_source_close(et_source *s);

/* The backends, for et_source_open and the tests. Each returns the opened
 * source or NULL (reported). */
struct evotrain_sim_api;
et_source *et_source_open_api(const struct evotrain_sim_api *api, const char *what,
                              const et_source_desc *d);

#endif
