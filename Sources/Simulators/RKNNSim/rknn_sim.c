/* librknnrt_sim.so: the ABI of Headers/rknn/rknn_api.h simulated on the CPU: models of the project's own
 * format whose outputs are a documented function of their inputs, real type and layout
 * conversions, memfd-backed tensor memory bound with no copy, a simulated chip's NPU cores, and
 * faults on demand (docs/SIMULATED_RUNTIMES.md). */
#define _GNU_SOURCE
#include "rknn_custom_ops.h"
#include "rknn_sim_internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    sim_mem* mem;
    rknn_tensor_type type;
    rknn_tensor_format fmt;
    sim_layout layout;
    int pass_through;
} sim_binding;

typedef struct {
    sim_rknn_model model;
    atomic_int references;      /* contexts sharing it (rknn_dup_context) */
} sim_shared_model;

typedef struct {
    uint32_t kind;              /* SIM_MODEL_CONTEXT */
    sim_shared_model* shared;
    uint32_t flags;
    pthread_mutex_t lock;       /* one call at a time per context */
    sim_tensor inputs[RKNN_SIM_MAX_TENSORS];   /* current shapes */
    sim_tensor outputs[RKNN_SIM_MAX_TENSORS];
    void* input_data[RKNN_SIM_MAX_TENSORS];    /* set by rknn_inputs_set, in the model's type and layout */
    void* output_raw[RKNN_SIM_MAX_TENSORS];    /* the last run's outputs, in their own type */
    sim_binding input_bind[RKNN_SIM_MAX_TENSORS];
    sim_binding output_bind[RKNN_SIM_MAX_TENSORS];
    void* handed_out[64];                      /* buffers rknn_outputs_get allocated */
    int has_run;
    int64_t last_run_us;
    uint32_t core_mask;
    int batch_core_num;
    sim_mem* weight_mem;
    sim_mem* internal_mem;
    char* perf_detail;
    sim_custom_ops custom_ops;
} sim_context;

static atomic_long runs_in_process;

sim_chip sim_current_chip(void) {
    const char* chip = getenv("RKNN_SIM_CHIP");
    if (chip && strcmp(chip, "RK3576") == 0) return SIM_RK3576;
    if (chip && strcmp(chip, "RK3562") == 0) return SIM_RK3562;
    return SIM_RK3588;
}

int sim_chip_cores(void) {
    switch (sim_current_chip()) {
    case SIM_RK3576: return 2;
    case SIM_RK3562: return 1;
    default: return 3;
    }
}

static sim_context* context_of(rknn_context handle) { return (sim_context*)(uintptr_t)handle; }

/* The model context behind a handle; NULL for 0 or a MatMul context. */
static sim_context* model_context(rknn_context handle) {
    return handle != 0 && context_of(handle)->kind == SIM_MODEL_CONTEXT ? context_of(handle) : NULL;
}

sim_custom_ops* sim_context_custom_ops(rknn_context ctx) {
    sim_context* c = model_context(ctx);
    return c ? &c->custom_ops : NULL;
}

static uint32_t required_internal_size(const sim_context* c) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < c->shared->model.n_outputs; i++) total += sim_elements(&c->outputs[i]) * 4;
    return total;
}

static void reset_shapes(sim_context* c) {
    const sim_rknn_model* m = &c->shared->model;
    memcpy(c->inputs, m->inputs, sizeof c->inputs);
    memcpy(c->outputs, m->outputs, sizeof c->outputs);
}

/* Buffers sized for the current shapes (after init or a shape change). */
static int allocate_buffers(sim_context* c) {
    const sim_rknn_model* m = &c->shared->model;
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        free(c->input_data[i]);
        c->input_data[i] = NULL;
    }
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        sim_output_dims(&c->inputs[0], &c->outputs[i]);
        free(c->output_raw[i]);
        c->output_raw[i] = calloc(sim_elements(&c->outputs[i]), sim_type_size(c->outputs[i].type));
        if (c->output_raw[i] == NULL) return RKNN_ERR_MALLOC_FAIL;
    }
    c->has_run = 0;
    return 0;
}

