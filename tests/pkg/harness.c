/* Reads int16 input vectors (whitespace-separated, NET_UP_N_IN each) from
 * stdin and prints the exported header's outputs for each, one line per
 * vector: the C side of the Rust comparison. Built with -DNET_H, -DNET,
 * -DNET_UP as cpp_main.cpp is. */
#include <stdio.h>

#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

#include STR(NET_H)

int main(void)
{
    int16_t in[CAT(NET_UP, _N_IN)], out[CAT(NET_UP, _N_OUT)];
    for (;;) {
        for (int i = 0; i < CAT(NET_UP, _N_IN); i++) {
            int v;
            if (scanf("%d", &v) != 1)
                return 0;
            in[i] = (int16_t)v;
        }
        CAT(NET, _infer)(in, out);
        for (int k = 0; k < CAT(NET_UP, _N_OUT); k++)
            printf("%s%d", k ? " " : "", out[k]);
        putchar('\n');
    }
}
