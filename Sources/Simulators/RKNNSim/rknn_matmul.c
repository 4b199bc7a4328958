/* rknn_matmul_*: matrix products computed for real on the CPU, for every type and layout of
 * rknn_matmul_api.h, with the simulated chip's alignment, native blocks and K segments,
 * quantisation per layer, channel or group, and dynamic shapes (docs/SIMULATED_RUNTIMES.md). */
#include "rknn_matmul_api.h"
#include "rknn_sim_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { SIM_MM_MAX_SHAPES = 16, SIM_MM_MAX_MN = 8192, SIM_MM_MAX_K = 10240 /* the header's limit */ };

typedef struct {
    float* scale;       /* one, one per column of B, or one per group of B ([K / group][N]) */
    int32_t* zp;        /* as many as scale, or NULL: zero */
    int32_t count;
} sim_quant;

typedef struct {
    uint32_t kind;                      /* SIM_MATMUL_CONTEXT */
    pthread_mutex_t lock;
    rknn_matmul_info info;
    rknn_tensor_type types[3];          /* A, B, C */
    rknn_matmul_shape shapes[SIM_MM_MAX_SHAPES];
    int n_shapes;                       /* 0: the shape of info */
    rknn_matmul_shape shape;            /* current */
    sim_mem* a;
    sim_mem* c;
    float* b;                           /* B's values as read at rknn_matmul_set_io_mem, K x N */
    rknn_matmul_shape b_shape;          /* the K and N it was read with */
    sim_quant quant[3];                 /* A, B, C */
    uint32_t core_mask;
} sim_matmul;

static sim_matmul* matmul_of(rknn_matmul_ctx ctx) {
    sim_matmul* m = (sim_matmul*)(uintptr_t)ctx;
    return ctx != 0 && m->kind == SIM_MATMUL_CONTEXT ? m : NULL;
}

/* The element types of A, B and C: every type the header lists; -1 for anything else, and for the
 * int4 types on a chip whose header section has no int4 (RK3562). */
static int types_of(rknn_matmul_type type, rknn_tensor_type t[3]) {
    const rknn_tensor_type F16 = RKNN_TENSOR_FLOAT16, F32 = RKNN_TENSOR_FLOAT32, I8 = RKNN_TENSOR_INT8, I4 = RKNN_TENSOR_INT4;
    rknn_tensor_type a, b, c;
    switch (type) {
    case RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32: a = F16; b = F16; c = F32; break;
    case RKNN_INT8_MM_INT8_TO_INT32: a = I8; b = I8; c = RKNN_TENSOR_INT32; break;
    case RKNN_INT8_MM_INT8_TO_INT8: a = I8; b = I8; c = I8; break;
    case RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16: a = F16; b = F16; c = F16; break;
    case RKNN_FLOAT16_MM_INT8_TO_FLOAT32: a = F16; b = I8; c = F32; break;
    case RKNN_FLOAT16_MM_INT8_TO_FLOAT16: a = F16; b = I8; c = F16; break;
    case RKNN_FLOAT16_MM_INT4_TO_FLOAT32: a = F16; b = I4; c = F32; break;
    case RKNN_FLOAT16_MM_INT4_TO_FLOAT16: a = F16; b = I4; c = F16; break;
    case RKNN_INT8_MM_INT8_TO_FLOAT32: a = I8; b = I8; c = F32; break;
    case RKNN_INT4_MM_INT4_TO_INT16: a = I4; b = I4; c = RKNN_TENSOR_INT16; break;
    case RKNN_INT8_MM_INT4_TO_INT32: a = I8; b = I4; c = RKNN_TENSOR_INT32; break;
    case RKNN_FLOAT16_MM_INT4_TO_BFLOAT16: a = F16; b = I4; c = RKNN_TENSOR_BFLOAT16; break;
    case RKNN_INT8_MM_INT4_TO_FLOAT16: a = I8; b = I4; c = F16; break;
    default: return -1;
    }
    if (b == I4 && sim_current_chip() == SIM_RK3562) return -1;
    t[0] = a;
    t[1] = b;
    t[2] = c;
    return 0;
}

static int is_integer(rknn_tensor_type type) { return type == RKNN_TENSOR_INT8 || type == RKNN_TENSOR_INT4; }

static size_t bytes_of(rknn_tensor_type type, size_t elements) {
    return type == RKNN_TENSOR_INT4 ? (elements + 1) / 2 : elements * sim_type_size(type);
}

