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
    sim_field_dipole_n(g, 1, &p[0], &p[1], &p[2], &B[0], &B[1], &B[2]);
}

void sim_field_dipole_n(const struct sim_magnet_geom *g, size_t n, const double *x, const double *y,
                        const double *z, double *Bx, double *By, double *Bz)
{
    const double inv4pi = 0.079577471545947667884441881686257;
    const double Jx = g->J[0], Jy = g->J[1], Jz = g->J[2];
    const double kV = g->dim[0] * g->dim[1] * g->dim[2] * inv4pi;
    /* Branch-free so that it can vectorize (GCC does once sqrt need not set
     * errno: -fno-math-errno, which changes no value); the centre is patched
     * below. */
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        double r2 = x[i] * x[i] + y[i] * y[i] + z[i] * z[i];
        double inv_r = 1.0 / sqrt(r2); /* the one division per point */
        double inv_r2 = inv_r * inv_r;
        double k = kV * inv_r2 * inv_r;
        double jr3 = 3.0 * (Jx * x[i] + Jy * y[i] + Jz * z[i]) * inv_r2;
        Bx[i] = k * (jr3 * x[i] - Jx);
        By[i] = k * (jr3 * y[i] - Jy);
        Bz[i] = k * (jr3 * z[i] - Jz);
    }
    const double centre2 =
        1e-18 * (g->dim[0] * g->dim[0] + g->dim[1] * g->dim[1] + g->dim[2] * g->dim[2]);
    for (size_t i = 0; i < n; i++)
        if (x[i] * x[i] + y[i] * y[i] + z[i] * z[i] <= centre2) {
            Bx[i] = Jx * (2.0 / 3.0);
            By[i] = Jy * (2.0 / 3.0);
            Bz[i] = Jz * (2.0 / 3.0);
        }
}
