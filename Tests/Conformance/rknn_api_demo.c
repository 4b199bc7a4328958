/* Calls librknnrt the way the vendor's rknpu2 examples do: the benchmark and mobilenet demos
 * (model from memory, every query, inputs_set, outputs_get with want_float, PERF_DETAIL on a context
 * made with flag 0), the zero-copy create_mem demo, the internal-memory reuse demo
 * (MEM_ALLOC_OUTSIDE, one internal buffer shared through its fd), the dynamic-shape zero-copy demo
 * with memory allocated outside, and the multiple-input demo. argv[1] is the directory of the
 * models (models/demo.rknn, models/demo-float.rknn, and two-inputs.rknn written by the test). */
#include "conformance.h"
#include "rknn_api.h"

#include <math.h>

static char model_dir[512];

static void* read_model(const char* name, uint32_t* size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", model_dir, name);
    FILE* file = fopen(path, "rb");
    if (file == NULL) return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    void* bytes = malloc((size_t)length);
    *size = bytes && fread(bytes, 1, (size_t)length, file) == (size_t)length ? (uint32_t)length : 0;
    fclose(file);
    return bytes;
}

/* The detector's frame: a fixed pattern, 640 x 640 x 3 (or 320 x 320 x 3), NHWC uint8. */
static void frame(uint8_t* pixels, int side) {
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            for (int c = 0; c < 3; c++) pixels[((size_t)y * side + x) * 3 + c] = (uint8_t)((x * 3 + y * 5 + c * 40) % 256);
}

/* What the detector's output `o` (stride 8 << o, 16 channels, step 0.01) is at (c, y, x) for a frame
 * of `side`, dequantised as want_float gives it (docs/SIMULATED_RUNTIMES.md: the mean of the
 * stride x stride block of channel c mod 3 over 255, plus c x 0.01, quantised with scale 1/128 and
 * zero point -128). */
static double detector_value(const uint8_t* pixels, int side, int o, int c, int y, int x) {
    int stride = 8 << o;
    double sum = 0;
    for (int dy = 0; dy < stride; dy++)
        for (int dx = 0; dx < stride; dx++) sum += pixels[((size_t)(y * stride + dy) * side + (x * stride + dx)) * 3 + c % 3];
    double v = sum / (stride * stride) / 255.0 + c * 0.01;
    double q = round(v / 0.0078125) - 128;
    q = q < -128 ? -128 : q > 127 ? 127 : q;
    return (q + 128) * 0.0078125;
}

/* Compares NCHW float outputs with the detector's function; returns how many differ. */
static int wrong_outputs(float* const* outputs, const uint8_t* pixels, int side) {
    int wrong = 0;
    for (int o = 0; o < 3; o++) {
        int cells = side / (8 << o);
        for (int c = 0; c < 16; c++)
            for (int y = 0; y < cells; y++)
                for (int x = 0; x < cells; x++) {
                    /* one quantisation step for a rounding boundary */
                    double got = outputs[o][((size_t)c * cells + y) * cells + x], want = detector_value(pixels, side, o, c, y, x);
                    wrong += fabs(got - want) > 0.0079;
                }
    }
    return wrong;
}

static int query_attrs(rknn_context ctx, rknn_input_output_num* io, rknn_tensor_attr* inputs, rknn_tensor_attr* outputs) {
    int status = rknn_query(ctx, RKNN_QUERY_IN_OUT_NUM, io, sizeof *io);
    for (uint32_t i = 0; status == 0 && i < io->n_input; i++) {
        memset(&inputs[i], 0, sizeof inputs[i]);
        inputs[i].index = i;
        status = rknn_query(ctx, RKNN_QUERY_INPUT_ATTR, &inputs[i], sizeof inputs[i]);
    }
    for (uint32_t i = 0; status == 0 && i < io->n_output; i++) {
        memset(&outputs[i], 0, sizeof outputs[i]);
        outputs[i].index = i;
        status = rknn_query(ctx, RKNN_QUERY_OUTPUT_ATTR, &outputs[i], sizeof outputs[i]);
    }
    return status;
}

static uint8_t pixels[640 * 640 * 3];

/* As the zero-copy demos: each output bound to memory of the runtime's as float32 NCHW
 * (n_elems * 4 bytes); `values` gets where each one is read. */
