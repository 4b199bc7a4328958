/* Calls the MatMul API of librknnrt the way the vendor's rknpu2 MatMul demos do
 * (rknn_matmul_api_demo.cpp, rknn_matmul_api_dynshape_demo.cpp): every type, B in the normal,
 * native and transposed layouts, A and C normal and native, quantisation per layer, channel and
 * group as they set it, B bound once across dynamic shapes; each product checked against one
 * computed here. argv[1] names the target platform, as the demos are built per target. */
#include "conformance.h"
#include "rknn_matmul_api.h"

#include <math.h>

typedef struct {
    rknn_matmul_type type;
    const char* name;
    rknn_tensor_type a, b, c;
} matmul_kind;

static const matmul_kind kinds[] = {
    {RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32, "FLOAT16_MM_FLOAT16_TO_FLOAT32", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_FLOAT16, RKNN_TENSOR_FLOAT32},
    {RKNN_INT8_MM_INT8_TO_INT32, "INT8_MM_INT8_TO_INT32", RKNN_TENSOR_INT8, RKNN_TENSOR_INT8, RKNN_TENSOR_INT32},
    {RKNN_INT8_MM_INT8_TO_INT8, "INT8_MM_INT8_TO_INT8", RKNN_TENSOR_INT8, RKNN_TENSOR_INT8, RKNN_TENSOR_INT8},
    {RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16, "FLOAT16_MM_FLOAT16_TO_FLOAT16", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_FLOAT16, RKNN_TENSOR_FLOAT16},
    {RKNN_FLOAT16_MM_INT8_TO_FLOAT32, "FLOAT16_MM_INT8_TO_FLOAT32", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_INT8, RKNN_TENSOR_FLOAT32},
    {RKNN_FLOAT16_MM_INT8_TO_FLOAT16, "FLOAT16_MM_INT8_TO_FLOAT16", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_INT8, RKNN_TENSOR_FLOAT16},
    {RKNN_FLOAT16_MM_INT4_TO_FLOAT32, "FLOAT16_MM_INT4_TO_FLOAT32", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_INT4, RKNN_TENSOR_FLOAT32},
    {RKNN_FLOAT16_MM_INT4_TO_FLOAT16, "FLOAT16_MM_INT4_TO_FLOAT16", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_INT4, RKNN_TENSOR_FLOAT16},
    {RKNN_INT8_MM_INT8_TO_FLOAT32, "INT8_MM_INT8_TO_FLOAT32", RKNN_TENSOR_INT8, RKNN_TENSOR_INT8, RKNN_TENSOR_FLOAT32},
    {RKNN_INT4_MM_INT4_TO_INT16, "INT4_MM_INT4_TO_INT16", RKNN_TENSOR_INT4, RKNN_TENSOR_INT4, RKNN_TENSOR_INT16},
    {RKNN_INT8_MM_INT4_TO_INT32, "INT8_MM_INT4_TO_INT32", RKNN_TENSOR_INT8, RKNN_TENSOR_INT4, RKNN_TENSOR_INT32},
    {RKNN_FLOAT16_MM_INT4_TO_BFLOAT16, "FLOAT16_MM_INT4_TO_BFLOAT16", RKNN_TENSOR_FLOAT16, RKNN_TENSOR_INT4, RKNN_TENSOR_BFLOAT16},
    {RKNN_INT8_MM_INT4_TO_FLOAT16, "INT8_MM_INT4_TO_FLOAT16", RKNN_TENSOR_INT8, RKNN_TENSOR_INT4, RKNN_TENSOR_FLOAT16},
};

static int single_core; /* rk3562: no int4, halved N blocks */

/* MARK: elements of each type (int4: element 2j in the low nibble of byte j, as the demos pack) */

