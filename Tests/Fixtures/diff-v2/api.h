#include <stdint.h>
typedef enum { API_MODE_A = 0, API_MODE_B = 1, API_MODE_C = 2 } api_mode;
typedef void (*api_cb)(const char* text, void* userdata);
typedef struct { int32_t id; int32_t flags; float scale; } api_item;
int api_start(const char* name);
int api_stop(int32_t id);
int api_pause(int32_t id);