/* N's alignment, which is also the N of a native B block (RK3588/RK3576: int4 64, int8 32,
 * float16 16; RK3562: int8 16, float16 8). K is aligned to 32 everywhere. */
static int n_block(rknn_tensor_type b_type) {
    int block = b_type == RKNN_TENSOR_INT4 ? 64 : b_type == RKNN_TENSOR_INT8 ? 32 : 16;
    return sim_current_chip() == SIM_RK3562 ? block / 2 : block;
}

/* Native A and C: blocks of 16 bytes of a row ((K / subK, M, subK) and (N / subN, M, subN)). */
static int sub_block(rknn_tensor_type type) { return type == RKNN_TENSOR_INT4 ? 32 : 16 / (int)sim_type_size(type); }

/* A native B splits K into segments of this many (RK3588 8192, RK3576 4096; RK3562 none). */
static int b_segment(void) {
    sim_chip chip = sim_current_chip();
    return chip == SIM_RK3588 ? 8192 : chip == SIM_RK3576 ? 4096 : SIM_MM_MAX_K;
}

static int check_shape(const rknn_matmul_shape* s, const rknn_tensor_type t[3]) {
    if (s->M < 1 || s->K < 1 || s->N < 1 || s->M > SIM_MM_MAX_MN || s->K > SIM_MM_MAX_K || s->N > SIM_MM_MAX_MN) return RKNN_ERR_PARAM_INVALID;
    return s->K % 32 == 0 && s->N % n_block(t[1]) == 0 ? 0 : RKNN_ERR_PARAM_INVALID;
}

/* Element indices in each layout. */
static size_t a_index(const sim_matmul* m, const rknn_matmul_shape* s, int i, int k) {
    if (m->info.AC_layout != RKNN_MM_LAYOUT_NATIVE) return (size_t)i * (size_t)s->K + (size_t)k;
    size_t sub = (size_t)sub_block(m->types[0]);
    return ((size_t)k / sub * (size_t)s->M + (size_t)i) * sub + (size_t)k % sub;
}

static size_t c_index(const sim_matmul* m, const rknn_matmul_shape* s, int i, int n) {
    if (m->info.AC_layout != RKNN_MM_LAYOUT_NATIVE) return (size_t)i * (size_t)s->N + (size_t)n;
    size_t sub = (size_t)sub_block(m->types[2]);
    return ((size_t)n / sub * (size_t)s->M + (size_t)i) * sub + (size_t)n % sub;
}

/* B[k][n] in a native layout: segment after segment of (N / block, Ks / 32, block, 32). */
static size_t b_native_index(rknn_tensor_type type, int K, int N, int k, int n) {
    size_t segment = (size_t)b_segment(), block = (size_t)n_block(type);
    size_t first = (size_t)k / segment * segment, ks = (size_t)K - first < segment ? (size_t)K - first : segment, kk = (size_t)k - first;
    return first * (size_t)N + (((size_t)n / block * (ks / 32) + kk / 32) * block + (size_t)n % block) * 32 + kk % 32;
}

static size_t b_index(const sim_matmul* m, const rknn_matmul_shape* s, int k, int n) {
    switch (m->info.B_layout) {
    case RKNN_MM_LAYOUT_NATIVE: return b_native_index(m->types[1], s->K, s->N, k, n);
    case RKNN_MM_LAYOUT_TP_NORM: return (size_t)n * (size_t)s->K + (size_t)k;
    default: return (size_t)k * (size_t)s->N + (size_t)n;
    }
}

static void tensor(rknn_matmul_tensor_attr* attr, const char* name, rknn_tensor_type type, uint32_t n_dims, const uint32_t* dims) {
    memset(attr, 0, sizeof *attr);
    strcpy(attr->name, name);
    attr->type = type;
    attr->n_dims = n_dims;
    size_t elements = 1;
    for (uint32_t i = 0; i < n_dims; i++) elements *= (attr->dims[i] = dims[i]);
    attr->size = (uint32_t)bytes_of(type, elements);
}

