/* Types the vendor's headers use without including them (see README: SDK upgrades). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
