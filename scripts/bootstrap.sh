#!/usr/bin/env bash
# Create .venv and install everything the project needs; a no-op when nothing changed.
# Usage: bash scripts/bootstrap.sh   (Makefile targets call it first)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed
want=$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
if ! $PY -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: Python >= 3.10 is required ($PY is $($PY --version 2>&1))" >&2; exit 2
fi
# soundfile needs libsndfile (bundled in its wheels); nothing else comes from apt.
[ -d "$VENV" ] || $PY -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
"$VENV/bin/python" -m pip install -q --no-deps -r requirements-nodeps.txt
"$VENV/bin/python" -m pip install -q --no-deps -e .
# pip check, except for what the --no-deps packages declare and we deliberately leave out.
nodeps=$(grep -oE '^[A-Za-z0-9_.-]+' requirements-nodeps.txt | paste -sd'|')
problems=$("$VENV/bin/python" -m pip check 2>/dev/null | grep -viE "^($nodeps) " || true)
if [ -n "$problems" ] && [ "$problems" != "No broken requirements found." ]; then
  echo "$problems" >&2; echo "error: pip check failed" >&2; exit 2
fi
echo "$want" > "$STAMP"
echo "environment ready: $VENV"
