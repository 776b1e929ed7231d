#!/usr/bin/env bash
# Install Osler on a workstation with no network, from a wheelhouse that
# packaging/build_wheelhouse.sh wrote (same OS, architecture and Python):
#   packaging/install_offline.sh WHEELHOUSE [PREFIX]
# 1. verifies every wheel against WHEELHOUSE/SHA256SUMS (a damaged or unlisted wheel stops
#    here, named, before anything is installed);
# 2. creates PREFIX/venv (default ~/.local/share/osler) and installs with --no-index;
# 3. adds the desktop entry (Linux, per user) and runs `osler selfcheck`.
set -euo pipefail
usage="usage: install_offline.sh WHEELHOUSE [PREFIX]"
wh=${1:?$usage}
prefix=${2:-${XDG_DATA_HOME:-$HOME/.local/share}/osler}
py=${PYTHON:-python3}
here="$(cd "$(dirname "$0")" && pwd)"

fail() { echo "install_offline: $*" >&2; exit 2; }
[ -d "$wh" ] || fail "$wh: no such folder"
[ -f "$wh/SHA256SUMS" ] || fail "$wh/SHA256SUMS: missing (build the wheelhouse with packaging/build_wheelhouse.sh)"
ls "$wh"/*.whl >/dev/null 2>&1 || fail "$wh: no wheels in it"
listed=$(awk '{n=$2; sub(/^\*/, "", n); sub(/^\.\//, "", n); print n}' "$wh/SHA256SUMS")
for w in "$wh"/*.whl; do
  name=$(basename "$w")
  grep -qxF "$name" <<<"$listed" || fail "$name: not listed in SHA256SUMS; nothing was installed"
done
if ! (cd "$wh" && sha256sum --quiet --strict -c SHA256SUMS) >&2; then
  fail "checksum mismatch (the file is named above): the wheelhouse is damaged; nothing was installed"
fi
[ -e "$prefix/venv" ] && fail "$prefix/venv exists: remove it, or give another PREFIX"

"$py" -m venv "$prefix/venv"
"$prefix/venv/bin/pip" install --no-index --find-links "$wh" osler
echo "installed: $prefix/venv/bin/osler and osler-gui"

if [ "$(uname -s)" = Linux ] && [ -f "$here/osler.desktop" ]; then
  apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
  mkdir -p "$apps"
  sed "s|^Exec=.*|Exec=$prefix/venv/bin/osler-gui %f|" "$here/osler.desktop" > "$apps/osler.desktop"
  echo "desktop entry: $apps/osler.desktop"
fi

"$prefix/venv/bin/osler" selfcheck || echo "install_offline: the self-check reported problems (above)" >&2
