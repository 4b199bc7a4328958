/* Model files of the simulated RKNN runtime and the tensor attributes it reports. */
#include "rknn_sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char* const type_names[] = {"FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "BOOL"};
static const char* const fmt_names[] = {"NCHW", "NHWC", "NC1HWC2", "UNDEFINED"};

static int lookup(const char* name, const char* const* names, int count) {
    for (int i = 0; i < count; i++) if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int parse_dims(char* text, sim_tensor* t) {
    t->n_dims = 0;
    char* cursor = NULL;
    for (char* d = strtok_r(text, "x", &cursor); d; d = strtok_r(NULL, "x", &cursor)) {
        long v = strtol(d, NULL, 10);
        if (t->n_dims == 4 || v <= 0 || v > 1 << 16) return -1;
        t->dims[t->n_dims++] = (uint32_t)v;
    }
    return t->n_dims > 0 ? 0 : -1;
}

/* `name,TYPE,FMT,d0xd1x..[,op,a,b,scale,zp]` */
static int parse_tensor(const char* value, int output, sim_tensor* t) {
    char copy[512];
    if (strlen(value) >= sizeof copy) return -1;
    strcpy(copy, value);
    char* fields[9];
    int n = 0;
    char* cursor = NULL;
    for (char* f = strtok_r(copy, ",", &cursor); f && n < 9; f = strtok_r(NULL, ",", &cursor)) fields[n++] = f;
    if (n != (output ? 9 : 4) || strlen(fields[0]) >= sizeof t->name) return -1;
    memset(t, 0, sizeof *t);
    strcpy(t->name, fields[0]);
    int type = lookup(fields[1], type_names, 10), fmt = lookup(fields[2], fmt_names, 4);
    if (type < 0 || fmt < 0 || parse_dims(fields[3], t) != 0) return -1;
    t->type = (rknn_tensor_type)type;
    t->fmt = (rknn_tensor_format)fmt;
    if ((t->fmt == RKNN_TENSOR_NCHW || t->fmt == RKNN_TENSOR_NHWC) && t->n_dims != 4) return -1;
    t->scale = 1;
    if (!output) return 0;
    if (strcmp(fields[4], "pool") == 0) t->op = SIM_OP_POOL;
    else if (strcmp(fields[4], "affine") == 0) t->op = SIM_OP_AFFINE;
    else if (strncmp(fields[4], "custom:", 7) == 0 && strlen(fields[4] + 7) > 0 && strlen(fields[4] + 7) < sizeof t->custom_op) {
        t->op = SIM_OP_CUSTOM;
        strcpy(t->custom_op, fields[4] + 7);
        if (t->type != RKNN_TENSOR_FLOAT32) return -1; /* custom operators write float */
    } else {
        return -1;
    }
    t->op_a = strtof(fields[5], NULL);
    t->op_b = strtof(fields[6], NULL);
    t->scale = strtof(fields[7], NULL);
    t->zp = (int32_t)strtol(fields[8], NULL, 10);
    if (t->scale <= 0 || (t->op == SIM_OP_POOL && (t->op_a < 1 || t->fmt != RKNN_TENSOR_NCHW))) return -1;
    return 0;
}

int sim_rknn_model_load(const char* path, const void* bytes, uint32_t size, sim_rknn_model* model) {
    memset(model, 0, sizeof *model);
    char temporary[64] = "";
    if (bytes != NULL) {
        /* A model in memory: the same format, read through a private file. */
        snprintf(temporary, sizeof temporary, "/tmp/rknn-sim-model-XXXXXX");
        int fd = mkstemp(temporary);
        if (fd < 0) return RKNN_ERR_FAIL;
        FILE* file = fdopen(fd, "wb");
        int written = file && fwrite(bytes, 1, size, file) == size;
        if (file) fclose(file);
        if (!written) {
            unlink(temporary);
            return RKNN_ERR_FAIL;
        }
        path = temporary;
    }
    sim_kv_file file;
    int status = sim_kv_read(path, "rknn-sim-model", &file);
    if (temporary[0]) unlink(temporary);
    if (status != 0) return RKNN_ERR_MODEL_INVALID;
    status = RKNN_ERR_MODEL_INVALID;
    for (size_t i = 0; i < file.count; i++) {
        const char* key = file.entries[i].key;
        const char* value = file.entries[i].value;
        if (strcmp(key, "name") == 0 && strlen(value) < sizeof model->name) {
            strcpy(model->name, value);
        } else if (strcmp(key, "custom") == 0 && strlen(value) < sizeof model->custom) {
            strcpy(model->custom, value);
        } else if (strcmp(key, "input") == 0 && model->n_inputs < RKNN_SIM_MAX_TENSORS) {
            if (parse_tensor(value, 0, &model->inputs[model->n_inputs++]) != 0) goto done;
        } else if (strcmp(key, "output") == 0 && model->n_outputs < RKNN_SIM_MAX_TENSORS) {
            if (parse_tensor(value, 1, &model->outputs[model->n_outputs++]) != 0) goto done;
        } else if (strcmp(key, "op_attr") == 0 && model->n_op_attrs < RKNN_SIM_MAX_TENSORS) {
            /* op_attr=<op type>,<name>,<value> */
            char copy[192];
            if (strlen(value) >= sizeof copy) goto done;
            strcpy(copy, value);
            char* cursor = NULL;
            char* type = strtok_r(copy, ",", &cursor);
            char* name = strtok_r(NULL, ",", &cursor);
            char* number = strtok_r(NULL, ",", &cursor);
            if (!type || !name || !number || strlen(type) >= 64 || strlen(name) >= 64) goto done;
            strcpy(model->op_attrs[model->n_op_attrs].op_type, type);
            strcpy(model->op_attrs[model->n_op_attrs].name, name);
            model->op_attrs[model->n_op_attrs++].value = strtof(number, NULL);
        } else if (strcmp(key, "shapes") == 0) {
            char copy[512];
            if (strlen(value) >= sizeof copy) goto done;
            strcpy(copy, value);
            char* cursor = NULL;
            for (char* s = strtok_r(copy, ";", &cursor); s; s = strtok_r(NULL, ";", &cursor)) {
                sim_tensor shape;
                if (model->n_shapes == RKNN_SIM_MAX_SHAPES || parse_dims(s, &shape) != 0 || shape.n_dims != 4) goto done;
                memcpy(model->shapes[model->n_shapes++], shape.dims, sizeof shape.dims);
            }
        } else {
            goto done;
        }
    }
    if (model->name[0] == 0 || model->n_inputs == 0 || model->n_outputs == 0) goto done;
    for (uint32_t i = 0; i < model->n_outputs; i++) model->weight_size += 4096 * (i + 1);
    status = 0;
done:
    sim_kv_free(&file);
    return status;
}

size_t sim_type_size(rknn_tensor_type type) {
    switch (type) {
    case RKNN_TENSOR_FLOAT32: case RKNN_TENSOR_INT32: case RKNN_TENSOR_UINT32: return 4;
    case RKNN_TENSOR_FLOAT16: case RKNN_TENSOR_INT16: case RKNN_TENSOR_UINT16: case RKNN_TENSOR_BFLOAT16: return 2;
    case RKNN_TENSOR_INT64: return 8;
    default: return 1;
    }
}

uint32_t sim_elements(const sim_tensor* t) {
    uint32_t n = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) n *= t->dims[i];
    return n;
}

