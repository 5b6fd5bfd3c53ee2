/* test_sim: the simulator against golden vectors, its special points, the
 * noise and ADC path, determinism across threads, and its config errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ini.h>
#include <omp.h>

#include <gsl/gsl_randist.h>

#include "et_rng.h"
#include "sim.h"
#include "sim_model.h"

/* ---- helpers ---------------------------------------------------------- */

/* Rows of a golden CSV (header skipped) as doubles; returns the row count. */
static size_t load_rows(const char *path, size_t ncol, double **out)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    size_t n = 0, cap = 0;
    double *v = NULL;
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            v = realloc(v, cap * ncol * sizeof *v);
            assert_non_null(v);
        }
        char *s = line;
        for (size_t i = 0; i < ncol; i++) {
            char *end;
            v[n * ncol + i] = strtod(s, &end);
            assert_true(end != s);
            s = end + 1;
        }
        n++;
    }
    fclose(f);
    *out = v;
    return n;
}

struct parse_ctx {
    struct sim_scenario *sc;
    int errors;
};

/* Trainer sections are config.c's business; here only the sim's are offered. */
static int handler(void *user, const char *section, const char *key, const char *value)
{
    struct parse_ctx *c = user;
    char err[256];
    int rc = sim_config_set(c->sc, section, key, value, 1, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "[%s] %s = %s: %s\n", section, key, value, err);
        c->errors++;
    }
    return 1;
}

/* A finished scenario from INI text plus optional overrides "section|key|value". */
static struct sim_scenario *scenario_from(const char *ini, const char *file, ...)
{
    struct sim_scenario *sc = sim_scenario_alloc();
    assert_non_null(sc);
    struct parse_ctx c = {sc, 0};
    if (file)
        assert_int_equal(ini_parse(file, handler, &c), 0);
    if (ini)
        assert_int_equal(ini_parse_string(ini, handler, &c), 0);
    assert_int_equal(c.errors, 0);
    va_list ap;
    va_start(ap, file);
    const char *ov;
    while ((ov = va_arg(ap, const char *))) {
        char buf[256], err[256];
        snprintf(buf, sizeof buf, "%s", ov);
        char *k = strchr(buf, '|');
        assert_non_null(k);
        *k++ = '\0';
        char *v = strchr(k, '|');
        assert_non_null(v);
        *v++ = '\0';
        assert_int_equal(sim_config_set(sc, buf, k, v, 1, err, sizeof err), 1);
    }
    va_end(ap);
    char err[256];
    long line;
    int rc = sim_config_finish(sc, err, sizeof err, &line);
    if (rc)
        fprintf(stderr, "finish: %s (line %ld)\n", err, line);
    assert_int_equal(rc, 0);
    return sc;
}

static struct sim_scenario *pose_scenario(const char *model)
{
    char ov[64];
    snprintf(ov, sizeof ov, "magnets|model|%s", model);
    return scenario_from(NULL, "configs/pose.ini", ov, (const char *)NULL);
}

/* magpylib's magnet_cuboid_Bfield, ported term by term (8 sqrt, 6 log, 24
 * atan2), as an independent check of the optimized formula in sim/cuboid.c. */