static void put(void* buffer, rknn_tensor_type type, size_t at, double value) {
    switch (type) {
    case RKNN_TENSOR_INT4: {
        uint8_t* byte = (uint8_t*)buffer + at / 2;
        uint8_t nibble = (uint8_t)((int)value & 0xF);
        *byte = at % 2 ? (uint8_t)((*byte & 0x0F) | (nibble << 4)) : (uint8_t)((*byte & 0xF0) | nibble);
        break;
    }
    case RKNN_TENSOR_INT8: ((int8_t*)buffer)[at] = (int8_t)value; break;
    case RKNN_TENSOR_FLOAT16: ((_Float16*)buffer)[at] = (_Float16)value; break;
    default: break;
    }
}

static double get(const void* buffer, rknn_tensor_type type, size_t at) {
    switch (type) {
    case RKNN_TENSOR_INT8: return ((const int8_t*)buffer)[at];
    case RKNN_TENSOR_INT16: return ((const int16_t*)buffer)[at];
    case RKNN_TENSOR_INT32: return ((const int32_t*)buffer)[at];
    case RKNN_TENSOR_FLOAT16: return (double)((const _Float16*)buffer)[at];
    case RKNN_TENSOR_FLOAT32: return ((const float*)buffer)[at];
    case RKNN_TENSOR_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t*)buffer)[at] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    default: return NAN;
    }
}

static size_t bytes_for(rknn_tensor_type type, size_t elements) {
    switch (type) {
    case RKNN_TENSOR_INT4: return (elements + 1) / 2;
    case RKNN_TENSOR_INT8: return elements;
    case RKNN_TENSOR_INT16: case RKNN_TENSOR_FLOAT16: case RKNN_TENSOR_BFLOAT16: return elements * 2;
    default: return elements * 4;
    }
}

static double random_value(rknn_tensor_type type) {
    switch (type) {
    case RKNN_TENSOR_INT4: return random_in(-8, 7);
    case RKNN_TENSOR_INT8: return random_in(-128, 127);
    default: return random_in(-8, 8) / 8.0; /* exact in float16 */
    }
}

static int is_integer(rknn_tensor_type type) { return type == RKNN_TENSOR_INT8 || type == RKNN_TENSOR_INT4; }

/* MARK: one product */

typedef struct {
    int M, K, N, B_layout, AC_layout;
    rknn_matmul_quant_type b_quant;
    int group_size;
} matmul_case;

/* Quantisation as the demos set it (and what the reference uses). */
typedef struct {
    float a_scale, c_scale;
    int a_zp, c_zp;
    float* b_scale; /* count: 1, N, or N * K / group ([K / group][N]) */
    int32_t* b_zp;
    int b_count;
} quantisation;

static int set_params(rknn_matmul_ctx ctx, const char* name, float* scale, int32_t* zp, int count) {
    rknn_quant_params params;
    memset(&params, 0, sizeof params);
    snprintf(params.name, sizeof params.name, "%s", name);
    params.scale = scale;
    params.scale_len = count;
    params.zp = zp;
    params.zp_len = zp ? count : 0;
    return rknn_matmul_set_quant_params(ctx, &params);
}

