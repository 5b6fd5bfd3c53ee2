/* report: DIR/report.md, what a run's network is worth on the device.
 *
 * The configuration in brief, the held-out error table (the numbers of
 * `evotrain eval`), the network's flash and RAM bytes in the exported layout,
 * the estimated Cortex-M0 cycles per inference, and the figures of
 * `evotrain plot`. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "evalcore.h"
#include "plot.h"
#include "runeval.h"
#include "run.h"
#include "sim.h"
#include "util.h"

/* What the device kernel costs, measured with arm-none-eabi-gcc 12.2.1 for
 * -mcpu=cortex-m0 on the ABI 3 kernel. The code does not depend on the
 * network's shape. To refresh after a kernel change: `make bench-m0` prints
 * the code bytes (arm-none-eabi-size on build/fw/evonet_O2.o and _Os.o) and
 * the cycles of both kernels; the stack is from -fstack-usage:
 *   arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0 -mthumb -ffreestanding
 *     -fno-tree-loop-distribute-patterns -O2 (or -Os) -Iinclude -fstack-usage
 *     -c src/kernel/evonet.c   (then read evonet.su)
 * and the cost model below from tests/firmware/m0-calibrate.sh. */
#define M0_CODE_O2 6800        /* bytes of the fast kernel (-O2) */
#define M0_CODE_OS 1140        /* bytes of the compact kernel (-Os) */
#define M0_STACK_O2 224        /* deepest: evonet_forward 40 + layer_any 120 + mac_w4 64 */
#define M0_STACK_OS 208        /* evonet_forward 144 + mac_w4 64 */
#define M0_REF_CYCLES_OS 11681 /* the -Os kernel on bench-m0's 18-16-16-6 fixture */
#define M0_REF_CYCLES_O2 4384  /* the -O2 kernel on the same */
#define M0_REF_MODEL_O2 4537   /* what the cost model below gives for that fixture */

/* The network's flash bytes on a 32-bit Cortex-M (4-byte pointers, int32_t
 * and pointers aligned to 4), in the layout of include/evonet.h: per layer
 * EVONET_PAD(n_out) * n_in weight bytes and EVONET_PAD(n_out) channel
 * records, then the evonet_layer table and the evonet. The host may have
 * 8-byte pointers, so the table entries are computed for the target, from
 * the field lists below; the asserts fail when a field list changes. */
#define M0_PTR 4
#define M0_ALIGN(n) (((n) + M0_PTR - 1) / M0_PTR * M0_PTR)
#define HOST_ALIGN(n) (((n) + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *))
/* evonet_chan: int32_t bias, uint16_t mult, uint16_t shift (8 on every target). */
#define M0_CHAN_BYTES (sizeof(int32_t) + 2 * sizeof(uint16_t))
/* evonet_layer: const uint8_t *w, const evonet_chan *chan, uint16_t n_in, n_out (12). */
#define M0_LAYER_BYTES M0_ALIGN(2 * M0_PTR + 3 * sizeof(uint16_t))
/* evonet: const evonet_layer *layers, uint16_t n_layers (8). */
#define M0_NET_BYTES M0_ALIGN(M0_PTR + sizeof(uint16_t))
_Static_assert(sizeof(evonet_chan) == M0_CHAN_BYTES && offsetof(evonet_chan, shift) == 6,
               "evonet_chan changed: update the flash figures of report.c");
_Static_assert(offsetof(evonet_layer, wfmt) == 2 * sizeof(void *) + 4 &&
                   sizeof(evonet_layer) == HOST_ALIGN(2 * sizeof(void *) + 6),
               "evonet_layer changed: update the flash figures of report.c");
_Static_assert(offsetof(evonet, n_layers) == sizeof(void *) &&
                   sizeof(evonet) == HOST_ALIGN(sizeof(void *) + 2),
               "evonet changed: update the flash figures of report.c");
/* Self-test vectors per exported header (N_SELFTEST in src/cli/cmd_run.c). */
#define EXPORT_SELFTESTS 8

