"""Progressive disclosure: nothing unrevealed reaches the screen or the model."""

from __future__ import annotations

import dataclasses

import pytest

from osler.teaching.errors import TeachingError
from osler.teaching.library import CaseLibrary, load_timeline, open_case
from osler.teaching.reveal import RevealSession, describe_age
from tests.teaching.case_fixtures import (  # noqa: F401
    IDENTIFIERS,
    mini_case,
    nb_service,
    private_case_folder,
)


def texts_of(timeline) -> str:
    """Every string a view could show for a timeline: patient fields and event fields."""
    parts = [repr(dataclasses.asdict(timeline.patient))]
    for e in timeline:
        parts += [e.display, str(e.value), e.text or "", e.id, repr(e.extra),
                  repr(e.source), *(c.display or "" for c in e.codes)]
    return "\n".join(parts)


def test_stage_by_stage(mini_case):  # noqa: F811
    s = open_case(mini_case)
    assert [st.key for st in s.stages] == ["presentation", "history", "exam", "labs"]
    assert s.revealed_ids == frozenset() and len(s.visible_timeline()) == 0
    assert s.current_stage is None and s.upcoming_stage.key == "presentation"
    assert s.next_stage().key == "presentation"
    assert {e.display for e in s.visible_timeline()} == {"Emergency department visit",
                                                         "Triage note"}
    s.next_stage()
    s.next_stage()
    assert s.current_stage.key == "exam"
    assert [p.state for p in s.progress()] == ["revealed", "revealed", "revealed", "hidden"]
    assert s.previous_stage().key == "history"
    assert "Heart rate" not in {e.display for e in s.visible_timeline()}
    s.reveal_all()
    assert s.complete and len(s.visible_timeline()) == s.unit_count + 1  # BP: 2 components
    assert s.next_stage() is None and s.next_event() is None
    s.reset()
    assert s.revealed_count == 0 and s.current_stage is None


def test_event_by_event_follows_stage_order_and_keeps_panels_together(mini_case):  # noqa: F811
    s = open_case(mini_case)
    order = []
    while (unit := s.next_event()) is not None:
        order.append(unit.display)
    assert order[:2] == ["Emergency department visit", "Triage note"]
    assert order.index("Diabetes mellitus type 2") < order.index("Heart rate")
    assert "Diastolic blood pressure / Systolic blood pressure" in order
    assert order[-1].startswith("Fibrin D-dimer")
    s.reset()
    s.next_event()
    assert s.current_stage.key == "presentation"
    assert [p.state for p in s.progress()][:2] == ["partial", "hidden"]
    assert s.next_stage().key == "presentation"  # completes the stage in progress
    assert s.upcoming_stage.key == "history"


def test_a_trainer_can_reveal_one_event_out_of_order(mini_case):  # noqa: F811
    s = open_case(mini_case)
    timeline = load_timeline(mini_case)
    ddimer = next(e for e in timeline if e.display.startswith("Fibrin"))
    s.reveal_event(ddimer.id)
    assert {e.id for e in s.visible_timeline()} == {ddimer.id}
    assert s.current_stage.key == "labs"
    with pytest.raises(TeachingError, match="no event"):
        s.reveal_event("Observation/none")


def test_the_model_sees_only_revealed_events(mini_case, nb_service):  # noqa: F811
    s = open_case(mini_case)
    everything = {e.id for e in load_timeline(mini_case)}
    seen_findings = set()
    for _stage in s.stages:
        s.next_stage()
        shown = s.revealed_ids
        assert {e.id for e in s.visible_timeline()} == shown
        assert {e.id for e in s.model_timeline()} == shown
        diff = s.differential(nb_service)
        cited = {f.source.event_id for f in diff.findings if f.source.event_id}
        assert cited <= shown, cited - shown
        assert diff.case.age == 66 and diff.case.sex == "male"
        seen_findings |= {f.id for f in diff.findings}
        if s.current_stage.key == "presentation":
            # History (calf swelling) and exam (tachycardia) are not known yet.
            assert not {"unilateral-leg-swelling", "leg-swelling", "tachycardia"} & {
                f.id for f in diff.findings if f.present}
    assert everything == s.revealed_ids
    assert "tachycardia" in seen_findings and "raised-d-dimer" in seen_findings


def test_presentation_mode_hides_every_identifier(mini_case):  # noqa: F811
    s = open_case(mini_case, presentation=True)
    s.reveal_all()
    shown = texts_of(s.visible_timeline())
    for identifier in IDENTIFIERS:
        assert identifier not in shown, identifier
    assert "[name]" in shown and "[address]" in shown and "[birth date]" in shown
    assert "sudden shortness of breath" in shown  # the clinical text stays
    assert s.demographics == "66-year-old male"
    # Outside presentation mode the trainer sees the record as it is.
    plain = open_case(mini_case)
    plain.reveal_all()
    assert "Zebedee" in texts_of(plain.visible_timeline())
    # What the model reasons on never carries identifiers either.
    assert "Quartermain" not in texts_of(plain.model_timeline())


def test_shipped_cases_in_presentation_mode_show_no_identifiers():
    lib = CaseLibrary.load(include_user=False)
    for meta in lib.cases:
        timeline = load_timeline(meta)
        p = timeline.patient
        secrets = [p.name, p.family, *p.given, *(i.value for i in p.identifiers),
                   *p.addresses, p.birth_date.isoformat()]
        s = RevealSession(meta, timeline, presentation=True)
        s.reveal_all()
        shown = texts_of(s.visible_timeline()) + s.demographics
        for secret in secrets:
            assert secret not in shown, (meta.id, secret)


def test_ages_read_as_a_clinician_says_them():
    assert describe_age(0, 9) == "9-month-old"
    assert describe_age(1, 20) == "20-month-old"
    assert describe_age(58, 700) == "58-year-old"
    assert describe_age(None) == ""
