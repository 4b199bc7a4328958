/* librkllmrt_sim.so: the RKLLM ABI of Headers/rkllm/1.2.3/rkllm.h, simulated on the CPU with deterministic
 * output, vendor-like threads and timing, and faults on demand. Everything it does is documented in
 * docs/SIMULATED_RUNTIMES.md; model files are made by `sim-model rkllm`. */
#include "rkllm.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

enum { SIM_MAX_LORAS = 8, SIM_MAX_BATCH = 8, SIM_MAX_TOOLS_BYTES = 64 << 10 };

/* Return codes (the vendor's are all "non-zero"; ours say which check failed). */
enum {
    SIM_ERR_ARGUMENT = -1, SIM_ERR_MODEL_MISSING = -2, SIM_ERR_MODEL_MALFORMED = -3, SIM_ERR_BUSY = -4,
    SIM_ERR_DOMAIN_IN_USE = -5, SIM_ERR_STATE = -6, SIM_ERR_CONTEXT = -7, SIM_ERR_FILE = -8, SIM_ERR_MEMORY = -9,
};

typedef struct { char* name; char* tag; float scale; } sim_lora;

/* Settings from the environment, read once per instance (docs/SIMULATED_RUNTIMES.md). */
typedef struct {
    long prefill_us, token_us, load_ms;
    int init_error, run_error, hang_at_token, crash_at_token, timestamps;
} sim_settings;

/* A run's input, copied: an async run outlives the caller's structs. */
typedef struct {
    char* prompt;
    char* role;
    int enable_thinking;
    int resume;                     /* an empty prompt after a pause: go on with the paused reply */
    size_t embedded_tokens;
    size_t images, image_tokens, image_width, image_height;
    RKLLMInferMode mode;
    char* lora_name;
    char* cache_path;               /* save the prompt cache here after prefill; NULL = no */
    int keep_history;
    int max_new_tokens;             /* this run's limit (1.3: per run; 1.2: the instance's) */
    int top_k;                      /* this run's sampling (1.3: per run; 1.2: the instance's) */
    float temperature;
    void* userdata;
    int async;                      /* a run of rkllm_run_async */
    int released;                   /* the instance was marked idle before the final callback */
} sim_run;

typedef struct {
    LLMResultCallback callback;
    void* result_userdata;          /* 1.3: the callback struct's, for runs that pass none */
    int ignore_eos;                 /* 1.3: keep generating past the reply's end */
    sim_model model;
    sim_settings settings;
    int max_context_len, max_new_tokens, n_keep, n_batch, use_cross_attn;
    int top_k;
    float temperature;
    int domain_fd;
    pthread_mutex_t lock;           /* guards what follows, up to the atomics */
    char* system_prompt;
    char* prompt_prefix;
    char* prompt_postfix;
    char* tool_names;               /* '\n'-separated, NULL = no tools */
    sim_lora loras[SIM_MAX_LORAS];
    size_t lora_count;
    sim_ints prompt_cache;
    sim_ints kv;                    /* the tokens in the KV cache */
    size_t system_tokens;           /* the system prompt's tokens at the start of kv */
    int turn;
    sim_ints paused;                /* reply tokens still to come after the callback returned 1 */
    int paused_keep_history;
    int cross_attn_tokens;
    atomic_int running;
    atomic_int abort_requested;
    pthread_t async_thread;
    int async_started;              /* touched only by run_async and destroy (never concurrently) */
} sim_instance;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Sleeps `us` microseconds in slices, returning 1 as soon as an abort is requested. */
static int sleep_abortable(sim_instance* in, long us) {
    while (us > 0) {
        if (atomic_load(&in->abort_requested)) return 1;
        long slice = us < 2000 ? us : 2000;
        struct timespec t = {0, slice * 1000};
        nanosleep(&t, NULL);
        us -= slice;
    }
    return atomic_load(&in->abort_requested);
}

static char* dup_or_null(const char* text) { return text ? strdup(text) : NULL; }

static void replace_string(char** slot, const char* text) {
    char* copy = strdup(text ? text : "");
    if (copy == NULL) return;
    free(*slot);
    *slot = copy;
}

RKLLMParam rkllm_createDefaultParam(void) {
    RKLLMParam param;
    memset(&param, 0, sizeof param);
    param.max_context_len = 1024;
    param.max_new_tokens = 256;
    param.top_k = 1;
    param.n_keep = 0;
    param.top_p = 0.9f;
    param.temperature = 0.8f;
    param.repeat_penalty = 1.1f;
    param.mirostat_tau = 5.0f;
    param.mirostat_eta = 0.1f;
    param.skip_special_token = true;
#ifndef SIM_ABI_1_3
    param.img_start = "";
    param.img_end = "";
    param.img_content = "";
#endif
    param.extend_param.enabled_cpus_num = 4;
    param.extend_param.enabled_cpus_mask = CPU4 | CPU5 | CPU6 | CPU7;
    param.extend_param.n_batch = 1;
    return param;
}