/* Cycle model of the -O2 kernel (src/kernel/evonet.c), per inference:
 *
 *   cycles = C_FIXED + C_MAC * lanes + C_OUT * outputs + C_GROUP * groups
 *
 * lanes counts the multiply-accumulates the kernel really does, padding
 * included: each group of eight outputs costs n_in * 8, a final group of at
 * most four real outputs n_in * 4, and the output layer's group of five or
 * six n_in * 6 (see EVONET_LAYER). outputs are the real outputs of every
 * layer (requantization, clamp, store); groups the passes over the inputs
 * (accumulator set-up with bias and offset correction, spills, loop exits).
 * A MAC is LDRB + MULS + ADD, about 4 cycles on the M0.
 *
 * The constants are a least-squares fit to cycles measured under QEMU with
 * the m0cycles plugin (the bench-m0 method) on the ABI 3 kernel for nine
 * trained 18-input networks: hidden 8-8, 16-16, 32, 32-32, 24-16-8, 64, 12,
 * 48-24 and 4-4-4; the model is within 2.1 % of every one
 * (tests/firmware/m0-calibrate.sh repeats the measurement and the fit). For
 * bench-m0's 18-16-16-6 fixture it gives M0_REF_MODEL_O2 (4537) against the
 * 4384 measured there (3.5 %): hidden units with a non-positive accumulator
 * skip the requantization, so the cycles depend a little on the weights and
 * the input. */
#define C_FIXED 156.8
#define C_MAC 4.20
#define C_OUT 22.51
#define C_GROUP 167.2

typedef struct cost {
    size_t w, chan, table; /* flash bytes of the network's data */
    size_t lanes, outputs, groups;
    double cycles;
} cost;

static void net_cost(const evonet *net, cost *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned l = 0; l < net->n_layers; l++) {
        const evonet_layer *L = &net->layers[l];
        size_t ni = L->n_in, pad = EVONET_PAD(L->n_out);
        int last = l + 1u == net->n_layers;
        c->w += pad / EVONET_GROUP * ni * EVONET_WFMT_BYTES(L->wfmt);
        c->chan += M0_CHAN_BYTES * pad;
        c->outputs += L->n_out;
        for (unsigned left = L->n_out;; left -= EVONET_GROUP) {
            c->groups++;
            if (left <= 4) {
                c->lanes += ni * 4;
                break;
            }
            c->lanes += ni * (last && left <= 6 ? 6 : 8);
            if (left <= EVONET_GROUP)
                break;
        }
    }
    c->table = M0_LAYER_BYTES * net->n_layers + M0_NET_BYTES;
    c->cycles = C_FIXED + C_MAC * (double)c->lanes + C_OUT * (double)c->outputs +
                C_GROUP * (double)c->groups;
}

/* The data line of a source other than the simulator: where the pool and
 * the validation set come from. */
static void section_data(FILE *o, const et_run *r)
{
    const et_config *cfg = &r->cfg;
    fprintf(o, "| data | source %s; seed %llu; minibatch %d from ", r->task.source,
            (unsigned long long)cfg->seed, cfg->minibatch);
    if (r->data.kind == ET_DATA_CSV) {
        size_t rows = (size_t)et_source_size(r->data.src);
        if (r->data.valid)
            fprintf(o, "the %zu rows of `%s`; validation on `%s`", rows,
                    et_config_data(cfg, "train", "?"), et_config_data(cfg, "valid", "?"));
        else
            fprintf(o, "the first %zu rows of `%s`; validation on its last %zu rows",
                    rows - r->data.holdout, et_config_data(cfg, "train", "?"), r->data.holdout);
    } else {
        const char *what = r->data.kind == ET_DATA_COMMAND ? "command" : "plugin";
        fprintf(o, "a pool of %d samples of %s `%s`; %d validation samples", cfg->pool_size, what,
                et_config_data(cfg, what, "?"), cfg->valid_size);
    }
    fprintf(o, " every %d generations |\n", cfg->valid_every);
}

/* The names of the outputs in mask, ", " between them. */
static void put_outputs(FILE *o, const et_task *t, uint64_t mask)
{
    const char *sep = "";
    for (unsigned k = 0; k < t->n_out; k++)
        if (mask >> k & 1) {
            fprintf(o, "%s%s", sep, t->out[k].name);
            sep = ", ";
        }
}

/* What the network computes, for any source: its inputs, each output with
 * unit, scale (one int16 step) and loss weight, and the groups whose
 * Euclidean error the table reports. Long input lists are shortened to
 * their first three and last names. */
