/* What the conformance programs share: checks that count failures, strict UTF-8, and a small
 * deterministic random source. Each program calls a simulated runtime the way the vendor's
 * published examples call the real one (docs/SIMULATED_RUNTIMES.md, "What programs written for
 * the vendor's library rely on"), and exits non-zero when any check failed. */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int conformance_failures;
static int conformance_checks;

#define CHECK(condition, ...)                                                       \
    do {                                                                            \
        conformance_checks++;                                                       \
        if (!(condition)) {                                                         \
            conformance_failures++;                                                 \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #condition); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

/* The closing line, and the exit status: 0 only when every check passed. */
static inline int conformance_report(const char* program) {
    printf("%s: %d checks, %d failed\n", program, conformance_checks, conformance_failures);
    return conformance_failures == 0 ? 0 : 1;
}

/* Whether `text` is whole, valid UTF-8 on its own (no character cut at either end). */
static inline int utf8_whole(const char* text) {
    const unsigned char* p = (const unsigned char*)text;
    while (*p) {
        int length = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (length == 0) return 0;
        for (int i = 1; i < length; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
        }
        p += length;
    }
    return 1;
}

/* A linear congruential generator: the same values on every run. */
static uint32_t conformance_seed = 12345;
static inline int random_in(int low, int high) {
    conformance_seed = conformance_seed * 1103515245u + 12345u;
    return low + (int)((conformance_seed >> 16) % (uint32_t)(high - low + 1));
}

#endif
