/* default_scenario: the "pose" scenario built in, for the benchmark and for
 * programs without a config file. It must describe the same scenario as the
 * scenario sections of configs/pose.ini (a test compares the two). */
#include "sim.h"

const char sim_default_scenario_ini[] =
    "[pose]\n"
    "x_mm = -5 5\ny_mm = -5 5\nz_mm = -5 5\n"
    "roll_deg = -20 20\npitch_deg = -20 20\nyaw_deg = -20 20\n"
    "[field]\nbackground_mT = 0 0 0\n"
    "[magnets]\nmodel = cuboid\n"
    "[magnet A]\ncenter_mm = 6 0 0\ndim_mm = 6 6 3\npolarization_T = 0 0 1.2\n"
    "[magnet B]\ncenter_mm = -6 0 0\ndim_mm = 6 3 3\npolarization_T = 1.2 0 0\n"
    "[sensors]\naxes = xyz\ngain = 1\noffset_mT = 0\nnoise_mT = 0.1\nlsb_mT = 0.098\n"
    "clamp = -2048 2047\n"
    "[sensor 0]\nposition_mm = 16 0 -12\n"
    "[sensor 1]\nposition_mm = 8 13.856406460551018 -12\n"
    "[sensor 2]\nposition_mm = -8 13.856406460551018 -12\n"
    "[sensor 3]\nposition_mm = -16 0 -12\n"
    "[sensor 4]\nposition_mm = -8 -13.856406460551018 -12\n"
    "[sensor 5]\nposition_mm = 8 -13.856406460551018 -12\n";
