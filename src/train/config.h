/* config: the INI file -> one resolved configuration (trainer keys + scenario).
 *
 * Trainer sections ([run], [network], [train]) are described by one
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

#define ET_CONFIG_NAME_MAX 32
#define ET_CONFIG_MAX_TARGETS 64
#define ET_CONFIG_MAX_GROUPS 4
enum { ET_TARGET_UNIT = 1, ET_TARGET_SCALE = 2, ET_TARGET_WEIGHT = 4 };

/* [target NAME] as written: what has says was given (config_task.c). */
typedef struct et_config_target {
    char name[ET_CONFIG_NAME_MAX], unit[ET_CONFIG_NAME_MAX];
    double scale, weight;
    int has;
    long line;
} et_config_target;

/* [group NAME]: outputs = the names of its outputs, space-separated. */
typedef struct et_config_group {
    char name[ET_CONFIG_NAME_MAX], outputs[512];
    long line;
} et_config_group;

#define ET_CONFIG_MAX_KEYS 32

/* [data] (where samples come from) and [plugin] (the plugin's own keys),
 * as written: key[i] = value[i] in file order (config_task.c checks them). */
typedef struct et_config_section {
    int n;
    char *key[ET_CONFIG_MAX_KEYS], *value[ET_CONFIG_MAX_KEYS];
    long keyline[ET_CONFIG_MAX_KEYS]; /* the line of each key */
    long line;
} et_config_section;

typedef struct et_config {
    char *path; /* the file it came from */
    /* [run] */
    char *name;
    uint64_t seed;
    int threads;
    /* [network] */
    int n_hidden_layers;
    int hidden[ET_MAX_HIDDEN];
    int wfmt[EVONET_MAX_LAYERS]; /* weight_bits: EVONET_W8 ... EVONET_WT */
    int n_wfmt;                  /* 1 (every layer) or the layer count */
    long wfmt_line;              /* where weight_bits was given, 0 if not */
    int per_channel;             /* 1: requantization per output channel, 0: per layer */
    int scale_search;            /* 0 calibrated, 1 searched per layer, 2 per channel */
    /* [train]: see the schema table in config.c */
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
    /* The description's sections, as written (see task.h) */
    int n_targets, n_groups;
    et_config_target target[ET_CONFIG_MAX_TARGETS];
    et_config_group group[ET_CONFIG_MAX_GROUPS];
    et_config_section data, plugin;
    long sim_line; /* first line of a simulator section, 0 if none */
    struct sim_scenario *sim;
    /* Where each key and section header was written, for messages about
     * what is checked after loading (et_config_line). */
    struct et_config_where *where;
    int n_where;
} et_config;

/* 0 ok; -1 on any error (already reported). cfg is valid to free either way. */
int et_config_load(const char *path, et_config *cfg);
void et_config_free(et_config *cfg);
/* Layer l's weight format (EVONET_W8 ... EVONET_WT) from weight_bits. */
int et_config_wfmt(const et_config *cfg, unsigned l);
/* [target NAME] and [group NAME] (config_task.c): 1 if section is one of
 * them and the key was taken, 0 if the section is not theirs, -1 with a
 * message in err. The dump writes them back as given. */
int et_config_task_set(et_config *cfg, const char *section, const char *key, const char *value,
                       long line, char *err, size_t n);
void et_config_task_dump(const et_config *cfg, FILE *out, int shortest);
void et_config_task_free(et_config *cfg);
/* [data], [plugin], [target NAME] and [group NAME] in et_config_doc's form. */
void et_config_task_doc(FILE *out);
/* The value of [data] key, or def when it is not given. */
const char *et_config_data(const et_config *cfg, const char *key, const char *def);
/* The line of [data] key, or the section's first line when it is not given. */
long et_config_data_line(const et_config *cfg, const char *key);

/* The line of [section] key in the file, or with key NULL the line of the
 * section's first header; 0 when it is not there. */
long et_config_line(const et_config *cfg, const char *section, const char *key);

/* The resolved configuration as an INI file that et_config_load accepts:
 * for people (the run's config.ini, `config --dump`) with each number in its
 * shortest form that reads back exactly (0.45); et_config_dump with %.17g
 * (0.45000000000000001), the text the checkpoint has always held and that
 * resume compares as text, so checkpoints keep their bytes. Either reads
 * back to the same configuration. */
void et_config_print(const et_config *cfg, FILE *out);
void et_config_dump(const et_config *cfg, FILE *out);
/* 1 if line ("key = value", as et_config_dump writes it) gives a trainer key
 * its default value: what a configuration written before the key existed
 * means. */
int et_config_default_line(const char *line);
/* 1 if key (len bytes, not terminated) is one a resume may change: the
 * budget, the polish after it, the thread count. */
int et_config_is_budget_key(const char *key, size_t len);

/* How the configuration text b differs from a, the run's (both as
 * et_config_dump writes them), key by key: 0 when they agree but for budget
 * keys (a resume may change those); ET_CONFIG_KEY_DIFFERS when a key that
 * both have differs (what = "[section] key"); with strict,
 * ET_CONFIG_SHAPE_DIFFERS when a key is on one side only, except a key new
 * since a was written that b has at its default or is a budget key (what a
 * run written before the key existed meant). Not strict, keys on one side
 * only do not count. The one comparison of resume, export and eval. */
enum { ET_CONFIG_SAME = 0, ET_CONFIG_KEY_DIFFERS = 1, ET_CONFIG_SHAPE_DIFFERS = 2 };
int et_config_diff(const char *a, const char *b, int strict, char *what, size_t n);
/* Every key with its default, range and one line of documentation. */
void et_config_doc(FILE *out);

#endif
