/* export_rust: an integer network -> a no_std Rust crate's lib.rs with the
 * evonet kernel's arithmetic, for firmware written in Rust. */
#include "export_rust.h"

#include <stdlib.h>
#include <string.h>

#include "evonet_check.h"
#include "util.h"

/* The header's comment lines (" * ...") as Rust doc lines ("//! ..."). */
static void doc_lines(FILE *o, const char *doc)
{
    while (doc && *doc) {
        const char *nl = strchr(doc, '\n');
        size_t n = nl ? (size_t)(nl - doc) : strlen(doc);
        if (n >= 2 && doc[0] == ' ' && doc[1] == '*') {
            doc += 2;
            n -= 2;
        }
        fprintf(o, "//!%.*s\n", (int)n, doc);
        doc += n + (nl ? 1 : 0);
    }
}

static void emit_u8(FILE *o, const char *name, const uint8_t *v, size_t n)
{
    fprintf(o, "const %s: [u8; %zu] = [", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s%u,", i % 16 ? " " : "\n    ", v[i]);
    fprintf(o, "\n];\n");
}

static void emit_i16_rows(FILE *o, const char *decl, const int16_t *v, unsigned rows, unsigned cols)
{
    fprintf(o, "%s = [\n", decl);
    for (unsigned r = 0; r < rows; r++) {
        fprintf(o, "    [");
        for (unsigned c = 0; c < cols; c++)
            fprintf(o, "%d%s", v[(size_t)r * cols + c], c + 1 < cols ? ", " : "");
        fprintf(o, "],\n");
    }
    fprintf(o, "];\n");
}

/* The kernel, as evonet.h defines it: the reference loop order (one output
 * at a time) gives the same bits as evonet.c's grouped loops, since every
 * step is exact integer arithmetic; wrapping operations keep the partial
 * sums defined exactly as the C kernel's unsigned accumulators do. */
static const char kernel_rs[] =
    "#[derive(Clone, Copy)]\n"
    "struct Chan {\n"
    "    bias: i32,\n"
    "    mult: u16,\n"
    "    shift: u16,\n"
    "}\n"
    "\n"
    "struct Layer {\n"
    "    w: &'static [u8],\n"
    "    c: &'static [Chan],\n"
    "    n_in: usize,\n"
    "    n_out: usize,\n"
    "    fmt: u8,\n"
    "}\n"
    "\n"
    "/// The weight of output k of group g for input i, in the layer's format\n"
    "/// (evonet.h): 0 int8 stored w + 128, 1 int4 nibbles (low first), 2 int2\n"
    "/// and 3 ternary as two bit planes per input and group.\n"
    "#[inline]\n"
    "fn weight(layer: &Layer, g: usize, i: usize, k: usize) -> i32 {\n"
    "    let gi = g * layer.n_in + i;\n"
    "    match layer.fmt {\n"
    "        0 => layer.w[gi * GROUP + k] as i32 - 128,\n"
    "        1 => {\n"
    "            let nib = ((layer.w[gi * 4 + k / 2] >> (4 * (k & 1))) & 15) as i32;\n"
    "            if nib >= 8 { nib - 16 } else { nib }\n"
    "        }\n"
    "        f => {\n"
    "            let p = ((layer.w[gi * 2] >> k) & 1) as i32;\n"
    "            let m = ((layer.w[gi * 2 + 1] >> k) & 1) as i32;\n"
    "            if f == 2 { p - 2 * m } else { p - m }\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/// floor(acc * m / 2^(16 + r)), exact with 32-bit products, as evonet.c\n"
    "/// computes it: acc in [-2^30, 2^30], m in [1, 65535], r in [0, 31].\n"
    "#[inline]\n"
    "fn requant(acc: i32, m: u16, r: u16) -> i32 {\n"
    "    let hi = acc >> 16;\n"
    "    let lo = (acc as u32) & 0xffff;\n"
    "    let m = m as u32;\n"
    "    (hi.wrapping_mul(m as i32)).wrapping_add(((lo * m) >> 16) as i32) >> r\n"
    "}\n"
    "\n"
    "/// Runs the network on one input vector, bit for bit as the evonet C kernel.\n"
    "pub fn infer(input: &[i16; N_IN], out: &mut [i16; N_OUT]) {\n"
    "    let mut cur = [0u8; SCRATCH];\n"
    "    let mut nxt = [0u8; SCRATCH];\n"
    "    for (l, layer) in LAYERS.iter().enumerate() {\n"
    "        let last = l + 1 == LAYERS.len();\n"
    "        for o in 0..layer.n_out {\n"
    "            let (g, k) = (o / GROUP, o % GROUP);\n"
    "            let mut acc = layer.c[o].bias;\n"
    "            for i in 0..layer.n_in {\n"
    "                let x = if l == 0 { input[i] as i32 } else { cur[i] as i32 };\n"
    "                let w = weight(layer, g, i, k);\n"
    "                acc = acc.wrapping_add(w.wrapping_mul(x));\n"
    "            }\n"
    "            let y = requant(acc, layer.c[o].mult, layer.c[o].shift);\n"
    "            if last {\n"
    "                out[o] = y.max(-32768).min(32767) as i16;\n"
    "            } else {\n"
    "                nxt[o] = y.max(0).min(255) as u8;\n"
    "            }\n"
    "        }\n"
    "        cur = nxt;\n"
    "    }\n"
    "}\n"
    "\n"
    "/// 0 when every self-test vector gives its expected output; otherwise the\n"
    "/// 1-based index of the first that does not.\n"
    "pub fn selftest() -> usize {\n"
    "    let mut out = [0i16; N_OUT];\n"
    "    for t in 0..N_TESTS {\n"
    "        infer(&TEST_IN[t], &mut out);\n"
    "        if out != TEST_OUT[t] {\n"
    "            return t + 1;\n"
    "        }\n"
    "    }\n"
    "    0\n"
    "}\n";

int et_export_rust(FILE *o, const evonet *net, const et_export_info *info)
{
    char err[256];
    if (evonet_validate(net, err, sizeof err) != 0) {
        et_error(NULL, 0, "export: the kernel cannot run this network exactly: %s", err);
        return -1;
    }
    unsigned nl = net->n_layers;
    unsigned n_in = net->layers[0].n_in, n_out = net->layers[nl - 1].n_out;
    size_t scratch = evonet_scratch_bytes(net) / 2;
    fprintf(o, "//! %s: %s.\n", info->name, ET_EXPORT_MARKER);
    fprintf(o, "//! %s\n//!\n", info->provenance);
    doc_lines(o, info->doc);
    fprintf(
        o,
        "//!\n//! The evonet kernel's integer arithmetic (ABI version %d) in safe Rust, no_std,\n"
        "//! no float, no heap: `infer(&input, &mut out)`; `selftest() == 0` on a good\n"
        "//! build. The weights are stored as in evonet.h (int8 as w + 128, int4,\n"
        "//! int2 or ternary packed), interleaved in groups of %d outputs.\n",
        EVONET_ABI_VERSION, EVONET_GROUP);
    fprintf(o, "#![no_std]\n\n");
    fprintf(o, "pub const N_IN: usize = %u;\npub const N_OUT: usize = %u;\n", n_in, n_out);
    fprintf(o, "pub const N_TESTS: usize = %u;\n", info->n_tests);
    fprintf(o, "const GROUP: usize = %d;\n", EVONET_GROUP);
    /* One activation buffer of the widest hidden layer (at least one byte,
     * as Rust has no use for an empty one either). */
    fprintf(o, "const SCRATCH: usize = %zu;\n\n", scratch ? scratch : 1);
    fputs(kernel_rs, o);
    fputc('\n', o);
    char nm[32];
    for (unsigned l = 0; l < nl; l++) {
        const evonet_layer *L = &net->layers[l];
        size_t po = (size_t)EVONET_PAD(L->n_out);
        static const char *const fmt_name[] = {"int8", "int4", "int2", "ternary"};
        fprintf(o, "// layer %u: %u -> %u, %s weights\n", l, L->n_in, L->n_out, fmt_name[L->wfmt]);
        snprintf(nm, sizeof nm, "W%u", l);
        emit_u8(o, nm, L->w, evonet_weight_bytes(L->wfmt, L->n_in, L->n_out));
        fprintf(o, "const C%u: [Chan; %zu] = [\n", l, po);
        for (size_t k = 0; k < po; k++)
            fprintf(o, "    Chan { bias: %ld, mult: %u, shift: %u },\n", (long)L->chan[k].bias,
                    L->chan[k].mult, L->chan[k].shift);
        fprintf(o, "];\n\n");
    }
    fprintf(o, "static LAYERS: [Layer; %u] = [\n", nl);
    for (unsigned l = 0; l < nl; l++)
        fprintf(o, "    Layer { w: &W%u, c: &C%u, n_in: %u, n_out: %u, fmt: %u },\n", l, l,
                net->layers[l].n_in, net->layers[l].n_out, (unsigned)net->layers[l].wfmt);
    fprintf(o, "];\n\n");

    /* The expected outputs come from the C kernel itself. */
    int16_t *y = et_malloc(sizeof *y * ((size_t)info->n_tests * n_out + 1));
    uint8_t *s = et_malloc(2 * scratch + 1);
    for (unsigned t = 0; t < info->n_tests; t++)
        evonet_forward(net, info->test_in + (size_t)t * n_in, y + (size_t)t * n_out, s);
    fprintf(o, "/// Self-test vectors: inputs, and the outputs the C kernel gives for them.\n");
    emit_i16_rows(o, "pub const TEST_IN: [[i16; N_IN]; N_TESTS]", info->test_in, info->n_tests,
                  n_in);
    emit_i16_rows(o, "pub const TEST_OUT: [[i16; N_OUT]; N_TESTS]", y, info->n_tests, n_out);
    free(y);
    free(s);
    return ferror(o) ? -1 : 0;
}
