#!/usr/bin/env bash
# Regenerates docs/coverage/<header set>.md from Headers/ (a test fails while one is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build --product binding-gen
report() {
    .build/debug/binding-gen report "Headers/$1" --prelude Headers/prelude --markdown "docs/coverage/$2.md" \
        --json ".build/coverage-$2.json"
}
report rkllm/1.2.3 rkllm-1.2.3
report rknn rknn
report rkllm/1.3.0 rkllm-1.3.0
# The upgrade's diff (exit status 1: it breaks callers, as this one does).
.build/debug/binding-gen diff .build/coverage-rkllm-1.2.3.json .build/coverage-rkllm-1.3.0.json \
    --markdown docs/upgrades/rkllm-1.2.3-to-1.3.0.md || [ $? -eq 1 ]
