/* Prints "MONO1 MONO2 REALTIME RES" in nanoseconds: two monotonic readings
 * around some busy work, the realtime clock, and the monotonic resolution. */
#include <stdio.h>
#include <time.h>

static long long ns(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    long long m1 = ns(CLOCK_MONOTONIC);
    volatile unsigned sink = 0;
    for (unsigned i = 0; i < 3000000; i++) sink += i * i;
    long long m2 = ns(CLOCK_MONOTONIC);
    long long rt = ns(CLOCK_REALTIME);
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("%lld %lld %lld %lld\n", m1, m2, rt,
           (long long)res.tv_sec * 1000000000LL + res.tv_nsec);
    return 0;
}