static void section_task(FILE *o, const et_task *t)
{
    fprintf(o, "| task | %u inputs (", t->n_in);
    for (unsigned i = 0; i < t->n_in; i++) {
        if (t->n_in > 6 && i >= 3 && i + 1 < t->n_in) {
            if (i == 3)
                fputs(", ...", o);
            continue;
        }
        fprintf(o, "%s%s", i ? ", " : "", t->in_name[i]);
    }
    int one_unit = 1;
    for (unsigned i = 1; i < t->n_in; i++)
        one_unit &= !strcmp(t->in_unit[i], t->in_unit[0]);
    if (one_unit && *t->in_unit[0])
        fprintf(o, "; %s", t->in_unit[0]);
    if (t->classify) {
        static const char *const loss[] = {"squared margin shortfall (hinge)",
                                           "least squares on one-hot targets",
                                           "softmax cross-entropy"};
        fprintf(o, "); classification into %u classes, one score each (1.0 = %d steps): ",
                t->n_out, ET_CLASS_ONE);
        for (unsigned k = 0; k < t->n_out; k++)
            fprintf(o, "%s%s (weight %.3g)", k ? ", " : "", t->class_name[k], t->class_weight[k]);
        fprintf(o, "; the search descends the %s, and the class-weighted error rate picks the "
                   "network |\n",
                loss[t->class_loss >= 0 && t->class_loss < 3 ? t->class_loss : 0]);
        return;
    }
    fprintf(o, "); %u output%s: ", t->n_out, t->n_out == 1 ? "" : "s");
    for (unsigned k = 0; k < t->n_out; k++) {
        const et_target *g = &t->out[k];
        fprintf(o, "%s%s (%s%sstep %g, weight %g)", k ? ", " : "", g->name, g->unit,
                *g->unit ? ", " : "", g->scale, g->weight);
    }
    for (unsigned i = 0; i < t->n_groups; i++) {
        fprintf(o, "%s%s = ", i ? "; " : "; Euclidean groups: ", t->group[i].title);
        put_outputs(o, t, t->group[i].mask);
        fprintf(o, " (%s)", t->group[i].unit);
    }
    fputs(" |\n", o);
}

static void section_config(FILE *o, const et_run *r)
{
    const et_config *cfg = &r->cfg;
    unsigned sizes[EVONET_MAX_LAYERS + 1];
    unsigned nl = et_net_sizes(cfg, &r->task, sizes);
    char shape[128] = "";
    for (unsigned l = 0; l <= nl; l++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%u", l ? "-" : "",
                 sizes[l]);
    static const char *const fmt_name[] = {"int8", "int4", "int2", "ternary"};
    char wbits[96] = "";
    for (unsigned l = 0; l < nl; l++) {
        int f = et_config_wfmt(cfg, l);
        if (cfg->n_wfmt > 1 || l == 0)
            snprintf(wbits + strlen(wbits), sizeof wbits - strlen(wbits), "%s%s", l ? "-" : "",
                     fmt_name[f & 3]);
    }
    static const char *const requant[] = {"per layer", "per output channel"};
    static const char *const search[] = {"calibrated", "searched per layer",
                                         "searched per channel"};
    int sim = !strcmp(r->task.source, "sim");
    fprintf(o, "## Configuration\n\n| | |\n|---|---|\n");
    fprintf(o,
            "| network | %s (inputs, hidden ReLU uint8 layers, int16 outputs); %s weights, "
            "requantization %s, scales %s |\n",
            shape, wbits, requant[cfg->per_channel ? 1 : 0],
            search[cfg->scale_search >= 0 && cfg->scale_search < 3 ? cfg->scale_search : 0]);
    char race[96] = "", won[48] = "";
    if (cfg->starts > 1) {
        snprintf(race, sizeof race, "; %d starts raced, halved every %ld generations", cfg->starts,
                 cfg->halving_generations);
        snprintf(won, sizeof won, " (start %llu)", (unsigned long long)r->st.best_start);
    }
    fprintf(o, "| optimizer | %s, lambda %d, sigma0 %g grid steps, output layer %s%s |\n",
            cfg->algo, cfg->lambda, cfg->sigma0, cfg->ridge_output ? "fitted by ridge" : "searched",
            race);
    if (sim)
        fprintf(o,
                "| data | seed %llu; minibatch %d from a pool of %d simulated samples; %d "
                "validation samples every %d generations |\n",
                (unsigned long long)cfg->seed, cfg->minibatch, cfg->pool_size, cfg->valid_size,
                cfg->valid_every);
    else
        section_data(o, r);
    section_task(o, &r->task);
    /* The magnet simulator's own scenario: no other source has one. */
    if (sim) {
        double lo[SIM_POSE_DIM], hi[SIM_POSE_DIM];
        sim_pose_box(cfg->sim, lo, hi);
        fprintf(o,
                "| scenario | %zu magnets, %zu sensors, %zu readings; pose box x, y, z in "
                "[%g, %g] x [%g, %g] x [%g, %g] mm, roll, pitch, yaw in [%g, %g] x [%g, %g] x "
                "[%g, %g] deg |\n",
                sim_n_magnets(cfg->sim), sim_n_sensors(cfg->sim), sim_n_readings(cfg->sim), lo[0],
                hi[0], lo[1], hi[1], lo[2], hi[2], lo[3], hi[3], lo[4], hi[4], lo[5], hi[5]);
    }
    fprintf(o,
            "| progress | %llu generations, %llu evaluations, %.1f s; best validated network "
            "from generation %llu%s |\n",
            (unsigned long long)r->st.generation, (unsigned long long)r->st.evals, r->st.elapsed_s,
            (unsigned long long)r->st.best_generation, won);
    if (r->has_polish) {
        char pe[200], se[200];
        et_task_errors_text(&r->task, r->polish_valid.rmse, r->polish_valid.group_rmse, ", ", pe,
                            sizeof pe);
        et_task_errors_text(&r->task, r->st.best_rmse, r->st.best_group, ", ", se, sizeof se);
        fprintf(o,
                "| polish | %llu sweeps of integer coordinate descent on the pool%s, %llu of %llu "
                "moves kept; validation %s against the search's %s: %s |\n",
                (unsigned long long)r->polish.sweep, r->polish.done ? " (converged)" : "",
                (unsigned long long)r->polish.changes, (unsigned long long)r->polish.trials, pe, se,
                r->polished ? "the network below is the polished one"
                            : "the search's network kept");
    }
    fputc('\n', o);
    fprintf(o, "Every key with its value: [config.ini](config.ini); the training log: "
               "[log.csv](log.csv).\n\n");
}