static void cuboid_reference(const double dim[3], const double J[3], const double p[3], double B[3])
{
    double a = dim[0] / 2, b = dim[1] / 2, c = dim[2] / 2;
    double x = p[0], y = p[1], z = p[2];
    double qx = 1, qy = 1, qz = 1;
    if (x < 0)
        x = -x, qx = -1;
    if (y > 0)
        y = -y, qy = -1;
    if (z > 0)
        z = -z, qz = -1;
    double xma = x - a, xpa = x + a, ymb = y - b, ypb = y + b, zmc = z - c, zpc = z + c;
    double xma2 = xma * xma, xpa2 = xpa * xpa, ymb2 = ymb * ymb, ypb2 = ypb * ypb;
    double zmc2 = zmc * zmc, zpc2 = zpc * zpc;
    double mmm = sqrt(xma2 + ymb2 + zmc2), pmp = sqrt(xpa2 + ymb2 + zpc2);
    double pmm = sqrt(xpa2 + ymb2 + zmc2), mmp = sqrt(xma2 + ymb2 + zpc2);
    double mpm = sqrt(xma2 + ypb2 + zmc2), ppp = sqrt(xpa2 + ypb2 + zpc2);
    double ppm = sqrt(xpa2 + ypb2 + zmc2), mpp = sqrt(xma2 + ypb2 + zpc2);
    double ff2x = log((xma + mmm) * (xpa + ppm) * (xpa + pmp) * (xma + mpp)) -
                  log((xpa + pmm) * (xma + mpm) * (xma + mmp) * (xpa + ppp));
    double ff2y = log((-ymb + mmm) * (-ypb + ppm) * (-ymb + pmp) * (-ypb + mpp)) -
                  log((-ymb + pmm) * (-ypb + mpm) * (ymb - mmp) * (ypb - ppp));
    double ff2z = log((-zmc + mmm) * (-zmc + ppm) * (-zpc + pmp) * (-zpc + mpp)) -
                  log((-zmc + pmm) * (-zmc + mpm) * (zpc - mmp) * (zpc - ppp));
    double ff1x = atan2(ymb * zmc, xma * mmm) - atan2(ymb * zmc, xpa * pmm) -
                  atan2(ypb * zmc, xma * mpm) + atan2(ypb * zmc, xpa * ppm) -
                  atan2(ymb * zpc, xma * mmp) + atan2(ymb * zpc, xpa * pmp) +
                  atan2(ypb * zpc, xma * mpp) - atan2(ypb * zpc, xpa * ppp);
    double ff1y = atan2(xma * zmc, ymb * mmm) - atan2(xpa * zmc, ymb * pmm) -
                  atan2(xma * zmc, ypb * mpm) + atan2(xpa * zmc, ypb * ppm) -
                  atan2(xma * zpc, ymb * mmp) + atan2(xpa * zpc, ymb * pmp) +
                  atan2(xma * zpc, ypb * mpp) - atan2(xpa * zpc, ypb * ppp);
    double ff1z = atan2(xma * ymb, zmc * mmm) - atan2(xpa * ymb, zmc * pmm) -
                  atan2(xma * ypb, zmc * mpm) + atan2(xpa * ypb, zmc * ppm) -
                  atan2(xma * ymb, zpc * mmp) + atan2(xpa * ymb, zpc * pmp) +
                  atan2(xma * ypb, zpc * mpp) - atan2(xpa * ypb, zpc * ppp);
    double Jx = J[0], Jy = J[1], Jz = J[2];
    /* The sign flips of magpylib's qsigns matrices: s_i s_j for B_i from J_j. */
    double bx = Jx * ff1x + qx * qy * Jy * ff2z + qx * qz * Jz * ff2y;
    double by = qx * qy * Jx * ff2z + Jy * ff1y - qy * qz * Jz * ff2x;
    double bz = qx * qz * Jx * ff2y - qy * qz * Jy * ff2x + Jz * ff1z;
    B[0] = bx / (4 * 3.14159265358979323846);
    B[1] = by / (4 * 3.14159265358979323846);
    B[2] = bz / (4 * 3.14159265358979323846);
}

static void check_field_golden(const char *path, sim_field_fn fn)
{
    double *v;
    size_t n = load_rows(path, 12, &v);
    assert_int_equal(n, 400);
    for (size_t r = 0; r < n; r++) {
        const double *row = v + 12 * r;
        struct sim_magnet_geom g = {{row[0], row[1], row[2]}, {row[3], row[4], row[5]}, {0}, 0};
        double B[3];
        fn(&g, row + 6, B);
        for (int i = 0; i < 3; i++) {
            double ref = row[9 + i];
            if (fabs(B[i] - ref) > 1e-9 * fabs(ref) + 1e-15)
                fail_msg("%s row %zu comp %d: %.17g vs %.17g", path, r + 2, i, B[i], ref);
        }
    }
    free(v);
}

/* ---- fields --------------------------------------------------------------- */

static void test_cuboid_golden(void **state)
{
    (void)state;
    check_field_golden("tests/data/cuboid_field.csv", sim_field_cuboid);
}

static void test_dipole_golden(void **state)
{
    (void)state;
    check_field_golden("tests/data/dipole_field.csv", sim_field_dipole);
}

/* The optimized formula equals magpylib's everywhere, inside included. */
static void test_cuboid_matches_reference(void **state)
{
    (void)state;
    gsl_rng *r = et_rng_alloc();
    et_rng_key(r, 7, 99, 0);
    double worst = 0;
    for (int t = 0; t < 20000; t++) {
        struct sim_magnet_geom g = {{0}, {0}, {0}, 0};
        double p[3];
        for (int i = 0; i < 3; i++) {
            g.dim[i] = 0.2 + 10 * gsl_rng_uniform(r);
            g.J[i] = gsl_ran_flat(r, -1.5, 1.5);
        }
        /* Points inside (t % 3 == 0), near the surface, and a few sizes away.
         * Farther out both formulas lose digits to cancellation in the same
         * way (about 1e-16 (distance / smallest size)^3 relative), so they are
         * compared there only with the dipole limit (test_far_field). */
        double span = t % 3 == 0 ? 0.5 : t % 3 == 1 ? 1.2 : 4;
        for (int i = 0; i < 3; i++)
            p[i] = g.dim[i] * span * gsl_ran_flat(r, -1, 1);
        double B[3], Bref[3];
        sim_field_cuboid(&g, p, B);
        cuboid_reference(g.dim, g.J, p, Bref);
        double nref = sqrt(Bref[0] * Bref[0] + Bref[1] * Bref[1] + Bref[2] * Bref[2]);
        for (int i = 0; i < 3; i++) {
            double e = fabs(B[i] - Bref[i]) / (nref + 1e-300);
            if (e > worst)
                worst = e;
        }
    }
    gsl_rng_free(r);
    if (worst >= 1e-9)
        fail_msg("worst relative deviation %g", worst);
}