static void quantise(rknn_matmul_ctx ctx, const matmul_kind* kind, const matmul_case* c, quantisation* q) {
    memset(q, 0, sizeof *q);
    q->a_scale = 1;
    q->c_scale = 1;
    int groups = c->b_quant == RKNN_QUANT_TYPE_PER_GROUP_SYM ? c->K / c->group_size : 1;
    q->b_count = c->b_quant == RKNN_QUANT_TYPE_PER_GROUP_SYM ? c->N * groups : c->b_quant == RKNN_QUANT_TYPE_PER_CHANNEL_SYM ? c->N : 1;
    q->b_scale = malloc((size_t)q->b_count * sizeof(float));
    q->b_zp = calloc((size_t)q->b_count, sizeof(int32_t));
    for (int i = 0; i < q->b_count; i++) q->b_scale[i] = is_integer(kind->b) ? 0.01f + 0.001f * (float)(i % 13) : 1.0f;
    if (kind->type == RKNN_INT8_MM_INT8_TO_INT8) {
        /* the demo: A and C per layer with zero points, B per layer or per channel */
        q->a_scale = 0.05f;
        q->a_zp = 1;
        q->c_scale = 4.0f;
        q->c_zp = -3;
        CHECK(set_params(ctx, "A", &q->a_scale, &q->a_zp, 1) == 0, "A's parameters");
        CHECK(set_params(ctx, "C", &q->c_scale, &q->c_zp, 1) == 0, "C's parameters");
    }
    if (is_integer(kind->b) && kind->c != RKNN_TENSOR_INT32 && kind->c != RKNN_TENSOR_INT16) {
        /* per group: scales only, no zero points (the demo's zp is NULL) */
        int32_t* zp = c->b_quant == RKNN_QUANT_TYPE_PER_GROUP_SYM ? NULL : q->b_zp;
        CHECK(set_params(ctx, "B", q->b_scale, zp, q->b_count) == 0, "B's %d parameters", q->b_count);
    } else {
        for (int i = 0; i < q->b_count; i++) q->b_scale[i] = 1.0f;
    }
}

/* The product computed here in double precision, in C's normal layout. */
static double reference(const matmul_kind* kind, const matmul_case* c, const quantisation* q, const double* a, const double* b, int i, int n) {
    int grouped = c->b_quant == RKNN_QUANT_TYPE_PER_GROUP_SYM;
    double total = 0;
    for (int k = 0; k < c->K; k++) {
        int at = grouped ? (k / c->group_size) * c->N + n : q->b_count == c->N ? n : 0;
        double av = a[i * c->K + k] - (is_integer(kind->a) ? q->a_zp : 0);
        double bv = b[k * c->N + n] - (is_integer(kind->b) ? q->b_zp[at] : 0);
        total += av * bv * (is_integer(kind->b) ? q->b_scale[at] : 1.0);
    }
    if (kind->c == RKNN_TENSOR_INT32 || kind->c == RKNN_TENSOR_INT16) return total; /* exact */
    total *= is_integer(kind->a) ? q->a_scale : 1.0;
    if (kind->c == RKNN_TENSOR_INT8) {
        double v = round(total / q->c_scale + q->c_zp);
        return v < -128 ? -128 : v > 127 ? 127 : v;
    }
    return total;
}

static int close_enough(rknn_tensor_type type, double got, double want) {
    double bound;
    switch (type) {
    case RKNN_TENSOR_INT32: case RKNN_TENSOR_INT16: return got == want;
    case RKNN_TENSOR_INT8: bound = 1; break;          /* a rounding boundary */
    case RKNN_TENSOR_FLOAT32: bound = 1e-4 * fmax(1, fabs(want)); break;
    case RKNN_TENSOR_FLOAT16: bound = 2e-3 * fmax(1, fabs(want)); break;
    default: bound = 1e-2 * fmax(1, fabs(want)); break; /* bfloat16 */
    }
    return fabs(got - want) <= bound;
}

