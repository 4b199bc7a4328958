"""The installed daemon started the way systemd starts it (rkllm-server.socket): a listening socket
made by the "service manager" (this script) passed as descriptor 3 with LISTEN_FDS and LISTEN_PID
(the daemon's pid),
the settings from the installed environment file. It must serve on that socket, find the simulated
runtimes installed beside it, answer the installed `rkllm` command, stop cleanly on SIGTERM and
leave the socket file (the manager's).

    python3 socket_activation.py PREFIX SYSCONFDIR
"""

import os
import socket
import subprocess
import sys
import tempfile

from rkllm_client import LLM, Client

prefix, sysconfdir = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="rkllm-activation-")
path = os.path.join(work, "rkllm-server.sock")
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(64)

environment = {"PATH": "/usr/bin:/bin"}
with open(os.path.join(sysconfdir, "rkllm-server.env")) as settings:
    for line in settings:
        line = line.strip()
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            environment[name] = value
environment["RKLLM_CACHE_DIR"] = work  # the unit's CacheDirectory= is systemd's to make
environment["RKLLM_SIM_DOMAIN_DIR"] = work


environment["LISTEN_FDS"] = "1"


def socket_as_descriptor_3():
    os.dup2(listener.fileno(), 3)


# Descriptor 3 is kept in the child (pass_fds: the others are closed after preexec_fn); LISTEN_PID
# is the daemon's own pid, which the shell's is once it execs it.
daemon = subprocess.Popen(
    ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0"', os.path.join(prefix, "bin", "rkllm-server")], env=environment,
    preexec_fn=socket_as_descriptor_3, pass_fds=(3,), stderr=subprocess.PIPE, text=True)
listener.close()  # the daemon holds it now
try:
    with Client(path, timeout=60) as client:
        runtimes = {r["namespace"]: r for r in client.call("server.info")["runtimes"]}
        assert runtimes["rkllm"]["available"], runtimes
        assert runtimes["rkllm"]["library"] == os.path.join(prefix, "lib", "rkllm-server", "librkllmrt_sim-1.3.so")
        with LLM("demo", client=client) as llm:
            reply = llm.generate("hello world")
            assert reply.startswith("Hello from the demo model"), reply
    command = subprocess.run(
        [os.path.join(prefix, "bin", "rkllm"), "generate", "demo", "hello", "world"], capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "RKLLM_UDS_PATH": path}, timeout=60)
    assert command.returncode == 0 and command.stdout == reply + "\n", command
finally:
    daemon.terminate()
    _, log = daemon.communicate(timeout=60)
assert daemon.returncode == 0, log
assert "a socket the service manager passed" in log, log
assert os.path.exists(path), "the socket file is the service manager's: left in place"
print("socket activation: served", repr(reply[:26]), "and stopped cleanly")