static int all_finite(const double B[3])
{
    return isfinite(B[0]) && isfinite(B[1]) && isfinite(B[2]);
}

/* Faces, edges, corners, centre and planes through them: finite values, and
 * the documented ones where the field is singular or discontinuous. */
static void test_cuboid_special_points(void **state)
{
    (void)state;
    const struct sim_magnet_geom g = {{4, 2, 6}, {0.3, -0.7, 1.1}, {0}, 0};
    const double h[3] = {2, 1, 3};
    const double c3[5] = {-1, -0.5, 0, 0.5, 1};
    double B[3];
    /* Every combination of -h, -h/2, 0, h/2, h (and just beyond) per axis. */
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            for (int k = 0; k < 6; k++) {
                double p[3] = {i < 5 ? c3[i] * h[0] : 1.5 * h[0], j < 5 ? c3[j] * h[1] : -3,
                               k < 5 ? c3[k] * h[2] : 7};
                sim_field_cuboid(&g, p, B);
                assert_true(all_finite(B));
                int on_x = fabs(p[0]) == h[0], on_y = fabs(p[1]) == h[1], on_z = fabs(p[2]) == h[2];
                int in_x = fabs(p[0]) <= h[0], in_y = fabs(p[1]) <= h[1], in_z = fabs(p[2]) <= h[2];
                int edge =
                    (on_x && on_y && in_z) || (on_x && on_z && in_y) || (on_y && on_z && in_x);
                if (edge) {
                    assert_true(B[0] == 0 && B[1] == 0 && B[2] == 0);
                } else if (in_x && in_y && in_z) {
                    /* Inside or on a face: the limit from inside. */
                    double q[3];
                    for (int a = 0; a < 3; a++)
                        q[a] = p[a] * (1 - 1e-9);
                    double Bq[3];
                    sim_field_cuboid(&g, q, Bq);
                    for (int a = 0; a < 3; a++)
                        assert_true(fabs(B[a] - Bq[a]) < 1e-6);
                }
            }
    /* Centre of a cube: B = 2/3 J (demagnetizing factor 1/3). */
    const struct sim_magnet_geom cube = {{2, 2, 2}, {0.3, -0.6, 1.2}, {0}, 0};
    double o[3] = {0, 0, 0};
    sim_field_cuboid(&cube, o, B);
    for (int a = 0; a < 3; a++)
        assert_float_equal(B[a], cube.J[a] * 2 / 3, 1e-14);
    /* Across a face the tangential B jumps by the tangential J. */
    double in[3] = {0.3, 0.2, 1}, out[3] = {0.3, 0.2, 1 + 1e-10}, Bi[3], Bo[3];
    sim_field_cuboid(&cube, in, Bi);
    sim_field_cuboid(&cube, out, Bo);
    assert_float_equal(Bi[0] - Bo[0], cube.J[0], 1e-6);
    assert_float_equal(Bi[1] - Bo[1], cube.J[1], 1e-6);
    assert_float_equal(Bi[2] - Bo[2], 0, 1e-6);
}

/* Far away a cuboid is a dipole, and nothing overflows at any distance. */
static void test_far_field(void **state)
{
    (void)state;
    const struct sim_magnet_geom g = {{1, 2, 3}, {0.5, 0.2, -1}, {0}, 0};
    double p[3] = {300, -200, 400}, B[3], Bd[3];
    sim_field_cuboid(&g, p, B);
    sim_field_dipole(&g, p, Bd);
    double nd = sqrt(Bd[0] * Bd[0] + Bd[1] * Bd[1] + Bd[2] * Bd[2]);
    for (int a = 0; a < 3; a++)
        assert_true(fabs(B[a] - Bd[a]) < 1e-4 * nd);
    for (double d = 1e-12; d < 1e13; d *= 1e3) {
        double q[3] = {d, -0.7 * d, 0.3 * d};
        sim_field_cuboid(&g, q, B);
        assert_true(all_finite(B));
        sim_field_dipole(&g, q, B);
        assert_true(all_finite(B));
    }
}

