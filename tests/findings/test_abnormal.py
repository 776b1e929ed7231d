"""One answer to 'is this value abnormal?' for the findings and the timeline's marks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from osler.findings.abnormal import AbnormalJudge, is_abnormal_measurement
from osler.knowledge.pack import default_kb
from osler.record import Coding, Event, EventKind, ReferenceRange

LOINC = "http://loinc.org"
WHEN = datetime(2024, 5, 2, 8, tzinfo=UTC)


def lab(code: str, value: float, unit: str, **kw) -> Event:
    c = Coding(LOINC, code, "lab")
    return Event(f"Observation/{code}-{value}", EventKind.LAB, WHEN, "lab", code=c, codes=(c,),
                 value=value, unit=unit, **kw)


def test_the_kb_threshold_decides_when_the_source_gives_no_flag_or_range():
    kb = default_kb()
    assert is_abnormal_measurement(kb, lab("2345-7", 65, "mg/dL"), None, None)
    assert not is_abnormal_measurement(kb, lab("2345-7", 90, "mg/dL"), None, None)
    assert is_abnormal_measurement(kb, lab("2345-7", 3.2, "mmol/L"), "male", 50.0)


def test_the_labs_own_range_comes_first_as_in_the_findings():
    kb = default_kb()
    in_range = lab("2345-7", 65, "mg/dL", reference_range=ReferenceRange(60, 99))
    assert not is_abnormal_measurement(kb, in_range, None, None)


def test_sex_and_age_select_the_rule():
    judge = AbnormalJudge(default_kb(), "female", date(1960, 1, 1))
    hb = lab("718-7", 12.5, "g/dL")
    assert not judge(hb)  # anaemia in a woman is < 12 g/dL
    assert AbnormalJudge(default_kb(), "male", date(1960, 1, 1))(hb)  # < 13 in a man
    [v] = judge.findings(lab("718-7", 11.4634, "g/dL"))
    assert v.finding.id == "anaemia" and "12 g/dL" in v.rule_text
