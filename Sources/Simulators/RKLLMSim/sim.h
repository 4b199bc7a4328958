/* Internal declarations of the simulated RKLLM runtime (librkllmrt_sim.so). The behaviour it
 * simulates is documented in docs/SIMULATED_RUNTIMES.md; this header only ties its files together. */
#ifndef RKLLM_SIM_H
#define RKLLM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sim_support.h"

/* Only the rkllm_* functions are exported: the library shows exactly the vendor ABI. */
#pragma GCC visibility push(hidden)

/* MARK: models and the tokenizer */

enum { SIM_TOKEN_PAD = 0, SIM_TOKEN_BOS = 1, SIM_TOKEN_EOS = 2, SIM_TOKEN_FIRST_BYTE = 3, SIM_TOKEN_FIRST_WORD = 259 };

typedef struct {
    char* name;
    char* greeting;
    char* system_prompt;
    char* prompt_prefix;
    char* prompt_postfix;
    char** words;          /* vocabulary words: each gives the tokens "word" and " word" */
    size_t word_count;
    int embd_size;
    int load_ms;
    int memory_mb;
    /* faults the model file asks for (0 = none), as the environment's RKLLM_SIM_* ones */
    int init_error, run_error, hang_at_token, crash_at_token;
} sim_model;

int sim_model_load(const char* path, sim_model* model);
void sim_model_free(sim_model* model);
int sim_vocab_size(const sim_model* model);
/* Appends the tokens of `text` (greedy longest match over the words, else single bytes). */
int sim_tokenize(const sim_model* model, const char* text, sim_ints* out);
/* The bytes of one token (empty for the special ones); NULL for an id outside the vocabulary. */
const char* sim_token_text(const sim_model* model, int32_t id, size_t* length, char byte_buffer[2]);

/* MARK: replies */

typedef struct {
    const char* prompt;        /* the user's text (for token input: the decoded ids) */
    const char* role;          /* NULL = "user" */
    int enable_thinking;
    const char* lora_tag;      /* NULL = no adapter */
    float lora_scale;
    int top_k;                 /* sampling: greedy when top_k is 1 or the temperature 0 */
    float temperature;
    const char* tool_names;    /* names of the function tools, '\n'-separated; NULL = none */
    int turn;                  /* 1 for the first run of a conversation */
    size_t embedded_tokens;    /* > 0 for embedding input */
    size_t images, image_width, image_height; /* multimodal input */
} sim_reply_input;

/* The model's reply: see docs/SIMULATED_RUNTIMES.md for the exact rule. */
int sim_reply(const sim_model* model, const sim_reply_input* input, sim_str* out);

#pragma GCC visibility pop

#endif
