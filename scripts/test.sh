#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian machine (Python 3.11, pip, apt as root)
# and runs the whole test suite with pytest. Safe to rerun: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! command -v chromium >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  # a real single-node SLURM on localhost for the SLURM backend tests
  bash scripts/start-local-slurm.sh
  export FOLDRUN_REQUIRE_SLURM=1
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[all]"
.venv/bin/ruff check src tests benchmarks
# FOLDRUN_TEST_WORKERS=2: the tests on 2 pytest-xdist workers (the SLURM tests together on one,
# tests/conftest.py); FOLDRUN_KILL_SEEDS=all: every seed of the kill tests, not the sample
if [ -n "${FOLDRUN_TEST_WORKERS:-}" ]; then
  set -- -n "$FOLDRUN_TEST_WORKERS" --dist loadgroup "$@"
fi
.venv/bin/python -m pytest -q "$@"
