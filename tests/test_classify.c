/* test_classify: [data] task = classify end to end through the binary: a
 * labelled CSV (names or indices) trains an integer classifier, the same
 * bits on 1 and 2 threads and after a resume; eval counts its errors the way
 * the exported header's NAME_classify decides (checked by compiling the
 * header and running it on the test file); and every bad label is refused
 * with its file, line and value. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

static char tmp[256];
static const char *bin;

static int setup(void **state)
{
    (void)state;
    bin = getenv("ET_BIN");
    if (!bin)
        bin = "build/test/evotrain";
    snprintf(tmp, sizeof tmp, "/tmp/et_cls_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", tmp);
}

/* A uniform in [0, 1) from a 64-bit LCG (Knuth's MMIX constants). */
static double unif(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

static const char *const colors[3] = {"red", "green", "blue"};

/* n rows of three well separated blobs in four inputs; the label column is
 * the class name (names 1) or its index. labels, if given, overrides the
 * class of row r with labels[r % nl] (for the bad-input cases). */
static void write_blobs(const char *name, size_t n, uint64_t seed, int names)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "a,b,c,d,color\n");
    static const double centre[3][4] = {{0, 0, 0, 0}, {900, -600, 300, 0}, {-300, 900, -900, 600}};
    for (size_t r = 0; r < n; r++) {
        int c = (int)(unif(&seed) * 3);
        fprintf(f, "%d,%d,%d,%d,", (int)(centre[c][0] + 400 * (unif(&seed) - 0.5)),
                (int)(centre[c][1] + 400 * (unif(&seed) - 0.5)),
                (int)(centre[c][2] + 400 * (unif(&seed) - 0.5)),
                (int)(centre[c][3] + 400 * (unif(&seed) - 0.5)));
        if (names)
            fprintf(f, "%s\n", colors[c]);
        else
            fprintf(f, "%d\n", c);
    }
    fclose(f);
}

/* A classification config over tmp's files, with extra [data] lines. */
static void cls_ini(const char *path, const char *train, const char *valid, const char *test,
                    const char *extra)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[run]\nname = cls\nseed = 3\nthreads = 1\n\n[data]\nsource = csv\n%strain = %s/%s\n",
            strstr(extra, "task =") ? "" : "task = classify\n", tmp, train);
    if (valid)
        fprintf(f, "valid = %s/%s\n", tmp, valid);
    if (test)
        fprintf(f, "test = %s/%s\n", tmp, test);
    fprintf(f,
            "%s\n[network]\nhidden = 6\n\n[train]\nlambda = 12\nminibatch = 256\nrefit = "
            "512\ntime_limit_s = 0\nmax_generations = 40\nfloor_generations = 40\n"
            "checkpoint_every = 10\nvalid_every = 5\npolish_sweeps = 1\n",
            extra);
    fclose(f);
}

static char *read_tmp(const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    char *m = slurp(p, NULL);
    assert_non_null(m);
    return m;
}

/* The header of a run, named after the first run (k1) so that two runs'
 * headers compare. */
static char *header_of(const char *run_name)
{
    assert_int_equal(
        run("%s export %s/%s -o %s/%s.h --name k1 -q", bin, tmp, run_name, tmp, run_name), 0);
    char n[300];
    snprintf(n, sizeof n, "%s.h", run_name);
    return read_tmp(n);
}

static void assert_same_network(const char *a, const char *b)
{
    char *ha = header_of(a), *hb = header_of(b);
    assert_string_equal(strstr(ha, "#ifndef"), strstr(hb, "#ifndef"));
    free(ha);
    free(hb);
}

/* The exported classifier k1 on the Cortex-M0 under QEMU (at -O2 and -Os)
 * gives the host's classes and scores on every test row, and its self-test
 * passes there (skipped without the cross compiler or QEMU). */
