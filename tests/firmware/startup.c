/* Bare-metal start-up and semihosting for the Cortex-M0 test image. */
#include <stdint.h>

#include "fw.h"

extern uint32_t _etext, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);
void reset_handler(void);
void fault_handler(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_stack_top), reset_handler, fault_handler, fault_handler};

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void fw_exit(int status)
{
    /* SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit: QEMU exits with status. */
    uint32_t block[2] = {0x20026, (uint32_t)status};
    semihost(0x20, block);
    for (;;) {
    }
}

void fw_puts(const char *s)
{
    semihost(0x04, s); /* SYS_WRITE0 */
}

void fault_handler(void)
{
    fw_puts("FAULT\n");
    fw_exit(3);
}

void reset_handler(void)
{
    uint32_t *src = &_etext, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    fw_exit(main());
}
