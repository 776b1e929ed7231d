"""The session summary: complete, self-contained, and without identifiers."""

from __future__ import annotations

import html
import re

import pytest

from osler.teaching.errors import TeachingError
from osler.teaching.library import open_case
from osler.teaching.session import TeachingSession
from osler.teaching.summary import NOTICE, session_report, summary_html, write_html
from tests.teaching.case_fixtures import (  # noqa: F401
    IDENTIFIERS,
    mini_case,
    nb_service,
    private_case_folder,
)


@pytest.fixture
def finished(mini_case, nb_service):  # noqa: F811
    """A session with two checkpoints: both trainees commit, then one does, then all shown."""
    s = TeachingSession(open_case(mini_case), nb_service, ["Ana <b>", "Ben"])
    s.reveal.next_stage()
    s.commit("Ana <b>", ["Pneumonia", "Pulmonary embolism"])
    s.commit("Ben", ["asthma", "my own idea"])
    s.show_model()
    s.reveal.next_stage()
    s.reveal.next_stage()
    s.commit("Ben", ["pulmonary embolism"])
    s.show_model(force=True)
    s.reveal.reveal_all()  # a checkpoint no one used is not in the summary
    return s


def test_report_holds_every_checkpoint_and_score(finished):
    rep = session_report(finished)
    assert [r["number"] for r in rep["rounds"]] == [1, 2]
    first, second = rep["rounds"]
    assert [c["trainee"] for c in first["commitments"]] == ["Ana <b>", "Ben"]
    assert first["commitments"][0]["picks"][1] == {
        "name": "Pulmonary embolism", "text": "Pulmonary embolism", "gold": True, "in_kb": True}
    assert first["commitments"][1]["picks"][1]["in_kb"] is False
    assert first["commitments"][0]["score"]["gold_rank"] == 2
    assert second["not_committed"] == ["Ana <b>"] and second["model_shown"]
    assert second["model"] and sum(d["gold"] for d in second["model"]) == 1
    assert rep["gold"]["name"] == "Pulmonary embolism" and rep["patient"] == "66-year-old male"
    totals = {t["trainee"]: t for t in rep["totals"]}
    assert totals["Ben"]["final_gold_rank"] == 1 and totals["Ana <b>"]["final_gold_rank"] == 2


def test_html_is_self_contained_and_names_no_one(finished):
    page = summary_html(finished)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for identifier in IDENTIFIERS:
        assert identifier not in page, identifier
    lowered = page.lower()
    for fetch in ("http:", "https:", "src=", "href=", "<script", "<link", "url(", "@import",
                  "<img", "<iframe"):
        assert fetch not in lowered, fetch
    assert "Ana &lt;b&gt;" in page and "Ana <b>" not in page  # trainee names are escaped
    assert html.escape(NOTICE) in page and "Pulmonary embolism" in page
    assert "Breathless after surgery (mini)" in page and "Spot the risk factors." in page
    assert "Project-made test case." in page
    assert re.search(r"Gold in the model's list: #\d+", page)
    assert "The model's differential was not shown" not in page


def test_written_only_where_asked(finished, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    out = write_html(finished, folder / "session.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Checkpoints" in text
    assert sorted(p.name for p in folder.iterdir()) == ["session.html"]
    with pytest.raises(TeachingError, match="file exists"):
        write_html(finished, out, overwrite=False)
    with pytest.raises(TeachingError, match="folder does not exist"):
        write_html(finished, folder / "nope" / "s.html")
