#include <stdint.h>
typedef enum { API_MODE_A = 0, API_MODE_B = 1 } api_mode;
typedef int (*api_cb)(const char* text, void* userdata);
typedef struct { int32_t id; float scale; } api_item;
int api_start(const char* name);
int api_stop(int32_t id);
