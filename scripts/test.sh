#!/usr/bin/env bash
# Every test: installs what is missing, lints the format, builds, runs the test suite and the
# conformance programs (SANITIZE=address|thread adds a sanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
args=()
if [ -n "${SANITIZE:-}" ]; then args+=(--sanitize="$SANITIZE" --scratch-path ".build-$SANITIZE"); fi
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
# The code's format (.swift-format), once: the sanitizer runs test the same sources.
if [ -z "${SANITIZE:-}" ]; then swift format lint --strict --recursive --parallel Sources Tests Plugins Package.swift; fi
# Nothing that traps on a value from outside: conversions only in CheckedNumbers, no forced try, cast or member.
if [ -z "${SANITIZE:-}" ]; then python3 scripts/check-traps.py --self-test && python3 scripts/check-traps.py; fi
build_log="$(mktemp)"
swift build --build-tests "${args[@]}" 2>&1 | tee "$build_log"
# No compiler warning anywhere in the package, tests and generated code included (a clean clone
# compiles everything, so every warning is printed here; the sanitizers' linker notes are not ours).
warnings="$(grep -E '\.(swift|c|h):[0-9]+:[0-9]+: warning:' "$build_log" | sort -u || true)"
rm -f "$build_log"
if [ -n "$warnings" ]; then
    echo "the build printed compiler warnings:" >&2
    echo "$warnings" >&2
    exit 1
fi
# The generated code too (binding-gen formats it with the toolchain's swift-format).
if [ -z "${SANITIZE:-}" ]; then swift format lint --strict --recursive --parallel .build/plugins/outputs; fi
swift test "${args[@]}"
# The daemon's tests again with the simulated RKLLM runtime of the 1.3.0 ABI (Built.simulatedRuntime):
# one daemon serves both, and every RKLLM test holds on each.
RKLLM_TEST_ABI=1.3 swift test "${args[@]}" --skip-build --filter DaemonTests
# Programs written like the vendor's, calling the simulated runtimes directly.
Tests/Conformance/run.sh "$(swift build "${args[@]}" --show-bin-path)" "${SANITIZE:-}"
# The Python client, installed as a user would, against the daemon (once: its tests are Python's).
if [ -z "${SANITIZE:-}" ]; then ./scripts/python-client-test.sh "$(swift build --show-bin-path)"; fi
# The HTTP front with OpenAI's and Ollama's official Python clients (once).
if [ -z "${SANITIZE:-}" ]; then ./scripts/http-dialects-test.sh "$(swift build --show-bin-path)"; fi
# Installing (scripts/install.sh), the systemd units, and a start by socket activation (once).
if [ -z "${SANITIZE:-}" ]; then ./scripts/deploy-test.sh; fi
