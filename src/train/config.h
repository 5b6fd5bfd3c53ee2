/* config: the INI file -> one resolved configuration (trainer keys + scenario).
 *
 * Trainer sections ([run], [network], [train], [optimizer]) are described by one
 * schema table in config.c; every other section is offered to the simulator
 * (sim_config_set), which owns the scenario's sections. A key nobody claims is
 * an error. Errors are reported as "evotrain: FILE:LINE: message". */
#ifndef ET_CONFIG_H
#define ET_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "evonet.h"

struct sim_scenario;

/* [network] hidden: the kernel's limit counts weight layers, and the output
 * layer is one of them, so one fewer hidden layer fits. */
#define ET_MAX_HIDDEN (EVONET_MAX_LAYERS - 1)
#define ET_MAX_STARTS 16 /* [train] starts; a halving sends the kept set as bits of an int */

typedef struct et_config {
    char *path; /* the file it came from */
    /* [run] */
    char *name;
    uint64_t seed;
    int threads;
    /* [network] */
    int n_hidden_layers;
    int hidden[ET_MAX_HIDDEN];
    int weight_bits;
    int per_channel;  /* 1: requantization per output channel, 0: per layer */
    int scale_search; /* 0 calibrated, 1 searched per layer, 2 per channel */
    /* [train], [optimizer]: see the schema table in config.c */
    char *algo;
    int lambda;
    double sigma0;
    double step_floor;
    double step_floor_end;
    long floor_generations;
    double margin;
    int starts;
    long halving_generations;
    double mean_lr;
    double bias_step;
    double init_weight_sd;
    char *init;
    int refit_size;
    int ridge_output;
    double ridge_alpha;
    int minibatch;
    int pool_size;
    int valid_size;
    double time_limit_s;
    long max_generations;
    long max_evals;
    int polish_sweeps;
    double polish_s;
    int checkpoint_every;
    int valid_every;
    double rot_weight;
    double rot_axis_weight[3]; /* roll, pitch, yaw: factors on rot_weight */
    struct sim_scenario *sim;
} et_config;

/* 0 ok; -1 on any error (already reported). cfg is valid to free either way. */
int et_config_load(const char *path, et_config *cfg);
void et_config_free(et_config *cfg);
/* The resolved configuration as an INI file that et_config_load accepts. */
void et_config_dump(const et_config *cfg, FILE *out);
/* 1 if line ("key = value", as et_config_dump writes it) gives a trainer key
 * its default value: what a configuration written before the key existed
 * means. */
int et_config_default_line(const char *line);
/* 1 if key (len bytes, not terminated) is one a resume may change: the
 * budget, the polish after it, the thread count. */
int et_config_is_budget_key(const char *key, size_t len);
/* Every key with its default, range and one line of documentation. */
void et_config_doc(FILE *out);

#endif