static void free_context(sim_context* c) {
    for (int i = 0; i < RKNN_SIM_MAX_TENSORS; i++) {
        free(c->input_data[i]);
        free(c->output_raw[i]);
    }
    for (int i = 0; i < 64; i++) free(c->handed_out[i]);
    free(c->perf_detail);
    sim_custom_destroy(&c->custom_ops);
    if (c->shared && atomic_fetch_sub(&c->shared->references, 1) == 1) free(c->shared);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int new_context(sim_shared_model* shared, uint32_t flags, rknn_context* out) {
    sim_context* c = calloc(1, sizeof *c);
    if (c == NULL) return RKNN_ERR_MALLOC_FAIL;
    pthread_mutex_init(&c->lock, NULL);
    atomic_fetch_add(&shared->references, 1);
    c->kind = SIM_MODEL_CONTEXT;
    c->shared = shared;
    c->flags = flags;
    c->batch_core_num = 1;
    reset_shapes(c);
    int status = allocate_buffers(c);
    if (status != 0) {
        free_context(c);
        return status;
    }
    *out = (rknn_context)(uintptr_t)c;
    return 0;
}

int rknn_init(rknn_context* context, void* model, uint32_t size, uint32_t flag, rknn_init_extend* extend) {
    (void)extend;
    if (context == NULL || model == NULL) return RKNN_ERR_PARAM_INVALID;
    long fault = sim_env_long("RKNN_SIM_INIT_ERROR", 0);
    if (fault != 0) return (int)fault;
    sim_shared_model* shared = calloc(1, sizeof *shared);
    if (shared == NULL) return RKNN_ERR_MALLOC_FAIL;
    int status = size == 0 ? sim_rknn_model_load((const char*)model, NULL, 0, &shared->model)
                           : sim_rknn_model_load(NULL, model, size, &shared->model);
    if (status != 0) {
        free(shared);
        return status;
    }
    return new_context(shared, flag, context); /* on failure, freeing the context frees the model */
}

int rknn_dup_context(rknn_context* context_in, rknn_context* context_out) {
    if (context_in == NULL || context_out == NULL || model_context(*context_in) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(*context_in);
    return new_context(c->shared, c->flags, context_out);
}

int rknn_destroy(rknn_context context) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    free_context(context_of(context));
    return 0;
}

static void attr_of(sim_context* c, int output, uint32_t index, sim_layout layout, rknn_tensor_attr* attr) {
    sim_tensor_attr(output ? &c->outputs[index] : &c->inputs[index], index, layout, attr);
}

int rknn_query(rknn_context context, rknn_query_cmd cmd, void* info, uint32_t size) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    if (info == NULL) return RKNN_ERR_PARAM_INVALID;
    sim_context* c = context_of(context);
    const sim_rknn_model* m = &c->shared->model;
    int status = 0;
    pthread_mutex_lock(&c->lock);
    switch (cmd) {
    case RKNN_QUERY_IN_OUT_NUM:
        if (size != sizeof(rknn_input_output_num)) { status = RKNN_ERR_PARAM_INVALID; break; }
        *(rknn_input_output_num*)info = (rknn_input_output_num){m->n_inputs, m->n_outputs};
        break;
    case RKNN_QUERY_INPUT_ATTR: case RKNN_QUERY_OUTPUT_ATTR:
    case RKNN_QUERY_NATIVE_INPUT_ATTR: case RKNN_QUERY_NATIVE_OUTPUT_ATTR:
    case RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR: case RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR:
    case RKNN_QUERY_CURRENT_INPUT_ATTR: case RKNN_QUERY_CURRENT_OUTPUT_ATTR:
    case RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR: case RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR: {
        if (size != sizeof(rknn_tensor_attr)) { status = RKNN_ERR_PARAM_INVALID; break; }
        rknn_tensor_attr* attr = info;
        int output = cmd == RKNN_QUERY_OUTPUT_ATTR || cmd == RKNN_QUERY_NATIVE_OUTPUT_ATTR || cmd == RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR
            || cmd == RKNN_QUERY_CURRENT_OUTPUT_ATTR || cmd == RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR;
        if (attr->index >= (output ? m->n_outputs : m->n_inputs)) { status = RKNN_ERR_PARAM_INVALID; break; }
        sim_layout layout = cmd == RKNN_QUERY_NATIVE_INPUT_ATTR || cmd == RKNN_QUERY_NATIVE_OUTPUT_ATTR
            || cmd == RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR || cmd == RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR ? SIM_LAYOUT_NC1HWC2
            : cmd == RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR || cmd == RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR ? SIM_LAYOUT_NHWC : SIM_LAYOUT_DECLARED;
        int current = cmd >= RKNN_QUERY_CURRENT_INPUT_ATTR;
        if (current) {
            attr_of(c, output, attr->index, layout, attr);
        } else {
            sim_tensor_attr(output ? &m->outputs[attr->index] : &m->inputs[attr->index], attr->index, layout, attr);
        }
        break;
    }
    case RKNN_QUERY_PERF_DETAIL: {
        if (size != sizeof(rknn_perf_detail)) { status = RKNN_ERR_PARAM_INVALID; break; }
        if (!(c->flags & RKNN_FLAG_COLLECT_PERF_MASK) || !c->has_run) {
            /* Success with an empty detail, as programs written for the vendor's runtime expect
             * (its custom-operator demos query this on contexts made with flag 0 and print it). */
            static char no_detail[] = "";
            *(rknn_perf_detail*)info = (rknn_perf_detail){no_detail, 0};
            break;
        }
        free(c->perf_detail);
        c->perf_detail = malloc(256);
        if (c->perf_detail == NULL) { status = RKNN_ERR_MALLOC_FAIL; break; }
        int n = snprintf(c->perf_detail, 256, "model %s: %u outputs, total %lld us\n", m->name, m->n_outputs, (long long)c->last_run_us);
        *(rknn_perf_detail*)info = (rknn_perf_detail){c->perf_detail, (uint64_t)n};
        break;
    }
    case RKNN_QUERY_PERF_RUN:
        if (size != sizeof(rknn_perf_run)) { status = RKNN_ERR_PARAM_INVALID; break; }
        if (!c->has_run) { status = RKNN_ERR_FAIL; break; }
        ((rknn_perf_run*)info)->run_duration = c->last_run_us;
        break;
    case RKNN_QUERY_SDK_VERSION: {
        if (size != sizeof(rknn_sdk_version)) { status = RKNN_ERR_PARAM_INVALID; break; }
        rknn_sdk_version* version = info;
        memset(version, 0, sizeof *version);
        snprintf(version->api_version, sizeof version->api_version, "2.3.2 (simulated)");
        snprintf(version->drv_version, sizeof version->drv_version, "0.9.8 (simulated %d-core NPU)", sim_chip_cores());
        break;
    }
    case RKNN_QUERY_MEM_SIZE: case RKNN_QUERY_DEVICE_MEM_INFO: {
        if (size != sizeof(rknn_mem_size)) { status = RKNN_ERR_PARAM_INVALID; break; }
        rknn_mem_size* sizes = info;
        memset(sizes, 0, sizeof *sizes);
        sizes->total_weight_size = m->weight_size;
        sizes->total_internal_size = required_internal_size(c);
        sizes->total_dma_allocated_size = (uint64_t)m->weight_size + sizes->total_internal_size;
        break;
    }
    case RKNN_QUERY_CUSTOM_STRING:
        if (size != sizeof(rknn_custom_string)) { status = RKNN_ERR_PARAM_INVALID; break; }
        snprintf(((rknn_custom_string*)info)->string, sizeof(rknn_custom_string), "%s", m->custom);
        break;
    case RKNN_QUERY_INPUT_DYNAMIC_RANGE: {
        if (size != sizeof(rknn_input_range)) { status = RKNN_ERR_PARAM_INVALID; break; }
        rknn_input_range* range = info;
        uint32_t index = range->index;
        if (index >= m->n_inputs) { status = RKNN_ERR_PARAM_INVALID; break; }
        memset(range, 0, sizeof *range);
        range->index = index;
        range->fmt = m->inputs[index].fmt;
        range->n_dims = m->inputs[index].n_dims;
        snprintf(range->name, sizeof range->name, "%s", m->inputs[index].name);
        range->shape_number = index == 0 ? m->n_shapes : 0;
        for (uint32_t s = 0; s < range->shape_number; s++) memcpy(range->dyn_range[s], m->shapes[s], 4 * sizeof(uint32_t));
        break;
    }
    default:
        status = RKNN_ERR_PARAM_INVALID;
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

int rknn_inputs_set(rknn_context context, uint32_t n_inputs, rknn_input inputs[]) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(context);
    if (inputs == NULL || n_inputs == 0 || n_inputs > c->shared->model.n_inputs) return RKNN_ERR_PARAM_INVALID;
    int status = 0;
    pthread_mutex_lock(&c->lock);
    for (uint32_t k = 0; k < n_inputs && status == 0; k++) {
        const rknn_input* in = &inputs[k];
        if (in->index >= c->shared->model.n_inputs || in->buf == NULL) { status = RKNN_ERR_INPUT_INVALID; break; }
        const sim_tensor* t = &c->inputs[in->index];
        size_t bytes = (size_t)sim_elements(t) * sim_type_size(t->type);
        if (c->input_data[in->index] == NULL && (c->input_data[in->index] = malloc(bytes)) == NULL) { status = RKNN_ERR_MALLOC_FAIL; break; }
        if (in->pass_through) {
            /* Already in the model's type and layout: taken as it is. */
            if (in->size != bytes) status = RKNN_ERR_INPUT_INVALID;
            else memcpy(c->input_data[in->index], in->buf, bytes);
        } else if (in->type >= RKNN_TENSOR_TYPE_MAX || in->type == RKNN_TENSOR_INT4 || in->type == RKNN_TENSOR_BFLOAT16) {
            status = RKNN_ERR_INPUT_INVALID;
        } else if (sim_convert_input(t, in->buf, in->size, in->type, in->fmt, c->input_data[in->index]) != 0) {
            status = RKNN_ERR_INPUT_INVALID;
        }
        if (status != 0) {
            free(c->input_data[in->index]);
            c->input_data[in->index] = NULL;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

int rknn_set_batch_core_num(rknn_context context, int core_num) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    if (core_num < 1 || core_num > sim_chip_cores()) return RKNN_ERR_PARAM_INVALID;
    context_of(context)->batch_core_num = core_num;
    return 0;
}

int sim_check_core_mask(rknn_core_mask core_mask) {
    int cores = sim_chip_cores();
    if (cores == 1) return RKNN_ERR_DEVICE_UNAVAILABLE; /* single-core chips have no core mask */
    uint32_t all = (1u << cores) - 1;
    int valid = core_mask == RKNN_NPU_CORE_AUTO || core_mask == RKNN_NPU_CORE_ALL
        || ((uint32_t)core_mask != 0 && ((uint32_t)core_mask & ~all) == 0);
    return valid ? 0 : RKNN_ERR_PARAM_INVALID;
}

int rknn_set_core_mask(rknn_context context, rknn_core_mask core_mask) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    int status = sim_check_core_mask(core_mask);
    if (status == 0) context_of(context)->core_mask = core_mask;
    return status;
}

/* Input i as the model's type and layout: from bound memory or from rknn_inputs_set. */
static const void* input_for_run(sim_context* c, uint32_t i, void** scratch, int* status) {
    const sim_tensor* t = &c->inputs[i];
    const sim_binding* b = &c->input_bind[i];
    if (b->mem == NULL) {
        if (c->input_data[i] == NULL) *status = RKNN_ERR_INPUT_INVALID;
        return c->input_data[i];
    }
    const void* src = b->mem->mem.virt_addr;
    size_t bytes = (size_t)sim_elements(t) * sim_type_size(t->type);
    if (b->pass_through || (b->type == t->type && b->fmt == t->fmt)) return src; /* no copy at all */
    if ((*scratch = malloc(bytes)) == NULL) {
        *status = RKNN_ERR_MALLOC_FAIL;
        return NULL;
    }
    uint32_t given = sim_elements(t) * (uint32_t)sim_type_size(b->type);
    if (sim_convert_input(t, src, given, b->type, b->fmt, *scratch) != 0) *status = RKNN_ERR_INPUT_INVALID;
    return *scratch;
}

int rknn_run(rknn_context context, rknn_run_extend* extend) {
    (void)extend;
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(context);
    const sim_rknn_model* m = &c->shared->model;
    if (c->flags & RKNN_FLAG_COLLECT_MODEL_INFO_ONLY) return RKNN_ERR_CTX_INVALID;
    /* MEM_ALLOC_OUTSIDE: weights and internal memory come from the caller; INTERNAL_ALLOC_OUTSIDE:
     * internal memory only. */
    if (((c->flags & RKNN_FLAG_MEM_ALLOC_OUTSIDE) && c->weight_mem == NULL)
        || ((c->flags & (RKNN_FLAG_MEM_ALLOC_OUTSIDE | RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE)) && c->internal_mem == NULL)) return RKNN_ERR_FAIL;
    long run = atomic_fetch_add(&runs_in_process, 1) + 1;
    long fault = sim_env_long("RKNN_SIM_RUN_ERROR", 0);
    if (fault != 0) return (int)fault;
    if (run == sim_env_long("RKNN_SIM_CRASH_AT_RUN", 0)) raise(SIGSEGV);
    if (run == sim_env_long("RKNN_SIM_HANG_AT_RUN", 0)) for (;;) pause();
    struct timespec started, ended;
    clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_mutex_lock(&c->lock);
    int status = 0;
    void* scratch[RKNN_SIM_MAX_TENSORS] = {0};
    const void* inputs[RKNN_SIM_MAX_TENSORS] = {0};
    for (uint32_t i = 0; i < m->n_inputs && status == 0; i++) inputs[i] = input_for_run(c, i, &scratch[i], &status);
    float* values[RKNN_SIM_MAX_TENSORS] = {0};
    for (uint32_t o = 0; o < m->n_outputs && status == 0; o++) {
        if ((values[o] = malloc((size_t)sim_elements(&c->outputs[o]) * sizeof(float))) == NULL) status = RKNN_ERR_MALLOC_FAIL;
    }
    long busy_ms = sim_env_long("RKNN_SIM_RUN_MS", 0); /* the simulated NPU time of a run */
    if (status == 0 && busy_ms > 0) {
        struct timespec busy = {busy_ms / 1000, (busy_ms % 1000) * 1000000};
        nanosleep(&busy, NULL);
    }
    if (status == 0) {
        sim_compute(m, &c->inputs[0], c->outputs, inputs[0], values);
        /* Each custom operator type is called once, for all of its outputs (the first names it). */
        for (uint32_t o = 0; o < m->n_outputs && status == 0; o++) {
            const sim_tensor* t = &c->outputs[o];
            int first = t->op == SIM_OP_CUSTOM;
            for (uint32_t p = 0; p < o && first; p++) first = !(c->outputs[p].op == SIM_OP_CUSTOM && strcmp(c->outputs[p].custom_op, t->custom_op) == 0);
            if (first) status = sim_custom_compute(&c->custom_ops, m, t->custom_op, c->inputs, inputs, c->outputs, values);
        }
        for (uint32_t o = 0; o < m->n_outputs && status == 0; o++) {
            sim_quantize(&c->outputs[o], values[o], c->output_raw[o]);
            const sim_binding* b = &c->output_bind[o];
            if (b->mem) sim_write_output(&c->outputs[o], c->output_raw[o], b->type, b->layout, b->mem->mem.virt_addr);
        }
        c->has_run = status == 0;
    }
    for (uint32_t o = 0; o < m->n_outputs; o++) free(values[o]);
    for (uint32_t i = 0; i < m->n_inputs; i++) free(scratch[i]);
    clock_gettime(CLOCK_MONOTONIC, &ended);
    c->last_run_us = (ended.tv_sec - started.tv_sec) * 1000000LL + (ended.tv_nsec - started.tv_nsec) / 1000;
    pthread_mutex_unlock(&c->lock);
    return status;
}

int rknn_wait(rknn_context context, rknn_run_extend* extend) {
    (void)extend;
    /* As the 2.3.x runtime: ASYNC is not supported and rknn_wait fails. */
    return model_context(context) == NULL ? RKNN_ERR_CTX_INVALID : RKNN_ERR_FAIL;
}

int rknn_outputs_get(rknn_context context, uint32_t n_outputs, rknn_output outputs[], rknn_output_extend* extend) {
    (void)extend;
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(context);
    if (outputs == NULL || n_outputs == 0 || n_outputs > c->shared->model.n_outputs) return RKNN_ERR_PARAM_INVALID;
    int status = 0;
    pthread_mutex_lock(&c->lock);
    if (!c->has_run) status = RKNN_ERR_OUTPUT_INVALID;
    for (uint32_t k = 0; k < n_outputs && status == 0; k++) {
        rknn_output* out = &outputs[k];
        if (out->index >= c->shared->model.n_outputs) { status = RKNN_ERR_OUTPUT_INVALID; break; }
        const sim_tensor* t = &c->outputs[out->index];
        rknn_tensor_type type = out->want_float ? RKNN_TENSOR_FLOAT32 : t->type;
        uint32_t bytes = sim_elements(t) * (uint32_t)sim_type_size(type);
        if (out->is_prealloc) {
            if (out->buf == NULL || out->size < bytes) { status = RKNN_ERR_OUTPUT_INVALID; break; }
        } else {
            int slot = 0;
            while (slot < 64 && c->handed_out[slot]) slot++;
            if (slot == 64 || (out->buf = malloc(bytes)) == NULL) { status = RKNN_ERR_MALLOC_FAIL; break; }
            c->handed_out[slot] = out->buf;
        }
        out->size = bytes;
        sim_write_output(t, c->output_raw[out->index], type, SIM_LAYOUT_DECLARED, out->buf);
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

int rknn_outputs_release(rknn_context context, uint32_t n_outputs, rknn_output outputs[]) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    if (outputs == NULL) return RKNN_ERR_PARAM_INVALID;
    sim_context* c = context_of(context);
    pthread_mutex_lock(&c->lock);
    /* Only what rknn_outputs_get allocated; other buffers are the caller's. */
    for (uint32_t k = 0; k < n_outputs; k++) {
        for (int slot = 0; slot < 64 && outputs[k].buf; slot++) {
            if (c->handed_out[slot] == outputs[k].buf) {
                free(c->handed_out[slot]);
                c->handed_out[slot] = NULL;
                outputs[k].buf = NULL;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* MARK: memory */

static sim_mem* map_memory(int fd, size_t size, int32_t offset, int owns_fd, uint32_t flags) {
    sim_mem* m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    size_t length = size + (size_t)offset;
    void* base = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        free(m);
        return NULL;
    }
    static atomic_ulong next_phys = 0x40000000;
    m->base = base;
    m->mapped = length;
    m->owns_fd = owns_fd;
    m->mem.virt_addr = (char*)base + offset;
    m->mem.phys_addr = atomic_fetch_add(&next_phys, (length + 4095) & ~4095UL);
    m->mem.fd = fd;
    m->mem.offset = offset;
    m->mem.size = (uint32_t)size;
    m->mem.flags = flags;
    m->mem.priv_data = m;
    return m;
}

static rknn_tensor_mem* allocate_memory(rknn_context ctx, uint64_t size) {
    if (ctx == 0 || size == 0 || size > (1ULL << 31)) return NULL;
    /* Sealed against shrinking: a client given the descriptor cannot cut the memory from under a
     * mapping (a run would die of SIGBUS). */
    int fd = memfd_create("rknn-sim-tensor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return NULL;
    int ready = ftruncate(fd, (off_t)size) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0;
    sim_mem* m = ready ? map_memory(fd, size, 0, 1, RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE) : NULL;
    if (m == NULL) {
        close(fd);
        return NULL;
    }
    return &m->mem;
}

rknn_tensor_mem* rknn_create_mem(rknn_context ctx, uint32_t size) { return allocate_memory(ctx, size); }

rknn_tensor_mem* rknn_create_mem2(rknn_context ctx, uint64_t size, uint64_t alloc_flags) {
    if (alloc_flags & ~(uint64_t)(RKNN_FLAG_MEMORY_CACHEABLE | RKNN_FLAG_MEMORY_NON_CACHEABLE | RKNN_FLAG_MEMORY_TRY_ALLOC_SRAM)) return NULL;
    return allocate_memory(ctx, size);
}

rknn_tensor_mem* rknn_create_mem_from_fd(rknn_context ctx, int32_t fd, void* virt_addr, uint32_t size, int32_t offset) {
    (void)virt_addr; /* the simulated NPU maps the buffer itself */
    if (ctx == 0 || fd < 0 || size == 0 || offset < 0) return NULL;
    sim_mem* m = map_memory(fd, size, offset, 0, RKNN_TENSOR_MEMORY_FLAGS_FROM_FD);
    return m ? &m->mem : NULL;
}

rknn_tensor_mem* rknn_create_mem_from_phys(rknn_context ctx, uint64_t phys_addr, void* virt_addr, uint32_t size) {
    (void)ctx; (void)phys_addr; (void)virt_addr; (void)size;
    return NULL; /* no physical memory to wrap on a simulated NPU */
}

rknn_tensor_mem* rknn_create_mem_from_mb_blk(rknn_context ctx, void* mb_blk, int32_t offset) {
    (void)ctx; (void)mb_blk; (void)offset;
    return NULL; /* as every inspected vendor library: not available */
}

int rknn_destroy_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    if (ctx == 0) return RKNN_ERR_CTX_INVALID;
    if (mem == NULL || mem->priv_data != mem) return RKNN_ERR_PARAM_INVALID;
    sim_mem* m = (sim_mem*)mem;
    if (*(uint32_t*)(uintptr_t)ctx == SIM_MATMUL_CONTEXT) {
        sim_matmul_forget((uint32_t*)(uintptr_t)ctx, m);
    } else {
        sim_context* c = context_of(ctx);
        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < RKNN_SIM_MAX_TENSORS; i++) {
            if (c->input_bind[i].mem == m) c->input_bind[i].mem = NULL;
            if (c->output_bind[i].mem == m) c->output_bind[i].mem = NULL;
        }
        if (c->weight_mem == m) c->weight_mem = NULL;
        if (c->internal_mem == m) c->internal_mem = NULL;
        pthread_mutex_unlock(&c->lock);
    }
    munmap(m->base, m->mapped);
    if (m->owns_fd) close(m->mem.fd);
    m->mem.priv_data = NULL;
    free(m);
    return 0;
}

static int set_outside_memory(rknn_context ctx, rknn_tensor_mem* mem, uint32_t flag, int weights) {
    if (model_context(ctx) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(ctx);
    if (mem == NULL || mem->priv_data != mem || !(c->flags & flag)) return RKNN_ERR_PARAM_INVALID;
    uint32_t needed = weights ? c->shared->model.weight_size : required_internal_size(c);
    if (mem->size < needed) return RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&c->lock);
    if (weights) c->weight_mem = (sim_mem*)mem;
    else c->internal_mem = (sim_mem*)mem;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int rknn_set_weight_mem(rknn_context ctx, rknn_tensor_mem* mem) { return set_outside_memory(ctx, mem, RKNN_FLAG_MEM_ALLOC_OUTSIDE, 1); }
/* MEM_ALLOC_OUTSIDE covers weight, internal, input and output memory (rknn_api.h). */
int rknn_set_internal_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    return set_outside_memory(ctx, mem, RKNN_FLAG_MEM_ALLOC_OUTSIDE | RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE, 0);
}

int rknn_set_io_mem(rknn_context ctx, rknn_tensor_mem* mem, rknn_tensor_attr* attr) {
    if (model_context(ctx) == NULL) return RKNN_ERR_CTX_INVALID;
    if (mem == NULL || mem->priv_data != mem || attr == NULL) return RKNN_ERR_PARAM_INVALID;
    sim_context* c = context_of(ctx);
    const sim_rknn_model* m = &c->shared->model;
    int status = RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&c->lock);
    /* The tensor is the one the attribute names (as queried). */
    for (int output = 0; output < 2 && status != 0; output++) {
        uint32_t count = output ? m->n_outputs : m->n_inputs;
        for (uint32_t i = 0; i < count; i++) {
            const sim_tensor* t = output ? &c->outputs[i] : &c->inputs[i];
            if (strncmp(attr->name, t->name, sizeof attr->name) != 0) continue;
            sim_layout layout = attr->fmt == RKNN_TENSOR_NC1HWC2 ? SIM_LAYOUT_NC1HWC2
                : (output && attr->fmt == RKNN_TENSOR_NHWC && t->fmt == RKNN_TENSOR_NCHW) ? SIM_LAYOUT_NHWC : SIM_LAYOUT_DECLARED;
            rknn_tensor_attr expected;
            sim_tensor_attr(t, i, layout, &expected);
            size_t needed = layout == SIM_LAYOUT_NC1HWC2 ? expected.size_with_stride * sim_type_size(attr->type)
                                                         : (size_t)expected.n_elems * sim_type_size(attr->type);
            if (mem->size < needed || attr->type >= RKNN_TENSOR_TYPE_MAX) break;
            sim_binding* b = output ? &c->output_bind[i] : &c->input_bind[i];
            *b = (sim_binding){(sim_mem*)mem, attr->type, output ? t->fmt : attr->fmt, layout, attr->pass_through};
            status = 0;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

static int set_shapes(rknn_context ctx, uint32_t n, const rknn_tensor_attr* attrs) {
    if (model_context(ctx) == NULL) return RKNN_ERR_CTX_INVALID;
    sim_context* c = context_of(ctx);
    const sim_rknn_model* m = &c->shared->model;
    if (attrs == NULL || n == 0 || n > m->n_inputs) return RKNN_ERR_PARAM_INVALID;
    int status = RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&c->lock);
    for (uint32_t k = 0; k < n; k++) {
        if (attrs[k].index != 0 || attrs[k].n_dims != 4) continue;
        for (uint32_t s = 0; s < m->n_shapes; s++) {
            if (memcmp(attrs[k].dims, m->shapes[s], 4 * sizeof(uint32_t)) != 0) continue;
            memcpy(c->inputs[0].dims, m->shapes[s], 4 * sizeof(uint32_t));
            status = allocate_buffers(c);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

int rknn_set_input_shape(rknn_context ctx, rknn_tensor_attr* attr) { return set_shapes(ctx, 1, attr); }
int rknn_set_input_shapes(rknn_context ctx, uint32_t n_inputs, rknn_tensor_attr attr[]) { return set_shapes(ctx, n_inputs, attr); }

int rknn_mem_sync(rknn_context context, rknn_tensor_mem* mem, rknn_mem_sync_mode mode) {
    if (model_context(context) == NULL) return RKNN_ERR_CTX_INVALID;
    if (mem == NULL || mem->priv_data != mem || mode < RKNN_MEMORY_SYNC_TO_DEVICE || mode > RKNN_MEMORY_SYNC_BIDIRECTIONAL) return RKNN_ERR_PARAM_INVALID;
    return 0; /* one coherent memory: nothing to flush */
}
