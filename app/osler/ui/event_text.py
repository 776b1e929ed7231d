"""How an event reads on screen: time as recorded, value with unit and flag, one-line summary."""

from __future__ import annotations

import html
from datetime import datetime

from osler.record import Event
from osler.ui.timeline_layout import is_abnormal

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
    """Value and unit ('118 /min'), '' when the event has no value."""
    v = event.value
    if v is None:
        return ""
    if isinstance(v, bool):
        text = "yes" if v else "no"
    elif isinstance(v, float):
        text = f"{v:g}"
    else:
        text = str(v)
    return f"{text} {event.unit}" if event.unit else text


def format_range(event: Event) -> str:
    """Reference range as '4–10.5 10*3/uL', or its text, or ''."""
    rr = event.reference_range
    if rr is None:
        return ""
    if rr.low is not None and rr.high is not None:
        text = f"{rr.low:g}–{rr.high:g}"
    elif rr.low is not None:
        text = f"≥ {rr.low:g}"
    elif rr.high is not None:
        text = f"≤ {rr.high:g}"
    else:
        return rr.text or ""
    return f"{text} {event.unit}" if event.unit else text


def flag_word(flag: str | None) -> str:
    """'high', 'low'… for an interpretation code; the code itself when unknown."""
    if not flag:
        return ""
    return FLAG_WORDS.get(flag.upper(), flag)


def summary(event: Event) -> str:
    """One line: display, value and flag (no time)."""
    parts = [event.display]
    value = format_value(event)
    if value:
        parts.append(value)
    if is_abnormal(event):
        parts.append(f"[{event.flag}]")
    return " ".join(parts)


def tooltip_html(events: list[Event], more: int = 0) -> str:
    """Hover text for the events under the pointer (escaped; patient text is never markup)."""
    lines = []
    for e in events:
        value = format_value(e)
        flag = ""
        if is_abnormal(e):
            flag = f" <b style='color:#C4001A'>{html.escape(flag_word(e.flag))}</b>"
        lines.append(
            f"<b>{html.escape(e.display)}</b>"
            + (f" {html.escape(value)}" if value else "")
            + flag
            + f"<br><span style='color:gray'>{html.escape(format_span(e))}</span>"
        )
    if more:
        lines.append(f"<i>and {more} more here — zoom in to separate them</i>")
    return "<br>".join(lines)