/* A classification's errors: accuracy, each class's precision and recall,
 * the confusion matrix. */
static void section_classes(FILE *o, const et_task *t, const et_eval *ev)
{
    unsigned no = ev->n_out;
    fprintf(o,
            "## Errors\n\nThe best network, run by the integer kernel exactly as on the "
            "device, on %zu %s; the class is the first largest score, as in the header's "
            "`_classify`. **Accuracy %.2f %%** (%zu of %zu; error %.2f %%).\n\n",
            ev->n, ev->source ? ev->source : "held-out samples of the data source",
            100.0 * (double)ev->correct / (double)ev->n, ev->correct, ev->n,
            100.0 - 100.0 * (double)ev->correct / (double)ev->n);
    fprintf(o, "| class | samples | precision | recall |\n|---|---:|---:|---:|\n");
    for (unsigned k = 0; k < no; k++)
        fprintf(o, "| %s | %zu | %.2f %% | %.2f %% |\n", t->class_name[k], ev->support[k],
                100 * ev->precision[k], 100 * ev->recall[k]);
    fprintf(o, "\nConfusion matrix (rows: true class; columns: the network's class):\n\n| |");
    for (unsigned p = 0; p < no; p++)
        fprintf(o, " %s |", t->class_name[p]);
    fprintf(o, "\n|---|");
    for (unsigned p = 0; p < no; p++)
        fprintf(o, "---:|");
    fputc('\n', o);
    for (unsigned k = 0; k < no; k++) {
        fprintf(o, "| **%s** |", t->class_name[k]);
        for (unsigned p = 0; p < no; p++)
            fprintf(o, " %zu |", ev->confusion[k * no + p]);
        fputc('\n', o);
    }
    fputc('\n', o);
}

