/* Internal declarations of the simulated RKLLM runtime (librkllmrt_sim.so). The behaviour it
 * simulates is documented in docs/SIMULATED_RUNTIMES.md; this header only ties its files together. */
#ifndef RKLLM_SIM_H
#define RKLLM_SIM_H

#include <stddef.h>
#include <stdint.h>

/* Only the rkllm_* functions are exported: the library shows exactly the vendor ABI. */
#pragma GCC visibility push(hidden)

/* MARK: growable buffers (every one has a bound checked by its user) */

typedef struct { char* data; size_t len, cap; } sim_str;
typedef struct { int32_t* data; size_t len, cap; } sim_ints;

int sim_str_append(sim_str* s, const char* bytes, size_t n);
int sim_str_puts(sim_str* s, const char* text);
void sim_str_free(sim_str* s);
int sim_ints_push(sim_ints* v, int32_t value);
int sim_ints_append(sim_ints* v, const int32_t* values, size_t n);
void sim_ints_free(sim_ints* v);
/* Removes [start, end) (clamped). */
void sim_ints_erase(sim_ints* v, size_t start, size_t end);

/* FNV-1a 64 over bytes: the checksum of the project's model, adapter and cache files. */
uint64_t sim_fnv1a(const void* bytes, size_t n);

/* Reads a whole file (at most `limit` bytes); NULL when missing, unreadable or too large. */
char* sim_read_file(const char* path, size_t limit, size_t* length);

/* A file of the project's `key=value` formats: first line `<magic> 1`, last line
 * `checksum=<16 hex digits of FNV-1a 64 over every byte before that line>`. Values are unescaped
 * (\n, \t, \\). Returns 0, or -1 when the file is missing, -2 when it is malformed. */
typedef struct { char* key; char* value; } sim_entry;
typedef struct { sim_entry* entries; size_t count; } sim_kv_file;
int sim_kv_read(const char* path, const char* magic, sim_kv_file* out);
const char* sim_kv_get(const sim_kv_file* file, const char* key);
void sim_kv_free(sim_kv_file* file);
/* Writes the same format (values escaped), atomically (temporary file, then rename). */
int sim_kv_write(const char* path, const char* magic, const char* const* keys, const char* const* values, size_t count);

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
    const char* tool_names;    /* names of the function tools, '\n'-separated; NULL = none */
    int turn;                  /* 1 for the first run of a conversation */
    size_t embedded_tokens;    /* > 0 for embedding input */
    size_t images, image_width, image_height; /* multimodal input */
} sim_reply_input;

/* The model's reply: see docs/SIMULATED_RUNTIMES.md for the exact rule. */
int sim_reply(const sim_model* model, const sim_reply_input* input, sim_str* out);

#pragma GCC visibility pop

#endif