static void test_dipole_centre(void **state)
{
    (void)state;
    const struct sim_magnet_geom g = {{1, 2, 3}, {0.5, 0.2, -1}, {0}, 0};
    double o[3] = {0, 0, 0}, B[3];
    sim_field_dipole(&g, o, B);
    for (int a = 0; a < 3; a++)
        assert_true(B[a] == g.J[a] * (2.0 / 3.0));
    double tiny[3] = {1e-200, 0, 0};
    sim_field_dipole(&g, tiny, B);
    assert_true(all_finite(B));
    /* Outside the documented radius the field is the true dipole field. */
    double near[3] = {1e-6, 0, 0};
    sim_field_dipole(&g, near, B);
    assert_true(all_finite(B) && fabs(B[0]) > 1e10);
}

static void test_model_table(void **state)
{
    (void)state;
    assert_ptr_equal(sim_model_find("cuboid")->field, sim_field_cuboid);
    assert_ptr_equal(sim_model_find("dipole")->field, sim_field_dipole);
    assert_null(sim_model_find("cylinder"));
}

/* ---- rotations and the pose forward model ---------------------------------- */

static void test_rotation(void **state)
{
    (void)state;
    double R[9];
    sim_rotation(0, 0, 90, R); /* yaw 90: x -> y */
    assert_float_equal(R[0], 0, 1e-15);
    assert_float_equal(R[3], 1, 1e-15);
    sim_rotation(0, 90, 0, R); /* pitch 90: x -> -z */
    assert_float_equal(R[6], -1, 1e-15);
    sim_rotation(90, 0, 0, R); /* roll 90: y -> z */
    assert_float_equal(R[7], 1, 1e-15);
    /* Intrinsic Z-Y-X: yaw applied last. */
    double Ra[9], Rb[9];
    sim_rotation(10, 0, 0, Ra);
    sim_rotation(0, 0, 30, Rb);
    sim_rotation(10, 0, 30, R);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += Rb[3 * i + k] * Ra[3 * k + j];
            assert_float_equal(R[3 * i + j], s, 1e-15);
        }
}

static void check_pose_golden(const char *path, const char *model)
{
    struct sim_scenario *sc = pose_scenario(model);
    assert_int_equal(sim_n_readings(sc), 18);
    double *v;
    size_t n = load_rows(path, 24, &v);
    assert_int_equal(n, 300);
    double worst = 0;
    for (size_t r = 0; r < n; r++) {
        double B[18];
        sim_forward_field(sc, v + 24 * r, B);
        for (int i = 0; i < 18; i++) {
            double e = fabs(B[i] - v[24 * r + 6 + i]);
            if (e > worst)
                worst = e;
        }
    }
    free(v);
    sim_scenario_free(sc);
    if (worst > 1e-9)
        fail_msg("%s: worst error %g mT", path, worst);
}

static void test_pose_golden_cuboid(void **state)
{
    (void)state;
    check_pose_golden("tests/data/pose_forward_cuboid.csv", "cuboid");
}

static void test_pose_golden_dipole(void **state)
{
    (void)state;
    check_pose_golden("tests/data/pose_forward_dipole.csv", "dipole");
}

static const char one_magnet[] = "[magnet M]\ncenter_mm = 1 2 3\ndim_mm = 4 2 3\n"
                                 "polarization_T = 0.9 0 0\n";

/* A magnet turned by yaw 90 equals one with turned J and swapped x/y edges. */
static void test_magnet_rotation(void **state)
{
    (void)state;
    char a[512], b[512];
    snprintf(a, sizeof a, "%s%s", one_magnet,
             "rotation_deg = 0 0 90\n[sensor 0]\nposition_mm = 5 -7 -9\n");
    snprintf(b, sizeof b, "%s",
             "[magnet M]\ncenter_mm = 1 2 3\ndim_mm = 2 4 3\npolarization_T = 0 0.9 0\n"
             "[sensor 0]\nposition_mm = 5 -7 -9\n");
    struct sim_scenario *sa = scenario_from(a, NULL, (const char *)NULL);
    struct sim_scenario *sb = scenario_from(b, NULL, (const char *)NULL);
    double pose[6] = {0.5, -1, 2, 10, -20, 30}, Ba[3], Bb[3];
    sim_forward_field(sa, pose, Ba);
    sim_forward_field(sb, pose, Bb);
    for (int i = 0; i < 3; i++)
        assert_float_equal(Ba[i], Bb[i], 1e-12 * (fabs(Bb[i]) + 1));
    sim_scenario_free(sa);
    sim_scenario_free(sb);
}

