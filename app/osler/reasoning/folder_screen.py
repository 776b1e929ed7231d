"""Refuse model folders that could run code before any library opens them.

A Hugging Face folder can ask transformers to import its own Python (`auto_map` in a
config), and pickled weights (`pytorch_model.bin`, `*.pt`, `*.ckpt`…) run code while they
are unpickled. Osler loads only safetensors (and GGUF) weights and never a folder's code,
so any such file or key is refused here, by name, whatever else the folder holds.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from osler.reasoning.errors import ModelLoadError

CODE_SUFFIXES = frozenset({
    ".py", ".pyc", ".pyo", ".pyw", ".pyd", ".pyx", ".so", ".dll", ".dylib", ".exe", ".sh",
    ".bash", ".bat", ".cmd", ".ps1", ".jar", ".whl", ".egg",
})
PICKLE_SUFFIXES = frozenset({
    ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".keras",
    ".npy", ".npz",
})
SAFE_WEIGHTS = frozenset({".safetensors", ".gguf"})
CODE_KEYS = ("auto_map", "custom_pipelines")  # what makes transformers import a folder's code
TEXT_SUFFIXES = frozenset({".json", ".txt", ".md", ".model", ".jinja", ".tiktoken", ".yaml",
                           ".yml", ".csv", ".tsv", ".vocab", ".spm"})
CONFIG_LIMIT = 50 * 2**20  # a config larger than this is not a config

_PICKLE_V2 = re.compile(rb"^\x80[\x02-\x05]")
_PICKLE_V0 = re.compile(rb"^\(?[ci][A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")  # GLOBAL / INST
_EXECUTABLE = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
               b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")

NO_CODE = "Osler never runs a model folder's own code: remove the file"
WEIGHTS_ONLY = ("Osler loads only .safetensors (or .gguf) weights: convert the weights to "
                "safetensors on a machine without patient data, or remove the file")


class UnsafeModelFolder(ModelLoadError):
    """The folder holds code, or weights whose loading could run code; nothing was loaded."""


def screen_folder(folder: str | Path) -> None:
    """Raise UnsafeModelFolder naming the first file (or config key) that could run code."""
    root = Path(folder)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")  # a clone's history and hooks
        for name in sorted(filenames):
            path = Path(dirpath) / name
            _screen_file(root, path, path.relative_to(root).as_posix())


def _refuse(root: Path, rel: str, why: str, fix: str = WEIGHTS_ONLY) -> UnsafeModelFolder:
    return UnsafeModelFolder(f"refused: {why}; {fix}", str(root), rel)


def _screen_file(root: Path, path: Path, rel: str) -> None:
    suffix = path.suffix.lower()
    if suffix in CODE_SUFFIXES:
        raise _refuse(root, rel, "the model folder contains code (transformers could import "
                      "and run it)", NO_CODE)
    if suffix in PICKLE_SUFFIXES:
        raise _refuse(root, rel, f"{suffix} files are pickles (or can carry them): loading "
                      "them can run code")
    if suffix in SAFE_WEIGHTS:
        return  # parsed as data, never unpickled; a damaged one is named by its loader
    head = _head(path)
    if head is None:
        return  # a dangling link or an unreadable file: the loader names it if it needs it
    if _PICKLE_V2.match(head) or (suffix not in TEXT_SUFFIXES and _PICKLE_V0.match(head)):
        raise _refuse(root, rel, "the file is a pickle (by its first bytes): loading it can "
                      "run code")
    if head.startswith(b"PK\x03\x04"):
        raise _refuse(root, rel, "the file is a zip archive (torch saves pickles this way)")
    if suffix not in TEXT_SUFFIXES and any(head.startswith(m) for m in _EXECUTABLE):
        raise _refuse(root, rel, "the file is an executable or a script", NO_CODE)
    if name_is_config(path.name):
        _screen_config(root, path, rel)


def name_is_config(name: str) -> bool:
    """config.json, tokenizer_config.json, generation_config.json, processor_config.json…"""
    return name.lower().endswith("config.json")


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as fh:
            return fh.read(64)
    except OSError:
        return None


def _screen_config(root: Path, path: Path, rel: str) -> None:
    try:
        if path.stat().st_size > CONFIG_LIMIT:
            raise ModelLoadError("too large for a configuration file", str(root), rel)
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"unreadable configuration ({exc})", str(root), rel) from exc
    key = _code_key(doc)
    if key is not None:
        raise UnsafeModelFolder(
            f"refused: {key!r} asks transformers to import and run code from the model "
            "folder; Osler never runs a model folder's own code, so a model that needs it "
            "cannot be used", str(root), f"{rel} ({key})")


def _code_key(doc: object) -> str | None:
    """The first code-loading key anywhere in a config (nested configs included)."""
    if isinstance(doc, dict):
        for key in CODE_KEYS:
            if key in doc:
                return key
        values = doc.values()
    elif isinstance(doc, list):
        values = doc
    else:
        return None
    for value in values:
        found = _code_key(value)
        if found is not None:
            return found
    return None
