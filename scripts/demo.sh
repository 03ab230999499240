#!/usr/bin/env bash
# Installs foldrun into .venv and runs the bundled example end to end (`foldrun demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
.venv/bin/foldrun demo "${1:-runs/demo}"