/* The lock file of a base_domain_id: two live instances of one domain clash, across processes,
 * as two models in one NPU domain do on a board. */
static int lock_domain(int domain) {
    const char* dir = getenv("RKLLM_SIM_DOMAIN_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/rkllm-sim-domain-%d.lock", dir && *dir ? dir : "/tmp", domain);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void free_instance(sim_instance* in) {
    sim_model_free(&in->model);
    free(in->system_prompt);
    free(in->prompt_prefix);
    free(in->prompt_postfix);
    free(in->tool_names);
    for (size_t i = 0; i < in->lora_count; i++) {
        free(in->loras[i].name);
        free(in->loras[i].tag);
    }
    sim_ints_free(&in->prompt_cache);
    sim_ints_free(&in->kv);
    sim_ints_free(&in->paused);
    if (in->domain_fd >= 0) close(in->domain_fd);
    pthread_mutex_destroy(&in->lock);
    free(in);
}

/* The runtime's version in its read-only data, as the vendor's library carries it and logs it at
 * init ("I rkllm: rkllm-runtime version: 1.1.2, rknpu driver version: ..."): a daemon reads it from
 * the file to pick the ABI it speaks. */
#ifndef SIM_RUNTIME_VERSION
#define SIM_RUNTIME_VERSION "1.2.3"
#endif
static const char sim_version_banner[] = "rkllm-runtime version: " SIM_RUNTIME_VERSION;

#ifdef SIM_ABI_1_3
/* 1.3.0: a struct of callbacks, each with its userdata; the tokenizer and embedding ones are for
 * models without their own, which the simulated models never are. */
int rkllm_init(LLMHandle* handle, RKLLMParam* param, RKLLMCallback* callbacks) {
    LLMResultCallback callback = callbacks != NULL ? callbacks->result_callback : NULL;
#else
int rkllm_init(LLMHandle* handle, RKLLMParam* param, LLMResultCallback callback) {
#endif
    fprintf(stderr, "I rkllm: %s, platform: simulated\n", sim_version_banner);
    if (handle == NULL || param == NULL || callback == NULL || param->model_path == NULL) return SIM_ERR_ARGUMENT;
    sim_settings settings = {
        .prefill_us = sim_env_long("RKLLM_SIM_PREFILL_US", 2000),
        .token_us = sim_env_long("RKLLM_SIM_TOKEN_US", 50000),
        .load_ms = sim_env_long("RKLLM_SIM_LOAD_MS", -1),
        .init_error = (int)sim_env_long("RKLLM_SIM_INIT_ERROR", 0),
        .run_error = (int)sim_env_long("RKLLM_SIM_RUN_ERROR", 0),
        .hang_at_token = (int)sim_env_long("RKLLM_SIM_HANG_AT_TOKEN", 0),
        .crash_at_token = (int)sim_env_long("RKLLM_SIM_CRASH_AT_TOKEN", 0),
        .timestamps = (int)sim_env_long("RKLLM_SIM_TIMESTAMPS", 0),
    };
    if (settings.init_error != 0) return settings.init_error;
    int n_batch = param->extend_param.n_batch == 0 ? 1 : param->extend_param.n_batch;
    /* A negative n_keep (the vendor's examples pass -1) leaves the choice to the runtime: see kept_positions. */
    if (param->max_context_len <= 0 || param->n_keep >= param->max_context_len || n_batch > SIM_MAX_BATCH) return SIM_ERR_ARGUMENT;
    sim_instance* in = calloc(1, sizeof *in);
    if (in == NULL) return SIM_ERR_MEMORY;
    in->domain_fd = -1;
    pthread_mutex_init(&in->lock, NULL);
    int loaded = sim_model_load(param->model_path, &in->model);
    if (loaded != 0) {
        free_instance(in);
        return loaded == -1 ? SIM_ERR_MODEL_MISSING : SIM_ERR_MODEL_MALFORMED;
    }
    int fault = in->model.init_error;
    if (fault != 0) {
        free_instance(in);
        return fault;
    }
    if (settings.run_error == 0) settings.run_error = in->model.run_error;
    if (settings.hang_at_token == 0) settings.hang_at_token = in->model.hang_at_token;
    if (settings.crash_at_token == 0) settings.crash_at_token = in->model.crash_at_token;
    in->settings = settings;
    in->callback = callback;
#ifdef SIM_ABI_1_3
    in->result_userdata = callbacks->result_userdata;
    in->ignore_eos = param->ignore_eos_token;
#endif
    in->max_context_len = param->max_context_len;
    in->max_new_tokens = param->max_new_tokens;
    in->top_k = param->top_k;
    in->temperature = param->temperature;
    in->n_keep = param->n_keep;
    in->n_batch = n_batch;
    in->use_cross_attn = param->extend_param.use_cross_attn;
    in->system_prompt = strdup(in->model.system_prompt);
    in->prompt_prefix = strdup(in->model.prompt_prefix);
    in->prompt_postfix = strdup(in->model.prompt_postfix);
    if (!in->system_prompt || !in->prompt_prefix || !in->prompt_postfix) {
        free_instance(in);
        return SIM_ERR_MEMORY;
    }
    if ((in->domain_fd = lock_domain(param->extend_param.base_domain_id)) < 0) {
        free_instance(in);
        return SIM_ERR_DOMAIN_IN_USE;
    }
    long load_ms = settings.load_ms >= 0 ? settings.load_ms : in->model.load_ms;
    struct timespec t = {load_ms / 1000, (load_ms % 1000) * 1000000};
    nanosleep(&t, NULL);
    *handle = in;
    return 0;
}

int rkllm_destroy(LLMHandle handle) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    atomic_store(&in->abort_requested, 1);
    if (in->async_started) pthread_join(in->async_thread, NULL);
    while (atomic_load(&in->running)) usleep(1000); /* a blocking run on another thread */
    free_instance(in);
    return 0;
}

int rkllm_load_lora(LLMHandle handle, RKLLMLoraAdapter* adapter) {
    sim_instance* in = handle;
    if (in == NULL || adapter == NULL || adapter->lora_adapter_path == NULL || adapter->lora_adapter_name == NULL
        || *adapter->lora_adapter_name == 0) return SIM_ERR_ARGUMENT;
    sim_kv_file file;
    int status = sim_kv_read(adapter->lora_adapter_path, "rkllm-sim-lora", &file);
    if (status != 0) return status == -1 ? SIM_ERR_MODEL_MISSING : SIM_ERR_MODEL_MALFORMED;
    const char* tag = sim_kv_get(&file, "tag");
    status = tag == NULL ? SIM_ERR_MODEL_MALFORMED : 0;
    pthread_mutex_lock(&in->lock);
    size_t slot = 0;
    while (slot < in->lora_count && strcmp(in->loras[slot].name, adapter->lora_adapter_name) != 0) slot++;
    if (status == 0 && slot == SIM_MAX_LORAS) status = SIM_ERR_ARGUMENT;
    if (status == 0) {
        char* name = strdup(adapter->lora_adapter_name);
        char* copy = strdup(tag);
        if (name == NULL || copy == NULL) {
            free(name);
            free(copy);
            status = SIM_ERR_MEMORY;
        } else {
            if (slot == in->lora_count) in->lora_count++;
            else {
                free(in->loras[slot].name);
                free(in->loras[slot].tag);
            }
            in->loras[slot] = (sim_lora){name, copy, adapter->scale};
        }
    }
    pthread_mutex_unlock(&in->lock);
    sim_kv_free(&file);
    return status;
}

static int parse_tokens(const char* text, sim_ints* out) {
    for (const char* p = text; *p;) {
        char* end;
        long id = strtol(p, &end, 10);
        if (end == p || id < 0 || id > 1 << 30 || sim_ints_push(out, (int32_t)id) != 0) return -1;
        p = end;
        while (*p == ' ') p++;
    }
    return 0;
}

int rkllm_load_prompt_cache(LLMHandle handle, const char* path) {
    sim_instance* in = handle;
    if (in == NULL || path == NULL) return SIM_ERR_ARGUMENT;
    sim_kv_file file;
    int status = sim_kv_read(path, "rkllm-sim-cache", &file);
    if (status != 0) return status == -1 ? SIM_ERR_FILE : SIM_ERR_MODEL_MALFORMED;
    sim_ints tokens = {0};
    const char* model = sim_kv_get(&file, "model");
    const char* list = sim_kv_get(&file, "tokens");
    status = model == NULL || list == NULL || strcmp(model, in->model.name) != 0 || parse_tokens(list, &tokens) != 0
        ? SIM_ERR_MODEL_MALFORMED : 0;
    sim_kv_free(&file);
    if (status == 0) {
        pthread_mutex_lock(&in->lock);
        sim_ints_free(&in->prompt_cache);
        in->prompt_cache = tokens;
        pthread_mutex_unlock(&in->lock);
    } else {
        sim_ints_free(&tokens);
    }
    return status;
}

int rkllm_release_prompt_cache(LLMHandle handle) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    pthread_mutex_lock(&in->lock);
    sim_ints_free(&in->prompt_cache);
    pthread_mutex_unlock(&in->lock);
    return 0;
}

