"""Reasoning errors: a model that cannot be loaded or run, with the folder and file at fault."""

from __future__ import annotations


class ReasoningError(Exception):
    """Reasoning cannot proceed (bad arguments, unusable input); exit 2 in the CLI."""


class ModelLoadError(ReasoningError):
    """A model folder is missing, incomplete, tampered with, or does not fit in memory."""

    def __init__(self, message: str, path: str | None = None, file: str | None = None):
        self.message = message
        self.path = path
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if self.file:
            where = f"{where}/{self.file}" if where else self.file
        return f"{where}: {self.message}" if where else self.message
