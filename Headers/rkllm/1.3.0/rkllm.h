/*
 * rkllm.h - declarations of the RKLLM runtime ABI (librkllmrt.so 1.3.0).
 * Written by the rkllm-server project from the ABI facts; the vendor's own rkllm.h
 * may replace this file on an SDK upgrade.
 */
#ifndef _RKLLM_H_
#define _RKLLM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CPU masks for RKLLMExtendParam.enabled_cpus_mask. */
#define CPU0 (1 << 0)
#define CPU1 (1 << 1)
#define CPU2 (1 << 2)
#define CPU3 (1 << 3)
#define CPU4 (1 << 4)
#define CPU5 (1 << 5)
#define CPU6 (1 << 6)
#define CPU7 (1 << 7)

/** Opaque handle of one loaded model instance. */
typedef void* LLMHandle;

/** State passed with every result callback. */
typedef enum {
    RKLLM_RUN_NORMAL  = 0, /* a token */
    RKLLM_RUN_WAITING = 1, /* a character is still incomplete: nothing to show yet (empty text) */
    RKLLM_RUN_FINISH  = 2,
    RKLLM_RUN_ERROR   = 3
} LLMCallState;

typedef enum {
    RKLLM_INPUT_PROMPT     = 0,
    RKLLM_INPUT_TOKEN      = 1,
    RKLLM_INPUT_EMBED      = 2,
    RKLLM_INPUT_MULTIMODAL = 3
} RKLLMInputType;

typedef enum {
    RKLLM_INFER_GENERATE              = 0,
    RKLLM_INFER_GET_LAST_HIDDEN_LAYER = 1,
    RKLLM_INFER_GET_LOGITS            = 2
} RKLLMInferMode;

typedef struct {
    int32_t  base_domain_id;
    int8_t   embed_flash;
    int8_t   enabled_cpus_num;
    uint32_t enabled_cpus_mask;
    uint8_t  n_batch;        /* batched inference when > 1, default 1 */
    int8_t   use_cross_attn;
    uint8_t  reserved[104];
} RKLLMExtendParam;

typedef struct {
    const char* model_path;
    int32_t max_context_len;
    int32_t max_new_tokens;
    int32_t top_k;
    int32_t n_keep;          /* KV entries kept at the start when the context window shifts */
    float   top_p;
    float   temperature;
    float   repeat_penalty;
    float   frequency_penalty;
    float   presence_penalty;
    int32_t mirostat;
    float   mirostat_tau;
    float   mirostat_eta;
    bool    skip_special_token;
    bool    ignore_eos_token;  /* keep generating past the end-of-sequence token */
    bool    is_async;
    RKLLMExtendParam extend_param;
} RKLLMParam;

/** Sampling for one run (RKLLMInferParam.sampling_params): overrides the init-time values. */
typedef struct {
    int32_t top_k;
    float   top_p;
    float   temperature;
    float   repeat_penalty;
    float   frequency_penalty;
    float   presence_penalty;
    int32_t mirostat;
    float   mirostat_tau;
    float   mirostat_eta;
} RKLLMSamplingParam;

typedef struct {
    const char* lora_adapter_path;
    const char* lora_adapter_name;
    float scale;
} RKLLMLoraAdapter;

typedef struct {
    float* embed;            /* n_tokens x embedding size */
    size_t n_tokens;
} RKLLMEmbedInput;

typedef struct {
    int32_t* input_ids;
    size_t   n_tokens;
} RKLLMTokenInput;

typedef struct {
    char* prompt;
    struct {
        float* image_embed;      /* n_image x n_image_tokens x embedding size */
        size_t n_image_tokens;
        size_t n_image;
        const char* image_start; /* the tags that mark an image in the prompt */
        const char* image_end;
        const char* image_content;
        size_t image_width;
        size_t image_height;
    } image;
    struct {
        float* video_embed;      /* n_video x n_frame_per_video x n_frame_tokens x embedding size */
        size_t n_frame_tokens;
        size_t n_frame_per_video;
        size_t n_video;
        const char* video_start;
        const char* video_end;
        const char* video_content;
        size_t frame_width;
        size_t frame_height;
    } video;
} RKLLMMultiModalInput;

typedef struct {
    const char* role;        /* "user", or "tool" for a function result */
    bool enable_thinking;
    RKLLMInputType input_type;
    union {
        const char* prompt_input;
        RKLLMEmbedInput embed_input;
        RKLLMTokenInput token_input;
        RKLLMMultiModalInput multimodal_input;
    };
} RKLLMInput;

typedef struct {
    const char* lora_adapter_name;
} RKLLMLoraParam;

