"""Findings: a record or free text -> coded findings (present/absent, certain/possible), each
with provenance (the event id it came from, or the character span of the text).

    from osler.findings.extract import FindingExtractor      # free text
    from osler.findings.record import findings_from_record   # a timeline at a time
    from osler.findings.merge import merge_findings          # one finding per id
"""

from osler.findings.model import Finding, Provenance

__all__ = ["Finding", "FindingExtractor", "Provenance", "findings_from_record",
           "merge_findings"]


def __getattr__(name: str):
    # Imported on first use so that `from osler.findings import Finding` stays light.
    if name == "FindingExtractor":
        from osler.findings.extract import FindingExtractor

        return FindingExtractor
    if name == "findings_from_record":
        from osler.findings.record import findings_from_record

        return findings_from_record
    if name == "merge_findings":
        from osler.findings.merge import merge_findings

        return merge_findings
    raise AttributeError(name)
