"""One differential to compute and its result, and the function that computes it with a
DdxService. Plain Python: the window's model thread and the CLI call the same `compute`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from osler.findings import Finding
from osler.reasoning.differential import Differential
from osler.reasoning.runtime import LANGUAGE_MODEL_KINDS
from osler.record import Timeline
from osler.session.presentation import Presentation
from osler.session.whatif import WhatIf

CACHE_LIMIT = 32


@dataclass(frozen=True, slots=True)
class DdxRequest:
    """A record at a time and/or a typed presentation, with what-if edits."""

    seq: int
    timeline: Timeline | None
    at: datetime | None = None
    whatif: WhatIf = field(default_factory=WhatIf)
    top: int = 10
    rationale: bool = False
    presentation: Presentation = field(default_factory=Presentation)


@dataclass(frozen=True, slots=True)
class DdxResult:
    """A computed differential, the case's own findings it started from (after the
    clinician's corrections of the text) and the text's findings as they were read."""

    seq: int
    differential: Differential
    record_findings: tuple[Finding, ...]
    whatif: WhatIf
    at: datetime | None
    seconds: float
    read_findings: tuple[Finding, ...] = ()
    presentation: Presentation = field(default_factory=Presentation)


class BaseCache:
    """The case's own differential (no what-ifs) per (time, presentation), for the record on
    screen only: clicking through what-ifs or back to the same 'now' costs no re-reading."""

    def __init__(self) -> None:
        self.timeline: Timeline | None = None
        self.entries: dict[tuple, tuple[Differential, tuple[Finding, ...]]] = {}

    def clear(self) -> None:
        self.timeline = None
        self.entries.clear()


def compute(service: Any, request: DdxRequest, cache: BaseCache | None = None,
            on_token: Callable[[str], None] | None = None) -> DdxResult:
    """The differential for REQUEST (raises the service's input errors)."""
    t0 = time.perf_counter()
    cache = cache if cache is not None else BaseCache()
    llm = getattr(getattr(service, "engine", None), "info", None)
    rationale = request.rationale and getattr(llm, "kind", "") in LANGUAGE_MODEL_KINDS
    base, read = _base(service, request, cache, rationale and not request.whatif.active,
                       on_token)
    diff = base
    if request.whatif.active:
        diff = service.run_findings(
            request.whatif.apply(base.findings), base.case.age, base.case.sex, request.top,
            request.timeline.patient.id if request.timeline is not None else None, base.at,
            timeline=request.timeline, when=request.at, coverage=base.case.coverage)
        diff.warnings.extend(w for w in base.warnings if w not in diff.warnings)
        if base.rare is not None and hasattr(service, "rare_panel"):
            diff.rare = service.rare_panel(diff.findings, (), diff,
                                           extra=base.rare.phenotype_only)
    return DdxResult(request.seq, diff, tuple(base.findings), request.whatif, request.at,
                     time.perf_counter() - t0, read, request.presentation)


def _base(service: Any, request: DdxRequest, cache: BaseCache, rationale: bool,
          on_token: Callable[[str], None] | None) -> tuple[Differential, tuple[Finding, ...]]:
    if request.timeline is not cache.timeline:
        cache.entries.clear()  # only the current record is cached (and kept alive)
        cache.timeline = request.timeline
    p = request.presentation
    key = (request.at, p.text, p.age, p.sex, p.corrections, request.top)
    hit = cache.entries.get(key)
    if hit is not None and not (rationale and hit[0].rationale is None):
        return hit
    read: list[Finding] = []

    def edit(findings: list[Finding]) -> list[Finding]:
        read.extend(findings)
        return p.apply(findings)

    diff = service.run(timeline=request.timeline, text=p.text or None, age=p.age, sex=p.sex,
                       at=request.at, top=request.top, rationale=rationale,
                       on_token=on_token, edit=edit)
    if len(cache.entries) > CACHE_LIMIT:
        cache.entries.clear()
    cache.entries[key] = (diff, tuple(read))
    return diff, tuple(read)
