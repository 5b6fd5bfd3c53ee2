/* sim: the forward model (pose -> field -> counts) and the parallel sampler. */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "et_rng.h"

size_t sim_n_readings(const struct sim_scenario *sc)
{
    return sc->n_rd;
}

size_t sim_n_sensors(const struct sim_scenario *sc)
{
    return sc->n_sen;
}

size_t sim_n_magnets(const struct sim_scenario *sc)
{
    return sc->n_mag;
}

const char *sim_reading_name(const struct sim_scenario *sc, size_t i)
{
    return i < sc->n_rd ? sc->rd[i].name : NULL;
}

void sim_reading_adc(const struct sim_scenario *sc, size_t i, double *gain, double *offset_mT,
                     double *lsb_mT, int *lo, int *hi)
{
    const struct sim_reading *r = &sc->rd[i];
    *gain = r->gain;
    *offset_mT = r->offset;
    *lsb_mT = r->lsb;
    *lo = r->lo;
    *hi = r->hi;
}

void sim_pose_box(const struct sim_scenario *sc, double lo[SIM_POSE_DIM], double hi[SIM_POSE_DIM])
{
    for (int i = 0; i < SIM_POSE_DIM; i++) {
        lo[i] = sc->box[i][0];
        hi[i] = sc->box[i][1];
    }
}

void sim_rotation(double roll_deg, double pitch_deg, double yaw_deg, double R[9])
{
    const double d2r = 0.017453292519943295769236907684886; /* pi / 180 */
    double cr = cos(roll_deg * d2r), sr = sin(roll_deg * d2r);
    double cp = cos(pitch_deg * d2r), sp = sin(pitch_deg * d2r);
    double cy = cos(yaw_deg * d2r), sy = sin(yaw_deg * d2r);
    /* Rz(yaw) * Ry(pitch) * Rx(roll), written out. */
    R[0] = cy * cp, R[1] = cy * sp * sr - sy * cr, R[2] = cy * sp * cr + sy * sr;
    R[3] = sy * cp, R[4] = sy * sp * sr + cy * cr, R[5] = sy * sp * cr - cy * sr;
    R[6] = -sp, R[7] = cp * sr, R[8] = cp * cr;
}

