/* Fixture: every construct and vendor quirk the importer must read (see shared/abi/vendor-headers.md). */
#ifndef QUIRKS_H
#define QUIRKS_H
#include <cstdint>  /* a C++ header in a C header, as rkllm.h 1.2.2+ does */

#ifdef __cplusplus
extern "C" {
#endif

#define Q_INT 42
#define Q_NEG -14
#define Q_SHIFT (1 << 5)
#define Q_EXPR ((Q_INT + 2) * 3 | 0x100)
#define Q_HEX 0xffffu
#define Q_STRING "quirk \"v1\""
#define Q_FUNCLIKE(x) ((x) + 1)

#ifdef __arm__
typedef uint32_t q_context;
#else
typedef uint64_t q_context;
#endif
typedef q_context q_alias_context;   /* a typedef chain */
typedef void* QHandle;

typedef enum { Q_A, Q_B, Q_C = 10, Q_D, Q_MINUS = -3 } QImplicit;
typedef enum _q_tagged { Q_TAG_ONE = 1 } q_tagged;

typedef int (*QCallback)(const char* text, void* userdata, QImplicit state);

typedef struct {
    const char* name;
    bool flag;               /* bool without <stdbool.h>: the prelude supplies it */
    size_t length;           /* size_t without <stddef.h> */
    uint8_t bytes[4];
    uint32_t grid[2][3];
    char label[16];
    QCallback on_event;      /* a function pointer field of a typedef type */
    int (*inline_fn)(int);   /* an inline function pointer field */
    union {                  /* an anonymous union: members belong to the struct */
        int32_t as_int;
        float as_float;
    };
    struct {                 /* an unnamed struct type behind a named field */
        int32_t width;
        int32_t height;
    } size;
} QRecord;

typedef struct _q_node {
    struct _q_node* next;
    q_context ctx;
} q_node;

QRecord q_default();                          /* K&R () in C */
int q_process(q_context ctx, QRecord items[], uint32_t n_items);  /* incomplete array */
int q_open(QHandle* handle, const char* path, QCallback cb);
static inline const char* q_helper(int v) { return v ? "yes" : "no"; }

#ifdef __cplusplus
}
#endif
#endif
