"""SHA256SUMS verification of model folders: tampered or truncated weights are refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

from osler.reasoning.errors import ModelLoadError

SUMS = "SHA256SUMS"
_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, streamed; cached by (path, size, mtime) for this process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _cache:
        return _cache[key]
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    _cache[key] = h.hexdigest()
    return _cache[key]


def read_sums(folder: Path) -> dict[str, str]:
    """Parse SHA256SUMS ('<hex>  <name>' per line, as sha256sum writes it)."""
    sums_path = folder / SUMS
    out: dict[str, str] = {}
    try:
        lines = sums_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ModelLoadError("no SHA256SUMS file; refusing to load unverified weights",
                             str(folder), SUMS) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"unreadable ({exc})", str(folder), SUMS) from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelLoadError(f"line {n} is not '<sha256>  <file>'", str(folder), SUMS)
        name = parts[1].lstrip("*")
        if "/" in name or "\\" in name or name.startswith("."):
            raise ModelLoadError(f"line {n} names a file outside the folder", str(folder), SUMS)
        out[name] = parts[0].lower()
    if not out:
        raise ModelLoadError("empty", str(folder), SUMS)
    return out


def verify_folder(folder: Path, required: tuple[str, ...] = ()) -> dict[str, str]:
    """Check every listed file; weights present but unlisted are refused. Returns the sums."""
    sums = read_sums(folder)
    for name in required:
        if name not in sums:
            raise ModelLoadError("not listed in SHA256SUMS", str(folder), name)
    for weights in list(folder.glob("*.safetensors")) + list(folder.glob("*.bin")):
        if weights.name not in sums:
            raise ModelLoadError("weights file not listed in SHA256SUMS", str(folder),
                                 weights.name)
    for name, digest in sums.items():
        path = folder / name
        if not path.is_file():
            raise ModelLoadError("listed in SHA256SUMS but missing", str(folder), name)
        if file_sha256(path) != digest:
            raise ModelLoadError("checksum mismatch: the file was modified or truncated; "
                                 "refusing to load it", str(folder), name)
    return sums


def write_sums(folder: Path, names: list[str]) -> None:
    """Write SHA256SUMS for the given files (used by the training recipe). A signature of the
    previous list no longer holds: it is removed (packaging/sign_model.py signs anew)."""
    lines = [f"{file_sha256(folder / n)}  {n}" for n in sorted(names)]
    (folder / SUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / f"{SUMS}.sig").unlink(missing_ok=True)
