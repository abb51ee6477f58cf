/* A small WASI command for the demo: counts words read from stdin, takes
 * the number of results to print from argv, its title from the environment,
 * and writes a report into the preopened directory /out. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { char word[32]; int count; };

static int by_count(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    return y->count != x->count ? y->count - x->count : strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
    static struct entry table[4096];
    int n = 0, top = argc > 1 ? atoi(argv[1]) : 3;
    char word[32];
    int len = 0, c;
    while ((c = getchar()) != EOF || len > 0) {
        if (c != EOF && isalpha(c) && len < 31) { word[len++] = (char)tolower(c); continue; }
        if (len > 0) {
            word[len] = 0; len = 0;
            int i = 0;
            while (i < n && strcmp(table[i].word, word) != 0) i++;
            if (i == n && n < 4096) { strcpy(table[n].word, word); table[n++].count = 0; }
            if (i < 4096) table[i].count++;
        }
        if (c == EOF) break;
    }
    qsort(table, (size_t)n, sizeof(table[0]), by_count);
    const char *title = getenv("TITLE");
    printf("%s: %d distinct words\n", title ? title : "report", n);
    FILE *out = fopen("/out/report.txt", "w");
    for (int i = 0; i < n && i < top; i++) {
        printf("  %-10s %d\n", table[i].word, table[i].count);
        if (out) fprintf(out, "%s %d\n", table[i].word, table[i].count);
    }
    if (out) fclose(out);
    else { fprintf(stderr, "cannot write /out/report.txt\n"); return 2; }
    return 0;
}
