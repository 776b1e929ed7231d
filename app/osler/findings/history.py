"""History and risk-factor findings from coded record events: active conditions, current
medications, recent procedures and admissions, and coded observations such as smoking status.

What counts is written in the KB (FindingDef.record rules and FindingDef.codes), so a clinic's
pack can change it without code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from osler.knowledge import FindingDef, KnowledgeBase
from osler.knowledge.model import RecordRule
from osler.record import Event, EventKind

SYSTEMS = {
    "snomed": ("http://snomed.info/sct",),
    "icd10cm": ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10",
                "urn:oid:2.16.840.1.113883.6.90"),
    "icd10": ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm"),
    "loinc": ("http://loinc.org",),
    "rxnorm": ("http://www.nlm.nih.gov/research/umls/rxnorm",),
}
INACTIVE = frozenset({"inactive", "resolved", "remission"})
REFUTED = frozenset({"refuted", "entered-in-error"})
CURRENT_MEDICATION = frozenset({"active", "on-hold", "intended", "in-progress"})
RECENT_MEDICATION_DAYS = 30  # a medication started this recently counts whatever its status
INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})
MEMO_LIMIT = 200_000  # distinct (kind, codes, display) keys kept per KB


@dataclass(frozen=True, slots=True)
class Hit:
    """A finding implied by one event."""

    finding: FindingDef
    present: bool
    event: Event


class HistoryRules:
    """The KB's record rules, indexed by event kind, and symptom codes, for one KB."""

    def __init__(self, kb: KnowledgeBase):
        self.by_kind: dict[str, list[tuple[FindingDef, RecordRule]]] = {}
        self.by_code: dict[tuple[str, str], list[FindingDef]] = {}
        # (kind, codes, display) -> the rules whose codes or keywords match: the time-free
        # part of matching, the same for every repeat of a lab or problem in a long record.
        self._matching: dict[tuple, tuple[tuple[FindingDef, RecordRule], ...]] = {}
        for f in kb.findings:
            for r in f.record:
                self.by_kind.setdefault(r.kind, []).append((f, r))
            if not any(r.kind == "condition" for r in f.record):
                for code in f.codes:
                    system, _, value = code.partition("|")
                    self.by_code.setdefault((system, value), []).append(f)

    @staticmethod
    def of(kb: KnowledgeBase) -> HistoryRules:
        return kb.derived("findings.history", HistoryRules)

    def hits(self, events: list[Event], ref: datetime | None) -> list[Hit]:
        """Findings implied by `events` as they stand at time `ref`."""
        out: list[Hit] = []
        latest_obs: dict[tuple[str, str], Event] = {}
        for e in events:
            kind = e.kind.value
            if kind == "condition" and not _condition_active(e, ref):
                continue
            if kind in ("observation", "lab", "vital"):
                if isinstance(e.value, str):
                    for f, _ in self._candidates(kind, e, codes_only=True):
                        latest_obs[(f.id, kind)] = e  # events come oldest first
                continue
            for f, r in self._candidates(kind, e):
                if _time_matches(e, r, ref):
                    out.append(Hit(f, True, e))
            if kind == "condition":
                for c in e.codes:
                    for system, urls in SYSTEMS.items():
                        if c.system in urls and c.code:
                            for f in self._code_findings(system, c.code):
                                out.append(Hit(f, True, e))
        for (fid, kind), e in latest_obs.items():
            for f, r in self.by_kind.get(kind, ()):
                if f.id != fid or not _codes_match(e, r.codes):
                    continue
                verdict = _value_verdict(str(e.value), r)
                if verdict is not None:
                    out.append(Hit(f, verdict, e))
        return out

    def _candidates(self, kind: str, e: Event, codes_only: bool = False
                    ) -> tuple[tuple[FindingDef, RecordRule], ...]:
        """The rules of `kind` whose codes (or keywords) match `e`, memoised."""
        key = (kind, codes_only, tuple((c.system, c.code) for c in e.codes),
               None if codes_only else e.display)
        found = self._matching.get(key)
        if found is None:
            found = tuple((f, r) for f, r in self.by_kind.get(kind, ())
                          if _codes_match(e, r.codes)
                          or (not codes_only and _keywords_match(e.display, r)))
            if len(self._matching) < MEMO_LIMIT:
                self._matching[key] = found
        return found

    def _code_findings(self, system: str, code: str) -> list[FindingDef]:
        found = list(self.by_code.get((system, code), ()))
        for (s, value), fs in self.by_code.items():
            if s == system and value.endswith("*") and code.startswith(value[:-1]):
                found.extend(fs)
        return found


