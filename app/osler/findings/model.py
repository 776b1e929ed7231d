"""Finding and Provenance: what the reasoning consumes and what explanations cite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a finding came from: an event, a span of a text, or both (a span of a note)."""

    event_id: str | None = None
    span: tuple[int, int] | None = None  # [start, end) character offsets in the source text
    snippet: str | None = None  # the text of the span, for display

    def cite(self) -> str:
        """Compact citation: 'Observation/abc', 'DocumentReference/x[12:30]' or 'text[12:30]'."""
        base = self.event_id or "text"
        if self.span is not None:
            return f"{base}[{self.span[0]}:{self.span[1]}]"
        return base


# What a finding is to the presentation at 'now' (findings/episode.py decides):
CURRENT = "current"  # part of the episode in progress: what the differential must explain
BACKGROUND = "background"  # history, active chronic problems, medications, exposures
SUPERSEDED = "superseded"  # replaced by a newer result or mention (shown, not used)
CONFLICT = "conflict"  # an old entry contradicted by a newer result (shown, not used)
ROLES = (CURRENT, BACKGROUND, SUPERSEDED, CONFLICT)
COUNTED = (CURRENT, BACKGROUND)


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding from the KB vocabulary, present or explicitly absent, with its source."""

    id: str  # FindingDef.id
    label: str
    present: bool  # False: explicitly absent ("denies chest pain")
    source: Provenance
    certain: bool = True  # False: hedged ("possible rash", "?pneumonia")
    score: float = 1.0  # match confidence: 1.0 lexical, lower for semantic matches
    value: float | None = None  # the measured value for vital/lab findings
    unit: str | None = None
    time: str | None = None  # ISO time of the source event, if any
    role: str = CURRENT
    role_event: str | None = None  # the event that decided the role (a newer normal lab)
    role_reason: str | None = None  # one line a clinician can read

    @property
    def counted(self) -> bool:
        """True if the reasoning uses it (current or background)."""
        return self.role in COUNTED

    def to_json(self) -> dict[str, object]:
        """The finding as printed by `osler ddx --json`."""
        doc: dict[str, object] = {
            "id": self.id,
            "label": self.label,
            "present": self.present,
            "source": self.source.cite(),
        }
        if not self.certain:
            doc["certain"] = False
        if self.score < 1.0:
            doc["score"] = round(self.score, 3)
        if self.value is not None:
            doc["value"] = self.value
            doc["unit"] = self.unit
        if self.source.snippet:
            doc["text"] = self.source.snippet
        doc["role"] = self.role
        if self.role_event:
            doc["role_event"] = self.role_event
        if self.role_reason:
            doc["role_reason"] = self.role_reason
        return doc