/* Creates, fills, binds, runs and checks one MatMul; 0 when it ran. */
static int run_case(const matmul_kind* kind, const matmul_case* c) {
    rknn_matmul_info info;
    memset(&info, 0, sizeof info);
    info.M = c->M;
    info.K = c->K;
    info.N = c->N;
    info.type = kind->type;
    info.B_layout = (int16_t)c->B_layout;
    info.AC_layout = (int16_t)c->AC_layout;
    info.B_quant_type = (int16_t)c->b_quant;
    info.group_size = (int16_t)c->group_size;
    rknn_matmul_io_attr io;
    memset(&io, 0, sizeof io);
    rknn_matmul_ctx ctx = 0;
    int status = rknn_matmul_create(&ctx, &info, &io);
    CHECK(status == 0, "%s B_layout %d AC_layout %d M %d K %d N %d: create (%d)", kind->name, c->B_layout, c->AC_layout, c->M, c->K, c->N, status);
    if (status != 0) return status;
    /* The demos call this on every chip and ignore its answer. */
    rknn_matmul_set_core_mask(ctx, RKNN_NPU_CORE_AUTO);
    quantisation q;
    quantise(ctx, kind, c, &q);

    size_t mk = (size_t)c->M * (size_t)c->K, kn = (size_t)c->K * (size_t)c->N, mn = (size_t)c->M * (size_t)c->N;
    double* a = malloc(mk * sizeof(double));
    double* b = malloc(kn * sizeof(double));
    for (size_t i = 0; i < mk; i++) a[i] = random_value(kind->a);
    for (size_t i = 0; i < kn; i++) b[i] = random_value(kind->b);

    CHECK(io.A.size == bytes_for(kind->a, mk) && io.B.size == bytes_for(kind->b, kn) && io.C.size == bytes_for(kind->c, mn),
          "%s: sizes of A, B, C (%u %u %u)", kind->name, io.A.size, io.B.size, io.C.size);
    rknn_tensor_mem* A = rknn_create_mem(ctx, io.A.size);
    rknn_tensor_mem* B = rknn_create_mem(ctx, io.B.size);
    rknn_tensor_mem* C = rknn_create_mem(ctx, io.C.size);
    CHECK(A && B && C, "rknn_create_mem");
    if (!A || !B || !C) return -1;

    /* A: normal (M, K), or the native ("perf") layout (K / subK, M, subK) */
    size_t sub_k = io.A.dims[2];
    if (c->AC_layout == 1)
        CHECK(io.A.n_dims == 3 && io.A.dims[0] * sub_k == (uint32_t)c->K && io.A.dims[1] == (uint32_t)c->M && io.C.n_dims == 3
              && io.C.dims[0] * io.C.dims[2] == (uint32_t)c->N && io.C.dims[1] == (uint32_t)c->M, "%s: native A and C dims", kind->name);
    for (int i = 0; i < c->M; i++)
        for (int k = 0; k < c->K; k++) {
            size_t at = (size_t)i * (size_t)c->K + (size_t)k;
            if (c->AC_layout == 1) at = ((size_t)k / sub_k * (size_t)c->M + (size_t)i) * sub_k + (size_t)k % sub_k;
            put(A->virt_addr, kind->a, at, a[(size_t)i * (size_t)c->K + (size_t)k]);
        }
    /* B: normal (K, N); native through rknn_B_normal_layout_to_native_layout; transposed (N, K) */
    void* normal = calloc(1, bytes_for(kind->b, kn));
    for (size_t i = 0; i < kn; i++) put(c->B_layout == 2 ? B->virt_addr : normal, kind->b, c->B_layout == 2 ? (i % (size_t)c->N) * (size_t)c->K + i / (size_t)c->N : i, b[i]);
    if (c->B_layout == 0) memcpy(B->virt_addr, normal, io.B.size);
    if (c->B_layout == 1) {
        CHECK(rknn_B_normal_layout_to_native_layout(normal, B->virt_addr, c->K, c->N, &info) == 0, "native B");
        uint32_t block = kind->b == RKNN_TENSOR_INT4 ? 64 : kind->b == RKNN_TENSOR_INT8 ? 32 : 16;
        if (single_core) block /= 2;
        CHECK(io.B.n_dims == 4 && io.B.dims[0] == (uint32_t)c->N / block && io.B.dims[1] == (uint32_t)c->K / 32 && io.B.dims[2] == block && io.B.dims[3] == 32,
              "%s native B (N/%u, K/32, %u, 32): (%u, %u, %u, %u)", kind->name, block, block, io.B.dims[0], io.B.dims[1], io.B.dims[2], io.B.dims[3]);
    }
    free(normal);

    CHECK(rknn_matmul_set_io_mem(ctx, A, &io.A) == 0, "set A");
    CHECK(rknn_matmul_set_io_mem(ctx, B, &io.B) == 0, "set B");
    CHECK(rknn_matmul_set_io_mem(ctx, C, &io.C) == 0, "set C");
    status = rknn_matmul_run(ctx);
    CHECK(status == 0, "%s: run (%d)", kind->name, status);

    int wrong = 0;
    for (int i = 0; status == 0 && i < c->M; i++)
        for (int n = 0; n < c->N; n++) {
            size_t at = (size_t)i * (size_t)c->N + (size_t)n;
            if (c->AC_layout == 1) {
                size_t sub = io.C.dims[2];
                at = ((size_t)n / sub * (size_t)c->M + (size_t)i) * sub + (size_t)n % sub;
            }
            double got = get(C->virt_addr, kind->c, at), want = reference(kind, c, &q, a, b, i, n);
            if (!close_enough(kind->c, got, want) && wrong++ < 3)
                fprintf(stderr, "%s B%d AC%d: C[%d][%d] = %g, want %g\n", kind->name, c->B_layout, c->AC_layout, i, n, got, want);
        }
    CHECK(wrong == 0, "%s B_layout %d AC_layout %d quant %d: %d of C's values wrong", kind->name, c->B_layout, c->AC_layout, c->b_quant, wrong);

    rknn_destroy_mem(ctx, A);
    rknn_destroy_mem(ctx, B);
    rknn_destroy_mem(ctx, C);
    CHECK(rknn_matmul_destroy(ctx) == 0, "destroy");
    free(a);
    free(b);
    free(q.b_scale);
    free(q.b_zp);
    return status;
}