def _condition_active(e: Event, ref: datetime | None) -> bool:
    if e.extra.get("verification") in REFUTED:
        return False
    if e.time is not None and ref is not None and _aware(e.time) > _aware(ref):
        return False
    if e.end is not None:
        return ref is None or _aware(e.end) >= _aware(ref)
    return e.status not in INACTIVE


def _time_matches(e: Event, r: RecordRule, ref: datetime | None) -> bool:
    """The time-dependent part of a rule, for an event whose codes or words matched."""
    if e.kind is EventKind.MEDICATION:
        return _medication_current(e, r, ref)
    if e.kind is EventKind.ENCOUNTER:
        return _stay_matches(e, r, ref)
    if r.within_days is not None:
        return _within(e.time, ref, r.within_days)
    return True


def _medication_current(e: Event, r: RecordRule, ref: datetime | None) -> bool:
    if e.time is not None and ref is not None and _aware(e.time) > _aware(ref):
        return False
    if r.within_days is not None:
        return _within(e.time, ref, r.within_days)
    if e.end is not None and ref is not None:
        return _aware(e.end) >= _aware(ref)
    if e.status is None or e.status in CURRENT_MEDICATION:
        return True
    return _within(e.time, ref, RECENT_MEDICATION_DAYS)


def _stay_matches(e: Event, r: RecordRule, ref: datetime | None) -> bool:
    if e.time is None:
        return False
    end = e.end or ref
    if end is None:
        return False
    if r.min_days is not None and (_aware(end) - _aware(e.time)) < timedelta(days=r.min_days):
        return False
    if e.category not in INPATIENT_CLASSES and not _keywords_match(e.display, r):
        return False
    if ref is None:
        return True
    if _aware(e.time) > _aware(ref):
        return False
    if r.within_days is not None:
        return _within(min(_aware(end), _aware(ref)), ref, r.within_days)
    return True


def _within(t: datetime | None, ref: datetime | None, days: int) -> bool:
    if t is None:
        return False
    if ref is None:
        return True
    delta = _aware(ref) - _aware(t)
    return timedelta(0) <= delta <= timedelta(days=days)


def _codes_match(e: Event, codes: tuple[str, ...]) -> bool:
    if not codes:
        return False
    for spec in codes:
        system, _, value = spec.partition("|")
        urls = SYSTEMS.get(system, (system,))
        prefix = value.endswith("*")
        want = value[:-1] if prefix else value
        for c in e.codes:
            if c.code is None or (c.system is not None and c.system not in urls):
                continue
            code = c.code.upper() if system.startswith("icd10") else c.code
            if (code.startswith(want.upper() if system.startswith("icd10") else want)
                    if prefix else code == want):
                return True
    return False


@lru_cache(maxsize=4096)
def _word_re(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


def _keywords_match(display: str | None, r: RecordRule) -> bool:
    if not display or not r.keywords:
        return False
    text = display.lower()
    if not any(_word_re(k).search(text) or (k.endswith(("ectomy", "otomy", "ostomy", "plasty",
                                                        "scop")) and k in text)
               for k in r.keywords):
        return False
    return not any(x in text for x in r.exclude)


def _value_verdict(value: str, r: RecordRule) -> bool | None:
    v = value.lower()
    if any(a in v for a in r.absent_values):
        return False
    if any(p in v for p in r.present_values):
        return True
    return None


def _aware(t: datetime) -> datetime:
    """Compare naive and aware times: a naive time is taken as UTC."""
    if t.tzinfo is None:
        from datetime import UTC

        return t.replace(tzinfo=UTC)
    return t
