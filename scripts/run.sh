#!/usr/bin/env bash
# The main job: builds in release and runs rkllm-server in the foreground on $RKLLM_UDS_PATH
# (default /tmp/rkllm.sock). Flags are passed on (see --help). Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product rkllm-server
socket="${RKLLM_UDS_PATH:-/tmp/rkllm.sock}"
cat >&2 <<MSG
rkllm-server on $socket. A first request, from another shell:
  python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("$socket"); s.sendall(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}\n"); print(s.makefile().readline())'
MSG
exec .build/release/rkllm-server "$@"
