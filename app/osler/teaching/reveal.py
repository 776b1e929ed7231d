"""Progressive disclosure: a case's record revealed stage by stage or event by event.

Only revealed events leave this object: `visible_timeline()` is what the screen shows and
what the model reasons on, so an unrevealed event can reach neither. In presentation mode
the patient is anonymous (age and sex only) and identifiers are replaced in every text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from osler.record import Timeline
from osler.teaching.cases import CaseMeta
from osler.teaching.errors import TeachingError
from osler.teaching.redact import Redactor, anonymous_patient
from osler.teaching.stages import RevealUnit, Stage, plan_stages

if TYPE_CHECKING:
    from osler.reasoning.differential import Differential
    from osler.reasoning.service import DdxService


@dataclass(frozen=True, slots=True)
class StageProgress:
    """How much of one stage is on screen."""

    stage: Stage
    revealed: int  # units
    total: int

    @property
    def state(self) -> str:
        """'hidden', 'partial' or 'revealed'."""
        if self.revealed == 0:
            return "hidden"
        return "revealed" if self.revealed == self.total else "partial"


def describe_age(age_years: int | None, months: int | None = None) -> str:
    """'58-year-old', or '9-month-old' under two years; '' when unknown."""
    if months is not None and months < 24:
        return f"{months}-month-old"
    return f"{age_years}-year-old" if age_years is not None else ""


class RevealSession:
    """One case being revealed; the trainer's controls are its methods."""

    def __init__(self, meta: CaseMeta, timeline: Timeline, presentation: bool = False):
        self.meta = meta
        self._full = timeline
        self.stages: tuple[Stage, ...] = tuple(s for s in plan_stages(meta, timeline) if s.units)
        if not self.stages:
            raise TeachingError("the case's record has no events to reveal",
                                str(meta.bundle))
        self._units: list[tuple[int, RevealUnit]] = [
            (i, u) for i, s in enumerate(self.stages) for u in s.units]
        self._revealed: set[int] = set()
        self.presentation = presentation
        patient = timeline.patient
        self.at: datetime | None = meta.now or timeline.end
        self.sex = patient.sex
        self.age = patient.age_at(self.at) if self.at is not None else None
        self.age_months = _months(patient.birth_date, self.at)
        self._redactor = Redactor.for_patient(patient)
        self._anonymous = anonymous_patient(patient)

    # --- what is revealed --------------------------------------------------------

    @property
    def revealed_ids(self) -> frozenset[str]:
        """Ids of every event on screen."""
        return frozenset(i for n in self._revealed for i in self._units[n][1].event_ids)

    @property
    def state_key(self) -> frozenset[int]:
        """Identifies what is revealed (equal keys: the same events are on screen)."""
        return frozenset(self._revealed)

    @property
    def unit_count(self) -> int:
        return len(self._units)

    @property
    def revealed_count(self) -> int:
        return len(self._revealed)

    @property
    def complete(self) -> bool:
        return len(self._revealed) == len(self._units)

    def progress(self) -> list[StageProgress]:
        """Per stage: units revealed out of its total."""
        counts = [0] * len(self.stages)
        for n in self._revealed:
            counts[self._units[n][0]] += 1
        return [StageProgress(s, counts[i], len(s.units)) for i, s in enumerate(self.stages)]

    @property
    def current_stage(self) -> Stage | None:
        """The furthest stage with anything revealed (None before the first reveal)."""
        if not self._revealed:
            return None
        return self.stages[self._units[max(self._revealed)][0]]

    @property
    def upcoming_stage(self) -> Stage | None:
        """The first stage not yet fully revealed (what 'next stage' shows)."""
        for p in self.progress():
            if p.state != "revealed":
                return p.stage
        return None

    @property
    def demographics(self) -> str:
        """'58-year-old male': all the patient identity a teaching screen shows."""
        parts = [describe_age(self.age, self.age_months), self.sex or ""]
        return " ".join(p for p in parts if p) or "age and sex not recorded"

    # --- trainer controls --------------------------------------------------------

    def next_stage(self) -> Stage | None:
        """Reveal the rest of the first stage not fully shown; None when all is revealed."""
        stage = self.upcoming_stage
        if stage is not None:
            self._revealed |= {n for n, (s, _u) in enumerate(self._units) if s == stage.index}
        return stage

    def previous_stage(self) -> Stage | None:
        """Hide the furthest stage with anything revealed; returns the stage now current."""
        current = self.current_stage
        if current is not None:
            self._revealed = {n for n in self._revealed if self._units[n][0] != current.index}
        return self.current_stage

    def next_event(self) -> RevealUnit | None:
        """Reveal the next event (with its components) in stage order; None when done."""
        for n, (_s, unit) in enumerate(self._units):
            if n not in self._revealed:
                self._revealed.add(n)
                return unit
        return None

    def reveal_event(self, event_id: str) -> RevealUnit:
        """Reveal one event out of order (a trainer answering 'what was the lactate?')."""
        key = event_id.split("#", 1)[0]
        for n, (_s, unit) in enumerate(self._units):
            if unit.key == key or event_id in unit.event_ids:
                self._revealed.add(n)
                return unit
        raise TeachingError(f"no event {event_id!r} in this case", self.meta.id)

    def reveal_all(self) -> None:
        self._revealed = set(range(len(self._units)))

    def reset(self) -> None:
        self._revealed = set()

    def hidden_units(self) -> list[RevealUnit]:
        """Units still hidden, in reveal order (the trainer's 'what is left' list)."""
        return [u for n, (_s, u) in enumerate(self._units) if n not in self._revealed]

    # --- what leaves this object -------------------------------------------------

    def visible_timeline(self) -> Timeline:
        """The revealed events only; anonymous and redacted in presentation mode."""
        shown = self.revealed_ids
        events = [e for e in self._full if e.id in shown]
        if not self.presentation:
            return Timeline(self._full.patient, events)
        return Timeline(self._anonymous, [self._redactor.event(e) for e in events])

    def model_timeline(self) -> Timeline:
        """What the model reasons on: the revealed events, anonymous (age and sex are
        passed to the model separately)."""
        shown = self.revealed_ids
        return Timeline(self._anonymous,
                        [self._redactor.event(e) for e in self._full if e.id in shown])

    def differential(self, service: DdxService, top: int = 20) -> Differential:
        """The model's differential on the revealed events only."""
        return service.run(timeline=self.model_timeline(), at=self.at, age=self.age,
                           sex=self.sex, top=top)


def _months(born, at: datetime | None) -> int | None:
    if born is None or at is None:
        return None
    day = at.date()
    months = (day.year - born.year) * 12 + day.month - born.month
    if day.day < born.day:
        months -= 1
    return max(months, 0)
