#!/usr/bin/env bash
# Regenerates docs/COVERAGE.md from Headers/ (a test fails while it is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product binding-gen
.build/debug/binding-gen report Headers --markdown docs/COVERAGE.md --json .build/coverage.json
