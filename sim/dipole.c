/* dipole: the field of a point dipole, the cheap approximation of a magnet.
 *
 * Moment m = J V / mu0 with V the volume of the magnet's box, so
 *     B = V / (4 pi) (3 r (J.r) / |r|^5 - J / |r|^3)        (J in T, lengths in mm).
 * At the centre the field is singular; there (|r| <= 1e-9 |dim|) we return
 * 2 J / 3, the field inside a uniformly polarized sphere of the same J, which is
 * also the average of the dipole field over any sphere around it. */
#include "sim_model.h"

#include <math.h>

void sim_field_dipole(const struct sim_magnet_geom *g, const double p[3], double B[3])
{
    const double *J = g->J;
    double r2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    double d2 = g->dim[0] * g->dim[0] + g->dim[1] * g->dim[1] + g->dim[2] * g->dim[2];
    if (r2 <= 1e-18 * d2) {
        for (int i = 0; i < 3; i++)
            B[i] = J[i] * (2.0 / 3.0);
        return;
    }
    const double inv4pi = 0.079577471545947667884441881686257;
    double V = g->dim[0] * g->dim[1] * g->dim[2];
    double inv_r2 = 1.0 / r2;
    double k = V * inv4pi * inv_r2 / sqrt(r2);
    double jr3 = 3.0 * (J[0] * p[0] + J[1] * p[1] + J[2] * p[2]) * inv_r2;
    for (int i = 0; i < 3; i++)
        B[i] = k * (jr3 * p[i] - J[i]);
}
