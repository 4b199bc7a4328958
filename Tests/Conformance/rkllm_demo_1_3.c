/* Calls librkllmrt 1.3.0 the way a program written for that version does (the callback struct of
 * rkllm_init, per-run sampling and limits, ignore_eos_token, image and video input, is_running's 1.3
 * meaning), against the model given as argv[1]; compiled against Headers/rkllm/1.3.0 and linked
 * with -lrkllmrt. */
#include "conformance.h"
#include "rkllm.h"

#include <pthread.h>
#include <unistd.h>

typedef struct {
    LLMHandle handle;
    const char* tag;        /* the userdata this callback got */
    int normal, waiting, finished, errors, running_in_callback;
    int answer_arrays;      /* what the callback returns for a hidden-layer or logits result */
    float memory_mb;        /* the finish's perf.memory_usage_mb */
    int prefill_tokens;
} run_record;

static run_record record;

static int callback(RKLLMResult* result, void* userdata, LLMCallState state) {
    record.tag = userdata;
    if (state == RKLLM_RUN_FINISH) {
        record.finished++;
        record.memory_mb = result->perf.memory_usage_mb;
        record.prefill_tokens = result->perf.prefill_tokens;
    }
    else if (state == RKLLM_RUN_ERROR) record.errors++;
    else if (state == RKLLM_RUN_WAITING) record.waiting++; /* a token whose character is incomplete */
    else if (state == RKLLM_RUN_NORMAL) {
        record.normal++;
        if (rkllm_is_running(record.handle) == 1) record.running_in_callback++;
        if (result->last_hidden_layer.hidden_states != NULL || result->logits.logits != NULL) return record.answer_arrays;
    }
    return 0;
}

static int run(LLMHandle handle, RKLLMInput* input, RKLLMInferParam* infer, void* userdata) {
    int answer_arrays = record.answer_arrays;
    memset(&record, 0, sizeof record);
    record.handle = handle;
    record.answer_arrays = answer_arrays;
    return rkllm_run(handle, input, infer, userdata);
}

static RKLLMInput prompt(const char* text) {
    RKLLMInput input;
    memset(&input, 0, sizeof input);
    input.input_type = RKLLM_INPUT_PROMPT;
    input.prompt_input = text;
    return input;
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    RKLLMParam param = rkllm_createDefaultParam();
    param.model_path = argv[1];
    param.max_new_tokens = 4;
    CHECK(!param.ignore_eos_token, "ignore_eos_token is off by default");

    /* The callback struct: its result_userdata serves runs that pass none. */
    RKLLMCallback callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.result_callback = callback;
    callbacks.result_userdata = (void*)"instance";
    LLMHandle handle = NULL;
    CHECK(rkllm_init(&handle, &param, &callbacks) == 0 && handle != NULL, "init with a callback struct");
    if (handle == NULL) return conformance_report("rkllm_demo_1_3");
    CHECK(rkllm_is_running(handle) == 0, "1.3.0: 0 when idle");

    RKLLMInput input = prompt("hello world");
    RKLLMInferParam infer;
    memset(&infer, 0, sizeof infer);
    CHECK(run(handle, &input, &infer, NULL) == 0, "a run");
    CHECK(record.finished == 1 && record.errors == 0, "one finish");
    CHECK(record.normal == 4, "the init limit: %d tokens", record.normal);
    CHECK(record.tag != NULL && strcmp(record.tag, "instance") == 0, "no userdata: the struct's");
    CHECK(record.running_in_callback == record.normal, "1.3.0: 1 while running");

    /* Per-run limit and sampling; the run's userdata wins. */
    RKLLMSamplingParam sampling;
    memset(&sampling, 0, sizeof sampling);
    sampling.top_k = 1;
    sampling.temperature = 0.1f;
    infer.sampling_params = &sampling;
    infer.max_new_tokens = 2;
    CHECK(run(handle, &input, &infer, (void*)"run") == 0, "a run with its own limit");
    CHECK(record.normal == 2, "this run's limit: %d tokens", record.normal);
    CHECK(record.tag != NULL && strcmp(record.tag, "run") == 0, "the run's userdata wins");
    CHECK(rkllm_destroy(handle) == 0, "destroy");

    /* ignore_eos_token: the reply goes on past its end to the limit (40 tokens, some of them
       halves of a character: WAITING). */
    param.ignore_eos_token = true;
    param.max_new_tokens = 40;
    handle = NULL;
    CHECK(rkllm_init(&handle, &param, &callbacks) == 0, "init ignoring EOS");
    input = prompt("hi");
    memset(&infer, 0, sizeof infer);
    CHECK(run(handle, &input, &infer, NULL) == 0, "a run ignoring EOS");
    CHECK(record.normal + record.waiting == 40, "past the end: %d tokens", record.normal + record.waiting);

    /* Images and videos. */
    float embed[4 * 8];
    memset(embed, 0, sizeof embed);
    RKLLMInput mm;
    memset(&mm, 0, sizeof mm);
    mm.input_type = RKLLM_INPUT_MULTIMODAL;
    mm.multimodal_input.prompt = "<image>what is in the video?";
    mm.multimodal_input.video.video_embed = embed;
    mm.multimodal_input.video.n_video = 1;
    mm.multimodal_input.video.n_frame_per_video = 2;
    mm.multimodal_input.video.n_frame_tokens = 2;
    mm.multimodal_input.video.frame_width = 32;
    mm.multimodal_input.video.frame_height = 32;
    infer.max_new_tokens = 3;
    CHECK(run(handle, &mm, &infer, NULL) == 0 && record.finished == 1, "a video");
    mm.multimodal_input.video.video_embed = NULL;
    CHECK(run(handle, &mm, &infer, NULL) != 0, "a video without its embeddings is refused");
    mm.multimodal_input.video.n_video = 0;
    mm.multimodal_input.image.image_embed = embed;
    mm.multimodal_input.image.n_image = 1;
    mm.multimodal_input.image.n_image_tokens = 4;
    CHECK(run(handle, &mm, &infer, NULL) == 0 && record.finished == 1, "an image");

    /* The hidden states are held until the run ends unless the callback returns 2: then the
       finish's memory is the model's and the KV cache's alone (512 MB + a 64th per position). */
    input = prompt("hello");
    memset(&infer, 0, sizeof infer);
    infer.mode = RKLLM_INFER_GET_LAST_HIDDEN_LAYER;
    CHECK(run(handle, &input, &infer, NULL) == 0 && record.finished == 1, "a hidden-layer run");
    float held = record.memory_mb - (512.0f + (float)record.prefill_tokens / 64.0f);
    CHECK(held > 0, "the buffer held to the end: %f MB", (double)held);
    record.answer_arrays = 2;
    CHECK(run(handle, &input, &infer, NULL) == 0 && record.finished == 1, "a hidden-layer run releasing");
    held = record.memory_mb - (512.0f + (float)record.prefill_tokens / 64.0f);
    CHECK(held == 0, "released at once: %f MB held", (double)held);
    CHECK(rkllm_destroy(handle) == 0, "destroy");
    return conformance_report("rkllm_demo_1_3");
}
