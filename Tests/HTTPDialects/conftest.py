"""Daemons with the HTTP front on, on the simulated runtimes, for the official clients' tests:
RKLLM_SERVER_BIN names the directory of the built products (`swift build --show-bin-path`)."""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import pytest

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "clients" / "python"))  # the socket client, for the daemon's counters


class Daemon:
    """rkllm-server with `--http 127.0.0.1:0`: `url` is where it answers HTTP, `socket` JSON-RPC."""

    def __init__(self, library="librkllmrt_sim-1.3.so", token_us="20000", load_ms="0", arguments=()):
        products = pathlib.Path(os.environ["RKLLM_SERVER_BIN"])
        self.directory = tempfile.mkdtemp(prefix="rkllm-http-")
        self.socket = os.path.join(self.directory, "rkllm.sock")
        self.log = open(os.path.join(self.directory, "log"), "w+")
        environment = dict(
            os.environ, RKLLM_RUNTIME_LIB=str(products / library), RKLLM_MODEL_DIRS=str(REPOSITORY / "models"),
            RKLLM_CACHE_DIR=self.directory, RKLLM_SIM_DOMAIN_DIR=self.directory, RKLLM_KEEP_ALIVE="0",
            RKLLM_SIM_TOKEN_US=token_us, RKLLM_SIM_LOAD_MS=load_ms)
        self.process = subprocess.Popen(
            [str(products / "rkllm-server"), "--socket", self.socket, "--log-level", "1", "--http", "127.0.0.1:0",
             *arguments], env=environment, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            self.log.seek(0)
            found = re.search(r"HTTP on (\S+)", self.log.read())
            if found:
                self.url = "http://" + found.group(1)
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rkllm-server did not start its HTTP front")
            time.sleep(0.02)

    def stats(self):
        from rkllm_client import Client
        with Client(self.socket) as client:
            return client.call("server.stats")

    def wait_until(self, condition, what):
        deadline = time.monotonic() + 60
        while not condition(self.stats()):
            assert time.monotonic() < deadline, what
            time.sleep(0.01)

    def stop(self):
        self.process.terminate()
        assert self.process.wait(timeout=60) == 0, "the daemon stops cleanly"
        self.log.close()


@pytest.fixture(scope="module")
def daemon():
    running = Daemon()
    yield running
    running.stop()


HELLO_REPLY = "Hello from the demo model, ça va? 你好: world hello."
