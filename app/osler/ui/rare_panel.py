"""'Rare diseases to consider' beside the differential: a view of rare/panel.py's RarePanel.

Kept apart from the differential's list on purpose: its scores are phenotype similarities
(0-1, shown as '0.72 match'), never probabilities, so they are never ranked with or drawn
like the differential's. When the common differential explains the findings, the panel
folds to one line; when it is not shown at all, one quiet line says why. Selecting a
suggestion lists its matching, absent-but-expected and undocumented phenotypes; a matching
phenotype links to its event or typed words exactly as the differential's evidence does.
A view only: the RarePanel is computed on the model thread with the differential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from osler.record import Timeline
from osler.ui.event_text import source_text

if TYPE_CHECKING:  # the panel draws what the model thread computed: no need to load rare/
    from osler.rare.panel import RarePanel
    from osler.rare.phenotypes import Phenotype
    from osler.rare.ranking import Match, Suggestion

TITLE = "Rare diseases to consider"
SUGGESTION_ROLE = Qt.ItemDataRole.UserRole
EVENT_ROLE = Qt.ItemDataRole.UserRole  # on evidence rows: event id ('' = typed text)
SPAN_ROLE = Qt.ItemDataRole.UserRole + 1
PHENOTYPE_ROLE = Qt.ItemDataRole.UserRole + 2
KB_ROLE = Qt.ItemDataRole.UserRole + 3  # the 'also in the differential' row: condition id
EXPANDED_SHARE = 0.5  # of the differential's column, when the panel opens
MIN_BODY_HEIGHT = 150  # open: a suggestion or two and some phenotypes, at least
KEEP_HEIGHT = 80  # what opening the panel leaves each pane above it, at least


def match_text(similarity: float) -> str:
    """A similarity as the panel writes it: '0.72 match' (a percentage would read as a
    probability)."""
    return f"{max(0.0, min(1.0, similarity)):.2f} match"


def codes_text(s: Suggestion) -> str:
    """'OMIM:300624, ORPHA:908 · ICD-10-CM Q99.2' (what the suggestion has)."""
    parts = [", ".join(s.codes)] if s.codes else []
    if s.icd10:
        parts.append("ICD-10-CM " + ", ".join(s.icd10))
    return " · ".join(parts)


def spoken(s: Suggestion) -> str:
    """A suggestion as a screen reader says it."""
    return (f"{s.rank}. {s.name}, phenotype similarity {match_text(s.similarity)}, not a "
            f"probability" + (f", {codes_text(s)}" if codes_text(s) else "")
            + (f", also in the differential: {s.kb_name}" if s.kb_condition else ""))


class ElidedLabel(QLabel):
    """One line that loses its end rather than widen the panel (the whole text in its tip),
    or, with `set_wrapped(True)`, as many lines as the text needs."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.wrapped = False

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def set_wrapped(self, on: bool) -> None:
        self.wrapped = on
        self.setWordWrap(on)
        self.updateGeometry()
        self.update()

    def paintEvent(self, event: Any) -> None:
        if self.wrapped:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())
        painter.drawText(self.contentsRect(),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


class SuggestionDelegate(QStyledItemDelegate):
    """Two lines: rank and name, a slim grey bar and '0.72 match'; the OMIM/ORPHA ids and
    ICD-10-CM code, and 'also in the differential' (a link) when the KB has the disease."""

    linkActivated = Signal(QModelIndex)  # the 'also in the differential' text was clicked

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(200, option.fontMetrics.height() * 2 + 8)

    @staticmethod
    def link_text(s: Suggestion) -> str:
        same = (s.kb_name or "").casefold() == s.name.casefold()
        return "also in the differential" + ("" if same else f": {s.kb_name}")

    def _link_rect(self, rect: QRect, fm: QFontMetrics, s: Suggestion) -> QRect:
        r = rect.adjusted(6, 3, -6, -3)
        w = min(fm.horizontalAdvance(self.link_text(s)) + 2, r.width() // 2)
        return QRect(r.right() - w, r.top() + fm.height() + 2, w, fm.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        s: Suggestion | None = index.data(SUGGESTION_ROLE)
        style = option.widget.style() if option.widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        if s is None:
            return
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text = pal.color(QPalette.ColorRole.HighlightedText if selected
                         else QPalette.ColorRole.Text)
        muted = QColor(text)
        muted.setAlpha(150)
        fm = option.fontMetrics
        line = fm.height()
        r = option.rect.adjusted(6, 3, -6, -3)
        left, centre = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignVCenter
        painter.save()
        # Line 1: the score at the right (a grey bar: never drawn like a probability).
        score = match_text(s.similarity)
        score_w = fm.horizontalAdvance(score)
        bar_w = 44
        x_score = r.right() - score_w
        bar = QRect(x_score - bar_w - 6, r.top() + line // 2 - 3, bar_w, 6)
        painter.setPen(QPen(muted, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        width = round((bar_w - 1) * max(0.0, min(1.0, s.similarity)))
        if width > 0:
            painter.fillRect(QRect(bar.left() + 1, bar.top() + 1, width, bar.height() - 1),
                             muted)
        painter.setPen(text)
        painter.drawText(QRect(x_score, r.top(), score_w + 1, line), left | centre, score)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        title = QRect(r.left(), r.top(), max(10, bar.left() - 8 - r.left()), line)
        painter.drawText(title, left | centre, painter.fontMetrics().elidedText(
            f"{s.rank}. {s.name}", Qt.TextElideMode.ElideRight, title.width()))
        # Line 2: ids and code; the link to the differential at the right.
        painter.setFont(option.font)
        y2 = r.top() + line + 2
        right = r.right()
        if s.kb_condition:
            link_rect = self._link_rect(option.rect, fm, s)
            link = QFont(option.font)
            link.setUnderline(True)
            painter.setFont(link)
            painter.setPen(text if selected else pal.color(QPalette.ColorRole.Link))
            painter.drawText(link_rect, left | centre, fm.elidedText(
                self.link_text(s), Qt.TextElideMode.ElideRight, link_rect.width()))
            painter.setFont(option.font)
            right = link_rect.left() - 10
        painter.setPen(muted)
        ids = codes_text(s) or "no OMIM or Orphanet id"
        painter.drawText(QRect(r.left(), y2, right - r.left(), line), left | centre,
                         fm.elidedText(ids, Qt.TextElideMode.ElideRight, right - r.left()))
        painter.restore()

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem,
                    index: QModelIndex) -> bool:
        s: Suggestion | None = index.data(SUGGESTION_ROLE)
        if (s is not None and s.kb_condition and event.type() == QEvent.Type.MouseButtonRelease
                and self._link_rect(option.rect, option.fontMetrics, s).contains(
                    event.position().toPoint())):  # type: ignore[attr-defined]
            self.linkActivated.emit(index)
        return super().editorEvent(event, model, option, index)


class RareDiseasesPanel(QWidget):
    """See the module docstring."""

    evidenceActivated = Signal(str, object)  # event id ('' = the typed text), span or None
    diagnosisRequested = Signal(str)  # a KB condition id to select in the differential
    expandedChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None, min_body: int = MIN_BODY_HEIGHT):
        """MIN_BODY: the height an open panel keeps for its lists, at least (0 in a page
        that scrolls: there the layout's stretch decides)."""
        super().__init__(parent)
        self.min_body = min_body
        self.setObjectName("rarePanel")
        self.setAccessibleName(TITLE)
        self.rare: RarePanel | None = None
        self.timeline: Timeline | None = None
        self.expanded = False
        self._prominent: bool | None = None  # as last shown: a change unfolds or folds
        self._build()
        self.hide()

    def hasHeightForWidth(self) -> bool:
        # Its wrapped labels and lists must not make a scrolled page (teaching mode) as tall
        # as all their lines: the panel's height is what its splitter or layout gives it.
        return False

    def sizeHint(self) -> QSize:
        # Asks for its header only; open, its minimum height keeps room for the lists.
        return QSize(super().sizeHint().width(), self._header_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.minimumHeight())

    # --- construction -----------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(3)
        head = QHBoxLayout()
        head.setSpacing(4)
        self.toggle = QToolButton()
        self.toggle.setObjectName("rareToggle")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.toggle.setCheckable(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.toggle.setAccessibleName(f"Show or hide {TITLE.lower()}")
        font = self.toggle.font()
        font.setBold(True)
        self.toggle.setFont(font)
        head.addWidget(self.toggle)
        self.summary = ElidedLabel("")
        self.summary.setObjectName("rareSummary")
        self.summary.setAccessibleName("Why the rare-disease panel is open or folded")
        self.summary.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.summary.setFont(_small(self.font()))
        head.addWidget(self.summary, 1)
        layout.addLayout(head)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(3)
        self.notice = QLabel("")
        self.notice.setObjectName("rareNotice")
        self.notice.setAccessibleName("What these suggestions are")
        self.notice.setWordWrap(True)
        self.notice.setFont(_small(self.font(), italic=True))
        body.addWidget(self.notice)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("rareSplitter")
        self.list = QListWidget()
        self.list.setObjectName("rareSuggestions")
        self.list.setAccessibleName(f"{TITLE}, most similar first")
        self.list.setAccessibleDescription("Phenotype similarity from the Human Phenotype "
                                           "Ontology, not a probability. The selected "
                                           "disease's phenotypes are listed below.")
        self.delegate = SuggestionDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setUniformItemSizes(True)
        self.splitter.addWidget(self.list)
        self.evidence = QTreeWidget()
        self.evidence.setObjectName("rareEvidence")
        self.evidence.setAccessibleName("Phenotypes of the selected rare disease")
        self.evidence.setAccessibleDescription("Select a matching phenotype to show where it "
                                               "was documented.")
        self.evidence.setColumnCount(3)
        self.evidence.setHeaderLabels(["Phenotype (HPO)", "Match", "Source"])
        self.evidence.setUniformRowHeights(True)
        self.evidence.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.evidence.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 110)
        header.resizeSection(2, 190)
        header.setStretchLastSection(False)
        self.splitter.addWidget(self.evidence)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        body.addWidget(self.splitter, 1)
        self.attribution = QLabel("")
        self.attribution.setObjectName("rareAttribution")
        self.attribution.setAccessibleName("Sources of the rare-disease suggestions")
        self.attribution.setWordWrap(True)
        self.attribution.setFont(_small(self.font(), 0.8))
        self.attribution.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        body.addWidget(self.attribution)
        layout.addWidget(self.body, 1)
        self.body.hide()

        self.toggle.toggled.connect(self.set_expanded)
        self.list.currentRowChanged.connect(lambda _r: self._show_selected())
        self.delegate.linkActivated.connect(self._link_clicked)
        self.evidence.itemClicked.connect(self.activate)
        self.evidence.itemActivated.connect(self.activate)

    # --- showing ------------------------------------------------------------------

    def clear(self) -> None:
        """Nothing to show (a new record, or no differential): hidden, folding forgotten."""
        self.rare = None
        self.timeline = None
        self._prominent = None
        self.list.clear()
        self.evidence.clear()
        self._fold(False)
        self.hide()

    def show_panel(self, rare: RarePanel | None, timeline: Timeline | None = None) -> None:
        """Show a computed panel: hidden when None (turned off), one quiet line when not
        shown, else the suggestions, open when prominent and folded when not. A manual
        open or fold is kept across recomputations until the prominence changes."""
        if rare is not None and rare is self.rare and timeline is self.timeline:
            return  # a refresh of the same result keeps the selection and folding
        if rare is None:
            self.clear()
            return
        self.rare, self.timeline = rare, timeline
        appearing = self.isHidden()
        self.show()
        if not rare.shown:
            self._prominent = None
            self.toggle.hide()
            self.summary.setText(f"Rare-disease panel not shown: {rare.reason or 'no reason'}")
            self.list.clear()
            self.evidence.clear()
            self._fold(False)
            return
        self.toggle.show()
        self.toggle.setText(f"{TITLE} ({len(rare.suggestions)})")
        # The gist in the header ('explains most findings'); the numbers in its tip.
        self.summary.setText(f"— {rare.reason.split(' (')[0]}" if rare.reason else "")
        self.summary.setToolTip(rare.reason)
        self.summary.setAccessibleDescription(rare.reason)
        self.notice.setText(rare.notice())
        self.attribution.setText(rare.attribution())
        self._fill(rare.suggestions)
        expand = self.expanded if self._prominent == rare.prominent else rare.prominent
        self._prominent = rare.prominent
        self._fold(expand)
        if appearing and expand:
            self.expandedChanged.emit(True)  # room to make beside what was there before

    def set_expanded(self, on: bool) -> None:
        """Open or fold the panel (the header button; Tools ▸ Go to rare diseases)."""
        if self.rare is None or not self.rare.shown:
            on = False
        self._fold(on)

    def _fold(self, on: bool) -> None:
        changed = on != self.expanded
        self.expanded = on
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.toggle.setToolTip(("Fold" if on else "Open") + " the rare-disease suggestions")
        self.body.setVisible(on)
        self.summary.set_wrapped(on and self.toggle.isVisible())
        # Folded, the panel is its header line: a splitter or layout gives the rest away.
        header = self._header_height()
        self.setMinimumHeight(header + self.min_body if on else header)
        self.setMaximumHeight(16_777_215 if on else header)
        if changed:
            self.expandedChanged.emit(on)

    def _header_height(self) -> int:
        margins = self.layout().contentsMargins()
        return max(self.toggle.sizeHint().height(), self.summary.sizeHint().height()) + \
            margins.top() + margins.bottom() + 2

    def _fill(self, suggestions: list[Suggestion]) -> None:
        current = self.selected()
        keep = current.name if current is not None else None
        self.list.blockSignals(True)
        self.list.clear()
        row = 0
        for i, s in enumerate(suggestions):
            item = QListWidgetItem(f"{s.rank}. {s.name}")
            item.setData(SUGGESTION_ROLE, s)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, spoken(s))
            item.setToolTip(spoken(s))
            self.list.addItem(item)
            if s.name == keep:
                row = i
        self.list.blockSignals(False)
        if self.list.count():
            self.list.setCurrentRow(row)
        self._show_selected()

    def selected(self) -> Suggestion | None:
        item = self.list.currentItem()
        return item.data(SUGGESTION_ROLE) if item is not None else None

    def select_rank(self, rank: int) -> bool:
        for i in range(self.list.count()):
            if self.list.item(i).data(SUGGESTION_ROLE).rank == rank:
                self.list.setCurrentRow(i)
                return True
        return False

    def _show_selected(self) -> None:
        self.evidence.clear()
        s = self.selected()
        if s is None:
            return
        if s.kb_condition:
            link = QTreeWidgetItem(self.evidence, [f"Also in the differential: {s.kb_name} "
                                                   "(click or Enter to select it)", "", ""])
            link.setFirstColumnSpanned(True)
            link.setData(0, KB_ROLE, s.kb_condition)
            link.setToolTip(0, "Select it in the differential's list")
            font = link.font(0)
            font.setUnderline(True)
            link.setFont(0, font)
            link.setForeground(0, self.palette().color(QPalette.ColorRole.Link))
        matching = self._group(f"Matching ({len(s.matching)})")
        for m in s.matching:
            self._match_row(matching, m)
        if not s.matching:
            QTreeWidgetItem(matching, ["none", "", ""])
        if s.against:
            group = self._group(f"Absent but expected ({len(s.against)})")
            for p in s.against:
                row = self._phenotype_row(group, p, "documented absent")
                row.setToolTip(1, "The patient is documented not to have it; the disease is "
                                  "annotated with it")
        if s.missing:
            group = self._group(f"Expected, not documented ({len(s.missing)} most specific)")
            for hpo, label in s.missing:
                row = QTreeWidgetItem(group, [label, "not documented", hpo])
                row.setToolTip(0, f"{label} ({hpo}): annotated to {s.name}, not in the record "
                                  "or the text; worth asking or examining")

    def _group(self, title: str) -> QTreeWidgetItem:
        top = QTreeWidgetItem(self.evidence, [title, "", ""])
        top.setFirstColumnSpanned(True)
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        top.setExpanded(True)
        return top

    def _match_row(self, parent: QTreeWidgetItem, m: Match) -> None:
        how = "exact" if m.exact else f"related via {m.via_label}"
        row = self._phenotype_row(parent, m.phenotype, how)
        row.setToolTip(1, ("The disease is annotated with this phenotype (or a more specific "
                           "one)" if m.exact else f"Not annotated itself; shares the ancestor "
                           f"'{m.via_label}' ({m.via}) with the disease's phenotypes")
                       + f"; {m.nats / 0.6931:.1f} bits of information")

    def _phenotype_row(self, parent: QTreeWidgetItem, p: Phenotype, how: str
                       ) -> QTreeWidgetItem:
        mark = "✚" if p.present else "−"
        src = p.source
        where = source_text(self.timeline, src.event_id, src.span, src.cite(), src.snippet)
        row = QTreeWidgetItem(parent, [f"{mark} {p.label}", how, where])
        origin = (f"from the finding '{p.finding_label or p.finding}'" if p.finding
                  else "read from the words themselves (a phenotype with no Osler finding)")
        row.setToolTip(0, f"{p.label} ({p.hpo}), {'present' if p.present else 'absent'}: "
                          f"{origin}")
        row.setData(0, PHENOTYPE_ROLE, p)
        row.setData(0, Qt.ItemDataRole.AccessibleTextRole,
                    f"{p.label}, {'present' if p.present else 'absent'}, {how}, from {where}")
        if src.event_id or src.span is not None:
            row.setData(0, EVENT_ROLE, src.event_id or "")
            row.setData(0, SPAN_ROLE, src.span)
            row.setToolTip(2, f"{where}\nClick to show it " + (
                "on the timeline" if src.event_id else "in the presentation"))
            font = row.font(2)
            font.setUnderline(True)
            row.setFont(2, font)
        return row

    # --- actions ------------------------------------------------------------------

    def activate(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        """A phenotype row: show where it was documented (event, note span, typed words);
        the 'also in the differential' row: select that diagnosis."""
        if item.data(0, KB_ROLE):
            self.diagnosisRequested.emit(item.data(0, KB_ROLE))
            return
        event_id, span = item.data(0, EVENT_ROLE), item.data(0, SPAN_ROLE)
        if item.data(0, PHENOTYPE_ROLE) is not None and (event_id or span is not None):
            self.evidenceActivated.emit(event_id or "", span)

    def _link_clicked(self, index: QModelIndex) -> None:
        self.list.setCurrentRow(index.row())
        self._request_diagnosis()

    def _request_diagnosis(self) -> None:
        s = self.selected()
        if s is not None and s.kb_condition:
            self.diagnosisRequested.emit(s.kb_condition)

    def focus_list(self) -> bool:
        """Open the panel and put the keyboard in its list; False when there is none."""
        if self.isHidden() or self.rare is None or not self.rare.shown:
            return False
        self.set_expanded(True)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.list.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True

    # --- for tests ----------------------------------------------------------------------

    def evidence_items(self) -> list[QTreeWidgetItem]:
        """Every row under the groups, in display order."""
        out = []
        for i in range(self.evidence.topLevelItemCount()):
            top = self.evidence.topLevelItem(i)
            out += [top.child(j) for j in range(top.childCount())]
        return out

    def matching_items(self) -> list[QTreeWidgetItem]:
        """The rows under 'Matching'."""
        for i in range(self.evidence.topLevelItemCount()):
            top = self.evidence.topLevelItem(i)
            if top.text(0).startswith("Matching"):
                return [top.child(j) for j in range(top.childCount())
                        if top.child(j).data(0, PHENOTYPE_ROLE) is not None]
        return []

    def link_item(self) -> QTreeWidgetItem | None:
        """The 'also in the differential' row of the selected suggestion, if any."""
        top = self.evidence.topLevelItem(0)
        return top if top is not None and top.data(0, KB_ROLE) else None

    def names(self) -> list[str]:
        return [self.list.item(i).data(SUGGESTION_ROLE).name for i in range(self.list.count())]


def make_room(splitter: QSplitter, widget: QWidget, share: float = EXPANDED_SHARE,
              keep_first: int = 1) -> None:
    """Give WIDGET (open) about SHARE of SPLITTER's height, or (folded) only its header:
    taken from (or given back to) the panes above it, nearest first, each keeping a little;
    the first KEEP_FIRST panes (the differential's presentation box) keep their size."""
    i = splitter.indexOf(widget)
    sizes = splitter.sizes()
    if i < 0 or widget.isHidden() or sum(sizes) <= 0:
        return
    total = sum(sizes)
    folded = widget.maximumHeight() < total
    want = widget.maximumHeight() if folded else max(int(total * share),
                                                      widget.minimumHeight())
    delta = want - sizes[i]
    if delta < 0:
        sizes[i - 1] -= delta  # folding: the pane above takes the room back
        sizes[i] = want
    else:
        for j in range(i - 1, keep_first - 1, -1):
            take = min(delta, max(0, sizes[j] - KEEP_HEIGHT))
            sizes[j] -= take
            sizes[i] += take
            delta -= take
    splitter.setSizes(sizes)


def _small(font: QFont, scale: float = 0.88, italic: bool = False) -> QFont:
    f = QFont(font)
    f.setPointSizeF(max(7.0, font.pointSizeF() * scale))
    f.setItalic(italic)
    return f
