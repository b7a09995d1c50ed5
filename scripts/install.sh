#!/usr/bin/env bash
# Install autometa with everything its test suite needs, on a fresh Debian/Ubuntu machine or a venv.
# 1. PostgreSQL server binaries (for the store's PostgreSQL tests) when apt-get is available and we are root.
# 2. The package in editable mode with the dev extra.
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
python -m pip install -q -e ".[dev]"