typedef struct {
    int save_prompt_cache;   /* 1 = save */
    const char* prompt_cache_path;
} RKLLMPromptCacheParam;

typedef struct {
    float*   encoder_k_cache; /* [layers][tokens][kv_heads][head_dim] */
    float*   encoder_v_cache; /* [layers][kv_heads][head_dim][tokens] */
    float*   encoder_mask;    /* [tokens] */
    int32_t* encoder_pos;     /* [tokens] */
    int      num_tokens;
} RKLLMCrossAttnParam;

typedef struct {
    RKLLMInferMode mode;
    RKLLMLoraParam* lora_params;               /* NULL = none */
    RKLLMPromptCacheParam* prompt_cache_params; /* NULL = none */
    RKLLMSamplingParam* sampling_params;       /* NULL = the init-time sampling */
    int keep_history;                          /* 1 = keep the conversation in the KV cache */
    int32_t max_new_tokens;                    /* this run's limit; <= 0: the init value */
} RKLLMInferParam;

typedef struct {
    const float* hidden_states; /* num_tokens x embd_size */
    int embd_size;
    int num_tokens;
} RKLLMResultLastHiddenLayer;

typedef struct {
    const float* logits;        /* num_tokens x vocab_size */
    int vocab_size;
    int num_tokens;
} RKLLMResultLogits;

typedef struct {
    float prefill_time_ms;
    int   prefill_tokens;
    float generate_time_ms;
    int   generate_tokens;
    float memory_usage_mb;      /* peak resident */
} RKLLMPerfStat;

typedef struct {
    const char* text;
    int32_t token_id;
    RKLLMResultLastHiddenLayer last_hidden_layer;
    RKLLMResultLogits logits;
    RKLLMPerfStat perf;
} RKLLMResult;

/** Return 0 to continue, 1 to pause the generation, 2 to have the runtime release the current
    output buffer now (hidden-layer and logits modes, whose buffers can be large). */
typedef int (*LLMResultCallback)(RKLLMResult* result, void* userdata, LLMCallState state);

/** Computes the embeddings of `num_tokens` tokens into `embed` (`len` bytes); 0 = success. Only for
    models without an embedding layer of their own. */
typedef int (*LLMGetEmbedCallback)(void* userdata, int32_t* tokens, uint64_t num_tokens, void* embed, uint64_t len);

/** Tokenizes `text` into at most `n_tokens_max` ids; returns their count, or a negative error. Only
    for models without a tokenizer of their own. */
typedef int (*LLMTokenizerCallback)(void* userdata, const char* text, int32_t text_len, int32_t* tokens,
                                    int32_t n_tokens_max);

/** The callbacks of an instance, each with its userdata (rkllm_init). */
typedef struct {
    LLMResultCallback result_callback;
    void* result_userdata;             /* a run's non-NULL userdata wins */
    LLMTokenizerCallback tokenizer_callback; /* NULL: the model's own tokenizer */
    void* tokenizer_userdata;
    LLMGetEmbedCallback embed_callback;      /* NULL: the model's own embedding layer */
    void* embed_userdata;
} RKLLMCallback;

RKLLMParam rkllm_createDefaultParam(void);
int rkllm_init(LLMHandle* handle, RKLLMParam* param, RKLLMCallback* callback);
int rkllm_load_lora(LLMHandle handle, RKLLMLoraAdapter* lora_adapter);
int rkllm_load_prompt_cache(LLMHandle handle, const char* prompt_cache_path);
int rkllm_release_prompt_cache(LLMHandle handle);
int rkllm_destroy(LLMHandle handle);
int rkllm_run(LLMHandle handle, RKLLMInput* rkllm_input, RKLLMInferParam* rkllm_infer_params, void* userdata);
int rkllm_run_async(LLMHandle handle, RKLLMInput* rkllm_input, RKLLMInferParam* rkllm_infer_params, void* userdata);
int rkllm_abort(LLMHandle handle);
/** 1 while a task is running, 0 otherwise (1.2.x returned the opposite). */
int rkllm_is_running(LLMHandle handle);
int rkllm_clear_kv_cache(LLMHandle handle, int keep_system_prompt, int* start_pos, int* end_pos);
int rkllm_get_kv_cache_size(LLMHandle handle, int* cache_sizes);
int rkllm_set_chat_template(LLMHandle handle, const char* system_prompt, const char* prompt_prefix, const char* prompt_postfix);
int rkllm_set_function_tools(LLMHandle handle, const char* system_prompt, const char* tools_json, const char* tool_response_str);
int rkllm_set_cross_attn_params(LLMHandle handle, RKLLMCrossAttnParam* cross_attn_params);

#ifdef __cplusplus
}
#endif

#endif /* _RKLLM_H_ */
