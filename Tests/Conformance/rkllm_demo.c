/* Calls librkllmrt the way the vendor's published programs do (rknn-llm 1.2.x: the API demo
 * llm_demo.cpp, the multimodal demo main.cpp, the Flask and Gradio servers), against the model
 * given as argv[1], and checks what those programs rely on. Linked with -lrkllmrt like them. */
#include "conformance.h"
#include "rkllm.h"

#include <pthread.h>

static const char* const demo_reply = "Hello from the demo model, ça va? 你好: world hello.";

/* What one run's callbacks brought. */
typedef struct {
    LLMHandle handle;
    char text[4096];
    int normal, waiting, finished, errors, after_finish;
    int waiting_with_text, normal_not_whole, running_in_callback;
    int hidden_tokens, hidden_width, logits_width;
    int abort_at;           /* > 0: rkllm_abort from the callback of this NORMAL token */
    RKLLMPerfStat perf;
} run_record;

static run_record record;

static void reset(LLMHandle handle) {
    memset(&record, 0, sizeof record);
    record.handle = handle;
}

/* As the vendor's callbacks: print NORMAL text, nothing on WAITING, a newline at FINISH. */
static int callback(RKLLMResult* result, void* userdata, LLMCallState state) {
    (void)userdata;
    if (record.finished) record.after_finish++;
    if (state == RKLLM_RUN_FINISH) {
        record.finished++;
        record.perf = result->perf;
    } else if (state == RKLLM_RUN_ERROR) {
        record.errors++;
    } else if (state == RKLLM_RUN_WAITING) {
        record.waiting++;
        if (result->text != NULL && result->text[0] != 0) record.waiting_with_text++;
    } else if (state == RKLLM_RUN_NORMAL) {
        record.normal++;
        if (rkllm_is_running(record.handle) == 0) record.running_in_callback++;
        if (result->last_hidden_layer.embd_size != 0 && result->last_hidden_layer.num_tokens != 0) {
            record.hidden_tokens = result->last_hidden_layer.num_tokens;
            record.hidden_width = result->last_hidden_layer.embd_size;
        }
        if (result->logits.vocab_size != 0) record.logits_width = result->logits.vocab_size;
        /* llm_demo.cpp prints it as it is; the Flask server decodes each one strictly */
        if (result->text == NULL || !utf8_whole(result->text)) record.normal_not_whole++;
        else strncat(record.text, result->text, sizeof record.text - strlen(record.text) - 1);
        if (record.normal == record.abort_at) rkllm_abort(record.handle);
    }
    return 0;
}

static int run_prompt(LLMHandle handle, const char* prompt, RKLLMInferParam* infer) {
    RKLLMInput input;
    memset(&input, 0, sizeof input);
    input.input_type = RKLLM_INPUT_PROMPT;
    input.role = "user";
    input.prompt_input = (char*)prompt;
    reset(handle);
    return rkllm_run(handle, &input, infer, NULL);
}

static void check_finished_run(const char* what) {
    CHECK(record.finished == 1 && record.errors == 0 && record.after_finish == 0, "%s: one FINISH, last (%d, %d errors)", what, record.finished, record.errors);
    CHECK(record.normal_not_whole == 0, "%s: every NORMAL text is whole UTF-8 (%d were not)", what, record.normal_not_whole);
    CHECK(record.waiting_with_text == 0, "%s: WAITING shows nothing (%d had text)", what, record.waiting_with_text);
    CHECK(record.running_in_callback == record.normal, "%s: rkllm_is_running is 0 during the run", what);
}

