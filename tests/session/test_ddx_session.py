"""The differential session without Qt: what is reasoned on, stale results, corrections of
the typed text, decisions and a change of model. Real DdxService (the KB posterior)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from osler.fhir import import_path
from osler.knowledge.pack import default_kb
from osler.reasoning.service import DdxService
from osler.session import DifferentialSession, compute
from osler.session.ddx_session import Added
from osler.session.presentation import CORRECTED, is_from_text
from osler.session.request import BaseCache
from osler.session.whatif import ABSENT, PRESENT, REMOVED
from tests.conftest import REPO

DEMO = REPO / "resources" / "cases" / "demo-chest-pain.json"
TEXT = "Three days of fever and productive cough. No chest pain. Breathless on stairs."


@pytest.fixture(scope="module")
def svc() -> DdxService:
    return DdxService.create(engine="naive-bayes", kb=default_kb(), semantic=False)


def test_a_typed_presentation_alone_gives_a_differential_with_its_spans(svc):
    s = DifferentialSession()
    assert s.request() is None, "nothing to reason on yet"
    assert s.new_case(TEXT, 67, "male")
    result = compute(svc, s.request())
    assert s.accept(result)
    diff = result.differential
    assert diff.case.age == 67 and diff.case.sex == "male"
    read = {f.id: f for f in result.read_findings}
    assert {"fever", "coughing-up-sputum", "shortness-of-breath"} <= set(read)
    assert all(is_from_text(f) for f in read.values())
    start, end = read["fever"].source.span
    assert TEXT[start:end].lower() == "fever"
    assert any(f.id == "chest-pain" and not f.present for f in result.read_findings)
    assert diff.diagnoses and diff.patient_id is None


def test_correcting_a_misread_finding_changes_the_case_not_a_what_if(svc):
    s = DifferentialSession()
    s.new_case(TEXT, 67, "male")
    first = compute(svc, s.request())
    s.accept(first)
    fever = next(f for f in first.read_findings if f.id == "fever")
    assert s.correct(fever)                     # present -> absent
    second = compute(svc, s.request())
    assert s.accept(second)
    assert ("fever", "-") in second.differential.case.findings
    corrected = next(f for f in second.record_findings if f.id == "fever")
    assert not corrected.present and CORRECTED in corrected.source.snippet
    assert not second.whatif.active and s.overrides_allowed() == (True, "")
    rows = {f.id: (state, c) for f, state, c in s.presentation.rows(list(second.read_findings))}
    assert rows["fever"] == (ABSENT, True)
    s.correct(fever)                            # absent -> left out
    third = compute(svc, s.request())
    assert "fever" not in dict(third.differential.case.findings)
    s.correct(fever)                            # left out -> present: as read, no correction
    assert s.presentation.corrections == ()
    assert {r[1] for r in s.presentation.rows([fever])} == {PRESENT}
    assert REMOVED not in {st for _, st, _ in s.presentation.rows(list(third.read_findings))}


def test_text_adds_to_an_open_record_at_now_and_a_new_record_forgets_it(svc):
    tl = import_path(DEMO).timeline()
    s = DifferentialSession()
    s.set_record(tl)
    s.set_text("Known sickle cell disease.")
    result = compute(svc, s.request(), BaseCache())
    ids = {f.id for f in result.differential.findings}
    assert "raised-d-dimer" in ids, "the record's findings are kept"
    assert "history-sickle-cell-disease" in ids, "the typed text is added"
    s.set_record(tl)
    assert s.presentation.empty, "another record must not inherit typed text"


def test_stale_results_are_dropped_and_whatifs_block_overrides(svc):
    s = DifferentialSession()
    s.set_record(import_path(DEMO).timeline())
    old = s.request()
    new = s.request()
    assert not s.accept(compute(svc, old))
    assert s.accept(compute(svc, new))
    assert s.toggle_finding("raised-d-dimer", "Raised D-dimer")
    r = compute(svc, s.request())
    s.accept(r)
    assert r.whatif.active
    allowed, why = s.overrides_allowed()
    assert not allowed and "what-if" in why


def test_decisions_are_kept_per_patient_and_cleared_when_the_model_changes():
    s = DifferentialSession()
    assert not s.set_engine("model A")
    s.record_decision("accept", "Pneumonia", "p1")
    s.record_decision("comment", "Pneumonia", "p1")        # a comment keeps the accept
    s.record_decision("add", None, "p1", Added("Lyme disease", ("A69.20",)))
    assert s.decisions_for("p1") == {"Pneumonia": "accept"}
    assert s.added_for("p1") == [Added("Lyme disease", ("A69.20",))]
    assert not s.set_engine("model A")
    assert s.set_engine("model B"), "a new model must clear the decisions"
    assert s.decisions_for("p1") == {} and s.added_for("p1") == []


def test_the_session_runs_without_qt():
    code = textwrap.dedent("""
        import sys
        from osler.knowledge.pack import default_kb
        from osler.reasoning.service import DdxService
        from osler.session import DifferentialSession, compute
        s = DifferentialSession()
        s.new_case("fever, cough and breathlessness", 70, "female")
        svc = DdxService.create(engine="naive-bayes", kb=default_kb(), semantic=False)
        r = compute(svc, s.request())
        assert s.accept(r) and r.differential.diagnoses
        qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6")))
        print("QT", qt)
        assert not qt, qt
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "QT []" in proc.stdout
