/* librkcst_cstSigmoid.so: an example custom-operator plugin, as the vendor's convention has them:
 * one operator per library, exported through get_rknn_custom_op. It computes
 * y = 1 / (1 + exp(-alpha * x)) on float tensors, alpha being the model's attribute of the
 * operator (1 when the model gives none). models/demo-custom.rknn uses it. */
#include "rknn_custom_op.h"

#include <math.h>
#include <string.h>

static float alpha_of(rknn_custom_op_context* context) {
    rknn_custom_op_attr attr;
    rknn_custom_op_get_op_attr(context, "alpha", &attr);
    return attr.n_elems == 1 && attr.dtype == RKNN_TENSOR_FLOAT32 && attr.data ? *(const float*)attr.data : 1.0f;
}

static int compute(rknn_custom_op_context* context, rknn_custom_op_tensor* inputs, uint32_t n_inputs,
                   rknn_custom_op_tensor* outputs, uint32_t n_outputs) {
    if (n_inputs < 1 || n_outputs < 1 || inputs[0].attr.type != RKNN_TENSOR_FLOAT32 || outputs[0].attr.type != RKNN_TENSOR_FLOAT32
        || inputs[0].attr.n_elems != outputs[0].attr.n_elems) return -1;
    const float* x = inputs[0].mem.virt_addr;
    float* y = outputs[0].mem.virt_addr;
    float alpha = alpha_of(context);
    for (uint32_t i = 0; i < outputs[0].attr.n_elems; i++) y[i] = 1.0f / (1.0f + expf(-alpha * x[i]));
    return 0;
}

__attribute__((visibility("default"))) rknn_custom_op* get_rknn_custom_op(void) {
    static rknn_custom_op op;
    if (op.compute == NULL) {
        memset(&op, 0, sizeof op);
        op.version = 1;
        op.target = RKNN_TARGET_TYPE_CPU;
        strcpy(op.op_type, "cstSigmoid");
        op.compute = compute;
    }
    return &op;
}
