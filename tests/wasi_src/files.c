/* File operations in preopened directories:
 *   files read PATH          print the file's contents
 *   files write PATH TEXT    create/truncate PATH and write TEXT
 *   files append PATH TEXT   append TEXT to PATH
 *   files list DIR           print the entries of DIR, sorted
 * On failure prints "error: <op>: <errno name>" to stderr and exits 1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EBADF: return "EBADF";
    default: return strerror(e);
    }
}

static int fail(const char *op) {
    fprintf(stderr, "error: %s: %s\n", op, errname(errno));
    return 1;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: files read|write|append|list PATH [TEXT]\n");
        return 2;
    }
    const char *op = argv[1], *path = argv[2];
    if (strcmp(op, "read") == 0) {
        FILE *f = fopen(path, "r");
        if (f == NULL) return fail("open");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    if (strcmp(op, "write") == 0 || strcmp(op, "append") == 0) {
        if (argc < 4) return 2;
        int flags = O_WRONLY | O_CREAT | (op[0] == 'w' ? O_TRUNC : O_APPEND);
        int fd = open(path, flags, 0644);
        if (fd < 0) return fail("open");
        size_t len = strlen(argv[3]);
        if (write(fd, argv[3], len) != (ssize_t)len) return fail("write");
        if (close(fd) != 0) return fail("close");
        printf("wrote %zu bytes\n", len);
        return 0;
    }
    if (strcmp(op, "list") == 0) {
        DIR *d = opendir(path);
        if (d == NULL) return fail("opendir");
        char *names[256];
        int count = 0;
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL && count < 256) {
            if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
                names[count++] = strdup(ent->d_name);
        }
        closedir(d);
        qsort(names, count, sizeof names[0], cmp);
        for (int i = 0; i < count; i++) printf("%s\n", names[i]);
        return 0;
    }
    fprintf(stderr, "unknown op %s\n", op);
    return 2;
}
