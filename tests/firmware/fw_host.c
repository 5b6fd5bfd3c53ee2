/* fw.h's services on the host, for the images' host twins. */
#include <stdio.h>
#include <stdlib.h>

#include "fw.h"

void fw_puts(const char *s)
{
    fputs(s, stdout);
}

void fw_exit(int status)
{
    exit(status);
}