static void bind_float_outputs(rknn_context ctx, uint32_t n, rknn_tensor_attr* attrs, rknn_tensor_mem** mems, float** values) {
    for (uint32_t i = 0; i < n; i++) {
        mems[i] = rknn_create_mem(ctx, attrs[i].n_elems * sizeof(float));
        attrs[i].type = RKNN_TENSOR_FLOAT32;
        attrs[i].fmt = RKNN_TENSOR_NCHW;
        CHECK(mems[i] != NULL && rknn_set_io_mem(ctx, mems[i], &attrs[i]) == 0, "bind output %u as float32", i);
        values[i] = mems[i] ? mems[i]->virt_addr : NULL;
    }
}

/* rknn_benchmark.cpp / the mobilenet demo. */
static void benchmark_demo(void) {
    uint32_t size = 0;
    void* model = read_model("demo.rknn", &size);
    CHECK(model && size > 0, "the model file");
    rknn_context ctx = 0;
    CHECK(rknn_init(&ctx, model, size, 0, NULL) == 0, "rknn_init from memory, flag 0");
    free(model); /* the runtime keeps what it needs */
    rknn_sdk_version version;
    CHECK(rknn_query(ctx, RKNN_QUERY_SDK_VERSION, &version, sizeof version) == 0 && version.api_version[0], "SDK version");
    rknn_mem_size mem_size;
    CHECK(rknn_query(ctx, RKNN_QUERY_MEM_SIZE, &mem_size, sizeof mem_size) == 0, "memory sizes");
    rknn_input_output_num io;
    rknn_tensor_attr input_attrs[4], output_attrs[4];
    CHECK(query_attrs(ctx, &io, input_attrs, output_attrs) == 0 && io.n_input == 1 && io.n_output == 3, "inputs and outputs");
    CHECK(input_attrs[0].fmt == RKNN_TENSOR_NHWC && input_attrs[0].dims[1] == 640 && input_attrs[0].dims[3] == 3, "an NHWC 640x640x3 input");
    rknn_custom_string custom;
    CHECK(rknn_query(ctx, RKNN_QUERY_CUSTOM_STRING, &custom, sizeof custom) == 0, "custom string");

    frame(pixels, 640);
    rknn_input inputs[1];
    memset(inputs, 0, sizeof inputs);
    inputs[0].index = 0;
    inputs[0].pass_through = 0;
    inputs[0].type = RKNN_TENSOR_UINT8;
    inputs[0].fmt = RKNN_TENSOR_NHWC;
    inputs[0].buf = pixels;
    inputs[0].size = sizeof pixels;
    CHECK(rknn_inputs_set(ctx, io.n_input, inputs) == 0, "inputs_set");
    rknn_set_core_mask(ctx, (rknn_core_mask)1); /* the benchmark's default; its answer is not read */
    CHECK(rknn_run(ctx, NULL) == 0, "warm-up run");
    CHECK(rknn_run(ctx, NULL) == 0, "run");
    rknn_perf_detail detail;
    CHECK(rknn_query(ctx, RKNN_QUERY_PERF_DETAIL, &detail, sizeof detail) == 0 && detail.perf_data != NULL,
          "PERF_DETAIL on a context made without COLLECT_PERF: success, a printable string");
    rknn_perf_run perf;
    CHECK(rknn_query(ctx, RKNN_QUERY_PERF_RUN, &perf, sizeof perf) == 0, "PERF_RUN");

    rknn_output outputs[3];
    memset(outputs, 0, sizeof outputs);
    for (uint32_t i = 0; i < io.n_output; i++) {
        outputs[i].want_float = 1;
        outputs[i].index = i;
        outputs[i].is_prealloc = 0;
    }
    CHECK(rknn_outputs_get(ctx, io.n_output, outputs, NULL) == 0, "outputs_get");
    float* values[3] = {outputs[0].buf, outputs[1].buf, outputs[2].buf};
    CHECK(outputs[0].size == output_attrs[0].n_elems * sizeof(float), "want_float: float32 sizes");
    CHECK(wrong_outputs(values, pixels, 640) == 0, "the detector's documented outputs");
    CHECK(rknn_outputs_release(ctx, io.n_output, outputs) == 0, "outputs_release");
    CHECK(rknn_destroy(ctx) == 0, "destroy");
}

