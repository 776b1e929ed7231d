"""What a model sees: demographics and a set of findings (present, absent or possible)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from osler.findings import Finding

PRESENT, ABSENT, POSSIBLE = "+", "-", "~"


@dataclass(frozen=True, slots=True)
class CaseInput:
    """Model input; `findings` maps finding id -> state ('+', '-' or '~')."""

    age: int | None
    sex: str | None
    findings: tuple[tuple[str, str], ...]

    @staticmethod
    def build(age: int | None, sex: str | None, items: dict[str, str]) -> CaseInput:
        return CaseInput(age, sex if sex in ("female", "male") else None,
                         tuple(sorted(items.items())))

    @staticmethod
    def from_findings(findings: list[Finding], age: int | None, sex: str | None) -> CaseInput:
        """One state per finding id; findings must already be merged (one per id)."""
        items: dict[str, str] = {}
        for f in findings:
            items[f.id] = PRESENT if f.present and f.certain else (
                POSSIBLE if f.present else ABSENT)
        return CaseInput.build(age, sex, items)

    def state(self, finding_id: str) -> str | None:
        for fid, st in self.findings:
            if fid == finding_id:
                return st
        return None

    def without(self, finding_id: str) -> CaseInput:
        return replace(self, findings=tuple(x for x in self.findings if x[0] != finding_id))

    def with_state(self, finding_id: str, state: str) -> CaseInput:
        items = dict(self.findings)
        items[finding_id] = state
        return CaseInput.build(self.age, self.sex, items)
