"""The detail area: everything about the selected event, with a note's cited span marked."""

from __future__ import annotations

import html

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTextBrowser, QWidget

from osler.record import Event
from osler.ui.event_text import flag_word, format_range, format_span, format_value
from osler.ui.timeline_layout import LANE_TITLES, is_abnormal

MARK = "#FFE066"
MARK_COLOUR = QColor(MARK)
PLACEHOLDER = (
    "<p style='color:gray'>Select an event on the timeline (click it, or use Ctrl+Left/Right "
    "and Up/Down) to see its details here.</p>"
)


def event_html(event: Event, span: tuple[int, int] | None = None,
               parent_display: str | None = None, encounter_display: str | None = None) -> str:
    """Details of one event as HTML; every value from the record is escaped."""
    rows: list[tuple[str, str]] = [
        ("Kind", html.escape(LANE_TITLES.get(event.kind, event.kind.value))),
        ("When", html.escape(format_span(event))),
    ]
    value = format_value(event)
    if value:
        text = html.escape(value)
        if is_abnormal(event):
            text += (f" &nbsp;<b style='color:#C4001A'>{html.escape(flag_word(event.flag))}"
                     f" ({html.escape(event.flag or '')})</b>")
        rows.append(("Value", text))
    rng = format_range(event)
    if rng:
        rows.append(("Reference range", html.escape(rng)))
    for label, item in (("Status", event.status), ("Category", event.category)):
        if item:
            rows.append((label, html.escape(item)))
    for key, item in sorted(event.extra.items()):
        if key != "resource" and item:
            rows.append((key.replace("_", " ").capitalize(), html.escape(item)))
    codes = [c for c in event.codes if c.code or c.display]
    if codes:
        rows.append(("Codes", "<br>".join(
            html.escape(f"{c.system_name or 'code'} {c.code or ''} {c.display or ''}".strip())
            for c in codes)))
    if parent_display:
        rows.append(("Part of", html.escape(parent_display)))
    if event.encounter:
        rows.append(("Encounter", html.escape(encounter_display or event.encounter)))
    if event.source is not None:
        where = event.source.resource_type or ""
        if event.source.resource_id:
            where += f"/{event.source.resource_id}"
        if event.source.entry is not None:
            where += f" (entry {event.source.entry})"
        elif event.source.line is not None:
            where += f" (line {event.source.line})"
        rows.append(("Source", html.escape(where.strip() or event.id)))
    table = "".join(
        f"<tr><td style='color:gray;padding-right:12px;vertical-align:top'>{k}</td>"
        f"<td>{v}</td></tr>" for k, v in rows
    )
    body = f"<h3 style='margin:0 0 6px 0'>{html.escape(event.display)}</h3><table>{table}</table>"
    if event.text:
        body += "<h4 style='margin:10px 0 4px 0'>Text</h4>" + note_html(event.text, span)
    return body


def note_html(text: str, span: tuple[int, int] | None) -> str:
    """A note's text, wrapped, with the cited character span marked and anchored."""
    if span is not None:
        start, end = max(0, span[0]), min(len(text), span[1])
        if start < end:
            return (
                "<div style='white-space:pre-wrap'>" + html.escape(text[:start])
                + f"<a name='cited'></a><span style='background:{MARK};color:#000000'>"
                + html.escape(text[start:end]) + "</span>" + html.escape(text[end:]) + "</div>"
            )
    return f"<div style='white-space:pre-wrap'>{html.escape(text)}</div>"


class EventDetails(QTextBrowser):
    """Read-only, scrollable details of the selected event."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("eventDetails")
        self.setAccessibleName("Event details")
        self.setAccessibleDescription("Details of the event selected on the timeline")
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.event: Event | None = None
        self.span: tuple[int, int] | None = None
        self.clear_event()

    def clear_event(self) -> None:
        """Show the 'select an event' hint."""
        self.event, self.span = None, None
        self.setHtml(PLACEHOLDER)

    def show_event(self, event: Event, span: tuple[int, int] | None = None,
                   parent_display: str | None = None,
                   encounter_display: str | None = None) -> None:
        """Show an event; a note span is highlighted and scrolled into view."""
        self.event, self.span = event, span
        self.setHtml(event_html(event, span, parent_display, encounter_display))
        if span is not None and event.text:
            self.scrollToAnchor("cited")
        else:
            self.verticalScrollBar().setValue(0)

    def marked_text(self) -> str:
        """The text shown with the citation mark, read back from the document ('' if none)."""
        marked = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid() and fragment.charFormat().background().color() == MARK_COLOUR:
                    marked.append(fragment.text())
                it += 1
            block = block.next()
        return "".join(marked)