/* rknn_create_mem_demo.cpp: zero-copy input and float outputs in memory of the runtime's. */
static void create_mem_demo(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/demo.rknn", model_dir);
    rknn_context ctx = 0;
    CHECK(rknn_init(&ctx, path, 0, 0, NULL) == 0, "rknn_init from a path");
    rknn_input_output_num io;
    rknn_tensor_attr input_attrs[4], output_attrs[4];
    CHECK(query_attrs(ctx, &io, input_attrs, output_attrs) == 0, "attributes");
    input_attrs[0].type = RKNN_TENSOR_UINT8;
    input_attrs[0].fmt = RKNN_TENSOR_NHWC;
    rknn_tensor_mem* input = rknn_create_mem(ctx, input_attrs[0].size_with_stride);
    CHECK(input != NULL && input->virt_addr != NULL, "input memory");
    int width = (int)input_attrs[0].dims[2], stride = (int)input_attrs[0].w_stride;
    CHECK(stride >= width, "w_stride %d >= width %d", stride, width);
    for (int h = 0; h < (int)input_attrs[0].dims[1]; h++)
        memcpy((uint8_t*)input->virt_addr + (size_t)h * stride * 3, pixels + (size_t)h * width * 3, (size_t)width * 3);
    CHECK(rknn_set_io_mem(ctx, input, &input_attrs[0]) == 0, "bind the input");
    rknn_tensor_mem* outputs[3];
    float* values[3];
    bind_float_outputs(ctx, io.n_output, output_attrs, outputs, values);
    CHECK(rknn_run(ctx, NULL) == 0, "zero-copy run");
    CHECK(wrong_outputs(values, pixels, 640) == 0, "the outputs, read in place");
    rknn_destroy_mem(ctx, input);
    for (uint32_t i = 0; i < io.n_output; i++) rknn_destroy_mem(ctx, outputs[i]);
    CHECK(rknn_destroy(ctx) == 0, "destroy");
}

/* rknn_internal_mem_reuse_demo.cc: contexts made with MEM_ALLOC_OUTSIDE share one internal buffer
 * (created on the first context, wrapped for each with create_mem_from_fd) and get weights from
 * create_mem. */
static void internal_mem_reuse_demo(void) {
    const char* names[2] = {"demo.rknn", "demo.rknn"};
    rknn_context ctx[2] = {0, 0};
    rknn_mem_size sizes[2];
    rknn_input_output_num io[2];
    rknn_tensor_attr input_attrs[2][4], output_attrs[2][4];
    uint32_t max_internal = 0;
    for (int n = 0; n < 2; n++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", model_dir, names[n]);
        CHECK(rknn_init(&ctx[n], path, 0, RKNN_FLAG_MEM_ALLOC_OUTSIDE, NULL) == 0, "init %d with MEM_ALLOC_OUTSIDE", n);
        CHECK(rknn_query(ctx[n], RKNN_QUERY_MEM_SIZE, &sizes[n], sizeof sizes[n]) == 0, "memory sizes");
        CHECK(sizes[n].total_weight_size > 0 && sizes[n].total_internal_size > 0, "weights and internal memory to give");
        CHECK(query_attrs(ctx[n], &io[n], input_attrs[n], output_attrs[n]) == 0, "attributes");
        if (sizes[n].total_internal_size > max_internal) max_internal = sizes[n].total_internal_size;
    }
    rknn_tensor_mem* internal_max = rknn_create_mem(ctx[0], max_internal);
    CHECK(internal_max != NULL, "the shared internal memory");
    rknn_tensor_mem *internal[2], *weights[2], *inputs[2], *outputs[2][3];
    float* values[2][3];
    for (int n = 0; n < 2; n++) {
        internal[n] = rknn_create_mem_from_fd(ctx[n], internal_max->fd, internal_max->virt_addr, sizes[n].total_internal_size, 0);
        CHECK(internal[n] != NULL, "internal memory wrapped from the fd");
        CHECK(rknn_set_internal_mem(ctx[n], internal[n]) == 0, "set_internal_mem on a MEM_ALLOC_OUTSIDE context");
        weights[n] = rknn_create_mem(ctx[n], sizes[n].total_weight_size);
        CHECK(rknn_set_weight_mem(ctx[n], weights[n]) == 0, "set_weight_mem");
        input_attrs[n][0].type = RKNN_TENSOR_UINT8;
        input_attrs[n][0].fmt = RKNN_TENSOR_NHWC;
        inputs[n] = rknn_create_mem(ctx[n], input_attrs[n][0].size_with_stride);
        memcpy(inputs[n]->virt_addr, pixels, sizeof pixels);
        CHECK(rknn_set_io_mem(ctx[n], inputs[n], &input_attrs[n][0]) == 0, "bind the input");
        bind_float_outputs(ctx[n], io[n].n_output, output_attrs[n], outputs[n], values[n]);
    }
    for (int n = 0; n < 2; n++) {
        CHECK(rknn_run(ctx[n], NULL) == 0, "context %d runs in the shared internal memory", n);
        CHECK(wrong_outputs(values[n], pixels, 640) == 0, "context %d's outputs", n);
    }
    /* the demo's order: the shared buffer first, then each context's memory, then the contexts */
    CHECK(rknn_destroy_mem(ctx[0], internal_max) == 0, "destroy the shared internal memory");
    for (int n = 0; n < 2; n++) {
        rknn_destroy_mem(ctx[n], inputs[n]);
        for (uint32_t i = 0; i < io[n].n_output; i++) rknn_destroy_mem(ctx[n], outputs[n][i]);
        CHECK(rknn_destroy_mem(ctx[n], internal[n]) == 0, "destroy the wrapped internal memory");
        rknn_destroy_mem(ctx[n], weights[n]);
        CHECK(rknn_destroy(ctx[n]) == 0, "destroy");
    }
}

