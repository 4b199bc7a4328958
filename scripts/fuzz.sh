#!/usr/bin/env bash
# libFuzzer over framing + JSON + JSON-RPC parsing (Sources/rkllm-fuzz), for FUZZ_SECONDS (default 60).
# Any crash, sanitizer report or failed property fails the run; the crashing input is left in .build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build --product rkllm-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING
mkdir -p .build-fuzz/corpus
cd .build-fuzz
./debug/rkllm-fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=8192 -print_final_stats=1 corpus
