/* Model files of the simulated RKLLM runtime, its tokenizer and its deterministic replies. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIM_MAX_WORDS = 4096, SIM_MAX_EMBD = 4096 };

static char* copy_or_empty(const char* text) { return strdup(text ? text : ""); }

static int parse_int(const char* text, int low, int high, int fallback, int* out) {
    if (text == NULL) { *out = fallback; return 0; }
    char* end;
    long value = strtol(text, &end, 10);
    if (*text == 0 || *end != 0 || value < low || value > high) return -1;
    *out = (int)value;
    return 0;
}

int sim_model_load(const char* path, sim_model* model) {
    *model = (sim_model){0};
    sim_kv_file file;
    int status = sim_kv_read(path, "rkllm-sim-model", &file);
    if (status != 0) return status;
    static const char* const known[] = {
        "name", "greeting", "system_prompt", "prompt_prefix", "prompt_postfix", "words", "embd_size",
        "load_ms", "memory_mb", "init_error", "run_error", "hang_at_token", "crash_at_token",
    };
    status = -2;
    for (size_t i = 0; i < file.count; i++) {
        int found = 0;
        for (size_t k = 0; k < sizeof known / sizeof *known; k++) found |= strcmp(file.entries[i].key, known[k]) == 0;
        if (!found) goto done;
    }
    if (sim_kv_get(&file, "name") == NULL || sim_kv_get(&file, "greeting") == NULL) goto done;
    model->name = copy_or_empty(sim_kv_get(&file, "name"));
    model->greeting = copy_or_empty(sim_kv_get(&file, "greeting"));
    model->system_prompt = copy_or_empty(sim_kv_get(&file, "system_prompt"));
    model->prompt_prefix = copy_or_empty(sim_kv_get(&file, "prompt_prefix"));
    model->prompt_postfix = copy_or_empty(sim_kv_get(&file, "prompt_postfix"));
    if (!model->name || !model->greeting || !model->system_prompt || !model->prompt_prefix || !model->prompt_postfix) goto done;
    if (parse_int(sim_kv_get(&file, "embd_size"), 1, SIM_MAX_EMBD, 16, &model->embd_size) != 0
        || parse_int(sim_kv_get(&file, "load_ms"), 0, 600000, 0, &model->load_ms) != 0
        || parse_int(sim_kv_get(&file, "memory_mb"), 0, 1 << 20, 64, &model->memory_mb) != 0
        || parse_int(sim_kv_get(&file, "init_error"), -1000, 1000, 0, &model->init_error) != 0
        || parse_int(sim_kv_get(&file, "run_error"), -1000, 1000, 0, &model->run_error) != 0
        || parse_int(sim_kv_get(&file, "hang_at_token"), 0, 1 << 30, 0, &model->hang_at_token) != 0
        || parse_int(sim_kv_get(&file, "crash_at_token"), 0, 1 << 30, 0, &model->crash_at_token) != 0) goto done;
    const char* words = sim_kv_get(&file, "words");
    if (words != NULL) {
        char* list = strdup(words);
        if (list == NULL) goto done;
        char* cursor = NULL;
        for (char* word = strtok_r(list, " ", &cursor); word; word = strtok_r(NULL, " ", &cursor)) {
            char** more = model->word_count < SIM_MAX_WORDS ? realloc(model->words, (model->word_count + 1) * sizeof *more) : NULL;
            /* Stored as " word": the word's two tokens are its text with and without the space. */
            char* spaced = more ? malloc(strlen(word) + 2) : NULL;
            if (spaced) {
                spaced[0] = ' ';
                strcpy(spaced + 1, word);
                more[model->word_count] = spaced + 1;
            }
            if (more == NULL || spaced == NULL) {
                if (more) model->words = more;
                free(list);
                goto done;
            }
            model->words = more;
            model->word_count++;
        }
        free(list);
    }
    status = 0;
done:
    sim_kv_free(&file);
    if (status != 0) sim_model_free(model);
    return status;
}

void sim_model_free(sim_model* model) {
    free(model->name);
    free(model->greeting);
    free(model->system_prompt);
    free(model->prompt_prefix);
    free(model->prompt_postfix);
    for (size_t i = 0; i < model->word_count; i++) free(model->words[i] - 1);
    free(model->words);
    *model = (sim_model){0};
}

int sim_vocab_size(const sim_model* model) { return SIM_TOKEN_FIRST_WORD + 2 * (int)model->word_count; }

int sim_tokenize(const sim_model* model, const char* text, sim_ints* out) {
    size_t length = strlen(text);
    for (size_t at = 0; at < length;) {
        int32_t best = SIM_TOKEN_FIRST_BYTE + (unsigned char)text[at];
        size_t best_length = 1;
        for (size_t w = 0; w < model->word_count; w++) {
            const char* word = model->words[w];
            size_t n = strlen(word);
            int spaced = text[at] == ' ';
            if (at + spaced + n <= length && n + spaced > best_length && memcmp(text + at + spaced, word, n) == 0) {
                best = SIM_TOKEN_FIRST_WORD + 2 * (int32_t)w + spaced;
                best_length = n + spaced;
            }
        }
        if (sim_ints_push(out, best) != 0) return -1;
        at += best_length;
    }
    return 0;
}

const char* sim_token_text(const sim_model* model, int32_t id, size_t* length, char byte_buffer[2]) {
    if (id < 0 || id >= sim_vocab_size(model)) return NULL;
    if (id < SIM_TOKEN_FIRST_BYTE) {
        *length = 0;
        return "";
    }
    if (id < SIM_TOKEN_FIRST_WORD) {
        byte_buffer[0] = (char)(id - SIM_TOKEN_FIRST_BYTE);
        byte_buffer[1] = 0;
        *length = 1;
        return byte_buffer;
    }
    const char* word = model->words[(id - SIM_TOKEN_FIRST_WORD) / 2];
    if ((id - SIM_TOKEN_FIRST_WORD) % 2 == 0) {
        *length = strlen(word);
        return word;
    }
    *length = strlen(word) + 1;
    return word - 1;
}
