/* cmd_config: `evotrain config`, the resolved configuration and the key reference. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "util.h"

int cmd_config(int argc, char **argv)
{
    const char *path = NULL;
    int dump = 0, doc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dump"))
            dump = 1;
        else if (!strcmp(argv[i], "--doc"))
            doc = 1;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: evotrain config --dump --config FILE   resolved configuration\n"
                   "       evotrain config --doc                  every key, default and range\n");
            return ET_EXIT_OK;
        } else {
            et_error(NULL, 0, "config: unexpected argument '%s'", argv[i]);
            return ET_EXIT_USAGE;
        }
    }
    if (doc) {
        et_config_doc(stdout);
        return ET_EXIT_OK;
    }
    if (!dump || !path) {
        et_error(NULL, 0, "config: use --dump --config FILE, or --doc");
        return ET_EXIT_USAGE;
    }
    et_config cfg;
    int rc = et_config_load(path, &cfg);
    if (rc == 0)
        et_config_print(&cfg, stdout);
    et_config_free(&cfg);
    return rc == 0 ? ET_EXIT_OK : ET_EXIT_INPUT;
}
