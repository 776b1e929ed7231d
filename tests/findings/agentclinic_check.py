"""Sanity check of extraction on the AgentClinic development cases (no hand-made gold).

    .venv/bin/python -m tests.findings.agentclinic_check [--no-semantic] [--demographics]

Each case lists its symptoms as short phrases (Primary_Symptom, Secondary_Symptoms) and
describes them in a History paragraph. Measured: how many symptom phrases map to a KB finding
at all, present or absent (coverage), and how many of the present ones are also found in the
History text (agreement; negated phrases such as 'No fever' count as agreeing). Also counts
findings from the vital signs and negated review of systems; with --demographics the case's
age and sex are passed (children's vital-sign limits), and vital-sign findings are also
counted by verdict.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cases(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(d.get("OSCE_Examination", d))
    return out


def flatten(obj: Any, key: str = "") -> str:
    """A case section as 'Key: value' lines, the way a note would read."""
    if isinstance(obj, dict):
        return "\n".join(flatten(v, k.replace("_", " ")) for k, v in obj.items())
    if isinstance(obj, list):
        return "\n".join(flatten(v, key) for v in obj)
    return f"{key}: {obj}" if key else str(obj)


def check(extractor, path: Path, with_demographics: bool = False) -> dict[str, Any]:
    from tests.findings.extraction_eval import parse_demographics

    phrases = covered = agreed = 0
    vitals_cases = vitals_findings = ros_absent = vitals_present = 0
    for case in cases(path):
        actor = case.get("Patient_Actor", {})
        sex, age = (parse_demographics(actor.get("Demographics", "")) if with_demographics
                    else (None, None))
        symptoms = actor.get("Symptoms", {})
        items = [symptoms.get("Primary_Symptom"), *symptoms.get("Secondary_Symptoms", [])]
        history = actor.get("History", "")
        in_history = {f.id for f in extractor.from_text(history) if f.present}
        for item in filter(None, items):
            phrases += 1
            found = extractor.from_text(str(item))
            if found:
                covered += 1
                agreed += bool({f.id for f in found if f.present} & in_history) or not any(
                    f.present for f in found)
        exam = case.get("Physical_Examination_Findings", {})
        vitals = flatten(exam.get("Vital_Signs", {}))
        found = [f for f in extractor.from_text(vitals, sex=sex, age=age)
                 if f.value is not None]
        vitals_cases += bool(vitals.strip())
        vitals_findings += len(found)
        vitals_present += sum(f.present for f in found)
        ros = actor.get("Review_of_Systems", "")
        ros_absent += sum(1 for f in extractor.from_text(ros, sex=sex, age=age)
                          if not f.present)
    return {"cases": len(cases(path)), "symptom_phrases": phrases,
            "phrases_mapped": covered, "mapped_fraction": round(covered / phrases, 3),
            "mapped_also_in_history": agreed,
            "history_agreement": round(agreed / covered, 3) if covered else 0.0,
            "cases_with_vitals": vitals_cases, "findings_from_vitals": vitals_findings,
            "present_findings_from_vitals": vitals_present,
            "absent_findings_from_review_of_systems": ros_absent}


def main() -> None:
    from osler.findings.extract import FindingExtractor
    from osler.knowledge import default_kb
    from tests.conftest import SHARED

    ap = argparse.ArgumentParser()
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--demographics", action="store_true")
    args = ap.parse_args()
    ex = FindingExtractor(default_kb(), semantic=not args.no_semantic)
    print(json.dumps(check(ex, SHARED / "vignettes" / "agentclinic_dev54.jsonl",
                           args.demographics), indent=1))


if __name__ == "__main__":
    main()
