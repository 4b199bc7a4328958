/* A tiny stand-in for librkllmrt.so for the daemon's runtime-host tests: a few functions of
 * Headers/rkllm/1.2.3/rkllm.h (the rest are deliberately absent: "not present in this runtime"), whose
 * behaviour the prompt chooses, so a test can make a runtime fail, hang or crash on demand:
 *   "fail"   -> rkllm_run returns -7
 *   "hang"   -> rkllm_run never returns
 *   "crash"  -> the process dies of SIGSEGV inside rkllm_run
 *   "abort"  -> the process dies of SIGABRT
 *   "grow"   -> rkllm_run allocates (and touches) 16 MiB at a time, as a runaway runtime would,
 *               until an allocation fails (-12, all freed) or 4 GiB are taken (0: no limit held it)
 *   other    -> one callback per word (RKLLM_RUN_NORMAL, text = the word), then RKLLM_RUN_FINISH
 * rkllm_init fails with -3 for a model_path ending in "missing" (the daemon makes paths absolute);
 * rkllm_destroy of an instance whose model_path ends in "stuck" frees it but returns -6.
 * It also stands in for the few librknnrt.so functions that carry a file descriptor, so the
 * daemon's descriptor passing can be tested end to end: rknn_create_mem_from_fd maps the caller's
 * descriptor and reports the first four bytes it reads there in `flags`; rknn_create_mem makes a
 * memfd whose byte i is i % 251, for the client to map. */
#include "rkllm.h"
#include "rknn_api.h"

#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* It speaks the 1.2.3 ABI (its header's) and says so where the daemon looks, in its file. */
__attribute__((used)) static const char fault_version[] = "rkllm-runtime version: 1.2.3";

typedef struct {
    LLMResultCallback callback;
    int runs;
    int stuck; /* rkllm_destroy reports a failure */
} fault_instance;

RKLLMParam rkllm_createDefaultParam(void) {
    RKLLMParam param;
    memset(&param, 0, sizeof param);
    param.max_context_len = 512;
    param.max_new_tokens = 16;
    param.top_k = 1;
    return param;
}

int rkllm_init(LLMHandle* handle, RKLLMParam* param, LLMResultCallback callback) {
    if (handle == NULL || param == NULL || callback == NULL) return -1;
    size_t length = param->model_path ? strlen(param->model_path) : 0;
    if (length >= 7 && strcmp(param->model_path + length - 7, "missing") == 0) return -3;
    fault_instance* instance = calloc(1, sizeof *instance);
    if (instance == NULL) return -1;
    instance->callback = callback;
    instance->stuck = length >= 5 && strcmp(param->model_path + length - 5, "stuck") == 0;
    *handle = instance;
    return 0;
}

int rkllm_destroy(LLMHandle handle) {
    if (handle == NULL) return -1;
    int status = ((fault_instance*)handle)->stuck ? -6 : 0;
    free(handle);
    return status;
}

int rkllm_is_running(LLMHandle handle) { return handle == NULL ? -1 : 0; }

static int grow(void) {
    enum { chunk = 16 << 20, most = 256 };
    void* taken[most];
    int n = 0, status = 0;
    for (; n < most; n++) {
        taken[n] = malloc(chunk);
        if (taken[n] == NULL) {
            status = -12;
            break;
        }
        memset(taken[n], 1, chunk);
    }
    while (n > 0) free(taken[--n]);
    return status;
}

int rkllm_run(LLMHandle handle, RKLLMInput* input, RKLLMInferParam* infer, void* userdata) {
    (void)infer;
    fault_instance* instance = handle;
    if (instance == NULL || input == NULL || input->input_type != RKLLM_INPUT_PROMPT || input->prompt_input == NULL) return -1;
    const char* prompt = input->prompt_input;
    instance->runs++;
    if (strcmp(prompt, "fail") == 0) return -7;
    if (strcmp(prompt, "hang") == 0) {
        for (;;) pause();
    }
    if (strcmp(prompt, "crash") == 0) *(volatile int*)0 = 1; /* a real fault, as a buggy runtime has */
    if (strcmp(prompt, "abort") == 0) abort();
    if (strcmp(prompt, "grow") == 0) return grow();

    RKLLMResult result;
    memset(&result, 0, sizeof result);
    char word[64];
    int tokens = 0;
    for (const char* p = prompt; *p;) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n == 0) break;
        if (n >= sizeof word) n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = 0;
        p += strcspn(p, " ");
        result.text = word;
        result.token_id = ++tokens;
        if (instance->callback(&result, userdata, RKLLM_RUN_NORMAL) != 0) break;
    }
    memset(&result, 0, sizeof result);
    result.perf.generate_tokens = tokens;
    instance->callback(&result, userdata, RKLLM_RUN_FINISH);
    return 0;
}

int rknn_init(rknn_context* context, void* model, uint32_t size, uint32_t flag, rknn_init_extend* extend) {
    (void)model; (void)size; (void)flag; (void)extend;
    if (context == NULL) return RKNN_ERR_PARAM_INVALID;
    static rknn_context next = 1;
    *context = next++;
    return RKNN_SUCC;
}

int rknn_destroy(rknn_context context) { return context == 0 ? RKNN_ERR_CTX_INVALID : RKNN_SUCC; }

rknn_tensor_mem* rknn_create_mem_from_fd(rknn_context ctx, int32_t fd, void* virt_addr, uint32_t size, int32_t offset) {
    (void)virt_addr;
    if (ctx == 0 || fd < 0 || size < 4 || offset < 0) return NULL;
    void* mapped = mmap(NULL, size + (size_t)offset, PROT_READ, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) return NULL;
    rknn_tensor_mem* mem = calloc(1, sizeof *mem);
    if (mem == NULL) {
        munmap(mapped, size + (size_t)offset);
        return NULL;
    }
    mem->virt_addr = (char*)mapped + offset;
    mem->fd = fd;
    mem->offset = offset;
    mem->size = size;
    memcpy(&mem->flags, mem->virt_addr, sizeof mem->flags);
    return mem;
}

extern int memfd_create(const char* name, unsigned int flags);

rknn_tensor_mem* rknn_create_mem(rknn_context ctx, uint32_t size) {
    if (ctx == 0 || size == 0) return NULL;
    int fd = memfd_create("faultrt", 0);
    if (fd < 0) return NULL;
    if (ftruncate(fd, size) != 0) {
        close(fd);
        return NULL;
    }
    uint8_t* mapped = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    rknn_tensor_mem* mem = mapped == MAP_FAILED ? NULL : calloc(1, sizeof *mem);
    if (mem == NULL) {
        if (mapped != MAP_FAILED) munmap(mapped, size);
        close(fd);
        return NULL;
    }
    for (uint32_t i = 0; i < size; i++) mapped[i] = (uint8_t)(i % 251);
    mem->virt_addr = mapped;
    mem->fd = fd;
    mem->size = size;
    mem->priv_data = mem; /* marks a descriptor of our own, closed by rknn_destroy_mem */
    return mem;
}

int rknn_destroy_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    if (ctx == 0 || mem == NULL) return RKNN_ERR_PARAM_INVALID;
    munmap((char*)mem->virt_addr - mem->offset, mem->size + (size_t)mem->offset);
    if (mem->priv_data == mem) close(mem->fd);
    free(mem);
    return RKNN_SUCC;
}