/* llm_demo.cpp: the default parameters with its own settings, a chat, "clear". */
static void api_demo(const char* model) {
    RKLLMParam param = rkllm_createDefaultParam();
    param.model_path = model;
    param.top_k = 1;
    param.top_p = 0.95f;
    param.temperature = 0.8f;
    param.repeat_penalty = 1.1f;
    param.frequency_penalty = 0.0f;
    param.presence_penalty = 0.0f;
    param.max_new_tokens = 256;
    param.max_context_len = 1024;
    param.skip_special_token = true;
    param.extend_param.base_domain_id = 0;
    param.extend_param.embed_flash = 1;
    LLMHandle handle = NULL;
    CHECK(rkllm_init(&handle, &param, callback) == 0, "rkllm_init with the demo's parameters");
    if (handle == NULL) return;
    RKLLMInferParam infer;
    memset(&infer, 0, sizeof infer);
    infer.mode = RKLLM_INFER_GENERATE;
    infer.keep_history = 0;
    CHECK(run_prompt(handle, "hello world", &infer) == 0, "rkllm_run");
    check_finished_run("api demo");
    CHECK(strcmp(record.text, demo_reply) == 0, "the NORMAL texts make the reply: '%s'", record.text);
    CHECK(record.waiting > 0, "the reply's multi-byte characters span tokens: WAITING callbacks came");
    CHECK(record.perf.generate_tokens == record.normal + record.waiting, "perf counts the generated tokens");
    CHECK(rkllm_is_running(handle) != 0, "not running once rkllm_run returned");
    CHECK(rkllm_clear_kv_cache(handle, 1, NULL, NULL) == 0, "clear (keep the system prompt)");

    /* GET_LAST_HIDDEN_LAYER: the demo reads the arrays from a NORMAL callback and prints its text. */
    infer.mode = RKLLM_INFER_GET_LAST_HIDDEN_LAYER;
    CHECK(run_prompt(handle, "hello world", &infer) == 0, "hidden-layer run");
    check_finished_run("hidden layer");
    CHECK(record.hidden_tokens > 0 && record.hidden_width == 32, "hidden states: %d tokens x %d", record.hidden_tokens, record.hidden_width);
    infer.mode = RKLLM_INFER_GET_LOGITS;
    CHECK(run_prompt(handle, "hello world", &infer) == 0, "logits run");
    check_finished_run("logits");
    CHECK(record.logits_width > 0, "logits over the vocabulary");

    /* Stopping from the callback (the servers' abort, made deterministic): the run still finishes. */
    infer.mode = RKLLM_INFER_GENERATE;
    reset(handle);
    RKLLMInput input;
    memset(&input, 0, sizeof input);
    input.input_type = RKLLM_INPUT_PROMPT;
    input.role = "user";
    input.prompt_input = "hello world";
    record.abort_at = 3;
    CHECK(rkllm_run(handle, &input, &infer, NULL) == 0, "an aborted run returns 0");
    CHECK(record.normal == 3 && record.finished == 1, "stopped after the third token (%d), then FINISH (%d)", record.normal, record.finished);
    CHECK(rkllm_destroy(handle) == 0, "rkllm_destroy");
}

static RKLLMInput server_input;
static RKLLMInferParam server_infer;
static LLMHandle server_handle;
static int server_status;

static void* server_thread(void* argument) {
    (void)argument;
    server_status = rkllm_run(server_handle, &server_input, &server_infer, NULL);
    return NULL;
}

/* flask_server.py / gradio_server.py: zeroed parameters (no createDefaultParam) with n_keep -1,
 * runs on a thread of their own, function tools, tool results, a long conversation. */
