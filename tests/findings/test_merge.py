"""The merge rule: one finding per id."""

from osler.findings.merge import merge_findings
from osler.findings.model import Finding, Provenance


def f(fid="fever", present=True, time=None, value=None, span=None, event="Observation/1",
      certain=True, score=1.0):
    return Finding(fid, fid.title(), present, Provenance(event, span, None), certain=certain,
                   score=score, value=value, unit="Cel" if value else None, time=time)


def test_one_per_id_in_first_mention_order():
    out = merge_findings([f("cough"), f("fever"), f("cough", present=False)])
    assert [x.id for x in out if x.counted] == ["cough", "fever"]


def test_a_record_mention_that_lost_to_the_opposite_is_shown_superseded():
    old = f(present=True, time="2024-01-01T10:00:00+00:00", span=(0, 5), event="Doc/1")
    new = f(present=False, time="2024-03-01T10:00:00+00:00", value=36.8, event="Obs/2")
    out = merge_findings([old, new])
    assert [(x.present, x.role) for x in out] == [(False, "current"), (True, "superseded")]
    assert out[1].role_event == "Obs/2" and "2024-03-01" in out[1].role_reason
    # Typed text has no event: a lost mention of it is simply dropped.
    typed = merge_findings([f(present=False, event=None), f(present=True, event=None)])
    assert [x.role for x in typed] == ["current"]


def test_more_recent_wins_across_episodes():
    old = f(present=True, time="2024-01-01T10:00:00+00:00", span=(0, 5), event="Doc/1")
    new = f(present=False, time="2024-03-01T10:00:00+00:00", value=36.8)
    assert merge_findings([old, new])[0] is new
    assert merge_findings([new, old])[0] is new
    note_now = f(present=True, time="2024-03-05T10:00:00+00:00", span=(3, 8), event="Doc/2")
    assert merge_findings([new, note_now])[0] is note_now


def test_within_an_episode_measured_beats_coded_beats_text():
    text = f(present=True, time="2024-03-01T10:20:00+00:00", span=(0, 5), event="Doc/1")
    coded = f(present=True, time="2024-03-01T09:00:00+00:00", event="Condition/1")
    measured = f(present=False, time="2024-03-01T09:10:00+00:00", value=37.0)
    assert merge_findings([text, coded, measured])[0] is measured
    assert merge_findings([text, coded])[0] is coded


def test_certain_beats_hedged_then_present_beats_absent():
    hedged = f(present=True, certain=False, span=(0, 4), event=None)
    denied = f(present=False, span=(10, 14), event=None)
    assert merge_findings([hedged, denied])[0] is denied
    reported = f(present=True, span=(20, 24), event=None)
    assert merge_findings([denied, reported])[0] is reported


def test_undated_text_counts_as_now():
    typed = f(present=True, span=(0, 5), event=None)
    old = f(present=False, time="2020-01-01T00:00:00+00:00", value=36.5)
    assert merge_findings([old, typed])[0] is typed
