"""How an event reads on screen: time as recorded, value with unit and flag, one-line summary."""

from __future__ import annotations

import html
from datetime import datetime

from osler.findings.abnormal import AbnormalJudge
from osler.findings.measure import Verdict
from osler.record import Event, Timeline
from osler.record import values as record_values
from osler.record.values import format_number
from osler.ui.timeline_layout import flagged_by_source

FLAG_WORDS = {"H": "high", "L": "low", "HH": "critically high", "LL": "critically low",
              "A": "abnormal", "AA": "critically abnormal"}


def format_when(when: datetime | None, precision: str = "second") -> str:
    """A time as the record gave it: date only for dates, else minutes with the UTC offset."""
    if when is None:
        return "undated"
    if precision == "year":
        return f"{when.year:04d}"
    if precision == "month":
        return when.strftime("%b %Y")
    if precision == "day":
        return when.strftime("%d %b %Y")
    text = when.strftime("%d %b %Y %H:%M")
    offset = when.strftime("%z")
    if offset in ("+0000", ""):
        return f"{text} UTC" if offset else text
    return f"{text} (UTC{offset[:3]}:{offset[3:]})"


def format_span(event: Event) -> str:
    """Start–end of an event; spans say 'ongoing' or give their end."""
    start = format_when(event.time, event.time_precision)
    if event.end is not None and event.end != event.time:
        return f"{start} – {format_when(event.end)}"
    if event.ongoing:
        return f"{start} – ongoing"
    return start


def format_value(event: Event) -> str:
    """Value and unit at clinical precision ('11.5 g/dL', '118 /min'), '' without a value."""
    return record_values.format_value(event.value, event.unit)


def source_text(timeline: Timeline | None, event_id: str | None, span: tuple[int, int] | None,
                cite: str, snippet: str | None = None) -> str:
    """Where evidence came from, as a clinician reads it: 'Heart rate 118 /min · 04 Mar 2024
    14:05', 'Triage note: “calf swollen”', or 'typed text' (with its words when known)."""
    if not event_id:
        if not cite.startswith("text"):
            return cite
        return f"typed text: “{snippet}”" if snippet else "typed text"
    event = timeline.get(event_id) if timeline is not None else None
    if event is None:
        return cite
    if span is not None and event.text:
        return f"{event.display}: “{event.text[span[0]:span[1]]}”"
    value = format_value(event)
    when = format_when(event.time, event.time_precision)
    return f"{event.display}{' ' + value if value else ''} · {when}"


def format_range(event: Event) -> str:
    """Reference range as '4–10.5 10*3/uL', or its text, or ''."""
    rr = event.reference_range
    if rr is None:
        return ""
    if rr.low is not None and rr.high is not None:
        text = f"{format_number(rr.low)}–{format_number(rr.high)}"
    elif rr.low is not None:
        text = f"≥ {format_number(rr.low)}"
    elif rr.high is not None:
        text = f"≤ {format_number(rr.high)}"
    else:
        return rr.text or ""
    return f"{text} {event.unit}" if event.unit else text


def kb_verdicts(event: Event, judge: AbnormalJudge | None) -> list[Verdict]:
    """The KB findings that make this value abnormal ([] without a judge)."""
    return judge.findings(event) if judge is not None else []


def abnormal_flag(event: Event, judge: AbnormalJudge | None = None) -> str | None:
    """The source's abnormal flag, else 'L'/'H' from the KB finding the value meets (as the
    findings read it); None when neither calls it abnormal."""
    if flagged_by_source(event):
        return event.flag
    verdicts = kb_verdicts(event, judge)
    if not verdicts:
        return None
    ops = {r.op[0] for v in verdicts for r in (v.rules or v.finding.rules)}
    return "L" if ops == {"<"} else "H" if ops == {">"} else "A"


def flag_word(flag: str | None) -> str:
    """'high', 'low'… for an interpretation code; the code itself when unknown."""
    if not flag:
        return ""
    return FLAG_WORDS.get(flag.upper(), flag)


def summary(event: Event, judge: AbnormalJudge | None = None) -> str:
    """One line: display, value and flag (no time)."""
    parts = [event.display]
    value = format_value(event)
    if value:
        parts.append(value)
    flag = abnormal_flag(event, judge)
    if flag:
        parts.append(f"[{flag}]")
    return " ".join(parts)


def tooltip_html(events: list[Event], more: int = 0, judge: AbnormalJudge | None = None) -> str:
    """Hover text for the events under the pointer (escaped; patient text is never markup)."""
    lines = []
    for e in events:
        value = format_value(e)
        flag = ""
        word = flag_word(abnormal_flag(e, judge))
        if word:
            flag = f" <b style='color:#C4001A'>{html.escape(word)}</b>"
        lines.append(
            f"<b>{html.escape(e.display)}</b>"
            + (f" {html.escape(value)}" if value else "")
            + flag
            + f"<br><span style='color:gray'>{html.escape(format_span(e))}</span>"
        )
    if more:
        lines.append(f"<i>and {more} more here — zoom in to separate them</i>")
    return "<br>".join(lines)
