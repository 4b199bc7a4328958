/* The fixture library behind Tests/Fixtures/calltest/calltest.h: small, deterministic functions
 * whose results the dispatch tests compute independently. Built as libcalltest.so and loaded
 * with dlopen, like a vendor runtime. ct_missing is deliberately not defined. */
#include "calltest.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    ct_config config; /* name and weights point into the copies below */
    char* name;
    int32_t* weights;
} ct_instance;

ct_config ct_default_config(void) {
    ct_config c;
    memset(&c, 0, sizeof c);
    c.name = "default";
    c.level = 3;
    c.gain = 1.5f;
    for (int i = 0; i < 4; i++) c.tags[i] = (uint8_t)(i + 1);
    strcpy(c.label, "dflt");
    c.origin.x = 10;
    c.origin.y = 20;
    return c;
}

int ct_open(const ct_config* config, ct_handle* handle) {
    if (handle == NULL) return -1;
    ct_config c = config ? *config : ct_default_config();
    if (c.level < 0 || (c.n_weights > 0 && c.weights == NULL)) return CT_ERROR_BAD_INPUT;
    ct_instance* instance = calloc(1, sizeof *instance);
    if (instance == NULL) return -1;
    instance->config = c;
    instance->name = strdup(c.name ? c.name : "");
    instance->weights = c.n_weights ? malloc(c.n_weights * sizeof(int32_t)) : NULL;
    if (instance->name == NULL || (c.n_weights && instance->weights == NULL)) {
        free(instance->name);
        free(instance->weights);
        free(instance);
        return -1;
    }
    if (c.n_weights) memcpy(instance->weights, c.weights, c.n_weights * sizeof(int32_t));
    instance->config.name = instance->name;
    instance->config.weights = instance->weights;
    *handle = instance;
    return 0;
}

int ct_close(ct_handle handle) {
    ct_instance* instance = handle;
    if (instance == NULL) return -1;
    free(instance->name);
    free(instance->weights);
    free(instance);
    return 0;
}

int ct_get_config(ct_handle handle, ct_config* config) {
    ct_instance* instance = handle;
    if (instance == NULL || config == NULL) return -1;
    *config = instance->config;
    return 0;
}

/* sum of byte * (position + 1), modulo 2^32 */
int ct_checksum(const void* data, size_t size, uint32_t* sum) {
    if (sum == NULL || (data == NULL && size > 0)) return -1;
    const uint8_t* bytes = data;
    uint32_t s = 0;
    for (size_t i = 0; i < size; i++) s += (uint32_t)bytes[i] * (uint32_t)(i + 1);
    *sum = s;
    return 0;
}

int ct_reverse(const void* input, void* output, size_t size) {
    if (size > 0 && (input == NULL || output == NULL)) return -1;
    const uint8_t* in = input;
    uint8_t* out = output;
    for (size_t i = 0; i < size; i++) out[i] = in[size - 1 - i];
    return (int)size;
}

int64_t ct_sum(const int32_t* values, uint32_t count) {
    int64_t s = 0;
    for (uint32_t i = 0; i < count; i++) s += values[i];
    return s;
}

/* point i = origin + (i, i*i) */
int ct_points(ct_handle handle, ct_point* points, uint32_t n_points) {
    ct_instance* instance = handle;
    if (instance == NULL || points == NULL) return -1;
    for (uint32_t i = 0; i < n_points; i++) {
        points[i].x = instance->config.origin.x + (int32_t)i;
        points[i].y = instance->config.origin.y + (int32_t)(i * i);
    }
    return (int)n_points;
}

int ct_scale(ct_point* points, uint32_t n_points, int32_t factor) {
    if (points == NULL && n_points > 0) return -1;
    for (uint32_t i = 0; i < n_points; i++) {
        points[i].x *= factor;
        points[i].y *= factor;
    }
    return 0;
}

int ct_area(const ct_shape* shape, double* area) {
    if (shape == NULL || area == NULL) return -1;
    switch (shape->kind) {
    case CT_SHAPE_POINT: *area = 0; return 0;
    case CT_SHAPE_CIRCLE: *area = 3.0 * shape->circle.radius * shape->circle.radius; return 0;
    case CT_SHAPE_RECT: *area = (double)shape->rect.width * shape->rect.height; return 0;
    }
    return CT_ERROR_BAD_INPUT;
}

