#!/usr/bin/env bash
# Installs what the build needs when it is missing: Debian's libclang-dev (clang-c headers + libclang-14).
set -euo pipefail
if [ ! -f /usr/lib/llvm-14/include/clang-c/Index.h ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null
fi
