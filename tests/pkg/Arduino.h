/* Arduino.h for the package test: the part of the Arduino core an exported
 * library's example uses (Serial), printing over semihosting, so the
 * example builds as the Arduino IDE builds it (the sketch as C++ with
 * Arduino.h first, the library's .c files as C) and runs under QEMU. */
#ifndef ARDUINO_H
#define ARDUINO_H

#include <stdint.h>

extern "C" void fw_puts(const char *s);

class SerialPort
{
  public:
    void begin(long baud)
    {
        (void)baud;
    }
    explicit operator bool() const
    {
        return true;
    }
    void print(const char *s)
    {
        fw_puts(s);
    }
    void print(char c)
    {
        char b[2] = {c, '\0'};
        fw_puts(b);
    }
    void print(int v)
    {
        char b[12], *p = b + sizeof b - 1;
        unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
        *p = '\0';
        do
            *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (v < 0)
            *--p = '-';
        fw_puts(p);
    }
    void println(const char *s)
    {
        print(s);
        println();
    }
    void println()
    {
        fw_puts("\n");
    }
};

extern SerialPort Serial;

void setup();
void loop();

#endif