/* rknn_dynshape_inference_zero_copy_alloc_outside.cc: sizes from a COLLECT_MODEL_INFO_ONLY context,
 * then a MEM_ALLOC_OUTSIDE one, a shape from the dynamic range, current attributes, zero copy. */
static void dynamic_shape_alloc_outside_demo(void) {
    uint32_t size = 0;
    void* model = read_model("demo.rknn", &size);
    rknn_context ctx = 0;
    CHECK(rknn_init(&ctx, model, size, RKNN_FLAG_COLLECT_MODEL_INFO_ONLY | RKNN_FLAG_MEM_ALLOC_OUTSIDE, NULL) == 0, "init for model info only");
    rknn_mem_size sizes;
    CHECK(rknn_query(ctx, RKNN_QUERY_MEM_SIZE, &sizes, sizeof sizes) == 0, "sizes from the info-only context");
    rknn_destroy(ctx);
    CHECK(rknn_init(&ctx, model, size, RKNN_FLAG_MEM_ALLOC_OUTSIDE, NULL) == 0, "init with MEM_ALLOC_OUTSIDE");
    free(model);
    rknn_input_output_num io;
    rknn_tensor_attr input_attrs[4], output_attrs[4];
    CHECK(query_attrs(ctx, &io, input_attrs, output_attrs) == 0, "attributes");
    rknn_input_range range;
    memset(&range, 0, sizeof range);
    range.index = 0;
    CHECK(rknn_query(ctx, RKNN_QUERY_INPUT_DYNAMIC_RANGE, &range, sizeof range) == 0 && range.shape_number >= 2, "dynamic shapes");
    /* the first shape of the range: 1x320x320x3 */
    memcpy(input_attrs[0].dims, range.dyn_range[0], range.n_dims * sizeof(uint32_t));
    CHECK(input_attrs[0].dims[1] == 320, "the smaller shape first");
    CHECK(rknn_set_input_shapes(ctx, io.n_input, input_attrs) == 0, "set_input_shapes");
    rknn_tensor_mem* weights = rknn_create_mem(ctx, sizes.total_weight_size);
    rknn_tensor_mem* weights_fd = rknn_create_mem_from_fd(ctx, weights->fd, weights->virt_addr, sizes.total_weight_size, 0);
    CHECK(rknn_set_weight_mem(ctx, weights_fd) == 0, "weights from a descriptor");
    rknn_tensor_mem* internal = rknn_create_mem(ctx, sizes.total_internal_size);
    rknn_tensor_mem* internal_fd = rknn_create_mem_from_fd(ctx, internal->fd, internal->virt_addr, sizes.total_internal_size, 0);
    CHECK(rknn_set_internal_mem(ctx, internal_fd) == 0, "internal memory from a descriptor");
    rknn_tensor_attr current_in, current_out[3];
    memset(&current_in, 0, sizeof current_in);
    CHECK(rknn_query(ctx, RKNN_QUERY_CURRENT_INPUT_ATTR, &current_in, sizeof current_in) == 0 && current_in.dims[1] == 320, "current input 320");
    for (uint32_t i = 0; i < io.n_output; i++) {
        memset(&current_out[i], 0, sizeof current_out[i]);
        current_out[i].index = i;
        CHECK(rknn_query(ctx, RKNN_QUERY_CURRENT_OUTPUT_ATTR, &current_out[i], sizeof current_out[i]) == 0, "current output");
    }
    CHECK(current_out[0].dims[2] == 40 && current_out[0].dims[3] == 40, "p8 follows the input: 40x40");
    static uint8_t small[320 * 320 * 3];
    frame(small, 320);
    current_in.type = RKNN_TENSOR_UINT8;
    current_in.fmt = RKNN_TENSOR_NHWC;
    rknn_tensor_mem* input = rknn_create_mem(ctx, current_in.size_with_stride);
    memcpy(input->virt_addr, small, sizeof small);
    CHECK(rknn_set_io_mem(ctx, input, &current_in) == 0, "bind the input");
    rknn_tensor_mem* outputs[3];
    float* values[3];
    bind_float_outputs(ctx, io.n_output, current_out, outputs, values);
    CHECK(rknn_run(ctx, NULL) == 0, "a run at 320x320");
    CHECK(wrong_outputs(values, small, 320) == 0, "the outputs at 320x320");
    rknn_destroy_mem(ctx, input);
    for (uint32_t i = 0; i < io.n_output; i++) rknn_destroy_mem(ctx, outputs[i]);
    rknn_destroy_mem(ctx, weights_fd);
    rknn_destroy_mem(ctx, weights);
    rknn_destroy_mem(ctx, internal_fd);
    rknn_destroy_mem(ctx, internal);
    CHECK(rknn_destroy(ctx) == 0, "destroy");
}

