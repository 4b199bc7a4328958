/* What the fixture uses without including it, as the vendor headers do. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
