"""What-if edits (no window): toggling, adding, resetting; the record's findings never change."""

from __future__ import annotations

from osler.findings import Finding, Provenance
from osler.session.whatif import ABSENT, POSSIBLE, PRESENT, REMOVED, WhatIf, is_hypothetical

FEVER = Finding("fever", "Fever", True, Provenance("Observation/t", None, "Body temperature"))
COUGH = Finding("cough", "Cough", False, Provenance("DocumentReference/n", (3, 10), "no cough"))
RASH = Finding("rash", "Rash", True, Provenance(None, (0, 4), "rash?"), certain=False)
BASE = [FEVER, COUGH, RASH]


def states(w: WhatIf) -> dict[str, tuple[str, bool]]:
    return {r.finding_id: (r.state, r.hypothetical) for r in w.rows(BASE)}


def test_toggle_cycles_present_absent_removed_and_back_to_the_record():
    w = WhatIf()
    assert states(w)["fever"] == (PRESENT, False) and not w.active
    w = w.toggle("fever", BASE)
    assert states(w)["fever"] == (ABSENT, True)
    w = w.toggle("fever", BASE)
    assert states(w)["fever"] == (REMOVED, True)
    assert "fever" not in {f.id for f in w.apply(BASE)}
    w = w.toggle("fever", BASE)
    assert states(w)["fever"] == (PRESENT, False) and not w.active, "back to the record's state"
    assert w.apply(BASE) == BASE


def test_an_absent_or_possible_finding_starts_its_own_cycle():
    w = WhatIf().toggle("cough", BASE)
    assert states(w)["cough"] == (REMOVED, True)
    w = WhatIf().toggle("rash", BASE)
    assert states(w)["rash"] == (ABSENT, True)
    assert states(WhatIf())["rash"] == (POSSIBLE, False)


def test_edited_findings_are_marked_hypothetical_and_cite_no_record_event():
    w = WhatIf().toggle("fever", BASE).add("chest-pain", "Chest pain")
    applied = {f.id: f for f in w.apply(BASE)}
    assert applied["fever"].present is False and is_hypothetical(applied["fever"])
    assert applied["fever"].source.event_id is None
    assert applied["chest-pain"].present and is_hypothetical(applied["chest-pain"])
    assert not is_hypothetical(applied["cough"]) and applied["cough"] is COUGH
    assert [r.finding_id for r in w.rows(BASE)][-1] == "chest-pain"
    assert w.describe() == ["Fever: absent", "Chest pain: present"]
    assert BASE == [FEVER, COUGH, RASH], "the record's findings list was changed"


def test_an_added_finding_leaves_the_list_after_absent_and_reset_clears_everything():
    w = WhatIf().add("chest-pain", "Chest pain")
    w = w.toggle("chest-pain", BASE)
    assert states(w)["chest-pain"] == (ABSENT, True)
    w = w.toggle("chest-pain", BASE)
    assert "chest-pain" not in states(w) and not w.active
    w = WhatIf().add("chest-pain", "Chest pain").toggle("fever", BASE)
    assert w.active and not w.reset().active

