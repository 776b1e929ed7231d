"""First-use pins of a clinic's own model folders: a folder that changes later is noticed.

The shipped model is signed by the project; a clinic's fine-tuned Osler model or a local
language model is not, and its SHA256SUMS (when it has one) vouches only for itself. So
the first time such a folder loads, its identity is recorded in a per-user JSON file (no
patient data: folder paths and file hashes); a later load that finds other files warns,
naming what changed, and keeps the old pin until the user accepts the change
(`osler model trust DIR`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from osler.reasoning.checksums import SUMS, file_sha256, read_sums

PINS_ENV = "OSLER_MODEL_PINS"
PINS_FILE = "model-pins.json"
# Files that decide what a folder computes: weights, configs, tokenizers, chat templates.
IDENTITY_SUFFIXES = frozenset({".safetensors", ".gguf", ".json", ".model", ".txt", ".jinja",
                               ".tiktoken", ".vocab"})
PINNED, SAME, CHANGED, UNAVAILABLE = "pinned", "same", "changed", "unavailable"
MAX_NAMED = 6


@dataclass(frozen=True, slots=True)
class FolderIdentity:
    """A digest of what a model folder holds, and the per-file hashes it was made from."""

    digest: str
    basis: str  # "SHA256SUMS" or "files"
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PinCheck:
    """The outcome of comparing a folder with its pin; `message` is the warning, if any."""

    status: str
    folder: str
    identity: FolderIdentity
    changes: tuple[str, ...] = ()
    message: str = ""


def pins_path() -> Path:
    """$OSLER_MODEL_PINS, else model-pins.json in the per-user config folder."""
    env = os.environ.get(PINS_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("osler", appauthor=False)) / PINS_FILE


def folder_identity(folder: str | Path) -> FolderIdentity:
    """SHA-256 of SHA256SUMS when the folder has one (it is verified before loading), else
    of the names, sizes and SHA-256 of its weights, configs and tokenizer files."""
    path = Path(folder)
    sums_file = path / SUMS
    if sums_file.is_file():
        return FolderIdentity(hashlib.sha256(sums_file.read_bytes()).hexdigest(), SUMS,
                              dict(read_sums(path)))
    files: dict[str, str] = {}
    for f in sorted(path.iterdir()):
        if f.is_file() and (f.suffix.lower() in IDENTITY_SUFFIXES or f.name.startswith("vocab")):
            files[f.name] = f"{f.stat().st_size}:{file_sha256(f)}"
    h = hashlib.sha256()
    for name, value in files.items():
        h.update(f"{name}\t{value}\n".encode())
    return FolderIdentity(h.hexdigest(), "files", files)


def _key(folder: str | Path) -> str:
    return str(Path(folder).expanduser().resolve())


def _read(store: Path) -> dict:
    if not store.exists():
        return {"version": 1, "folders": {}}
    doc = json.loads(store.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("folders"), dict):
        raise ValueError("not an Osler model-pins file")
    return doc


def _write(store: Path, doc: dict) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".model-pins-", dir=store.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
        os.replace(tmp, store)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _entry(identity: FolderIdentity) -> dict:
    return {"digest": identity.digest, "basis": identity.basis, "files": identity.files,
            "pinned_at": datetime.now(UTC).isoformat(timespec="seconds")}


def describe_changes(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    """'model.safetensors changed', 'vocab.txt added', 'merges.txt removed'…"""
    out = [f"{n} changed" for n in sorted(old.keys() & new.keys()) if old[n] != new[n]]
    out += [f"{n} added" for n in sorted(new.keys() - old.keys())]
    out += [f"{n} removed" for n in sorted(old.keys() - new.keys())]
    return tuple(out) or ("the checksum list changed",)


def check_pin(folder: str | Path, identity: FolderIdentity | None = None,
              store: Path | None = None) -> PinCheck:
    """Pin the folder at first use; afterwards compare (never re-pins a changed folder)."""
    key = _key(folder)
    ident = identity or folder_identity(folder)
    store = store or pins_path()
    try:
        doc = _read(store)
        pinned = doc["folders"].get(key)
        if pinned is None:
            doc["folders"][key] = _entry(ident)
            _write(store, doc)
            return PinCheck(PINNED, key, ident)
    except (OSError, ValueError) as exc:
        return PinCheck(UNAVAILABLE, key, ident, message=(
            f"{key}: cannot record this model folder's identity in {store} ({exc}); a later "
            "change to its files will not be noticed"))
    if pinned.get("digest") == ident.digest:
        return PinCheck(SAME, key, ident)
    changes = describe_changes(dict(pinned.get("files") or {}), ident.files)
    named = "; ".join(changes[:MAX_NAMED]) + (
        f"; and {len(changes) - MAX_NAMED} more" if len(changes) > MAX_NAMED else "")
    since = str(pinned.get("pinned_at", "its first use"))[:10]
    return PinCheck(CHANGED, key, ident, changes, (
        f"{key}: this model folder changed since it was first used here ({since}): {named}. "
        "Its results may differ from before; if the change was intended, accept it with "
        f"`osler model trust {key}`"))


def trust(folder: str | Path, store: Path | None = None) -> tuple[FolderIdentity, dict | None]:
    """Pin the folder's current files (the user accepted them); returns (new, old pin)."""
    key = _key(folder)
    ident = folder_identity(folder)
    store = store or pins_path()
    doc = _read(store)
    old = doc["folders"].get(key)
    doc["folders"][key] = _entry(ident)
    _write(store, doc)
    return ident, old


def accept_folder(folder: str | Path, store: Path | None = None) -> dict:
    """`osler model trust DIR`: check the folder as a load would (no code, checksums), then
    pin its current files. Returns what was pinned and what changed since the old pin."""
    from osler.reasoning.checksums import verify_folder
    from osler.reasoning.errors import ModelLoadError
    from osler.reasoning.folder_screen import screen_folder
    from osler.reasoning.signature import is_shipped_folder

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ModelLoadError("no such model folder", str(path))
    if is_shipped_folder(path):
        raise ModelLoadError("this is the shipped model: the project's signature vouches for "
                             "it, it is never pinned", str(path))
    if not ((path / "osler.json").is_file() or (path / "config.json").is_file()):
        raise ModelLoadError("not a model folder (no osler.json or config.json)", str(path))
    screen_folder(path)
    if (path / SUMS).is_file():
        verify_folder(path)
    try:
        ident, old = trust(path, store)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot record the pin in {store or pins_path()} ({exc})",
                             str(path)) from exc
    changes: tuple[str, ...] = ()
    if old is not None and old.get("digest") != ident.digest:
        changes = describe_changes(dict(old.get("files") or {}), ident.files)
    return {"folder": _key(path), "digest": ident.digest, "basis": ident.basis,
            "files": len(ident.files), "previous": old.get("digest") if old else None,
            "changes": list(changes), "pins": str(store or pins_path())}
