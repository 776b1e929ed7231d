"""Free-text scrubbing: the record's own identifiers, identifier patterns, dates, ages 90+."""

from __future__ import annotations

from collections import Counter

import pytest

from osler.teaching.dateshift import DateShift
from osler.teaching.scrub import ID, PHONE, KnownStrings, TextScrubber

NO_SHIFT = DateShift(1)


def scrubber() -> TextScrubber:
    known = KnownStrings()
    known.add_name("Sumiko254 Larue605")
    known.add_name("Mrs. Marine542 Ai120 Upton904")
    known.add_name("White")
    known.add_name("O'Brien")
    known.add_name("Ed Ma")
    known.add_address({"line": ["586 Hilll Ranch Unit 68"], "city": "Fall River",
                       "postalCode": "668012504", "state": "KS"})
    known.add(PHONE, "555-929-9025")
    known.add(ID, "999-88-8619")
    known.add(ID, "300")  # too short to scrub everywhere: ignored
    known.add(ID, "cb5696d9-a0de-4f49-94f9-433f96a28eb0")  # UUIDs: caught by pattern
    return TextScrubber(known)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sumiko254 Larue605 is here", "[NAME] is here"),
        ("SUMIKO called; sumiko again", "[NAME] called; [NAME] again"),
        ("Marine542 Ai and Upton", "[NAME] [NAME] and [NAME]"),
        ("nonhispanic white female; White said", "nonhispanic white female; [NAME] said"),
        ("Mrs O&#x27;Brien in the div, O'Brien in text", "Mrs [NAME] in the div, [NAME] in text"),
        ("at 586 Hilll Ranch Unit 68, Fall River 66801", "at [ADDRESS], [ADDRESS] [ADDRESS]"),
        ("zip 66801-2504 or 668012504", "zip [ADDRESS] or [ADDRESS]"),
        ("Hilll Ranch Unit 68", "[ADDRESS]"),
        ("call 555-929-9025 or 5559299025", "call [PHONE] or [PHONE]"),
        ("dose 300 mg", "dose 300 mg"),
        ("seen in ED by Ed; MA resident; Ma called", "seen in ED by [NAME]; MA resident; "
                                                     "[NAME] called"),
        ("id cb5696d9-a0de-4f49-94f9-433f96a28eb0.", "id [ID]."),
    ],
)
def test_the_records_own_identifiers(text, expected):
    assert scrubber().scrub(text, NO_SHIFT, Counter()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail a.b+x@mail.example.org now", "mail [EMAIL] now"),
        ("see https://portal.example.com/p?id=3, then", "see [URL], then"),
        ('<div xmlns="http://www.w3.org/1999/xhtml">x</div>',
         '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'),
        ("from 10.0.0.12 and fe80::1ff:fe23:4567:890a", "from [IP] and [IP]"),
        ("SSN 123-45-6789", "SSN [ID]"),
        ("(555) 123-4567, 555.123.4567, +44 20 7946 0958", "[PHONE], [PHONE], [PHONE]"),
        ("MRN: A12345 / MR# 99887766 / acct 12-3456", "MRN: [ID] / MR# [ID] / acct [ID]"),
        ("Patient identifies as heterosexual", "Patient identifies as heterosexual"),
        ("licence S99955854, passport X46531854X", "licence [ID], passport [ID]"),
        ("seed 3476548471966640375", "seed [ID]"),
        ("Dr. Smith and Ms. Jones-Hall saw him", "Dr. [NAME] and Ms. [NAME] saw him"),
        ("10000IU and 5000mg at 2016-12-10T02:39:21", "10000IU and 5000mg at 2016-12-11T02:39:21"),
        ("SpO2 91%, HbA1c 7.2%, BP 120/80, LOINC 8302-2", "SpO2 91%, HbA1c 7.2%, BP 120/80, "
                                                         "LOINC 8302-2"),
    ],
)
def test_identifier_patterns(text, expected):
    assert scrubber().scrub(text, NO_SHIFT, Counter()) == expected


@pytest.mark.parametrize(
    ("text", "shift", "expected"),
    [
        ("is a 92 year-old, 95-year-old, 93 yo, aged 97, Age: 99",
         0, "is a 90+ year-old, 90+ year-old, 90+ yo, aged 90+, Age: 90+"),
        ("is a 60 year-old, smoked for 40 years, 95 years old", 0,
         "is a 60 year-old, smoked for 40 years, 90+ years old"),
        ("is a 95 year-old; a 60 year-old earlier; 5 years ago", 6,
         "is a 89 year-old; a 54 year-old earlier; 5 years ago"),
    ],
)
def test_ages_over_89_are_grouped_and_follow_a_moved_birth_date(text, shift, expected):
    assert scrubber().scrub(text, NO_SHIFT, Counter(), age_shift=shift) == expected


def test_terminology_text_keeps_drug_identifiers_but_not_the_patient():
    s = scrubber()
    display = "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector for Sumiko254"
    assert s.scrub(display, NO_SHIFT, Counter(), patterns=False) == (
        "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector for [NAME]")
    assert s.scrub(display, NO_SHIFT, Counter()).startswith("[ID] 0.3 ML")


def test_counts_are_kept_and_cached_results_count_again():
    s, counts = scrubber(), Counter()
    for _ in range(3):
        assert s.scrub("Sumiko254 on 2020-01-01", DateShift(2), counts) == "[NAME] on 2020-01-03"
    assert counts == Counter({"[NAME]": 3, "dates shifted in text": 3})
