/* sim_plugin: the built-in magnet simulator behind the plugin interface of
 * include/evotrain_sim.h, so that evotrain reaches it exactly as it reaches a
 * user's plugin (the interface is proven by real use).
 *
 * Configuration keys given to create():
 *   scenario = FILE   an INI file holding the scenario's sections ([pose],
 *                     [field], [magnet NAME], [sensor NAME], [magnets],
 *                     [sensors]); other sections are skipped, so an evotrain
 *                     configuration file may be named. Absent: the default
 *                     pose scenario (sim_default_scenario_ini).
 *   noise = 1 | 0     sensor noise on (default) or off.
 * Inputs: the readings in scenario order (sim_reading_name, unit "counts").
 * Outputs: the pose, x_mm y_mm z_mm (unit "mm"), roll_deg pitch_deg yaw_deg
 * (unit "deg"). fill(seed, first, n) is sim_sample(sc, seed, first, n,
 * noise): the same bits. */
#ifndef SIM_PLUGIN_H
#define SIM_PLUGIN_H

#include "evotrain_sim.h"

/* The magnet simulator's table (static; the same pointer on every call). */
const evotrain_sim_api *sim_plugin_magnet(void);

#endif
