/* man: the man page evotrain(1) in roff, generated from what --help prints.
 *
 * The synopsis comes from the command table (src/cli/cli.c), each command's text
 * from running the command itself with --help, and the configuration keys
 * from et_config_doc and sim_config_doc: the man page cannot drift from the
 * program. The build writes it with `evotrain man > build/evotrain.1`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "sim.h"
#include "util.h"

/* Text for roff: backslashes and minus signs escaped, and a line never
 * starts with a control character. */
static void put(FILE *o, const char *s, size_t n)
{
    fputs("\\&", o);
    for (size_t i = 0; i < n && s[i]; i++) {
        if (s[i] == '\\')
            fputs("\\e", o);
        else if (s[i] == '-')
            fputs("\\-", o);
        else if (s[i] == '\n')
            fputs(i + 1 < n && s[i + 1] ? "\n\\&" : "\n", o);
        else
            fputc(s[i], o);
    }
}

static void puts_r(FILE *o, const char *s)
{
    put(o, s, strlen(s));
}

/* What fn prints to stdout, in a malloc'd string (NULL if it cannot be had). */
static char *capture(int (*fn)(int, char **), int argc, char **argv)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return NULL;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) {
        fclose(tmp);
        return NULL;
    }
    fn(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long n = ftell(tmp);
    char *buf = NULL;
    if (n >= 0) {
        buf = et_malloc((size_t)n + 1);
        rewind(tmp);
        buf[fread(buf, 1, (size_t)n, tmp)] = '\0';
    }
    fclose(tmp);
    return buf;
}

static int run_config_doc(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    et_config_doc(stdout);
    return 0;
}

static int run_sim_doc(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sim_config_doc(stdout);
    return 0;
}

/* Key documentation as tagged paragraphs: a line "[section] key = default"
 * is followed by indented lines of text (et_config_doc and sim_config_doc);
 * a line in columns ("[section] key  type  default  range  text") keeps its
 * columns after the key. */
static void keys(FILE *o, const char *doc)
{
    const char *p = doc;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *eq = p[0] == '[' ? strstr(p, " = ") : NULL;
        if (eq && eq > p + len)
            eq = NULL;
        if (!eq && p[0] == '[' && len > 2 && !memcmp(p + len - 2, " =", 2))
            eq = p + len - 2; /* no default */
        const char *rb = p[0] == '[' ? memchr(p, ']', len) : NULL;
        if (eq) {
            /* "[run] seed = 1", "[magnet NAME] or [magnets] model = cuboid" */
            fputs(".TP\n.B ", o);
            put(o, p, (size_t)(eq - p));
            size_t dl = eq + 3 <= p + len ? len - (size_t)(eq + 3 - p) : 0;
            fputs(dl ? "\nDefault: " : "\nNo default", o);
            put(o, eq + 3, dl);
            fputs(".\n", o);
        } else if (rb) {
            /* a column line: "[sec] key  type  default  range  text" */
            const char *k = rb + 1;
            while (*k == ' ')
                k++;
            size_t kl = strcspn(k, " \n");
            fputs(".TP\n.B ", o);
            put(o, p, (size_t)(k + kl - p));
            fputc('\n', o);
            const char *rest = k + kl;
            while (*rest == ' ')
                rest++;
            put(o, rest, len - (size_t)(rest - p));
            fputc('\n', o);
        } else {
            const char *t = p;
            while (*t == ' ')
                t++;
            /* Deeper indentation is a list under the key (the optimizers of
             * [train] algo): a line of its own. */
            if (t - p >= 8)
                fputs(".br\n", o);
            put(o, t, len - (size_t)(t - p));
            fputc('\n', o);
        }
        p += len + (eol ? 1 : 0);
    }
}

/* Each command: its summary, then its --help as it prints it. */
static void commands(FILE *o)
{
    for (size_t i = 0; i < et_n_commands; i++) {
        const et_command *c = &et_commands[i];
        if (c->hidden)
            continue;
        fputs(".SS ", o);
        puts_r(o, c->name);
        fputc('\n', o);
        puts_r(o, c->summary);
        fputs("\n.PP\n.nf\n", o);
        char name[32], help[] = "--help";
        snprintf(name, sizeof name, "%s", c->name);
        char *av[] = {name, help, NULL};
        char *text = capture(c->fn, 2, av);
        puts_r(o, text ? text : c->usage);
        free(text);
        fputs(".fi\n", o);
    }
}

/* The keys of et_config_doc (trainer) and sim_config_doc (scenario). */
static void configuration(FILE *o)
{
    char *doc = capture(run_config_doc, 0, NULL);
    char *sdoc = capture(run_sim_doc, 0, NULL);
    /* et_config_doc ends with sim_config_doc's lines: split them off so that
     * each part gets its own heading. */
    if (doc && sdoc) {
        size_t dl = strlen(doc), sl = strlen(sdoc);
        if (sl <= dl && !strcmp(doc + dl - sl, sdoc))
            doc[dl - sl] = '\0';
    }
    keys(o, doc ? doc : "");
    fputs(".SS Scenario\nEach entry: section and key, then the value's form, the default, "
          "the range and what it means. NAME is any name of a magnet or sensor; "
          "[magnets] and [sensors] set a key for all of them.\n",
          o);
    keys(o, sdoc ? sdoc : "");
    free(doc);
    free(sdoc);
}

