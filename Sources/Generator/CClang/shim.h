/* libclang's C API (Debian libclang-dev, LLVM 14); the include path comes from Package.swift. */
#include <clang-c/Index.h>
