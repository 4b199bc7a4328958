#!/usr/bin/env bash
# The main job: builds in release and runs rkllm-server in the foreground on $RKLLM_UDS_PATH
# (default /tmp/rkllm.sock), serving the models in ./models. Where the vendor's librkllmrt.so is not
# installed it runs on the simulated runtimes built beside it (the log and server.info say so).
# Flags are passed on (see --help). Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
# The daemon, a runtime host per header set, the simulated runtimes (RKLLM's of both ABIs), the
# example custom-operator plugin, and the rkllm command.
for product in rkllm-server rkllm rkllm-host-1.2.3 rkllm-host-1.3.0 rknn-host rkllmrt_sim rkllmrt_sim-1.3 rknnrt_sim \
    rkcst_cstSigmoid; do
    swift build -c release --product "$product"
done
socket="${RKLLM_UDS_PATH:-/tmp/rkllm.sock}"
export RKLLM_MODEL_DIRS="${RKLLM_MODEL_DIRS:-$PWD/models}"
cat >&2 <<MSG
rkllm-server on $socket, models in $RKLLM_MODEL_DIRS. A first conversation, from another shell:
  .build/release/rkllm chat demo          (or: python3 scripts/try.py "hello world")
or one request by hand:
  python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("$socket"); s.sendall(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}\n"); print(s.makefile().readline())'
MSG
exec .build/release/rkllm-server "$@"
