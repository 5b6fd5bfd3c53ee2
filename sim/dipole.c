/* dipole: the field of a point dipole, the cheap approximation of a magnet.
 *
 * Moment m = J V / mu0 with V the volume of the magnet's box, so
 *     B = V / (4 pi) (3 r (J.r) / |r|^5 - J / |r|^3)        (J in T, lengths in mm).
 * At the centre the field is singular; there (|r| <= 1e-9 |dim|) we return
 * 2 J / 3, the field inside a uniformly polarized sphere of the same J, which is
 * also the average of the dipole field over any sphere around it. */
#include "sim_model.h"

#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void sim_field_dipole(const struct sim_magnet_geom *g, const double p[3], double B[3])
{
    sim_field_dipole_n(g, 1, &p[0], &p[1], &p[2], &B[0], &B[1], &B[2]);
}

/* One point; the scalar reference of the SSE2 pairs below (same operations in
 * the same order, so the same bits). */
static inline void dipole_at(double kV, const double J[3], double x, double y, double z, double *Bx,
                             double *By, double *Bz)
{
    double r2 = x * x + y * y + z * z;
    double inv_r = 1.0 / sqrt(r2); /* the one division per point */
    double inv_r2 = inv_r * inv_r;
    double k = kV * inv_r2 * inv_r;
    double jr3 = 3.0 * (J[0] * x + J[1] * y + J[2] * z) * inv_r2;
    *Bx = k * (jr3 * x - J[0]);
    *By = k * (jr3 * y - J[1]);
    *Bz = k * (jr3 * z - J[2]);
}

void sim_field_dipole_n(const struct sim_magnet_geom *g, size_t n, const double *x, const double *y,
                        const double *z, double *Bx, double *By, double *Bz)
{
    const double inv4pi = 0.079577471545947667884441881686257;
    const double *J = g->J;
    const double kV = g->dim[0] * g->dim[1] * g->dim[2] * inv4pi;
    size_t i = 0;
#ifdef __SSE2__
    /* Two points at a time: sqrt and division dominate, and SSE2 (always there
     * on x86-64) does two of each for the price of one. GCC will not vectorize
     * the scalar loop itself, as sqrt may set errno. */
    const __m128d vkV = _mm_set1_pd(kV), three = _mm_set1_pd(3.0), one = _mm_set1_pd(1.0);
    const __m128d jx = _mm_set1_pd(J[0]), jy = _mm_set1_pd(J[1]), jz = _mm_set1_pd(J[2]);
    for (; i + 2 <= n; i += 2) {
        __m128d px = _mm_loadu_pd(x + i), py = _mm_loadu_pd(y + i), pz = _mm_loadu_pd(z + i);
        __m128d r2 =
            _mm_add_pd(_mm_add_pd(_mm_mul_pd(px, px), _mm_mul_pd(py, py)), _mm_mul_pd(pz, pz));
        __m128d inv_r = _mm_div_pd(one, _mm_sqrt_pd(r2));
        __m128d inv_r2 = _mm_mul_pd(inv_r, inv_r);
        __m128d k = _mm_mul_pd(_mm_mul_pd(vkV, inv_r2), inv_r);
        __m128d jr =
            _mm_add_pd(_mm_add_pd(_mm_mul_pd(jx, px), _mm_mul_pd(jy, py)), _mm_mul_pd(jz, pz));
        __m128d jr3 = _mm_mul_pd(_mm_mul_pd(three, jr), inv_r2);
        _mm_storeu_pd(Bx + i, _mm_mul_pd(k, _mm_sub_pd(_mm_mul_pd(jr3, px), jx)));
        _mm_storeu_pd(By + i, _mm_mul_pd(k, _mm_sub_pd(_mm_mul_pd(jr3, py), jy)));
        _mm_storeu_pd(Bz + i, _mm_mul_pd(k, _mm_sub_pd(_mm_mul_pd(jr3, pz), jz)));
    }
#endif
    for (; i < n; i++)
        dipole_at(kV, J, x[i], y[i], z[i], &Bx[i], &By[i], &Bz[i]);
    /* The centre, where the expressions above divide by zero. */
    const double centre2 =
        1e-18 * (g->dim[0] * g->dim[0] + g->dim[1] * g->dim[1] + g->dim[2] * g->dim[2]);
    for (i = 0; i < n; i++)
        if (x[i] * x[i] + y[i] * y[i] + z[i] * z[i] <= centre2) {
            Bx[i] = J[0] * (2.0 / 3.0);
            By[i] = J[1] * (2.0 / 3.0);
            Bz[i] = J[2] * (2.0 / 3.0);
        }
}
