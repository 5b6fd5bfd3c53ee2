/* models: the magnet model table (see sim_model.h for how to add one). */
#include "sim_model.h"

#include <string.h>

const struct sim_model sim_models[] = {
    {"cuboid", sim_field_cuboid, NULL, NULL, 0,
     "homogeneous cuboid, analytical field inside and outside (as magpylib)"},
    {"dipole", sim_field_dipole, sim_field_dipole_n, NULL, 1,
     "point dipole at the centre, moment J*V/mu0 with V the cuboid's volume"},
};

const size_t sim_n_models = sizeof sim_models / sizeof sim_models[0];

const struct sim_model *sim_model_find(const char *name)
{
    for (size_t i = 0; i < sim_n_models; i++)
        if (!strcmp(sim_models[i].name, name))
            return &sim_models[i];
    return NULL;
}