static int save_prompt_cache(const sim_instance* in, const char* path) {
    sim_str list = {0};
    char number[16];
    for (size_t i = 0; i < in->kv.len; i++) {
        snprintf(number, sizeof number, i ? " %d" : "%d", in->kv.data[i]);
        if (sim_str_puts(&list, number) != 0) {
            sim_str_free(&list);
            return SIM_ERR_MEMORY;
        }
    }
    const char* keys[] = {"model", "tokens"};
    const char* values[] = {in->model.name, list.data ? list.data : ""};
    int status = sim_kv_write(path, "rkllm-sim-cache", keys, values, 2);
    sim_str_free(&list);
    return status == 0 ? 0 : SIM_ERR_FILE;
}

/* MARK: runs */

static void free_run(sim_run* run) {
    free(run->prompt);
    free(run->role);
    free(run->lora_name);
    free(run->cache_path);
    free(run);
}

/* Copies what a run needs; NULL with *status set when the input is invalid. */
static sim_run* copy_run(sim_instance* in, const RKLLMInput* input, const RKLLMInferParam* infer, void* userdata, int* status) {
    *status = SIM_ERR_ARGUMENT;
    if (input == NULL) return NULL;
    sim_run* run = calloc(1, sizeof *run);
    if (run == NULL) {
        *status = SIM_ERR_MEMORY;
        return NULL;
    }
    run->userdata = userdata;
    run->max_new_tokens = in->max_new_tokens;
    run->top_k = in->top_k;
    run->temperature = in->temperature;
#ifdef SIM_ABI_1_3
    if (userdata == NULL) run->userdata = in->result_userdata; /* a run's own userdata wins */
    if (infer && infer->max_new_tokens > 0) run->max_new_tokens = infer->max_new_tokens;
    if (infer && infer->sampling_params) {
        run->top_k = infer->sampling_params->top_k;
        run->temperature = infer->sampling_params->temperature;
    }
#endif
    run->enable_thinking = input->enable_thinking;
    run->role = dup_or_null(input->role);
    run->mode = infer ? infer->mode : RKLLM_INFER_GENERATE;
    run->keep_history = infer ? infer->keep_history : 0;
    if (infer && infer->lora_params && infer->lora_params->lora_adapter_name) run->lora_name = strdup(infer->lora_params->lora_adapter_name);
    if (infer && infer->prompt_cache_params && infer->prompt_cache_params->save_prompt_cache) {
        if (infer->prompt_cache_params->prompt_cache_path == NULL) goto invalid;
        run->cache_path = strdup(infer->prompt_cache_params->prompt_cache_path);
    }
    if (run->mode > RKLLM_INFER_GET_LOGITS) goto invalid;
    switch (input->input_type) {
    case RKLLM_INPUT_PROMPT:
        if (input->prompt_input == NULL) goto invalid;
        run->prompt = strdup(input->prompt_input);
        run->resume = *input->prompt_input == 0;
        break;
    case RKLLM_INPUT_TOKEN: {
        const RKLLMTokenInput* tokens = &input->token_input;
        if (tokens->input_ids == NULL || tokens->n_tokens == 0) goto invalid;
        sim_str text = {0};
        char bytes[2];
        for (size_t i = 0; i < tokens->n_tokens; i++) {
            size_t n;
            const char* piece = sim_token_text(&in->model, tokens->input_ids[i], &n, bytes);
            if (piece == NULL || sim_str_append(&text, piece, n) != 0) {
                sim_str_free(&text);
                goto invalid;
            }
        }
        run->prompt = text.data ? text.data : strdup("");
        break;
    }
    case RKLLM_INPUT_EMBED:
        if (input->embed_input.embed == NULL || input->embed_input.n_tokens == 0) goto invalid;
        run->embedded_tokens = input->embed_input.n_tokens;
        run->prompt = strdup("");
        break;
    case RKLLM_INPUT_MULTIMODAL: {
        const RKLLMMultiModalInput* mm = &input->multimodal_input;
#ifdef SIM_ABI_1_3
        /* 1.3.0: images and videos; a video's frames count as images of its frame size. */
        const __typeof__(mm->image)* image = &mm->image;
        const __typeof__(mm->video)* video = &mm->video;
        if (mm->prompt == NULL || (image->n_image > 0 && (image->image_embed == NULL || image->n_image_tokens == 0)) ||
            (video->n_video > 0 && (video->video_embed == NULL || video->n_frame_per_video == 0 || video->n_frame_tokens == 0)))
            goto invalid;
        run->prompt = strdup(mm->prompt);
        run->images = image->n_image + video->n_video * video->n_frame_per_video;
        run->image_tokens = image->n_image * image->n_image_tokens + video->n_video * video->n_frame_per_video * video->n_frame_tokens;
        run->image_width = image->n_image > 0 ? image->image_width : video->frame_width;
        run->image_height = image->n_image > 0 ? image->image_height : video->frame_height;
#else
        if (mm->prompt == NULL || (mm->n_image > 0 && (mm->image_embed == NULL || mm->n_image_tokens == 0))) goto invalid;
        run->prompt = strdup(mm->prompt);
        run->images = mm->n_image;
        run->image_tokens = mm->n_image * mm->n_image_tokens;
        run->image_width = mm->image_width;
        run->image_height = mm->image_height;
#endif
        break;
    }
    default:
        goto invalid;
    }
    if (run->prompt == NULL) goto invalid;
    *status = 0;
    return run;
invalid:
    free_run(run);
    return NULL;
}

