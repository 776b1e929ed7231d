"""One counted finding per id from many mentions, by a fixed rule the explanations can state.

The winner among counted mentions (current or background) of the same finding is, in order:
1. the most recent, when the two are more than 24 hours apart (undated mentions, such as
   typed text, count as newest);
2. then a measured value over a coded record entry over free text;
3. then a certain mention over a hedged one;
4. then present over absent (a note that both denies and reports a symptom keeps it);
5. then the higher match score, then the earlier position.
So a normal temperature today beats 'febrile' in last week's note, and 'cough' in today's
note beats 'no cough' a month ago. A record mention that lost to one saying the opposite is
kept as *superseded* (with the winner as the event that decided it), so the clinician sees
what was set aside and why; superseded and conflicting findings from the record reader are
kept too. None of those is counted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from osler.findings.model import SUPERSEDED, Finding

_NEWEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
SAME_EPISODE = timedelta(hours=24)  # mentions closer than this are compared by kind, not time


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One counted finding per id (the winner by the rule above), in order of first mention,
    followed by the findings shown but not counted (superseded, conflict)."""
    order: list[str] = []
    best: dict[str, Finding] = {}
    losers: dict[str, list[Finding]] = {}
    shown: list[Finding] = []
    for f in findings:
        if not f.counted:
            shown.append(f)
            continue
        if f.id not in best:
            order.append(f.id)
            best[f.id] = f
        elif beats(f, best[f.id]):
            losers.setdefault(f.id, []).append(best[f.id])
            best[f.id] = f
        else:
            losers.setdefault(f.id, []).append(f)
    out = [best[i] for i in order]
    seen = {(f.id, f.role, f.source.event_id, f.present) for f in shown}
    for fid in order:
        win = best[fid]
        for f in losers.get(fid, ()):
            if f.present == win.present or f.source.event_id is None:
                continue  # an agreeing mention, or typed text: nothing to show
            key = (f.id, SUPERSEDED, f.source.event_id, f.present)
            if key in seen:
                continue
            seen.add(key)
            shown.append(replace(f, role=SUPERSEDED, role_event=win.source.event_id or "text",
                                 role_reason=_why(win, f)))
    unique: list[Finding] = []
    kept: set[tuple] = set()
    for f in shown:
        key = (f.id, f.role, f.source.event_id, f.present)
        if key not in kept:
            kept.add(key)
            unique.append(f)
    return out + unique


def beats(a: Finding, b: Finding) -> bool:
    """True if mention `a` should stand for the finding rather than mention `b`."""
    ta, tb = _when(a.time), _when(b.time)
    if abs(ta - tb) > SAME_EPISODE:
        return ta > tb
    return _rank(a) > _rank(b)


def _why(win: Finding, lost: Finding) -> str:
    ta, tb = _when(win.time), _when(lost.time)
    if abs(ta - tb) > SAME_EPISODE and ta > tb:
        return ("superseded by a newer mention" if win.time is None
                else f"superseded by a newer {'result' if win.value is not None else 'entry'} "
                     f"({win.time[:10]})")
    if win.value is not None:
        return "superseded by a measured value"
    return "outweighed by another mention of the same day"


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
