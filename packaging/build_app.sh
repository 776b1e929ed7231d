#!/usr/bin/env bash
# Build the one-folder CPU app (dist/osler/) with PyInstaller, then smoke-test it:
#   packaging/build_app.sh            (from any folder; uses the repository's .venv)
# The smoke test runs the built CLI with no network (`unshare -n` where permitted) and
# prints the bundle size and timings recorded in docs/install.md.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
"$py" -m pip install -q pyinstaller
"$py" -m PyInstaller packaging/osler.spec --noconfirm --distpath dist --workpath build/pyinstaller
"$py" packaging/smoke_app.py dist/osler
