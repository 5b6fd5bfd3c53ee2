/* Fuzz target: the configuration reader (inih through our line reader, the
 * trainer's schema and the simulator's sections), then the dump, which must
 * re-parse to the same text. */
#define _GNU_SOURCE /* memfd_create, open_memstream */
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    et_config cfg;
    if (et_config_load(fuzz_file(data, size), &cfg) == 0) {
        /* A config that loads must dump to text that loads to the same dump
         * (the run directory's config.ini is exactly that round trip). */
        char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        FILE *f = open_memstream(&a, &na);
        et_config_dump(&cfg, f);
        fclose(f);
        et_config cfg2;
        if (et_config_load(fuzz_file((const uint8_t *)a, na), &cfg2) != 0) {
            fprintf(stderr, "dump does not re-load: %s\n", et_error_capture);
            abort();
        }
        f = open_memstream(&b, &nb);
        et_config_dump(&cfg2, f);
        fclose(f);
        if (na != nb || memcmp(a, b, na) != 0) {
            fprintf(stderr, "dump is not a fixed point:\n%s\n---\n%s\n", a, b);
            abort();
        }
        et_config_free(&cfg2);
        free(a);
        free(b);
    }
    et_config_free(&cfg);
    return 0;
}
