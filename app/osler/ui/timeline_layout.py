"""The timeline as arrays the view can draw and query fast: lanes, rows, flags, search text.

Built once per record (on the import worker, since it is O(n)); the view then finds what
is visible by bisection (numpy.searchsorted) instead of walking every event per frame.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from osler.record import Event, EventKind, Timeline

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
NORMAL_FLAGS = frozenset({"N", "NEG", "ND", "NR", "NORMAL", "NEGATIVE", "NOT DETECTED"})


def is_abnormal(event: Event) -> bool:
    """True when the source flags the value, or it lies outside its reference range."""
    flag = event.flag
    return flag is not None and flag.strip().upper() not in NORMAL_FLAGS


def haystack(event: Event) -> str:
    """Lower-case text a search matches against: display, codes, value, note text."""
    parts: list[str] = [event.display]
    for c in event.codes:
        parts.extend(x for x in (c.code, c.display) if x)
    if event.code is not None and event.code.code:
        parts.append(event.code.code)
    if event.value is not None:
        parts.append(str(event.value))
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

    @property
    def event_count(self) -> int:
        return sum(len(lane) for lane in self.lanes) + len(self.undated)

    def locate(self, event_id: str) -> tuple[int, int] | None:
        """(lane number, index in lane) of a dated event."""
        return self.index.get(event_id)

    def event(self, lane: int, i: int) -> Event:
        return self.lanes[lane].events[i]

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


def build_lane(kind: EventKind, events: list[Event]) -> Lane:
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
        abnormal[i] = is_abnormal(e)
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


def build_layout(timeline: Timeline) -> TimelineLayout:
    """Lanes for every event kind present, in clinical reading order."""
    by_kind: dict[EventKind, list[Event]] = {}
    for e in timeline.dated:
        by_kind.setdefault(e.kind, []).append(e)
    order = [k for k in LANE_ORDER if k in by_kind]
    order += sorted((k for k in by_kind if k not in LANE_ORDER), key=lambda k: k.value)
    lanes = [build_lane(k, by_kind[k]) for k in order]
    index = {e.id: (li, i) for li, lane in enumerate(lanes) for i, e in enumerate(lane.events)}
    start = min((float(lane.starts[0]) for lane in lanes), default=None)
    end = max((_last_time(lane) for lane in lanes), default=None)
    return TimelineLayout(timeline, lanes, list(timeline.undated), index, start, end)


def _last_time(lane: Lane) -> float:
    """Latest start or finite end in a lane (ongoing spans do not stretch the record)."""
    finite = lane.ends[np.isfinite(lane.ends)]
    return float(max(lane.starts[-1], finite.max() if len(finite) else lane.starts[-1]))
