/* csv: strict numeric CSV files, and the dataset format built on them.
 *
 * Strict means: the header must be exactly the expected column names, every
 * row has exactly that many cells, and every cell is a finite number (blanks
 * around a cell and a CRLF line end are tolerated; nothing else is). Errors
 * are reported once, through et_error, as "evotrain: FILE:LINE: message". */
#ifndef ET_CSV_H
#define ET_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_scenario;

typedef struct et_csv et_csv;

/* Open path and check its header line against names[0 .. ncol-1]. NULL on any
 * error (reported). names must outlive the reader. */
et_csv *et_csv_open(const char *path, const char *const *names, size_t ncol);

/* Open path and take its header line as the column names, whatever they
 * are (none empty, none twice); for tables whose columns the caller picks by
 * name. NULL on any error (reported). */
et_csv *et_csv_open_header(const char *path);
size_t et_csv_ncol(const et_csv *c);
const char *et_csv_name(const et_csv *c, size_t i); /* owned by c */

/* The next row split at commas, cells trimmed of blanks, into *cells (owned
 * by c, valid until the next call). Returns the number of cells, which may
 * differ from et_csv_ncol (only the first ncol + 1 are stored: the caller
 * judges the count), 0 at end of file, -1 on a read error (reported). A
 * blank line is one empty cell. For bulk loads: no allocation per row. */
int et_csv_cells(et_csv *c, char ***cells);

/* The bytes read so far and their zlib crc32: after the last row, the
 * file's size and checksum (an identity for a resumed run to check). */
uint64_t et_csv_bytes(const et_csv *c);
uint32_t et_csv_crc32(const et_csv *c);

/* The next row into row[ncol]: 1 a row, 0 end of file, -1 error (reported). */
int et_csv_read(et_csv *c, double *row);

/* Report a problem with the row just read (file and line added). */
void et_csv_error(const et_csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

long et_csv_line(const et_csv *c); /* line number of the row just read */
void et_csv_close(et_csv *c);

/* Write names as a header line. */
void et_csv_write_header(FILE *out, const char *const *names, size_t ncol);

/* ---- datasets: `evotrain dataset` writes them, `eval --data` reads them ----
 * Header: the scenario's reading names (s0_x, ..., s5_z), then x_mm, y_mm,
 * z_mm, roll_deg, pitch_deg, yaw_deg. Rows: the counts as integers, then the
 * pose with 6 digits after the point. */
typedef struct et_dataset {
    size_t n;          /* rows */
    size_t n_readings; /* counts per row */
    int16_t *counts;   /* n x n_readings */
    double *pose;      /* n x 6 */
} et_dataset;

/* The column names of a dataset for sc (n_readings + 6 of them; pointers into
 * sc and static strings; free the array with free()). */
const char **et_dataset_columns(const struct sim_scenario *sc, size_t *ncol);

/* Write rows to out (header first when header is nonzero). 0 ok, -1 on a
 * write error (not reported: the caller's et_afile_commit reports it). */
int et_dataset_write(FILE *out, const struct sim_scenario *sc, const int16_t *counts,
                     const double *pose, size_t n, int header);

/* Read a whole dataset. Counts must be integers within int16; with check_box,
 * a pose outside sc's [pose] box by more than the file's precision (1e-6) is an
 * error too. 0 ok; -1 error (reported), ds then empty. */
int et_dataset_read(const char *path, const struct sim_scenario *sc, int check_box, et_dataset *ds);
void et_dataset_free(et_dataset *ds);

#endif