/* rknn_multiple_input_demo: every input set in one call. */
static void multiple_input_demo(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/two-inputs.rknn", model_dir);
    rknn_context ctx = 0;
    CHECK(rknn_init(&ctx, path, 0, 0, NULL) == 0, "a model with two inputs");
    rknn_input_output_num io;
    rknn_tensor_attr input_attrs[4], output_attrs[4];
    CHECK(query_attrs(ctx, &io, input_attrs, output_attrs) == 0 && io.n_input == 2, "two inputs");
    float x[2][8];
    rknn_input inputs[2];
    memset(inputs, 0, sizeof inputs);
    for (uint32_t i = 0; i < 2; i++) {
        for (int j = 0; j < 8; j++) x[i][j] = (float)(j + 10 * (int)i);
        inputs[i].index = i;
        inputs[i].type = RKNN_TENSOR_FLOAT32;
        inputs[i].fmt = input_attrs[i].fmt;
        inputs[i].buf = x[i];
        inputs[i].size = sizeof x[i];
    }
    CHECK(rknn_inputs_set(ctx, io.n_input, inputs) == 0, "both inputs");
    CHECK(rknn_run(ctx, NULL) == 0, "run");
    rknn_output output;
    memset(&output, 0, sizeof output);
    output.want_float = 1;
    CHECK(rknn_outputs_get(ctx, 1, &output, NULL) == 0, "outputs_get");
    int wrong = 0;
    for (int j = 0; j < 8; j++) wrong += ((float*)output.buf)[j] != 2 * x[0][j] + 1;
    CHECK(wrong == 0, "y = 2 x0 + 1");
    rknn_outputs_release(ctx, 1, &output);
    CHECK(rknn_destroy(ctx) == 0, "destroy");
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
        return 2;
    }
    snprintf(model_dir, sizeof model_dir, "%s", argv[1]);
    benchmark_demo();
    create_mem_demo();
    internal_mem_reuse_demo();
    dynamic_shape_alloc_outside_demo();
    multiple_input_demo();
    return conformance_report("rknn_api_demo");
}
