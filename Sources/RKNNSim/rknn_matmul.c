/* rknn_matmul_*: matrix products computed for real on the CPU, with the simulated chip's alignment
 * rules, normal and native B layouts, quantisation parameters and dynamic shapes
 * (docs/SIMULATED_RUNTIMES.md). */
#include "rknn_matmul_api.h"
#include "rknn_sim_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { SIM_MM_MAX_SHAPES = 16, SIM_MM_MAX_DIM = 8192 };

typedef struct {
    float* scale;       /* one, or one per column of B */
    int32_t* zp;
    int32_t count;
} sim_quant;

typedef struct {
    uint32_t kind;                      /* SIM_MATMUL_CONTEXT */
    pthread_mutex_t lock;
    rknn_matmul_info info;
    rknn_matmul_shape shapes[SIM_MM_MAX_SHAPES];
    int n_shapes;                       /* 0: the shape of info */
    rknn_matmul_shape shape;            /* current */
    sim_mem* a;
    sim_mem* c;
    float* b;                           /* B as read at rknn_matmul_set_io_mem, normal layout, K x N */
    sim_quant quant[3];                 /* A, B, C */
    uint32_t core_mask;
} sim_matmul;

static sim_matmul* matmul_of(rknn_matmul_ctx ctx) {
    sim_matmul* m = (sim_matmul*)(uintptr_t)ctx;
    return ctx != 0 && m->kind == SIM_MATMUL_CONTEXT ? m : NULL;
}

/* The element types of A, B and C; -1 for a type the simulator does not compute. */
static int types_of(rknn_matmul_type type, rknn_tensor_type t[3]) {
    switch (type) {
    case RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32: t[0] = t[1] = RKNN_TENSOR_FLOAT16; t[2] = RKNN_TENSOR_FLOAT32; return 0;
    case RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16: t[0] = t[1] = t[2] = RKNN_TENSOR_FLOAT16; return 0;
    case RKNN_INT8_MM_INT8_TO_INT32: t[0] = t[1] = RKNN_TENSOR_INT8; t[2] = RKNN_TENSOR_INT32; return 0;
    case RKNN_INT8_MM_INT8_TO_INT8: t[0] = t[1] = t[2] = RKNN_TENSOR_INT8; return 0;
    case RKNN_INT8_MM_INT8_TO_FLOAT32: t[0] = t[1] = RKNN_TENSOR_INT8; t[2] = RKNN_TENSOR_FLOAT32; return 0;
    default: return -1;
    }
}

/* The native B block: (N / n_block, K / 32, n_block, 32). */
static int native_n_block(rknn_tensor_type b_type) { return b_type == RKNN_TENSOR_INT8 ? 32 : 16; }

/* The chip's alignment of K and N (RK3588/RK3576: int8 K%32 N%32, fp16 K%32 N%16; RK3562:
 * int8 K%32 N%16, fp16 K%32 N%8). */
static int check_shape(const rknn_matmul_shape* s, rknn_tensor_type a_type) {
    if (s->M < 1 || s->K < 1 || s->N < 1 || s->M > SIM_MM_MAX_DIM || s->K > SIM_MM_MAX_DIM || s->N > SIM_MM_MAX_DIM) return RKNN_ERR_PARAM_INVALID;
    int n_align = a_type == RKNN_TENSOR_INT8 ? 32 : 16;
    if (sim_chip_cores() == 1) n_align /= 2;
    return s->K % 32 == 0 && s->N % n_align == 0 ? 0 : RKNN_ERR_PARAM_INVALID;
}

static void tensor(rknn_matmul_tensor_attr* attr, const char* name, rknn_tensor_type type, uint32_t n_dims, const uint32_t* dims) {
    memset(attr, 0, sizeof *attr);
    strcpy(attr->name, name);
    attr->type = type;
    attr->n_dims = n_dims;
    uint32_t elements = 1;
    for (uint32_t i = 0; i < n_dims; i++) elements *= (attr->dims[i] = dims[i]);
    attr->size = elements * (uint32_t)sim_type_size(type);
}

