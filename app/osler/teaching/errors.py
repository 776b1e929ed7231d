"""The teaching package's exception family: bad input or output paths, with their location."""

from __future__ import annotations


class TeachingError(Exception):
    """Bad input for a teaching command; says what was wrong and where (path, field)."""

    def __init__(self, message: str, where: str | None = None, field: str | None = None):
        self.message = message
        self.where = where
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(p for p in (self.where, self.field, self.message) if p)


class DeidentifyError(TeachingError):
    """De-identification cannot run: output exists, output inside the input, bad seed…"""
