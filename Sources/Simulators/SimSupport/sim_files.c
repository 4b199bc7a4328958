/* Growable buffers and the `key=value` file format shared by the simulated runtimes' model,
 * adapter and cache files. */
#include "sim_support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int grow(void** data, size_t* cap, size_t need, size_t element) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need) cap2 *= 2;
    void* bigger = realloc(*data, cap2 * element);
    if (bigger == NULL) return -1;
    *data = bigger;
    *cap = cap2;
    return 0;
}

int sim_str_append(sim_str* s, const char* bytes, size_t n) {
    if (grow((void**)&s->data, &s->cap, s->len + n + 1, 1) != 0) return -1;
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
    s->data[s->len] = 0;
    return 0;
}

int sim_str_puts(sim_str* s, const char* text) { return sim_str_append(s, text, strlen(text)); }

void sim_str_free(sim_str* s) {
    free(s->data);
    *s = (sim_str){0};
}

int sim_ints_push(sim_ints* v, int32_t value) { return sim_ints_append(v, &value, 1); }

int sim_ints_append(sim_ints* v, const int32_t* values, size_t n) {
    if (grow((void**)&v->data, &v->cap, v->len + n, sizeof(int32_t)) != 0) return -1;
    memcpy(v->data + v->len, values, n * sizeof(int32_t));
    v->len += n;
    return 0;
}

void sim_ints_free(sim_ints* v) {
    free(v->data);
    *v = (sim_ints){0};
}

void sim_ints_erase(sim_ints* v, size_t start, size_t end) {
    if (end > v->len) end = v->len;
    if (start >= end) return;
    memmove(v->data + start, v->data + end, (v->len - end) * sizeof(int32_t));
    v->len -= end - start;
}

long sim_env_long(const char* name, long fallback) {
    const char* text = getenv(name);
    if (text == NULL || *text == 0) return fallback;
    char* end;
    long value = strtol(text, &end, 10);
    return *end == 0 ? value : fallback;
}

uint64_t sim_fnv1a(const void* bytes, size_t n) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        hash ^= ((const unsigned char*)bytes)[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

char* sim_read_file(const char* path, size_t limit, size_t* length) {
    FILE* file = fopen(path, "rb");
    if (file == NULL) return NULL;
    sim_str text = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) {
        if (text.len + n > limit || sim_str_append(&text, chunk, n) != 0) {
            sim_str_free(&text);
            fclose(file);
            return NULL;
        }
    }
    fclose(file);
    if (text.data == NULL && sim_str_append(&text, "", 0) != 0) return NULL;
    *length = text.len;
    return text.data;
}

/* Unescapes in place: \n, \t, \\; any other escape is malformed. */
static int unescape(char* value) {
    char* out = value;
    for (char* in = value; *in; in++) {
        if (*in != '\\') { *out++ = *in; continue; }
        switch (*++in) {
        case 'n': *out++ = '\n'; break;
        case 't': *out++ = '\t'; break;
        case '\\': *out++ = '\\'; break;
        default: return -1;
        }
    }
    *out = 0;
    return 0;
}

enum { SIM_FILE_LIMIT = 16 << 20 };

int sim_kv_read(const char* path, const char* magic, sim_kv_file* out) {
    *out = (sim_kv_file){0};
    size_t length;
    char* text = sim_read_file(path, SIM_FILE_LIMIT, &length);
    if (text == NULL) return -1;
    int status = -2;
    /* The checksum line covers every byte before it. */
    char* checksum = NULL;
    for (char* p = text; (p = strstr(p, "checksum=")) != NULL; p++) {
        if (p == text || p[-1] == '\n') checksum = p;
    }
    if (checksum == NULL || strlen(text) != length) goto done;
    char expected[32];
    snprintf(expected, sizeof expected, "checksum=%016llx", (unsigned long long)sim_fnv1a(text, (size_t)(checksum - text)));
    if (strncmp(checksum, expected, strlen(expected)) != 0) goto done;
    *checksum = 0;
    char* cursor = NULL;
    char* line = strtok_r(text, "\n", &cursor);
    char header[64];
    snprintf(header, sizeof header, "%s 1", magic);
    if (line == NULL || strcmp(line, header) != 0) goto done;
    while ((line = strtok_r(NULL, "\n", &cursor)) != NULL) {
        char* equals = strchr(line, '=');
        if (equals == NULL) goto done;
        *equals = 0;
        if (unescape(equals + 1) != 0) goto done;
        sim_entry* more = realloc(out->entries, (out->count + 1) * sizeof *more);
        if (more == NULL) goto done;
        out->entries = more;
        out->entries[out->count].key = strdup(line);
        out->entries[out->count].value = strdup(equals + 1);
        out->count++;
        if (out->entries[out->count - 1].key == NULL || out->entries[out->count - 1].value == NULL) goto done;
    }
    status = 0;
done:
    free(text);
    if (status != 0) sim_kv_free(out);
    return status;
}

const char* sim_kv_get(const sim_kv_file* file, const char* key) {
    for (size_t i = 0; i < file->count; i++) {
        if (strcmp(file->entries[i].key, key) == 0) return file->entries[i].value;
    }
    return NULL;
}

void sim_kv_free(sim_kv_file* file) {
    for (size_t i = 0; i < file->count; i++) {
        free(file->entries[i].key);
        free(file->entries[i].value);
    }
    free(file->entries);
    *file = (sim_kv_file){0};
}

static int append_escaped(sim_str* s, const char* value) {
    for (const char* p = value; *p; p++) {
        const char* escape = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\\' ? "\\\\" : NULL;
        if ((escape ? sim_str_puts(s, escape) : sim_str_append(s, p, 1)) != 0) return -1;
    }
    return 0;
}

int sim_kv_write(const char* path, const char* magic, const char* const* keys, const char* const* values, size_t count) {
    sim_str text = {0};
    int status = -1;
    if (sim_str_puts(&text, magic) != 0 || sim_str_puts(&text, " 1\n") != 0) goto done;
    for (size_t i = 0; i < count; i++) {
        if (sim_str_puts(&text, keys[i]) != 0 || sim_str_puts(&text, "=") != 0
            || append_escaped(&text, values[i]) != 0 || sim_str_puts(&text, "\n") != 0) goto done;
    }
    char checksum[40];
    snprintf(checksum, sizeof checksum, "checksum=%016llx\n", (unsigned long long)sim_fnv1a(text.data, text.len));
    if (sim_str_puts(&text, checksum) != 0) goto done;
    sim_str temporary = {0};
    if (sim_str_puts(&temporary, path) != 0 || sim_str_puts(&temporary, ".tmp") != 0) {
        sim_str_free(&temporary);
        goto done;
    }
    FILE* file = fopen(temporary.data, "wb");
    if (file != NULL) {
        int written = fwrite(text.data, 1, text.len, file) == text.len;
        if (fclose(file) == 0 && written && rename(temporary.data, path) == 0) status = 0;
        else unlink(temporary.data);
    }
    sim_str_free(&temporary);
done:
    sim_str_free(&text);
    return status;
}