static void io_attr_of(const rknn_matmul_info* info, const rknn_matmul_shape* s, rknn_matmul_io_attr* io) {
    rknn_tensor_type t[3];
    types_of(info->type, t);
    uint32_t a[2] = {(uint32_t)s->M, (uint32_t)s->K}, c[2] = {(uint32_t)s->M, (uint32_t)s->N};
    tensor(&io->A, "A", t[0], 2, a);
    if (info->B_layout == RKNN_MM_LAYOUT_NATIVE) {
        uint32_t block = (uint32_t)native_n_block(t[1]);
        uint32_t b[4] = {(uint32_t)s->N / block, (uint32_t)s->K / 32, block, 32};
        tensor(&io->B, "B", t[1], 4, b);
    } else {
        uint32_t b[2] = {(uint32_t)s->K, (uint32_t)s->N};
        tensor(&io->B, "B", t[1], 2, b);
    }
    tensor(&io->C, "C", t[2], 2, c);
}

static int create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int n_shapes, const rknn_matmul_shape* shapes) {
    rknn_tensor_type t[3];
    if (ctx == NULL || info == NULL || types_of(info->type, t) != 0) return RKNN_ERR_PARAM_INVALID;
    if (info->AC_layout != RKNN_MM_LAYOUT_NORM || (info->B_layout != RKNN_MM_LAYOUT_NORM && info->B_layout != RKNN_MM_LAYOUT_NATIVE)) return RKNN_ERR_PARAM_INVALID;
    if (n_shapes > SIM_MM_MAX_SHAPES) return RKNN_ERR_PARAM_INVALID;
    rknn_matmul_shape own = {info->M, info->K, info->N};
    for (int i = 0; i < (n_shapes ? n_shapes : 1); i++) {
        int status = check_shape(n_shapes ? &shapes[i] : &own, t[0]);
        if (status != 0) return status;
    }
    sim_matmul* m = calloc(1, sizeof *m);
    if (m == NULL) return RKNN_ERR_MALLOC_FAIL;
    m->kind = SIM_MATMUL_CONTEXT;
    pthread_mutex_init(&m->lock, NULL);
    m->info = *info;
    m->n_shapes = n_shapes;
    if (n_shapes) memcpy(m->shapes, shapes, (size_t)n_shapes * sizeof *shapes);
    m->shape = n_shapes ? shapes[0] : own;
    *ctx = (rknn_matmul_ctx)(uintptr_t)m;
    return 0;
}

int rknn_matmul_create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, rknn_matmul_io_attr* io_attr) {
    if (io_attr == NULL) return RKNN_ERR_PARAM_INVALID;
    int status = create(ctx, info, 0, NULL);
    if (status == 0) io_attr_of(info, &matmul_of(*ctx)->shape, io_attr);
    return status;
}

int rknn_matmul_create_dynamic_shape(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int shape_num,
                                     rknn_matmul_shape dynamic_shapes[], rknn_matmul_io_attr io_attrs[]) {
    if (shape_num < 1 || dynamic_shapes == NULL || io_attrs == NULL) return RKNN_ERR_PARAM_INVALID;
    int status = create(ctx, info, shape_num, dynamic_shapes);
    for (int i = 0; status == 0 && i < shape_num; i++) io_attr_of(info, &dynamic_shapes[i], &io_attrs[i]);
    return status;
}

