"""Clinical vignettes (Avey and AgentClinic JSONL formats) -> text, demographics, gold diagnosis."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osler.reasoning.errors import ReasoningError

_AGE = re.compile(r"(\d{1,3})\s*[- ]?\s*(year|yr|month|week|day)s?[- ]?\s*old", re.I)
_FEMALE = re.compile(r"\b(female|woman|girl|lady|f)\b", re.I)
_MALE = re.compile(r"\b(male|man|boy|gentleman|m)\b", re.I)


@dataclass(frozen=True, slots=True)
class Vignette:
    """One case: the text a clinician would read, age, sex and the gold diagnosis."""

    id: str
    text: str
    age: int | None
    sex: str | None
    gold: str
    format: str


def parse_demographics(text: str) -> tuple[int | None, str | None]:
    """Age in years and sex from '70 year old Female', 'A 3-month-old boy', etc."""
    age = None
    m = _AGE.search(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        age = n if unit in ("year", "yr") else 0
    sex = "female" if _FEMALE.search(text) else "male" if _MALE.search(text) else None
    return age, sex


def _flatten(value: Any, key: str = "") -> list[str]:
    """Nested dict/list fields as 'Key: value' lines (underscores become spaces)."""
    label = key.replace("_", " ").strip()
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _flatten(v, k)
        return out
    if isinstance(value, list):
        items = [str(x) for x in value if isinstance(x, str | int | float)]
        nested = [x for x in value if isinstance(x, dict | list)]
        lines = [f"{label}: {', '.join(items)}"] if items else []
        for x in nested:
            lines += _flatten(x, key)
        return lines
    if value is None or value == "" or value == "-":
        return []
    return [f"{label}: {value}" if label else str(value)]


def from_avey(doc: dict[str, Any], idx: int) -> Vignette:
    age, sex = parse_demographics(str(doc.get("demographics", "")))
    parts = []
    for key in ("chief_complaints", "presentation", "absent_findings", "physical_history",
                "family_history", "social_history"):
        v = doc.get(key)
        if isinstance(v, str) and v.strip() and v.strip() != "-":
            parts.append(f"{key.replace('_', ' ').capitalize()}: {v.strip()}")
    return Vignette(str(idx), "\n".join(parts), age, sex, str(doc["correct_diagnosis"]), "avey")


def from_agentclinic(doc: dict[str, Any], idx: int) -> Vignette:
    osce = doc["OSCE_Examination"]
    actor = osce.get("Patient_Actor", {})
    age, sex = parse_demographics(str(actor.get("Demographics", "")))
    body = {k: v for k, v in actor.items() if k != "Demographics"}
    lines = _flatten(body)
    lines += _flatten(osce.get("Physical_Examination_Findings", {}))
    lines += _flatten(osce.get("Test_Results", {}))
    return Vignette(str(idx), "\n".join(lines), age, sex, str(osce["Correct_Diagnosis"]),
                    "agentclinic")


SPLIT_SEED = 20261202  # fixed: which vignettes are developed on, which are only checked
HALVES = ("dev", "check", "all")


def split_half(vignettes: list[Vignette], half: str, seed: int = SPLIT_SEED) -> list[Vignette]:
    """One half of a vignette set, chosen by a seeded shuffle of positions.

    Accuracy work is done on the 'dev' half; the 'check' half is only scored, so its
    figure is the honest one. The split depends only on the seed and the set's size."""
    import random

    if half == "all":
        return list(vignettes)
    if half not in HALVES:
        raise ReasoningError(f"half must be one of {', '.join(HALVES)}, not {half!r}")
    order = list(range(len(vignettes)))
    random.Random(seed).shuffle(order)
    cut = (len(order) + 1) // 2
    chosen = sorted(order[:cut] if half == "dev" else order[cut:])
    return [vignettes[i] for i in chosen]


def load_vignettes(path: str | Path) -> list[Vignette]:
    """Read a JSONL file of vignettes in either format; errors name the line."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReasoningError(f"{p}: cannot read ({exc})") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if "OSCE_Examination" in doc:
                out.append(from_agentclinic(doc, n))
            elif "correct_diagnosis" in doc:
                out.append(from_avey(doc, n))
            else:
                raise KeyError("neither 'correct_diagnosis' nor 'OSCE_Examination'")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ReasoningError(f"{p}: line {n}: not a vignette ({exc})") from exc
    if not out:
        raise ReasoningError(f"{p}: no vignettes")
    return out