static void assert_on_m0(void)
{
    if (run("command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > "
            "/dev/null") != 0) {
        fprintf(stderr, "test_classify: no arm-none-eabi-gcc or qemu-system-arm; the M0 run "
                        "is skipped\n");
        return;
    }
    assert_int_equal(run("%s export %s/k1 -o %s/cls_net.h --name cls_net -q", bin, tmp, tmp), 0);
    /* The test rows as int16 vectors (their inputs only). */
    assert_int_equal(
        run("{ echo '#include <stdint.h>'; echo \"#define CLS_N_VECTORS $(($(wc -l < "
            "%s/test.csv) - 1))\"; echo 'static const int16_t cls_vectors[][4] = {'; "
            "tail -n +2 %s/test.csv | cut -d, -f1-4 | sed 's/.*/    {&},/'; echo '};'; } > "
            "%s/cls_vectors.h",
            tmp, tmp, tmp),
        0);
    assert_int_equal(run("cc -std=c99 -Wall -Wextra -Werror -O2 -Iinclude -Itests/firmware -I%s "
                         "-o %s/cls_host tests/firmware/fw_classify.c tests/firmware/fw_host.c "
                         "src/kernel/evonet.c && %s/cls_host > %s/cls_host.txt",
                         tmp, tmp, tmp, tmp),
                     0);
    static const char *const opts[] = {"O2", "Os"};
    for (int o = 0; o < 2; o++) {
        assert_int_equal(
            run("arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0 -mthumb -ffreestanding "
                "-fno-tree-loop-distribute-patterns -%s -Wall -Wextra -Werror -Iinclude "
                "-Itests/firmware -I%s -nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections -o "
                "%s/cls_%s.elf tests/firmware/startup.c tests/firmware/fw_classify.c "
                "src/kernel/evonet.c",
                opts[o], tmp, tmp, opts[o]),
            0);
        assert_int_equal(run("timeout 120 qemu-system-arm -M microbit -display none -monitor none "
                             "-serial none -chardev stdio,id=sh -semihosting-config "
                             "enable=on,target=native,chardev=sh -kernel %s/cls_%s.elf > "
                             "%s/cls_%s.txt && cmp %s/cls_host.txt %s/cls_%s.txt",
                             tmp, opts[o], tmp, opts[o], tmp, tmp, opts[o]),
                         0);
    }
    /* And the device's classes are eval's: count them against the labels. */
    assert_int_equal(run("tail -n +2 %s/test.csv | cut -d, -f5 > %s/labels.txt && cut -d' ' -f1 "
                         "%s/cls_Os.txt | sed 's/^0$/blue/; s/^1$/green/; s/^2$/red/' | paste -d, "
                         "- %s/labels.txt | awk -F, '$1 == $2' | wc -l > %s/m0_ok.txt",
                         tmp, tmp, tmp, tmp, tmp),
                     0);
}

/* Names, sorted into classes blue, green, red; the same network on 1 and 2
 * threads and after a stop and resume; the header's NAME_classify on the
 * test rows agrees with eval's count, and its self-test passes. */
