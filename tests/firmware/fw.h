/* fw: the few services the Cortex-M0 test image has (semihosting). */
#ifndef FW_H
#define FW_H
void fw_puts(const char *s);
void fw_exit(int status) __attribute__((noreturn));
#endif
