#!/usr/bin/env bash
# Install autometa with everything its test suite needs, on a fresh Debian/Ubuntu machine or a venv.
# 1. PostgreSQL server binaries (for the store's PostgreSQL tests) when apt-get is available and we are root.
# 2. PyTorch for the neural meta-model: the CPU build (2.13.0) when torch is not there yet
#    (a plain `torch` requirement would fetch the multi-GB CUDA build on Linux).
# 3. The package in editable mode with the dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "note: PostgreSQL server not found and apt-get unavailable; PostgreSQL store tests will be skipped" >&2
  fi
fi
if ! python -c "import torch" >/dev/null 2>&1; then
  python -m pip install -q "torch==2.13.0" \
    || python -m pip install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
fi
python -m pip install -q -e ".[dev]"
