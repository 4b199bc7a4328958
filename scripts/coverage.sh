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