static void test_train_names(void **state)
{
    (void)state;
    write_blobs("train.csv", 3000, 1, 1);
    write_blobs("valid.csv", 500, 2, 1);
    write_blobs("test.csv", 1000, 3, 1);
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/cls.ini", tmp);
    cls_ini(cfg, "train.csv", "valid.csv", "test.csv", "");
    assert_int_equal(run("%s --config %s --out %s --name k1 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name k2 --threads 2 -q", bin, cfg, tmp), 0);
    assert_same_network("k1", "k2");
    assert_int_equal(
        run("%s --config %s --out %s --name k3 --max-generations 15 -q", bin, cfg, tmp), 0);
    assert_int_equal(run("%s --resume %s/k3 --max-generations 40 -q", bin, tmp), 0);
    assert_same_network("k1", "k3");

    /* The log has the error rates; eval the accuracy and the matrix. */
    char *log = read_tmp("k1/log.csv");
    assert_non_null(strstr(log, ",valid_error_pct,valid_blue_error_pct,valid_green_error_pct,"
                                "valid_red_error_pct"));
    free(log);
    assert_int_equal(run("%s eval %s/k1 > %s/ev.txt", bin, tmp, tmp), 0);
    char *ev = read_tmp("ev.txt");
    size_t correct = 0, n = 0;
    const char *acc = strstr(ev, "accuracy ");
    assert_non_null(acc);
    assert_int_equal(sscanf(strchr(acc, '(') + 1, "%zu of %zu", &correct, &n), 2);
    assert_int_equal(n, 1000);
    /* Separated blobs: a 4-6-3 network gets nearly all. */
    assert_true(correct >= 950);
    assert_non_null(strstr(ev, "confusion matrix"));
    /* The same file named with --data: the same count. */
    assert_int_equal(run("%s eval %s/k1 --data %s/test.csv > %s/ev2.txt", bin, tmp, tmp, tmp), 0);
    char *ev2 = read_tmp("ev2.txt");
    assert_string_equal(strstr(ev, "accuracy "), strstr(ev2, "accuracy "));
    free(ev2);
    free(ev);

    /* The firmware's choice over the test rows, counted against the labels. */
    char *h = header_of("k1");
    assert_non_null(strstr(h, "static const char *const k1_class_names[3] = {\n    \"blue\", "
                              "\"green\", \"red\"\n};"));
    assert_non_null(strstr(h, "static inline int k1_classify(const int16_t in[])"));
    /* Its comment: each output a class's score, the pool's class counts. */
    assert_non_null(strstr(h, " *   out[0] blue\n *   out[1] green\n *   out[2] red\n"));
    assert_non_null(strstr(h, "samples, of each class:\n *   blue "));
    free(h);
    assert_int_equal(
        run("printf '%%s\\n' '#include <stdio.h>' '#include <string.h>' '#include \"k1.h\"' "
            "'int main(void) {' '  char line[256], name[32]; int16_t in[4]; int a, b, c, d; "
            "long ok = 0;' '  if (k1_selftest()) return 2;' '  fgets(line, sizeof line, stdin);' "
            "'  while (fgets(line, sizeof line, stdin) && sscanf(line, \"%%d,%%d,%%d,%%d,%%31s\", "
            "&a, &b, &c, &d, name) == 5) {' '    in[0] = (int16_t)a; in[1] = (int16_t)b; in[2] "
            "= (int16_t)c; in[3] = (int16_t)d;' '    ok += "
            "!strcmp(k1_class_names[k1_classify(in)], "
            "name);' '  }' '  printf(\"%%ld\\n\", ok); return 0;' '}' > %s/fw.c && cc -std=c99 "
            "-Wall -Wextra -Werror -O2 -Iinclude -I%s -o %s/fw %s/fw.c src/kernel/evonet.c && "
            "%s/fw < %s/test.csv > %s/fw.txt",
            tmp, tmp, tmp, tmp, tmp, tmp, tmp),
        0);
    char *fw = read_tmp("fw.txt");
    assert_int_equal(strtol(fw, NULL, 10), (long)correct);
    free(fw);
    assert_on_m0();
    if (run("test -e %s/m0_ok.txt", tmp) == 0) {
        char *m0 = read_tmp("m0_ok.txt");
        assert_int_equal(strtol(m0, NULL, 10), (long)correct);
        free(m0);
    }

    /* The report and its figures (gnuplot is installed with the tests). */
    if (run("command -v gnuplot > /dev/null") == 0) {
        assert_int_equal(run("%s report %s/k1 -q", bin, tmp), 0);
        assert_int_equal(run("test -s %s/k1/confusion.png && grep -q 'Accuracy' "
                             "%s/k1/report.md",
                             tmp, tmp),
                         0);
    }
}

/* Integer labels are the class indices; the held-out rows validate; class
 * weights and every loss train. */
static void test_train_indices(void **state)
{
    (void)state;
    write_blobs("itrain.csv", 2000, 4, 0);
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/idx.ini", tmp);
    static const char *const extra[] = {"class_loss = mse\nclass_weight = 1 2 1",
                                        "class_loss = xent\nclass_weight = balanced",
                                        "class_loss = hinge\nclasses = zero one two"};
    for (int i = 0; i < 3; i++) {
        cls_ini(cfg, "itrain.csv", NULL, NULL, extra[i]);
        assert_int_equal(run("%s --config %s --out %s --name i%d -q", bin, cfg, tmp, i), 0);
        assert_int_equal(run("%s eval %s/i%d > %s/iev.txt", bin, tmp, i, tmp), 0);
        char *ev = read_tmp("iev.txt");
        size_t correct = 0, n = 0;
        const char *acc = strstr(ev, "accuracy ");
        assert_non_null(acc);
        assert_int_equal(sscanf(strchr(acc, '(') + 1, "%zu of %zu", &correct, &n), 2);
        assert_int_equal(n, 400); /* a fifth of the file validates */
        if (correct < 360)
            fail_msg("%s: %zu of %zu correct", extra[i], correct, n);
        /* The names: the indices, or those [data] classes gives. */
        assert_non_null(strstr(ev, i == 2 ? "\ntwo " : "\n2 "));
        free(ev);
    }
}

/* The gesture example (numpy): the program gives class indices, [data]
 * classes names them; 1 and 2 workers on 1 and 2 threads give the same
 * network, a label beyond the classes is refused with the sample, and the
 * float baseline script runs on the program's CSV. Skipped without numpy. */
