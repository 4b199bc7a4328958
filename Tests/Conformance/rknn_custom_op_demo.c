/* Registers a CPU custom operator the way the vendor's custom-operator demos do
 * (rknn_api_test_custom_pytorch_op.cpp: an operator of two inputs and two outputs that reads its
 * attribute with rknn_custom_op_get_op_attr and addresses memory as virt_addr + offset), runs a
 * model of that operator, and checks the outputs and the calls the operator got. argv[1] is a model
 * of two float inputs x0, x1 (1x8) and two outputs y0, y1 computed by "cstDualResidual", alpha 0.5. */
#include "conformance.h"
#include "rknn_api.h"
#include "rknn_custom_op.h"

static int init_calls, compute_calls, destroy_calls, shape_errors;
static float seen_alpha;

static int dual_init(rknn_custom_op_context* op_ctx, rknn_custom_op_tensor* inputs, uint32_t n_inputs,
                     rknn_custom_op_tensor* outputs, uint32_t n_outputs) {
    (void)inputs;
    (void)outputs;
    init_calls++;
    if (n_inputs != 2 || n_outputs != 2) shape_errors++;
    op_ctx->priv_data = &init_calls; /* the operator's own, kept between calls */
    return 0;
}

/* y0 = x0 + alpha * x1, y1 = x0 - x1 */
static int dual_compute(rknn_custom_op_context* op_ctx, rknn_custom_op_tensor* inputs, uint32_t n_inputs,
                        rknn_custom_op_tensor* outputs, uint32_t n_outputs) {
    compute_calls++;
    if (n_inputs != 2 || n_outputs != 2 || op_ctx->priv_data != &init_calls) {
        shape_errors++;
        return -1;
    }
    const float* x0 = (const float*)((unsigned char*)inputs[0].mem.virt_addr + inputs[0].mem.offset);
    const float* x1 = (const float*)((unsigned char*)inputs[1].mem.virt_addr + inputs[1].mem.offset);
    float* y0 = (float*)((unsigned char*)outputs[0].mem.virt_addr + outputs[0].mem.offset);
    float* y1 = (float*)((unsigned char*)outputs[1].mem.virt_addr + outputs[1].mem.offset);
    rknn_custom_op_attr attr;
    rknn_custom_op_get_op_attr(op_ctx, "alpha", &attr);
    float alpha = 1.0f;
    if (attr.n_elems == 1 && attr.dtype == RKNN_TENSOR_FLOAT32) alpha = ((float*)attr.data)[0];
    seen_alpha = alpha;
    for (uint32_t i = 0; i < outputs[0].attr.n_elems; i++) {
        y0[i] = x0[i] + alpha * x1[i];
        y1[i] = x0[i] - x1[i];
    }
    return 0;
}

static int dual_destroy(rknn_custom_op_context* op_ctx) {
    (void)op_ctx;
    destroy_calls++;
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DUAL_MODEL.rknn\n", argv[0]);
        return 2;
    }
    rknn_context ctx = 0;
    CHECK(rknn_init(&ctx, argv[1], 0, 0, NULL) == 0, "rknn_init");
    rknn_custom_op user_op[1];
    memset(user_op, 0, sizeof user_op);
    strncpy(user_op[0].op_type, "cstDualResidual", RKNN_MAX_NAME_LEN - 1);
    user_op[0].version = 1;
    user_op[0].target = RKNN_TARGET_TYPE_CPU;
    user_op[0].init = dual_init;
    user_op[0].compute = dual_compute;
    user_op[0].destroy = dual_destroy;
    CHECK(rknn_register_custom_ops(ctx, user_op, 1) == 0, "register the operator");

    rknn_input_output_num io;
    CHECK(rknn_query(ctx, RKNN_QUERY_IN_OUT_NUM, &io, sizeof io) == 0 && io.n_input == 2 && io.n_output == 2, "two in, two out");
    float x[2][8];
    rknn_input inputs[2];
    memset(inputs, 0, sizeof inputs);
    for (uint32_t i = 0; i < 2; i++) {
        for (int j = 0; j < 8; j++) x[i][j] = (float)j * (i ? -0.5f : 1.0f) + (float)i;
        inputs[i].index = i;
        inputs[i].pass_through = 0;
        inputs[i].type = RKNN_TENSOR_FLOAT32;
        inputs[i].fmt = RKNN_TENSOR_UNDEFINED;
        inputs[i].buf = x[i];
        inputs[i].size = sizeof x[i];
    }
    CHECK(rknn_inputs_set(ctx, 2, inputs) == 0, "inputs_set");
    for (int loop = 0; loop < 2; loop++) CHECK(rknn_run(ctx, NULL) == 0, "run %d", loop);
    rknn_perf_detail detail;
    CHECK(rknn_query(ctx, RKNN_QUERY_PERF_DETAIL, &detail, sizeof detail) == 0 && detail.perf_data != NULL, "PERF_DETAIL (flag 0)");
    rknn_perf_run perf;
    CHECK(rknn_query(ctx, RKNN_QUERY_PERF_RUN, &perf, sizeof perf) == 0, "PERF_RUN");
    rknn_output outputs[2];
    memset(outputs, 0, sizeof outputs);
    for (uint32_t i = 0; i < 2; i++) {
        outputs[i].want_float = 1;
        outputs[i].index = i;
    }
    CHECK(rknn_outputs_get(ctx, 2, outputs, NULL) == 0, "outputs_get");
    int wrong = 0;
    for (int j = 0; j < 8; j++) {
        wrong += ((float*)outputs[0].buf)[j] != x[0][j] + 0.5f * x[1][j];
        wrong += ((float*)outputs[1].buf)[j] != x[0][j] - x[1][j];
    }
    CHECK(wrong == 0, "both outputs from one call with both inputs (%d wrong)", wrong);
    CHECK(seen_alpha == 0.5f, "the model's attribute alpha: %g", seen_alpha);
    CHECK(init_calls == 1 && compute_calls == 2 && shape_errors == 0, "init once, compute once per run (%d, %d, %d)", init_calls, compute_calls, shape_errors);
    rknn_outputs_release(ctx, 2, outputs);
    CHECK(rknn_destroy(ctx) == 0, "destroy");
    CHECK(destroy_calls == 1, "the operator's destroy at rknn_destroy");
    return conformance_report("rknn_custom_op_demo");
}
