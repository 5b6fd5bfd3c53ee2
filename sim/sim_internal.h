/* sim_internal: the scenario's layout, shared by sim_config.c and sim.c only. */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim.h"
#include "sim_model.h"

#define SIM_NAME_MAX 32
#define SIM_MAX_KEYS 32     /* >= entries of the schema table in sim_config.c */
#define SIM_MAX_SENSORS 256 /* bound the per-thread scratch of the forward model */
#define SIM_MAX_READINGS (3 * SIM_MAX_SENSORS)

struct sim_params {
    int n;
    double v[SIM_MAX_PARAM];
};

/* A [magnet NAME] section; the [magnets] section is one of these holding the
 * defaults. set[] marks keys given in the file, line[] where. */
struct sim_magnet {
    char name[SIM_NAME_MAX];
    const struct sim_model *model;
    double center[3], dim[3], J[3], rot[3];
    struct sim_params param;
    unsigned char set[SIM_MAX_KEYS];
    long line[SIM_MAX_KEYS];
    long first_line;
    /* derived by sim_config_finish */
    struct sim_magnet_geom geom;
    double Rm[9]; /* magnet -> object */
    int rotated;
};

/* A [sensor NAME] section; [sensors] holds the defaults. */
struct sim_sensor {
    char name[SIM_NAME_MAX];
    double pos[3], rot[3], gain[3], offset[3];
    double noise, lsb;
    int clamp[2];
    char axes[4];
    unsigned char set[SIM_MAX_KEYS];
    long line[SIM_MAX_KEYS];
    long first_line;
};

/* Everything one reading needs, flattened for the inner loop. */
struct sim_reading {
    double u[3]; /* the measured axis, a unit vector in world coordinates */
    int axis;    /* 0, 1, 2 when u is exactly that world axis (no rotation), else -1 */
    double gain, offset, sigma, lsb, inv_lsb;
    int lo, hi;
    size_t sensor;
    char name[SIM_NAME_MAX + 4];
};

struct sim_scenario {
    double box[SIM_POSE_DIM][2];
    double background[3];
    unsigned char set[SIM_MAX_KEYS];
    long line[SIM_MAX_KEYS];
    struct sim_magnet mag_default;
    struct sim_sensor sen_default;
    struct sim_magnet *mag;
    size_t n_mag, cap_mag;
    struct sim_sensor *sen;
    size_t n_sen, cap_sen;
    /* derived by sim_config_finish */
    int finished;
    struct sim_reading *rd;
    size_t n_rd;
};

#endif
