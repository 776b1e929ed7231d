#!/usr/bin/env bash
# Download every wheel Osler needs into dist/wheelhouse for offline installation.
# TORCH_SPEC picks the torch build, e.g. TORCH_SPEC="torch==2.13.0" (CPU here) or a CUDA
# build with TORCH_INDEX=https://download.pytorch.org/whl/cu128.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/wheelhouse
mkdir -p "$out"
python3 -m pip wheel --no-deps -w "$out" .
python3 -m pip download -d "$out" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} "${TORCH_SPEC:-torch==2.13.0}"
python3 -m pip download -d "$out" .
(cd "$out" && sha256sum ./*.whl > SHA256SUMS)
echo "wheelhouse: $out ($(ls "$out"/*.whl | wc -l) wheels)"
