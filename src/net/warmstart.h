/* warmstart: a float network trained elsewhere -> the search's start point. */
#ifndef ET_WARMSTART_H
#define ET_WARMSTART_H

#include "fitness.h"
#include "genome.h"

/* Reads the float network in path (layout in warmstart.c and the README),
 * quantizes it to g's integer network and sets x0 and g's calibration (bias
 * units, base scales) from it, using cal for the activation ranges.
 * 0, or -1 with the error reported as FILE:LINE. */
int et_warmstart(const char *path, et_genome *g, double *x0, const et_data *cal);

#endif
