"""A patient record at a point in time -> findings, each citing the event it came from.

Vital signs and labs: the latest value of each measurement at or before the time, judged by
the KB's thresholds for the patient's sex and age at the measurement (present when abnormal,
absent when normal), if it is recent enough to describe the patient now. Findings the KB
restricts to one sex or an age range are set aside, with a warning, for other patients.
Conditions, medications, procedures and admissions: history and risk-factor findings
(findings/history.py). Notes and report texts: free-text findings with
the note's event id and the character span. Only events known at `at` are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from osler.findings.extract import FindingExtractor
from osler.findings.history import HistoryRules, _aware
from osler.findings.measure import MeasurementIndex, decide
from osler.findings.model import Finding, Provenance
from osler.findings.population import Age
from osler.knowledge import FindingDef, KnowledgeBase
from osler.record import Event, EventKind, Timeline

LOINC = "http://loinc.org"
# How old a measurement may be and still describe the patient at the reference time.
MAX_AGE = {"vital": timedelta(days=3), "lab": timedelta(days=30)}
MAX_AGE_OTHER = timedelta(days=365)  # BMI and other slow-moving measurements
NOTE_WINDOW = timedelta(days=30)  # notes this recent (before the time) are read
MEASURED_KINDS = (EventKind.VITAL, EventKind.LAB, EventKind.OBSERVATION)
TEXT_KINDS = (EventKind.NOTE, EventKind.REPORT)


def findings_from_record(timeline: Timeline, kb: KnowledgeBase, at: datetime | None = None,
                         extractor: FindingExtractor | None = None, *, sex: str | None = None,
                         age: Age | None = None) -> list[Finding]:
    """Findings of the record as known at `at` (default: its latest event), unmerged.

    The patient's sex and age at each event come from the record; `sex` and `age` (years)
    override them (`--sex`, `--age`). Findings that cannot describe the patient are set
    aside and listed in the extractor's `warnings`. Pass the result to
    `osler.findings.merge.merge_findings` for one finding per id.
    """
    known = timeline.until(at)
    ref = at if at is not None else known.end
    patient = known.patient
    sex = sex or patient.sex

    def age_at(when: datetime | None) -> Age | None:
        return age if age is not None else exact_age(patient.birth_date, when or ref)

    out: list[Finding] = []
    out.extend(_measurements(known, kb, ref, sex, age_at))
    ex = extractor or FindingExtractor(kb)
    for hit in HistoryRules.of(kb).hits(list(known), ref):
        f = _from_event(hit.finding, hit.present, hit.event)
        if ex.usable_for(f, sex, age_at(hit.event.time)):
            out.append(f)
    for e in known.by_kind(*TEXT_KINDS):
        if not e.text:
            continue
        if e.time is not None and ref is not None and _aware(ref) - _aware(e.time) > NOTE_WINDOW:
            continue
        out.extend(ex.from_text(e.text, event_id=e.id, time=_iso(e.time), sex=sex,
                                age=age_at(e.time)))
    return out


def exact_age(birth: date | None, when: datetime | None) -> float | None:
    """Age in years (fractional, so a 3-week-old is a neonate) on `when`, if both are known."""
    if birth is None or when is None:
        return None
    days = (when.date() - birth).days
    return days / 365.25 if days >= 0 else None


def _measurements(tl: Timeline, kb: KnowledgeBase, ref: datetime | None, sex: str | None,
                  age_at: Callable[[datetime | None], Age | None]) -> list[Finding]:
    index = MeasurementIndex.of(kb)
    latest: dict[str, Event] = {}
    for e in tl.dated:
        if e.kind not in MEASURED_KINDS or e.numeric is None:
            continue
        for c in e.codes:
            if c.code in index.by_loinc and c.system in (LOINC, None):
                latest[c.code] = e  # oldest first, so the last one wins
    out = []
    seen: set[str] = set()
    for f in kb.findings:
        if not f.rules or f.id in seen:
            continue
        best: tuple[bool, Event, str] | None = None
        for group in _groups(f):
            events = [latest[c] for c in group if c in latest]
            if not events:
                continue
            e = max(events, key=lambda x: _aware(x.time) if x.time else datetime.min)
            if not _fresh(f, e, ref):
                continue
            code = next(c.code for c in e.codes if c.code in group)
            v = decide(f, code, e.numeric, e.unit, sex, age_at(e.time))  # type: ignore[arg-type]
            lab = _lab_says(f, e)
            if v is None and lab is None:
                continue
            present = lab if lab is not None else v.present  # type: ignore[union-attr]
            if best is None or (present and not best[0]) or (
                    present == best[0] and _aware(e.time) > _aware(best[1].time)):
                best = (present, e, v.rule_text if v else "the laboratory's reference range")
        if best is not None:
            present, e, _rule = best
            seen.add(f.id)
            out.append(replace(_from_event(f, present, e), value=e.numeric, unit=e.unit))
    return out


HIGH_FLAGS = {"H", "HH", "HU", ">"}
LOW_FLAGS = {"L", "LL", "LU", "<"}
KNOWN_FLAGS = HIGH_FLAGS | LOW_FLAGS | {"N"}


def _lab_says(f: FindingDef, e: Event) -> bool | None:
    """The laboratory's own judgement of a lab value (its flag, or its reference range), for a
    finding whose rules all point one way; assays differ, so the lab's range beats the KB's
    generic threshold. None when the lab gives no range or the finding is not a lab finding."""
    if f.category != "lab" or not f.rules:
        return None
    ops = {r.op[0] for r in f.rules}
    if len(ops) != 1:
        return None
    if e.flag not in KNOWN_FLAGS:
        return None
    return e.flag in (HIGH_FLAGS if ops == {">"} else LOW_FLAGS)


def _groups(f: FindingDef) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    for r in f.rules:
        if r.loinc not in groups:
            groups.append(r.loinc)
    return groups


def _fresh(f: FindingDef, e: Event, ref: datetime | None) -> bool:
    if ref is None or e.time is None:
        return True
    age = _aware(ref) - _aware(e.time)
    return age <= MAX_AGE.get(f.category, MAX_AGE_OTHER)


def _from_event(f: FindingDef, present: bool, e: Event) -> Finding:
    return Finding(id=f.id, label=f.label, present=present,
                   source=Provenance(event_id=e.id, snippet=e.display or None),
                   time=_iso(e.time))


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None
