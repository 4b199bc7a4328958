#!/usr/bin/env bash
# Writes docs/API.md from the rpc.discover of a daemon on the simulated runtimes (the newest RKLLM
# ABI's), built in debug.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build > /dev/null
bin="$(swift build --show-bin-path)"
directory="$(mktemp -d /tmp/rkllm-api-XXXXXX)"
trap 'kill "$daemon" 2> /dev/null; wait "$daemon" 2> /dev/null; rm -rf "$directory"' EXIT
RKLLM_RUNTIME_LIB="$bin/librkllmrt_sim-1.3.so" RKNN_RUNTIME_LIB="$bin/librknnrt_sim.so" \
    "$bin/rkllm-server" --socket "$directory/sock" --log-level 3 &
daemon=$!
for _ in $(seq 600); do [ -S "$directory/sock" ] && break; sleep 0.1; done
python3 scripts/api-doc.py "$directory/sock" > docs/API.md
echo "docs/API.md written"