/* Sensor axes, orientation, background, gain and offset. */
static void test_sensor_frame(void **state)
{
    (void)state;
    char a[1024];
    snprintf(a, sizeof a, "%s%s", one_magnet,
             "[field]\nbackground_mT = 0.5 -0.25 2\n"
             "[sensor 0]\nposition_mm = 5 -7 -9\n"
             "[sensor p]\nposition_mm = 5 -7 -9\nrotation_deg = 0 0 90\naxes = zx\n"
             "gain = 2\noffset_mT = 1 2 3\nlsb_mT = 0.5\nnoise_mT = 0\n");
    struct sim_scenario *sc = scenario_from(a, NULL, (const char *)NULL);
    assert_int_equal(sim_n_readings(sc), 5);
    assert_int_equal(sim_n_sensors(sc), 2);
    assert_int_equal(sim_n_magnets(sc), 1);
    assert_string_equal(sim_reading_name(sc, 0), "s0_x");
    assert_string_equal(sim_reading_name(sc, 3), "p_z");
    assert_string_equal(sim_reading_name(sc, 4), "p_x");
    assert_null(sim_reading_name(sc, 5));
    double pose[6] = {0, 0, 0, 0, 0, 0}, B[5];
    sim_forward_field(sc, pose, B);
    /* Sensor p's x axis is the world's y axis; its z axis is the world's z. */
    assert_float_equal(B[3], B[2], 1e-12);
    assert_float_equal(B[4], B[1], 1e-12);
    /* The background shows in the world field. */
    struct sim_scenario *nb =
        scenario_from(one_magnet, NULL, "sensor 0|position_mm|5 -7 -9", (const char *)NULL);
    double B0[3];
    sim_forward_field(nb, pose, B0);
    assert_float_equal(B[0] - B0[0], 0.5, 1e-12);
    assert_float_equal(B[2] - B0[2], 2, 1e-12);
    sim_scenario_free(nb);
    int16_t counts[5];
    sim_counts_from_field(sc, B, NULL, counts);
    assert_int_equal(counts[3], (int)round((2 * B[3] + 3) / 0.5));
    assert_int_equal(counts[4], (int)round((2 * B[4] + 1) / 0.5));
    assert_int_equal(counts[0], (int)round(B[0] / 0.098));
    sim_scenario_free(sc);
}

static void test_pose_check(void **state)
{
    (void)state;
    struct sim_scenario *sc = pose_scenario("cuboid");
    char err[128];
    double ok[6] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(sim_pose_check(sc, ok, err, sizeof err), 0);
    /* Magnet A's centre sits at (6, 0, 0); bring it onto sensor 0 at (16, 0, -12). */
    double bad[6] = {10, 0, -12, 0, 0, 0};
    assert_int_equal(sim_pose_check(sc, bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "sensor 0 is inside magnet A"));
    sim_scenario_free(sc);
}

/* ---- ADC and noise ------------------------------------------------------------- */

static void test_adc_rounding_and_clamp(void **state)
{
    (void)state;
    assert_int_equal(sim_adc(0.5, 1, -2048, 2047), 1);
    assert_int_equal(sim_adc(-0.5, 1, -2048, 2047), -1);
    assert_int_equal(sim_adc(0.49999999999999994, 1, -2048, 2047), 0);
    assert_int_equal(sim_adc(-0.49999999999999994, 1, -2048, 2047), 0);
    assert_int_equal(sim_adc(2.5, 1, -2048, 2047), 3);
    assert_int_equal(sim_adc(-2.5, 1, -2048, 2047), -3);
    assert_int_equal(sim_adc(0.375, 0.25, -2048, 2047), 2); /* 1.5 -> 2 */
    assert_int_equal(sim_adc(-0.375, 0.25, -2048, 2047), -2);
    assert_int_equal(sim_adc(2047.4999999, 1, -2048, 2047), 2047);
    assert_int_equal(sim_adc(2047.5, 1, -2048, 2047), 2047);
    assert_int_equal(sim_adc(2046.5, 1, -2048, 2047), 2047);
    assert_int_equal(sim_adc(-2048.4999999, 1, -2048, 2047), -2048);
    assert_int_equal(sim_adc(-2048.5, 1, -2048, 2047), -2048);
    assert_int_equal(sim_adc(-2047.5, 1, -2048, 2047), -2048);
    assert_int_equal(sim_adc(1e300, 1e-3, -2048, 2047), 2047);
    assert_int_equal(sim_adc(-1e300, 1e-3, -2048, 2047), -2048);
    assert_int_equal(sim_adc(INFINITY, 1, -32768, 32767), 32767);
    assert_int_equal(sim_adc(-INFINITY, 1, -32768, 32767), -32768);
    assert_int_equal(sim_adc(NAN, 1, -5, 5), -5);
    /* The default LSB: 0.098 mT. */
    assert_int_equal(sim_adc(0.049, 0.098, -2048, 2047), 1);
    assert_int_equal(sim_adc(0.0489999999, 0.098, -2048, 2047), 0);
}

/* 10^6 noise draws through the real path (zero field, fine LSB): mean,
 * variance, the 1-sigma fraction and the lag-1 correlation, each within about
 * 5 standard errors. */
