"""Commit before reveal: the model's differential is out of reach until trainees commit."""

from __future__ import annotations

import pytest

from osler.teaching.library import CaseLibrary, open_case
from osler.teaching.scoring import gold_target, model_gold_rank
from osler.teaching.session import ModelLocked, SessionError, TeachingSession
from tests.teaching.case_fixtures import mini_case, nb_service, private_case_folder  # noqa: F401


@pytest.fixture
def session(mini_case, nb_service):  # noqa: F811
    return TeachingSession(open_case(mini_case, presentation=True), nb_service, ["Ana", "Ben"])


def test_nothing_to_commit_before_anything_is_revealed(session):
    assert session.current_round() is None and session.pending() == ["Ana", "Ben"]
    with pytest.raises(SessionError, match="reveal part of the case"):
        session.commit("Ana", ["pneumonia"])
    with pytest.raises(SessionError, match="nothing is revealed"):
        session.show_model()


def test_the_model_is_locked_until_everyone_commits(session):
    session.reveal.next_stage()
    r = session.current_round()
    session.compute_model()  # ready in the background...
    assert r.differential is None and not session.can_show_model()  # ...but not available
    session.commit("Ana", ["Pneumonia", "pulmonary embolism", "pneumonia"])
    assert session.pending() == ["Ben"]
    with pytest.raises(ModelLocked, match="still waiting for Ben"):
        session.show_model()
    assert r.differential is None and session.scores() == []
    with pytest.raises(SessionError, match="already committed"):
        session.commit("ana", ["asthma"])
    session.commit("Ben", ["Pulmonary embolism"])
    diff = session.show_model()
    assert r.differential is diff and r.model_shown and r.forced == ()
    with pytest.raises(SessionError, match="already shown"):
        session.commit("Ben", ["asthma"])
    ana, ben = session.scores()
    assert (ana.trainee, ana.listed, ana.gold_rank) == ("Ana", 2, 2)  # repeat dropped
    assert (ben.gold_rank, ben.top(1)) == (1, True)
    assert ana.model_gold_rank == ben.model_gold_rank == model_gold_rank(
        diff.diagnoses, session.target)


def test_revealing_more_opens_a_new_checkpoint(session):
    session.reveal.next_stage()
    session.commit("Ana", ["pneumonia"])
    session.commit("Ben", ["asthma"])
    first = session.show_model()
    session.reveal.next_stage()
    assert session.current_round().differential is None
    assert session.pending() == ["Ana", "Ben"]
    session.commit("Ana", ["pulmonary embolism"])
    second = session.show_model(force=True)
    r1, r2 = session.rounds
    assert (r1.number, r2.number) == (1, 2) and r2.forced == ("Ben",)
    assert r2.stage_key == "history" and r2.event_count > r1.event_count
    assert first is not second
    assert [s.trainee for s in session.scores(r2)] == ["Ana"]
    # Going back to what was shown before returns that checkpoint, commitments kept.
    session.reveal.previous_stage()
    assert session.current_round() is r1 and r1.differential is first
    ana = session.trainee_summary("Ana")
    assert ana["checkpoints_committed"] == 2 and ana["final_gold_rank"] == 1
    assert ana["first_top3"] == r2.label and ana["best_gold_rank"] == 1
    ben = session.trainee_summary("Ben")
    assert ben["checkpoints_committed"] == 1 and ben["best_gold_rank"] is None


def test_trainee_names_and_entries_are_checked(mini_case, nb_service):  # noqa: F811
    reveal = open_case(mini_case)
    with pytest.raises(SessionError, match="at least one trainee"):
        TeachingSession(reveal, nb_service, [" ", ""])
    with pytest.raises(SessionError, match="named twice"):
        TeachingSession(reveal, nb_service, ["Ana", "ana "])
    s = TeachingSession(reveal, nb_service, ["Ana"])
    reveal.next_event()
    with pytest.raises(SessionError, match="not a trainee"):
        s.commit("Zoe", ["pneumonia"])
    with pytest.raises(SessionError, match="empty"):
        s.commit("Ana", ["", "  "])
    with pytest.raises(SessionError, match="at most 20"):
        s.commit("Ana", [f"made-up disease {i}" for i in range(21)])


def test_gold_stays_hidden_until_the_trainer_reveals_it(session):
    assert not session.gold_revealed
    session.reveal_gold()
    assert session.gold_revealed and session.target.condition_ids == {"pulmonary-embolism"}


def test_shipped_cases_rank_their_gold_on_the_full_record(nb_service):  # noqa: F811
    """A sanity floor, not a validation: with every stage shown, the naive-Bayes engine has
    each case's gold in its top 10 (see docs/teaching.md for the ranks per stage)."""
    lib = CaseLibrary.load(include_user=False)
    ranks = {}
    for meta in lib.cases:
        reveal = open_case(meta)
        reveal.reveal_all()
        diff = reveal.differential(nb_service, top=20)
        ranks[meta.id] = model_gold_rank(diff.diagnoses, gold_target(nb_service.kb, meta.gold))
    assert all(r is not None and r <= 10 for r in ranks.values()), ranks
    assert sum(r == 1 for r in ranks.values()) >= 7, ranks