/* The dynamic-shape demo: B bound once at the first shape, then M switched and A and C set again. */
static void dynamic_shapes(void) {
    rknn_matmul_shape shapes[3] = {{1, 64, 64}, {4, 64, 64}, {8, 64, 64}};
    rknn_matmul_info info;
    memset(&info, 0, sizeof info);
    info.M = 8;
    info.K = 64;
    info.N = 64;
    info.type = RKNN_INT8_MM_INT8_TO_INT32;
    info.B_layout = 1;
    rknn_matmul_io_attr io[3];
    memset(io, 0, sizeof io);
    rknn_matmul_ctx ctx = 0;
    CHECK(rknn_matmul_create_dynamic_shape(&ctx, &info, 3, shapes, io) == 0, "create_dynamic_shape");
    if (ctx == 0) return;
    rknn_tensor_mem* A = rknn_create_mem(ctx, io[2].A.size);
    rknn_tensor_mem* B = rknn_create_mem(ctx, io[2].B.size);
    rknn_tensor_mem* C = rknn_create_mem(ctx, io[2].C.size);
    int8_t b[64 * 64], a[8 * 64];
    for (int i = 0; i < 64 * 64; i++) b[i] = (int8_t)random_in(-128, 127);
    CHECK(rknn_B_normal_layout_to_native_layout(b, B->virt_addr, 64, 64, &info) == 0, "native B");
    CHECK(rknn_matmul_set_dynamic_shape(ctx, &shapes[0]) == 0, "first shape");
    CHECK(rknn_matmul_set_io_mem(ctx, B, &io[0].B) == 0, "B, once (\"B can not be dynamic\")");
    for (int s = 0; s < 3; s++) {
        int M = shapes[s].M;
        CHECK(rknn_matmul_set_dynamic_shape(ctx, &shapes[s]) == 0, "shape %d", s);
        for (int i = 0; i < M * 64; i++) a[i] = (int8_t)random_in(-128, 127);
        memcpy(A->virt_addr, a, (size_t)M * 64);
        CHECK(rknn_matmul_set_io_mem(ctx, A, &io[s].A) == 0, "A of shape %d", s);
        CHECK(rknn_matmul_set_io_mem(ctx, C, &io[s].C) == 0, "C of shape %d", s);
        int status = rknn_matmul_run(ctx);
        CHECK(status == 0, "a run at M = %d after switching shapes, B still bound (%d)", M, status);
        int wrong = 0;
        for (int i = 0; status == 0 && i < M; i++)
            for (int n = 0; n < 64; n++) {
                int32_t want = 0;
                for (int k = 0; k < 64; k++) want += a[i * 64 + k] * b[k * 64 + n];
                wrong += ((int32_t*)C->virt_addr)[i * 64 + n] != want;
            }
        CHECK(wrong == 0, "M = %d: %d values wrong", M, wrong);
    }
    rknn_destroy_mem(ctx, A);
    rknn_destroy_mem(ctx, B);
    rknn_destroy_mem(ctx, C);
    rknn_matmul_destroy(ctx);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s rk3588|rk3576|rk3562\n", argv[0]);
        return 2;
    }
    single_core = strcmp(argv[1], "rk3562") == 0;
    for (size_t t = 0; t < sizeof kinds / sizeof kinds[0]; t++) {
        const matmul_kind* kind = &kinds[t];
        int int4 = kind->a == RKNN_TENSOR_INT4 || kind->b == RKNN_TENSOR_INT4;
        if (int4 && single_core) {
            /* The header gives int4 layouts for RK3588/RK3576 only. */
            rknn_matmul_info info = {.M = 4, .K = 64, .N = 128, .type = kind->type};
            rknn_matmul_io_attr io;
            rknn_matmul_ctx ctx = 0;
            CHECK(rknn_matmul_create(&ctx, &info, &io) != 0, "%s refused on %s", kind->name, argv[1]);
            continue;
        }
        for (int B_layout = 0; B_layout <= 2; B_layout++)
            for (int AC_layout = 0; AC_layout <= 1; AC_layout++) {
                matmul_case c = {.M = 4, .K = 64, .N = 128, .B_layout = B_layout, .AC_layout = AC_layout};
                /* quantisation of B as the demos choose it for each type */
                if (kind->type == RKNN_FLOAT16_MM_INT8_TO_FLOAT32 || kind->type == RKNN_FLOAT16_MM_INT4_TO_FLOAT32
                    || kind->type == RKNN_INT8_MM_INT4_TO_INT32 || kind->type == RKNN_FLOAT16_MM_INT4_TO_BFLOAT16)
                    c.b_quant = RKNN_QUANT_TYPE_PER_CHANNEL_SYM;
                if (kind->type == RKNN_FLOAT16_MM_INT4_TO_FLOAT16 || kind->type == RKNN_INT8_MM_INT8_TO_FLOAT32) {
                    c.b_quant = RKNN_QUANT_TYPE_PER_GROUP_SYM;
                    c.group_size = 32;
                }
                if (kind->type == RKNN_INT8_MM_INT8_TO_INT8 && B_layout == 1) c.b_quant = RKNN_QUANT_TYPE_PER_CHANNEL_SYM;
                run_case(kind, &c);
            }
    }
    /* K up to the header's 10240 (a native B split into segments on RK3588 and RK3576), no further. */
    matmul_case large = {.M = 2, .K = 10240, .N = 64, .B_layout = 1};
    run_case(&kinds[1], &large);
    large.B_layout = 0;
    run_case(&kinds[0], &large);
    rknn_matmul_info too_long = {.M = 2, .K = 10272, .N = 64, .type = RKNN_INT8_MM_INT8_TO_INT32};
    rknn_matmul_io_attr io;
    rknn_matmul_ctx ctx = 0;
    CHECK(rknn_matmul_create(&ctx, &too_long, &io) != 0, "K over 10240 refused");
    /* N aligned to the chip's block: 16 on rk3562 for int8, 32 elsewhere */
    rknn_matmul_info narrow = {.M = 2, .K = 32, .N = 16, .type = RKNN_INT8_MM_INT8_TO_INT32};
    int status = rknn_matmul_create(&ctx, &narrow, &io);
    CHECK(single_core ? status == 0 : status != 0, "int8 with N = 16 on %s: %d", argv[1], status);
    if (status == 0) rknn_matmul_destroy(ctx);
    dynamic_shapes();
    return conformance_report("rknn_matmul_demo");
}
