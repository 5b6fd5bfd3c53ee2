/* task: what the network computes, as a description rather than code: its N
 * int16 inputs and M outputs, each output with a name, a unit, a scale (the
 * physical value of one int16 output step) and a loss weight, and named
 * groups of outputs whose errors add up to a Euclidean error.
 *
 * The data source says what its inputs and outputs are (names and units);
 * the configuration's [target NAME] sections set an output's unit, scale and
 * weight, and [group NAME] sections name groups (outputs = x y z). The pose
 * scenario is one instance: x, y, z in mm and roll, pitch, yaw in degrees,
 * all in 0.01 steps, weighted 1 per mm^2 and rot_weight * rot_axis_weight
 * per deg^2, with the group "trans" over x, y, z. */
#ifndef ET_TASK_H
#define ET_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "fitness.h"
#include "rundata.h"

#define ET_MAX_INPUTS 255
#define ET_NAME_MAX 32

typedef struct et_target {
    char name[ET_NAME_MAX], unit[ET_NAME_MAX];
    double scale;  /* physical value of one output step, > 0 */
    double weight; /* loss weight per squared unit, >= 0 */
} et_target;

typedef struct et_tgroup {
    char name[ET_NAME_MAX], unit[ET_NAME_MAX];
    char title[ET_NAME_MAX]; /* in tables: the name, or "translation" for the pose's "trans" */
    uint64_t mask;           /* bit k: output k */
} et_tgroup;

typedef struct et_task {
    char source[16]; /* where the samples come from: sim (the built-in magnet simulator), csv,
                      * command, plugin */
    unsigned n_in, n_out, n_groups;
    char in_name[ET_MAX_INPUTS][ET_NAME_MAX];
    char in_unit[ET_MAX_INPUTS][ET_NAME_MAX];
    et_target out[ET_MAX_OUTPUTS];
    et_tgroup group[ET_MAX_GROUPS];
    /* The same, as the fitness takes them (et_task_loss). */
    double weight[ET_MAX_OUTPUTS], inv_scale[ET_MAX_OUTPUTS];
    uint64_t mask[ET_MAX_GROUPS];
    /* A classification ([data] task = classify): output k is the score of
     * class k (in 1/ET_CLASS_ONE steps; the one-hot target is 1), the data's
     * one target its label, an index below n_out; the firmware picks the
     * largest score. class_weight[k] weighs class k's samples in the search's
     * loss and the choice of network (balanced: n / (K n_k) of the pool, set
     * by et_task_class_weights). */
    int classify;
    int class_loss; /* ET_CLASS_LOSS_* */
    int balanced;   /* class_weight = balanced */
    char class_name[ET_MAX_OUTPUTS][64];
    double class_weight[ET_MAX_OUTPUTS];
} et_task;

/* The score of a class's one-hot target, in output steps: 1.0 is 1024 steps,
 * so scores keep ten bits below 1 and reach 32 times above it. */
#define ET_CLASS_ONE 1024

/* The task of cfg: the description of its data source d (NULL or a
 * simulator source: the pose), then the configuration's [target] and
 * [group] sections over it. 0, or -1 reported with the file and line of
 * the section at fault. */
int et_task_from_config(const et_config *cfg, const et_rundata *d, et_task *t);

/* 0 if every target of rows (row-major, n_out each) fits the int16 steps of
 * its output, else -1 reported against what, with a scale that fits;
 * _at reports it at line[k] of the output k at fault (line NULL: none). */
int et_task_check_range(const et_task *t, const double *T, size_t rows, const char *what);
int et_task_check_range_at(const et_task *t, const double *T, size_t rows, const char *what,
                           const long *line);

/* The loss the fitness computes for t (pointers into t). */
et_loss_spec et_task_loss(const et_task *t);

/* log.csv's error columns (",valid_trans_mm,valid_x_mm,...": groups, then
 * outputs) and one row's values (%.4f). */
void et_task_log_columns(const et_task *t, FILE *out);
void et_task_log_values(const et_task *t, const double *rmse, const double *group, FILE *out);

/* Errors as people read them: each group ("0.800 mm"), then the other
 * outputs, a run of one unit at a time ("3.48/2.05/2.79 deg"), joined by
 * sep. Into buf (n bytes), truncated if need be. et_task_errors_named puts
 * each figure's name before it ("trans 0.800 mm", "roll/pitch/yaw
 * 3.48/2.05/2.79 deg"), for the progress line and the run's last words. */
void et_task_errors_text(const et_task *t, const double *rmse, const double *group, const char *sep,
                         char *buf, size_t n);
void et_task_errors_named(const et_task *t, const double *rmse, const double *group,
                          const char *sep, char *buf, size_t n);

/* A classification's labels (rows of them, one per row in T) checked to be
 * class indices; for the pool (pool 1) also that every class has samples.
 * 0, or -1 reported against what. */
int et_task_check_labels(const et_task *t, const double *T, size_t rows, const char *what, int pool);

/* class_weight = balanced: n / (K n_k) from the pool's one-hot targets
 * (T[k * n + s], as et_samples holds them). */
void et_task_class_weights(et_task *t, const int32_t *T, size_t n);

/* Index of output name, or -1. */
int et_task_output(const et_task *t, const char *name);

#endif