int rknn_matmul_set_dynamic_shape(rknn_matmul_ctx ctx, rknn_matmul_shape* shape) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    if (shape == NULL) return RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&m->lock);
    int status = RKNN_ERR_PARAM_INVALID;
    for (int i = 0; i < m->n_shapes; i++) {
        if (m->shapes[i].M == shape->M && m->shapes[i].K == shape->K && m->shapes[i].N == shape->N) {
            m->shape = *shape;
            free(m->b);
            m->b = NULL; /* B is bound again for the new shape */
            status = 0;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}

/* B[k][n] of a buffer in the context's B layout. */
static float load_b(const sim_matmul* m, const void* buf, rknn_tensor_type type, int k, int n) {
    if (m->info.B_layout != RKNN_MM_LAYOUT_NATIVE) return sim_load(buf, type, (size_t)k * (size_t)m->shape.N + (size_t)n);
    int block = native_n_block(type), k_blocks = m->shape.K / 32;
    size_t at = (((size_t)(n / block) * (size_t)k_blocks + (size_t)(k / 32)) * (size_t)block + (size_t)(n % block)) * 32 + (size_t)(k % 32);
    return sim_load(buf, type, at);
}

int rknn_matmul_set_io_mem(rknn_matmul_ctx ctx, rknn_tensor_mem* mem, rknn_matmul_tensor_attr* attr) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    if (mem == NULL || mem->priv_data != mem || attr == NULL) return RKNN_ERR_PARAM_INVALID;
    rknn_matmul_io_attr io;
    pthread_mutex_lock(&m->lock);
    io_attr_of(&m->info, &m->shape, &io);
    int status = 0;
    if (strcmp(attr->name, "A") == 0 && mem->size >= io.A.size) {
        m->a = (sim_mem*)mem;
    } else if (strcmp(attr->name, "C") == 0 && mem->size >= io.C.size) {
        m->c = (sim_mem*)mem;
    } else if (strcmp(attr->name, "B") == 0 && mem->size >= io.B.size) {
        /* B is read (and rearranged) now, as the vendor's runtime does: set it again after a change. */
        float* b = malloc((size_t)m->shape.K * (size_t)m->shape.N * sizeof(float));
        if (b == NULL) {
            status = RKNN_ERR_MALLOC_FAIL;
        } else {
            for (int k = 0; k < m->shape.K; k++)
                for (int n = 0; n < m->shape.N; n++) b[(size_t)k * (size_t)m->shape.N + (size_t)n] = load_b(m, mem->virt_addr, io.B.type, k, n);
            free(m->b);
            m->b = b;
        }
    } else {
        status = RKNN_ERR_PARAM_INVALID;
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}

void sim_matmul_forget(uint32_t* context, const sim_mem* mem) {
    sim_matmul* m = (sim_matmul*)context;
    pthread_mutex_lock(&m->lock);
    if (m->a == mem) m->a = NULL;
    if (m->c == mem) m->c = NULL;
    pthread_mutex_unlock(&m->lock);
}

int rknn_matmul_set_core_mask(rknn_matmul_ctx ctx, rknn_core_mask core_mask) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    int status = sim_check_core_mask(core_mask);
    if (status == 0) m->core_mask = core_mask;
    return status;
}

static int quant_slot(const char* name) { return strcmp(name, "A") == 0 ? 0 : strcmp(name, "B") == 0 ? 1 : strcmp(name, "C") == 0 ? 2 : -1; }

int rknn_matmul_set_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    int slot = params ? quant_slot(params->name) : -1;
    if (slot < 0 || params->scale == NULL || params->scale_len < 1 || params->zp_len != params->scale_len || params->zp == NULL) return RKNN_ERR_PARAM_INVALID;
    if (params->scale_len != 1 && (slot != 1 || params->scale_len != m->shape.N)) return RKNN_ERR_PARAM_INVALID; /* per channel: B's columns */
    sim_quant q = {malloc((size_t)params->scale_len * sizeof(float)), malloc((size_t)params->zp_len * sizeof(int32_t)), params->scale_len};
    if (q.scale == NULL || q.zp == NULL) {
        free(q.scale);
        free(q.zp);
        return RKNN_ERR_MALLOC_FAIL;
    }
    memcpy(q.scale, params->scale, (size_t)q.count * sizeof(float));
    memcpy(q.zp, params->zp, (size_t)q.count * sizeof(int32_t));
    pthread_mutex_lock(&m->lock);
    free(m->quant[slot].scale);
    free(m->quant[slot].zp);
    m->quant[slot] = q;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int rknn_matmul_get_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params, float* scale) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    int slot = params ? quant_slot(params->name) : -1;
    if (slot < 0 || scale == NULL) return RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&m->lock);
    const sim_quant* q = &m->quant[slot];
    *scale = q->count ? q->scale[0] : 1.0f;
    for (int32_t i = 0; params->scale && i < params->scale_len; i++) params->scale[i] = i < q->count ? q->scale[i] : 1.0f;
    for (int32_t i = 0; params->zp && i < params->zp_len; i++) params->zp[i] = i < q->count ? q->zp[i] : 0;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static float scale_of(const sim_quant* q, int column) { return q->count ? q->scale[q->count == 1 ? 0 : column] : 1.0f; }
