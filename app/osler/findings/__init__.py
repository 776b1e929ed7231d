"""Findings: a record or free text -> coded findings (present/absent, certain/possible), each
with provenance (the event id it came from, or the character span of the text).
"""

from osler.findings.model import Finding, Provenance

__all__ = ["Finding", "Provenance"]
