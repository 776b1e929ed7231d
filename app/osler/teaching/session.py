"""A teaching session: commit before reveal, per checkpoint of the case.

Each time the trainer changes what is revealed, a new checkpoint (round) begins. Trainees
commit their ranked differential for it; the model's differential for that checkpoint is
available only once every trainee has committed (or the trainer overrides, which is
recorded), and no one can commit after it has been shown. The gold diagnosis and the
teaching notes stay hidden until the trainer reveals them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from osler.teaching.errors import TeachingError
from osler.teaching.reveal import RevealSession
from osler.teaching.scoring import (
    MAX_PICKS,
    ConditionSearch,
    Pick,
    Score,
    gold_target,
    model_gold_rank,
    score,
)

if TYPE_CHECKING:
    from osler.reasoning.differential import Differential
    from osler.reasoning.service import DdxService
    from osler.record import Timeline

MODEL_TOP = 20  # the model's list scored against (the window shows the first 10)
MAX_TRAINEES = 30


class SessionError(TeachingError):
    """A step out of order: committing twice, after the reveal, or before anything is shown."""


class ModelLocked(SessionError):
    """The model's differential was asked for before every trainee committed."""


@dataclass(frozen=True, slots=True)
class Commitment:
    """One trainee's ranked differential for one checkpoint, locked at commit time."""

    trainee: str
    picks: tuple[Pick, ...]
    time: datetime

    def to_json(self) -> dict[str, Any]:
        return {"trainee": self.trainee, "time": self.time.isoformat(timespec="seconds"),
                "picks": [p.to_json() for p in self.picks]}


@dataclass(slots=True)
class Round:
    """One checkpoint: what was revealed, who committed what, and the model once shown."""

    number: int  # 0 until someone commits or the model is shown
    key: frozenset[int]
    stage_key: str
    stage_title: str
    event_ids: frozenset[str]
    event_count: int
    timeline: Timeline = field(repr=False)
    shown: tuple[tuple[str, int, int], ...] = ()  # per stage: title, units shown, units
    commitments: dict[str, Commitment] = field(default_factory=dict)
    forced: tuple[str, ...] = ()  # trainees who had not committed when the trainer showed it
    model_shown: bool = False
    _differential: Differential | None = field(default=None, repr=False)

    @property
    def differential(self) -> Differential | None:
        """The model's differential, or None until it has been shown."""
        return self._differential if self.model_shown else None

    @property
    def label(self) -> str:
        return f"{self.number}. {self.stage_title} ({self.event_count} events shown)"


