"""Prompt for a local LLM: the record as known at the chosen time and the findings, each line
tagged with the id it may be cited by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from osler.findings import Finding
from osler.record import EventKind, Timeline

ANSWER_PREFIX = "The most likely diagnosis is"
MAX_RECORD_LINES = 60


@dataclass(frozen=True, slots=True)
class PromptParts:
    """Lines of context with their citation ids, so any one can be left out (ablation)."""

    header: str
    record: tuple[tuple[str, str], ...]  # (event id, line)
    findings: tuple[tuple[str, str, str | None], ...]  # (finding id, line, source event id)

    @property
    def valid_ids(self) -> set[str]:
        return {eid for eid, _ in self.record} | {fid for fid, _, _ in self.findings}

    def render(self, without: str | None = None) -> str:
        """Context text; `without` drops a finding and the record line it came from."""
        drop_event = None
        for fid, _, src in self.findings:
            if fid == without:
                drop_event = src
        lines = [self.header]
        rec = [line for eid, line in self.record if eid != drop_event]
        if rec:
            lines.append("Record:")
            lines += rec
        fnd = [line for fid, line, _ in self.findings if fid != without]
        lines.append("Findings:")
        lines += fnd or ["- none recognised"]
        return "\n".join(lines)


def _event_line(e, at: datetime | None) -> str:
    when = e.time.date().isoformat() if e.time else "undated"
    value = ""
    if e.value is not None:
        v = f"{e.value:g}" if isinstance(e.value, float) else str(e.value)
        value = f" {v}{' ' + e.unit if e.unit else ''}"
        if e.flag and e.flag not in ("N",):
            value += f" ({e.flag})"
    return f"- [{e.id}] {when} {e.kind.value}: {e.display}{value}"


def build_parts(findings: list[Finding], age: int | None, sex: str | None,
                timeline: Timeline | None = None, at: datetime | None = None) -> PromptParts:
    """Header, recent record lines and findings, most relevant first, bounded in length."""
    who = f"{age}-year-old" if age is not None else "Adult"
    header = f"Patient: {who} {sex or 'patient'}."
    if at is not None:
        header += f" Record as of {at.date().isoformat()}."
    record: list[tuple[str, str]] = []
    if timeline is not None:
        known = timeline.until(at)
        cutoff = at or known.end
        for e in known.by_kind(EventKind.CONDITION, EventKind.MEDICATION, EventKind.ALLERGY):
            if cutoff is None or e.end is None or e.end >= cutoff:
                record.append((e.id, _event_line(e, at)))
        recent = [e for e in known.by_kind(EventKind.VITAL, EventKind.LAB) if e.numeric is not None]
        record += [(e.id, _event_line(e, at)) for e in recent[-30:]]
        record = record[-MAX_RECORD_LINES:]
    lines = []
    for f in findings:
        state = "present" if f.present else "absent"
        if f.present and not f.certain:
            state = "possibly present"
        src = f" (source {f.source.cite()})" if f.source.event_id or f.source.span else ""
        lines.append((f.id, f"- [{f.id}] {f.label}: {state}{src}", f.source.event_id))
    return PromptParts(header, tuple(record), tuple(lines))


def question(context: str, tokenizer) -> str:
    """The scoring prompt, using the model's chat template when it has one."""
    ask = ("You are helping a physician consider a differential diagnosis. "
           "Use only the information below.\n\n" + context +
           "\n\nWhat is the single most likely diagnosis?")
    template = getattr(tokenizer, "chat_template", None)
    if template:
        try:
            text = tokenizer.apply_chat_template([{"role": "user", "content": ask}],
                                                 tokenize=False, add_generation_prompt=True)
            return f"{text}{ANSWER_PREFIX}"
        except Exception:  # a broken template falls back to plain text
            pass
    return f"{ask}\nAnswer: {ANSWER_PREFIX}"
