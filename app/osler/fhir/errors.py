"""FHIR import errors (fatal) and issues (warnings), both with a location."""

from __future__ import annotations

from dataclasses import dataclass

from osler.record import Source


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A problem with one resource or field; the import goes on without it."""

    source: Source
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source.describe()
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class FhirError(Exception):
    """The input cannot be imported at all; says what was wrong and where."""

    def __init__(self, message: str, source: Source | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(self.source.describe())
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)