int cmd_man(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: evotrain man > evotrain.1\n"
                   "Prints the man page evotrain(1) in roff (make install installs it).\n");
            return ET_EXIT_OK;
        }
        et_error(NULL, 0, "man: unexpected argument '%s'", argv[i]);
        return ET_EXIT_USAGE;
    }
    FILE *o = stdout;
    fprintf(o,
            ".\\\" Generated by `evotrain man` from the program's own help; do not edit.\n"
            ".TH EVOTRAIN 1 \"\" \"evotrain %s\" \"User Commands\"\n"
            ".SH NAME\nevotrain \\- gradient\\-free training of integer neural networks "
            "for microcontrollers\n.SH SYNOPSIS\n.nf\n",
            ET_VERSION);
    for (size_t i = 0; i < et_n_commands; i++)
        if (!et_commands[i].hidden) {
            puts_r(o, et_commands[i].usage);
            fputc('\n', o);
        }
    fputs("\\&evotrain \\-\\-version\n.fi\n", o);
    fputs(".SH DESCRIPTION\n"
          "evotrain trains small integer neural networks for microcontrollers without an FPU "
          "with CMA\\-ES or random search, scoring every candidate with the integer "
          "arithmetic of the kernel the firmware runs (evonet; on the host its batched twin, "
          "proven bit\\-identical by test), on samples from a sensor simulator. "
          "A run directory (out/NAME/) holds config.ini (the resolved configuration), "
          "log.csv (one row per validation) and checkpoint.bin (the whole state and the "
          "best network). Errors go to standard error as "
          "\\(lqevotrain: FILE:LINE: message\\(rq; data goes to standard output.\n"
          ".SH COMMANDS\n",
          o);
    commands(o);
    fputs(".SH OPTIONS\nEvery command accepts these:\n"
          ".TP\n.BR \\-q \", \" \\-\\-quiet\nonly errors on standard error.\n"
          ".TP\n.BR \\-v \", \" \\-\\-verbose\nmore progress messages.\n"
          ".TP\n.BR \\-h \", \" \\-\\-help\nthe command's usage on standard output.\n"
          ".TP\n.BR \\-\\-version\nthe version (as the first argument).\n",
          o);
    fputs(".SH CONFIGURATION\n"
          "A configuration is an INI file. The trainer's sections are [run], [network] and "
          "[train] (training refuses a file without [network] or [train]: an empty one takes "
          "the defaults); the task's are [data], [plugin], [target NAME] and [group NAME]; "
          "every other section describes the scenario and belongs to the simulator. A key nobody "
          "knows, a duplicate key or a value out of range is "
          "an error naming the file and line. These are all the keys, with their defaults "
          "(also printed by \\fBevotrain config \\-\\-doc\\fR).\n.SS Trainer\n",
          o);
    configuration(o);
    fputs(".SH EXIT STATUS\n"
          ".TP\n0\nsuccess\n.TP\n1\nan error in the input (file, configuration, data, run "
          "directory)\n.TP\n2\na usage error (unknown command or option, missing argument)\n"
          ".TP\n130\ninterrupted (training writes a checkpoint first)\n"
          ".SH ENVIRONMENT\n.TP\n.B GNUPLOT\nthe gnuplot program for plot and report "
          "(default: gnuplot; it needs the pngcairo terminal, Debian package gnuplot\\-nox).\n"
          ".SH FILES\n.TP\n.I PREFIX/share/evotrain/evonet.h, evonet.c\n"
          "the device kernel's sources, as \\fBevotrain kernel \\-o DIR\\fR writes them.\n"
          ".SH FLOAT REFERENCE\n"
          "The source tree's sim/examples/baseline.py (numpy) trains a float MLP of the same "
          "size with Adam, and a linear least-squares fit, on your problem's data, for "
          "comparison with the integer network:\n.PP\n.nf\n"
          "\\&evotrain dataset \\-\\-config F \\-n 65536 \\-\\-seed 11 \\-o train.csv\n"
          "\\&evotrain dataset \\-\\-config F \\-n 20000 \\-\\-seed 12 \\-o test.csv\n"
          "\\&python3 sim/examples/baseline.py train.csv test.csv \\-\\-targets 6 "
          "\\-\\-hidden 16 16\n.fi\n.PP\n"
          "It prints the test RMSE of each output for both; \\fBevotrain eval DIR "
          "\\-\\-data test.csv\\fR gives the integer network's on the same samples.\n"
          ".SH SEE ALSO\n.BR gnuplot (1)\n",
          o);
    return ferror(o) ? ET_EXIT_INPUT : ET_EXIT_OK;
}
