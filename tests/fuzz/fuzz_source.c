/* Fuzz target: the csv data source (src/data/source.h), as `[data] source =
 * csv` opens a user's file: any bytes as the file, the first input byte
 * choosing how the columns are picked (every column but the last as inputs,
 * the first two as inputs, or the inputs and targets by name) and whether
 * the target is a class label (the file's own classes, or a fixed list).
 * What opens must then fill every row with integers in int16 range and
 * finite targets (a label: an index below the class count), and its
 * identity must name the file. */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    static const char *const ins[] = {"a", "b"}, *const tgs[] = {"t"};
    et_source_desc d = {.kind = ET_SOURCE_CSV, .path = fuzz_file(data + 1, size - 1)};
    if (data[0] % 3 == 1)
        d.n_in = 2;
    else if (data[0] % 3 == 2) {
        d.inputs = ins;
        d.n_inputs = 2;
        d.targets = tgs;
        d.n_targets = 1;
    }
    static const char *const fixed[] = {"x", "y", "7"};
    if (data[0] / 3 % 3 == 1)
        d.labels = 1;
    else if (data[0] / 3 % 3 == 2) {
        d.labels = 1;
        d.classes = fixed;
        d.n_classes = 3;
    }
    et_source *s = et_source_open(&d);
    if (!s)
        return 0;
    size_t nc = et_source_n_classes(s);
    if (d.labels && (nc < 1 || nc > ET_SOURCE_MAX_CLASSES || et_source_n_targets(s) != 1 ||
                     !et_source_class(s, nc - 1)))
        abort();
    size_t ni = et_source_n_inputs(s), nt = et_source_n_targets(s);
    uint64_t n = et_source_size(s);
    if (ni < 1 || nt < 1 || n > size || !et_source_identity(s))
        abort();
    int16_t *X = malloc(sizeof *X * (n ? n : 1) * ni);
    double *T = malloc(sizeof *T * (n ? n : 1) * nt);
    if (et_source_fill(s, 0, 0, (size_t)n, X, T) != 0)
        abort(); /* every row was checked when the file was read */
    for (size_t i = 0; i < n * nt; i++)
        if (!isfinite(T[i]) || (d.labels && !(T[i] >= 0 && T[i] < (double)nc && T[i] == floor(T[i]))))
            abort();
    /* Past the end is an error, not a read beyond the table. */
    if (et_source_fill(s, 0, n, 1, X, T) == 0)
        abort();
    free(X);
    free(T);
    et_source_close(s);
    return 0;
}
