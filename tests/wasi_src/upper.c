/* Copies stdin to stdout in upper case; reports the byte count on stderr. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
    long total = 0;
    int c;
    while ((c = getchar()) != EOF) {
        putchar(toupper(c));
        total++;
    }
    fflush(stdout);
    fprintf(stderr, "read %ld bytes\n", total);
    return 0;
}
