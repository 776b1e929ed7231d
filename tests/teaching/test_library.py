"""The case library: shipped cases, the trainer's own folder, adding, importing, removing."""

from __future__ import annotations

import json
import shutil

import pytest

from osler.knowledge.pack import default_kb
from osler.reasoning.gold import GoldMatcher
from osler.teaching.cases import read_sidecar
from osler.teaching.errors import TeachingError
from osler.teaching.library import (
    CaseLibrary,
    NewCase,
    add_case,
    case_details,
    check_case,
    import_case,
    remove_case,
    user_cases_dir,
)
from tests.conftest import small_bundle
from tests.teaching.case_fixtures import private_case_folder, write_mini_case  # noqa: F401

SHIPPED_SPECIALTIES = {"cardiology", "respiratory", "neurology", "infectious disease",
                       "surgery", "obstetrics & gynaecology", "endocrinology", "paediatrics"}


@pytest.fixture(scope="module")
def shipped():
    return CaseLibrary.load(include_user=False)


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_every_shipped_case_loads_and_covers_the_specialties(shipped):
    assert not shipped.problems, [str(p) for p in shipped.problems]
    assert 8 <= len(shipped.cases) <= 12
    assert set(shipped.specialties()) >= SHIPPED_SPECIALTIES
    assert {c.source for c in shipped.cases} == {"shipped"}
    assert "breathless-after-knee-surgery" in {c.id for c in shipped.cases}
    assert shipped.get("breathless-after-knee-surgery").bundle.name == "demo-chest-pain.json"


def test_every_shipped_case_is_complete_and_its_gold_is_in_the_kb(shipped, kb):
    matcher = GoldMatcher(kb)
    cant_miss = 0
    for meta in shipped.cases:
        timeline, stages = check_case(meta)
        planned = [i for s in stages for u in s.units for i in u.event_ids]
        assert sorted(planned) == sorted(e.id for e in timeline), meta.id
        assert stages[0].key == "presentation" and len(stages[0]) > 0, meta.id
        assert all(s.key in {"presentation", "history", "exam", "labs", "imaging"}
                   for s in stages)
        target = matcher.target(meta.gold.name)
        assert target.condition_ids, f"{meta.id}: gold {meta.gold.name!r} not in the KB"
        cant_miss += any(kb.condition(c).cant_miss for c in target.condition_ids)
        assert meta.teaching_notes and meta.objectives and meta.summary, meta.id
        # The summary and title are shown before the case: they must not name the gold.
        for text in (meta.title, meta.summary, meta.bundle.name.replace("-", " ")):
            assert meta.gold.name.lower() not in text.lower(), meta.id
        assert timeline.patient.identifiers, meta.id  # presentation mode has work to do
    assert cant_miss >= 5


def test_filters(shipped):
    assert {c.specialty for c in shipped.filter(specialty="Cardiology")} == {"cardiology"}
    beginners = shipped.filter(difficulty="beginner")
    assert beginners and all(c.difficulty == "beginner" for c in beginners)
    assert shipped.filter(difficulty="1") == beginners
    assert [c.id for c in shipped.filter(text="headache sudden")] == ["sudden-severe-headache"]
    assert shipped.filter(specialty="endocrinology", difficulty="advanced") == []
    with pytest.raises(TeachingError, match="difficulty"):
        shipped.filter(difficulty="hard")
    with pytest.raises(TeachingError, match="no case with id 'nope'"):
        shipped.get("nope")


def test_a_broken_user_case_is_reported_and_the_rest_still_load(tmp_path):
    user = tmp_path / "mine"
    write_mini_case(user, "good-case")
    write_mini_case(user, "bad-case", difficulty="impossible")
    write_mini_case(user / "sub", "breathless-after-knee-surgery")  # clashes with a shipped id
    outside = write_mini_case(user, "escapes", bundle="../../elsewhere.json")
    lib = CaseLibrary.load(user=user)
    ids = {c.id for c in lib.cases}
    assert "good-case" in ids and "bad-case" not in ids and "escapes" not in ids
    problems = "\n".join(str(p) for p in lib.problems)
    assert "bad-case.case.json: difficulty:" in problems
    assert "already used by" in problems
    assert f"{outside}: bundle: " in problems


def test_user_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OSLER_CASES_DIR", str(tmp_path / "clinic-cases"))
    assert user_cases_dir() == tmp_path / "clinic-cases"
    monkeypatch.delenv("OSLER_CASES_DIR")
    assert user_cases_dir().name == "cases" and "osler" in str(user_cases_dir()).lower()