static void matmul3(const double A[9], const double B[9], double C[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

/* World pose of magnet m: rotation Rw (magnet -> world) and centre cw. */
static void magnet_in_world(const struct sim_magnet *m, const double R[9], const double t[3],
                            double Rw[9], double cw[3])
{
    if (m->rotated)
        matmul3(R, m->Rm, Rw);
    else
        memcpy(Rw, R, 9 * sizeof(double));
    for (int i = 0; i < 3; i++)
        cw[i] = R[3 * i] * m->center[0] + R[3 * i + 1] * m->center[1] +
                R[3 * i + 2] * m->center[2] + t[i];
}

/* Sensor position s in the frame of a magnet at (Rw, cw): Rw^T (s - cw). */
static void to_magnet(const double Rw[9], const double cw[3], const double s[3], double p[3])
{
    double d0 = s[0] - cw[0], d1 = s[1] - cw[1], d2 = s[2] - cw[2];
    for (int i = 0; i < 3; i++)
        p[i] = Rw[i] * d0 + Rw[3 + i] * d1 + Rw[6 + i] * d2;
}

/* Per magnet: gather the sensor positions into the magnet's frame (or, for an
 * isotropic model, world axes around its centre), evaluate the model on all of
 * them at once, and add the fields back in world axes. */
void sim_forward_field(const struct sim_scenario *sc, const double pose[SIM_POSE_DIM], double *B_mT)
{
    const size_t ns = sc->n_sen;
    double R[9];
    double px[SIM_MAX_SENSORS], py[SIM_MAX_SENSORS], pz[SIM_MAX_SENSORS];
    double bx[SIM_MAX_SENSORS], by[SIM_MAX_SENSORS], bz[SIM_MAX_SENSORS];
    double Bw[3][SIM_MAX_SENSORS]; /* world field at each sensor, T */
    sim_rotation(pose[3], pose[4], pose[5], R);
    for (int a = 0; a < 3; a++)
        memset(Bw[a], 0, ns * sizeof(double));
    for (size_t j = 0; j < sc->n_mag; j++) {
        const struct sim_magnet *m = &sc->mag[j];
        const struct sim_model *model = m->model;
        double Rw[9], cw[3];
        struct sim_magnet_geom gw;
        const struct sim_magnet_geom *g = &m->geom;
        magnet_in_world(m, R, pose, Rw, cw);
        if (model->isotropic) {
            gw = m->geom;
            for (int a = 0; a < 3; a++)
                gw.J[a] = Rw[3 * a] * m->J[0] + Rw[3 * a + 1] * m->J[1] + Rw[3 * a + 2] * m->J[2];
            g = &gw;
            for (size_t i = 0; i < ns; i++) {
                px[i] = sc->sen[i].pos[0] - cw[0];
                py[i] = sc->sen[i].pos[1] - cw[1];
                pz[i] = sc->sen[i].pos[2] - cw[2];
            }
        } else {
            for (size_t i = 0; i < ns; i++) {
                double p[3];
                to_magnet(Rw, cw, sc->sen[i].pos, p);
                px[i] = p[0], py[i] = p[1], pz[i] = p[2];
            }
        }
        if (model->field_n) {
            model->field_n(g, ns, px, py, pz, bx, by, bz);
        } else {
            for (size_t i = 0; i < ns; i++) {
                double p[3] = {px[i], py[i], pz[i]}, b[3];
                model->field(g, p, b);
                bx[i] = b[0], by[i] = b[1], bz[i] = b[2];
            }
        }
        if (model->isotropic) {
            for (size_t i = 0; i < ns; i++) {
                Bw[0][i] += bx[i];
                Bw[1][i] += by[i];
                Bw[2][i] += bz[i];
            }
        } else {
            for (int a = 0; a < 3; a++)
                for (size_t i = 0; i < ns; i++)
                    Bw[a][i] += Rw[3 * a] * bx[i] + Rw[3 * a + 1] * by[i] + Rw[3 * a + 2] * bz[i];
        }
    }
    for (size_t r = 0; r < sc->n_rd; r++) {
        const struct sim_reading *rd = &sc->rd[r];
        size_t i = rd->sensor;
        if (rd->axis >= 0) {
            B_mT[r] = 1e3 * Bw[rd->axis][i] + sc->background[rd->axis];
            continue;
        }
        double v = 0;
        for (int a = 0; a < 3; a++)
            v += rd->u[a] * (1e3 * Bw[a][i] + sc->background[a]);
        B_mT[r] = v;
    }
}

int sim_pose_check(const struct sim_scenario *sc, const double pose[SIM_POSE_DIM], char *err,
                   size_t errlen)
{
    double R[9];
    sim_rotation(pose[3], pose[4], pose[5], R);
    for (size_t j = 0; j < sc->n_mag; j++) {
        const struct sim_magnet *m = &sc->mag[j];
        double Rw[9], cw[3];
        magnet_in_world(m, R, pose, Rw, cw);
        for (size_t i = 0; i < sc->n_sen; i++) {
            double p[3];
            to_magnet(Rw, cw, sc->sen[i].pos, p);
            if (fabs(p[0]) <= 0.5 * m->dim[0] && fabs(p[1]) <= 0.5 * m->dim[1] &&
                fabs(p[2]) <= 0.5 * m->dim[2]) {
                snprintf(err, errlen, "sensor %s is inside magnet %s at this pose", sc->sen[i].name,
                         m->name);
                return -1;
            }
        }
    }
    return 0;
}

/* round(q) half away from zero, then clamped; q already known to be in
 * [lo - 1, hi + 1], so the truncation to long and q - i are exact. */
static inline int16_t round_clamp(double q, int lo, int hi)
{
    long i = (long)q;
    double f = q - (double)i;
    i += (f >= 0.5) - (f <= -0.5);
    return (int16_t)(i < lo ? lo : i > hi ? hi : i);
}

int16_t sim_adc(double v_mT, double lsb_mT, int lo, int hi)
{
    double q = v_mT / lsb_mT;
    if (!(q >= lo - 1.0)) /* also catches NaN */
        return (int16_t)lo;
    if (q > hi + 1.0)
        return (int16_t)hi;
    return round_clamp(q, lo, hi);
}

/* sim_adc with a multiplication instead of the division, and the same result:
 * v * (1 / lsb) is within a few ulp of v / lsb, which can only change the
 * rounding when the quotient is within 1e-9 of a half-integer; there (about
 * once in 10^9 readings) the exact division decides. */
static inline int16_t adc_fast(double v, double lsb, double inv_lsb, int lo, int hi)
{
    double q = v * inv_lsb;
    if (!(q >= lo - 1.0) || q > hi + 1.0)
        return sim_adc(v, lsb, lo, hi);
    double f = fabs(q - (double)(long)q);
    if (fabs(f - 0.5) < 1e-9)
        return sim_adc(v, lsb, lo, hi);
    return round_clamp(q, lo, hi);
}

void sim_counts_from_field(const struct sim_scenario *sc, const double *B_mT, gsl_rng *rng,
                           int16_t *counts)
{
    /* One draw per reading even at sigma 0, so that changing one sensor's
     * noise does not shift every other reading's stream. Drawing them all
     * first lets the conversions below overlap instead of waiting on calls. */
    double noise[SIM_MAX_READINGS];
    size_t n = sc->n_rd;
    if (rng)
        for (size_t r = 0; r < n; r++)
            noise[r] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    else
        memset(noise, 0, n * sizeof *noise);
    for (size_t r = 0; r < n; r++) {
        const struct sim_reading *rd = &sc->rd[r];
        double v = rd->gain * B_mT[r] + rd->offset + rd->sigma * noise[r];
        counts[r] = adc_fast(v, rd->lsb, rd->inv_lsb, rd->lo, rd->hi);
    }
}

static void pose_from_stream(const struct sim_scenario *sc, gsl_rng *r, double pose[SIM_POSE_DIM])
{
    for (int i = 0; i < SIM_POSE_DIM; i++)
        pose[i] = sc->box[i][0] + (sc->box[i][1] - sc->box[i][0]) * gsl_rng_uniform(r);
}

void sim_sample_pose(const struct sim_scenario *sc, uint64_t seed, uint64_t index,
                     double pose[SIM_POSE_DIM])
{
    et_rng_state st;
    gsl_rng r = {&et_rng_ctr_type, &st};
    et_rng_key(&r, seed, ET_STREAM_POSE, index);
    pose_from_stream(sc, &r, pose);
}

/* The shared body of sim_sample and sim_counts_for_poses: poses are drawn when
 * pose_in is NULL. Each row gets its own keyed streams, so any thread may
 * compute any row; the rng lives on the stack (no allocation, no failure). */
static void sample_rows(const struct sim_scenario *sc, uint64_t seed, uint64_t first, size_t n,
                        int noise, const double *pose_in, int16_t *counts, double *pose_out)
{
    size_t nr = sc->n_rd;
#pragma omp parallel if (n >= 256)
    {
        et_rng_state st;
        gsl_rng r = {&et_rng_ctr_type, &st};
        double B[SIM_MAX_READINGS];
        int16_t scratch[SIM_MAX_READINGS];
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) {
            double pz[SIM_POSE_DIM];
            const double *p;
            if (pose_in) {
                p = pose_in + SIM_POSE_DIM * i;
            } else {
                et_rng_key(&r, seed, ET_STREAM_POSE, first + i);
                pose_from_stream(sc, &r, pz);
                p = pz;
                if (pose_out)
                    memcpy(pose_out + SIM_POSE_DIM * i, pz, sizeof pz);
            }
            sim_forward_field(sc, p, B);
            if (noise)
                et_rng_key(&r, seed, ET_STREAM_NOISE, first + i);
            sim_counts_from_field(sc, B, noise ? &r : NULL, counts ? counts + nr * i : scratch);
        }
    }
}

void sim_sample(const struct sim_scenario *sc, uint64_t seed, uint64_t first_index, size_t n,
                int noise, int16_t *counts, double *pose)
{
    sample_rows(sc, seed, first_index, n, noise, NULL, counts, pose);
}

void sim_counts_for_poses(const struct sim_scenario *sc, uint64_t seed, uint64_t first_index,
                          size_t n, int noise, const double *pose, int16_t *counts)
{
    sample_rows(sc, seed, first_index, n, noise, pose, counts, NULL);
}
