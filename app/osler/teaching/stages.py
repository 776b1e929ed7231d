"""Which events of a case belong to which stage, and the order they are revealed in.

Events listed by id in a sidecar go to that stage first; every other event goes to the first
stage whose rules claim it, and what no rule claims goes to the last stage, so nothing in
the record is ever silently left out. A reveal unit is one resource: an event with its
components (a blood-pressure panel's systolic and diastolic values come together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from osler.record import Event, Timeline
from osler.teaching.cases import CaseMeta, StageRule
from osler.teaching.errors import TeachingError


@dataclass(frozen=True, slots=True)
class RevealUnit:
    """Events revealed together: one resource and its components, oldest first."""

    key: str  # the resource's event id (a component's parent)
    event_ids: tuple[str, ...]
    time: datetime | None
    display: str


@dataclass(frozen=True, slots=True)
class Stage:
    """A stage of a planned case: its key, title and units in reveal order."""

    index: int
    key: str
    title: str
    units: tuple[RevealUnit, ...]

    @property
    def event_ids(self) -> frozenset[str]:
        return frozenset(i for u in self.units for i in u.event_ids)

    def __len__(self) -> int:
        return sum(len(u.event_ids) for u in self.units)


def _unit_key(e: Event) -> str:
    return e.parent or e.id.split("#", 1)[0]


def _matches(rule: StageRule, e: Event) -> bool:
    if not rule.by_rule:
        return not rule.events  # an empty rule claims everything (a catch-all stage)
    if rule.kinds and e.kind.value not in rule.kinds:
        return False
    if rule.categories and (e.category or "").lower() not in rule.categories:
        return False
    if rule.codes and not any(
            c.code in rule.codes or f"{c.system}|{c.code}" in rule.codes for c in e.codes):
        return False
    if rule.titles and not any(t in e.display.lower() for t in rule.titles):
        return False
    if rule.start is not None and (e.time is None or e.time < rule.start):
        return False
    return not (rule.before is not None and (e.time is None or e.time >= rule.before))


def plan_stages(meta: CaseMeta, timeline: Timeline) -> tuple[Stage, ...]:
    """Every event of the timeline in exactly one stage; raises when a listed id is unknown."""
    specs = meta.stage_specs()
    by_unit: dict[str, list[Event]] = {}
    for e in timeline:
        by_unit.setdefault(_unit_key(e), []).append(e)
    where = str(meta.sidecar) if meta.sidecar else meta.id
    assigned: dict[str, int] = {}
    for s, spec in enumerate(specs):
        for r, rule in enumerate(spec.rules):
            for j, ref in enumerate(rule.events):
                key = ref.split("#", 1)[0]
                if key not in by_unit:
                    fld = (f"stages[{s}].events[{j}]" if len(spec.rules) == 1
                           else f"stages[{s}].rules[{r}].events[{j}]")
                    raise TeachingError(f"no event {ref!r} in the case's record", where, fld)
                if key in assigned and assigned[key] != s:
                    raise TeachingError(
                        f"event {ref!r} is listed in stage {specs[assigned[key]].key!r} "
                        f"and in stage {spec.key!r}", where, f"stages[{s}]")
                assigned[key] = s
    for key, events in by_unit.items():
        if key in assigned:
            continue
        first = events[0]
        assigned[key] = next(
            (s for s, spec in enumerate(specs) if any(_matches(r, first) for r in spec.rules)),
            len(specs) - 1)
    stages = []
    for s, spec in enumerate(specs):
        units = [RevealUnit(k, tuple(e.id for e in evs), evs[0].time,
                            evs[0].display if len(evs) == 1 else _panel_name(evs))
                 for k, evs in by_unit.items() if assigned[k] == s]
        # Timeline order is oldest first with undated last; keep it within the stage.
        stages.append(Stage(s, spec.key, spec.title, tuple(units)))
    return tuple(stages)


def _panel_name(events: list[Event]) -> str:
    return " / ".join(e.display for e in events)