static int call_back(sim_instance* in, sim_run* run, RKLLMResult* result, LLMCallState state) {
    return in->callback(result, run->userdata, state);
}

/* The last callback of a run (FINISH or ERROR). An async run marks the instance idle first, so a
 * caller that saw it may rely on rkllm_is_running and start the next run at once; a blocking run is
 * idle when rkllm_run returns (docs/SIMULATED_RUNTIMES.md). */
static void final_call_back(sim_instance* in, sim_run* run, RKLLMResult* result, LLMCallState state) {
    if (run->async) {
        run->released = 1;
        atomic_store(&in->running, 0);
    }
    call_back(in, run, result, state);
}

static void report_error(sim_instance* in, sim_run* run) {
    RKLLMResult result;
    memset(&result, 0, sizeof result);
    result.token_id = -1;
    final_call_back(in, run, &result, RKLLM_RUN_ERROR);
}

/* Positions kept at the start when the context window shifts: n_keep, or for a negative n_keep
 * the system prompt's tokens. */
static size_t kept_positions(const sim_instance* in) {
    return in->n_keep >= 0 ? (size_t)in->n_keep : in->system_tokens;
}

/* Makes room for `more` tokens: drops the oldest after the kept positions (the context shift). */
static void make_room(sim_instance* in, size_t more) {
    size_t limit = (size_t)in->max_context_len;
    if (in->kv.len + more <= limit) return;
    size_t keep = kept_positions(in);
    sim_ints_erase(&in->kv, keep, keep + (in->kv.len + more - limit));
    if (in->system_tokens > keep) in->system_tokens = keep;
}