static void test_gesture(void **state)
{
    (void)state;
    const char *py = NULL;
    static const char *const pys[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < 2 && !py; i++)
        if (run("%s -c 'import numpy' 2>/dev/null", pys[i]) == 0)
            py = pys[i];
    if (!py) {
        fprintf(stderr, "test_classify: no python3 with numpy; the gesture test is skipped\n");
        skip();
    }
    char c1[300], c2[300];
    snprintf(c1, sizeof c1, "%s/g1.ini", tmp);
    snprintf(c2, sizeof c2, "%s/g2.ini", tmp);
    static const char *const sed =
        "sed -e 's|^command = /usr/bin/python3|command = %s|' -e 's/^workers = 2/workers = %d/' "
        "-e 's/^time_limit_s  = 120/time_limit_s = 0\\nmax_generations = 30/' "
        "-e 's/^floor_generations = 3000/floor_generations = 30/' -e 's/^pool          = "
        "65536/pool = 4096/' -e 's/^valid         = 4096/valid = 1024/' -e 's/^refit         = "
        "4096/refit = 1024/' -e 's/^minibatch     = 1024/minibatch = 256/' -e 's/^polish_sweeps "
        "= 3/polish_sweeps = 1/' sim/examples/gesture/gesture.ini > %s";
    assert_int_equal(run(sed, py, 1, c1), 0);
    assert_int_equal(run(sed, py, 2, c2), 0);
    assert_int_equal(run("%s --config %s --out %s --name g1 --threads 1 -q", bin, c1, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name g2 --threads 2 -q", bin, c2, tmp), 0);
    assert_same_network("g1", "g2");
    char *h = header_of("g1");
    assert_non_null(strstr(h, "\"still\", \"walk\", \"run\", \"wave\""));
    assert_non_null(strstr(h, " *   in[0] ax0 (count)\n *   in[1] ay0 (count)\n"));
    free(h);
    assert_int_equal(run("%s eval %s/g1 -n 2000 > %s/gev.txt && grep -q '^accuracy ' %s/gev.txt "
                         "&& grep -q '^tap ' %s/gev.txt",
                         bin, tmp, tmp, tmp, tmp),
                     0);
    /* Four classes named for the program's five: index 4 is refused. */
    assert_int_equal(run("sed -i 's/^classes = .*/classes = still walk run wave/' %s", c1), 0);
    assert_int_equal(run("%s --config %s --out %s --name g3 -q 2> %s/err", bin, c1, tmp, tmp), 1);
    char *m = read_tmp("err");
    assert_non_null(strstr(m, "label 4 is not a class index 0 to 3"));
    free(m);
    /* The float reference on the program's own CSVs. */
    assert_int_equal(
        run("%s sim/examples/gesture/gesture.py --csv 3000 --seed 1 -o %s/gtr.csv && %s "
            "sim/examples/gesture/gesture.py --csv 500 --seed 2 -o %s/gte.csv && %s "
            "sim/examples/gesture/baseline_cls.py %s/gtr.csv %s/gte.csv --hidden 8 --epochs 2 > "
            "%s/base.txt && grep -q '^mlp_accuracy: 0\\.[0-9]' %s/base.txt && grep -q "
            "'^logistic_accuracy: ' %s/base.txt",
            py, tmp, py, tmp, py, tmp, tmp, tmp, tmp, tmp),
        0);
}

/* The light2d plugin's quadrant (a class index from a C plugin, named by
 * [data] classes): the same network on 1 and 2 threads, nearly every
 * quadrant right. */
static void test_plugin(void **state)
{
    (void)state;
    char c[300];
    snprintf(c, sizeof c, "%s/quad.ini", tmp);
    assert_int_equal(run("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C sim/examples/plugin "
                         "EVOTRAIN_INC=\"$PWD/include\" OUT=%s >/dev/null && sed -e "
                         "'s|^plugin  = out/light2d.so|plugin = %s/light2d.so|' -e "
                         "'s/^max_generations = 1500/max_generations = 150/' -e "
                         "'s/^floor_generations = 1500/floor_generations = 150/' -e "
                         "'s/^pool          = 65536/pool = 8192/' -e 's/^polish_sweeps = 3/"
                         "polish_sweeps = 1/' sim/examples/plugin/light2d_quadrant.ini > %s",
                         tmp, tmp, c),
                     0);
    assert_int_equal(run("%s --config %s --out %s --name q1 --threads 1 -q", bin, c, tmp), 0);
    assert_int_equal(run("%s --config %s --out %s --name q2 --threads 2 -q", bin, c, tmp), 0);
    assert_same_network("q1", "q2");
    assert_int_equal(run("%s eval %s/q1 -n 4000 > %s/qev.txt", bin, tmp, tmp), 0);
    char *ev = read_tmp("qev.txt");
    size_t correct = 0, n = 0;
    const char *acc = strstr(ev, "accuracy ");
    assert_non_null(acc);
    assert_int_equal(sscanf(strchr(acc, '(') + 1, "%zu of %zu", &correct, &n), 2);
    assert_int_equal(n, 4000);
    if (correct < 3800)
        fail_msg("quadrant: %zu of %zu correct", correct, n);
    assert_non_null(strstr(ev, "\nNE "));
    free(ev);
}

/* Each bad label or class list: exit 1 and a message naming the place. */
static void test_bad_labels(void **state)
{
    (void)state;
    char p[400];
    write_blobs("good.csv", 300, 5, 1);
    /* An unknown name in the validation file, a class the training file lacks. */
    assert_int_equal(run("cp %s/good.csv %s/v_purple.csv && sed -i '7s/,[a-z]*$/,purple/' "
                         "%s/v_purple.csv",
                         tmp, tmp, tmp),
                     0);
    /* A class only in the held-out rows: none of it to train on. */
    assert_int_equal(run("cp %s/good.csv %s/t_late.csv && sed -i '$s/,[a-z]*$/,purple/' "
                         "%s/t_late.csv",
                         tmp, tmp, tmp),
                     0);
    /* 65 distinct labels. */
    snprintf(p, sizeof p, "%s/many.csv", tmp);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "a,label\n");
    for (int i = 0; i < 70; i++)
        fprintf(f, "%d,c%d\n", i, i);
    fclose(f);
    /* Index labels with a gap: class 2 has no samples. */
    snprintf(p, sizeof p, "%s/gap.csv", tmp);
    f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "a,label\n");
    for (int i = 0; i < 40; i++)
        fprintf(f, "%d,%d\n", i, i % 2 ? 3 : i % 4 ? 1 : 0);
    fclose(f);
    static const struct {
        const char *train, *valid, *extra, *want;
    } cases[] = {
        {"good.csv", "v_purple.csv", "",
         "v_purple.csv:7: column color: label 'purple' is not a "
         "class of the training data (blue green red)"},
        {"t_late.csv", NULL, "", "class purple (index 2) has no samples in the training set"},
        {"many.csv", NULL, "", "many.csv:66: column label: label 'c64' makes more than 64 classes"},
        {"gap.csv", NULL, "", "class 2 (index 2) has no samples in the training set"},
        {"good.csv", NULL, "classes = 2", "good.csv:2: column color: label"},
        {"good.csv", NULL, "classes = red green",
         "is not a class of the training data (red green)"},
        {"good.csv", NULL, "classes = 65", "classes: '65' is not a class count in [2, 64]"},
        {"good.csv", NULL, "classes = a b a", "classes: 'a' is named twice"},
        {"good.csv", NULL, "class_weight = 1 2", "class_weight: 2 weights for 3 classes"},
        {"good.csv", NULL, "class_weight = 1 0 1", "class_weight: '0' is not a weight"},
        {"good.csv", NULL, "class_loss = l1", "class_loss: 'l1' is not one of: mse hinge xent"},
        {"good.csv", NULL, "task = cluster", "task: 'cluster' is not one of: regress classify"},
        {"good.csv", NULL, "targets = a color",
         "a classification takes one label column, but 2 target columns"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cfg[300];
        snprintf(cfg, sizeof cfg, "%s/bad.ini", tmp);
        cls_ini(cfg, cases[i].train, cases[i].valid, NULL, cases[i].extra);
        assert_int_equal(run("%s --config %s --out %s --name bad -q 2> %s/err", bin, cfg, tmp, tmp),
                         1);
        char *m = read_tmp("err");
        if (!strstr(m, cases[i].want))
            fail_msg("case %zu: expected '%s', got: %s", i, cases[i].want, m);
        free(m);
        assert_int_equal(run("test -e %s/bad/checkpoint.bin", tmp), 1);
        run("rm -rf %s/bad", tmp);
    }
    /* Sources that cannot classify, or do not say their classes. */
    snprintf(p, sizeof p, "%s/sim.ini", tmp);
    assert_int_equal(
        run("cp tests/data/tiny.ini %s && printf '\\n[data]\\ntask = classify\\n' >> %s", p, p), 0);
    assert_int_equal(run("%s --config %s --out %s -q 2> %s/err", bin, p, tmp, tmp), 1);
    char *m = read_tmp("err");
    assert_non_null(strstr(m, "task = classify needs a data source whose target is a class label"));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_names),
        cmocka_unit_test(test_train_indices),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_gesture),
        cmocka_unit_test(test_plugin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
