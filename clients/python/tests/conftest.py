"""A daemon on the simulated runtimes for the tests: RKLLM_SERVER_BIN names the directory of the
built products (`swift build --show-bin-path`)."""

import os
import pathlib
import socket
import subprocess
import tempfile
import time

import pytest

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def daemon():
    products = pathlib.Path(os.environ["RKLLM_SERVER_BIN"])
    directory = tempfile.mkdtemp(prefix="rkllm-pytest-")
    path = os.path.join(directory, "rkllm.sock")
    environment = dict(
        os.environ,
        RKLLM_RUNTIME_LIB=str(products / "librkllmrt_sim.so"),
        RKNN_RUNTIME_LIB=str(products / "librknnrt_sim.so"),
        RKLLM_MODEL_DIRS=str(REPOSITORY / "models"),
        RKLLM_CACHE_DIR=directory,
        RKLLM_SIM_DOMAIN_DIR=directory,
        RKLLM_KEEP_ALIVE="0",
        RKLLM_SIM_TOKEN_US="20000",
        RKLLM_SIM_LOAD_MS="0",
    )
    process = subprocess.Popen(
        [str(products / "rkllm-server"), "--socket", path, "--log-level", "0"],
        env=environment, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(path)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rkllm-server did not start")
            time.sleep(0.02)
    yield path
    process.terminate()
    assert process.wait(timeout=60) == 0, "the daemon stops cleanly"
