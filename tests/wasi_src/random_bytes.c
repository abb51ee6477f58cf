/* Prints two lines, each 32 random bytes from getentropy() in hex. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    for (int round = 0; round < 2; round++) {
        unsigned char buf[32];
        if (getentropy(buf, sizeof buf) != 0) {
            perror("getentropy");
            return 1;
        }
        for (size_t i = 0; i < sizeof buf; i++) printf("%02x", buf[i]);
        printf("\n");
    }
    return 0;
}
