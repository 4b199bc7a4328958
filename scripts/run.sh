#!/usr/bin/env bash
# The main job for now: builds the generator and the generated bindings, and prints the API coverage
# report of Headers/ (the daemon comes with the next issue).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product binding-gen
swift build -c release --target RKBindings
.build/release/binding-gen report Headers
