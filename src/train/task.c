/* task: a configuration -> the description of what its network computes. */
#include "task.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "util.h"

/* The built-in simulator's description: the pose in 0.01 mm and 0.01 deg,
 * weighted as the pose scenario always was (rot_weight, rot_axis_weight). */
static void sim_task(const et_config *cfg, et_task *t)
{
    static const char *const names[SIM_POSE_DIM] = {"x", "y", "z", "roll", "pitch", "yaw"};
    static const char *const units[SIM_POSE_DIM] = {"mm", "mm", "mm", "deg", "deg", "deg"};
    snprintf(t->source, sizeof t->source, "sim");
    t->n_in = (unsigned)sim_n_readings(cfg->sim);
    for (unsigned i = 0; i < t->n_in && i < ET_MAX_INPUTS; i++) {
        snprintf(t->in_name[i], ET_NAME_MAX, "%s", sim_reading_name(cfg->sim, i));
        snprintf(t->in_unit[i], ET_NAME_MAX, "count");
    }
    t->n_out = SIM_POSE_DIM;
    for (unsigned k = 0; k < SIM_POSE_DIM; k++) {
        et_target *o = &t->out[k];
        snprintf(o->name, ET_NAME_MAX, "%s", names[k]);
        snprintf(o->unit, ET_NAME_MAX, "%s", units[k]);
        o->scale = 0.01;
        o->weight = k < 3 ? 1.0 : cfg->rot_weight * cfg->rot_axis_weight[k - 3];
    }
    t->n_groups = 1;
    snprintf(t->group[0].name, ET_NAME_MAX, "trans");
    snprintf(t->group[0].title, ET_NAME_MAX, "translation");
    snprintf(t->group[0].unit, ET_NAME_MAX, "mm");
    t->group[0].mask = 7;
}

int et_task_output(const et_task *t, const char *name)
{
    for (unsigned k = 0; k < t->n_out; k++)
        if (!strcmp(t->out[k].name, name))
            return (int)k;
    return -1;
}

