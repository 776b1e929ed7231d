"""Read a case: a record at a time and/or typed text -> findings, and how much was read.

One function for `osler findings`, `osler ddx` and the window, so the three never disagree
on what a record says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from osler.findings.coverage import coverage
from osler.findings.extract import FindingExtractor
from osler.findings.merge import merge_findings
from osler.findings.model import Finding
from osler.findings.record import exact_age, findings_from_record, note_texts
from osler.knowledge import KnowledgeBase
from osler.record import Timeline


@dataclass(frozen=True, slots=True)
class Reading:
    """Every mention found, and the share of the texts' clauses that produced one."""

    mentions: list[Finding]
    coverage: float
    sex: str | None
    age: float | None
    texts: tuple[tuple[str, str | None], ...] = ()  # (text, note event id or None if typed)

    def merged(self) -> list[Finding]:
        """One counted finding per id, then the superseded and conflicting ones."""
        return merge_findings(self.mentions)


def read_case(kb: KnowledgeBase, extractor: FindingExtractor, timeline: Timeline | None = None,
              text: str | None = None, at: datetime | None = None, age: float | None = None,
              sex: str | None = None) -> Reading:
    """Findings of the record as known at `at` and of the typed text. `age` and `sex`
    override the record's (children's limits, findings that cannot describe the patient)."""
    found: list[Finding] = []
    texts: list[tuple[str, str | None]] = []
    text_age = age
    if timeline is not None:
        found += findings_from_record(timeline, kb, at=at, extractor=extractor, sex=sex, age=age)
        texts += note_texts(timeline, kb, at)
        sex = sex or timeline.patient.sex
        if text_age is None:
            text_age = exact_age(timeline.patient.birth_date, at or timeline.end)
    if text:
        found += extractor.from_text(text, sex=sex, age=text_age)
        texts.append((text, None))
    return Reading(found, coverage(texts, found), sex, text_age, tuple(texts))
