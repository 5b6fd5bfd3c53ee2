/* fuzz_util: what the libFuzzer harnesses share. The parsers under test take
 * a path, so each input is written to one memfd and read back through
 * /proc/self/fd/N: no disk traffic and no temp files left by a crash. */
#ifndef ET_FUZZ_UTIL_H
#define ET_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("et_fuzz", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("fuzz_file");
        abort();
    }
    return path;
}

/* Errors are the expected outcome of most inputs: keep them off stderr (the
 * first one lands in this buffer, which also exercises the capture path). */
static inline void fuzz_quiet(void)
{
    static char buf[2048];
    buf[0] = '\0';
    et_error_capture = buf;
    et_error_capture_size = sizeof buf;
    et_verbosity = 0;
}

#endif