/* Prefill: puts the run's prompt into the KV cache. Returns 0 and the tokens to answer with, or an
 * error code. Called with the lock held. */
static int prefill(sim_instance* in, sim_run* run, sim_ints* fresh, size_t* cached, sim_ints* reply) {
    if (!run->keep_history) {
        in->kv.len = 0;
        in->turn = 0;
    }
    if (in->kv.len == 0) {
        if (sim_tokenize(&in->model, in->system_prompt, fresh) != 0) return SIM_ERR_MEMORY;
        in->system_tokens = fresh->len;
    }
    sim_str text = {0};
    int status = sim_str_puts(&text, in->prompt_prefix) | sim_str_puts(&text, run->prompt) | sim_str_puts(&text, in->prompt_postfix);
    if (status == 0) status = sim_tokenize(&in->model, text.data, fresh);
    sim_str_free(&text);
    for (size_t i = 0; status == 0 && i < run->embedded_tokens + run->image_tokens; i++) status = sim_ints_push(fresh, SIM_TOKEN_PAD);
    if (status != 0) return SIM_ERR_MEMORY;
    if (fresh->len + kept_positions(in) >= (size_t)in->max_context_len) return SIM_ERR_CONTEXT;
    /* A loaded prompt cache that the new context starts with is not prefilled again. */
    *cached = 0;
    if (in->kv.len == 0 && in->prompt_cache.len > 0 && in->prompt_cache.len <= fresh->len
        && memcmp(in->prompt_cache.data, fresh->data, in->prompt_cache.len * sizeof(int32_t)) == 0) *cached = in->prompt_cache.len;
    make_room(in, fresh->len);
    if (sim_ints_append(&in->kv, fresh->data, fresh->len) != 0) return SIM_ERR_MEMORY;
    in->turn++;
    if (run->cache_path && (status = save_prompt_cache(in, run->cache_path)) != 0) return status;

    const char* lora_tag = NULL;
    float lora_scale = 0;
    if (run->lora_name) {
        for (size_t i = 0; i < in->lora_count; i++) {
            if (strcmp(in->loras[i].name, run->lora_name) == 0) {
                lora_tag = in->loras[i].tag;
                lora_scale = in->loras[i].scale;
            }
        }
        if (lora_tag == NULL) return SIM_ERR_ARGUMENT;
    }
    sim_reply_input input = {
        .prompt = run->prompt, .role = run->role, .enable_thinking = run->enable_thinking,
        .lora_tag = lora_tag, .lora_scale = lora_scale, .top_k = run->top_k, .temperature = run->temperature,
        .tool_names = in->tool_names, .turn = in->turn,
        .embedded_tokens = run->embedded_tokens, .images = run->images,
        .image_width = run->image_width, .image_height = run->image_height,
    };
    sim_str answer = {0};
    status = sim_reply(&in->model, &input, &answer);
    if (status == 0) status = sim_tokenize(&in->model, answer.data, reply);
    sim_str_free(&answer);
    return status == 0 ? 0 : SIM_ERR_MEMORY;
}