def test_add_copies_the_bundle_and_writes_a_valid_sidecar(tmp_path, kb):
    src = tmp_path / "record.json"
    src.write_text(json.dumps(small_bundle()), encoding="utf-8")
    before = src.read_bytes()
    user = tmp_path / "user"
    lib = CaseLibrary.load(user=user)
    add_case(src, NewCase(title="Cough and fever", gold="Community acquired pneumonia",
                          specialty="respiratory", difficulty="2", objectives=("one", " ")),
             kb, folder=user, library=lib)
    assert src.read_bytes() == before
    assert sorted(p.name for p in user.iterdir()) == ["cough-and-fever.case.json",
                                                      "cough-and-fever.json"]
    again = read_sidecar(user / "cough-and-fever.case.json")
    assert again.gold.icd10 == ("J18.9", "J17")  # filled in from the KB
    assert again.objectives == ("one",) and again.difficulty == "intermediate"
    lib.rescan()
    assert lib.get("cough-and-fever").source == "user"
    details = case_details(lib.get("cough-and-fever"))
    assert details["patient"] == "62-year-old female" and details["events"] == 13
    with pytest.raises(TeachingError, match="already exists"):
        add_case(src, NewCase(title="Cough and fever", gold="pneumonia"), kb, folder=user,
                 library=lib)
    with pytest.raises(TeachingError, match="is a shipped case"):
        add_case(src, NewCase(title="x", gold="pneumonia",
                              case_id="breathless-after-knee-surgery"), kb, folder=user,
                 library=lib)
    with pytest.raises(TeachingError, match="names no condition"):
        add_case(src, NewCase(title="y", gold="Frobnitz syndrome"), kb, folder=user)
    removed = remove_case("cough-and-fever", lib)
    assert removed.id == "cough-and-fever" and list(user.iterdir()) == []
    with pytest.raises(TeachingError, match="shipped cases cannot be removed"):
        remove_case("breathless-after-knee-surgery", lib)


def test_add_refuses_what_it_cannot_use_and_leaves_nothing(tmp_path, kb):
    user = tmp_path / "user"
    bad = tmp_path / "broken.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [}', encoding="utf-8")
    from osler.fhir import FhirError

    with pytest.raises(FhirError):
        add_case(bad, NewCase(title="t", gold="pneumonia"), kb, folder=user)
    with pytest.raises(TeachingError, match="no such file"):
        add_case(tmp_path / "missing.json", NewCase(title="t", gold="pneumonia"), kb,
                 folder=user)
    txt = tmp_path / "notes.txt"
    txt.write_text("x", encoding="utf-8")
    with pytest.raises(TeachingError, match=r"expected a \.json"):
        add_case(txt, NewCase(title="t", gold="pneumonia"), kb, folder=user)
    assert not user.exists() or list(user.iterdir()) == []


def test_import_copies_sidecar_and_bundle(tmp_path):
    made = write_mini_case(tmp_path / "from-a-colleague", "shared-case")
    user = tmp_path / "user"
    meta = import_case(made.with_name("shared-case.json"), folder=user)
    assert meta.sidecar == user / "shared-case.case.json"
    assert read_sidecar(meta.sidecar).bundle == (user / "shared-case.json").resolve()
    shutil.rmtree(tmp_path / "from-a-colleague")
    lib = CaseLibrary.load(user=user)
    timeline, stages = check_case(lib.get("shared-case"))
    assert len(timeline) == 10 and [s.key for s in stages][:2] == ["presentation", "history"]


def test_a_stage_naming_an_unknown_event_is_refused(tmp_path):
    path = write_mini_case(tmp_path, stages=[
        {"stage": "presentation", "events": ["Observation/not-there"]}])
    with pytest.raises(TeachingError) as info:
        check_case(read_sidecar(path))
    assert "stages[0].events[0]" in str(info.value) and str(path) in str(info.value)


def test_add_can_store_a_deidentified_copy(tmp_path, kb):
    src = tmp_path / "record.json"
    src.write_text(json.dumps(small_bundle()), encoding="utf-8")
    user = tmp_path / "user"
    meta = add_case(src, NewCase(title="De-identified", gold="pneumonia"), kb, folder=user,
                    deidentify=True)
    stored = meta.bundle.read_text(encoding="utf-8")
    for identifier in ("Testperson", "MRN-0001", "1 Test Street", "1961-04-02"):
        assert identifier not in stored
    timeline, _stages = check_case(meta)
    assert len(timeline) >= 10
