"""How much of a text Osler read: the share of its clauses in which a finding was recognised.

An exam-style vignette full of test results and named signs the knowledge base has no
finding for is read much less completely than a primary-care history, and the differential
is less likely to contain its answer; the text calibration (reasoning/calibration.py) turns
a low coverage into a larger 'not in Osler's list' share. Clauses are the pieces between
full stops, semicolons, line breaks and ', '; pieces under three characters are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from osler.findings.model import Finding

_BREAK = re.compile(r"[.;\n]|, ")


def clause_counts(text: str, spans: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """(clauses read, clauses) of `text` given the character spans of its findings."""
    marks = sorted(spans)
    total = read = 0
    start = 0
    for m in [*_BREAK.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        if len(text[start:end].strip()) >= 3:
            total += 1
            read += any(s < end and e > start for s, e in marks)
        if m is None:
            break
        start = m.end()
    return read, total


def coverage(texts: Iterable[tuple[str, str | None]], findings: list[Finding]) -> float:
    """Share of clauses read over several texts, each given with the event id its findings
    cite (None for typed text); 1.0 when there is no text at all (coded data only)."""
    read = total = 0
    for text, event_id in texts:
        spans = [f.source.span for f in findings
                 if f.source.span is not None and f.source.event_id == event_id]
        r, t = clause_counts(text, spans)  # type: ignore[arg-type]
        read, total = read + r, total + t
    return read / total if total else 1.0