/* The hidden-layer and logits modes: one result with the arrays (docs/SIMULATED_RUNTIMES.md).
 * 1.3.0 holds the array until the run ends (in *kept, counted in the run's memory) unless the
 * callback returns 2, "release the current output buffer now". */
static int report_arrays(sim_instance* in, sim_run* run, const sim_ints* fresh, const sim_ints* reply, float** kept,
                         size_t* kept_bytes) {
    RKLLMResult result;
    memset(&result, 0, sizeof result);
    result.text = ""; /* programs print a NORMAL callback's text as it is */
    result.token_id = -1;
    float* values;
    size_t bytes;
    if (run->mode == RKLLM_INFER_GET_LAST_HIDDEN_LAYER) {
        int tokens = (int)fresh->len, width = in->model.embd_size;
        bytes = (size_t)tokens * (size_t)width * sizeof(float);
        if ((values = malloc(bytes)) == NULL) return SIM_ERR_MEMORY;
        for (int t = 0; t < tokens; t++)
            for (int j = 0; j < width; j++) values[t * width + j] = (float)((fresh->data[t] * 31 + j * 7) % 1000) / 1000.0f;
        result.last_hidden_layer = (RKLLMResultLastHiddenLayer){values, width, tokens};
    } else {
        int vocab = sim_vocab_size(&in->model);
        int32_t next = reply->len > 0 ? reply->data[0] : SIM_TOKEN_EOS;
        bytes = (size_t)vocab * sizeof(float);
        if ((values = malloc(bytes)) == NULL) return SIM_ERR_MEMORY;
        for (int v = 0; v < vocab; v++) values[v] = v == next ? 1.0f : 0.0f;
        result.logits = (RKLLMResultLogits){values, vocab, 1};
    }
    int answer = call_back(in, run, &result, RKLLM_RUN_NORMAL);
#ifdef SIM_ABI_1_3
    if (answer != 2) {
        *kept = values;
        *kept_bytes = bytes;
        return 0;
    }
#else
    (void)answer;
    (void)kept;
    (void)kept_bytes;
#endif
    free(values);
    return 0;
}

/* Continuation bytes still owed after `bytes`, given `owed` before them. */
static int utf8_owed(const char* bytes, size_t n, int owed) {
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)bytes[i];
        if (owed > 0 && (b & 0xC0) == 0x80) owed--;
        else owed = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
    }
    return owed;
}

