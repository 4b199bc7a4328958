/* What the simulated RKNN models compute, and the type and layout conversions of their tensors. */
#include "rknn_sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    int32_t exponent = (int32_t)((bits >> 23) & 0xFF) - 127 + 15;
    uint32_t mantissa = bits & 0x7FFFFF;
    if (((bits >> 23) & 0xFF) == 0xFF) return sign | 0x7C00 | (mantissa ? 0x200 : 0);
    if (exponent >= 31) return sign | 0x7C00;
    if (exponent <= 0) {
        if (exponent < -10) return sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift;
        if ((mantissa >> (shift - 1)) & 1) half++; /* round half up */
        return sign | (uint16_t)half;
    }
    uint16_t half = sign | (uint16_t)(exponent << 10) | (uint16_t)(mantissa >> 13);
    if (mantissa & 0x1000) half++; /* round half up (may carry into the exponent: still right) */
    return half;
}

static float clamp(float v, float low, float high) { return v < low ? low : v > high ? high : v; }

/* bfloat16: the high half of a float32, rounded to nearest even. */
static float bf16_to_float(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7F800000) == 0x7F800000) return (uint16_t)((bits >> 16) | ((bits & 0xFFFF) ? 0x40 : 0));
    return (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

/* int4: two elements a byte, element 2j in the low nibble of byte j (as the vendor's examples pack). */
static float int4_load(const void* buf, size_t i) {
    uint8_t byte = ((const uint8_t*)buf)[i / 2];
    int nibble = i % 2 ? byte >> 4 : byte & 0xF;
    return (float)(nibble >= 8 ? nibble - 16 : nibble);
}

static void int4_store(void* buf, size_t i, int value) {
    uint8_t* byte = (uint8_t*)buf + i / 2;
    uint8_t nibble = (uint8_t)(value & 0xF);
    *byte = i % 2 ? (uint8_t)((*byte & 0x0F) | (nibble << 4)) : (uint8_t)((*byte & 0xF0) | nibble);
}

float sim_load(const void* buf, rknn_tensor_type type, size_t i) {
    switch (type) {
    case RKNN_TENSOR_INT4: return int4_load(buf, i);
    case RKNN_TENSOR_BFLOAT16: return bf16_to_float(((const uint16_t*)buf)[i]);
    case RKNN_TENSOR_FLOAT32: return ((const float*)buf)[i];
    case RKNN_TENSOR_FLOAT16: return half_to_float(((const uint16_t*)buf)[i]);
    case RKNN_TENSOR_INT8: return ((const int8_t*)buf)[i];
    case RKNN_TENSOR_UINT8: return ((const uint8_t*)buf)[i];
    case RKNN_TENSOR_INT16: return ((const int16_t*)buf)[i];
    case RKNN_TENSOR_UINT16: return ((const uint16_t*)buf)[i];
    case RKNN_TENSOR_INT32: return (float)((const int32_t*)buf)[i];
    case RKNN_TENSOR_UINT32: return (float)((const uint32_t*)buf)[i];
    case RKNN_TENSOR_INT64: return (float)((const int64_t*)buf)[i];
    default: return ((const uint8_t*)buf)[i] != 0;
    }
}

void sim_store(void* buf, rknn_tensor_type type, size_t i, float v) {
    switch (type) {
    case RKNN_TENSOR_INT4: int4_store(buf, i, (int)clamp(roundf(v), -8, 7)); break;
    case RKNN_TENSOR_BFLOAT16: ((uint16_t*)buf)[i] = float_to_bf16(v); break;
    case RKNN_TENSOR_FLOAT32: ((float*)buf)[i] = v; break;
    case RKNN_TENSOR_FLOAT16: ((uint16_t*)buf)[i] = float_to_half(v); break;
    case RKNN_TENSOR_INT8: ((int8_t*)buf)[i] = (int8_t)clamp(roundf(v), -128, 127); break;
    case RKNN_TENSOR_UINT8: ((uint8_t*)buf)[i] = (uint8_t)clamp(roundf(v), 0, 255); break;
    case RKNN_TENSOR_INT16: ((int16_t*)buf)[i] = (int16_t)clamp(roundf(v), -32768, 32767); break;
    case RKNN_TENSOR_UINT16: ((uint16_t*)buf)[i] = (uint16_t)clamp(roundf(v), 0, 65535); break;
    case RKNN_TENSOR_INT32: ((int32_t*)buf)[i] = (int32_t)clamp(roundf(v), -2147483648.0f, 2147483520.0f); break;
    case RKNN_TENSOR_UINT32: ((uint32_t*)buf)[i] = (uint32_t)clamp(roundf(v), 0, 4294967040.0f); break;
    case RKNN_TENSOR_INT64: ((int64_t*)buf)[i] = (int64_t)roundf(v); break;
    default: ((uint8_t*)buf)[i] = v != 0; break;
    }
}

/* Index of element (n, c, h, w) of a 4-D tensor of dims N,C,H,W stored in `fmt`. */
static size_t index_of(rknn_tensor_format fmt, const uint32_t nchw[4], uint32_t n, uint32_t c, uint32_t h, uint32_t w) {
    if (fmt == RKNN_TENSOR_NHWC) return (((size_t)n * nchw[2] + h) * nchw[3] + w) * nchw[1] + c;
    return (((size_t)n * nchw[1] + c) * nchw[2] + h) * nchw[3] + w;
}

int sim_convert_input(const sim_tensor* in, const void* src, uint32_t size, rknn_tensor_type type,
                      rknn_tensor_format fmt, void* dst) {
    uint32_t count = sim_elements(in);
    if ((uint64_t)count * sim_type_size(type) != size) return RKNN_ERR_PARAM_INVALID;
    int four_d = in->n_dims == 4 && (in->fmt == RKNN_TENSOR_NHWC || in->fmt == RKNN_TENSOR_NCHW);
    if (!four_d || fmt == in->fmt || (fmt != RKNN_TENSOR_NHWC && fmt != RKNN_TENSOR_NCHW)) {
        for (uint32_t i = 0; i < count; i++) sim_store(dst, in->type, i, sim_load(src, type, i));
        return 0;
    }
    /* The model's dims in N,C,H,W order, then element by element across the two layouts. */
    uint32_t nchw[4] = {in->dims[0], in->fmt == RKNN_TENSOR_NHWC ? in->dims[3] : in->dims[1],
                        in->fmt == RKNN_TENSOR_NHWC ? in->dims[1] : in->dims[2],
                        in->fmt == RKNN_TENSOR_NHWC ? in->dims[2] : in->dims[3]};
    for (uint32_t n = 0; n < nchw[0]; n++)
        for (uint32_t c = 0; c < nchw[1]; c++)
            for (uint32_t h = 0; h < nchw[2]; h++)
                for (uint32_t w = 0; w < nchw[3]; w++)
                    sim_store(dst, in->type, index_of(in->fmt, nchw, n, c, h, w), sim_load(src, type, index_of(fmt, nchw, n, c, h, w)));
    return 0;
}

void sim_compute(const sim_rknn_model* model, const sim_tensor* input, const sim_tensor* outputs, const void* in, float* const* out) {
    uint32_t count = sim_elements(input);
    for (uint32_t o = 0; o < model->n_outputs; o++) {
        const sim_tensor* t = &outputs[o];
        uint32_t n_out = sim_elements(t);
        if (t->op == SIM_OP_CUSTOM) continue; /* the registered operator computes it (rknn_custom_ops.c) */
        if (t->op == SIM_OP_AFFINE) {
            for (uint32_t i = 0; i < n_out; i++) out[o][i] = t->op_a * sim_load(in, input->type, i % count) + t->op_b;
            continue;
        }
        /* pool: channel c, cell (y, x) = mean of the input's stride x stride block of channel
         * c mod C (uint8 scaled to [0, 1]) + c * step */
        uint32_t nchw[4] = {input->dims[0], input->fmt == RKNN_TENSOR_NHWC ? input->dims[3] : input->dims[1],
                            input->fmt == RKNN_TENSOR_NHWC ? input->dims[1] : input->dims[2],
                            input->fmt == RKNN_TENSOR_NHWC ? input->dims[2] : input->dims[3]};
        uint32_t stride = (uint32_t)t->op_a, cells_per_map = t->dims[2] * t->dims[3];
        float unit = input->type == RKNN_TENSOR_UINT8 ? 1.0f / 255.0f : 1.0f;
        /* The block means of each input channel once (sums in order, as the formula reads), then
         * every output channel from its input channel's. */
        float* means = calloc((size_t)nchw[1] * cells_per_map, sizeof(float));
        if (means == NULL) continue; /* the run's outputs stay zero: an allocation failure */
        for (uint32_t ci = 0; ci < nchw[1]; ci++)
            for (uint32_t y = 0; y < t->dims[2]; y++)
                for (uint32_t x = 0; x < t->dims[3]; x++) {
                    float sum = 0;
                    uint32_t cells = 0;
                    for (uint32_t dy = 0; dy < stride && y * stride + dy < nchw[2]; dy++)
                        for (uint32_t dx = 0; dx < stride && x * stride + dx < nchw[3]; dx++, cells++)
                            sum += sim_load(in, input->type, index_of(input->fmt, nchw, 0, ci, y * stride + dy, x * stride + dx));
                    means[(size_t)ci * cells_per_map + y * t->dims[3] + x] = cells ? sum / (float)cells : 0;
                }
        for (uint32_t c = 0; c < t->dims[1]; c++)
            for (uint32_t i = 0; i < cells_per_map; i++)
                out[o][(size_t)c * cells_per_map + i] = means[(size_t)(c % nchw[1]) * cells_per_map + i] * unit + (float)c * t->op_b;
        free(means);
    }
}

void sim_quantize(const sim_tensor* t, const float* values, void* raw) {
    int quantized = (t->type == RKNN_TENSOR_INT8 || t->type == RKNN_TENSOR_UINT8) && t->scale != 1;
    uint32_t count = sim_elements(t);
    for (uint32_t i = 0; i < count; i++) sim_store(raw, t->type, i, quantized ? values[i] / t->scale + (float)t->zp : values[i]);
}

size_t sim_write_output(const sim_tensor* t, const void* raw, rknn_tensor_type type, sim_layout layout, void* dst) {
    uint32_t count = sim_elements(t);
    int quantized = (t->type == RKNN_TENSOR_INT8 || t->type == RKNN_TENSOR_UINT8) && t->scale != 1;
    int four_d = t->n_dims == 4 && t->fmt == RKNN_TENSOR_NCHW;
    uint32_t C = four_d ? t->dims[1] : 1, H = four_d ? t->dims[2] : 1, W = four_d ? t->dims[3] : count, C1 = (C + 15) / 16;
    size_t written = (size_t)count;
    if (four_d && layout == SIM_LAYOUT_NC1HWC2) {
        written = (size_t)t->dims[0] * C1 * H * W * 16;
        memset(dst, 0, written * sim_type_size(type)); /* the padding channels */
    }
    for (uint32_t i = 0; i < count; i++) {
        float v = sim_load(raw, t->type, i);
        if (type != t->type && quantized) v = (v - (float)t->zp) * t->scale; /* dequantised */
        size_t at = i;
        if (four_d && layout != SIM_LAYOUT_DECLARED) {
            uint32_t w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
            at = layout == SIM_LAYOUT_NHWC ? (((size_t)n * H + h) * W + w) * C + c
                                           : ((((size_t)n * C1 + c / 16) * H + h) * W + w) * 16 + c % 16;
        }
        sim_store(dst, type, at, v);
    }
    return written * sim_type_size(type);
}