class TeachingSession:
    """One case, its trainees and their commitments; the trainer drives `reveal`."""

    def __init__(self, reveal: RevealSession, service: DdxService, trainees: list[str],
                 top: int = MODEL_TOP):
        names = [" ".join(t.split()) for t in trainees]
        names = [n for n in names if n]
        if not names:
            raise SessionError("name at least one trainee", field="trainees")
        if len(names) > MAX_TRAINEES:
            raise SessionError(f"at most {MAX_TRAINEES} trainees per session", field="trainees")
        seen: set[str] = set()
        for n in names:
            if n.lower() in seen:
                raise SessionError(f"trainee {n!r} is named twice", field="trainees")
            seen.add(n.lower())
        self.reveal = reveal
        self.service = service
        self.trainees = tuple(names)
        self.top = top
        self.search = ConditionSearch(service.kb)
        self.target = gold_target(service.kb, reveal.meta.gold)
        self.gold_revealed = False
        self.started = datetime.now(UTC)
        self._rounds: dict[frozenset[int], Round] = {}
        self._lock = threading.RLock()

    @property
    def meta(self):
        return self.reveal.meta

    # --- checkpoints -------------------------------------------------------------

    def current_round(self) -> Round | None:
        """The checkpoint for what is revealed now (None while nothing is revealed)."""
        key = self.reveal.state_key
        if not key:
            return None
        with self._lock:
            found = self._rounds.get(key)
            if found is None:
                stage = self.reveal.current_stage
                assert stage is not None
                timeline = self.reveal.model_timeline()
                shown = tuple((p.stage.title, p.revealed, p.total)
                              for p in self.reveal.progress())
                found = Round(0, key, stage.key, stage.title, self.reveal.revealed_ids,
                              len(timeline), timeline, shown)
                self._rounds[key] = found
            return found

    @property
    def rounds(self) -> list[Round]:
        """Checkpoints where anyone committed or the model was shown, in order."""
        with self._lock:
            return sorted((r for r in self._rounds.values() if r.number),
                          key=lambda r: r.number)

    def _number(self, r: Round) -> None:
        if not r.number:
            r.number = 1 + max((x.number for x in self._rounds.values()), default=0)

    # --- trainees ----------------------------------------------------------------

    def resolve(self, entries: list[str | Pick]) -> tuple[Pick, ...]:
        """Typed entries as picks; blanks dropped, repeats of one condition kept once."""
        picks: list[Pick] = []
        for entry in entries:
            pick = entry if isinstance(entry, Pick) else self.search.resolve(entry)
            if not pick.text.strip():
                continue
            if any(_same(pick, p) for p in picks):
                continue
            picks.append(pick)
        if len(picks) > MAX_PICKS:
            raise SessionError(f"at most {MAX_PICKS} diagnoses per differential",
                               field="differential")
        return tuple(picks)

    def commit(self, trainee: str, entries: list[str | Pick]) -> Commitment:
        """Lock a trainee's ranked differential for the current checkpoint."""
        name = self._trainee(trainee)
        r = self.current_round()
        if r is None:
            raise SessionError("reveal part of the case before trainees commit")
        picks = self.resolve(entries)
        if not picks:
            raise SessionError("the differential is empty: enter at least one diagnosis",
                               field=name)
        with self._lock:
            if r.model_shown:
                raise SessionError("the model's differential is already shown for this "
                                   "checkpoint; reveal more of the case to commit again",
                                   field=name)
            if name in r.commitments:
                raise SessionError("already committed for this checkpoint", field=name)
            c = Commitment(name, picks, datetime.now(UTC))
            self._number(r)
            r.commitments[name] = c
            return c

    def pending(self) -> list[str]:
        """Trainees who have not committed for the current checkpoint."""
        r = self.current_round()
        if r is None:
            return list(self.trainees)
        return [t for t in self.trainees if t not in r.commitments]

    def _trainee(self, name: str) -> str:
        for t in self.trainees:
            if t.lower() == " ".join(name.split()).lower():
                return t
        raise SessionError(f"{name!r} is not a trainee in this session", field="trainee")

    # --- the model ---------------------------------------------------------------

    def compute_model(self, r: Round | None = None) -> None:
        """Compute (not show) the model's differential for a checkpoint: for a worker thread,
        so it is ready the moment everyone has committed."""
        r = r or self.current_round()
        if r is None or r._differential is not None:
            return
        diff = self.service.run(timeline=r.timeline, at=self.reveal.at, age=self.reveal.age,
                                sex=self.reveal.sex, top=self.top)
        with self._lock:
            if r._differential is None:
                r._differential = diff

    def can_show_model(self) -> bool:
        r = self.current_round()
        return r is not None and (r.model_shown or not self.pending())

    def show_model(self, force: bool = False) -> Differential:
        """The model's differential for the current checkpoint, once everyone committed.

        `force` shows it anyway and records who had not committed."""
        r = self.current_round()
        if r is None:
            raise SessionError("nothing is revealed yet")
        waiting = [t for t in self.trainees if t not in r.commitments]
        if waiting and not force and not r.model_shown:
            raise ModelLocked("commit before reveal: still waiting for " + ", ".join(waiting))
        self.compute_model(r)
        with self._lock:
            if not r.model_shown:
                self._number(r)
                r.forced = tuple(waiting)
                r.model_shown = True
        assert r._differential is not None
        return r._differential

    def scores(self, r: Round | None = None) -> list[Score]:
        """Scores of every committed trainee at a checkpoint (empty until the model shows)."""
        r = r or self.current_round()
        if r is None or r.differential is None:
            return []
        diagnoses = r.differential.diagnoses
        return [score(c.trainee, c.picks, diagnoses, self.target)
                for t in self.trainees if (c := r.commitments.get(t)) is not None]

    def model_gold_rank(self, r: Round) -> int | None:
        if r.differential is None:
            return None
        return model_gold_rank(r.differential.diagnoses, self.target)

    def reveal_gold(self) -> None:
        """Show the gold diagnosis and the teaching notes (the end of a case)."""
        self.gold_revealed = True

    # --- session totals ------------------------------------------------------------

    def trainee_summary(self, trainee: str) -> dict[str, Any]:
        """Across checkpoints: commits, final and best gold rank, first checkpoint with the
        gold in the top 3, mean can't-miss coverage and mean overlap with the model."""
        name = self._trainee(trainee)
        scored = [(r, s) for r in self.rounds for s in self.scores(r) if s.trainee == name]
        committed = sum(1 for r in self.rounds if name in r.commitments)
        ranks = [s.gold_rank for _r, s in scored if s.gold_rank is not None]
        coverages = [s.cant_miss_coverage for _r, s in scored if s.cant_miss_coverage is not None]
        first_top3 = next((r.label for r, s in scored if s.top(3)), None)
        return {
            "trainee": name,
            "checkpoints_committed": committed,
            "checkpoints_scored": len(scored),
            "final_gold_rank": scored[-1][1].gold_rank if scored else None,
            "best_gold_rank": min(ranks) if ranks else None,
            "first_top3": first_top3,
            "mean_cant_miss_coverage": (sum(coverages) / len(coverages)) if coverages else None,
            "mean_overlap": (sum(s.overlap_fraction for _r, s in scored) / len(scored)
                             if scored else None),
        }


def _same(a: Pick, b: Pick) -> bool:
    if a.condition_ids or b.condition_ids:
        return a.condition_ids == b.condition_ids
    return a.text.lower() == b.text.lower()


def teaching_service(progress=None) -> tuple[DdxService, str | None]:
    """The differential service for teaching: the shipped model when it is installed (the
    same default as the main window), else the knowledge base's own posterior, with a note
    saying so. Slow on first call with a model: run it on a worker thread."""
    from osler.reasoning.errors import ModelLoadError
    from osler.reasoning.service import DdxService

    try:
        service = DdxService.create(progress=progress)
    except ModelLoadError as exc:
        note = (f"The shipped model is not available ({exc}); the differential comes from "
                "the knowledge base's naive-Bayes posterior.")
        return DdxService.create(engine="naive-bayes", progress=progress), note
    warnings = getattr(service.engine, "warnings", None)
    return service, (warnings[0] if warnings else None)