static void section_errors(FILE *o, const et_task *t, const et_eval *ev)
{
    if (t->classify) {
        section_classes(o, t, ev);
        return;
    }
    fprintf(o, "## Errors\n\n");
    if (ev->source)
        fprintf(o,
                "The best network, run by the integer kernel exactly as on the device, on "
                "the %zu samples of `%s`.",
                ev->n, ev->source);
    else
        fprintf(o,
                "The best network, run by the integer kernel exactly as on the device, on "
                "%zu fresh %s (never used in training or validation; the "
                "numbers of `evotrain eval`).",
                ev->n,
                strcmp(t->source, "sim") ? "samples of the data source" : "simulated samples");
    fprintf(o, " p50, p95 and max are of the absolute error");
    /* The pose's sentence as it always was; any other task names its groups. */
    if (t->n_groups == 1 && !strcmp(t->group[0].title, "translation") && t->group[0].mask == 7)
        fprintf(o, "; translation is the Euclidean distance");
    else
        for (unsigned i = 0; i < t->n_groups; i++) {
            fprintf(o, "%s%s (",
                    i ? ", " : "; the Euclidean norm of a group's errors: ", t->group[i].title);
            put_outputs(o, t, t->group[i].mask);
            fputc(')', o);
        }
    fprintf(o, ".\n\n"
               "| output | unit | RMSE | p50 | p95 | max |\n"
               "|---|---|---:|---:|---:|---:|\n");
    for (unsigned k = 0; k < ev->rows; k++)
        fprintf(o, "| %s | %s | %.4f | %.4f | %.4f | %.4f |\n", ev->name[k], ev->unit[k],
                ev->rmse[k], ev->p50[k], ev->p95[k], ev->max[k]);
    fputc('\n', o);
}

static void section_device(FILE *o, const et_task *t, const evonet *net)
{
    cost c;
    net_cost(net, &c);
    size_t data = c.w + c.chan + c.table;
    fprintf(o,
            "## On the device (Cortex-M0)\n\n### Flash\n\n"
            "The arrays of the exported header (`evotrain export`), padded to groups of %d "
            "outputs as the kernel's layout requires: per layer, padded outputs x inputs "
            "weight bytes and one %zu-byte channel record (bias, mult, shift) per padded "
            "output; then the layer table, %zu bytes per layer (evonet_layer) and %zu for the "
            "evonet. Sizes are for a 32-bit Cortex-M (4-byte pointers).\n\n"
            "| layer | shape | weights | channel records | bytes |\n"
            "|---|---|---:|---:|---:|\n",
            EVONET_GROUP, (size_t)M0_CHAN_BYTES, (size_t)M0_LAYER_BYTES, (size_t)M0_NET_BYTES);
    for (unsigned l = 0; l < net->n_layers; l++) {
        const evonet_layer *L = &net->layers[l];
        size_t pad = EVONET_PAD(L->n_out), ch = M0_CHAN_BYTES * pad;
        size_t w = pad / EVONET_GROUP * L->n_in * EVONET_WFMT_BYTES(L->wfmt);
        fprintf(o, "| %u | %u -> %u | %zu | %zu | %zu |\n", l, L->n_in, L->n_out, w, ch, w + ch);
    }
    fprintf(o,
            "| | layer table (evonet_layer, evonet) | | | %zu |\n"
            "| | **network data** | | | **%zu** |\n\n",
            c.table, data);
    fprintf(o,
            "Kernel code (src/kernel/evonet.c, arm-none-eabi-gcc 12.2, `make bench-m0`): %d bytes "
            "at -O2 (fast) or %d bytes at -Os (small), whatever the network. Total: "
            "**%zu bytes** with the fast kernel, **%zu bytes** with the small one. The "
            "header's self-test vectors (%zu bytes) are dropped by the linker unless "
            "`NAME_selftest()` is called.\n\n",
            M0_CODE_O2, M0_CODE_OS, data + M0_CODE_O2, data + M0_CODE_OS,
            (size_t)EXPORT_SELFTESTS * sizeof(int16_t) *
                (net->layers[0].n_in + net->layers[net->n_layers - 1].n_out));
    size_t scratch = evonet_scratch_bytes(net), in = 2u * net->layers[0].n_in,
           out = 2u * net->layers[net->n_layers - 1].n_out;
    fprintf(o,
            "### RAM\n\n| what | bytes |\n|---|---:|\n"
            "| scratch (two activation buffers, `NAME_SCRATCH_BYTES`) | %zu |\n"
            "| input (int16 readings) | %zu |\n| output (int16 %s) | %zu |\n"
            "| **total** | **%zu** |\n\n"
            "plus the kernel's stack: %d bytes at -O2, %d at -Os (gcc -fstack-usage).\n\n",
            scratch, in, strcmp(t->source, "sim") ? "outputs" : "pose", out, scratch + in + out,
            M0_STACK_O2, M0_STACK_OS);
    fprintf(o,
            "### Speed\n\n"
            "Estimated **%.0f cycles per inference** with the -O2 kernel: %.0f us at 16 MHz, "
            "%.0f us at 48 MHz (zero wait-state flash). The -Os kernel is about %.1f times "
            "slower (%d against %d cycles measured for the 18-16-16-6 reference).\n\n",
            c.cycles, c.cycles / 16, c.cycles / 48, (double)M0_REF_CYCLES_OS / M0_REF_CYCLES_O2,
            M0_REF_CYCLES_OS, M0_REF_CYCLES_O2);
    fprintf(o,
            "Cost model of the kernel: cycles = %.1f + %.2f x MACs + %.2f x outputs + %.1f x "
            "groups, with %zu MACs (the kernel's, padding included), %zu outputs and %zu "
            "groups of up to %d outputs here. The constants are a least-squares fit to "
            "cycles measured under QEMU (the `make bench-m0` method) for nine trained "
            "18-input networks (hidden 8-8, 16-16, 32, 32-32, 24-16-8, 64, 12, 48-24, 4-4-4), "
            "within 2.1 %% of each; for bench-m0's 18-16-16-6 fixture the model gives %d "
            "against %d measured (%.1f %%). Hidden units with a non-positive accumulator "
            "skip the requantization, so the real figure varies a little with input and "
            "weights.\n\n",
            C_FIXED, C_MAC, C_OUT, C_GROUP, c.lanes, c.outputs, c.groups, EVONET_GROUP,
            M0_REF_MODEL_O2, M0_REF_CYCLES_O2,
            100.0 * (M0_REF_MODEL_O2 - M0_REF_CYCLES_O2) / M0_REF_CYCLES_O2);
}