static void io_attr_of(const sim_matmul* m, const rknn_matmul_shape* s, rknn_matmul_io_attr* io) {
    uint32_t M = (uint32_t)s->M, K = (uint32_t)s->K, N = (uint32_t)s->N;
    if (m->info.AC_layout == RKNN_MM_LAYOUT_NATIVE) {
        uint32_t sa = (uint32_t)sub_block(m->types[0]), sc = (uint32_t)sub_block(m->types[2]);
        tensor(&io->A, "A", m->types[0], 3, (uint32_t[]){K / sa, M, sa});
        tensor(&io->C, "C", m->types[2], 3, (uint32_t[]){N / sc, M, sc});
    } else {
        tensor(&io->A, "A", m->types[0], 2, (uint32_t[]){M, K});
        tensor(&io->C, "C", m->types[2], 2, (uint32_t[]){M, N});
    }
    if (m->info.B_layout == RKNN_MM_LAYOUT_NATIVE) {
        uint32_t block = (uint32_t)n_block(m->types[1]);
        tensor(&io->B, "B", m->types[1], 4, (uint32_t[]){N / block, K / 32, block, 32});
    } else if (m->info.B_layout == RKNN_MM_LAYOUT_TP_NORM) {
        tensor(&io->B, "B", m->types[1], 2, (uint32_t[]){N, K});
    } else {
        tensor(&io->B, "B", m->types[1], 2, (uint32_t[]){K, N});
    }
}

static int create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int n_shapes, const rknn_matmul_shape* shapes) {
    rknn_tensor_type t[3];
    if (ctx == NULL || info == NULL || types_of(info->type, t) != 0) return RKNN_ERR_PARAM_INVALID;
    if ((info->AC_layout != RKNN_MM_LAYOUT_NORM && info->AC_layout != RKNN_MM_LAYOUT_NATIVE)
        || info->B_layout < RKNN_MM_LAYOUT_NORM || info->B_layout > RKNN_MM_LAYOUT_TP_NORM) return RKNN_ERR_PARAM_INVALID;
    if (n_shapes > SIM_MM_MAX_SHAPES) return RKNN_ERR_PARAM_INVALID;
    int grouped = info->B_quant_type == RKNN_QUANT_TYPE_PER_GROUP_SYM || info->B_quant_type == RKNN_QUANT_TYPE_PER_GROUP_ASYM;
    rknn_matmul_shape own = {info->M, info->K, info->N};
    for (int i = 0; i < (n_shapes ? n_shapes : 1); i++) {
        const rknn_matmul_shape* s = n_shapes ? &shapes[i] : &own;
        int status = check_shape(s, t);
        if (status != 0) return status;
        if (grouped && (info->group_size <= 0 || s->K % info->group_size != 0)) return RKNN_ERR_PARAM_INVALID;
    }
    sim_matmul* m = calloc(1, sizeof *m);
    if (m == NULL) return RKNN_ERR_MALLOC_FAIL;
    m->kind = SIM_MATMUL_CONTEXT;
    pthread_mutex_init(&m->lock, NULL);
    m->info = *info;
    memcpy(m->types, t, sizeof t);
    m->n_shapes = n_shapes;
    if (n_shapes) memcpy(m->shapes, shapes, (size_t)n_shapes * sizeof *shapes);
    m->shape = n_shapes ? shapes[0] : own;
    *ctx = (rknn_matmul_ctx)(uintptr_t)m;
    return 0;
}

int rknn_matmul_create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, rknn_matmul_io_attr* io_attr) {
    if (io_attr == NULL) return RKNN_ERR_PARAM_INVALID;
    int status = create(ctx, info, 0, NULL);
    if (status == 0) io_attr_of(matmul_of(*ctx), &matmul_of(*ctx)->shape, io_attr);
    return status;
}

int rknn_matmul_create_dynamic_shape(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int shape_num,
                                     rknn_matmul_shape dynamic_shapes[], rknn_matmul_io_attr io_attrs[]) {
    if (shape_num < 1 || dynamic_shapes == NULL || io_attrs == NULL) return RKNN_ERR_PARAM_INVALID;
    int status = create(ctx, info, shape_num, dynamic_shapes);
    for (int i = 0; status == 0 && i < shape_num; i++) io_attr_of(matmul_of(*ctx), &dynamic_shapes[i], &io_attrs[i]);
    return status;
}

