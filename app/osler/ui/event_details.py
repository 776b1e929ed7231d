"""The detail area: everything about the selected event, with a note's cited span marked."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTextBrowser, QWidget

from osler.findings.abnormal import AbnormalJudge
from osler.record import Event, EventKind
from osler.record.report import RESULTS_KEY, report_members
from osler.record.values import format_value as value_text
from osler.ui.event_text import (
    abnormal_flag,
    flag_word,
    format_range,
    format_span,
    format_value,
    format_when,
    kb_verdicts,
)
from osler.ui.timeline_layout import LANE_TITLES, flagged_by_source

if TYPE_CHECKING:
    from osler.ui.timeline_view import TimelineView

MARK = "#FFE066"
MARK_COLOUR = QColor(MARK)
MAX_LISTED = 60
FLAG_STYLE = "color:#C4001A;font-weight:bold"
PLACEHOLDER = (
    "<p style='color:gray'>Select an event on the timeline (click it, or use Ctrl+Left/Right "
    "and Up/Down) to see its details here.</p>"
)


def event_html(event: Event, span: tuple[int, int] | None = None,
               parent_display: str | None = None, encounter_display: str | None = None,
               *, judge: AbnormalJudge | None = None, members: Sequence[Event] | None = None,
               stack: Sequence[Event] = ()) -> str:
    """Details of one event as HTML; every value from the record is escaped.

    `judge`: the KB's abnormal rules for the patient (marks as on the timeline); `members`:
    a report's analytes (None: not known, the result ids are listed instead); `stack`: all
    the events drawn where the user clicked, listed above the selected one's details.
    """
    rows: list[tuple[str, str]] = [
        ("Kind", html.escape(LANE_TITLES.get(event.kind, event.kind.value))),
        ("When", html.escape(format_span(event))),
    ]
    value = format_value(event)
    if value:
        text = html.escape(value)
        flag = abnormal_flag(event, judge)
        if flag:
            text += (f" &nbsp;<b style='color:#C4001A'>{html.escape(flag_word(flag))}"
                     f" ({html.escape(flag)})</b>")
        rows.append(("Value", text))
    verdicts = [] if flagged_by_source(event) else kb_verdicts(event, judge)
    if verdicts:
        rows.append(("Abnormal by", html.escape("; ".join(
            v.finding.label + (f" ({v.rule_text})" if v.rules else "") for v in verdicts)
            + " — the knowledge base's threshold, as the findings read it")))
    rng = format_range(event)
    if rng:
        rows.append(("Reference range", html.escape(rng)))
    for label, item in (("Status", event.status), ("Category", event.category)):
        if item:
            rows.append((label, html.escape(item)))
    for key, item in sorted(event.extra.items()):
        if key == RESULTS_KEY and members is not None:
            continue
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
    body = ""
    if len(stack) > 1:
        body += stack_html(stack, event, judge)
    body += f"<h3 style='margin:0 0 6px 0'>{html.escape(event.display)}</h3><table>{table}</table>"
    if event.kind == EventKind.REPORT and members:
        body += "<h4 style='margin:10px 0 4px 0'>Results</h4>" + analytes_html(members, judge)
    if event.text:
        body += "<h4 style='margin:10px 0 4px 0'>Text</h4>" + note_html(event.text, span)
    return body


def _flag_cell(event: Event, judge: AbnormalJudge | None) -> str:
    flag = abnormal_flag(event, judge)
    if not flag:
        return ""
    return f"<span style='{FLAG_STYLE}'>{html.escape(flag_word(flag))}</span>"


def _cells(cells: Sequence[str], bold: bool = False) -> str:
    style = "padding-right:12px;vertical-align:top" + (";font-weight:bold" if bold else "")
    return "<tr>" + "".join(f"<td style='{style}'>{c}</td>" for c in cells) + "</tr>"


def _head(*names: str) -> str:
    return "<tr>" + "".join(
        f"<td style='color:gray;padding-right:12px'>{n}</td>" for n in names) + "</tr>"


def analytes_html(members: Sequence[Event], judge: AbnormalJudge | None = None) -> str:
    """A report's analytes as a table: name, value, unit, flag."""
    rows = [_cells([html.escape(m.display), html.escape(value_text(m.value)),
                    html.escape(m.unit or ""), _flag_cell(m, judge)]) for m in members]
    return f"<table>{_head('Analyte', 'Value', 'Unit', 'Flag')}{''.join(rows)}</table>"


def stack_html(stack: Sequence[Event], selected: Event,
               judge: AbnormalJudge | None = None) -> str:
    """Every event drawn at the clicked place (the selected one in bold)."""
    shown = list(stack[:MAX_LISTED])
    rows = [_cells([html.escape(format_when(e.time, e.time_precision)),
                    html.escape(e.display), html.escape(format_value(e)),
                    _flag_cell(e, judge)], bold=e.id == selected.id) for e in shown]
    more = len(stack) - len(shown)
    tail = f"<p style='color:gray'>… and {more} more: zoom in to separate them</p>" if more \
        else ""
    return (f"<h3 style='margin:0 0 4px 0'>{len(stack)} events here</h3>"
            f"<table>{_head('When', 'Event', 'Value', 'Flag')}{''.join(rows)}</table>{tail}"
            "<hr>")


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
        self.stack: list[Event] = []
        self.view: TimelineView | None = None
        self.clear_event()

    def follow(self, view: TimelineView) -> None:
        """Read the record, its abnormal rules and the clicked stack from this timeline."""
        self.view = view

    def clear_event(self) -> None:
        """Show the 'select an event' hint."""
        self.event, self.span, self.stack = None, None, []
        self.setHtml(PLACEHOLDER)

    def show_event(self, event: Event, span: tuple[int, int] | None = None,
                   parent_display: str | None = None,
                   encounter_display: str | None = None) -> None:
        """Show an event; a note span is highlighted and scrolled into view. With a followed
        timeline, a clicked stack is listed and a report's analytes are shown."""
        self.event, self.span = event, span
        layout = self.view.record if self.view is not None else None
        judge = layout.judge if layout is not None else None
        members = None
        self.stack = []
        if layout is not None and event.id in layout.timeline:
            if event.kind == EventKind.REPORT:
                members = report_members(layout.timeline, event)
            selected = self.view.selected_event()
            if selected is not None and selected.id == event.id:
                self.stack = self.view.selected_stack()
        self.setHtml(event_html(event, span, parent_display, encounter_display, judge=judge,
                                members=members, stack=self.stack))
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