static void section_plots(FILE *o, const et_task *t, int have)
{
    fprintf(o, "## Plots\n\n");
    if (!have) {
        fprintf(o, "Not drawn (gnuplot was not available); `evotrain plot DIR` draws them.\n");
        return;
    }
    if (t->classify) {
        for (int i = 0; i < ET_PLOT_N_CLASS_PNG; i++)
            fprintf(o, "%s:\n\n![%s](%s)\n\n", et_plot_class_what(i), et_plot_class_what(i),
                    et_plot_class_png[i]);
        return;
    }
    for (int i = 0; i < ET_PLOT_N_PNG; i++)
        fprintf(o, "%s:\n\n![%s](%s)\n\n", et_plot_what(t, i), et_plot_what(t, i), et_plot_png[i]);
}

static const char report_help[] =
    "usage: evotrain report DIR [-n N | --data FILE.csv]\n"
    "Writes DIR/report.md: the configuration in brief (the task: inputs, each output's\n"
    "unit, scale and weight, the groups; the magnet scenario for source sim), the error\n"
    "table of the best network (RMSE, p50, p95, max per output and per group, e.g.\n"
    "the pose's Euclidean translation, as `evotrain eval` computes them on N fresh\n"
    "samples, default 20000, the run's test file, or a dataset CSV), its flash and\n"
    "RAM bytes in the exported layout, the estimated Cortex-M0 cycles per inference,\n"
    "and the figures of `evotrain plot` (drawn too; without gnuplot the report is\n"
    "written without them, with a warning).\n";

int cmd_report(int argc, char **argv)
{
    et_run_eval re;
    int rc = et_run_eval_open("report", report_help, argc, argv, &re);
    if (rc != ET_RUN_EVAL_OPEN)
        return rc;
    const et_run *r = &re.run;
    rc = ET_EXIT_INPUT;
    int prc = et_plot_write(r, &re.ev);
    /* The figures are an extra: the report is written without them when
     * gnuplot is missing or fails (its message is above), never lost. */
    if (prc != 0)
        et_error(NULL, 0, "report: writing the report without plots");
    char *path = et_path(re.dir, "report.md");
    et_afile af;
    if (et_afile_open(&af, path) == 0) {
        fprintf(af.fp, "# evotrain report: run %s\n\nMade by evotrain %s from `%s`.\n\n",
                r->cfg.name, ET_VERSION, re.dir);
        section_config(af.fp, r);
        section_errors(af.fp, &r->task, &re.ev);
        section_device(af.fp, &r->task, &r->best->net);
        section_plots(af.fp, &r->task, prc == 0);
        if (et_afile_commit(&af) == 0) {
            et_info("evotrain: wrote %s\n", path);
            rc = ET_EXIT_OK;
        }
    }
    free(path);
    et_run_eval_close(&re);
    return rc;
}
