/* sim_model: the table of magnet field models, one entry per model.
 *
 * A model is a field function plus a check of its parameters. To add one (a
 * cylinder, a coil, your own physics), write sim/<model>.c with a function of
 * type sim_field_fn and add one line to sim_models[] in sim/models.c; the
 * config reader, the forward model and the docs pick it up from the table. */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include <stddef.h>

#define SIM_MAX_PARAM 8

/* A magnet in its own frame: centred at the origin, edges along the axes. */
struct sim_magnet_geom {
    double dim[3];               /* mm, each > 0 (the body's extent; models may use it freely) */
    double J[3];                 /* polarization, T */
    double param[SIM_MAX_PARAM]; /* model-specific extras (`param = ...`), 0 unless set */
    int n_param;
};

/* B at point p (mm, magnet frame) in the unit of J (T). Must return finite
 * values for every finite p, including points inside or on the magnet. */
typedef void (*sim_field_fn)(const struct sim_magnet_geom *g, const double p[3], double B[3]);

/* Optional, for speed: the field at n points x[i], y[i], z[i] into Bx[i],
 * By[i], Bz[i], with the same values as n calls of the sim_field_fn. Worth it
 * for models so cheap that the loop vectorizes (the dipole). */
typedef void (*sim_field_n_fn)(const struct sim_magnet_geom *g, size_t n, const double *x,
                               const double *y, const double *z, double *Bx, double *By,
                               double *Bz);

/* 0 if g is usable by the model, else -1 with a one-line message in err. */
typedef int (*sim_check_fn)(const struct sim_magnet_geom *g, char *err, size_t errlen);

struct sim_model {
    const char *name;
    sim_field_fn field;
    sim_field_n_fn field_n; /* NULL: field is called per point */
    sim_check_fn check;     /* NULL: no constraint beyond dim > 0 */
    /* 1 if rotating the magnet only rotates J as far as the field is concerned
     * (the dipole: the box enters only through its volume). The forward model
     * then calls field with J and p in world axes, saving two rotations per
     * sensor. 0 for anything with a shape (the cuboid). */
    int isotropic;
    const char *doc;
};

extern const struct sim_model sim_models[];
extern const size_t sim_n_models;

/* NULL when no model has that name. */
const struct sim_model *sim_model_find(const char *name);

/* The built-in models. */
void sim_field_cuboid(const struct sim_magnet_geom *g, const double p[3], double B[3]);
void sim_field_dipole(const struct sim_magnet_geom *g, const double p[3], double B[3]);
void sim_field_dipole_n(const struct sim_magnet_geom *g, size_t n, const double *x, const double *y,
                        const double *z, double *Bx, double *By, double *Bz);

#endif
