"""Osler: offline clinical decision support (decision support, not a diagnosis)."""

__version__ = "0.1.0"
