#!/usr/bin/env bash
# The Python client (clients/python): installed into a virtual environment of its own the way a
# user installs it (pip, offline: the system's setuptools and wheel build it; the package needs
# nothing else), then its pytest tests against a daemon built in $1 (`swift build --show-bin-path`).
# What the machine lacks of pytest, setuptools' wheel support comes from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
products="$(cd "$1" && pwd)"
venv=.build/python-client-venv
python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -c "import wheel" 2> /dev/null || "$venv/bin/python" -m pip install --quiet wheel
"$venv/bin/python" -m pytest --version > /dev/null 2>&1 || "$venv/bin/python" -m pip install --quiet pytest
"$venv/bin/python" -m pip install --quiet --no-build-isolation --no-index ./clients/python
# From elsewhere than the sources: the tests import the installed package.
cd clients/python/tests
RKLLM_SERVER_BIN="$products" "../../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