static void test_noise_statistics(void **state)
{
    (void)state;
    struct sim_scenario *sc =
        scenario_from("[magnet M]\ncenter_mm = 0 0 0\ndim_mm = 1 1 1\npolarization_T = 0 0 0\n"
                      "[sensors]\nlsb_mT = 0.001\nnoise_mT = 0.1\nclamp = -32768 32767\n"
                      "[sensor 0]\nposition_mm = 0 0 -50\n[sensor 1]\nposition_mm = 0 0 50\n",
                      NULL, (const char *)NULL);
    const size_t rows = 166667, nr = 6, n = rows * nr;
    int16_t *c = malloc(n * sizeof *c);
    assert_non_null(c);
    sim_sample(sc, 12345, 0, rows, 1, c, NULL);
    double s = 0, s2 = 0, lag = 0;
    size_t within = 0;
    for (size_t i = 0; i < n; i++) {
        double x = c[i];
        s += x;
        s2 += x * x;
        within += fabs(x) <= 100;
        if (i)
            lag += x * c[i - 1];
    }
    double mean = s / n, var = s2 / n - mean * mean;
    double expect_var = 100.0 * 100.0 + 1.0 / 12; /* sigma / lsb = 100, plus rounding */
    assert_true(fabs(mean) < 5 * 100 / sqrt((double)n));
    assert_true(fabs(var / expect_var - 1) < 5 * sqrt(2.0 / n));
    /* P(|x| <= 100.5 counts) for N(0, 100): 0.68668. */
    double frac = (double)within / n;
    assert_true(fabs(frac - 0.686684) < 5 * sqrt(0.2211 / n));
    assert_true(fabs(lag / (n - 1) / var) < 5 / sqrt((double)n));
    /* Without noise every count is zero. */
    sim_sample(sc, 12345, 0, 1000, 0, c, NULL);
    for (size_t i = 0; i < 1000 * nr; i++)
        assert_int_equal(c[i], 0);
    free(c);
    sim_scenario_free(sc);
}

/* ---- sampling ------------------------------------------------------------------ */

static void test_pose_sampling(void **state)
{
    (void)state;
    struct sim_scenario *sc = pose_scenario("dipole");
    double lo[6], hi[6];
    sim_pose_box(sc, lo, hi);
    assert_true(lo[0] == -5 && hi[0] == 5 && lo[5] == -20 && hi[5] == 20);
    const size_t n = 100000;
    double *pose = malloc(n * 6 * sizeof *pose);
    assert_non_null(pose);
    sim_sample(sc, 1, 0, n, 1, NULL, pose);
    double sum[6] = {0};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 6; k++) {
            double v = pose[6 * i + k];
            assert_true(v >= lo[k] && v < hi[k]);
            sum[k] += v;
        }
    for (int k = 0; k < 6; k++) /* uniform: sd of the mean = width / sqrt(12 n) */
        assert_true(fabs(sum[k] / n) < 5 * (hi[k] - lo[k]) / sqrt(12.0 * n));
    double p[6];
    sim_sample_pose(sc, 1, 777, p);
    assert_memory_equal(p, pose + 6 * 777, sizeof p);
    free(pose);
    sim_scenario_free(sc);
}

/* The same bits for any thread count and any batching. */
static void test_sampling_deterministic(void **state)
{
    (void)state;
    struct sim_scenario *sc = pose_scenario("cuboid");
    const size_t n = 3000, nr = 18;
    int16_t *c1 = malloc(n * nr * 2), *c2 = malloc(n * nr * 2), *c3 = malloc(n * nr * 2);
    double *p1 = malloc(n * 48), *p2 = malloc(n * 48);
    assert_true(c1 && c2 && c3 && p1 && p2);
    omp_set_num_threads(1);
    sim_sample(sc, 42, 1000, n, 1, c1, p1);
    omp_set_num_threads(2);
    sim_sample(sc, 42, 1000, n, 1, c2, p2);
    assert_memory_equal(c1, c2, n * nr * 2);
    assert_memory_equal(p1, p2, n * 48);
    /* In two batches. */
    sim_sample(sc, 42, 1000, 1234, 1, c3, NULL);
    sim_sample(sc, 42, 1000 + 1234, n - 1234, 1, c3 + 1234 * nr, NULL);
    assert_memory_equal(c1, c3, n * nr * 2);
    /* Given poses give the same counts as sampled ones. */
    sim_counts_for_poses(sc, 42, 1000, n, 1, p1, c3);
    assert_memory_equal(c1, c3, n * nr * 2);
    /* Another seed, other samples. */
    sim_sample(sc, 43, 1000, n, 1, c3, NULL);
    assert_true(memcmp(c1, c3, n * nr * 2) != 0);
    free(c1), free(c2), free(c3), free(p1), free(p2);
    sim_scenario_free(sc);
}

/* ---- configuration ------------------------------------------------------------ */

