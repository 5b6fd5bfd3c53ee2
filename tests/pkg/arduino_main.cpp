/* The Arduino core's main() for the package test: setup() once, then one
 * loop() (a real core loops forever); the image then exits QEMU. */
#include "Arduino.h"

SerialPort Serial;

int main()
{
    setup();
    loop();
    return 0;
}
