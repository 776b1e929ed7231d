"""Hostile model folders built by the tests: code that writes a marker file when imported,
pickles that write it when unpickled. A test passes only if the marker never appears."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

from osler.reasoning.checksums import read_sums, write_sums


class _Bomb:
    """Unpickling this runs `exec` on a line that writes the marker."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pickle ran')",))


def pickle_bomb(marker: Path, protocol: int = 4) -> bytes:
    return pickle.dumps({"weight": _Bomb(marker)}, protocol=protocol)


def evil_module(marker: Path) -> str:
    return (f"from pathlib import Path\nPath({str(marker)!r}).write_text('code ran')\n"
            "class EvilConfig: pass\nclass EvilModel: pass\n")


def with_remote_code(src: Path, dest: Path, marker: Path, auto_class: str) -> Path:
    """A copy of SRC whose config.json asks transformers to import modeling_evil.py (an
    unknown model_type with an auto_map, as a Hub repository with custom code has)."""
    shutil.copytree(src, dest)
    cfg = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    cfg["model_type"] = "evil-model"
    cfg["architectures"] = [cfg.get("architectures", ["X"])[0].replace("Llama", "Evil")]
    cfg["auto_map"] = {"AutoConfig": "modeling_evil.EvilConfig",
                       auto_class: "modeling_evil.EvilModel"}
    (dest / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    (dest / "modeling_evil.py").write_text(evil_module(marker), encoding="utf-8")
    _resum(dest)
    return dest


def with_pickled_weights(src: Path, dest: Path, marker: Path,
                         name: str = "pytorch_model.bin") -> Path:
    """A copy of SRC with a pickle (that writes MARKER when loaded) beside its weights."""
    shutil.copytree(src, dest)
    (dest / name).write_bytes(pickle_bomb(marker))
    _resum(dest)
    return dest


def _resum(folder: Path) -> None:
    """Rewrite SHA256SUMS over everything (a hostile folder vouches for itself)."""
    if (folder / "SHA256SUMS").is_file():
        names = set(read_sums(folder)) | {p.name for p in folder.iterdir()
                                          if p.is_file() and p.name != "SHA256SUMS"}
        write_sums(folder, sorted(names))
