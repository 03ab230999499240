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
# The tests run on one pytest-xdist worker per CPU core, at most 2 (the SLURM tests together on
# one worker, tests/conftest.py); FOLDRUN_TEST_WORKERS=0 runs them in this process, one after
# another. FOLDRUN_KILL_SEEDS=all: every seed of the kill tests, not the sample.
workers="${FOLDRUN_TEST_WORKERS:-$(( $(nproc) < 2 ? $(nproc) : 2 ))}"
if [ "$workers" -gt 1 ]; then
  set -- -n "$workers" "$@"
fi
# the 25 slowest tests are listed at the end: where the suite's time goes
.venv/bin/python -m pytest -q --durations=25 "$@"
