/* export_pkg: the exported network and the kernel as a firmware package
 * (`evotrain export --format F -o DIR`). */
#ifndef ET_EXPORT_PKG_H
#define ET_EXPORT_PKG_H

#include <signal.h>

#include "evonet.h"
#include "export.h"

/* 1 if format names a package: arduino, platformio, zephyr, rust. */
int et_export_format_known(const char *format);

/* Writes the package of net as format into dir (created if missing; its
 * name in info->name): the header export -o writes (rust: lib.rs), the
 * kernel files and the ecosystem's manifest, example and build files.
 * Files already there are replaced when identical or written by export,
 * else refused (nothing written) unless force. Stops before the next file
 * once *stop is set. 0, or -1 reported. */
int et_export_package(const char *format, const char *dir, int force, const evonet *net,
                      const et_export_info *info, volatile sig_atomic_t *stop);

#endif
