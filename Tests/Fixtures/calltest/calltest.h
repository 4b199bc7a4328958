/* calltest.h: a small C library of our own that exercises every parameter role the generator
 * binds (handles, out-parameters, buffers, arrays, callbacks, tagged unions, defaults). The
 * dispatch tests call it through the generated table; the golden tests render it. */
#ifndef CALLTEST_H
#define CALLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CT_VERSION_MAJOR 1
#define CT_NAME "calltest"
#define CT_FLAG_LOUD (1 << 2)
#define CT_ERROR_BAD_INPUT (-2)

typedef void* ct_handle;
/* An object clients that open it alike share (the router tests). */
typedef void* ct_shared;

typedef enum {
    CT_SHAPE_POINT = 0,
    CT_SHAPE_CIRCLE,
    CT_SHAPE_RECT = 5,
} ct_shape_kind;

typedef struct {
    int32_t x;
    int32_t y;
} ct_point;

typedef struct {
    ct_shape_kind kind;
    union {
        ct_point point;
        struct {
            ct_point center;
            float radius;
        } circle;
        struct {
            ct_point corner;
            int32_t width;
            int32_t height;
        } rect;
    };
} ct_shape;

typedef struct {
    const char* name;
    int32_t level;
    float gain;
    uint8_t tags[4];
    char label[16];
    bool verbose;
    ct_point origin;
    const int32_t* weights;
    uint32_t n_weights;
} ct_config;

typedef struct {
    int32_t index;
    const char* text;
    ct_shape_kind kind;
} ct_event;

/* A buffer of the library's: a memfd of `size` bytes, byte i = i % 251. */
typedef struct {
    int32_t fd;
    uint32_t size;
} ct_buffer;

/* A result the library allocates (ct_results_get) and frees (ct_results_release). */
typedef struct {
    uint32_t index;
    void* data;
    uint32_t size;
} ct_result;

/* Called `count` times by ct_emit; a non-zero return stops the stream. */
typedef int (*ct_event_callback)(const ct_event* event, void* userdata);

/* A struct of callbacks, each with its userdata (the caller's userdata wins when not NULL). */
typedef struct {
    ct_event_callback on_event;
    void* event_userdata;
    ct_event_callback on_done; /* optional: called once after the events */
    void* done_userdata;
} ct_callbacks;

ct_config ct_default_config(void);
int ct_open(const ct_config* config, ct_handle* handle);
int ct_close(ct_handle handle);
int ct_get_config(ct_handle handle, ct_config* config);
int ct_checksum(const void* data, size_t size, uint32_t* sum);
int ct_reverse(const void* input, void* output, size_t size);
int64_t ct_sum(const int32_t* values, uint32_t count);
int ct_points(ct_handle handle, ct_point* points, uint32_t n_points);
int ct_scale(ct_point* points, uint32_t n_points, int32_t factor);
int ct_area(const ct_shape* shape, double* area);
int ct_emit(ct_handle handle, int32_t count, ct_event_callback callback, void* userdata);
/* ct_emit through a struct of callbacks: returns how many events went out, or -2 when on_done was set. */
int ct_emit_via(const ct_callbacks* callbacks, int32_t count, void* userdata);
int ct_fail(int32_t code);
int ct_open_buffer(uint32_t size, ct_buffer* buffer);
const char* ct_version(void);
bool ct_is_even(int64_t value);
ct_shape_kind ct_classify(const ct_shape* shape);
/* Each result gets index + 1 bytes of the value `index`, allocated by the library. */
int ct_results_get(uint32_t n_results, ct_result* results);
int ct_results_release(uint32_t n_results, ct_result* results);
/* Results handed out and not released yet. */
int32_t ct_results_outstanding(void);
/* Blocks until `fd` (a pipe the caller holds) is readable: a call that runs as long as its caller
   wants (the router tests queue calls behind it). */
int ct_wait_readable(ct_handle handle, int32_t fd);
/* Opens the object of `tag` from a descriptor the caller passes; clients opening the same tag share it. */
int ct_open_shared(int32_t tag, int32_t fd, ct_shared* shared);
/* Opens the object of `tag`; clients opening the same tag share it. */
int ct_open_tagged(int32_t tag, ct_shared* shared);
/* The tag the object was opened with. */
int32_t ct_shared_tag(ct_shared shared);
int ct_close_shared(ct_shared shared);
/* Declared but not in the library: its entry answers "not present". */
int ct_missing(int32_t value);

#ifdef __cplusplus
}
#endif

#endif /* CALLTEST_H */