int rknn_matmul_set_dynamic_shape(rknn_matmul_ctx ctx, rknn_matmul_shape* shape) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    if (shape == NULL) return RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&m->lock);
    int status = RKNN_ERR_PARAM_INVALID;
    for (int i = 0; i < m->n_shapes && status != 0; i++) {
        if (m->shapes[i].M == shape->M && m->shapes[i].K == shape->K && m->shapes[i].N == shape->N) {
            /* B stays bound while K and N do (the vendor's programs bind it once and switch M). */
            m->shape = *shape;
            status = 0;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}

int rknn_matmul_set_io_mem(rknn_matmul_ctx ctx, rknn_tensor_mem* mem, rknn_matmul_tensor_attr* attr) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    if (mem == NULL || mem->priv_data != mem || attr == NULL) return RKNN_ERR_PARAM_INVALID;
    rknn_matmul_io_attr io;
    pthread_mutex_lock(&m->lock);
    const rknn_matmul_shape s = m->shape;
    io_attr_of(m, &s, &io);
    int status = 0;
    if (strcmp(attr->name, "A") == 0 && mem->size >= io.A.size) {
        m->a = (sim_mem*)mem;
    } else if (strcmp(attr->name, "C") == 0 && mem->size >= io.C.size) {
        m->c = (sim_mem*)mem;
    } else if (strcmp(attr->name, "B") == 0 && mem->size >= io.B.size) {
        /* B is read (and rearranged) now, as the vendor's runtime does: set it again after a change. */
        float* b = malloc((size_t)s.K * (size_t)s.N * sizeof(float));
        if (b == NULL) {
            status = RKNN_ERR_MALLOC_FAIL;
        } else {
            for (int k = 0; k < s.K; k++)
                for (int n = 0; n < s.N; n++) b[(size_t)k * (size_t)s.N + (size_t)n] = sim_load(mem->virt_addr, m->types[1], b_index(m, &s, k, n));
            free(m->b);
            m->b = b;
            m->b_shape = s;
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
    /* "invalid on single-core platforms and will return -1" (the vendor's MatMul demo) */
    if (sim_chip_cores() == 1) return RKNN_ERR_FAIL;
    int status = sim_check_core_mask(core_mask);
    if (status == 0) m->core_mask = core_mask;
    return status;
}

static int quant_slot(const char* name) { return strcmp(name, "A") == 0 ? 0 : strcmp(name, "B") == 0 ? 1 : strcmp(name, "C") == 0 ? 2 : -1; }

static int grouped(const sim_matmul* m) {
    return m->info.B_quant_type == RKNN_QUANT_TYPE_PER_GROUP_SYM || m->info.B_quant_type == RKNN_QUANT_TYPE_PER_GROUP_ASYM;
}

/* How many scales B takes: one per group ([K / group_size][N]) when grouped, else one or one per column. */
static int valid_b_count(const sim_matmul* m, int32_t count) {
    if (grouped(m)) return count == m->shape.N * (m->shape.K / m->info.group_size);
    return count == 1 || count == m->shape.N;
}

int rknn_matmul_set_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    int slot = params ? quant_slot(params->name) : -1;
    if (slot < 0 || params->scale == NULL || params->scale_len < 1) return RKNN_ERR_PARAM_INVALID;
    /* zero points: one per scale, or none at all (symmetric; the vendor's group demo passes none) */
    int has_zp = params->zp != NULL && params->zp_len > 0;
    if (has_zp && params->zp_len != params->scale_len) return RKNN_ERR_PARAM_INVALID;
    pthread_mutex_lock(&m->lock);
    int valid = slot == 1 ? valid_b_count(m, params->scale_len) : params->scale_len == 1; /* A and C: per layer */
    pthread_mutex_unlock(&m->lock);
    if (!valid) return RKNN_ERR_PARAM_INVALID;
    sim_quant q = {malloc((size_t)params->scale_len * sizeof(float)), has_zp ? malloc((size_t)params->zp_len * sizeof(int32_t)) : NULL, params->scale_len};
    if (q.scale == NULL || (has_zp && q.zp == NULL)) {
        free(q.scale);
        free(q.zp);
        return RKNN_ERR_MALLOC_FAIL;
    }
    memcpy(q.scale, params->scale, (size_t)q.count * sizeof(float));
    if (has_zp) memcpy(q.zp, params->zp, (size_t)q.count * sizeof(int32_t));
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
    for (int32_t i = 0; params->zp && i < params->zp_len; i++) params->zp[i] = i < q->count && q->zp ? q->zp[i] : 0;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* The quantisation parameter of entry `at` (0 for per layer); scale 1 and zero point 0 when unset. */
static float scale_at(const sim_quant* q, size_t at) { return q->count ? q->scale[q->count == 1 ? 0 : at] : 1.0f; }
static float zp_at(const sim_quant* q, size_t at) { return q->count && q->zp ? (float)q->zp[q->count == 1 ? 0 : at] : 0.0f; }

/* C[i][n] = sum over k of A[i][k] * B[k][n], with the operands' quantisation: integer operands
 * less their zero points; an integer C of int32/int16 is the exact integer sum; otherwise each
 * group of K (all of K unless grouped) is scaled by A's and B's scales, and an int8 C is
 * requantised with C's scale and zero point. */
static void product(const sim_matmul* m, const rknn_matmul_shape* s, int i, int n, void* c) {
    const rknn_tensor_type* t = m->types;
    const sim_quant* qa = &m->quant[0];
    const sim_quant* qb = &m->quant[1];
    int group = grouped(m) ? m->info.group_size : s->K;
    int a_int = is_integer(t[0]), b_int = is_integer(t[1]), exact = a_int && b_int;
    float a_scale = a_int ? scale_at(qa, 0) : 1.0f, a_zp = a_int ? zp_at(qa, 0) : 0.0f;
    int64_t total = 0;
    float value = 0;
    for (int first = 0; first < s->K; first += group) {
        /* B's parameters: per group ([K / group][N]), per column, or per layer */
        size_t at = grouped(m) ? (size_t)(first / group) * (size_t)s->N + (size_t)n : (size_t)n;
        float b_zp = b_int ? zp_at(qb, at) : 0.0f;
        int64_t sum = 0;
        float acc = 0;
        for (int k = first; k < first + group; k++) {
            float a = sim_load(m->a->mem.virt_addr, t[0], a_index(m, s, i, k)) - a_zp;
            float b = m->b[(size_t)k * (size_t)s->N + (size_t)n] - b_zp;
            if (exact) sum += (int64_t)a * (int64_t)b;
            else acc += a * b;
        }
        total += sum;
        value += (exact ? (float)sum : acc) * (b_int ? a_scale * scale_at(qb, at) : a_scale);
    }
    size_t at = c_index(m, s, i, n);
    if (t[2] == RKNN_TENSOR_INT32 || t[2] == RKNN_TENSOR_INT16) {
        int64_t high = t[2] == RKNN_TENSOR_INT32 ? INT32_MAX : INT16_MAX, low = -high - 1;
        int64_t clamped = total > high ? high : total < low ? low : total;
        if (t[2] == RKNN_TENSOR_INT32) ((int32_t*)c)[at] = (int32_t)clamped;
        else ((int16_t*)c)[at] = (int16_t)clamped;
        return;
    }
    if (t[2] == RKNN_TENSOR_INT8) value = value / scale_at(&m->quant[2], 0) + zp_at(&m->quant[2], 0);
    sim_store(c, t[2], at, value);
}

int rknn_matmul_run(rknn_matmul_ctx ctx) {
    sim_matmul* m = matmul_of(ctx);
    if (m == NULL) return RKNN_ERR_CTX_INVALID;
    pthread_mutex_lock(&m->lock);
    const rknn_matmul_shape s = m->shape;
    rknn_matmul_io_attr io;
    io_attr_of(m, &s, &io);
    /* every operand bound, large enough for the current shape, B read at this K and N, B's scales
     * still matching it */
    int status = m->a && m->c && m->b && m->a->mem.size >= io.A.size && m->c->mem.size >= io.C.size
        && m->b_shape.K == s.K && m->b_shape.N == s.N && (m->quant[1].count == 0 || valid_b_count(m, m->quant[1].count))
        ? 0 : RKNN_ERR_PARAM_INVALID;
    for (int i = 0; status == 0 && i < s.M; i++)
        for (int n = 0; n < s.N; n++) product(m, &s, i, n, m->c->mem.virt_addr);
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
    if (check_shape(&shape, t) != 0) return RKNN_ERR_PARAM_INVALID;
    size_t size = sim_type_size(t[1]);
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) {
            size_t from = (size_t)k * (size_t)N + (size_t)n, to = b_native_index(t[1], K, N, k, n);
            if (t[1] == RKNN_TENSOR_INT4) sim_store(B_output, t[1], to, sim_load(B_input, t[1], from));
            else memcpy((char*)B_output + to * size, (const char*)B_input + from * size, size);
        }
    return 0;
}
