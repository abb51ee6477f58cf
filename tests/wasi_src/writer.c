/* Writes argv[1] to stdout with one write(2) call, then reports on stderr
 * what that call returned (and the errno name on failure).  Exits 0 if the
 * write succeeded completely, 2 if it was short, 3 if it failed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *msg = argc > 1 ? argv[1] : "hello";
    size_t len = strlen(msg);
    ssize_t n = write(1, msg, len);
    int err = errno;
    if (n < 0) {
        fprintf(stderr, "write=-1 errno=%s\n", err == EIO ? "EIO" : strerror(err));
        return 3;
    }
    fprintf(stderr, "write=%ld\n", (long)n);
    return (size_t)n == len ? 0 : 2;
}