static int generate(sim_instance* in, sim_run* run) {
    if (in->settings.run_error != 0) {
        report_error(in, run);
        return in->settings.run_error;
    }
    uint64_t started = now_ns();
    sim_ints fresh = {0}, reply = {0};
    /* The bytes of a character still incomplete: a WAITING callback shows nothing, and the NORMAL
     * one that completes the character carries it whole, as the vendor's runtime does. */
    sim_str held = {0};
    size_t cached = 0;
    int status = 0;
    pthread_mutex_lock(&in->lock);
    int resume = run->resume && in->paused.len > 0;
    if (resume) {
        reply = in->paused;
        in->paused = (sim_ints){0};
        run->keep_history = in->paused_keep_history;
    } else {
        in->paused.len = 0;
        status = prefill(in, run, &fresh, &cached, &reply);
    }
    pthread_mutex_unlock(&in->lock);
    if (status == 0 && sleep_abortable(in, in->settings.prefill_us * (long)(fresh.len - cached))) reply.len = 0;
    uint64_t prefilled = now_ns();
    float* kept = NULL; /* an output buffer the callback did not release (1.3.0) */
    size_t kept_bytes = 0;
    if (status == 0 && run->mode != RKLLM_INFER_GENERATE) {
        status = report_arrays(in, run, &fresh, &reply, &kept, &kept_bytes);
        reply.len = 0;
    }
    if (status != 0) {
        report_error(in, run);
        goto done;
    }
    size_t limit = run->max_new_tokens > 0 ? (size_t)run->max_new_tokens : reply.len;
    /* 1.3.0's ignore_eos_token: past the reply's end the model goes on repeating it, to the limit. */
    size_t length = in->ignore_eos && run->max_new_tokens > 0 && reply.len > 0 ? limit : reply.len;
    size_t emitted = 0;
    int owed = 0;
    RKLLMResult result;
    for (; emitted < length && emitted < limit; emitted++) {
        if (sleep_abortable(in, in->settings.token_us)) break;
        int32_t token = reply.data[emitted % reply.len];
        if ((int)emitted + 1 == in->settings.hang_at_token)
            for (;;) pause(); /* the injected hang: nothing gets out of here but a signal */
        if ((int)emitted + 1 == in->settings.crash_at_token) raise(SIGSEGV);
        pthread_mutex_lock(&in->lock);
        make_room(in, 1);
        status = sim_ints_push(&in->kv, token);
        pthread_mutex_unlock(&in->lock);
        if (status != 0) break;
        char bytes[2], stamp[32];
        size_t n;
        const char* text = sim_token_text(&in->model, token, &n, bytes);
        owed = utf8_owed(text, n, owed);
        memset(&result, 0, sizeof result);
        if (owed > 0 || held.len > 0) {
            if ((status = sim_str_append(&held, text, n)) != 0) break;
            text = owed > 0 ? "" : held.data;
        }
        if (in->settings.timestamps) {
            snprintf(stamp, sizeof stamp, "%llu", (unsigned long long)now_ns());
            result.text = stamp;
        } else {
            result.text = text; /* every token's text is NUL-terminated */
        }
        result.token_id = token;
        int paused = call_back(in, run, &result, owed > 0 ? RKLLM_RUN_WAITING : RKLLM_RUN_NORMAL) == 1;
        if (owed == 0) held.len = 0;
        if (paused) {
            /* Paused: the rest of the reply waits for a run with an empty prompt. */
            pthread_mutex_lock(&in->lock);
            sim_ints_free(&in->paused);
            if (emitted + 1 < reply.len) sim_ints_append(&in->paused, reply.data + emitted + 1, reply.len - emitted - 1);
            in->paused_keep_history = run->keep_history;
            pthread_mutex_unlock(&in->lock);
            goto done;
        }
    }
    if (status != 0) {
        report_error(in, run);
        goto done;
    }
    memset(&result, 0, sizeof result);
    result.token_id = -1;
    uint64_t finished = now_ns();
    pthread_mutex_lock(&in->lock);
    result.perf = (RKLLMPerfStat){
        .prefill_time_ms = (float)(prefilled - started) / 1e6f, .prefill_tokens = (int)(fresh.len - cached),
        .generate_time_ms = (float)(finished - prefilled) / 1e6f, .generate_tokens = (int)emitted,
        .memory_usage_mb = (float)in->model.memory_mb + (float)in->kv.len / 64.0f + (float)kept_bytes / 1048576.0f,
    };
    if (!run->keep_history) {
        in->kv.len = 0;
        in->turn = 0;
    }
    pthread_mutex_unlock(&in->lock);
    final_call_back(in, run, &result, RKLLM_RUN_FINISH);
done:
    free(kept);
    sim_str_free(&held);
    sim_ints_free(&fresh);
    sim_ints_free(&reply);
    return status;
}

/* Claims the instance for one run; SIM_ERR_BUSY while another is running. */
static int start_running(sim_instance* in) {
    int idle = 0;
    if (!atomic_compare_exchange_strong(&in->running, &idle, 1)) return SIM_ERR_BUSY;
    atomic_store(&in->abort_requested, 0);
    return 0;
}

int rkllm_run(LLMHandle handle, RKLLMInput* input, RKLLMInferParam* infer, void* userdata) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    int status;
    sim_run* run = copy_run(in, input, infer, userdata, &status);
    if (run == NULL) return status;
    if ((status = start_running(in)) == 0) {
        status = generate(in, run);
        atomic_store(&in->running, 0);
    }
    free_run(run);
    return status;
}

typedef struct { sim_instance* in; sim_run* run; } sim_async;

static void* async_main(void* argument) {
    sim_async* job = argument;
    generate(job->in, job->run);
    /* A paused run ends without a final callback: the instance is idle only now. */
    if (!job->run->released) atomic_store(&job->in->running, 0);
    free_run(job->run);
    free(job);
    return NULL;
}

int rkllm_run_async(LLMHandle handle, RKLLMInput* input, RKLLMInferParam* infer, void* userdata) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    int status;
    sim_run* run = copy_run(in, input, infer, userdata, &status);
    if (run == NULL) return status;
    sim_async* job = malloc(sizeof *job);
    if (job == NULL || (status = start_running(in)) != 0) {
        free(job);
        free_run(run);
        return job == NULL ? SIM_ERR_MEMORY : status;
    }
    /* The previous async run has made its final callback (running was 0): collect its thread, or,
     * when this call comes from that very callback, let the thread end by itself. */
    if (in->async_started) {
        if (pthread_equal(in->async_thread, pthread_self())) pthread_detach(in->async_thread);
        else pthread_join(in->async_thread, NULL);
    }
    in->async_started = 0;
    run->async = 1;
    *job = (sim_async){in, run};
    if (pthread_create(&in->async_thread, NULL, async_main, job) != 0) {
        atomic_store(&in->running, 0);
        free(job);
        free_run(run);
        return SIM_ERR_MEMORY;
    }
    in->async_started = 1;
    return 0;
}

int rkllm_abort(LLMHandle handle) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    if (atomic_load(&in->running)) atomic_store(&in->abort_requested, 1);
    return 0;
}

