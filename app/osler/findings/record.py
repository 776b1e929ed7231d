"""A patient record at a point in time -> findings, each citing the event it came from and
saying what it is to the episode at 'now' (findings/episode.py): current, background,
superseded or conflict.

Vital signs and labs: the latest value of each measurement at or before the time, judged by
the KB's thresholds for the patient's sex and age at the measurement (present when abnormal,
absent when normal); it is current if recent enough to describe the patient now, and an
older value that says otherwise within that window is shown as superseded by it. Findings
the KB restricts to one sex or an age range are set aside, with a warning, for other
patients. Conditions, medications, procedures and admissions: history and risk-factor
findings (findings/history.py), background; a problem-list entry of a symptom, sign or lab
abnormality is current when it began in the episode, else background, and a conflict when a
newer result contradicts it. Notes and report texts of the episode: free-text findings with
the note's event id and the character span. Only events known at `at` are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from osler.findings.abnormal import exact_age, verdict
from osler.findings.episode import EpisodeWindows, is_background
from osler.findings.extract import FindingExtractor
from osler.findings.history import HistoryRules, Hit, _aware
from osler.findings.model import BACKGROUND, CONFLICT, CURRENT, SUPERSEDED, Finding, Provenance
from osler.findings.population import Age
from osler.knowledge import FindingDef, KnowledgeBase
from osler.record import Event, EventKind, Timeline

LOINC = "http://loinc.org"
MEASURED_KINDS = (EventKind.VITAL, EventKind.LAB, EventKind.OBSERVATION)
TEXT_KINDS = (EventKind.NOTE, EventKind.REPORT)


def findings_from_record(timeline: Timeline, kb: KnowledgeBase, at: datetime | None = None,
                         extractor: FindingExtractor | None = None, *, sex: str | None = None,
                         age: Age | None = None) -> list[Finding]:
    """Findings of the record as known at `at` (default: its latest event), unmerged.

    The patient's sex and age at each event come from the record; `sex` and `age` (years)
    override them (`--sex`, `--age`). Findings that cannot describe the patient are set
    aside and listed in the extractor's `warnings`. Pass the result to
    `osler.findings.merge.merge_findings` for one counted finding per id.
    """
    known = timeline.until(at)
    ref = at if at is not None else known.end
    patient = known.patient
    sex = sex or patient.sex
    windows = EpisodeWindows.of(kb)

    def age_at(when: datetime | None) -> Age | None:
        return age if age is not None else exact_age(patient.birth_date, when or ref)

    out: list[Finding] = []
    measured, latest = _measurements(known, kb, ref, sex, age_at, windows)
    out.extend(measured)
    ex = extractor or FindingExtractor(kb)
    for hit in HistoryRules.of(kb).hits(list(known), ref):
        f = _from_event(hit.finding, hit.present, hit.event)
        if ex.usable_for(f, sex, age_at(hit.event.time)):
            out.append(_history_role(f, hit, ref, windows, latest))
    for e in _episode_notes(known, ref, windows):
        out.extend(ex.from_text(e.text or "", event_id=e.id, time=_iso(e.time), sex=sex,
                                age=age_at(e.time)))
    return out


def _episode_notes(known: Timeline, ref: datetime | None, windows: EpisodeWindows
                   ) -> list[Event]:
    """Notes and reports with text written in the episode (or undated)."""
    return [e for e in known.by_kind(*TEXT_KINDS) if e.text and not (
        e.time is not None and ref is not None
        and _aware(ref) - _aware(e.time) > windows.symptom)]


def note_texts(timeline: Timeline, kb: KnowledgeBase, at: datetime | None = None
               ) -> list[tuple[str, str | None]]:
    """(text, event id) of the notes and reports `findings_from_record` reads at `at`."""
    known = timeline.until(at)
    ref = at if at is not None else known.end
    return [(e.text or "", e.id) for e in _episode_notes(known, ref, EpisodeWindows.of(kb))]


def _history_role(f: Finding, hit: Hit, ref: datetime | None, windows: EpisodeWindows,
                  latest: dict[str, tuple[bool, Event]]) -> Finding:
    """Background for history and risk factors and for problems older than the episode;
    current for a problem begun in it; conflict when a newer result contradicts it."""
    e = hit.event
    when = _day(e.time)
    if is_background(hit.finding):
        return replace(f, role=BACKGROUND)
    measured = latest.get(f.id)
    if (measured is not None and e.time is not None and measured[1].time is not None
            and _aware(measured[1].time) > _aware(e.time) and measured[0] != f.present):
        return replace(f, role=CONFLICT, role_event=measured[1].id,
                       role_reason=f"recorded {when}; a newer result "
                                   f"({_day(measured[1].time)}) says otherwise")
    if e.time is not None and ref is not None and _aware(ref) - _aware(e.time) <= windows.symptom:
        return replace(f, role=CURRENT)
    return replace(f, role=BACKGROUND,
                   role_reason=f"recorded {when}, before this episode" if e.time else
                   "undated problem-list entry")


def _measurements(tl: Timeline, kb: KnowledgeBase, ref: datetime | None, sex: str | None,
                  age_at: Callable[[datetime | None], Age | None], windows: EpisodeWindows
                  ) -> tuple[list[Finding], dict[str, tuple[bool, Event]]]:
    """Current findings from the latest value of each measurement, older values they
    supersede, and the latest verdict of any age per finding (to detect conflicts)."""
    from osler.findings.measure import MeasurementIndex

    index = MeasurementIndex.of(kb)
    series: dict[str, list[Event]] = {}
    for e in tl.by_kind(*MEASURED_KINDS):
        if e.time is None or e.numeric is None:
            continue
        for c in e.codes:
            if c.code in index.by_loinc and c.system in (LOINC, None):
                series.setdefault(c.code, []).append(e)  # oldest first
    out: list[Finding] = []
    latest_any: dict[str, tuple[bool, Event]] = {}
    seen: set[str] = set()
    for f in kb.findings:
        if not f.rules or f.id in seen:
            continue
        best: tuple[bool, Event, str] | None = None
        newest: tuple[bool, Event] | None = None
        for group in _groups(f):
            events = [series[c][-1] for c in group if c in series]
            if not events:
                continue
            e = max(events, key=lambda x: _aware(x.time) if x.time else datetime.min)
            present = _verdict(f, e, group, sex, age_at)
            if present is None:
                continue
            if newest is None or _aware(e.time) > _aware(newest[1].time):
                newest = (present, e)
            if not _fresh(f, e, ref, windows):
                continue
            if best is None or (present and not best[0]) or (
                    present == best[0] and _aware(e.time) > _aware(best[1].time)):
                best = (present, e, ",".join(group))
        if newest is not None:
            latest_any[f.id] = newest
        if best is None:
            continue
        present, e, codes = best
        seen.add(f.id)
        out.append(replace(_from_event(f, present, e), value=e.numeric, unit=e.unit))
        older = _older_disagreeing(f, present, e, codes.split(","), series, sex, age_at, ref,
                                   windows)
        if older is not None:
            out.append(replace(_from_event(f, not present, older), value=older.numeric,
                               unit=older.unit, role=SUPERSEDED, role_event=e.id,
                               role_reason=f"superseded by a newer result ({_day(e.time)})"))
    return out, latest_any


def _older_disagreeing(f: FindingDef, present: bool, latest: Event, group: list[str],
                       series: dict[str, list[Event]], sex: str | None,
                       age_at: Callable[[datetime | None], Age | None], ref: datetime | None,
                       windows: EpisodeWindows) -> Event | None:
    """The most recent earlier value in the episode that said the opposite, if any. Each
    series is oldest first, so it is read backwards and left at its first value older than
    the episode window (a long record costs only its recent values)."""
    older: list[Event] = []
    for c in group:
        for e in reversed(series.get(c, ())):
            if e is latest or e.time is None or _aware(e.time) > _aware(latest.time):
                continue
            if not _fresh(f, e, ref, windows):
                break
            older.append(e)
    older.sort(key=lambda x: _aware(x.time), reverse=True)
    for e in older:
        verdict = _verdict(f, e, tuple(group), sex, age_at)
        if verdict is not None and verdict != present:
            return e
    return None


def _verdict(f: FindingDef, e: Event, group: tuple[str, ...] | list[str], sex: str | None,
             age_at: Callable[[datetime | None], Age | None]) -> bool | None:
    """Present/absent from one measurement (the lab's own flag first), or None; the rule
    lives in findings/abnormal.py, which the timeline's abnormal marks share."""
    code = next((c.code for c in e.codes if c.code in group), None)
    if code is None:
        return None
    return verdict(f, e, code, sex, age_at(e.time))


def _groups(f: FindingDef) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    for r in f.rules:
        if r.loinc not in groups:
            groups.append(r.loinc)
    return groups


def _fresh(f: FindingDef, e: Event, ref: datetime | None, windows: EpisodeWindows) -> bool:
    if ref is None or e.time is None:
        return True
    age = _aware(ref) - _aware(e.time)
    return age <= windows.for_measurement(f.category)


def _from_event(f: FindingDef, present: bool, e: Event) -> Finding:
    return Finding(id=f.id, label=f.label, present=present,
                   source=Provenance(event_id=e.id, snippet=e.display or None),
                   time=_iso(e.time), role=BACKGROUND if is_background(f) else CURRENT)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _day(t: datetime | None) -> str:
    return t.date().isoformat() if t is not None else "undated"
