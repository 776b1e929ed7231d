#!/usr/bin/env bash
# Download every wheel Osler needs into dist/wheelhouse for offline installation
# (then packaging/install_offline.sh on the workstation).
# TORCH_SPEC picks the torch build, e.g. TORCH_SPEC="torch==2.13.0" (CPU here) or a CUDA
# build with TORCH_INDEX=https://download.pytorch.org/whl/cu128. The same torch is pinned
# for the rest of the download, so pip never swaps in another (multi-GB CUDA) build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${WHEELHOUSE:-dist/wheelhouse}
spec=${TORCH_SPEC:-torch==2.13.0}
mkdir -p "$out"
python3 -m pip wheel --no-deps -w "$out" .
python3 -m pip download -d "$out" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} "$spec"
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
echo "$spec" > "$constraints"
python3 -m pip download -d "$out" --find-links "$out" -c "$constraints" .
(cd "$out" && sha256sum ./*.whl > SHA256SUMS)
echo "wheelhouse: $out ($(ls "$out"/*.whl | wc -l) wheels)"