/* 1.2.x: 0 while a task is running, non-zero otherwise; 1.3.0 flipped it: 1 while running. */
int rkllm_is_running(LLMHandle handle) {
    sim_instance* in = handle;
    int running = in != NULL && atomic_load(&in->running);
#ifdef SIM_ABI_1_3
    return running ? 1 : 0;
#else
    return running ? 0 : 1;
#endif
}

int rkllm_clear_kv_cache(LLMHandle handle, int keep_system_prompt, int* start_pos, int* end_pos) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    int status = 0;
    pthread_mutex_lock(&in->lock);
    int paused = in->paused.len > 0;
    if (atomic_load(&in->running)) {
        status = SIM_ERR_BUSY;
    } else if (start_pos == NULL || end_pos == NULL) {
        in->kv.len = keep_system_prompt ? in->system_tokens : 0;
        if (!keep_system_prompt) in->system_tokens = 0;
        in->turn = 0;
        in->paused.len = 0;
    } else if (!paused || in->paused_keep_history) {
        status = SIM_ERR_STATE; /* ranges: only in a paused generation without history */
    } else {
        for (int b = 0; b < in->n_batch && status == 0; b++) {
            if (start_pos[b] < 0 || start_pos[b] > end_pos[b] || (size_t)end_pos[b] > in->kv.len) status = SIM_ERR_ARGUMENT;
        }
        /* One cache serves every batch here: the first batch's range is cleared. */
        if (status == 0) sim_ints_erase(&in->kv, (size_t)start_pos[0], (size_t)end_pos[0]);
    }
    pthread_mutex_unlock(&in->lock);
    return status;
}

int rkllm_get_kv_cache_size(LLMHandle handle, int* cache_sizes) {
    sim_instance* in = handle;
    if (in == NULL || cache_sizes == NULL) return SIM_ERR_ARGUMENT;
    pthread_mutex_lock(&in->lock);
    for (int b = 0; b < in->n_batch; b++) cache_sizes[b] = (int)in->kv.len;
    pthread_mutex_unlock(&in->lock);
    return 0;
}

int rkllm_set_chat_template(LLMHandle handle, const char* system_prompt, const char* prompt_prefix, const char* prompt_postfix) {
    sim_instance* in = handle;
    if (in == NULL) return SIM_ERR_ARGUMENT;
    pthread_mutex_lock(&in->lock);
    replace_string(&in->system_prompt, system_prompt);
    replace_string(&in->prompt_prefix, prompt_prefix);
    replace_string(&in->prompt_postfix, prompt_postfix);
    pthread_mutex_unlock(&in->lock);
    return 0;
}

/* The "name" values of a JSON array of tool definitions, '\n'-separated; NULL if it is no array. */
static char* tool_names(const char* json) {
    while (*json == ' ' || *json == '\n' || *json == '\t' || *json == '\r') json++;
    if (*json != '[' || strlen(json) > SIM_MAX_TOOLS_BYTES) return NULL;
    sim_str names = {0};
    for (const char* p = json; (p = strstr(p, "\"name\"")) != NULL;) {
        p += 6;
        while (*p == ' ' || *p == ':') p++;
        if (*p != '"') continue;
        const char* end = strchr(++p, '"');
        if (end == NULL) break;
        if ((names.len && sim_str_puts(&names, "\n") != 0) || sim_str_append(&names, p, (size_t)(end - p)) != 0) {
            sim_str_free(&names);
            return NULL;
        }
        p = end + 1;
    }
    return names.data ? names.data : strdup("");
}

int rkllm_set_function_tools(LLMHandle handle, const char* system_prompt, const char* tools, const char* tool_response_str) {
    sim_instance* in = handle;
    if (in == NULL || tools == NULL) return SIM_ERR_ARGUMENT;
    (void)tool_response_str; /* the tag of tool results: the simulated replies do not need it */
    char* names = tool_names(tools);
    if (names == NULL) return SIM_ERR_ARGUMENT;
    pthread_mutex_lock(&in->lock);
    free(in->tool_names);
    in->tool_names = names;
    if (system_prompt && *system_prompt) replace_string(&in->system_prompt, system_prompt);
    pthread_mutex_unlock(&in->lock);
    return 0;
}

int rkllm_set_cross_attn_params(LLMHandle handle, RKLLMCrossAttnParam* params) {
    sim_instance* in = handle;
    if (in == NULL || params == NULL) return SIM_ERR_ARGUMENT;
    if (!in->use_cross_attn) return SIM_ERR_STATE;
    if (params->num_tokens <= 0 || params->encoder_k_cache == NULL || params->encoder_v_cache == NULL
        || params->encoder_mask == NULL || params->encoder_pos == NULL) return SIM_ERR_ARGUMENT;
    pthread_mutex_lock(&in->lock);
    in->cross_attn_tokens = params->num_tokens;
    pthread_mutex_unlock(&in->lock);
    return 0;
}
