#!/usr/bin/env bash
# Conformance: programs that call the simulated runtimes directly, written the way the vendor's
# published programs call the real ones (docs/SIMULATED_RUNTIMES.md, "What programs written for the
# vendor's library rely on"): C programs compiled against Headers/ and linked with -lrkllmrt /
# -lrknnrt like the vendor's, and Python ctypes clients (standard library only).
#
#   Tests/Conformance/run.sh BIN_DIR [address|thread]
#
# BIN_DIR holds the built simulated libraries and sim-model; with a sanitizer the C programs are
# built with it (the libraries were too) and the Python clients, which cannot load them, are left out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$1
sanitizer=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The libraries under the vendor's names, as the programs link them.
ln -s "$bin/librkllmrt_sim.so" "$work/librkllmrt.so"
ln -s "$bin/librknnrt_sim.so" "$work/librknnrt.so"
# The 1.3.0 build under the same name, for the program written for 1.3.0.
mkdir "$work/1.3"
ln -s "$bin/librkllmrt_sim-1.3.so" "$work/1.3/librkllmrt.so"
cp "$root/models/demo.rkllm" "$root/models/demo.rknn" "$root/models/demo-float.rknn" "$work/"
"$bin/sim-model" lora --tag adapter --out "$work/adapter.lora"
"$bin/sim-model" rknn --preset float --name two-inputs --input x0,FLOAT32,UNDEFINED,1x8 \
    --input x1,FLOAT32,UNDEFINED,1x8 --out "$work/two-inputs.rknn"
"$bin/sim-model" rknn --preset custom --name dual --custom "two inputs, two outputs of one custom operator" \
    --input x0,FLOAT32,UNDEFINED,1x8 --input x1,FLOAT32,UNDEFINED,1x8 \
    --output y0,FLOAT32,UNDEFINED,1x8,custom:cstDualResidual,0,0,1,0 \
    --output y1,FLOAT32,UNDEFINED,1x8,custom:cstDualResidual,0,0,1,0 \
    --op-attr cstDualResidual,alpha,0.5 --out "$work/dual.rknn"

# The toolchain's clang: its sanitizer runtimes match the libraries SwiftPM built.
cc=$(command -v clang || echo /opt/swift/usr/bin/clang)
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -I "$root/Headers/rknn" -L "$work" -Wl,-rpath,"$work")
libs=(-lm -lpthread)
if [ -n "$sanitizer" ]; then flags+=(-fsanitize="$sanitizer"); fi
if [ "$sanitizer" = thread ]; then
    # The toolchain's ThreadSanitizer runtime intercepts libdispatch, which ships beside it.
    swift_libs=$(dirname "$(readlink -f "$cc")")/../lib/swift/linux
    libs+=(-L "$swift_libs" -Wl,-rpath,"$swift_libs" -ldispatch -lBlocksRuntime)
fi
# build PROGRAM RKLLM_VERSION LIBS...: the RKLLM header and library of that version come first.
build() {
    local rkllm=(-I "$root/Headers/rkllm/$2")
    if [ "$2" = 1.3.0 ]; then rkllm+=(-L "$work/1.3" -Wl,-rpath,"$work/1.3"); fi
    "$cc" "${rkllm[@]}" "${flags[@]}" "$here/$1.c" -o "$work/$1" "${@:3}" "${libs[@]}"
}
build rkllm_demo 1.2.3 -lrkllmrt
build rkllm_demo_1_3 1.3.0 -lrkllmrt
build rknn_matmul_demo 1.2.3 -lrknnrt
build rknn_api_demo 1.2.3 -lrknnrt
build rknn_custom_op_demo 1.2.3 -lrknnrt

# Fast simulated runtimes; NPU-domain locks of this run's own.
export RKLLM_SIM_TOKEN_US=0 RKLLM_SIM_PREFILL_US=0 RKLLM_SIM_LOAD_MS=0 RKLLM_SIM_DOMAIN_DIR="$work"
passed=0
failed=0
check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "conformance: FAILED: $*" >&2; fi
}
check "$work/rkllm_demo" "$work/demo.rkllm"
check "$work/rkllm_demo_1_3" "$work/demo.rkllm"
for chip in RK3588 RK3576 RK3562; do
    target=$(echo "$chip" | tr '[:upper:]' '[:lower:]')
    check env RKNN_SIM_CHIP="$chip" "$work/rknn_matmul_demo" "$target"
done
check "$work/rknn_api_demo" "$work"
check "$work/rknn_custom_op_demo" "$work/dual.rknn"
if [ -z "$sanitizer" ]; then
    check env RKLLM_LIB="$work/librkllmrt.so" RKLLM_MODEL="$work/demo.rkllm" RKLLM_LORA="$work/adapter.lora" \
        RKLLM_CACHE="$work/prompt.cache" RKNN_LIB="$work/librknnrt.so" RKNN_MODELS="$work" \
        python3 -m unittest discover -s "$here" -p 'test_*.py'
fi
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
