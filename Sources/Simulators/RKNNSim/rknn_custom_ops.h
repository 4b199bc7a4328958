/* Custom operators of a context (rknn_custom_ops.c). */
#ifndef RKNN_CUSTOM_OPS_H
#define RKNN_CUSTOM_OPS_H

#include "rknn_custom_op.h"
#include "rknn_sim_internal.h"

#pragma GCC visibility push(hidden)

typedef struct {
    rknn_custom_op descriptor;
    const sim_rknn_model* model;
    int initialized;
    void* private_data;
} sim_op_state;

typedef struct {
    sim_op_state* states[RKNN_SIM_MAX_TENSORS];
    uint32_t count;
} sim_custom_ops;

int sim_custom_register(sim_custom_ops* ops, const rknn_custom_op* descriptors, uint32_t count);
/* Computes the model's outputs of custom operator type `op_type` (float, in output order) with one
 * call of its registered operator, whose inputs are every model input (in the model's type and
 * layout). `values[o]` is output o's buffer. */
int sim_custom_compute(sim_custom_ops* ops, const sim_rknn_model* model, const char* op_type, const sim_tensor* inputs,
                       const void* const* input_data, const sim_tensor* outputs, float* const* values);
void sim_custom_destroy(sim_custom_ops* ops);
/* The custom operators of a model context; NULL for anything else. */
sim_custom_ops* sim_context_custom_ops(rknn_context ctx);

#pragma GCC visibility pop

#endif
