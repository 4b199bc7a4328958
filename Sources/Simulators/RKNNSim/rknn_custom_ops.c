/* Custom operators: descriptors registered with rknn_register_custom_ops (from plugins
 * librkcst_<op>.so) compute a model's outputs of their type during rknn_run, and read the model's
 * attributes for them with rknn_custom_op_get_op_attr. */
#include "rknn_custom_op.h"
#include "rknn_custom_ops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Operator states handed to callbacks, so rknn_custom_op_get_op_attr can tell a real one from
 * anything else it is given. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static sim_op_state* live[256];

static void track(sim_op_state* state, int add) {
    pthread_mutex_lock(&live_lock);
    for (int i = 0; i < 256; i++) {
        if (add ? live[i] == NULL : live[i] == state) {
            live[i] = add ? state : NULL;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

int sim_custom_register(sim_custom_ops* ops, const rknn_custom_op* descriptors, uint32_t count) {
    if (descriptors == NULL || count == 0) return RKNN_ERR_PARAM_INVALID;
    for (uint32_t i = 0; i < count; i++) {
        if (descriptors[i].compute == NULL || descriptors[i].op_type[0] == 0) return RKNN_ERR_PARAM_INVALID;
        if (ops->count == RKNN_SIM_MAX_TENSORS) return RKNN_ERR_PARAM_INVALID;
        sim_op_state* state = calloc(1, sizeof *state);
        if (state == NULL) return RKNN_ERR_MALLOC_FAIL;
        state->descriptor = descriptors[i];
        ops->states[ops->count++] = state;
        track(state, 1);
    }
    return 0;
}

static sim_op_state* find(sim_custom_ops* ops, const char* type) {
    for (uint32_t i = 0; i < ops->count; i++) {
        if (strncmp(ops->states[i]->descriptor.op_type, type, RKNN_MAX_NAME_LEN) == 0) return ops->states[i];
    }
    return NULL;
}

int sim_custom_compute(sim_custom_ops* ops, const sim_rknn_model* model, const char* op_type, const sim_tensor* inputs,
                       const void* const* input_data, const sim_tensor* outputs, float* const* values) {
    sim_op_state* state = find(ops, op_type);
    if (state == NULL) return RKNN_ERR_FAIL; /* a model operator no plugin was registered for */
    state->model = model;
    /* priv_data is the operator's own, kept from call to call */
    rknn_custom_op_context context = {.target = RKNN_TARGET_TYPE_CPU, .internal_ctx = (rknn_custom_op_interal_context)(uintptr_t)state,
                                      .priv_data = state->private_data};
    rknn_custom_op_tensor in[RKNN_SIM_MAX_TENSORS], out[RKNN_SIM_MAX_TENSORS];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    uint32_t n_in = model->n_inputs, n_out = 0;
    for (uint32_t i = 0; i < n_in; i++) {
        sim_tensor_attr(&inputs[i], i, SIM_LAYOUT_DECLARED, &in[i].attr);
        in[i].mem.virt_addr = (void*)input_data[i];
        in[i].mem.size = in[i].attr.size;
    }
    for (uint32_t o = 0; o < model->n_outputs; o++) {
        if (outputs[o].op != SIM_OP_CUSTOM || strcmp(outputs[o].custom_op, op_type) != 0) continue;
        sim_tensor_attr(&outputs[o], o, SIM_LAYOUT_DECLARED, &out[n_out].attr);
        out[n_out].mem.virt_addr = values[o];
        out[n_out].mem.size = out[n_out].attr.size;
        n_out++;
    }
    const rknn_custom_op* op = &state->descriptor;
    int status = 0;
    if (!state->initialized && op->init) status = op->init(&context, in, n_in, out, n_out);
    state->initialized = 1;
    if (status == 0 && op->prepare) status = op->prepare(&context, in, n_in, out, n_out);
    if (status == 0) status = op->compute(&context, in, n_in, out, n_out);
    state->private_data = context.priv_data;
    return status == 0 ? 0 : RKNN_ERR_FAIL;
}

void sim_custom_destroy(sim_custom_ops* ops) {
    for (uint32_t i = 0; i < ops->count; i++) {
        sim_op_state* state = ops->states[i];
        if (state->initialized && state->descriptor.destroy) {
            rknn_custom_op_context context = {.target = RKNN_TARGET_TYPE_CPU,
                                              .internal_ctx = (rknn_custom_op_interal_context)(uintptr_t)state,
                                              .priv_data = state->private_data};
            state->descriptor.destroy(&context);
        }
        track(state, 0);
        free(state);
    }
    ops->count = 0;
}

int rknn_register_custom_ops(rknn_context ctx, rknn_custom_op* op, uint32_t custom_op_num) {
    sim_custom_ops* ops = sim_context_custom_ops(ctx);
    if (ops == NULL) return RKNN_ERR_CTX_INVALID;
    return sim_custom_register(ops, op, custom_op_num);
}

void rknn_custom_op_get_op_attr(rknn_custom_op_context* op_ctx, const char* attr_name, rknn_custom_op_attr* op_attr) {
    if (op_attr == NULL) return;
    memset(op_attr, 0, sizeof *op_attr);
    if (op_ctx == NULL || attr_name == NULL) return;
    sim_op_state* state = (sim_op_state*)(uintptr_t)op_ctx->internal_ctx;
    pthread_mutex_lock(&live_lock);
    int known = 0;
    for (int i = 0; i < 256 && !known; i++) known = state != NULL && live[i] == state;
    pthread_mutex_unlock(&live_lock);
    if (!known || state->model == NULL) return; /* not a context the runtime handed out */
    const sim_rknn_model* model = state->model;
    for (uint32_t i = 0; i < model->n_op_attrs; i++) {
        if (strcmp(model->op_attrs[i].op_type, state->descriptor.op_type) == 0 && strcmp(model->op_attrs[i].name, attr_name) == 0) {
            snprintf(op_attr->name, sizeof op_attr->name, "%s", attr_name);
            op_attr->dtype = RKNN_TENSOR_FLOAT32;
            op_attr->n_elems = 1;
            op_attr->data = (void*)&model->op_attrs[i].value;
        }
    }
}