/* [group NAME] outputs = ...: names of outputs of one unit and scale. */
static int add_group(const et_config *cfg, const et_config_group *cg, et_task *t)
{
    et_tgroup *g = NULL;
    for (unsigned i = 0; i < t->n_groups; i++)
        if (!strcmp(t->group[i].name, cg->name))
            g = &t->group[i];
    if (!g) {
        if (t->n_groups == ET_MAX_GROUPS) {
            et_error(cfg->path, cg->line, "[group %s]: more than %d groups", cg->name,
                     ET_MAX_GROUPS);
            return -1;
        }
        g = &t->group[t->n_groups++];
        snprintf(g->name, ET_NAME_MAX, "%s", cg->name);
        snprintf(g->title, ET_NAME_MAX, "%s", cg->name);
    }
    g->mask = 0;
    char list[sizeof cg->outputs];
    snprintf(list, sizeof list, "%s", cg->outputs);
    int first = -1;
    char *save = NULL;
    for (char *w = strtok_r(list, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
        int k = et_task_output(t, w);
        if (k < 0) {
            et_error(cfg->path, cg->line, "[group %s]: no output named '%s'", cg->name, w);
            return -1;
        }
        if (first >= 0 && strcmp(t->out[k].unit, t->out[first].unit)) {
            et_error(cfg->path, cg->line,
                     "[group %s]: %s (%s) and %s (%s) differ: a group's outputs share one unit",
                     cg->name, t->out[first].name, t->out[first].unit, t->out[k].name,
                     t->out[k].unit);
            return -1;
        }
        first = first < 0 ? k : first;
        g->mask |= UINT64_C(1) << k;
    }
    snprintf(g->unit, ET_NAME_MAX, "%s", t->out[first].unit);
    return 0;
}

/* A source's description: its names and units, each output in 0.01 steps
 * weighted 1 (a [target] says otherwise), no groups. */
static int source_task(const et_rundata *d, et_task *t)
{
    static const char *const kinds[] = {"sim", "csv", "command", "plugin"};
    snprintf(t->source, sizeof t->source, "%s", kinds[d->kind]);
    t->n_in = (unsigned)et_source_n_inputs(d->src);
    t->n_out = (unsigned)et_source_n_targets(d->src);
    if (t->n_in < 1 || t->n_in > ET_MAX_INPUTS || t->n_out < 1 || t->n_out > ET_MAX_OUTPUTS) {
        et_error(d->cfg->path, d->cfg->data.line,
                 "the data has %u inputs and %u outputs: a network takes 1 to %d inputs and 1 to "
                 "%d outputs",
                 t->n_in, t->n_out, ET_MAX_INPUTS, ET_MAX_OUTPUTS);
        return -1;
    }
    for (unsigned i = 0; i < t->n_in; i++) {
        const et_source_var *v = et_source_input(d->src, i);
        snprintf(t->in_name[i], ET_NAME_MAX, "%s", v->name);
        snprintf(t->in_unit[i], ET_NAME_MAX, "%s", v->unit);
    }
    for (unsigned k = 0; k < t->n_out; k++) {
        const et_source_var *v = et_source_target(d->src, k);
        snprintf(t->out[k].name, ET_NAME_MAX, "%s", v->name);
        snprintf(t->out[k].unit, ET_NAME_MAX, "%s", v->unit);
        t->out[k].scale = 0.01;
        t->out[k].weight = 1;
    }
    return 0;
}

int et_task_check_range(const et_task *t, const double *T, size_t rows, const char *what)
{
    return et_task_check_range_at(t, T, rows, what, NULL);
}

int et_task_check_range_at(const et_task *t, const double *T, size_t rows, const char *what,
                           const long *line)
{
    for (unsigned k = 0; k < t->n_out; k++) {
        double m = 0;
        for (size_t r = 0; r < rows; r++) {
            double a = T[r * t->n_out + k] < 0 ? -T[r * t->n_out + k] : T[r * t->n_out + k];
            m = a > m ? a : m;
        }
        if (m * t->inv_scale[k] > 32767) {
            /* The smallest 1-2-5 step that holds m in int16 with room. */
            static const double mult[] = {1, 2, 5, 10};
            double p = pow(10, floor(log10(m / 30000))), step = 10 * p;
            for (int i = 3; i >= 0; i--)
                if (m / (mult[i] * p) <= 30000)
                    step = mult[i] * p;
            et_error(what, line ? line[k] : 0,
                     "output %s reaches %g %s, beyond int16 steps of %g (32767 x %g): set "
                     "[target %s] scale = %g or more",
                     t->out[k].name, m, t->out[k].unit, t->out[k].scale, t->out[k].scale,
                     t->out[k].name, step);
            return -1;
        }
    }
    return 0;
}

/* A class name as an output name (log columns, C identifiers): other
 * characters become _, and a leading digit gets a c before it. */
static void class_ident(const char *name, char *out, size_t n)
{
    size_t o = 0;
    if (*name >= '0' && *name <= '9')
        out[o++] = 'c';
    for (; *name && o + 1 < n; name++) {
        char c = *name;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[o++] = ok ? c : '_';
    }
    out[o] = '\0';
}

/* [data] task = classify: one output per class; the classes are a labelled
 * CSV's or [data] classes (a program or a plugin gives indices). */
static int classify_task(const et_config *cfg, const et_rundata *d, et_task *t)
{
    long line = et_config_data_line(cfg, "task");
    if (!d || d->kind == ET_DATA_SIM) {
        et_error(cfg->path, line,
                 "[data] task = classify needs a data source whose target is a class label "
                 "(source = csv, command or plugin); the built-in simulator gives a pose");
        return -1;
    }
    if (cfg->n_targets || cfg->n_groups) {
        et_error(cfg->path, cfg->n_targets ? cfg->target[0].line : cfg->group[0].line,
                 "a classification has no [target] or [group] sections (its outputs are the "
                 "classes; weigh them with [data] class_weight)");
        return -1;
    }
    if (et_source_n_targets(d->src) != 1) {
        et_error(cfg->path, line,
                 "[data] task = classify: the data has %zu targets (%s, ...); a classification "
                 "takes one, the class label",
                 et_source_n_targets(d->src), et_source_target(d->src, 0)->name);
        return -1;
    }
    char **names = NULL;
    long k = 0;
    if (d->kind == ET_DATA_CSV) {
        k = (long)et_source_n_classes(d->src);
    } else if ((k = et_config_classes(cfg, &names)) == 0) {
        et_error(cfg->path, line,
                 "[data] task = classify with source = %s: say the classes, by name (classes = "
                 "still walk run) or by count (classes = 3); the program gives their indices",
                 d->kind == ET_DATA_COMMAND ? "command" : "plugin");
        return -1;
    }
    if (k < 0)
        return -1;
    if (k < 2) {
        et_error(cfg->path, line, "[data] task = classify: the labels make %ld class; a classification needs 2 or more", k);
        et_free_words(names);
        return -1;
    }
    t->classify = 1;
    t->n_out = (unsigned)k;
    const char *loss = et_config_data(cfg, "class_loss", "xent");
    t->class_loss = !strcmp(loss, "mse") ? ET_CLASS_LOSS_MSE
                    : !strcmp(loss, "xent") ? ET_CLASS_LOSS_XENT
                                            : ET_CLASS_LOSS_HINGE;
    for (unsigned c = 0; c < t->n_out; c++) {
        const char *name = names ? names[c] : et_source_class(d->src, c);
        snprintf(t->class_name[c], sizeof t->class_name[c], "%s", name);
        class_ident(name, t->out[c].name, ET_NAME_MAX);
        for (unsigned j = 0; j < c; j++)
            if (!strcmp(t->out[j].name, t->out[c].name))
                snprintf(t->out[c].name, ET_NAME_MAX, "class%u", c);
        t->out[c].scale = 1.0 / ET_CLASS_ONE;
        t->out[c].weight = 1;
        t->class_weight[c] = 1;
    }
    et_free_words(names);
    const char *cw = et_config_data(cfg, "class_weight", NULL);
    if (cw && !strcmp(cw, "balanced")) {
        t->balanced = 1;
    } else if (cw) {
        char list[512], *save = NULL;
        snprintf(list, sizeof list, "%s", cw);
        unsigned c = 0;
        for (char *w = strtok_r(list, " \t", &save); w; w = strtok_r(NULL, " \t", &save), c++) {
            double v;
            long wl = et_config_data_line(cfg, "class_weight");
            if (c >= t->n_out) {
                et_error(cfg->path, wl, "[data] class_weight: more than the %u classes' weights",
                         t->n_out);
                return -1;
            }
            if (et_parse_double(w, &v) != 0 || !(v > 0) || v > 1e6) {
                et_error(cfg->path, wl, "[data] class_weight: '%s' is not a weight in (0, 1e6]",
                         w);
                return -1;
            }
            t->class_weight[c] = v;
        }
        if (c != t->n_out) {
            et_error(cfg->path, et_config_data_line(cfg, "class_weight"),
                     "[data] class_weight: %u weights for %u classes (give one per class, in "
                     "class order, or balanced)",
                     c, t->n_out);
            return -1;
        }
    }
    return 0;
}

int et_task_check_labels(const et_task *t, const double *T, size_t rows, const char *what, int pool)
{
    size_t count[ET_MAX_OUTPUTS] = {0};
    for (size_t r = 0; r < rows; r++) {
        double v = T[r];
        if (!(v >= 0 && v < t->n_out && v == floor(v))) {
            et_error(what, 0, "sample %zu: label %g is not a class index 0 to %u", r, v,
                     t->n_out - 1);
            return -1;
        }
        count[(size_t)v]++;
    }
    for (unsigned c = 0; pool && c < t->n_out; c++)
        if (!count[c]) {
            et_error(what, 0,
                     "class %s (index %u) has no samples in the training set: drop it from the "
                     "classes or add samples of it",
                     t->class_name[c], c);
            return -1;
        }
    return 0;
}

void et_task_class_weights(et_task *t, const int32_t *T, size_t rows)
{
    if (!t->classify || !t->balanced)
        return;
    size_t count[ET_MAX_OUTPUTS] = {0};
    for (unsigned k = 0; k < t->n_out; k++)
        for (size_t r = 0; r < rows; r++)
            count[k] += T[k * rows + r] != 0;
    for (unsigned c = 0; c < t->n_out; c++)
        t->class_weight[c] =
            count[c] ? (double)rows / ((double)t->n_out * (double)count[c]) : 1.0;
}

int et_task_from_config(const et_config *cfg, const et_rundata *d, et_task *t)
{
    memset(t, 0, sizeof *t);
    if (et_config_classify(cfg)) {
        if (classify_task(cfg, d, t) != 0)
            return -1;
        snprintf(t->source, sizeof t->source, "%s", d->kind == ET_DATA_CSV ? "csv" : d->kind == ET_DATA_COMMAND ? "command" : "plugin");
        t->n_in = (unsigned)et_source_n_inputs(d->src);
        if (t->n_in < 1 || t->n_in > ET_MAX_INPUTS) {
            et_error(cfg->path, cfg->data.line, "the data has %u inputs: a network takes 1 to %d", t->n_in, ET_MAX_INPUTS);
            return -1;
        }
        for (unsigned i = 0; i < t->n_in; i++) {
            const et_source_var *v = et_source_input(d->src, i);
            snprintf(t->in_name[i], ET_NAME_MAX, "%s", v->name);
            snprintf(t->in_unit[i], ET_NAME_MAX, "%s", v->unit);
        }
        for (unsigned k = 0; k < t->n_out; k++) {
            t->weight[k] = 1;
            t->inv_scale[k] = ET_CLASS_ONE;
        }
        return 0;
    }
    if (d && d->kind != ET_DATA_SIM) {
        if (source_task(d, t) != 0)
            return -1;
    } else {
        sim_task(cfg, t);
    }
    for (int i = 0; i < cfg->n_targets; i++) {
        const et_config_target *ct = &cfg->target[i];
        int k = et_task_output(t, ct->name);
        if (k < 0) {
            et_error(cfg->path, ct->line, "[target %s]: the data has no output of that name",
                     ct->name);
            return -1;
        }
        et_target *o = &t->out[k];
        if (ct->has & ET_TARGET_UNIT)
            snprintf(o->unit, ET_NAME_MAX, "%s", ct->unit);
        if (ct->has & ET_TARGET_SCALE)
            o->scale = ct->scale;
        if (ct->has & ET_TARGET_WEIGHT)
            o->weight = ct->weight;
    }
    for (int i = 0; i < cfg->n_groups; i++)
        if (add_group(cfg, &cfg->group[i], t) != 0)
            return -1;
    /* The data's own groups too: a [target] may have changed a unit. */
    for (unsigned i = 0; i < t->n_groups; i++)
        for (unsigned k = 0; k < t->n_out; k++)
            if (t->group[i].mask >> k & 1 && strcmp(t->out[k].unit, t->group[i].unit)) {
                et_error(cfg->path, 0,
                         "group %s: %s is in %s, the group in %s: a group's outputs share one "
                         "unit (redefine it with a [group %s] section)",
                         t->group[i].name, t->out[k].name, t->out[k].unit, t->group[i].unit,
                         t->group[i].name);
                return -1;
            }
    for (unsigned k = 0; k < t->n_out; k++) {
        t->weight[k] = t->out[k].weight;
        /* 1 / 0.01 is 100 exactly: the pose's loss keeps its bits. */
        t->inv_scale[k] = 1.0 / t->out[k].scale;
    }
    for (unsigned i = 0; i < t->n_groups; i++)
        t->mask[i] = t->group[i].mask;
    return 0;
}

et_loss_spec et_task_loss(const et_task *t)
{
    et_loss_spec s = {t->weight, t->inv_scale, t->n_groups, t->mask, 0, NULL, 0};
    if (t->classify) {
        s.classify = 1;
        s.class_weight = t->class_weight;
        s.class_loss = t->class_loss;
    }
    return s;
}

void et_task_log_columns(const et_task *t, FILE *out)
{
    if (t->classify) {
        /* The error rate, then each class's: 100 - its recall. */
        fputs(",valid_error_pct", out);
        for (unsigned k = 0; k < t->n_out; k++)
            fprintf(out, ",valid_%s_error_pct", t->out[k].name);
        return;
    }
    for (unsigned i = 0; i < t->n_groups; i++)
        fprintf(out, ",valid_%s_%s", t->group[i].name, t->group[i].unit);
    for (unsigned k = 0; k < t->n_out; k++)
        fprintf(out, ",valid_%s%s%s", t->out[k].name, *t->out[k].unit ? "_" : "", t->out[k].unit);
}

void et_task_log_values(const et_task *t, const double *rmse, const double *group, FILE *out)
{
    if (t->classify) {
        fprintf(out, ",%.4f", group[0]);
        for (unsigned k = 0; k < t->n_out; k++)
            fprintf(out, ",%.4f", rmse[k]);
        return;
    }
    for (unsigned i = 0; i < t->n_groups; i++)
        fprintf(out, ",%.4f", group[i]);
    for (unsigned k = 0; k < t->n_out; k++)
        fprintf(out, ",%.4f", rmse[k]);
}

/* Appends to buf (n bytes, NUL-terminated) like snprintf at its end. */
static void put(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t n, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, n - used, fmt, ap);
    va_end(ap);
}

