"""A report's analytes: the events a DiagnosticReport's `result` references point at.

The FHIR mapping keeps those references as event ids in `extra["results"]`. A result that
is a panel with components only (a blood pressure) has no event of its own: its components
(`Observation/x#8480-6`) name it as their `parent`, so they stand in for it.
"""

from __future__ import annotations

from osler.record.event import Event
from osler.record.timeline import Timeline

RESULTS_KEY = "results"


def result_ids(report: Event) -> list[str]:
    """Event ids of a report's results, in the report's order."""
    return (report.extra.get(RESULTS_KEY) or "").split()


def report_members(timeline: Timeline, report: Event) -> list[Event]:
    """The events a report lists as its results; unknown references are left out."""
    ids = result_ids(report)
    if not ids:
        return []
    found: dict[str, Event] = {}
    missing: list[str] = []
    for rid in ids:
        e = timeline.get(rid)
        if e is not None:
            found[rid] = e
        else:
            missing.append(rid)
    children: dict[str, list[Event]] = {}
    if missing:
        wanted = set(missing)
        for e in timeline:  # one pass, only for panels without an event of their own
            if e.parent in wanted:
                children.setdefault(e.parent, []).append(e)
    out: list[Event] = []
    for rid in ids:
        if rid in found:
            out.append(found[rid])
        else:
            out.extend(children.get(rid, ()))
    return out