static float zp_of(const sim_quant* q, int column) { return q->count ? (float)q->zp[q->count == 1 ? 0 : column] : 0.0f; }

int rknn_matmul_run(rknn_matmul_ctx ctx) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    rknn_tensor_type t[3];
    types_of(m->info.type, t);
    pthread_mutex_lock(&m->lock);
    int status = m->a && m->b && m->c ? 0 : RKNN_ERR_PARAM_INVALID;
    const rknn_matmul_shape s = m->shape;
    int integer = t[0] == RKNN_TENSOR_INT8;
    for (int i = 0; status == 0 && i < s.M; i++) {
        for (int n = 0; n < s.N; n++) {
            /* int8: sum of (A - zpA)(B - zpB) exactly in 64 bits; float16: in float */
            int64_t exact = 0;
            float acc = 0;
            for (int k = 0; k < s.K; k++) {
                float a = sim_load(m->a->mem.virt_addr, t[0], (size_t)i * (size_t)s.K + (size_t)k) - (integer ? zp_of(&m->quant[0], 0) : 0);
                float b = m->b[(size_t)k * (size_t)s.N + (size_t)n] - (integer ? zp_of(&m->quant[1], n) : 0);
                if (integer) exact += (int64_t)a * (int64_t)b;
                else acc += a * b;
            }
            float value = integer ? (float)exact : acc;
            if (m->info.type == RKNN_INT8_MM_INT8_TO_INT8 || m->info.type == RKNN_INT8_MM_INT8_TO_FLOAT32) {
                value *= scale_of(&m->quant[0], 0) * scale_of(&m->quant[1], n); /* the real-valued product */
                if (m->info.type == RKNN_INT8_MM_INT8_TO_INT8) value = value / scale_of(&m->quant[2], 0) + zp_of(&m->quant[2], 0);
            }
            if (m->info.type == RKNN_INT8_MM_INT8_TO_INT32) {
                int64_t clamped = exact > INT32_MAX ? INT32_MAX : exact < INT32_MIN ? INT32_MIN : exact;
                ((int32_t*)m->c->mem.virt_addr)[(size_t)i * (size_t)s.N + (size_t)n] = (int32_t)clamped;
            } else {
                sim_store(m->c->mem.virt_addr, t[2], (size_t)i * (size_t)s.N + (size_t)n, value);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}

int rknn_matmul_destroy(rknn_matmul_ctx ctx) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    m->kind = 0;
    free(m->b);
    for (int i = 0; i < 3; i++) {
        free(m->quant[i].scale);
        free(m->quant[i].zp);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
    return 0;
}

int rknn_B_normal_layout_to_native_layout(void* B_input, void* B_output, int K, int N, rknn_matmul_info* info) {
    rknn_tensor_type t[3];
    if (B_input == NULL || B_output == NULL || info == NULL || types_of(info->type, t) != 0) return RKNN_ERR_PARAM_INVALID;
    rknn_matmul_shape shape = {1, K, N};
    if (check_shape(&shape, t[0]) != 0) return RKNN_ERR_PARAM_INVALID;
    int block = native_n_block(t[1]), k_blocks = K / 32;
    size_t size = sim_type_size(t[1]);
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) {
            size_t at = (((size_t)(n / block) * (size_t)k_blocks + (size_t)(k / 32)) * (size_t)block + (size_t)(n % block)) * 32 + (size_t)(k % 32);
            memcpy((char*)B_output + at * size, (const char*)B_input + ((size_t)k * (size_t)N + (size_t)n) * size, size);
        }
    return 0;
}
