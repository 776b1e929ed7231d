"""A patient's events in time order, indexed for the lookups every layer needs."""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from osler.record.event import Event, EventKind
from osler.record.patient import Patient


def _sort_key(e: Event) -> tuple[int, float, str]:
    # Undated events sort last; ties keep a deterministic order by id.
    if e.time is None:
        return (1, 0.0, e.id)
    return (0, e.time.timestamp(), e.id)


@dataclass(slots=True)
class Timeline:
    """Patient plus events, oldest first (undated events at the end)."""

    patient: Patient
    events: list[Event] = field(default_factory=list)
    _by_id: dict[str, Event] = field(default_factory=dict, init=False, repr=False)
    _stamps: list[float] = field(default_factory=list, init=False, repr=False)
    # Built on first use: reasoning asks for them several times per differential.
    _kinds: dict[EventKind, list[Event]] | None = field(default=None, init=False, repr=False)
    _end: tuple[datetime | None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.events = sorted(self.events, key=_sort_key)
        self._by_id = {e.id: e for e in self.events}
        self._stamps = [e.time.timestamp() for e in self.events if e.time is not None]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._by_id

    def get(self, event_id: str) -> Event | None:
        """The event with this id, or None."""
        return self._by_id.get(event_id)

    @property
    def dated(self) -> list[Event]:
        """Events that have a time, oldest first."""
        return self.events[: len(self._stamps)]

    @property
    def undated(self) -> list[Event]:
        """Events whose time is unknown."""
        return self.events[len(self._stamps) :]

    @property
    def start(self) -> datetime | None:
        """Time of the oldest dated event."""
        return self.events[0].time if self._stamps else None

    @property
    def end(self) -> datetime | None:
        """Time of the newest dated event (or end of the latest span)."""
        if self._end is not None:
            return self._end[0]
        latest = None
        if self._stamps:
            latest = self.dated[-1].time
            for e in self.dated:
                if e.end is not None and latest is not None and e.end > latest:
                    latest = e.end
        self._end = (latest,)
        return latest

    def by_kind(self, *kinds: EventKind) -> list[Event]:
        """Events of the given kinds, oldest first."""
        if self._kinds is None:
            index: dict[EventKind, list[Event]] = {}
            for e in self.events:
                index.setdefault(e.kind, []).append(e)
            self._kinds = index
        lists = [self._kinds[k] for k in dict.fromkeys(kinds) if k in self._kinds]
        if len(lists) == 1:
            return list(lists[0])
        return list(heapq.merge(*lists, key=_sort_key))

    def window(self, start: datetime | None, end: datetime | None) -> list[Event]:
        """Dated events with start <= time <= end, found by bisection."""
        lo = 0 if start is None else bisect.bisect_left(self._stamps, start.timestamp())
        hi = len(self._stamps) if end is None else bisect.bisect_right(
            self._stamps, end.timestamp()
        )
        return self.events[lo:hi]

    def until(self, when: datetime | None) -> Timeline:
        """The record as it was known at `when`: dated events up to then, plus undated ones."""
        if when is None:
            return self
        events = self.window(None, when) + self.undated
        return Timeline(self.patient, events)

    def series(self, code: str) -> list[Event]:
        """Numeric observations with this code (any system), oldest first, for trends."""
        return [
            e
            for e in self.dated
            if e.numeric is not None and any(c.code == code for c in e.codes)
        ]

    def latest(self, code: str, when: datetime | None = None) -> Event | None:
        """Most recent numeric observation with this code at or before `when`."""
        found = None
        for e in self.series(code):
            if when is not None and e.time is not None and e.time > when:
                break
            found = e
        return found

    def counts(self) -> dict[str, int]:
        """Number of events per kind."""
        return dict(Counter(e.kind.value for e in self.events))

    def extend(self, events: Iterable[Event]) -> Timeline:
        """A new timeline with more events (e.g. typed findings in teaching mode)."""
        return Timeline(self.patient, [*self.events, *events])
