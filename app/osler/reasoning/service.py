"""The differential pipeline, shared by the CLI and the window: record/text -> findings ->
case -> engine -> explained differential.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from osler.findings import Finding
from osler.knowledge import KnowledgeBase
from osler.reasoning.calibration import TextCalibration
from osler.reasoning.case import RECORD, TEXT, case_for
from osler.reasoning.differential import Differential
from osler.reasoning.engines import Engine, NaiveBayesEngine, ShippedEngine, read_model_meta
from osler.reasoning.errors import ModelLoadError, ReasoningError
from osler.reasoning.explain import build_differential
from osler.reasoning.kb_identity import kb_fingerprint as kb_fingerprint  # re-exported
from osler.reasoning.kb_identity import trained_on
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.prerequisites import PrerequisiteRules
from osler.record import Timeline

ENGINES = ("auto", "model", "naive-bayes")
DEFAULT_PRIOR_EXPONENT = 0.5


def load_engine(m: KBMatrix, kb: KnowledgeBase, model_dir: str | Path | None = None,
                device: str = "auto", quantization: str = "auto", engine: str = "auto",
                progress: Callable[[str, float], None] | None = None,
                cancel: threading.Event | None = None,
                memory_budget_gb: float | None = None, server: Any = None) -> Engine:
    """The engine for a request: the shipped model, a local LLM folder, a clinic server
    (`server`: a ServerConfig), or the KB posterior.

    'auto' uses the shipped model when it was trained on the current KB, else the KB's
    own posterior with a warning (a clinic's replacement KB pack is never silently mixed
    with a model trained on another).
    """
    from osler.locations import default_model_dir

    if engine not in ENGINES:
        raise ReasoningError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if server is not None:
        from osler.reasoning.server.engine import ServerEngine

        return ServerEngine(server, m, kb, progress=progress, cancel=cancel)
    rules = PrerequisiteRules.of(kb)
    nb_args: dict[str, Any] = {"kb_name": kb.name, "kb_version": kb.version, "rules": rules}
    if engine == "naive-bayes":
        return NaiveBayesEngine(m, prior_exponent=DEFAULT_PRIOR_EXPONENT,
                                calibration=_kb_calibration(kb), **nb_args)
    folder = Path(model_dir).expanduser() if model_dir else default_model_dir()
    if model_dir and not (folder / "osler.json").exists() and (folder / "config.json").exists():
        from osler.reasoning.llm.engine import LLMEngine

        llm = LLMEngine(folder, m, kb, device=device, quantization=quantization,
                        memory_budget_gb=memory_budget_gb, progress=progress, cancel=cancel)
        _pin(llm, folder)
        return llm
    if not folder.is_dir():
        raise ModelLoadError("no such model folder", str(folder))
    meta = read_model_meta(folder)
    if engine == "auto" and not trained_on(meta, kb):
        nb = NaiveBayesEngine(m, prior_exponent=float(meta.get("prior_exponent", 0.5)),
                              **nb_args)
        theirs = meta.get("kb", {})
        nb.warnings.append(
            f"the shipped model was trained on another knowledge base ({theirs.get('name')} "
            f"{theirs.get('version')}) than the one in use ({kb.name} {kb.version}); using "
            "the knowledge base's own posterior instead")
        return nb
    if progress:
        progress("loading the shipped model", 0.2)
    eng = _shipped_engine_class(device, quantization)(folder, m, device=device,
                                                         quantization=quantization, rules=rules)
    if not eng.shipped:
        _pin(eng, folder)
    if progress:
        progress("ready", 1.0)
    return eng


def _pin(engine: Any, folder: Path) -> None:
    """A clinic's own model folder: pinned at first use; a later change is a warning (first
    in the list) until the user accepts it (`osler model trust DIR`)."""
    from osler.reasoning.pins import check_pin

    check = check_pin(folder)
    if check.message:
        engine.warnings.insert(0, check.message)
        engine.pin_warning = check.message


def _shipped_engine_class(device: str, quantization: str) -> type[ShippedEngine]:
    """NumPy on the CPU at full precision (no torch import: seconds faster to start);
    transformers for CUDA and quantized models. OSLER_BACKEND=torch forces transformers."""
    import os

    from osler.reasoning.numpy_engine import NumpyShippedEngine, can_skip_torch

    if os.environ.get("OSLER_BACKEND", "").lower() != "torch" and \
            can_skip_torch(device, quantization):
        return NumpyShippedEngine
    return ShippedEngine


def _kb_calibration(kb: KnowledgeBase) -> TextCalibration | None:
    """The KB posterior's text calibration, kept in the shipped model's osler.json when that
    model was trained on this KB (it was fitted with the same KB); else none. Read only from
    a signed osler.json."""
    from osler.locations import default_model_dir
    from osler.reasoning.checksums import file_sha256, read_sums
    from osler.reasoning.signature import verify_sums_signature

    folder = default_model_dir()
    try:
        verify_sums_signature(folder)
        if read_sums(folder).get("osler.json") != file_sha256(folder / "osler.json"):
            return None
        meta = read_model_meta(folder)
    except (ModelLoadError, OSError):
        return None
    if not trained_on(meta, kb):
        return None
    try:
        return TextCalibration.from_json(meta.get("text_calibration", {}).get("naive-bayes"))
    except (ValueError, TypeError, AttributeError):
        return None


class DdxService:
    """Owns a KB, an engine and a findings extractor; one per worker thread in the app."""

    def __init__(self, kb: KnowledgeBase, engine: Engine, extractor: Any | None = None):
        self.kb = kb
        self.m = KBMatrix.from_kb(kb)
        self.engine = engine
        self._extractor = extractor
        self.rare = True  # build the rare-disease panel (`osler ddx --no-rare` turns it off)

    @classmethod
    def create(cls, model_dir: str | Path | None = None, device: str = "auto",
               quantization: str = "auto", engine: str = "auto",
               kb: KnowledgeBase | None = None, semantic: bool = True,
               progress: Callable[[str, float], None] | None = None,
               cancel: threading.Event | None = None,
               memory_budget_gb: float | None = None, server: Any = None) -> DdxService:
        """Load KB, engine and extractor (seconds; call from a worker thread in the app).

        `progress(message, fraction)` reports stages; setting `cancel` stops a local-LLM load
        at its next stage and frees its memory (LoadCancelled)."""
        from osler.findings.extract import FindingExtractor
        from osler.knowledge.pack import default_kb

        kb = kb or default_kb()
        m = KBMatrix.from_kb(kb)
        eng = load_engine(m, kb, model_dir, device, quantization, engine, progress, cancel,
                          memory_budget_gb, server)
        if cancel is not None and cancel.is_set():
            from osler.reasoning.llm.loader import LoadCancelled

            unload = getattr(eng, "unload", None)
            if unload is not None:
                unload()
            raise LoadCancelled("model loading cancelled; memory released")
        svc = cls(kb, eng, FindingExtractor(kb, semantic=semantic))
        svc.m = m
        return svc

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            from osler.findings.extract import FindingExtractor

            self._extractor = FindingExtractor(self.kb)
        return self._extractor

    def findings(self, timeline: Timeline | None = None, text: str | None = None,
                 at: datetime | None = None, age: int | None = None,
                 sex: str | None = None) -> list[Finding]:
        """Merged findings from the record (as known at `at`) and typed text. `age` and `sex`
        override the record's: they choose children's vital-sign limits and set aside findings
        that cannot describe the patient (listed in `self.extractor.warnings`)."""
        return self.read(timeline, text, at, age, sex)[0]

    def read(self, timeline: Timeline | None = None, text: str | None = None,
             at: datetime | None = None, age: int | None = None, sex: str | None = None
             ) -> tuple[list[Finding], float]:
        """Merged findings and the share of the texts' clauses read (findings/coverage.py):
        the record's notes of the episode and the typed text."""
        from osler.findings.reading import read_case

        reading = read_case(self.kb, self.extractor, timeline, text, at, age, sex)
        return reading.merged(), reading.coverage

    def run(self, timeline: Timeline | None = None, text: str | None = None,
            age: int | None = None, sex: str | None = None, at: datetime | None = None,
            top: int = 10, rationale: bool = False,
            on_token: Callable[[str], None] | None = None,
            edit: Callable[[list[Finding]], list[Finding]] | None = None) -> Differential:
        """The explained differential for a record and/or text. `edit`, when given, turns
        the findings as read into those reasoned on (a clinician's corrections)."""
        if timeline is None and not text:
            raise ReasoningError("nothing to reason about: give a record, text, or both")
        from osler.findings.reading import read_case

        self.extractor.take_set_aside()
        reading = read_case(self.kb, self.extractor, timeline, text, at, age, sex)
        findings, read = reading.merged(), reading.coverage
        if edit is not None:
            findings = edit(findings)
        set_aside = self.extractor.take_set_aside()
        patient_id = None
        if timeline is not None:
            p = timeline.patient
            patient_id = p.id
            when = at or timeline.end
            if age is None and when is not None:
                age = p.age_at(when)
            sex = sex or p.sex
        diff = self.run_findings(findings, age, sex, top, patient_id,
                                 at.isoformat() if at else None, timeline=timeline, when=at,
                                 rationale=rationale, on_token=on_token, coverage=read)
        diff.warnings.extend(item.message() for item in set_aside)
        diff.rare = self.rare_panel(findings, reading.texts, diff)
        if not any(f.counted for f in findings):
            diff.warnings.append("no findings were recognised; the differential reflects only "
                                 "age, sex and how common each condition is")
        return diff

    def rare_panel(self, findings: list[Finding], texts: Any = (), differential: Any = None,
                   extra: Any = ()) -> Any:
        """'Rare diseases to consider' (rare/panel.py), or a panel saying why it is off;
        EXTRA are phenotype-only findings read before (a what-if keeps the text's)."""
        from osler.rare.panel import RareUnavailable, build_panel, unavailable

        if not self.rare:
            return None
        try:
            return build_panel(self.kb, findings, texts, differential, extra)
        except RareUnavailable as exc:
            if differential is not None and str(exc) not in differential.warnings:
                differential.warnings.append(str(exc))
            return unavailable(str(exc))

    def run_findings(self, findings: list[Finding], age: int | None, sex: str | None,
                     top: int = 10, patient_id: str | None = None, at: str | None = None,
                     timeline: Timeline | None = None, when: datetime | None = None,
                     rationale: bool = False, on_token: Callable[[str], None] | None = None,
                     coverage: float = 1.0) -> Differential:
        """Differential for given findings ("what if" toggles in the window call this).

        With a local LLM engine the record is part of its prompt, and `rationale=True`
        adds its cited rationale (streamed through `on_token`)."""
        conditions: set[str] = set()
        if timeline is not None:
            from osler.reasoning.prerequisites import documented_conditions

            conditions = documented_conditions(self.kb, timeline, when)
        case = case_for(self.kb, findings, age, sex, RECORD if timeline is not None else TEXT,
                        conditions, coverage)
        prepare = getattr(self.engine, "prepare", None)
        if prepare is not None:
            prepare(case, findings, timeline, when)
        try:
            diff = build_differential(self.engine, self.kb, self.m, case, findings, top,
                                      patient_id, at)
            if rationale and hasattr(self.engine, "rationale"):
                names = [d.name for d in diff.diagnoses[:3]]
                diff.rationale = self.engine.rationale(case, names, on_token)
        finally:
            release = getattr(self.engine, "release", None)
            if release is not None:
                release()
        return diff
