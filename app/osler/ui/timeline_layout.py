"""The timeline as arrays the view can draw and query fast: lanes, rows, flags, search text.

Built once per record (on the import worker, since it is O(n)); the view then finds what
is visible by bisection (numpy.searchsorted) instead of walking every event per frame.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from osler.findings.abnormal import AbnormalJudge
from osler.knowledge import KnowledgeBase
from osler.record import Event, EventKind, Timeline
from osler.record.values import format_number

log = logging.getLogger(__name__)

LANE_ORDER: tuple[EventKind, ...] = (
    EventKind.ENCOUNTER, EventKind.CONDITION, EventKind.MEDICATION, EventKind.VITAL,
    EventKind.LAB, EventKind.OBSERVATION, EventKind.REPORT, EventKind.IMAGING,
    EventKind.PROCEDURE, EventKind.NOTE, EventKind.IMMUNIZATION, EventKind.ALLERGY,
    EventKind.CAREPLAN, EventKind.ORDER, EventKind.DEVICE, EventKind.FAMILY_HISTORY,
)
LANE_TITLES: dict[EventKind, str] = {
    EventKind.ENCOUNTER: "Encounters", EventKind.CONDITION: "Conditions",
    EventKind.MEDICATION: "Medications", EventKind.VITAL: "Vital signs",
    EventKind.LAB: "Labs", EventKind.OBSERVATION: "Other observations",
    EventKind.REPORT: "Reports", EventKind.IMAGING: "Imaging",
    EventKind.PROCEDURE: "Procedures", EventKind.NOTE: "Notes",
    EventKind.IMMUNIZATION: "Immunizations", EventKind.ALLERGY: "Allergies",
    EventKind.CAREPLAN: "Care plans", EventKind.ORDER: "Orders", EventKind.DEVICE: "Devices",
    EventKind.FAMILY_HISTORY: "Family history",
}
MAX_ROWS = 8
HOUR = 3600.0
DAY = 86400.0
EPISODE_PAD = 0.15  # share of an episode's (or a span's) length shown either side of it ...
EPISODE_MIN_PAD = 2 * HOUR  # ... and at least this much for an episode
SPAN_MIN_PAD = HOUR  # ... or for a medication, encounter or condition
POINT_FOCUS = DAY  # a lab, vital or note is shown in a day around it
NORMAL_FLAGS = frozenset({"N", "NEG", "ND", "NR", "NORMAL", "NEGATIVE", "NOT DETECTED"})


Judge = Callable[[Event], bool]


def flagged_by_source(event: Event) -> bool:
    """True when the source flags the value, or it lies outside its reference range."""
    flag = event.flag
    return flag is not None and flag.strip().upper() not in NORMAL_FLAGS


def is_abnormal(event: Event, judge: Judge | None = None) -> bool:
    """Flagged by the source, or abnormal by the KB's rules as the findings judge it
    (`judge`: the patient's AbnormalJudge; None: the source's flag only)."""
    return flagged_by_source(event) or (judge is not None and judge(event))


def patient_judge(timeline: Timeline, kb: KnowledgeBase | None = None) -> AbnormalJudge | None:
    """The KB's abnormal rules for this record's patient (the app's KB unless given); None
    when no KB can be loaded: the marks then follow the source's flags alone."""
    if kb is None:
        try:
            from osler.knowledge.pack import default_kb

            kb = default_kb()
        except Exception as exc:  # a broken $OSLER_KB must not stop a record opening
            log.warning("no knowledge base for abnormal marks: %s", exc)
            return None
    patient = timeline.patient
    return AbnormalJudge(kb, patient.sex, patient.birth_date)


def haystack(event: Event) -> str:
    """Lower-case text a search matches against: display, codes, value, note text."""
    parts: list[str] = [event.display]
    for c in event.codes:
        parts.extend(x for x in (c.code, c.display) if x)
    if event.code is not None and event.code.code:
        parts.append(event.code.code)
    if event.value is not None:
        parts.append(str(event.value))
        v = event.value
        if isinstance(v, float) and math.isfinite(v) and v != int(v):
            parts.append(format_number(v))  # as shown: 11.5 finds 11.4634
    parts.extend(x for x in (event.unit, event.status, event.category, event.text) if x)
    parts.extend(event.extra.values())
    return "\n".join(parts).lower()


@dataclass(slots=True)
class Lane:
    """Events of one kind, oldest first, with the arrays the view draws from."""

    kind: EventKind
    events: list[Event]
    starts: np.ndarray  # epoch seconds
    ends: np.ndarray  # == starts for points, +inf for ongoing spans
    spans: np.ndarray  # bool: drawn as a bar
    rows: np.ndarray  # int: row inside the lane (spans never overlap within a row)
    abnormal: np.ndarray  # bool
    row_count: int
    point_index: np.ndarray  # indices of point events (starts sorted)
    span_index: np.ndarray  # indices of span events
    texts: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return LANE_TITLES.get(self.kind, self.kind.value.replace("_", " ").capitalize())

    def __len__(self) -> int:
        return len(self.events)

    def visible_points(self, t0: float, t1: float) -> np.ndarray:
        """Indices (into events) of point events with t0 <= time <= t1."""
        pts = self.starts[self.point_index]
        lo = int(np.searchsorted(pts, t0, "left"))
        hi = int(np.searchsorted(pts, t1, "right"))
        return self.point_index[lo:hi]

    def visible_spans(self, t0: float, t1: float) -> np.ndarray:
        """Indices of span events overlapping [t0, t1]."""
        if not len(self.span_index):
            return self.span_index
        s = self.starts[self.span_index]
        e = self.ends[self.span_index]
        return self.span_index[(s <= t1) & (e >= t0)]


@dataclass(slots=True)
class TimelineLayout:
    """All lanes of one patient's record plus lookups by event id."""

    timeline: Timeline
    lanes: list[Lane]
    undated: list[Event]
    index: dict[str, tuple[int, int]]
    start: float | None
    end: float | None
    judge: AbnormalJudge | None = None

    @property
    def event_count(self) -> int:
        return sum(len(lane) for lane in self.lanes) + len(self.undated)

    def locate(self, event_id: str) -> tuple[int, int] | None:
        """(lane number, index in lane) of a dated event."""
        return self.index.get(event_id)

    def event(self, lane: int, i: int) -> Event:
        return self.lanes[lane].events[i]

    def is_abnormal(self, event: Event) -> bool:
        """The mark the timeline draws for this event (undated ones judged on demand)."""
        loc = self.locate(event.id)
        if loc is not None:
            return bool(self.lanes[loc[0]].abnormal[loc[1]])
        return is_abnormal(event, self.judge)

    def search(self, text: str, kinds: set[EventKind] | None = None) -> list[tuple[int, int]]:
        """Events whose display, codes, value or note text contain `text`, oldest first."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits: list[tuple[float, int, int]] = []
        for li, lane in enumerate(self.lanes):
            if kinds is not None and lane.kind not in kinds:
                continue
            for i, hay in enumerate(lane.texts):
                if needle in hay:
                    hits.append((float(lane.starts[i]), li, i))
        hits.sort()
        return [(li, i) for _, li, i in hits]

    def search_undated(self, text: str) -> list[Event]:
        """Undated events matching the search text."""
        needle = text.strip().lower()
        return [e for e in self.undated if needle and needle in haystack(e)] if needle else []


def _pack_rows(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, int]:
    """Greedy interval partitioning: first free row, capped at MAX_ROWS (overflow shares it)."""
    rows = np.zeros(len(starts), dtype=np.int16)
    free: list[tuple[float, int]] = []  # (end of last item, row) heap
    row_ends: list[float] = []
    used = 0
    for i in range(len(starts)):
        s, e = float(starts[i]), float(ends[i])
        if free and free[0][0] < s:
            _, r = heapq.heappop(free)
        elif used < MAX_ROWS:
            r = used
            used += 1
            row_ends.append(-math.inf)
        else:
            # Every row is busy: share the row that frees up first.
            _, r = heapq.heappop(free)
        row_ends[r] = max(row_ends[r], e)
        rows[i] = r
        heapq.heappush(free, (row_ends[r], r))
    return rows, max(used, 1)


def build_lane(kind: EventKind, events: list[Event], judge: Judge | None = None) -> Lane:
    """Arrays for one lane; events must be dated and oldest first."""
    n = len(events)
    starts = np.empty(n, dtype=np.float64)
    ends = np.empty(n, dtype=np.float64)
    spans = np.zeros(n, dtype=bool)
    abnormal = np.zeros(n, dtype=bool)
    for i, e in enumerate(events):
        t = e.time.timestamp() if e.time is not None else 0.0
        starts[i] = t
        if e.end is not None:
            end = max(e.end.timestamp(), t)
            spans[i] = end > t or e.ongoing
            ends[i] = math.inf if e.ongoing and end <= t else end
        elif e.ongoing:
            spans[i] = True
            ends[i] = math.inf
        else:
            ends[i] = t
        abnormal[i] = is_abnormal(e, judge)
    if spans.any():
        rows, row_count = _pack_rows(starts, ends)
    else:
        rows, row_count = np.zeros(n, dtype=np.int16), 1
    return Lane(
        kind=kind,
        events=events,
        starts=starts,
        ends=ends,
        spans=spans,
        rows=rows,
        abnormal=abnormal,
        row_count=row_count,
        point_index=np.flatnonzero(~spans),
        span_index=np.flatnonzero(spans),
        texts=[haystack(e) for e in events],
    )


def build_layout(timeline: Timeline, kb: KnowledgeBase | None = None) -> TimelineLayout:
    """Lanes for every event kind present, in clinical reading order; abnormal marks by the
    source's flags and the KB's rules (`kb`, default the app's)."""
    judge = patient_judge(timeline, kb)
    by_kind: dict[EventKind, list[Event]] = {}
    for e in timeline.dated:
        by_kind.setdefault(e.kind, []).append(e)
    order = [k for k in LANE_ORDER if k in by_kind]
    order += sorted((k for k in by_kind if k not in LANE_ORDER), key=lambda k: k.value)
    lanes = [build_lane(k, by_kind[k], judge) for k in order]
    index = {e.id: (li, i) for li, lane in enumerate(lanes) for i, e in enumerate(lane.events)}
    start = min((float(lane.starts[0]) for lane in lanes), default=None)
    end = max((_last_time(lane) for lane in lanes), default=None)
    return TimelineLayout(timeline, lanes, list(timeline.undated), index, start, end, judge)


def _last_time(lane: Lane) -> float:
    """Latest start or finite end in a lane (ongoing spans do not stretch the record)."""
    finite = lane.ends[np.isfinite(lane.ends)]
    return float(max(lane.starts[-1], finite.max() if len(finite) else lane.starts[-1]))


# --- what to show: the current episode, one event at its own scale ----------------------


def with_margin(start: float, end: float, least: float = EPISODE_MIN_PAD
                ) -> tuple[float, float]:
    """[start, end] widened by EPISODE_PAD of its length on each side, at least `least`."""
    pad = max(EPISODE_PAD * (end - start), least)
    return start - pad, end + pad


def episode_range(layout: TimelineLayout, now: float | None) -> tuple[float, float] | None:
    """(start, end) of the encounter at `now` (epoch seconds), else of the last encounter
    (the last before `now` when given); None when there is none.

    Open-ended encounters run to the record's end (or `now`). An admission holding a ward
    round is one episode; a stale 'in progress' visit from years ago is not, so encounters
    with an end are preferred, and an open-ended one counts only alone.
    """
    lane = next((la for la in layout.lanes if la.kind == EventKind.ENCOUNTER), None)
    if lane is None or not len(lane):
        return None
    starts = lane.starts
    finite = np.isfinite(lane.ends)
    horizon = max(layout.end or 0.0, now if now is not None else -math.inf)
    ends = np.where(finite, lane.ends, np.maximum(starts, horizon))
    if now is not None and not (starts <= now).any():
        return None
    ref = now if now is not None else float(starts[-1])
    at_ref = (starts <= ref) & (ref <= ends)
    if not at_ref.any():  # between encounters: the last one before 'now'
        ref = float(starts[starts <= ref][-1])
        at_ref = (starts <= ref) & (ref <= ends)
    chosen = at_ref & finite
    if not chosen.any():
        chosen = np.zeros(len(lane), bool)
        chosen[np.flatnonzero(at_ref)[-1]] = True
    return float(starts[chosen].min()), float(ends[chosen].max())


def focus_range(layout: TimelineLayout, loc: tuple[int, int], now: float | None
                ) -> tuple[float, float]:
    """The time range that suits one event: a day around a point (a lab, a note); the whole
    span of a medication, encounter or condition (an open one up to the record's end or
    `now`), with a margin."""
    lane = layout.lanes[loc[0]]
    s, e = float(lane.starts[loc[1]]), float(lane.ends[loc[1]])
    if not lane.spans[loc[1]]:
        return s - POINT_FOCUS / 2, s + POINT_FOCUS / 2
    if not math.isfinite(e):
        e = max(layout.end or s, now if now is not None else s, s)
    return with_margin(s, max(e, s + HOUR), SPAN_MIN_PAD)
