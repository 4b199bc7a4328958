#!/usr/bin/env bash
# Both fuzz targets, FUZZ_SECONDS each (default 60): libFuzzer over framing + JSON + JSON-RPC parsing
# (Sources/Tools/rkllm-fuzz), then random parameters for every generated method against the simulated
# runtimes under AddressSanitizer with a bystander watching (Sources/Tools/rkllm-fuzz-methods; seed
# FUZZ_SEED, default 1, so a run can be repeated). Any crash, sanitizer report, failed property or
# harmed bystander fails the run; libFuzzer's crashing input is left in .build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
# Everything built here runs under AddressSanitizer, binding-gen in the build included.
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
swift build --product rkllm-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING
mkdir -p .build-fuzz/corpus
# Seeds (HTTP requests, JSON-RPC lines) start it off; what it finds goes to the corpus.
(cd .build-fuzz && ./debug/rkllm-fuzz -max_total_time="${FUZZ_SECONDS:-60}" -max_len=8192 -print_final_stats=1 corpus \
    ../Tests/Fixtures/fuzz-seeds)

swift build --sanitize=address --scratch-path .build-address
# The methods of each RKLLM ABI's table, half the time each.
for library in librkllmrt_sim.so librkllmrt_sim-1.3.so; do
    .build-address/debug/rkllm-fuzz-methods --seconds "$(( ${FUZZ_SECONDS:-60} / 2 ))" --seed "${FUZZ_SEED:-1}" \
        --rkllm-library "$library"
done