static void errors_text(const et_task *t, const double *rmse, const double *group, const char *sep,
                        int named, char *buf, size_t n)
{
    buf[0] = '\0';
    if (t->classify) {
        put(buf, n, "%.2f %% error", group[0]);
        return;
    }
    uint64_t grouped = 0;
    for (unsigned i = 0; i < t->n_groups; i++) {
        put(buf, n, "%s%s%s%.3f %s", i ? sep : "", named ? t->group[i].name : "", named ? " " : "",
            group[i], t->group[i].unit);
        grouped |= t->group[i].mask;
    }
    int first = t->n_groups == 0;
    for (unsigned k = 0; k < t->n_out;) {
        if (grouped >> k & 1) {
            k++;
            continue;
        }
        put(buf, n, "%s", first ? "" : sep);
        first = 0;
        /* A run of outputs of one unit: roll/pitch/yaw 3.48/2.05/2.79 deg. */
        unsigned e = k;
        while (e < t->n_out && !(grouped >> e & 1) && !strcmp(t->out[e].unit, t->out[k].unit))
            e++;
        for (unsigned i = k; i < e && named; i++)
            put(buf, n, "%s%s", i > k ? "/" : "", t->out[i].name);
        for (unsigned i = k; i < e; i++)
            put(buf, n, "%s%.2f", i > k ? "/" : named ? " " : "", rmse[i]);
        if (*t->out[k].unit)
            put(buf, n, " %s", t->out[k].unit);
        k = e;
    }
}

void et_task_errors_text(const et_task *t, const double *rmse, const double *group, const char *sep,
                         char *buf, size_t n)
{
    errors_text(t, rmse, group, sep, 0, buf, n);
}

/* Each figure says what it is where nothing else does (the progress line,
 * the run's last words): "trans 0.954 mm, roll/pitch/yaw 3.68/2.47/3.01 deg";
 * unlabelled angles were read as anything. */
void et_task_errors_named(const et_task *t, const double *rmse, const double *group,
                          const char *sep, char *buf, size_t n)
{
    errors_text(t, rmse, group, sep, 1, buf, n);
}
