"""The patient the timeline belongs to: demographics and identifiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier such as an MRN or SSN; kept to de-identify and to match."""

    system: str | None
    value: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    """Demographics needed for display, reasoning (age, sex) and de-identification."""

    id: str
    name: str | None = None
    given: tuple[str, ...] = ()
    family: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    deceased: datetime | bool | None = None
    identifiers: tuple[Identifier, ...] = ()
    addresses: tuple[str, ...] = ()
    telecom: tuple[str, ...] = ()
    placeholder: bool = False

    def age_at(self, when: date | datetime) -> int | None:
        """Age in whole years on a date, or None when the birth date is unknown."""
        if self.birth_date is None:
            return None
        day = when.date() if isinstance(when, datetime) else when
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def sex(self) -> str | None:
        """'female' or 'male' when the record says so (administrative gender)."""
        return self.gender if self.gender in ("female", "male") else None

    def summary(self, when: date | datetime | None = None) -> dict[str, object]:
        """JSON-ready summary used by the CLI and the window title."""
        ref = when or (self.deceased if isinstance(self.deceased, datetime) else None)
        if ref is None:
            ref = date.today()
        return {
            "id": self.id,
            "name": self.name,
            "gender": self.gender,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "deceased": (
                self.deceased.isoformat() if isinstance(self.deceased, datetime) else self.deceased
            ),
            "age": self.age_at(ref),
            "identifiers": len(self.identifiers),
            "placeholder": self.placeholder,
        }
