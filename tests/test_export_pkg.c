/* The exported network in other people's builds (issue 21): the header's
 * name, refusal and directories; what it documents; C++ on the host and
 * the Cortex-M0; the Arduino, PlatformIO, Zephyr and Rust packages, each
 * built as its ecosystem builds it as far as this machine allows (a tool
 * that is missing skips its test), the Rust crate compared with the C
 * kernel bit for bit. ET_BIN is the evotrain binary (the ASan build). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evonet_check.h"
#include "export.h"
#include "export_rust.h"
#include "testutil.h"

static char tmp[256], run_dir[300];
static const char *bin;

#define ARM_FLAGS "-mcpu=cortex-m0 -mthumb"
#define QEMU                                                                                       \
    "timeout 60 qemu-system-arm -M microbit -display none -monitor none -serial none -chardev "    \
    "stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh"
/* The firmware test's start-up and memory map, for every M0 image here. */
#define M0_LINK "-nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections"

static int have(const char *tool)
{
    return run("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* Debian's rustc (the one CI installs) before any other on PATH. */
static const char *rustc(void)
{
    if (run("test -x /usr/bin/rustc") == 0)
        return "/usr/bin/rustc";
    return have("rustc") ? "rustc" : NULL;
}

static int have_m0(void)
{
    return have("arm-none-eabi-gcc") && have("arm-none-eabi-g++") && have("qemu-system-arm");
}

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_pkg_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    if (run("%s --config tests/data/tiny.ini --out %s --force -q", bin, tmp) != 0)
        return -1;
    snprintf(run_dir, sizeof run_dir, "%s/tiny", tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf %s", tmp);
    return 0;
}

static int contains(const char *path, const char *text)
{
    char *t = slurp(path, NULL);
    int yes = t && strstr(t, text);
    free(t);
    return yes;
}

/* -o imu_net.h names everything imu_net / IMU_NET_ unless --name; missing
 * directories are made; a file export did not write is refused unless
 * --force, one it wrote is replaced. */
static void test_header_name_force_dirs(void **state)
{
    (void)state;
    char h[400], p[400];
    snprintf(h, sizeof h, "%s/new/sub/imu_net.h", tmp);
    assert_int_equal(run("%s export %s -o %s -q", bin, run_dir, h), 0);
    assert_true(contains(h, "static inline void imu_net_infer(const int16_t in[]"));
    assert_true(contains(h, "#define IMU_NET_N_IN 18\n"));
    assert_true(contains(h, "#ifndef IMU_NET_H\n"));
    assert_false(contains(h, "pose_net"));
    /* Its own file again, and another name. */
    assert_int_equal(run("%s export %s -o %s --name other -q", bin, run_dir, h), 0);
    assert_true(contains(h, "other_infer") && !contains(h, "imu_net_infer"));
    /* A name made an identifier. */
    snprintf(p, sizeof p, "%s/9-axis.net.h", tmp);
    assert_int_equal(run("%s export %s -o %s -q", bin, run_dir, p), 0);
    assert_true(contains(p, "_9_axis_net_infer"));
    /* Somebody's file: refused, untouched, named; --force replaces it. */
    snprintf(p, sizeof p, "%s/mine.h", tmp);
    assert_int_equal(run("echo '/* my header */' > %s", p), 0);
    assert_int_equal(run("%s export %s -o %s 2> %s/err", bin, run_dir, p, tmp), 1);
    assert_int_equal(run("grep -qx '/\\* my header \\*/' %s", p), 0);
    char err[300];
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_true(contains(err, "mine.h: exists and was not written by evotrain export"));
    assert_int_equal(run("%s export %s -o %s --force -q", bin, run_dir, p), 0);
    assert_true(contains(p, "mine_infer"));
    /* A bad --format is a usage error. */
    assert_int_equal(run("%s export %s --format cobol -o %s/x 2>/dev/null", bin, run_dir, tmp), 2);
}

/* The header says what firmware needs: each input's ADC scaling, each
 * output's unit and step, the pose box, the rotation convention, and the
 * stack: the kernel's measured EVONET_STACK_BYTES plus the scratch. */
static void test_header_documents(void **state)
{
    (void)state;
    char h[400], want[200];
    snprintf(h, sizeof h, "%s/doc_net.h", tmp);
    assert_int_equal(run("%s export %s -o %s -q", bin, run_dir, h), 0);
    static const char *const lines[] = {
        " *   in[0] s0_x, in[1] s0_y,",
        "in[17] s5_z\n",
        "counts = round(B / 0.098 mT), clamped to [-2048, 2047]",
        " *   out[0] x: 0.01 mm per step\n",
        " *   out[5] yaw: 0.01 deg per step\n",
        "x_mm [-5, 5], y_mm [-5, 5], z_mm [-5, 5], roll_deg [-20, 20]",
        "R = Rz(yaw) Ry(pitch) Rx(roll)",
        "outputs are\n * extrapolated",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!contains(h, lines[i]))
            fail_msg("the header lacks \"%s\"", lines[i]);
    /* tiny.ini: hidden 8 8, scratch 2 x 8 bytes, + 1, 8-aligned: 24. */
    snprintf(want, sizeof want, "#define DOC_NET_STACK_BYTES %d\n", EVONET_STACK_BYTES + 24);
    assert_true(contains(h, want));
    assert_true(EVONET_STACK_BYTES >= 112); /* the -O2 frame alone, issue 21 */
}

/* C++ on the host: the header and the kernel (compiled as C) link with g++
 * under -pedantic -Werror, and the self-test passes. The M0 twin: the same
 * with arm-none-eabi-g++ as firmware, run under QEMU. */
static void test_cpp(void **state)
{
    (void)state;
    if (!have("g++")) {
        skip();
        return;
    }
    char d[300];
    snprintf(d, sizeof d, "%s/cpp", tmp);
    assert_int_equal(run("%s export %s -o %s/imu_net.h -q", bin, run_dir, d), 0);
    const char *defs = "-DNET_H=imu_net.h -DNET=imu_net -DNET_UP=IMU_NET";
    assert_int_equal(run("cc -std=c99 -O2 -Iinclude -c src/kernel/evonet.c -o %s/evonet.o && "
                         "g++ -std=c++11 -Wall -Wextra -Werror -pedantic -O2 -Iinclude -I%s %s "
                         "tests/pkg/cpp_main.cpp %s/evonet.o -o %s/host && %s/host > %s/host.txt",
                         d, d, defs, d, d, d, d),
                     0);
    assert_int_equal(run("head -1 %s/host.txt | grep -qx 'self-test: ok'", d), 0);
    if (!have_m0())
        return;
    assert_int_equal(
        run("arm-none-eabi-gcc -std=c99 " ARM_FLAGS " -ffreestanding -O2 -Iinclude -c "
            "src/kernel/evonet.c -o %s/k.o && arm-none-eabi-gcc -std=c99 " ARM_FLAGS
            " -O2 -ffreestanding -fno-tree-loop-distribute-patterns -c "
            "tests/firmware/startup.c -o %s/s.o && arm-none-eabi-g++ -std=c++11 " ARM_FLAGS
            " -O2 -fno-exceptions -fno-rtti -Wall -Wextra -Werror -pedantic -DON_M0 -Iinclude "
            "-I%s %s -c tests/pkg/cpp_main.cpp -o %s/m.o && arm-none-eabi-g++ " ARM_FLAGS
            " " M0_LINK " -o %s/m0.elf %s/s.o %s/m.o %s/k.o -lgcc",
            d, d, d, defs, d, d, d, d, d),
        0);
    assert_int_equal(run(QEMU " -kernel %s/m0.elf > %s/m0.txt", d, d), 0);
    assert_int_equal(run("cmp -s %s/host.txt %s/m0.txt", d, d), 0);
}

/* The host C++ build of package pkg's header and kernel (both in src/):
 * the lines the example must print, into pkg/host.txt. */
static void host_reference(const char *pkg)
{
    assert_int_equal(run("cc -std=c99 -O2 -I%s/src -c %s/src/evonet.c -o %s/ref_k.o && g++ "
                         "-std=c++11 -O2 -I%s/src -DNET_H=imu_net.h -DNET=imu_net -DNET_UP=IMU_NET "
                         "tests/pkg/cpp_main.cpp %s/ref_k.o -o %s/ref && %s/ref > %s/host.txt",
                         pkg, pkg, pkg, pkg, pkg, pkg, pkg, pkg),
                     0);
}

/* The example sketch as the Arduino IDE builds a library's example for a
 * Cortex-M0 board: the .ino as C++ after #include <Arduino.h>, the
 * library's src/ on the include path and its .c files compiled as C; it
 * runs under QEMU and prints what the host build of the header prints. */
static void build_sketch(const char *pkg)
{
    char d[400];
    snprintf(d, sizeof d, "%s/build", pkg);
    assert_int_equal(run("mkdir -p %s && { echo '#include <Arduino.h>'; echo '#line 1'; cat "
                         "%s/examples/imu_net_selftest/imu_net_selftest.ino; } > %s/sketch.cpp",
                         d, pkg, d),
                     0);
    const char *cxx = "arm-none-eabi-g++ -std=gnu++11 " ARM_FLAGS
                      " -Os -g -ffunction-sections -fdata-sections -fno-threadsafe-statics "
                      "-fno-rtti -fno-exceptions -Wall -Wextra -Werror -Itests/pkg";
    assert_int_equal(
        run("for c in %s/src/*.c; do arm-none-eabi-gcc -std=gnu11 " ARM_FLAGS
            " -Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -I%s/src -c $c "
            "-o %s/$(basename $c).o || exit 1; done && %s -I%s/src -c %s/sketch.cpp -o "
            "%s/sketch.o && %s -c tests/pkg/arduino_main.cpp -o %s/core.o && "
            "arm-none-eabi-gcc -std=c99 " ARM_FLAGS
            " -Os -ffreestanding -fno-tree-loop-distribute-patterns -c tests/firmware/startup.c -o "
            "%s/startup.o && arm-none-eabi-g++ " ARM_FLAGS " " M0_LINK " -o %s/sketch.elf %s/*.o "
            "-lgcc",
            pkg, pkg, d, cxx, pkg, d, d, cxx, d, d, d, d),
        0);
    assert_int_equal(run(QEMU " -kernel %s/sketch.elf > %s/serial.txt", d, d), 0);
    assert_int_equal(run("sed -n 1p %s/serial.txt | grep -qx 'imu_net self-test: ok'", d), 0);
    assert_int_equal(
        run("[ \"$(sed -n 2p %s/serial.txt)\" = \"$(sed -n 2p %s/host.txt)\" ]", d, pkg), 0);
}

static void test_arduino(void **state)
{
    (void)state;
    char pkg[300];
    snprintf(pkg, sizeof pkg, "%s/ard/imu_net", tmp);
    assert_int_equal(run("%s export %s --format arduino -o %s -q", bin, run_dir, pkg), 0);
    static const char *const files[] = {"library.properties", "src/evonet.h", "src/evonet.c",
                                        "src/imu_net.h",
                                        "examples/imu_net_selftest/imu_net_selftest.ino"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        assert_int_equal(run("test -s %s/%s", pkg, files[i]), 0);
    /* The network header is export -o's text; the kernel is `kernel`'s. */
    assert_int_equal(run("%s export %s -o %s/plain/imu_net.h -q && cmp -s %s/plain/imu_net.h "
                         "%s/src/imu_net.h && cmp -s include/evonet.h %s/src/evonet.h && cmp -s "
                         "src/kernel/evonet.c %s/src/evonet.c",
                         bin, run_dir, tmp, tmp, pkg, pkg, pkg),
                     0);
    char props[400];
    snprintf(props, sizeof props, "%s/library.properties", pkg);
    static const char *const keys[] = {
        "\nname=imu_net\n", "\nversion=",          "\nsentence=",           "\nparagraph=",
        "\ncategory=",      "\narchitectures=*\n", "\nincludes=imu_net.h\n"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(contains(props, keys[i]));
    /* Exported again: its own files are replaced without --force. */
    assert_int_equal(run("%s export %s --format arduino -o %s -q", bin, run_dir, pkg), 0);
    if (!have_m0() || !have("g++")) {
        skip();
        return;
    }
    host_reference(pkg);
    build_sketch(pkg);
}

static void test_platformio(void **state)
{
    (void)state;
    char pkg[300];
    snprintf(pkg, sizeof pkg, "%s/pio/imu_net", tmp);
    assert_int_equal(run("%s export %s --format platformio -o %s -q", bin, run_dir, pkg), 0);
    assert_int_equal(run("test -s %s/src/imu_net.h && test -s %s/src/evonet.c && test -s "
                         "%s/examples/imu_net_selftest/imu_net_selftest.ino",
                         pkg, pkg, pkg),
                     0);
    /* library.json: valid JSON with the manifest's fields. */
    char json[400];
    snprintf(json, sizeof json, "%s/library.json", pkg);
    if (run("test -x /usr/bin/python3") == 0)
        assert_int_equal(
            run("/usr/bin/python3 -c 'import json,sys; m = json.load(open(sys.argv[1])); "
                "assert m[\"name\"] == \"imu_net\" and m[\"version\"] and m[\"build\"][\"srcDir\"] "
                "== \"src\" and m[\"frameworks\"] == \"*\" and m[\"headers\"] == \"imu_net.h\"' "
                "%s",
                json),
            0);
    else
        assert_true(contains(json, "\"name\": \"imu_net\""));
    if (!have_m0() || !have("g++")) {
        skip();
        return;
    }
    host_reference(pkg);
    build_sketch(pkg);
}

/* The Zephyr module: module.yml names the build files, CMakeLists.txt
 * builds the kernel under the Kconfig symbol, and the sources compile for
 * the Cortex-M0 as Zephyr compiles a module (C, -Werror, include/ added). */
static void test_zephyr(void **state)
{
    (void)state;
    char pkg[300], f[400];
    snprintf(pkg, sizeof pkg, "%s/zep/imu_net", tmp);
    assert_int_equal(run("%s export %s --format zephyr -o %s -q", bin, run_dir, pkg), 0);
    snprintf(f, sizeof f, "%s/zephyr/module.yml", pkg);
    assert_true(contains(f, "\nname: imu_net\nbuild:\n  cmake: .\n  kconfig: Kconfig\n"));
    snprintf(f, sizeof f, "%s/CMakeLists.txt", pkg);
    assert_true(contains(f, "if(CONFIG_IMU_NET)\n  zephyr_library()\n"));
    assert_true(contains(f, "zephyr_library_sources(src/evonet.c)"));
    assert_true(contains(f, "zephyr_include_directories(include)"));
    snprintf(f, sizeof f, "%s/Kconfig", pkg);
    assert_true(contains(f, "\nconfig IMU_NET\n\tbool "));
    assert_int_equal(run("test -s %s/include/imu_net.h && test -s %s/include/evonet.h && test -s "
                         "%s/src/evonet.c",
                         pkg, pkg, pkg),
                     0);
    if (!have("arm-none-eabi-gcc")) {
        skip();
        return;
    }
    assert_int_equal(
        run("printf '#include <imu_net.h>\\nint main(void);\\nint main(void)\\n{\\n    return "
            "imu_net_selftest();\\n}\\n' > %s/app.c && for c in %s/src/evonet.c %s/app.c; do "
            "arm-none-eabi-gcc -std=c11 " ARM_FLAGS " -Os -Wall -Wextra -Werror -pedantic "
            "-I%s/include -c $c -o $c.o || exit 1; done",
            pkg, pkg, pkg, pkg),
        0);
}

/* A fixed pseudo-random stream for the comparison's inputs and network. */
static uint32_t lcg = 12345;
static uint32_t next(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lcg >> 8;
}

/* Input vectors for n_in inputs: the extremes, alternating ADC limits and
 * random values of every magnitude, as text. */
static void write_vectors(const char *path, unsigned n_in, unsigned n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static const int ext[] = {-32768, 32767, 0, -1, 1, -2048, 2047};
    for (unsigned v = 0; v < n; v++) {
        for (unsigned i = 0; i < n_in; i++) {
            int x;
            if (v < 7)
                x = ext[v];
            else if (v < 9)
                x = ((i + v) & 1) ? 32767 : -32768;
            else {
                int span = v % 3 == 0 ? 65536 : v % 3 == 1 ? 4096 : 400;
                x = (int)(next() % (uint32_t)span) - span / 2;
            }
            fprintf(f, "%d%c", x, i + 1 < n_in ? ' ' : '\n');
        }
    }
    assert_int_equal(fclose(f), 0);
}

/* The crate in dir (name: its file names) built with rustc, its outputs on
 * the vectors against the C kernel's through the C header hdr. */
static void rust_matches_c(const char *rs, const char *dir, const char *hdr_dir, const char *name,
                           const char *up, unsigned n_in)
{
    char vec[400];
    snprintf(vec, sizeof vec, "%s/vectors.txt", dir);
    write_vectors(vec, n_in, 400);
    assert_int_equal(
        run("%s --edition 2018 --crate-type rlib --crate-name net -D warnings -C debug-assertions "
            "%s/src/lib.rs -o %s/libnet.rlib && %s --edition 2018 -D warnings -C debug-assertions "
            "--extern net=%s/libnet.rlib tests/pkg/harness.rs -o %s/harness_rs",
            rs, dir, dir, rs, dir, dir),
        0);
    assert_int_equal(
        run("cc -std=c99 -O2 -Iinclude -I%s -DNET_H=%s.h -DNET=%s -DNET_UP=%s tests/pkg/harness.c "
            "src/kernel/evonet.c -o %s/harness_c",
            hdr_dir, name, name, up, dir),
        0);
    /* Exit 0: the crate's own selftest() passes too. */
    assert_int_equal(run("%s/harness_rs < %s > %s/rust.txt", dir, vec, dir), 0);
    assert_int_equal(run("%s/harness_c < %s > %s/c.txt", dir, vec, dir), 0);
    assert_int_equal(
        run("test $(wc -l < %s/c.txt) = 400 && cmp %s/c.txt %s/rust.txt", dir, dir, dir), 0);
}

/* The trained network as a crate. */
static void test_rust_trained(void **state)
{
    (void)state;
    const char *rs = rustc();
    char pkg[300];
    snprintf(pkg, sizeof pkg, "%s/rs/imu_net", tmp);
    assert_int_equal(run("%s export %s --format rust -o %s -q", bin, run_dir, pkg), 0);
    char f[400];
    snprintf(f, sizeof f, "%s/Cargo.toml", pkg);
    assert_true(contains(f, "\nname = \"imu_net\"\n"));
    snprintf(f, sizeof f, "%s/src/lib.rs", pkg);
    assert_true(contains(f, "\n#![no_std]\n"));
    assert_true(contains(f, "\nconst W0: [u8; 144] = ["));
    assert_true(contains(f, "//!   out[0] x: 0.01 mm per step\n"));
    if (!rs) {
        skip();
        return;
    }
    assert_int_equal(run("%s export %s -o %s/imu_net.h -q", bin, run_dir, pkg), 0);
    rust_matches_c(rs, pkg, pkg, "imu_net", "IMU_NET", 18);
}

/* A random network that saturates often, with widths that leave partial
 * groups (20 -> 11 -> 9 -> 5), one of a single layer, and one whose layers
 * hold int4, ternary and int2 weights: written by the exporters directly,
 * compared on extreme inputs. */
static void test_rust_random(void **state)
{
    (void)state;
    const char *rs = rustc();
    if (!rs) {
        skip();
        return;
    }
    static const unsigned shapes[3][5] = {{20, 11, 9, 5, 0}, {7, 3, 0}, {20, 11, 9, 5, 0}};
    static const unsigned n_layers[3] = {3, 1, 3};
    static const unsigned fmts[3][3] = {
        {EVONET_W8, EVONET_W8, EVONET_W8}, {EVONET_W8}, {EVONET_W4, EVONET_WT, EVONET_W2}};
    for (int s = 0; s < 3; s++) {
        unsigned nl = n_layers[s];
        evonet_layer L[3];
        uint8_t *w[3];
        evonet_chan *c[3];
        for (unsigned l = 0; l < nl; l++) {
            unsigned ni = shapes[s][l], no = shapes[s][l + 1], po = EVONET_PAD(no), f = fmts[s][l];
            int lo, hi;
            assert_true(evonet_wfmt_range(f, &lo, &hi) > 0);
            w[l] = calloc(evonet_weight_bytes(f, ni, no), 1);
            c[l] = calloc(po, sizeof *c[l]);
            for (unsigned o = 0; o < po; o++) {
                for (unsigned i = 0; i < ni; i++)
                    evonet_weight_put(w[l], f, ni, o, i,
                                      o < no ? lo + (int)(next() % (uint32_t)(hi - lo + 1)) : 0);
                c[l][o].bias = o < no ? (int32_t)(next() % 200001) - 100000 : 0;
                double scale = (l + 1 < nl ? 300.0 : 60000.0) / (150.0 * 74.0 * 4.0);
                evonet_requant_from_scale(scale * (0.2 + (next() % 1000) / 250.0), &c[l][o].mult,
                                          &c[l][o].shift);
            }
            L[l] = (evonet_layer){.w = w[l],
                                  .chan = c[l],
                                  .n_in = (uint16_t)ni,
                                  .n_out = (uint16_t)no,
                                  .wfmt = (uint16_t)f};
        }
        evonet net = {L, (uint16_t)nl};
        char err[256];
        assert_int_equal(evonet_validate(&net, err, sizeof err), 0);
        int16_t tin[3 * 20];
        for (size_t i = 0; i < sizeof tin / sizeof tin[0]; i++)
            tin[i] = (int16_t)(next() % 4096) - 2048;
        et_export_info info = {.name = "rnd",
                               .provenance = "a random network of tests/test_export_pkg.c",
                               .input_doc = "int16 values",
                               .test_in = tin,
                               .n_tests = 3};
        char dir[300], path[400];
        snprintf(dir, sizeof dir, "%s/rnd%d", tmp, s);
        assert_int_equal(run("mkdir -p %s/src", dir), 0);
        snprintf(path, sizeof path, "%s/rnd.h", dir);
        FILE *f = fopen(path, "w");
        assert_int_equal(et_export_write(f, &net, &info), 0);
        assert_int_equal(fclose(f), 0);
        snprintf(path, sizeof path, "%s/src/lib.rs", dir);
        f = fopen(path, "w");
        assert_int_equal(et_export_rust(f, &net, &info), 0);
        assert_int_equal(fclose(f), 0);
        rust_matches_c(rs, dir, dir, "rnd", "RND", shapes[s][0]);
        /* The comparison saw saturated outputs, not only the easy middle. */
        char c_out[400];
        snprintf(c_out, sizeof c_out, "%s/c.txt", dir);
        assert_true(contains(c_out, "32767") && contains(c_out, "-32768"));
        for (unsigned l = 0; l < nl; l++) {
            free(w[l]);
            free(c[l]);
        }
    }
}

/* A package refuses to replace a file it did not write (nothing written),
 * unless --force. */
static void test_package_refusal(void **state)
{
    (void)state;
    char pkg[300];
    snprintf(pkg, sizeof pkg, "%s/mine/imu_net", tmp);
    assert_int_equal(run("mkdir -p %s && echo 'name=mine' > %s/library.properties", pkg, pkg), 0);
    assert_int_equal(run("%s export %s --format arduino -o %s 2> %s/err", bin, run_dir, pkg, tmp),
                     1);
    char err[300];
    snprintf(err, sizeof err, "%s/err", tmp);
    assert_true(contains(err, "library.properties: exists and was not written by evotrain export"));
    assert_int_equal(run("test ! -e %s/src && grep -qx name=mine %s/library.properties", pkg, pkg),
                     0);
    assert_int_equal(run("%s export %s --format arduino -o %s --force -q", bin, run_dir, pkg), 0);
    assert_int_equal(run("grep -q '^name=imu_net$' %s/library.properties", pkg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_name_force_dirs),
        cmocka_unit_test(test_header_documents),
        cmocka_unit_test(test_cpp),
        cmocka_unit_test(test_arduino),
        cmocka_unit_test(test_platformio),
        cmocka_unit_test(test_zephyr),
        cmocka_unit_test(test_rust_trained),
        cmocka_unit_test(test_rust_random),
        cmocka_unit_test(test_package_refusal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
