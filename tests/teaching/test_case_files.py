"""Sidecar reading and validation: every problem names the file and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from osler.errors import INPUT_ERRORS
from osler.teaching.cases import (
    DIFFICULTIES,
    check_icd10,
    default_stages,
    parse_difficulty,
    read_sidecar,
    slug,
    write_sidecar,
)
from osler.teaching.errors import TeachingError
from tests.teaching.case_fixtures import (  # noqa: F401
    mini_case,
    private_case_folder,
    write_mini_case,
)


def test_sidecar_fields_are_read(mini_case):  # noqa: F811
    assert mini_case.id == "mini-breathless"
    assert mini_case.gold.name == "Pulmonary embolism" and mini_case.gold.icd10 == ("I26.99",)
    assert mini_case.difficulty == "intermediate" and mini_case.specialty == "respiratory"
    assert mini_case.now == datetime(2024, 5, 2, 10, 30, tzinfo=UTC)
    assert [s.key for s in mini_case.stages] == ["presentation", "history", "exam", "labs"]
    assert mini_case.stages[2].title == "Examination"
    assert mini_case.bundle.name == "mini-breathless.json" and mini_case.bundle.is_file()
    assert "gold" not in mini_case.listing() and "teaching_notes" not in mini_case.listing()


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"id": "Has Spaces"}, "id", "lower-case"),
    ({"title": ""}, "title", "must not be empty"),
    ({"gold": None}, "gold", "required"),
    ({"gold": {"icd10": ["I26.99"]}}, "gold.name", "required"),
    ({"gold": {"name": "PE", "icd10": ["X99.999"]}}, "gold.icd10[0]", "not in ICD-10-CM"),
    ({"gold": {"name": "PE", "icd10": ["chest"]}}, "gold.icd10[0]", "not an ICD-10-CM code"),
    ({"difficulty": "expert"}, "difficulty", "not one of"),
    ({"now": "yesterday"}, "now", "not a valid FHIR date"),
    ({"stages": []}, "stages", "non-empty list"),
    ({"stages": [{"stage": "history", "kinds": ["symptom"]}]}, "stages[0].kinds[0]",
     "not an event kind"),
    ({"stages": [{"stage": "history", "colour": "red"}]}, "stages[0].colour", "unknown field"),
    ({"stages": [{"stage": "labs"}, {"stage": "labs"}]}, "stages[1].stage", "listed twice"),
    ({"objectives": "x", "tags": [3]}, "tags[0]", "non-empty text"),
    ({"format": "osler-case/9"}, "format", "unsupported format"),
])
def test_a_broken_sidecar_names_file_and_field(tmp_path, change, field, words):
    path = write_mini_case(tmp_path, **change)
    with pytest.raises(TeachingError) as info:
        read_sidecar(path)
    message = str(info.value)
    assert str(path) in message and field in message and words in message, message
    assert isinstance(info.value, INPUT_ERRORS)  # the CLI maps it to exit 2


def test_unreadable_sidecars_give_one_clear_error(tmp_path):
    bad = tmp_path / "x.case.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(TeachingError, match=r"x\.case\.json: not valid JSON \(line 1"):
        read_sidecar(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TeachingError, match="not UTF-8"):
        read_sidecar(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(TeachingError, match="one JSON object"):
        read_sidecar(bad)
    with pytest.raises(TeachingError, match="cannot read"):
        read_sidecar(tmp_path / "missing.case.json")


def test_write_then_read_round_trips(tmp_path, mini_case):  # noqa: F811
    out = tmp_path / "again" / "mini-breathless.case.json"
    write_sidecar(mini_case, out, "../cases/mini-breathless.json")
    again = read_sidecar(out)
    assert again.bundle == mini_case.bundle
    assert (again.id, again.gold, again.stages, again.now, again.objectives) == (
        mini_case.id, mini_case.gold, mini_case.stages, mini_case.now, mini_case.objectives)
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "osler-case/1"
    assert not list(out.parent.glob("*.tmp"))


def test_small_helpers():
    assert slug("Chest pain, 58M!") == "chest-pain-58m" and slug("???") == "case"
    assert [parse_difficulty(x) for x in ("1", 2, "Advanced")] == list(DIFFICULTIES)
    assert check_icd10("i2699") == "I26.99" and check_icd10("K56.1") == "K56.1"
    stages = default_stages(None)
    assert [s.key for s in stages] == ["presentation", "history", "exam", "labs", "imaging"]
