#!/usr/bin/env bash
# Installs rkllm-server into PREFIX (default /usr/local), built in release with the Swift runtime
# linked in (a board needs no toolchain):
#   PREFIX/bin/rkllm-server                  -> ../lib/rkllm-server/rkllm-server
#   PREFIX/bin/rkllm                         the command-line client (chat, generate, run, ps, ...)
#   PREFIX/lib/rkllm-server/                 the daemon, its runtime host executables, and the
#                                            simulated runtimes (used only where the vendor's are
#                                            not installed) with the example custom-operator plugin
#   PREFIX/share/rkllm-server/models/        the demo models
#   PREFIX/share/doc/rkllm-server/           README and the guide
#   UNITDIR (PREFIX/lib/systemd/system)      rkllm-server.socket, rkllm-server.service
#   SYSCONFDIR (PREFIX/etc)                  rkllm-server.env (an existing one is kept)
# A system install (units where systemd reads them, as root) also makes the group `rkllm`, whose
# members may connect. Then: `systemctl daemon-reload`, `systemctl enable --now rkllm-server.socket`;
# clients find /run/rkllm-server.sock by themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(realpath -m "${1:-/usr/local}")"
unitdir="${UNITDIR:-$prefix/lib/systemd/system}"
sysconfdir="${SYSCONFDIR:-$prefix/etc}"
./scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
build=(-c release --static-swift-stdlib --scratch-path .build-install)
for product in rkllm-server rkllm rkllm-host-1.2.3 rkllm-host-1.3.0 rknn-host rkllmrt_sim rkllmrt_sim-1.3 rknnrt_sim \
    rkcst_cstSigmoid; do
    swift build "${build[@]}" --product "$product"
done
bin="$(swift build "${build[@]}" --show-bin-path)"
lib="$prefix/lib/rkllm-server"
install -d "$prefix/bin" "$lib" "$prefix/share/rkllm-server/models" "$prefix/share/doc/rkllm-server" "$unitdir" \
    "$sysconfdir"
install -s -m 0755 "$bin/rkllm-server" "$bin/rkllm-host-1.2.3" "$bin/rkllm-host-1.3.0" "$bin/rknn-host" "$lib/"
install -m 0644 "$bin/librkllmrt_sim.so" "$bin/librkllmrt_sim-1.3.so" "$bin/librknnrt_sim.so" \
    "$bin/librkcst_cstSigmoid.so" "$lib/"
ln -sfn ../lib/rkllm-server/rkllm-server "$prefix/bin/rkllm-server"
install -s -m 0755 "$bin/rkllm" "$prefix/bin/"
install -m 0644 models/* "$prefix/share/rkllm-server/models/"
install -m 0644 README.md docs/GUIDE.md "$prefix/share/doc/rkllm-server/"
substitute() { sed -e "s|@PREFIX@|$prefix|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" "$1"; }
for unit in rkllm-server.socket rkllm-server.service; do
    substitute "deploy/systemd/$unit" > "$unitdir/$unit"
    chmod 0644 "$unitdir/$unit"
done
if [ ! -e "$sysconfdir/rkllm-server.env" ]; then
    substitute deploy/systemd/rkllm-server.env > "$sysconfdir/rkllm-server.env"
fi
case "$unitdir" in
/etc/systemd/system | /lib/systemd/system | /usr/lib/systemd/system | /usr/local/lib/systemd/system)
    if [ "$(id -u)" = 0 ] && ! getent group rkllm > /dev/null; then
        groupadd --system rkllm
        echo "made the group rkllm: add the users who may use the NPU (usermod -aG rkllm NAME)"
    fi
    ;;
esac
echo "installed in $prefix (units in $unitdir, settings in $sysconfdir/rkllm-server.env)"
