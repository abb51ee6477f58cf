/* A wasi:cli/command program for tests/test_component_real.py.
 *
 * It prints its arguments and environment, echoes standard input, lists the
 * directory named by $LIST_DIR, writes $WRITE_FILE (if set) with the text
 * "written by the guest\n", writes one line to stderr, and exits with the
 * status in $EXIT_CODE (default 0). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_dir(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        printf("list: cannot open %s\n", path);
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(dir)) != NULL && n < 64) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) {
            continue;
        }
        names[n++] = strdup(ent->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        printf("entry:%s\n", names[i]);
        free(names[i]);
    }
}

int
main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=%s\n", i, argv[i]);
    }
    for (char **e = environ; *e != NULL; e++) {
        printf("env:%s\n", *e);
    }
    char buf[4096];
    size_t total = 0, got;
    printf("stdin=");
    while ((got = fread(buf, 1, sizeof buf, stdin)) > 0) {
        fwrite(buf, 1, got, stdout);
        total += got;
    }
    printf("\nstdin-bytes=%zu\n", total);
    const char *dir = getenv("LIST_DIR");
    if (dir != NULL) {
        list_dir(dir);
    }
    const char *path = getenv("WRITE_FILE");
    if (path != NULL) {
        FILE *f = fopen(path, "w");
        if (f == NULL) {
            printf("write: cannot open %s\n", path);
        } else {
            fputs("written by the guest\n", f);
            fclose(f);
            printf("wrote %s\n", path);
        }
    }
    fputs("to stderr\n", stderr);
    fflush(stdout);
    const char *code = getenv("EXIT_CODE");
    return code != NULL ? atoi(code) : 0;
}
