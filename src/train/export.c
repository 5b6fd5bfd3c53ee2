/* export: an integer network -> a self-contained C header for firmware. */
#include "export.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evonet_check.h"
#include "util.h"

int et_is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

void et_export_name_of(const char *path, char name[64])
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    /* The extension goes, but not a leading dot's name (".net" -> "_net"). */
    size_t stop = end;
    for (size_t i = end; i > start + 1; i--)
        if (path[i - 1] == '.') {
            stop = i - 1;
            break;
        }
    size_t n = 0;
    if (stop > start && isdigit((unsigned char)path[start]))
        name[n++] = '_';
    for (size_t i = start; i < stop && n < 63; i++)
        name[n++] = isalnum((unsigned char)path[i]) ? path[i] : '_';
    name[n] = '\0';
    /* "-", "." and "/" leave only underscores, no name. */
    if (strspn(name, "_") == n)
        snprintf(name, 64, "net");
}

int et_export_may_overwrite(const char *path, int force)
{
    struct stat st;
    if (force || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    if (strstr(line, ET_EXPORT_MARKER))
        return 0;
    et_error(path, 0, "exists and was not written by evotrain export (--force overwrites it)");
    return -1;
}

static void upper(char *dst, const char *src)
{
    while (*src)
        *dst++ = (char)toupper((unsigned char)*src++);
    *dst = '\0';
}

/* Arrays as rows of 16 values: diffable and readable in a code review. */
static void emit_u8(FILE *o, const char *decl, const uint8_t *v, size_t n)
{
    fprintf(o, "%s[%zu] = {", decl, n);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s%u%s", i % 16 ? " " : "\n    ", v[i], i + 1 < n ? "," : "");
    fprintf(o, "\n};\n");
}

/* Channel records as {bias, mult, shift}, four to a row. */
static void emit_chan(FILE *o, const char *decl, const evonet_chan *c, size_t n)
{
    fprintf(o, "%s[%zu] = {", decl, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(o, "%s{", i % 4 ? " " : "\n    ");
        /* INT32_MIN cannot be written as a plain literal. */
        if (c[i].bias == INT32_MIN)
            fprintf(o, "(-2147483647 - 1)");
        else
            fprintf(o, "%ld", (long)c[i].bias);
        fprintf(o, ", %u, %u}%s", c[i].mult, c[i].shift, i + 1 < n ? "," : "");
    }
    fprintf(o, "\n};\n");
}

/* Per weight format (evonet.h): its macro and how its bytes read. */
static const char *const wfmt_name[] = {"EVONET_W8", "EVONET_W4", "EVONET_W2", "EVONET_WT"};
static const char *const wfmt_doc[] = {"stored as w + 128", "int4, two per byte (low nibble first)",
                                       "int2 as two bit planes (+1, -2) per input and group",
                                       "ternary as two bit planes (+1, -1) per input and group"};

/* s as a C string literal: quotes, backslashes and bytes outside printable
 * ASCII escaped (octal, three digits, so no digit after one can join it). */
static void emit_cstring(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c < 32 || c > 126 || c == '?') /* '?': no trigraphs */
            fprintf(o, "\\%03o", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}

/* A classification's part: the class names and the firmware's choice. */
static void emit_classify(FILE *o, const char *nm, const char *up, unsigned n_out,
                          const char *const *names)
{
    fprintf(o, "#define %s_N_CLASSES %u\n\n", up, n_out);
    fprintf(o, "/* The name of each class, by index (out[k] is the score of class k). */\n");
    fprintf(o, "static const char *const %s_class_names[%u] = {", nm, n_out);
    for (unsigned k = 0; k < n_out; k++) {
        fputs(k % 4 ? " " : "\n    ", o);
        emit_cstring(o, names[k]);
        fputs(k + 1 < n_out ? "," : "", o);
    }
    fprintf(o, "\n};\n\n");
    fprintf(o, "/* The class of in: the index of the largest score, the first of equal ones\n"
               " * (the rule evotrain counted its errors by). */\n");
    fprintf(o, "static inline int %s_classify(const int16_t in[])\n{\n", nm);
    fprintf(o, "    int16_t out[%s_N_OUT];\n    int best = 0;\n", up);
    fprintf(o, "    %s_infer(in, out);\n", nm);
    fprintf(o, "    for (int k = 1; k < %s_N_OUT; k++)\n", up);
    fprintf(o, "        if (out[k] > out[best])\n            best = k;\n");
    fprintf(o, "    return best;\n}\n\n");
}

/* Long on purpose: it writes the header top to bottom, in the order its
 * reader meets it (provenance, guard, sizes, arrays, self-test). */
int et_export_write(FILE *o, const evonet *net, const et_export_info *info)
{
    char err[256];
    if (!et_is_identifier(info->name)) {
        et_error(NULL, 0, "export: '%s' is not a C identifier", info->name);
        return -1;
    }
    if (evonet_validate(net, err, sizeof err) != 0) {
        et_error(NULL, 0, "export: the kernel cannot run this network exactly: %s", err);
        return -1;
    }
    const char *nm = info->name;
    char up[64], decl[160];
    upper(up, nm);
    unsigned nl = net->n_layers;
    unsigned n_in = net->layers[0].n_in, n_out = net->layers[nl - 1].n_out;
    size_t scratch = evonet_scratch_bytes(net);

    fprintf(o, "/* %s.h: " ET_EXPORT_MARKER ".\n", nm);
    fprintf(o, " * %s\n", info->provenance);
    fprintf(o, " * Layers:");
    for (unsigned l = 0; l < nl; l++)
        fprintf(o, " %u%s", net->layers[l].n_in, l + 1 == nl ? "" : " ->");
    fprintf(o, " -> %u (ReLU uint8 hidden activations, int16 outputs).\n", n_out);
    if (info->doc) {
        fputs(info->doc, o);
    } else {
        fprintf(o, " * Inputs:  %s\n", info->input_doc);
        fprintf(o, " * Outputs:");
        for (unsigned k = 0; k < n_out; k++)
            fprintf(o, "%s out[%u] %s", k ? "," : "", k,
                    info->output_names ? info->output_names[k] : "(no unit)");
        fputc('\n', o);
    }
    /* The scratch array sits in the caller's frame, which keeps 8-byte
     * alignment (AAPCS). */
    size_t stack = EVONET_STACK_BYTES + (scratch + 1 + 7) / 8 * 8;
    fprintf(o,
            " * Stack on a Cortex-M0: %s_STACK_BYTES = %zu, the kernel's %d (EVONET_STACK_BYTES,\n"
            " * the largest of its builds by -fstack-usage) and %s_infer's %zu-byte scratch.\n",
            up, stack, EVONET_STACK_BYTES, nm, scratch + 1);
    fprintf(o,
            " *\n * Build with evonet.h and evonet.c (`evotrain kernel -o DIR`) of the same evonet "
            "ABI version:\n *   %s_infer(in, out);  %s_selftest() == 0 on a good build.%s%s%s */\n",
            nm, nm, info->class_names ? "\n *   " : "", info->class_names ? nm : "",
            info->class_names ? "_classify(in): the class index (out[k] is class k's score)." : "");
    fprintf(o, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n#include \"evonet.h\"\n\n", up,
            up);
    fprintf(o,
            "#if !defined(EVONET_ABI_VERSION) || EVONET_ABI_VERSION != %d || EVONET_GROUP != %d\n",
            EVONET_ABI_VERSION, EVONET_GROUP);
    fprintf(
        o, "#error \"%s.h needs the evonet kernel with ABI version %d (evotrain kernel -o DIR)\"\n",
        nm, EVONET_ABI_VERSION);
    fprintf(o, "#endif\n\n");
    fprintf(o, "#define %s_N_IN %u\n#define %s_N_OUT %u\n#define %s_SCRATCH_BYTES %zu\n", up, n_in,
            up, n_out, up, scratch);
    fprintf(o, "#define %s_STACK_BYTES %zu\n", up, stack);
    fprintf(o, "#define %s_N_TESTS %u\n\n", up, info->n_tests);

    for (unsigned l = 0; l < nl; l++) {
        const evonet_layer *L = &net->layers[l];
        size_t po = (size_t)EVONET_PAD(L->n_out);
        fprintf(o, "/* layer %u: %u -> %u; weights %s, channels as {bias, mult, shift} */\n", l,
                L->n_in, L->n_out, wfmt_doc[L->wfmt]);
        snprintf(decl, sizeof decl, "static const uint8_t %s_w%u", nm, l);
        emit_u8(o, decl, L->w, evonet_weight_bytes(L->wfmt, L->n_in, L->n_out));
        snprintf(decl, sizeof decl, "static const evonet_chan %s_c%u", nm, l);
        emit_chan(o, decl, L->chan, po);
        fputc('\n', o);
    }
    fprintf(o, "static const evonet_layer %s_layers[%u] = {\n", nm, nl);
    for (unsigned l = 0; l < nl; l++)
        fprintf(o, "    {%s_w%u, %s_c%u, %u, %u, %s},\n", nm, l, nm, l, net->layers[l].n_in,
                net->layers[l].n_out, wfmt_name[net->layers[l].wfmt]);
    fprintf(o, "};\nstatic const evonet %s_net = {%s_layers, %u};\n\n", nm, nm, nl);

    if (info->n_tests) {
        int16_t *y = et_malloc(sizeof *y * n_out);
        uint8_t *s = et_malloc(scratch ? scratch : 1);
        fprintf(o, "/* self-test vectors: inputs and the outputs the kernel must give */\n");
        fprintf(o, "static const int16_t %s_test_in[%u][%u] = {\n", nm, info->n_tests, n_in);
        for (unsigned t = 0; t < info->n_tests; t++) {
            fprintf(o, "    {");
            for (unsigned i = 0; i < n_in; i++)
                fprintf(o, "%d%s", info->test_in[(size_t)t * n_in + i], i + 1 < n_in ? ", " : "");
            fprintf(o, "},\n");
        }
        fprintf(o, "};\nstatic const int16_t %s_test_out[%u][%u] = {\n", nm, info->n_tests, n_out);
        for (unsigned t = 0; t < info->n_tests; t++) {
            evonet_forward(net, info->test_in + (size_t)t * n_in, y, s);
            fprintf(o, "    {");
            for (unsigned k = 0; k < n_out; k++)
                fprintf(o, "%d%s", y[k], k + 1 < n_out ? ", " : "");
            fprintf(o, "},\n");
        }
        fprintf(o, "};\n\n");
        free(y);
        free(s);
    }
    fprintf(o, "/* in: %u int16 inputs; out: %u int16 outputs. Stack: %s_STACK_BYTES. */\n", n_in,
            n_out, up);
    fprintf(o, "static inline void %s_infer(const int16_t in[], int16_t out[])\n{\n", nm);
    fprintf(o, "    uint8_t scratch[%s_SCRATCH_BYTES + 1];\n", up);
    fprintf(o, "    evonet_forward(&%s_net, in, out, scratch);\n}\n\n", nm);
    if (info->class_names)
        emit_classify(o, nm, up, n_out, info->class_names);
    fprintf(o, "/* 0 when every self-test vector gives its expected output; otherwise the\n"
               " * 1-based index of the first that does not. */\n");
    fprintf(o, "static inline int %s_selftest(void)\n{\n", nm);
    if (info->n_tests) {
        fprintf(o, "    for (int t = 0; t < %s_N_TESTS; t++) {\n", up);
        fprintf(o, "        int16_t out[%s_N_OUT];\n", up);
        fprintf(o, "        %s_infer(%s_test_in[t], out);\n", nm, nm);
        fprintf(o, "        for (int k = 0; k < %s_N_OUT; k++)\n", up);
        fprintf(o, "            if (out[k] != %s_test_out[t][k])\n", nm);
        fprintf(o, "                return t + 1;\n    }\n");
    }
    fprintf(o, "    return 0;\n}\n\n#endif /* %s_H */\n", up);
    return ferror(o) ? -1 : 0;
}
