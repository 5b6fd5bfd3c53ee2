/* config_task: the description's sections of a configuration: [data] (where
 * samples come from), [plugin] (a plugin's own keys), [target NAME] (unit,
 * scale, weight of an output) and [group NAME] (outputs whose errors add up
 * to a Euclidean error), kept as written: the data source fills in
 * what they leave out (task.c), and the dump writes back only what was given,
 * so a configuration without them resolves as it always did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* A name as the log, eval and the exported header use it: a C identifier. */
static int plain_name(const char *s)
{
    if (!*s || strlen(s) >= ET_CONFIG_NAME_MAX || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* The entry of [kind name], added on its first key. */
static void *entry(et_config *cfg, int is_target, const char *name, long line, char *err, size_t n)
{
    if (is_target) {
        for (int i = 0; i < cfg->n_targets; i++)
            if (!strcmp(cfg->target[i].name, name))
                return &cfg->target[i];
        if (cfg->n_targets == ET_CONFIG_MAX_TARGETS) {
            snprintf(err, n, "more than %d [target] sections", ET_CONFIG_MAX_TARGETS);
            return NULL;
        }
        et_config_target *t = &cfg->target[cfg->n_targets++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", name);
        t->line = line;
        return t;
    }
    for (int i = 0; i < cfg->n_groups; i++)
        if (!strcmp(cfg->group[i].name, name))
            return &cfg->group[i];
    if (cfg->n_groups == ET_CONFIG_MAX_GROUPS) {
        snprintf(err, n, "more than %d [group] sections", ET_CONFIG_MAX_GROUPS);
        return NULL;
    }
    et_config_group *g = &cfg->group[cfg->n_groups++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->line = line;
    return g;
}

/* [data]'s keys and what each takes (checked where the data is opened:
 * files, programs and libraries are only known then). */
static const char *const data_keys[] = {
    "source",  "train",     "valid",  "test",    "inputs",  "targets",      "command",
    "workers", "timeout_s", "plugin", "holdout", "task",    "classes",      "class_weight",
    "class_loss"};

static int set_section(et_config_section *sec, const char *section, const char *key,
                       const char *value, long line, char *err, size_t n)
{
    if (sec->n == ET_CONFIG_MAX_KEYS) {
        snprintf(err, n, "[%s]: more than %d keys", section, ET_CONFIG_MAX_KEYS);
        return -1;
    }
    if (!*value || *value == ';') {
        snprintf(err, n, "[%s] %s: empty value", section, key);
        return -1;
    }
    /* A key the dump writes back must read back as itself: a plain name. */
    if (!plain_name(key)) {
        snprintf(err, n, "[%s]: '%.40s' is not a key name (letters, digits and _)", section, key);
        return -1;
    }
    if (!sec->n)
        sec->line = line;
    sec->keyline[sec->n] = line;
    sec->key[sec->n] = et_strdup(key);
    sec->value[sec->n++] = et_strdup(value);
    return 1;
}

const char *et_config_data(const et_config *cfg, const char *key, const char *def)
{
    for (int i = 0; i < cfg->data.n; i++)
        if (!strcmp(cfg->data.key[i], key))
            return cfg->data.value[i];
    return def;
}

long et_config_data_line(const et_config *cfg, const char *key)
{
    for (int i = 0; i < cfg->data.n; i++)
        if (!strcmp(cfg->data.key[i], key))
            return cfg->data.keyline[i];
    return cfg->data.line;
}

void et_config_task_doc(FILE *out)
{
    static const char *const doc[][2] = {
        {"source = sim", "where samples come from: sim, csv, command or plugin"},
        {"train = (none)", "csv: the training file (a header row names the columns)"},
        {"valid = (none)", "csv: the validation file; else the training file's last rows"},
        {"holdout = (a fifth)", "csv without valid: the training file's last rows that validate"},
        {"test = (none)", "csv: the file eval reads by default"},
        {"inputs = (the other columns)", "csv: the input columns by name"},
        {"targets = (the last column)", "csv: the target columns by name"},
        {"command = (none)", "command: PROGRAM ARGS..., speaking the protocol of source.h"},
        {"workers = 1", "command: programs filling in parallel, 1 to 64"},
        {"timeout_s = 60", "command: silence after which a busy program counts as hung"},
        {"plugin = (none)", "plugin: the shared library (evotrain_sim.h); [plugin] keys go to it"},
        {"task = regress", "regress, or classify: the target is a class label, one score per "
                           "class"},
        {"classes = (the training file's)", "classify: the class names in index order, or their "
                                            "count (2 to 64)"},
        {"class_weight = (1 each)", "classify: one weight per class, or balanced"},
        {"class_loss = xent", "classify: the search's surrogate of the error count: xent, mse "
                              "or hinge"},
    };
    /* In words, not et_config_doc's "(one of: ...)" and "(range ...)": those
     * are the trainer schema's, whose extremes test_badinput tries on the
     * pose configuration; these keys only mean something with their data. */
    for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++)
        fprintf(out, "[data] %s\n    %s\n", doc[i][0], doc[i][1]);
    fputs("[target NAME] unit, scale = 0.01, weight = 1\n    an output of the data: its unit, "
          "the value of one int16 step, its loss weight\n"
          "[group NAME] outputs = NAME ...\n    outputs of one unit whose errors add up to a "
          "Euclidean error\n",
          out);
}

void et_config_task_free(et_config *cfg)
{
    et_config_section *secs[] = {&cfg->data, &cfg->plugin};
    for (size_t s = 0; s < 2; s++)
        for (int i = 0; i < secs[s]->n; i++) {
            free(secs[s]->key[i]);
            free(secs[s]->value[i]);
        }
}

int et_config_task_set(et_config *cfg, const char *section, const char *key, const char *value,
                       long line, char *err, size_t n)
{
    if (!strcmp(section, "plugin"))
        return set_section(&cfg->plugin, section, key, value, line, err, n);
    if (!strcmp(section, "data")) {
        size_t k = 0;
        while (k < sizeof data_keys / sizeof data_keys[0] && strcmp(data_keys[k], key))
            k++;
        if (k == sizeof data_keys / sizeof data_keys[0]) {
            snprintf(err, n,
                     "unknown key '%s' in [data] (keys: source, train, valid, test, holdout, "
                     "inputs, targets, command, workers, timeout_s, plugin, task, classes, "
                     "class_weight, class_loss)",
                     key);
            return -1;
        }
        if (!strcmp(key, "source") && strcmp(value, "sim") && strcmp(value, "csv") &&
            strcmp(value, "command") && strcmp(value, "plugin")) {
            snprintf(err, n, "source: '%s' is not one of: sim csv command plugin", value);
            return -1;
        }
        if (!strcmp(key, "task") && strcmp(value, "regress") && strcmp(value, "classify")) {
            snprintf(err, n, "task: '%s' is not one of: regress classify", value);
            return -1;
        }
        if (!strcmp(key, "class_loss") && strcmp(value, "mse") && strcmp(value, "hinge") &&
            strcmp(value, "xent")) {
            snprintf(err, n, "class_loss: '%s' is not one of: mse hinge xent", value);
            return -1;
        }
        return set_section(&cfg->data, section, key, value, line, err, n);
    }
    int is_target = !strncmp(section, "target ", 7);
    if (!is_target && strncmp(section, "group ", 6))
        return 0;
    const char *name = section + (is_target ? 7 : 6);
    if (!plain_name(name)) {
        snprintf(err, n,
                 "[%s]: '%s' is not a name (letters, digits and _, not starting with a digit, "
                 "at most %d characters)",
                 section, name, ET_CONFIG_NAME_MAX - 1);
        return -1;
    }
    void *e = entry(cfg, is_target, name, line, err, n);
    if (!e)
        return -1;
    if (!is_target) {
        et_config_group *g = e;
        if (strcmp(key, "outputs")) {
            snprintf(err, n, "unknown key '%s' in [%s] (a group has outputs = NAME ...)", key,
                     section);
            return -1;
        }
        if (strlen(value) >= sizeof g->outputs || !*value) {
            snprintf(err, n, "[%s] outputs: give 1 to %d output names", section,
                     ET_CONFIG_MAX_TARGETS);
            return -1;
        }
        snprintf(g->outputs, sizeof g->outputs, "%s", value);
        return 1;
    }
    et_config_target *t = e;
    double d;
    if (!strcmp(key, "unit")) {
        if (strlen(value) >= sizeof t->unit || strpbrk(value, ",\"\n*/;")) {
            snprintf(err, n, "[%s] unit: '%s' is not a unit (at most %d characters, no , \" * / ;)",
                     section, value, (int)sizeof t->unit - 1);
            return -1;
        }
        snprintf(t->unit, sizeof t->unit, "%s", value);
        t->has |= ET_TARGET_UNIT;
    } else if (!strcmp(key, "scale")) {
        if (et_parse_double(value, &d) != 0 || !(d > 0) || d > 1e12) {
            snprintf(err, n,
                     "[%s] scale: '%s' is not a positive number (the value of one output "
                     "step, e.g. 0.01)",
                     section, value);
            return -1;
        }
        t->scale = d;
        t->has |= ET_TARGET_SCALE;
    } else if (!strcmp(key, "weight")) {
        if (et_parse_double(value, &d) != 0 || d < 0 || d > 1e12) {
            snprintf(err, n, "[%s] weight: '%s' is not a number in [0, 1e12]", section, value);
            return -1;
        }
        t->weight = d;
        t->has |= ET_TARGET_WEIGHT;
    } else {
        snprintf(err, n, "unknown key '%s' in [%s] (a target has unit, scale, weight)", key,
                 section);
        return -1;
    }
    return 1;
}

static void fmt_num(char *buf, size_t n, double x, int shortest)
{
    if (shortest)
        et_fmt_double(buf, n, x);
    else
        snprintf(buf, n, "%.17g", x);
}

void et_config_task_dump(const et_config *cfg, FILE *out, int shortest)
{
    char num[40];
    const et_config_section *secs[] = {&cfg->data, &cfg->plugin};
    static const char *const names[] = {"data", "plugin"};
    for (size_t s = 0; s < 2; s++) {
        if (!secs[s]->n)
            continue;
        fprintf(out, "[%s]\n", names[s]);
        for (int i = 0; i < secs[s]->n; i++)
            fprintf(out, "%s = %s\n", secs[s]->key[i], secs[s]->value[i]);
        fputc('\n', out);
    }
    for (int i = 0; i < cfg->n_targets; i++) {
        const et_config_target *t = &cfg->target[i];
        fprintf(out, "[target %s]\n", t->name);
        if (t->has & ET_TARGET_UNIT)
            fprintf(out, "unit = %s\n", t->unit);
        if (t->has & ET_TARGET_SCALE) {
            fmt_num(num, sizeof num, t->scale, shortest);
            fprintf(out, "scale = %s\n", num);
        }
        if (t->has & ET_TARGET_WEIGHT) {
            fmt_num(num, sizeof num, t->weight, shortest);
            fprintf(out, "weight = %s\n", num);
        }
        fputc('\n', out);
    }
    for (int i = 0; i < cfg->n_groups; i++)
        fprintf(out, "[group %s]\noutputs = %s\n\n", cfg->group[i].name, cfg->group[i].outputs);
}