static int set1(struct sim_scenario *sc, const char *sec, const char *key, const char *val,
                char *err)
{
    return sim_config_set(sc, sec, key, val, 17, err, 256);
}

static void test_config_set_errors(void **state)
{
    (void)state;
    struct sim_scenario *sc = sim_scenario_alloc();
    char err[256];
    assert_int_equal(set1(sc, "run", "seed", "1", err), 0);
    assert_int_equal(set1(sc, "magnetX", "model", "cuboid", err), 0);
    assert_int_equal(set1(sc, "pose", "w_mm", "1 2", err), -1);
    assert_non_null(strstr(err, "unknown key 'w_mm'"));
    assert_int_equal(set1(sc, "pose", "x_mm", "1", err), -1);
    assert_int_equal(set1(sc, "pose", "x_mm", "3 1", err), -1);
    assert_int_equal(set1(sc, "pose", "x_mm", "-1 nan", err), -1);
    assert_non_null(strstr(err, "'nan' is not a finite number"));
    assert_int_equal(set1(sc, "pose", "x_mm", "-1 1e999", err), -1);
    assert_int_equal(set1(sc, "pose", "x_mm", "-1 1x", err), -1);
    assert_int_equal(set1(sc, "pose", "roll_deg", "-190 0", err), -1);
    assert_int_equal(set1(sc, "pose", "x_mm", "-1, 1", err), 1);
    assert_int_equal(set1(sc, "magnet A", "dim_mm", "1 0 1", err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(set1(sc, "magnet A", "dim_mm", "1 -1 1", err), -1);
    assert_int_equal(set1(sc, "magnet A", "dim_mm", "1 1", err), -1);
    assert_int_equal(set1(sc, "magnet A", "dim_mm", "1 1 1 1", err), -1);
    assert_non_null(strstr(err, "expected 3 numbers (x y z), got 4"));
    assert_int_equal(set1(sc, "magnet A", "dim_mm", "1 1 1 1 1 1 1 1 1 1", err), -1);
    assert_non_null(strstr(err, "got more than 8"));
    assert_int_equal(set1(sc, "magnet", "dim_mm", "1 1 1", err), -1);
    assert_non_null(strstr(err, "[magnet] needs a name"));
    assert_int_equal(set1(sc, "magnet A", "model", "cylinder", err), -1);
    assert_non_null(strstr(err, "known: cuboid, dipole"));
    assert_int_equal(set1(sc, "magnets", "center_mm", "0 0 0", err), -1);
    assert_int_equal(set1(sc, "magnet A B", "model", "dipole", err), -1);
    assert_int_equal(set1(sc, "magnet A", "param", "1 2 3 4 5 6 7 8 9", err), -1);
    assert_int_equal(set1(sc, "magnet A", "param", "1 2", err), 1);
    assert_int_equal(set1(sc, "sensor 0", "axes", "xx", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "axes", "w", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "axes", "", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "clamp", "5 5", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "clamp", "0 1.5", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "clamp", "-40000 0", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "lsb_mT", "0", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "noise_mT", "-0.1", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "gain", "1 2", err), -1);
    assert_int_equal(set1(sc, "sensor 0", "gain", "1 2 3", err), 1);
    sim_scenario_free(sc);
}

static int finish_error(const char *ini, char *err, long *line)
{
    struct sim_scenario *sc = sim_scenario_alloc();
    struct parse_ctx c = {sc, 0};
    assert_int_equal(ini_parse_string(ini, handler, &c), 0);
    assert_int_equal(c.errors, 0);
    int rc = sim_config_finish(sc, err, 256, line);
    sim_scenario_free(sc);
    return rc;
}

static void test_config_finish_errors(void **state)
{
    (void)state;
    char err[256];
    long line;
    assert_int_equal(finish_error("[sensor 0]\nposition_mm = 0 0 0\n", err, &line), -1);
    assert_non_null(strstr(err, "no magnets"));
    assert_int_equal(finish_error(one_magnet, err, &line), -1);
    assert_non_null(strstr(err, "no sensors"));
    assert_int_equal(finish_error("[magnet Q]\ndim_mm = 1 1 1\npolarization_T = 0 0 1\n"
                                  "[sensor 0]\nposition_mm = 0 0 9\n",
                                  err, &line),
                     -1);
    assert_non_null(strstr(err, "[magnet Q] needs center_mm"));
    assert_int_equal(line, 1); /* the handler passes line 1 */
    assert_int_equal(finish_error("[magnet Q]\ncenter_mm = 0 0 0\ndim_mm = 1 1 1\n"
                                  "polarization_T = 0 0 1\n[sensor 0]\naxes = z\n",
                                  err, &line),
                     -1);
    assert_non_null(strstr(err, "[sensor 0] needs position_mm"));
    /* [sensor 0] and [sensor s0] would both give column s0_x. */
    assert_int_equal(finish_error("[magnet Q]\ncenter_mm = 0 0 0\ndim_mm = 1 1 1\n"
                                  "polarization_T = 0 0 1\n[sensor 0]\nposition_mm = 0 0 9\n"
                                  "[sensor s0]\nposition_mm = 0 0 8\n",
                                  err, &line),
                     -1);
    assert_non_null(strstr(err, "s0_x"));
}

/* The dump re-parses to the same scenario, and the defaults sections work. */
static void test_config_dump_roundtrip(void **state)
{
    (void)state;
    struct sim_scenario *a = scenario_from(NULL, "configs/pose.ini", "magnet B|param|1.5 -2",
                                           "sensor 3|rotation_deg|1 2 3", (const char *)NULL);
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;
    FILE *f = open_memstream(&t1, &l1);
    sim_config_dump(a, f);
    fclose(f);
    struct sim_scenario *b = scenario_from(t1, NULL, (const char *)NULL);
    f = open_memstream(&t2, &l2);
    sim_config_dump(b, f);
    fclose(f);
    assert_string_equal(t1, t2);
    assert_non_null(strstr(t1, "[magnet A]\nmodel = cuboid\ncenter_mm = 6 0 0\n"));
    assert_non_null(strstr(t1, "param = 1.5 -2\n"));
    double pose[6] = {1, 2, 3, 4, 5, 6}, Ba[18], Bb[18];
    sim_forward_field(a, pose, Ba);
    sim_forward_field(b, pose, Bb);
    assert_memory_equal(Ba, Bb, sizeof Ba);
    free(t1), free(t2);
    sim_scenario_free(a);
    sim_scenario_free(b);
    /* Every schema key shows in the doc. */
    f = open_memstream(&t1, &l1);
    sim_config_doc(f);
    fclose(f);
    assert_non_null(strstr(t1, "polarization_T"));
    assert_non_null(strstr(t1, "(required)"));
    assert_non_null(strstr(t1, "[sensor NAME] or [sensors] noise_mT = 0.1\n"));
    free(t1);
}

/* The built-in scenario is configs/pose.ini's. */
static void test_default_scenario(void **state)
{
    (void)state;
    struct sim_scenario *a = scenario_from(NULL, "configs/pose.ini", (const char *)NULL);
    struct sim_scenario *b = scenario_from(sim_default_scenario_ini, NULL, (const char *)NULL);
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;
    FILE *f = open_memstream(&t1, &l1);
    sim_config_dump(a, f);
    fclose(f);
    f = open_memstream(&t2, &l2);
    sim_config_dump(b, f);
    fclose(f);
    assert_string_equal(t1, t2);
    free(t1), free(t2);
    sim_scenario_free(a);
    sim_scenario_free(b);
}

/* The dipole's batch entry point gives the single-point values bit for bit. */
static void test_dipole_batch(void **state)
{
    (void)state;
    const struct sim_magnet_geom g = {{1, 2, 3}, {0.5, 0.2, -1}, {0}, 0};
    double x[7] = {1, -2, 0, 5, 1e-3, 0, 30}, y[7] = {2, 0, 0, -5, 0, 1e-12, 1};
    double z[7] = {3, 1, 0, 1, 0, 0, -4}, Bx[7], By[7], Bz[7];
    sim_field_dipole_n(&g, 7, x, y, z, Bx, By, Bz);
    for (int i = 0; i < 7; i++) {
        double p[3] = {x[i], y[i], z[i]}, B[3];
        sim_field_dipole(&g, p, B);
        assert_true(B[0] == Bx[i] && B[1] == By[i] && B[2] == Bz[i]);
        assert_true(all_finite(B));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuboid_golden),
        cmocka_unit_test(test_dipole_golden),
        cmocka_unit_test(test_cuboid_matches_reference),
        cmocka_unit_test(test_cuboid_special_points),
        cmocka_unit_test(test_far_field),
        cmocka_unit_test(test_dipole_centre),
        cmocka_unit_test(test_model_table),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_pose_golden_cuboid),
        cmocka_unit_test(test_pose_golden_dipole),
        cmocka_unit_test(test_magnet_rotation),
        cmocka_unit_test(test_sensor_frame),
        cmocka_unit_test(test_pose_check),
        cmocka_unit_test(test_adc_rounding_and_clamp),
        cmocka_unit_test(test_noise_statistics),
        cmocka_unit_test(test_pose_sampling),
        cmocka_unit_test(test_sampling_deterministic),
        cmocka_unit_test(test_config_set_errors),
        cmocka_unit_test(test_config_finish_errors),
        cmocka_unit_test(test_config_dump_roundtrip),
        cmocka_unit_test(test_default_scenario),
        cmocka_unit_test(test_dipole_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
