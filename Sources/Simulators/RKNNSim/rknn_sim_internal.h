/* Internal declarations of the simulated RKNN runtime (librknnrt_sim.so); its behaviour is
 * documented in docs/SIMULATED_RUNTIMES.md. */
#ifndef RKNN_SIM_INTERNAL_H
#define RKNN_SIM_INTERNAL_H

#include "rknn_api.h"
#include "sim_support.h"

#pragma GCC visibility push(hidden)

enum { RKNN_SIM_MAX_TENSORS = 8, RKNN_SIM_MAX_SHAPES = 8 };

/* The first field of every context the runtime hands out: which kind it is. */
typedef enum { SIM_MODEL_CONTEXT = 0x4d4f444c, SIM_MATMUL_CONTEXT = 0x4d41544d } sim_context_kind;

/* Memory the runtime hands out: the public struct first, so a pointer to one is a pointer to both. */
typedef struct {
    rknn_tensor_mem mem;
    void* base;          /* the mapping (virt_addr - offset) */
    size_t mapped;
    int owns_fd;
} sim_mem;

/* The simulated chip (RKNN_SIM_CHIP, default RK3588) and its NPU cores (RK3588 3, RK3576 2, RK3562 1). */
typedef enum { SIM_RK3588, SIM_RK3576, SIM_RK3562 } sim_chip;
sim_chip sim_current_chip(void);
int sim_chip_cores(void);
/* 0, or the error of a core mask the chip cannot take. */
int sim_check_core_mask(rknn_core_mask mask);
/* A MatMul context forgets memory about to be destroyed. */
void sim_matmul_forget(uint32_t* context, const sim_mem* mem);

/* How an output is computed from input 0 (docs/SIMULATED_RUNTIMES.md); CUSTOM: by the registered
 * custom operator of the output's `custom_op` type. */
typedef enum { SIM_OP_POOL, SIM_OP_AFFINE, SIM_OP_CUSTOM } sim_op;

typedef struct {
    char name[64];
    rknn_tensor_type type;
    rknn_tensor_format fmt;
    uint32_t n_dims;
    uint32_t dims[4];
    /* outputs: the op, its two numbers (pool: stride, channel step; affine: a, b) and the
     * affine quantisation of an int8/uint8 output */
    sim_op op;
    char custom_op[64];
    float op_a, op_b;
    float scale;
    int32_t zp;
} sim_tensor;

typedef struct {
    char name[64];
    char custom[256];
    uint32_t n_inputs, n_outputs;
    sim_tensor inputs[RKNN_SIM_MAX_TENSORS];
    sim_tensor outputs[RKNN_SIM_MAX_TENSORS];
    /* dynamic shapes of input 0 (NHWC or NCHW dims as declared); 0 = static */
    uint32_t n_shapes;
    uint32_t shapes[RKNN_SIM_MAX_SHAPES][4];
    uint32_t weight_size;
    /* attributes of custom operators: op type, name, value */
    uint32_t n_op_attrs;
    struct { char op_type[64]; char name[64]; float value; } op_attrs[RKNN_SIM_MAX_TENSORS];
} sim_rknn_model;

/* 0, or an RKNN_ERR_* code. `bytes`/`size`: a model in memory; else `path` names the file. */
int sim_rknn_model_load(const char* path, const void* bytes, uint32_t size, sim_rknn_model* model);

size_t sim_type_size(rknn_tensor_type type);
uint32_t sim_elements(const sim_tensor* t);
/* Layouts a tensor is reported (and, bound with set_io_mem, written) in. */
typedef enum { SIM_LAYOUT_DECLARED, SIM_LAYOUT_NC1HWC2, SIM_LAYOUT_NHWC } sim_layout;
/* The attribute the runtime reports for a tensor in a layout. */
void sim_tensor_attr(const sim_tensor* t, uint32_t index, sim_layout layout, rknn_tensor_attr* attr);
/* The outputs' dims for input 0 of height `h`, width `w` (pool outputs scale with the input). */
void sim_output_dims(const sim_tensor* input, sim_tensor* output);

/* Element i of a buffer of `type`, as float (quantised types raw), and back (rounded, clamped). */
float sim_load(const void* buf, rknn_tensor_type type, size_t i);
void sim_store(void* buf, rknn_tensor_type type, size_t i, float value);

/* Converts `src` (type, fmt) into the model input's type and NHWC/NCHW layout. */
int sim_convert_input(const sim_tensor* model_input, const void* src, uint32_t size, rknn_tensor_type type,
                      rknn_tensor_format fmt, void* dst);
/* Computes every output (float, NCHW or as declared) from input 0 (in the model's type and layout). */
void sim_compute(const sim_rknn_model* model, const sim_tensor* input, const sim_tensor* outputs, const void* in, float* const* out);
/* An output's computed values in its own type (quantised with its scale and zero point). */
void sim_quantize(const sim_tensor* output, const float* values, void* raw);
/* Writes an output (`raw`: its own type, declared layout) into `dst` as `type` (another type
 * gets the dequantised values) in `layout`. Returns the bytes written. */
size_t sim_write_output(const sim_tensor* output, const void* raw, rknn_tensor_type type, sim_layout layout, void* dst);

#pragma GCC visibility pop

#endif