static void server_demo(const char* model) {
    RKLLMParam param;
    memset(&param, 0, sizeof param);
    param.model_path = model;
    param.max_context_len = 4096;
    param.max_new_tokens = 4096;
    param.skip_special_token = true;
    param.n_keep = -1;
    param.top_k = 1;
    param.top_p = 0.9f;
    param.temperature = 0.8f;
    param.repeat_penalty = 1.1f;
    param.mirostat = 0;
    param.mirostat_tau = 5.0f;
    param.mirostat_eta = 0.1f;
    param.is_async = false;
    param.img_start = "";
    param.img_end = "";
    param.img_content = "";
    param.extend_param.base_domain_id = 0;
    param.extend_param.embed_flash = 1;
    param.extend_param.n_batch = 1;
    param.extend_param.use_cross_attn = 0;
    param.extend_param.enabled_cpus_num = 4;
    param.extend_param.enabled_cpus_mask = CPU4 | CPU5 | CPU6 | CPU7;
    CHECK(rkllm_init(&server_handle, &param, callback) == 0, "rkllm_init with n_keep = -1 (the servers' value)");
    if (server_handle == NULL) return;

    memset(&server_infer, 0, sizeof server_infer);
    server_infer.mode = RKLLM_INFER_GENERATE;
    memset(&server_input, 0, sizeof server_input);
    server_input.role = "user";
    server_input.enable_thinking = false;
    server_input.input_type = RKLLM_INPUT_PROMPT;
    server_input.prompt_input = "hello world";
    reset(server_handle);
    pthread_t thread;
    pthread_create(&thread, NULL, server_thread, NULL);
    pthread_join(thread, NULL);
    CHECK(server_status == 0, "a run on another thread");
    check_finished_run("server");
    CHECK(strcmp(record.text, demo_reply) == 0, "the reply: '%s'", record.text);

    const char* tools = "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {}}}]";
    CHECK(rkllm_set_function_tools(server_handle, "You are a helpful assistant.", tools, "tool_response") == 0, "set_function_tools");
    CHECK(run_prompt(server_handle, "what is the get_weather in Paris", &server_infer) == 0, "a run that calls a tool");
    check_finished_run("tool call");
    CHECK(strstr(record.text, "<tool_call>") != NULL && strstr(record.text, "get_weather") != NULL, "a tool call: '%s'", record.text);
    server_input.role = "tool";
    server_input.prompt_input = "[\"sunny\"]";
    reset(server_handle);
    CHECK(rkllm_run(server_handle, &server_input, &server_infer, NULL) == 0, "a tool result (role tool)");
    check_finished_run("tool result");

    /* A long conversation in a small window with n_keep -1: the window shifts, runs go on. */
    CHECK(rkllm_destroy(server_handle) == 0, "destroy");
    param.max_context_len = 96;
    CHECK(rkllm_init(&server_handle, &param, callback) == 0, "a small window with n_keep = -1");
    server_infer.keep_history = 1;
    for (int turn = 0; turn < 6; turn++) {
        CHECK(run_prompt(server_handle, "hello world", &server_infer) == 0, "turn %d in a shifting window", turn + 1);
        check_finished_run("shifting window");
    }
    int sizes[1] = {0};
    CHECK(rkllm_get_kv_cache_size(server_handle, sizes) == 0 && sizes[0] > 0 && sizes[0] <= 96, "the cache stays in the window: %d", sizes[0]);
    CHECK(rkllm_destroy(server_handle) == 0, "destroy");
}

/* The multimodal demo: image markers in the parameters, a second NPU domain, an image's embedding. */
static void multimodal_demo(const char* model) {
    RKLLMParam param = rkllm_createDefaultParam();
    param.model_path = model;
    param.top_k = 1;
    param.max_new_tokens = 128;
    param.max_context_len = 2048;
    param.skip_special_token = true;
    param.extend_param.base_domain_id = 1;
    param.img_start = "<|vision_start|>";
    param.img_end = "<|vision_end|>";
    param.img_content = "<|image_pad|>";
    LLMHandle handle = NULL;
    CHECK(rkllm_init(&handle, &param, callback) == 0, "rkllm_init for the multimodal demo");
    if (handle == NULL) return;
    enum { TOKENS = 196, WIDTH = 32 };
    static float image_embed[TOKENS * WIDTH];
    for (int i = 0; i < TOKENS * WIDTH; i++) image_embed[i] = (float)(i % 7) / 7.0f;
    RKLLMInput input;
    memset(&input, 0, sizeof input);
    input.input_type = RKLLM_INPUT_MULTIMODAL;
    input.role = "user";
    input.multimodal_input.prompt = "<image>What is in the image?";
    input.multimodal_input.image_embed = image_embed;
    input.multimodal_input.n_image_tokens = TOKENS;
    input.multimodal_input.n_image = 1;
    input.multimodal_input.image_height = 392;
    input.multimodal_input.image_width = 392;
    RKLLMInferParam infer;
    memset(&infer, 0, sizeof infer);
    reset(handle);
    CHECK(rkllm_run(handle, &input, &infer, NULL) == 0, "a multimodal run");
    check_finished_run("multimodal");
    CHECK(strncmp(record.text, "I see 1 image(s) of 392x392. Hello from the demo model", 54) == 0, "the reply sees the image: '%s'", record.text);
    CHECK(rkllm_clear_kv_cache(handle, 1, NULL, NULL) == 0, "clear");
    CHECK(rkllm_destroy(handle) == 0, "destroy");
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.rkllm\n", argv[0]);
        return 2;
    }
    api_demo(argv[1]);
    server_demo(argv[1]);
    multimodal_demo(argv[1]);
    return conformance_report("rkllm_demo");
}
