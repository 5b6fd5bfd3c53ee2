/* cmd_kernel: `evotrain kernel -o DIR`, the device kernel into a firmware project. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "evonet.h"
#include "kernel_src.h"
#include "run.h"
#include "util.h"

/* 1 if path holds exactly f, 0 if it does not exist, -1 if it differs. */
static int compare(const char *path, const et_kernel_file *f)
{
    /* A FIFO or a device is not read (a FIFO would block, a device may never
     * end): it counts as differing, so only --force writes into it. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return -1;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? 0 : -1;
    unsigned char *buf = et_malloc(f->len + 1);
    size_t n = fread(buf, 1, f->len + 1, fp);
    fclose(fp);
    int same = n == f->len && !memcmp(buf, f->data, f->len);
    free(buf);
    return same ? 1 : -1;
}

int cmd_kernel(int argc, char **argv)
{
    const char *dir = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: evotrain kernel -o DIR [--force]\n"
                   "Writes the device kernel this evotrain scores networks with (evonet.h and\n"
                   "evonet.c, ABI version %d) into DIR, creating it if needed: freestanding\n"
                   "C99, no libc, no float, no divide. Files already there and identical are\n"
                   "left alone; differing ones are refused unless --force. An exported\n"
                   "header refuses to compile against a kernel of another ABI version.\n",
                   EVONET_ABI_VERSION);
            return ET_EXIT_OK;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else {
            et_error(NULL, 0, "kernel: unexpected argument '%s' (see evotrain kernel --help)",
                     argv[i]);
            return ET_EXIT_USAGE;
        }
    }
    if (!dir || !*dir) {
        et_error(NULL, 0, "kernel: give the target directory with -o DIR");
        return ET_EXIT_USAGE;
    }
    if (et_make_dirs(dir) != 0)
        return ET_EXIT_INPUT;
    /* Check every file before writing any, so a refusal changes nothing. */
    int *state = et_calloc(et_n_kernel_files, sizeof *state), refused = 0;
    for (size_t k = 0; k < et_n_kernel_files; k++) {
        char *p = et_path(dir, et_kernel_files[k].name);
        state[k] = compare(p, &et_kernel_files[k]);
        if (state[k] < 0 && !force) {
            et_error(p, 0, "exists and differs from this evotrain's kernel (--force overwrites)");
            refused = 1;
        }
        free(p);
    }
    if (refused) {
        free(state);
        return ET_EXIT_INPUT;
    }
    for (size_t k = 0; k < et_n_kernel_files; k++) {
        char *p = et_path(dir, et_kernel_files[k].name);
        int rc = 0;
        if (state[k] == 1) {
            et_info("evotrain: %s is up to date\n", p);
        } else {
            et_afile af;
            rc = et_afile_open(&af, p);
            if (rc == 0) {
                fwrite(et_kernel_files[k].data, 1, et_kernel_files[k].len, af.fp);
                rc = et_afile_commit(&af);
            }
            if (rc == 0)
                et_info("evotrain: wrote %s\n", p);
        }
        free(p);
        if (rc != 0) {
            free(state);
            return ET_EXIT_INPUT;
        }
    }
    free(state);
    et_info("evotrain: evonet kernel ABI version %d; compile evonet.c with your firmware\n",
            EVONET_ABI_VERSION);
    return ET_EXIT_OK;
}