/* Calls back `count` times on the caller's thread; returns how many events were delivered. */
int ct_emit(ct_handle handle, int32_t count, ct_event_callback callback, void* userdata) {
    if (handle == NULL || callback == NULL || count < 0) return -1;
    char text[32];
    for (int32_t i = 0; i < count; i++) {
        memcpy(text, "event ", 6);
        text[6] = (char)('0' + i % 10);
        text[7] = 0;
        ct_event event = {i, text, (ct_shape_kind)(i % 2)};
        if (callback(&event, userdata) != 0) return i + 1;
    }
    return count;
}

int ct_emit_via(const ct_callbacks* callbacks, int32_t count, void* userdata) {
    if (callbacks == NULL || callbacks->on_event == NULL || count < 0) return -1;
    void* event_userdata = userdata != NULL ? userdata : callbacks->event_userdata;
    for (int32_t i = 0; i < count; i++) {
        ct_event event = {i, "via", CT_SHAPE_POINT};
        if (callbacks->on_event(&event, event_userdata) != 0) return i + 1;
    }
    return callbacks->on_done != NULL ? -2 : count;
}

int ct_fail(int32_t code) { return code; }

int ct_open_shared(int32_t tag, int32_t fd, ct_shared* shared) {
    if (shared == NULL || fd < 0) return -1;
    int32_t* object = malloc(sizeof(int32_t));
    if (object == NULL) return -2;
    *object = tag;
    *shared = object;
    return 0;
}

int ct_open_tagged(int32_t tag, ct_shared* shared) {
    if (shared == NULL) return -1;
    int32_t* object = malloc(sizeof(int32_t));
    if (object == NULL) return -2;
    *object = tag;
    *shared = object;
    return 0;
}

int32_t ct_shared_tag(ct_shared shared) { return shared == NULL ? -1 : *(int32_t*)shared; }

int ct_close_shared(ct_shared shared) {
    if (shared == NULL) return -1;
    free(shared);
    return 0;
}

int ct_wait_readable(ct_handle handle, int32_t fd) {
    if (handle == NULL) return -1;
    struct pollfd ready = {fd, POLLIN, 0};
    while (poll(&ready, 1, -1) < 0) {
        if (errno != EINTR) return -2;
    }
    return 0;
}

extern int memfd_create(const char* name, unsigned int flags);

/* The library keeps its descriptor (as a runtime keeps its buffers); it is closed at exit. */
int ct_open_buffer(uint32_t size, ct_buffer* buffer) {
    if (buffer == NULL || size == 0) return -1;
    int fd = memfd_create("ct_buffer", 0);
    if (fd < 0) return -1;
    uint8_t chunk[251];
    for (int i = 0; i < 251; i++) chunk[i] = (uint8_t)i;
    for (uint32_t written = 0; written < size;) {
        uint32_t n = size - written < 251 ? size - written : 251;
        if (write(fd, chunk, n) != (ssize_t)n) {
            close(fd);
            return -1;
        }
        written += n;
    }
    buffer->fd = fd;
    buffer->size = size;
    return 0;
}

const char* ct_version(void) { return "calltest 1.0"; }

bool ct_is_even(int64_t value) { return value % 2 == 0; }

ct_shape_kind ct_classify(const ct_shape* shape) { return shape ? shape->kind : CT_SHAPE_POINT; }

static int32_t outstanding;

int ct_results_get(uint32_t n_results, ct_result* results) {
    if (results == NULL) return -1;
    for (uint32_t i = 0; i < n_results; i++) {
        results[i].size = results[i].index + 1;
        results[i].data = malloc(results[i].size);
        if (results[i].data == NULL) return -2;
        memset(results[i].data, (int)results[i].index, results[i].size);
        outstanding++;
    }
    return 0;
}

int ct_results_release(uint32_t n_results, ct_result* results) {
    for (uint32_t i = 0; i < n_results; i++) {
        free(results[i].data);
        results[i].data = NULL;
        outstanding--;
    }
    return 0;
}

int32_t ct_results_outstanding(void) { return outstanding; }
