/* sim: the forward sensor simulator, pose -> magnetic field -> ADC counts.
 *
 * Self-contained (libc, GSL and include/et_rng.h only), so it can be lifted into
 * another program. A scenario (magnets on a moving object, sensors fixed in the
 * world, the pose box) is built from INI (section, key, value) triples by
 * sim_config_set and sealed by sim_config_finish; after that it is read-only and
 * may be shared by any number of threads.
 *
 * Conventions (../shared/scenario-pose.md): lengths in mm, angles in degrees,
 * fields in mT, polarization in T. A pose is {x, y, z, roll, pitch, yaw}; the
 * object -> world rotation is R = Rz(yaw) Ry(pitch) Rx(roll), and an object
 * point p sits at R p + t in the world. */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

struct sim_scenario;

enum { SIM_POSE_DIM = 6 };

/* ---- building a scenario from configuration ---------------------------- */

/* An empty scenario (no magnets, no sensors, the default pose box). NULL only
 * when out of memory. */
struct sim_scenario *sim_scenario_alloc(void);
void sim_scenario_free(struct sim_scenario *sc);

/* Offer one INI entry. Returns 1 when handled, 0 when the section or key is not
 * the simulator's (the caller reports it), -1 for a bad value, with a one-line
 * message (no file or line prefix) in err. line is remembered for messages of
 * sim_config_finish. Keys may come in any order; a key given twice keeps the
 * last value. */
int sim_config_set(struct sim_scenario *sc, const char *section, const char *key, const char *value,
                   long line, char *err, size_t errlen);

/* After the whole file: check what needs the whole picture (required keys, at
 * least one sensor, ...) and precompute. 0 ok; -1 with a message in err and
 * *err_line the most relevant line (0 if none). Call exactly once. */
int sim_config_finish(struct sim_scenario *sc, char *err, size_t errlen, long *err_line);

/* The scenario's sections as INI text that re-parses to the same scenario,
 * numbers as %.17g (the text the scenario's identity is hashed from). */
void sim_config_dump(const struct sim_scenario *sc, FILE *out);
/* The same, with shortest set each number in its shortest form that reads
 * back exactly (0.45 where the dump has 0.45000000000000001). */
void sim_config_print(const struct sim_scenario *sc, FILE *out, int shortest);

/* One line per key: section, key, type, default, range, description. */
void sim_config_doc(FILE *out);

/* The default "pose" scenario as INI text (the scenario sections of
 * configs/pose.ini), for the benchmark and for tests. */
extern const char sim_default_scenario_ini[];

/* ---- what a finished scenario looks like --------------------------------- */

size_t sim_n_readings(const struct sim_scenario *sc); /* sum of sensor axes */
size_t sim_n_sensors(const struct sim_scenario *sc);
size_t sim_n_magnets(const struct sim_scenario *sc);

/* Column name of reading i, e.g. "s0_x" for axis x of [sensor 0]. */
const char *sim_reading_name(const struct sim_scenario *sc, size_t i);

/* The conversion of reading i (< sim_n_readings): counts =
 * clamp(round((gain * B + offset + noise) / lsb), lo, hi), B in mT. */
void sim_reading_adc(const struct sim_scenario *sc, size_t i, double *gain, double *offset_mT,
                     double *lsb_mT, int *lo, int *hi);

/* Names of the pose components, "x_mm", ..., "yaw_deg". */
extern const char *const sim_pose_names[SIM_POSE_DIM];

/* The pose box: component i is drawn uniformly from [lo[i], hi[i]]. lo == hi is
 * allowed (a component held fixed), so a width used to scale outputs may be 0. */
void sim_pose_box(const struct sim_scenario *sc, double lo[SIM_POSE_DIM], double hi[SIM_POSE_DIM]);

/* ---- the forward model ----------------------------------------------------- */

/* R = Rz(yaw) Ry(pitch) Rx(roll) from degrees, row-major. */
void sim_rotation(double roll_deg, double pitch_deg, double yaw_deg, double R[9]);

/* Noise-free field (mT) seen by every reading for a pose: the component along
 * the reading's axis of the sum of all magnets' fields plus the background.
 * No gain or offset (that is the sensor's doing, in sim_counts_from_field). */
void sim_forward_field(const struct sim_scenario *sc, const double pose[SIM_POSE_DIM],
                       double *B_mT);

/* 0 if no sensor lies inside or on a magnet's box at this pose; -1 otherwise,
 * with a message naming both (the field there is a convention, not physics). */
int sim_pose_check(const struct sim_scenario *sc, const double pose[SIM_POSE_DIM], char *err,
                   size_t errlen);

/* One ADC conversion: clamp(round(v / lsb), lo, hi) with round() half away
 * from zero; NaN converts to lo. */
int16_t sim_adc(double v_mT, double lsb_mT, int lo, int hi);

/* Counts of every reading: adc(gain * B + offset + noise), noise ~ N(0,
 * sigma) drawn from rng in reading order (rng NULL: no noise). */
void sim_counts_from_field(const struct sim_scenario *sc, const double *B_mT, gsl_rng *rng,
                           int16_t *counts);

/* ---- sampling ---------------------------------------------------------------- */

/* Pose of sample `index`: uniform in the box from the stream
 * (seed, ET_STREAM_POSE, index). */
void sim_sample_pose(const struct sim_scenario *sc, uint64_t seed, uint64_t index,
                     double pose[SIM_POSE_DIM]);

/* Samples first_index .. first_index + n - 1, in parallel with OpenMP when n is
 * large enough. Row r of counts (n x sim_n_readings) and pose (n x 6; either
 * may be NULL) depends only on (seed, first_index + r): the pose stream as in
 * sim_sample_pose, the noise from (seed, ET_STREAM_NOISE, index); so the
 * result is bit-identical for any thread count and any batching. noise = 0
 * gives noise-free counts. */
void sim_sample(const struct sim_scenario *sc, uint64_t seed, uint64_t first_index, size_t n,
                int noise, int16_t *counts, double *pose);

/* Counts for given poses (n x 6), noise keyed by (seed, ET_STREAM_NOISE,
 * first_index + r) exactly as sim_sample does. */
void sim_counts_for_poses(const struct sim_scenario *sc, uint64_t seed, uint64_t first_index,
                          size_t n, int noise, const double *pose, int16_t *counts);

#endif
