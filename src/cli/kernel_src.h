/* kernel_src: the device kernel's sources, embedded in the binary at build
 * time (the Makefile generates build/gen/kernel_src.c from include/evonet.h
 * and src/kernel/evonet.c), so `evotrain kernel -o DIR` hands out exactly the kernel
 * this binary scores networks with, with no installed files. */
#ifndef ET_KERNEL_SRC_H
#define ET_KERNEL_SRC_H

#include <stddef.h>

typedef struct et_kernel_file {
    const char *name; /* file name without directory: "evonet.h", "evonet.c" */
    const unsigned char *data;
    size_t len;
} et_kernel_file;

extern const et_kernel_file et_kernel_files[];
extern const size_t et_n_kernel_files;

#endif
