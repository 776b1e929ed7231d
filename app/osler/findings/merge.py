"""One finding per id from many mentions, by a fixed rule the explanations can state.

The winner among mentions of the same finding is, in order:
1. the most recent, when the two are more than 24 hours apart (undated mentions, such as
   typed text, count as newest);
2. then a measured value over a coded record entry over free text;
3. then a certain mention over a hedged one;
4. then present over absent (a note that both denies and reports a symptom keeps it);
5. then the higher match score, then the earlier position.
So a normal temperature today beats 'febrile' in last week's note, and 'cough' in today's
note beats 'no cough' a month ago.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from osler.findings.model import Finding

_NEWEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
SAME_EPISODE = timedelta(hours=24)  # mentions closer than this are compared by kind, not time


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per id (the winner by the rule above), in order of first mention."""
    order: list[str] = []
    best: dict[str, Finding] = {}
    for f in findings:
        if f.id not in best:
            order.append(f.id)
            best[f.id] = f
        elif beats(f, best[f.id]):
            best[f.id] = f
    return [best[i] for i in order]


def beats(a: Finding, b: Finding) -> bool:
    """True if mention `a` should stand for the finding rather than mention `b`."""
    ta, tb = _when(a.time), _when(b.time)
    if abs(ta - tb) > SAME_EPISODE:
        return ta > tb
    return _rank(a) > _rank(b)


def _rank(f: Finding) -> tuple:
    kind = 2 if f.value is not None else (1 if f.source.span is None and f.source.event_id
                                          else 0)
    start = f.source.span[0] if f.source.span else 0
    return (kind, f.certain, f.present, f.score, -start)


def _when(iso: str | None) -> datetime:
    if not iso:
        return _NEWEST
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return _NEWEST
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
