#!/usr/bin/env bash
# The HTTP front tested with clients nobody here wrote: OpenAI's and Ollama's official Python
# packages (installed from PyPI into a virtual environment of their own), driving daemons built in
# $1 (`swift build --show-bin-path`) through Tests/HTTPDialects.
set -euo pipefail
cd "$(dirname "$0")/.."
products="$(cd "$1" && pwd)"
venv=.build/http-dialects-venv
python3 -m venv "$venv"
"$venv/bin/python" -c "import openai, ollama, pytest" 2> /dev/null \
    || "$venv/bin/python" -m pip install --quiet openai ollama pytest
cd Tests/HTTPDialects
RKLLM_SERVER_BIN="$products" "../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
