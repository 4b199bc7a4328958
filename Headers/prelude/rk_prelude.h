/* Types the vendor's headers use without including them: the generator (HeaderImporter) and the
   module map both read this directory (see README: SDK upgrades). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
