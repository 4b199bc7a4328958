/* The simulated model's reply: a documented function of the model, the input and the settings
 * (docs/SIMULATED_RUNTIMES.md), so tests can predict every streamed byte. */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static size_t count_words(const char* text) {
    size_t count = 0;
    for (const char* p = text; *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t') p++;
        if (!*p) break;
        count++;
        while (*p && *p != ' ' && *p != '\n' && *p != '\t') p++;
    }
    return count;
}

/* The first tool name (from the '\n'-separated list) that occurs in the prompt, or NULL. */
static const char* mentioned_tool(const char* names, const char* prompt, size_t* length) {
    for (const char* name = names; name && *name;) {
        const char* end = strchr(name, '\n');
        size_t n = end ? (size_t)(end - name) : strlen(name);
        for (const char* p = prompt; n > 0 && *p; p++) {
            if (strncmp(p, name, n) == 0) {
                *length = n;
                return name;
            }
        }
        name = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Appends the prompt's words, last first, each preceded by a space. */
static int append_reversed_words(sim_str* out, const char* text) {
    const char* end = text + strlen(text);
    while (end > text) {
        while (end > text && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t')) end--;
        const char* start = end;
        while (start > text && start[-1] != ' ' && start[-1] != '\n' && start[-1] != '\t') start--;
        if (start < end && (sim_str_puts(out, " ") != 0 || sim_str_append(out, start, (size_t)(end - start)) != 0)) return -1;
        end = start;
    }
    return 0;
}

int sim_reply(const sim_model* model, const sim_reply_input* input, sim_str* out) {
    char line[256];
    int status = 0;
    const char* prompt = input->prompt ? input->prompt : "";
    if (input->enable_thinking) {
        snprintf(line, sizeof line, "<think>\nThe message has %zu words.\n</think>\n\n", count_words(prompt));
        status |= sim_str_puts(out, line);
    }
    if (input->lora_tag) {
        snprintf(line, sizeof line, "[%s x%.2f] ", input->lora_tag, (double)input->lora_scale);
        status |= sim_str_puts(out, line);
    }
    if (input->top_k != 1 && input->temperature > 0) {
        snprintf(line, sizeof line, "[sampled top_k=%d T=%.2f] ", input->top_k, (double)input->temperature);
        status |= sim_str_puts(out, line);
    }
    size_t tool_length = 0;
    const char* tool = NULL;
    if (input->role && strcmp(input->role, "tool") == 0) {
        status |= sim_str_puts(out, "Tool result received: ");
        status |= sim_str_puts(out, prompt);
        status |= sim_str_puts(out, ".");
    } else if ((tool = mentioned_tool(input->tool_names, prompt, &tool_length)) != NULL) {
        status |= sim_str_puts(out, "<tool_call>\n{\"name\": \"");
        status |= sim_str_append(out, tool, tool_length);
        status |= sim_str_puts(out, "\", \"arguments\": {}}\n</tool_call>");
    } else {
        if (input->images > 0) {
            snprintf(line, sizeof line, "I see %zu image(s) of %zux%zu. ", input->images, input->image_width, input->image_height);
            status |= sim_str_puts(out, line);
        }
        status |= sim_str_puts(out, model->greeting);
        if (input->turn > 1) {
            snprintf(line, sizeof line, " (turn %d)", input->turn);
            status |= sim_str_puts(out, line);
        }
        if (input->embedded_tokens > 0) {
            snprintf(line, sizeof line, ": I read %zu embedded tokens.", input->embedded_tokens);
            status |= sim_str_puts(out, line);
        } else {
            status |= sim_str_puts(out, ":");
            status |= append_reversed_words(out, prompt);
            status |= sim_str_puts(out, ".");
        }
    }
    return status ? -1 : 0;
}
