#!/usr/bin/env bash
# Deployment: scripts/install.sh into a temporary prefix, the installed systemd units checked with
# `systemd-analyze verify`, then the installed daemon started as the socket unit starts it
# (Tests/Deployment/socket_activation.py, with the Python client).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(mktemp -d /tmp/rkllm-install-XXXXXX)"
trap 'rm -rf "$prefix"' EXIT
UNITDIR="$prefix/units" SYSCONFDIR="$prefix/etc" ./scripts/install.sh "$prefix" > /dev/null
(cd "$prefix/units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify ./rkllm-server.socket ./rkllm-server.service)
echo "systemd-analyze verify: rkllm-server.socket, rkllm-server.service"
PYTHONPATH="$PWD/clients/python" python3 Tests/Deployment/socket_activation.py "$prefix" "$prefix/etc"