void sim_output_dims(const sim_tensor* input, sim_tensor* output) {
    if (output->op != SIM_OP_POOL || input->n_dims != 4) return;
    uint32_t h = input->fmt == RKNN_TENSOR_NHWC ? input->dims[1] : input->dims[2];
    uint32_t w = input->fmt == RKNN_TENSOR_NHWC ? input->dims[2] : input->dims[3];
    uint32_t stride = (uint32_t)output->op_a;
    output->dims[2] = h / stride > 0 ? h / stride : 1;
    output->dims[3] = w / stride > 0 ? w / stride : 1;
}

void sim_tensor_attr(const sim_tensor* t, uint32_t index, sim_layout native, rknn_tensor_attr* attr) {
    memset(attr, 0, sizeof *attr);
    attr->index = index;
    snprintf(attr->name, sizeof attr->name, "%s", t->name);
    attr->type = t->type;
    attr->fmt = t->fmt;
    attr->n_dims = t->n_dims;
    memcpy(attr->dims, t->dims, t->n_dims * sizeof(uint32_t));
    int quantized = t->type == RKNN_TENSOR_INT8 || t->type == RKNN_TENSOR_UINT8;
    attr->qnt_type = quantized && t->scale != 1 ? RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC : RKNN_TENSOR_QNT_NONE;
    attr->zp = t->zp;
    attr->scale = t->scale;
    attr->n_elems = sim_elements(t);
    attr->size = attr->n_elems * (uint32_t)sim_type_size(t->type);
    attr->w_stride = t->n_dims == 4 ? (t->fmt == RKNN_TENSOR_NHWC ? t->dims[2] : t->dims[3]) : 0;
    attr->h_stride = 0;
    attr->size_with_stride = attr->size;
    if (native == SIM_LAYOUT_NHWC && t->fmt == RKNN_TENSOR_NCHW && t->n_dims == 4) {
        attr->fmt = RKNN_TENSOR_NHWC;
        uint32_t dims[4] = {t->dims[0], t->dims[2], t->dims[3], t->dims[1]};
        memcpy(attr->dims, dims, sizeof dims);
        attr->w_stride = t->dims[3];
    }
    /* Native layout of a 4-D NCHW int8 tensor: NC1HWC2 with C2 = 16 (channels padded). */
    if (native == SIM_LAYOUT_NC1HWC2 && t->fmt == RKNN_TENSOR_NCHW && t->n_dims == 4 && quantized) {
        uint32_t c = t->dims[1], c1 = (c + 15) / 16;
        attr->fmt = RKNN_TENSOR_NC1HWC2;
        attr->n_dims = 5;
        uint32_t dims[5] = {t->dims[0], c1, t->dims[2], t->dims[3], 16};
        memcpy(attr->dims, dims, sizeof dims);
        attr->size_with_stride = t->dims[0] * c1 * t->dims[2] * t->dims[3] * 16;
    }
}
