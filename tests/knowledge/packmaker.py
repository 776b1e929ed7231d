"""A tiny, valid KB pack made by the project, and ways to break it, for loader tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def findings() -> list[dict[str, Any]]:
    return [
        {"id": "cough", "label": "Cough", "category": "symptom", "synonyms": ["coughing"]},
        {"id": "fever", "label": "Fever", "category": "vital", "synonyms": ["febrile"],
         "negated_synonyms": ["afebrile"],
         "rules": [{"loinc": ["8310-5"], "op": ">=", "value": 38.0, "unit": "Cel"}]},
        {"id": "history-smoking", "label": "Smoker", "category": "risk-factor",
         "aliases": ["smoking-problems"],
         "record": [{"kind": "observation", "codes": ["loinc|72166-2"],
                     "present_values": ["current"], "absent_values": ["never"]}]},
    ]


def conditions() -> list[dict[str, Any]]:
    return [
        {"id": "flu", "name": "Influenza", "icd10": ["J11.1"], "prior": 0.7,
         "findings": {"cough": 0.8, "fever": 0.9}, "age_lr": {"15-29": 1.2},
         "sex_lr": {"female": 1.0, "male": 1.0}, "sources": ["test"]},
        {"id": "pneumonia", "name": "Pneumonia", "icd10": ["J18.9"], "prior": 0.3,
         "findings": {"cough": 0.9, "fever": 0.7, "history-smoking": 0.3},
         "cant_miss": True, "cant_miss_rationale": "Can kill when missed.",
         "severity": 3, "sources": ["test"]},
    ]


def write_pack(folder: Path, *, conds: list | None = None, finds: list | None = None,
               manifest: dict | None = None, raw: dict[str, str] | None = None) -> Path:
    """Write manifest.json, conditions.json, findings.json (sha256 recorded) into `folder`.

    `raw` replaces a file's text after the manifest was computed (to test checksums) or,
    with `manifest` files, before (to test parsing)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "conditions.json": json.dumps({"conditions": conditions() if conds is None else conds}),
        "findings.json": json.dumps({"findings": findings() if finds is None else finds,
                                     "blocked_phrases": ["sleep paralysis"]}),
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    doc = {"format": "osler-kb-pack", "format_version": 1, "name": "Test pack",
           "version": "0.0.1", "license": "test data, no terms",
           "files": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in texts.items()}}
    doc.update(manifest or {})
    (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    for name, text in (raw or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def rehash(folder: Path) -> None:
    """Recompute the manifest checksums after a test edited a data file on purpose."""
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name in m["files"]:
        m["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
