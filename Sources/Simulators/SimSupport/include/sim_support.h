/* Support shared by the simulated runtimes: growable buffers and the `key=value` file format of
 * their model, adapter and cache files. Linked into each runtime, exported by none. */
#ifndef SIM_SUPPORT_H
#define SIM_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

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

/* An integer setting from the environment; `fallback` when unset, empty or not a whole number. */
long sim_env_long(const char* name, long fallback);

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

#pragma GCC visibility pop

#endif
