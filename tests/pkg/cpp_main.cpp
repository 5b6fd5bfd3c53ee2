/* An exported header from C++ (what an Arduino sketch or any C++ firmware
 * does): the self-test, then the outputs of the first self-test input as
 * "out: a b c", as the Arduino example prints them. Built with -DNET_H,
 * -DNET (the name) and -DNET_UP (its upper case); on the Cortex-M0 with
 * -DON_M0 (semihosting instead of stdio). */
#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

#include STR(NET_H)

#ifdef ON_M0
extern "C" void fw_puts(const char *s);
#else
#include <cstdio>
static void fw_puts(const char *s)
{
    std::fputs(s, stdout);
}
#endif

static char *put_int(char *p, int v)
{
    char t[8];
    int n = 0;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    if (v < 0)
        *p++ = '-';
    do
        t[n++] = (char)('0' + u % 10);
    while (u /= 10);
    while (n)
        *p++ = t[--n];
    return p;
}

int main()
{
    int bad = CAT(NET, _selftest)();
    int16_t out[CAT(NET_UP, _N_OUT)];
    CAT(NET, _infer)(CAT(NET, _test_in)[0], out);
    char line[8 * CAT(NET_UP, _N_OUT) + 8], *p = line;
    *p++ = 'o', *p++ = 'u', *p++ = 't', *p++ = ':';
    for (int k = 0; k < CAT(NET_UP, _N_OUT); k++) {
        *p++ = ' ';
        p = put_int(p, out[k]);
    }
    *p++ = '\n';
    *p = '\0';
    fw_puts(bad ? "self-test: FAILED\n" : "self-test: ok\n");
    fw_puts(line);
    return bad;
}
