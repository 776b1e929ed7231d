"""Presentation mode's guarantee: the patient's identifiers never reach the screen.

The patient becomes an anonymous one with age and sex only; the identifiers the record
holds (names and their parts, identifier values such as the MRN, birth date, addresses,
phone numbers and e-mails) are replaced wherever they appear in event names and texts.
This hides what the record itself names; for free text written about someone else, use
`osler deidentify` before a case is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from osler.record import Event, Patient

NAME, ID, ADDRESS, BIRTH_DATE, CONTACT = "[name]", "[id]", "[address]", "[birth date]", "[contact]"
ANONYMOUS_ID = "teaching-case"
_SPLIT = re.compile(r"[\s,]+")


def anonymous_patient(patient: Patient) -> Patient:
    """The patient with nothing but sex: no name, identifiers, birth date or addresses."""
    return Patient(id=ANONYMOUS_ID, gender=patient.gender)


def _date_forms(day: date) -> list[str]:
    return [day.isoformat(), f"{day.day:02d}/{day.month:02d}/{day.year}",
            f"{day.month:02d}/{day.day:02d}/{day.year}", f"{day.day}/{day.month}/{day.year}",
            f"{day.month}/{day.day}/{day.year}", day.strftime("%d %B %Y"),
            day.strftime("%B %d, %Y"), f"{day.day} {day.strftime('%B %Y')}"]


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replaces one patient's identifiers in any text shown."""

    pattern: re.Pattern[str] | None
    tags: dict[str, str]

    @classmethod
    def for_patient(cls, patient: Patient) -> Redactor:
        tags: dict[str, str] = {}

        def add(text: str | None, tag: str, min_len: int = 2) -> None:
            text = (text or "").strip()
            if len(text) >= min_len:
                tags.setdefault(text.lower(), tag)

        add(patient.name, NAME)
        add(patient.family, NAME)
        for part in patient.given:
            add(part, NAME)
        for part in _SPLIT.split(patient.name or ""):
            add(part, NAME, min_len=3)
        for ident in patient.identifiers:
            add(ident.value, ID)
        for address in patient.addresses:
            add(address, ADDRESS)
            for piece in address.split(","):
                add(piece, ADDRESS, min_len=4)
        for t in patient.telecom:
            add(t, CONTACT)
        add(patient.id, ID, min_len=4)
        if patient.birth_date is not None:
            for form in _date_forms(patient.birth_date):
                add(form, BIRTH_DATE)
        if not tags:
            return cls(None, {})
        # Longest first, so 'Walter Demo' wins over 'Walter'; whole words only.
        alternatives = "|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", re.IGNORECASE)
        return cls(pattern, tags)

    def text(self, value: str | None) -> str | None:
        """The text with every identifier replaced by its tag ('[name]', '[id]'...)."""
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(lambda m: self.tags.get(m.group(0).lower(), NAME), value)

    def event(self, e: Event) -> Event:
        """The event with identifiers removed from every text a view shows."""
        value = self.text(e.value) if isinstance(e.value, str) else e.value
        extra = {k: self.text(v) or "" for k, v in e.extra.items()}
        # The source file's name can hold a name too (exports named after the patient).
        return replace(e, display=self.text(e.display) or "", text=self.text(e.text),
                       value=value, extra=extra, source=None)
