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

void sim_forward_field(const struct sim_scenario *sc, const double pose[SIM_POSE_DIM], double *B_mT)
{
    double R[9];
    sim_rotation(pose[3], pose[4], pose[5], R);
    /* Field per sensor in world coordinates, T; a few sensors, so on the stack. */
    double Bs[3 * 64];
    size_t done = 0;
    while (done < sc->n_sen) {
        size_t chunk = sc->n_sen - done < 64 ? sc->n_sen - done : 64;
        memset(Bs, 0, 3 * chunk * sizeof(double));
        for (size_t j = 0; j < sc->n_mag; j++) {
            const struct sim_magnet *m = &sc->mag[j];
            double Rw[9], cw[3];
            magnet_in_world(m, R, pose, Rw, cw);
            for (size_t i = 0; i < chunk; i++) {
                double p[3], Bl[3];
                to_magnet(Rw, cw, sc->sen[done + i].pos, p);
                m->model->field(&m->geom, p, Bl);
                for (int a = 0; a < 3; a++)
                    Bs[3 * i + a] +=
                        Rw[3 * a] * Bl[0] + Rw[3 * a + 1] * Bl[1] + Rw[3 * a + 2] * Bl[2];
            }
        }
        for (size_t r = 0; r < sc->n_rd; r++) {
            const struct sim_reading *rd = &sc->rd[r];
            if (rd->sensor < done || rd->sensor >= done + chunk)
                continue;
            const double *b = &Bs[3 * (rd->sensor - done)];
            double v = 0;
            for (int a = 0; a < 3; a++)
                v += rd->u[a] * (1e3 * b[a] + sc->background[a]);
            B_mT[r] = v;
        }
        done += chunk;
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

int16_t sim_adc(double v_mT, double lsb_mT, int lo, int hi)
{
    double q = round(v_mT / lsb_mT);
    if (!(q >= lo)) /* also catches NaN */
        return (int16_t)lo;
    if (q > hi)
        return (int16_t)hi;
    return (int16_t)q;
}

void sim_counts_from_field(const struct sim_scenario *sc, const double *B_mT, gsl_rng *rng,
                           int16_t *counts)
{
    for (size_t r = 0; r < sc->n_rd; r++) {
        const struct sim_reading *rd = &sc->rd[r];
        double v = rd->gain * B_mT[r] + rd->offset;
        /* One draw per reading even at sigma 0, so that changing one sensor's
         * noise does not shift every other reading's stream. */
        if (rng)
            v += rd->sigma * gsl_ran_gaussian_ziggurat(rng, 1.0);
        counts[r] = sim_adc(v, rd->lsb, rd->lo, rd->hi);
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
