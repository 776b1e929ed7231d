"""The differential panel beside the timeline: ranked diagnoses with probability bars, ICD-10
and can't-miss badges; evidence for and against, pertinent negatives and what to check next;
what-if findings; the LLM's rationale; and the override buttons.

A view only: it shows a DdxResult and emits what the clinician asked for; the controller
does the work (model thread, audit thread).
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import QModelIndex, QRect, QSize, QStringListModel, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from osler.knowledge import KnowledgeBase
from osler.reasoning.differential import Diagnosis, Evidence
from osler.reasoning.formatting import format_probability
from osler.record import Timeline
from osler.session.whatif import ABSENT, POSSIBLE, PRESENT, REMOVED
from osler.ui.diagnosis_search import DiagnosisChoice, search_findings
from osler.ui.event_text import format_when, source_text
from osler.ui.model_worker import DdxResult, LoadedModel

DX_ROLE = Qt.ItemDataRole.UserRole
DECISION_ROLE = Qt.ItemDataRole.UserRole + 1
ADDED_ROLE = Qt.ItemDataRole.UserRole + 2
EVENT_ROLE = Qt.ItemDataRole.UserRole
SPAN_ROLE = Qt.ItemDataRole.UserRole + 1
FINDING_ROLE = Qt.ItemDataRole.UserRole + 2
STATE_MARK = {PRESENT: "✚", POSSIBLE: "?", ABSENT: "−", REMOVED: "×"}
EVIDENCE_MARK = {"+": "✚", "~": "?", "-": "−", "demographic": "•"}
STATE_WORD = {PRESENT: "present", POSSIBLE: "possible", ABSENT: "absent",
              REMOVED: "left out of the case"}
DECISION_TEXT = {"accept": "✓ accepted", "reject": "✗ rejected", "rerank": "↕ moved",
                 "comment": "✎ comment", "add": "＋ added by clinician"}


percent = format_probability  # one formatter for the window and the CLI


def odds_text(weight: float) -> str:
    """A log-odds change as the factor it multiplies the odds by ('odds ×3.5', '×0.01')."""
    factor = math.exp(max(min(weight, 50.0), -50.0))
    if factor >= 100:
        return f"odds ×{factor:,.0f}"
    return f"odds ×{factor:.2g}"


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class DiagnosisDelegate(QStyledItemDelegate):
    """Two lines per diagnosis: rank, name, badges; probability bar, percentage, ICD-10."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        h = option.fontMetrics.height()
        return QSize(200, int(h * 2 + 14))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        dx: Diagnosis | None = index.data(DX_ROLE)
        added: DiagnosisChoice | None = index.data(ADDED_ROLE)
        decision: str | None = index.data(DECISION_ROLE)
        style = option.widget.style() if option.widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_colour = pal.color(QPalette.ColorRole.HighlightedText if selected
                                else QPalette.ColorRole.Text)
        muted = QColor(text_colour)
        muted.setAlpha(170)
        dark = _dark(pal)
        alarm = QColor("#FF6B7A" if dark or selected else "#B0001A")
        r = option.rect.adjusted(6, 4, -6, -4)
        fm = option.fontMetrics
        line = fm.height()
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        rank = f"{dx.rank}." if dx is not None else "＋"
        name = dx.name if dx is not None else (added.name if added else "")
        badges: list[tuple[str, QColor]] = []
        if dx is not None and dx.cant_miss:
            badges.append(("CAN'T MISS", alarm))
        if decision:
            badges.append((DECISION_TEXT.get(decision, decision), text_colour))
        x_right = r.right()
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.85))
        small.setBold(True)
        painter.setFont(small)
        sfm = painter.fontMetrics()
        for text, colour in badges:
            w = sfm.horizontalAdvance(text) + 10
            box = QRect(x_right - w, r.top() + 1, w, line - 2)
            painter.setPen(QPen(colour, 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 4, 4)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            x_right -= w + 6
        painter.setFont(bold)
        painter.setPen(text_colour)
        title = QRect(r.left(), r.top(), max(10, x_right - r.left()), line)
        label = f"{rank} {name}"
        if decision == "reject":
            strike = QFont(bold)
            strike.setStrikeOut(True)
            painter.setFont(strike)
        painter.drawText(title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight,
                                                          title.width()))
        painter.setFont(option.font)
        y2 = r.top() + line + 4
        bar_w = max(60, int(r.width() * 0.38))
        bar = QRect(r.left(), y2 + 3, bar_w, line - 6)
        painter.setPen(QPen(muted, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        p = dx.probability if dx is not None else None
        if p is not None:
            fill = QColor(pal.color(QPalette.ColorRole.Highlight))
            if selected:
                fill = QColor(text_colour)
            if dx is not None and dx.cant_miss:
                fill = alarm
            width = round((bar_w - 2) * max(0.0, min(1.0, p)))
            if width > 0:
                painter.fillRect(QRect(bar.left() + 1, bar.top() + 1, width, bar.height() - 1),
                                 fill)
        painter.setPen(text_colour)
        codes = ", ".join(dx.icd10 if dx is not None else (added.icd10 if added else ()))
        extra = " · shown: can't-miss" if dx is not None and dx.pinned else ""
        rest = f"{percent(p)}   ICD-10 {codes or '—'}{extra}"
        painter.drawText(QRect(bar.right() + 8, y2, r.right() - bar.right() - 8, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(rest, Qt.TextElideMode.ElideRight,
                                       r.right() - bar.right() - 8))
        painter.restore()


class DiagnosisList(QListWidget):
    """The ranked list; drag an entry (or Ctrl+↑/↓) to re-rank it."""

    moved = Signal(int, int)  # from row, to row

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diagnosisList")
        self.setAccessibleName("Differential diagnoses, most likely first")
        self.setAccessibleDescription("Drag an entry, or press Ctrl+Up / Ctrl+Down, to re-rank "
                                      "it. Its evidence is listed below.")
        self.setItemDelegate(DiagnosisDelegate(self))
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.model().rowsMoved.connect(self._rows_moved)

    def _rows_moved(self, _parent: Any, start: int, _end: int, _dest: Any, row: int) -> None:
        to = row if row <= start else row - 1
        if to != start:
            self.moved.emit(start, to)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.currentRow()
            to = row - 1 if event.key() == Qt.Key.Key_Up else row + 1
            if row >= 0 and 0 <= to < self.count():
                self.moved.emit(row, to)
            event.accept()
            return
        super().keyPressEvent(event)


class DifferentialPanel(QWidget):
    """Everything about the differential for the record shown (see module docstring)."""

    evidenceActivated = Signal(str, object)  # event id ("": typed text), span or None
    findingToggled = Signal(str)  # finding id
    findingAdded = Signal(str)  # finding id from the KB vocabulary
    whatIfReset = Signal()
    acceptRequested = Signal(int)  # rank
    rejectRequested = Signal(int)
    rerankRequested = Signal(int, int)  # rank, new rank
    addRequested = Signal()
    commentRequested = Signal(object)  # rank or None
    citationActivated = Signal(str)  # an event id or finding id the rationale cites
    modelManagerRequested = Signal()

    def __init__(self, kb: KnowledgeBase | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("differentialPanel")
        self.setAccessibleName("Differential diagnosis")
        self.kb = kb
        self.result: DdxResult | None = None
        self.timeline: Timeline | None = None
        self.decisions: dict[str, str] = {}
        self.added: list[DiagnosisChoice] = []
        self._order: list[Diagnosis] = []
        self.rationale_doc: dict[str, Any] | None = None
        self.overrides_enabled = True
        self._overrides_why = ""
        self._build()
        self._connect()
        self._update_buttons()
        self.show_message("Open a record to see its differential.")

    # --- construction -----------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        head = QHBoxLayout()
        title = QLabel("<b>Differential diagnosis</b>")
        title.setAccessibleName("Differential diagnosis")
        head.addWidget(title)
        head.addStretch(1)
        self.model_button = QPushButton("Model…")
        self.model_button.setObjectName("modelButton")
        self.model_button.setAccessibleName("Model in use; open the model manager")
        self.model_button.setFlat(True)
        head.addWidget(self.model_button)
        layout.addLayout(head)
        self.status = QLabel("")
        self.status.setObjectName("ddxStatus")
        self.status.setAccessibleName("Differential status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.whatif_banner = QLabel("")
        self.whatif_banner.setObjectName("whatIfBanner")
        self.whatif_banner.setAccessibleName("What-if notice")
        self.whatif_banner.setWordWrap(True)
        self.whatif_banner.setStyleSheet("QLabel#whatIfBanner { background: #FFE7B3; color: "
                                         "#4A3300; border: 1px solid #E0A040; padding: 4px; }")
        self.whatif_banner.hide()
        layout.addWidget(self.whatif_banner)
        self.adequacy_banner = QLabel("")
        self.adequacy_banner.setObjectName("adequacyBanner")
        self.adequacy_banner.setAccessibleName("Not enough information to rank")
        self.adequacy_banner.setWordWrap(True)
        self.adequacy_banner.setStyleSheet("QLabel#adequacyBanner { background: #E3ECFA; color: "
                                           "#102A56; border: 1px solid #7E9CD8; padding: 4px; }")
        self.adequacy_banner.hide()
        layout.addWidget(self.adequacy_banner)
        self.warnings = QLabel("")
        self.warnings.setObjectName("ddxWarnings")
        self.warnings.setAccessibleName("Differential warnings")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        layout.addWidget(self.warnings)
        self.notice = QLabel("")
        self.notice.setObjectName("ddxNotice")
        self.notice.setAccessibleName("Notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("QLabel#ddxNotice { background: #FFF4CE; color: #4A3B00; "
                                  "border: 1px solid #D9B400; padding: 4px; }")
        self.notice.hide()
        layout.addWidget(self.notice)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("ddxSplitter")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.list = DiagnosisList()
        top_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.accept_button = self._button("&Accept", "Agree with the selected diagnosis "
                                          "(recorded in the audit trail)")
        self.reject_button = self._button("&Reject…", "Rule the selected diagnosis out, with a "
                                          "coded reason")
        self.add_button = self._button("A&dd…", "Add a diagnosis the model did not list")
        self.comment_button = self._button("Co&mment…", "Comment on the differential or on the "
                                           "selected diagnosis")
        self.up_button = self._button("▲", "Move the selected diagnosis up (Ctrl+Up)")
        self.down_button = self._button("▼", "Move the selected diagnosis down (Ctrl+Down)")
        self.up_button.setAccessibleName("Move up")
        self.down_button.setAccessibleName("Move down")
        for b in (self.accept_button, self.reject_button, self.add_button, self.comment_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        top_layout.addLayout(buttons)
        self.splitter.addWidget(top)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("ddxTabs")
        self.tabs.setAccessibleName("Details of the differential")
        self.evidence = QTreeWidget()
        self.evidence.setObjectName("evidenceTree")
        self.evidence.setAccessibleName("Evidence for the selected diagnosis")
        self.evidence.setAccessibleDescription("Select an item to show its event on the "
                                               "timeline.")
        self.evidence.setColumnCount(3)
        self.evidence.setHeaderLabels(["Finding", "Effect", "Source"])
        self.evidence.setRootIsDecorated(True)
        self.evidence.setUniformRowHeights(True)
        # Long names lose their middle, never the '(absent)' at their end; full text in tips.
        self.evidence.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.evidence.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 170)
        header.setStretchLastSection(False)
        self.tabs.addTab(self.evidence, "&Evidence")

        findings = QWidget()
        f_layout = QVBoxLayout(findings)
        f_layout.setContentsMargins(2, 4, 2, 2)
        intro = QLabel("What if? Double-click or press Space to toggle a finding "
                       "(present → absent → left out). Changes are hypothetical: they are "
                       "never written to the record.")
        intro.setWordWrap(True)
        f_layout.addWidget(intro)
        add_row = QHBoxLayout()
        self.finding_search = QLineEdit()
        self.finding_search.setObjectName("whatIfSearch")
        self.finding_search.setAccessibleName("Add a what-if finding")
        self.finding_search.setPlaceholderText("Add a finding (what if)…")
        self.finding_search.setClearButtonEnabled(True)
        self._completer_model = QStringListModel(self)
        completer = QCompleter(self._completer_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.finding_search.setCompleter(completer)
        add_row.addWidget(self.finding_search, 1)
        self.add_finding_button = QPushButton("Add")
        self.add_finding_button.setAccessibleName("Add the what-if finding")
        add_row.addWidget(self.add_finding_button)
        f_layout.addLayout(add_row)
        self.findings = QListWidget()
        self.findings.setObjectName("whatIfFindings")
        self.findings.setAccessibleName("Findings the model sees")
        f_layout.addWidget(self.findings, 1)
        row = QHBoxLayout()
        self.toggle_button = QPushButton("Toggle")
        self.toggle_button.setToolTip("present → absent → left out → present")
        self.reset_button = QPushButton("Reset what-if")
        self.reset_button.setToolTip("Back to the findings in the record")
        row.addWidget(self.toggle_button)
        row.addStretch(1)
        row.addWidget(self.reset_button)
        f_layout.addLayout(row)
        self.tabs.addTab(findings, "Findings (what &if)")

        self.next_best = QTreeWidget()
        self.next_best.setObjectName("nextBest")
        self.next_best.setAccessibleName("Findings worth checking next")
        self.next_best.setColumnCount(3)
        self.next_best.setHeaderLabels(["Check next", "Information", "Likely present"])
        self.next_best.setRootIsDecorated(False)
        self.next_best.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tabs.addTab(self.next_best, "Check &next")

        self.rationale = QTextBrowser()
        self.rationale.setObjectName("rationale")
        self.rationale.setAccessibleName("Rationale written by the language model")
        self.rationale.setOpenLinks(False)
        self.rationale.setOpenExternalLinks(False)
        self.rationale_tab = self.tabs.addTab(self.rationale, "Rationale")
        self.tabs.setTabEnabled(self.rationale_tab, False)
        self.tabs.setTabToolTip(self.rationale_tab, "Load a local language model (Tools ▸ "
                                "Model manager) for a written rationale with citations")
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)

        self.disclaimer = QLabel("")
        self.disclaimer.setObjectName("ddxDisclaimer")
        self.disclaimer.setAccessibleName("Disclaimer")
        self.disclaimer.setWordWrap(True)
        font = self.disclaimer.font()
        font.setItalic(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self.disclaimer.setFont(font)
        layout.addWidget(self.disclaimer)
        if self.kb is not None:
            self._completer_model.setStringList(sorted({f.label for f in self.kb.findings}))

    def _button(self, text: str, tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setAccessibleName(text.replace("&", "").rstrip("…"))
        b.setAccessibleDescription(tip)
        return b

    def _connect(self) -> None:
        self.list.currentRowChanged.connect(lambda _r: self._show_selected())
        self.list.moved.connect(self._moved)
        self.evidence.itemClicked.connect(self.activate_evidence)
        self.evidence.itemActivated.connect(self.activate_evidence)
        self.accept_button.clicked.connect(lambda: self._with_rank(self.acceptRequested.emit))
        self.reject_button.clicked.connect(lambda: self._with_rank(self.rejectRequested.emit))
        self.add_button.clicked.connect(self.addRequested.emit)
        self.comment_button.clicked.connect(
            lambda: self.commentRequested.emit(self.selected_rank()))
        self.up_button.clicked.connect(lambda: self._move_selected(-1))
        self.down_button.clicked.connect(lambda: self._move_selected(1))
        self.findings.itemActivated.connect(self._toggle_item)
        self.toggle_button.clicked.connect(lambda: self._toggle_item(self.findings.currentItem()))
        self.reset_button.clicked.connect(self.whatIfReset.emit)
        self.finding_search.returnPressed.connect(self._add_finding)
        self.add_finding_button.clicked.connect(self._add_finding)
        self.rationale.anchorClicked.connect(self._citation)
        self.model_button.clicked.connect(self.modelManagerRequested.emit)
        self.findings.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if (watched is self.findings and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Space):
            self._toggle_item(self.findings.currentItem())
            return True
        return super().eventFilter(watched, event)

    # --- showing ------------------------------------------------------------------

    def set_record(self, timeline: Timeline | None) -> None:
        """A new patient: forget the shown differential and the session's decisions."""
        self.timeline = timeline
        self.result = None
        self.decisions = {}
        self.added = []
        self._order = []
        self.list.clear()
        self.evidence.clear()
        self.findings.clear()
        self.next_best.clear()
        self.rationale.clear()
        self.whatif_banner.hide()
        self.adequacy_banner.hide()
        self.notice.hide()
        self._update_buttons()
        if timeline is not None:
            self.show_message("Computing the differential…")

    def set_model(self, loaded: LoadedModel) -> None:
        """Name the model in use; the rationale tab is for local language models only."""
        m = loaded.info
        self.model_button.setText(f"{m.id} {m.version} · {m.device}")
        tip = (f"{m.kind} model {m.id} {m.version} on {m.device} ({m.quantization}); "
               f"memory {m.memory_bytes / 2**20:.0f} MiB" if m.memory_bytes else
               f"{m.kind} model {m.id} {m.version} on {m.device}")
        if loaded.warnings:
            tip += "\n" + "\n".join(loaded.warnings)
        self.model_button.setToolTip(tip + "\nClick to open the model manager.")
        self.tabs.setTabEnabled(self.rationale_tab, loaded.is_llm)
        if not loaded.is_llm:
            self.rationale.clear()

    def show_fallback_model(self, used: Any, server: str) -> None:
        """While the clinic server is not answering, the header names the model that made
        the differential on screen (the shipped one), not the server."""
        self.model_button.setText(f"{used.id} {used.version} · {used.device} (fallback)")
        self.model_button.setToolTip(
            f"The clinic server {server} is not answering: the differential shown comes from "
            f"the {used.kind} model {used.id} {used.version} on {used.device}.\n"
            "Click to open the model manager.")

    def show_result_cleared(self, text: str) -> None:
        """Nothing to reason on (no record, no text): an empty list and what to do."""
        self.set_record(None)
        self.show_message(text)

    def show_notice(self, text: str) -> None:
        """A notice above the list until the next record (e.g. decisions cleared after a
        model change)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #C4001A;" if error else "")

    def set_overrides_enabled(self, enabled: bool, why: str = "") -> None:
        """Overrides act on the record's differential; off while what-if edits are shown."""
        self.overrides_enabled = enabled
        self._overrides_why = why
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.result is not None
        dx = self.selected_diagnosis()
        on = self.overrides_enabled and has
        for b in (self.accept_button, self.reject_button, self.up_button, self.down_button):
            b.setEnabled(on and dx is not None)
        self.add_button.setEnabled(on)
        self.comment_button.setEnabled(on)
        self.list.setDragEnabled(on)
        for b in (self.accept_button, self.reject_button, self.add_button,
                  self.comment_button):
            b.setStatusTip(self._overrides_why if not on else "")

    def show_result(self, result: DdxResult, decisions: dict[str, str],
                    added: list[DiagnosisChoice], extra_warnings: list[str] = (),
                    shown_elsewhere: str = "") -> None:
        """Show a computed differential (keeps the selected diagnosis by name);
        SHOWN_ELSEWHERE is a warning a banner above already says (not repeated here)."""
        keep = self.selected_diagnosis()
        before = [dx.name for dx in self._order]
        self.result = result
        self.decisions = dict(decisions)
        self.added = list(added)
        diff = result.differential
        self._order = list(diff.diagnoses)
        row = 0
        if keep is not None:
            row = next((i for i, dx in enumerate(self._order) if dx.name == keep.name), 0)
        self._fill_list(row)
        if [dx.name for dx in self._order] != before:
            # A new ranking: show its top; the selection stays on the same diagnosis.
            self.list.scrollToTop()
        self._show_findings(result)
        self._show_next_best(result)
        if diff.rationale is not None:
            self.show_rationale(diff.rationale)
        if diff.patient_id is None and not result.record_findings:
            when = "no findings read yet"
        elif diff.patient_id is None:
            when = "typed presentation"
        else:
            when = (f"record up to {format_when(result.at)}" if result.at is not None
                    else "whole record")
        n_hyp = len(result.whatif.edits)
        counted = sum(1 for f in result.record_findings if f.counted)
        self.show_message(f"{when} · {counted} findings"
                          + (f" · {n_hyp} what-if" if n_hyp else "")
                          + (f" · not in this list: {percent(diff.unlisted)}"
                             if diff.unlisted >= 0.001 else "")
                          + f" · {result.seconds * 1000:.0f} ms")
        self._show_adequacy(diff)
        warnings = [w for w in [*diff.warnings, *extra_warnings]
                    if not shown_elsewhere or w != shown_elsewhere]
        self.warnings.setText("⚠ " + "\n⚠ ".join(warnings) if warnings else "")
        self.warnings.setVisible(bool(warnings))
        self.disclaimer.setText(diff.disclaimer)
        if result.whatif.active:
            self.whatif_banner.setText(
                "<b>WHAT IF</b> — hypothetical findings, not in the record: "
                + html.escape("; ".join(result.whatif.describe()))
                + ". Overrides are off until you reset (Findings tab).")
            self.whatif_banner.show()
        else:
            self.whatif_banner.hide()
        self._update_buttons()

    def _show_adequacy(self, diff: Any) -> None:
        """Too little information: say so above the list and open 'Check next' first."""
        ad = diff.adequacy
        if ad is None or ad.sufficient:
            self.adequacy_banner.hide()
            return
        ask = ", ".join(n.label for n in diff.next_best[:3])
        self.adequacy_banner.setText(
            "<b>Not enough information to rank yet</b> — " + html.escape(ad.reason) + "."
            + (f" Ask or check first: {html.escape(ask)} (Check next tab)." if ask else "")
            + " The list below is what age, sex and background alone suggest.")
        self.adequacy_banner.show()
        self.tabs.setCurrentWidget(self.next_best)

    def _dx_item(self, dx: Diagnosis) -> QListWidgetItem:
        """One list entry; the delegate paints it, the accessible text speaks it."""
        item = QListWidgetItem(f"{dx.rank}. {dx.name}")
        item.setData(DX_ROLE, dx)
        decision = self.decisions.get(dx.name)
        item.setData(DECISION_ROLE, decision)
        spoken = (f"{dx.rank}. {dx.name}, probability {percent(dx.probability)}, ICD-10 "
                  f"{', '.join(dx.icd10) or 'none'}"
                  + (", can't miss" if dx.cant_miss else "")
                  + (f", {DECISION_TEXT[decision]}" if decision in DECISION_TEXT else ""))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, spoken)
        tip = spoken
        if dx.cant_miss and dx.cant_miss_rationale:
            tip += f"\nCan't miss: {dx.cant_miss_rationale}"
        if dx.pinned:
            tip += "\nShown because it is a can't-miss diagnosis, though below the top list."
        item.setToolTip(tip)
        return item

    def selected_diagnosis(self) -> Diagnosis | None:
        item = self.list.currentItem()
        return item.data(DX_ROLE) if item is not None else None

    def selected_rank(self) -> int | None:
        dx = self.selected_diagnosis()
        return dx.rank if dx is not None else None

    def select_rank(self, rank: int) -> bool:
        for i in range(self.list.count()):
            dx = self.list.item(i).data(DX_ROLE)
            if dx is not None and dx.rank == rank:
                self.list.setCurrentRow(i)
                return True
        return False

    def select_condition(self, condition_id: str) -> bool:
        """Select the diagnosis of a KB condition (a link from the rare-disease panel)."""
        for i in range(self.list.count()):
            dx = self.list.item(i).data(DX_ROLE)
            if dx is not None and dx.condition_id == condition_id:
                self.list.setCurrentRow(i)
                self.list.scrollToItem(self.list.item(i))
                return True
        return False

    def _show_selected(self) -> None:
        self.evidence.clear()
        dx = self.selected_diagnosis()
        self._update_buttons()
        if dx is None:
            item = self.list.currentItem()
            choice = item.data(ADDED_ROLE) if item is not None else None
            if choice is not None:
                QTreeWidgetItem(self.evidence, [f"{choice.name} was added by the clinician; "
                                                "the model gives no evidence for it."])
            return
        hypothetical = ({fid for fid, _, _ in self.result.whatif.edits}
                        if self.result is not None else set())
        groups = [(f"For {dx.name}", dx.evidence_for), (f"Against {dx.name}",
                                                        dx.evidence_against)]
        for title, items in groups:
            top = QTreeWidgetItem(self.evidence, [title, "", ""])
            top.setFirstColumnSpanned(True)
            bold = top.font(0)
            bold.setBold(True)
            top.setFont(0, bold)
            for ev in items:
                self._evidence_row(top, ev, ev.finding_id in hypothetical)
            if not items:
                QTreeWidgetItem(top, ["none", "", ""])
            top.setExpanded(True)
        if dx.requirements:
            top = QTreeWidgetItem(self.evidence, ["Prerequisites", "", ""])
            top.setFirstColumnSpanned(True)
            for req in dx.requirements:
                effect = "none" if req.factor >= 1 else f"odds ×{req.factor:g}"
                row = QTreeWidgetItem(top, [req.text(), effect, req.state])
                row.setToolTip(0, f"{req.text()}\nBasis: {req.entry.basis}")
            top.setExpanded(True)
        if dx.pertinent_negatives:
            top = QTreeWidgetItem(self.evidence, ["Pertinent negatives", "", ""])
            top.setFirstColumnSpanned(True)
            for pn in dx.pertinent_negatives:
                state = "documented absent" if pn.documented_absent else "not documented"
                row = QTreeWidgetItem(top, [pn.label, f"expected in {pn.expected:.0%}", state])
                self._link(row, pn.source)
            top.setExpanded(True)
        if dx.next_best:
            top = QTreeWidgetItem(self.evidence, ["Would help decide", "", ""])
            top.setFirstColumnSpanned(True)
            for nb in dx.next_best:
                QTreeWidgetItem(top, [nb.label, f"{nb.information_gain:.2f} bits",
                                      f"likely present {nb.p_present:.0%}"])
            top.setExpanded(True)
        if dx.cant_miss and dx.cant_miss_rationale:
            top = QTreeWidgetItem(self.evidence, [f"Can't miss: {dx.cant_miss_rationale}"])
            top.setFirstColumnSpanned(True)

    def _evidence_row(self, parent: QTreeWidgetItem, ev: Evidence, hypothetical: bool) -> None:
        if hypothetical:
            source = "what if (hypothetical)"
        elif ev.state == "demographic":
            source = "patient details"
        else:
            source = self._source_text(ev.event_id, ev.span, ev.source)
        state = {"-": " (absent)", "~": " (possible)"}.get(ev.state, "")
        mark = EVIDENCE_MARK.get(ev.state, "")
        row = QTreeWidgetItem(parent, [f"{mark} {ev.label}{state}".strip(),
                                       odds_text(ev.weight), source])
        said = state or {"+": " (present)", "demographic": ""}.get(ev.state, "")
        row.setToolTip(0, f"{mark} {ev.label}{said}: changes the probability by "
                          f"{ev.delta * 100:+.1f} points ({odds_text(ev.weight)})")
        row.setToolTip(2, ev.source)
        row.setData(0, FINDING_ROLE, ev.finding_id)
        if hypothetical:
            font = row.font(0)
            font.setItalic(True)
            for c in range(3):
                row.setFont(c, font)
        elif ev.event_id or ev.span is not None:  # typed text: its words in the box
            row.setData(0, EVENT_ROLE, ev.event_id or "")
            row.setData(0, SPAN_ROLE, ev.span)
            row.setToolTip(2, f"{ev.source}\nClick to show it on the timeline" if ev.event_id
                           else "Click to show the words in the presentation")
            font = row.font(2)
            font.setUnderline(True)
            row.setFont(2, font)

    def _link(self, row: QTreeWidgetItem, cite: str | None) -> None:
        if not cite or self.result is None:
            return
        for f in self.result.record_findings:
            if f.source.cite() == cite and f.source.event_id:
                row.setData(0, EVENT_ROLE, f.source.event_id)
                row.setData(0, SPAN_ROLE, f.source.span)
                row.setText(2, self._source_text(f.source.event_id, f.source.span, cite))
                return

    def _source_text(self, event_id: str | None, span: tuple[int, int] | None,
                     cite: str) -> str:
        return source_text(self.timeline, event_id, span, cite)

    def _show_findings(self, result: DdxResult) -> None:
        current = self.findings.currentItem()
        keep = current.data(FINDING_ROLE) if current is not None else None
        self.findings.clear()
        for row in result.whatif.rows(list(result.record_findings)):
            text = f"{STATE_MARK[row.state]}  {row.label} — {STATE_WORD[row.state]}"
            if row.hypothetical:
                text += "   (what if)"
            item = QListWidgetItem(text)
            item.setData(FINDING_ROLE, row.finding_id)
            spoken = f"{row.label}: {STATE_WORD[row.state]}" + (
                ", hypothetical" if row.hypothetical else ", from the record")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, spoken)
            if row.recorded is not None and not row.hypothetical:
                item.setToolTip(f"From the record: {row.recorded.source.cite()}")
            if row.hypothetical:
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                item.setToolTip("Hypothetical: not in the record")
            if row.state == REMOVED:
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
            if row.recorded is not None and row.recorded.role == "background":
                item.setText(text + "   · background")
                item.setToolTip(f"Background (history, risk factor or an older problem): "
                                f"shapes the likelihoods, is not what the diagnosis must "
                                f"explain. {row.recorded.role_reason or ''}\n"
                                f"From the record: {row.recorded.source.cite()}")
            self.findings.addItem(item)
            if row.finding_id == keep:
                self.findings.setCurrentItem(item)
        for f in result.record_findings:
            if f.counted:
                continue
            state = "present" if f.present else "absent"
            item = QListWidgetItem(f"      {f.label} — {state} · {f.role}: {f.role_reason or ''}")
            item.setData(FINDING_ROLE, None)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
            item.setToolTip(f"Not used: {f.role}. {f.role_reason or ''}\nFrom "
                            f"{f.source.cite()}; decided by {f.role_event or '—'}")
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"{f.label}: {state}, {f.role}, not used. {f.role_reason or ''}")
            self.findings.addItem(item)
        self.reset_button.setEnabled(result.whatif.active)

    def _show_next_best(self, result: DdxResult) -> None:
        self.next_best.clear()
        for nb in result.differential.next_best:
            row = QTreeWidgetItem(self.next_best, [nb.label, f"{nb.information_gain:.2f} bits",
                                                   f"{nb.p_present:.0%}"])
            parts = []
            if nb.raises:
                parts.append("if present, supports " + ", ".join(nb.raises))
            if nb.lowers:
                parts.append("argues against " + ", ".join(nb.lowers))
            row.setToolTip(0, "; ".join(parts) or nb.label)

    # --- rationale (local LLMs) -----------------------------------------------------

    def start_rationale(self) -> None:
        self.rationale.clear()
        self.rationale.setPlainText("Writing the rationale…\n")

    def append_token(self, text: str) -> None:
        """Stream the LLM's text as it is written (raw JSON until it completes)."""
        cursor = self.rationale.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        self.rationale.setTextCursor(cursor)

    def show_rationale(self, doc: dict[str, Any]) -> None:
        """The finished rationale: text per diagnosis, citations as links to the record."""
        parts = ["<p><i>Written by a language model from the record; check every statement "
                 "against the record. Citations link to the events they name.</i></p>"]
        for d in doc.get("diagnoses", []):
            cites = " ".join(
                f'<a href="cite:{html.escape(c, quote=True)}">[{html.escape(c)}]</a>'
                for c in d.get("citations", []))
            parts.append(f"<p><b>{html.escape(str(d.get('name', '')))}</b>: "
                         f"{html.escape(str(d.get('rationale', '')))} {cites}</p>")
        kept, dropped = doc.get("citations_kept", 0), doc.get("citations_dropped", 0)
        line = f"{kept} citation(s) kept; {dropped} dropped as invalid"
        if doc.get("dropped"):
            line += " (" + html.escape(", ".join(map(str, doc["dropped"][:5]))) + ")"
        parts.append(f"<p style='color:gray'>{line}.</p>")
        if doc.get("proposals_not_in_kb"):
            parts.append("<p style='color:gray'>Proposed but not in the knowledge base: "
                         + html.escape(", ".join(doc["proposals_not_in_kb"])) + "</p>")
        self.rationale.setHtml("".join(parts))
        self.rationale_doc = doc

    def _citation(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("cite:"):
            self.citationActivated.emit(text[len("cite:"):])

    # --- clinician actions -----------------------------------------------------------

    def _with_rank(self, emit: Any) -> None:
        rank = self.selected_rank()
        if rank is not None:
            emit(rank)

    def _moved(self, from_row: int, to_row: int) -> None:
        # A drag has already moved the item on screen; _order still has the shown order.
        if not (0 <= from_row < len(self._order) and 0 <= to_row < len(self._order)):
            self.restore_order()
            return
        self.rerankRequested.emit(self._order[from_row].rank, to_row + 1)

    def _move_selected(self, step: int) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.moved.emit(row, row + step)

    def _fill_list(self, select_row: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for dx in self._order:
            self.list.addItem(self._dx_item(dx))
        for choice in self.added:
            item = QListWidgetItem(choice.name)
            item.setData(ADDED_ROLE, choice)
            item.setData(DECISION_ROLE, "add")
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"Added by clinician: {choice.name}, ICD-10 {', '.join(choice.icd10)}")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self.list.count():
            self.list.setCurrentRow(max(0, min(select_row, self.list.count() - 1)))
        self._show_selected()

    def restore_order(self) -> None:
        """Undo an on-screen drag that was not recorded (cancelled, or not allowed)."""
        self._fill_list(self.list.currentRow())

    def show_reranked(self, rank: int, new_rank: int) -> None:
        """Show the clinician's order after a recorded re-rank (until the next recompute)."""
        moved = next((d for d in self._order if d.rank == rank), None)
        if moved is None:
            return
        self._order.remove(moved)
        self._order.insert(min(new_rank - 1, len(self._order)), moved)
        self._fill_list(new_rank - 1)

    def show_added(self, choice: DiagnosisChoice) -> None:
        """List a diagnosis the clinician added (recorded)."""
        self.added.append(choice)
        self._fill_list(self.list.count())

    def mark(self, name: str, decision: str) -> None:
        """Badge a diagnosis with the clinician's recorded decision."""
        self.decisions[name] = decision
        self._fill_list(self.list.currentRow())

    def _toggle_item(self, item: QListWidgetItem | None) -> None:
        if item is not None and item.data(FINDING_ROLE):
            self.findingToggled.emit(item.data(FINDING_ROLE))

    def _add_finding(self) -> None:
        text = self.finding_search.text().strip()
        if not text or self.kb is None:
            return
        found = [f for f in self.kb.findings if f.label.casefold() == text.casefold()]
        found = found or search_findings(self.kb, text, 1)
        if not found:
            self.show_message(f"No finding in the knowledge base matches '{text}'.", error=True)
            return
        self.finding_search.clear()
        self.findingAdded.emit(found[0].id)

    def activate_evidence(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        """Show an evidence row's source: its event ('' with a span: the typed text)."""
        event_id, span = item.data(0, EVENT_ROLE), item.data(0, SPAN_ROLE)
        if event_id or (event_id == "" and span is not None):
            self.evidenceActivated.emit(event_id, span)

    # --- for tests and the controller ----------------------------------------------------

    def evidence_items(self) -> list[QTreeWidgetItem]:
        """Every evidence row (children of the groups), in display order."""
        out = []
        for i in range(self.evidence.topLevelItemCount()):
            top = self.evidence.topLevelItem(i)
            out += [top.child(j) for j in range(top.childCount())]
        return out

    def finding_item(self, finding_id: str) -> QListWidgetItem | None:
        for i in range(self.findings.count()):
            if self.findings.item(i).data(FINDING_ROLE) == finding_id:
                return self.findings.item(i)
        return None

    def names(self) -> list[str]:
        """Diagnosis names as listed (the clinician's order after a re-rank)."""
        out = []
        for i in range(self.list.count()):
            dx = self.list.item(i).data(DX_ROLE)
            choice = self.list.item(i).data(ADDED_ROLE)
            out.append(dx.name if dx is not None else choice.name)
        return out


def whatif_label(kb: KnowledgeBase | None, finding_id: str) -> str:
    """The KB label of a finding id (the id itself when the KB lacks it)."""
    if kb is not None and kb.has_finding(finding_id):
        return kb.finding(finding_id).label
    return finding_id

