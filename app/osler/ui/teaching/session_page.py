"""A teaching session on screen: revealed timeline, trainer controls, trainees' differentials,
and the model's differential once everyone has committed."""

from __future__ import annotations

import html

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from osler.reasoning.differential import Diagnosis
from osler.record import Timeline
from osler.teaching.scoring import OVERLAP_K, Pick, diagnosis_is_gold
from osler.teaching.session import Round, SessionError, TeachingSession
from osler.ui.event_details import EventDetails
from osler.ui.rare_panel import RareDiseasesPanel, make_room
from osler.ui.teaching.jobs import JobRunner
from osler.ui.timeline_layout import build_layout
from osler.ui.timeline_panel import FlowLayout, TimelinePanel

MODEL_ROWS = 10
RARE_SHARE = 0.75  # of the right-hand column for the model's pane, its rare panel open
STATE_MARKS = {"hidden": "○", "partial": "◐", "revealed": "●"}


def fit_columns(table: QTableWidget, stretch: int | None = None) -> None:
    """Columns as wide as their header and cells (long headers are two lines); STRETCH, if
    given, takes the spare width. A narrow pane scrolls rather than cut a header short."""
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag.AlignVCenter)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def button_row(*buttons: QWidget) -> QWidget:
    """Buttons left to right that wrap onto a second line rather than widen the window (in
    presentation mode's large type a row of them is wider than a projector's screen)."""
    host = QWidget()
    host.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    row = FlowLayout(host, h_spacing=6, v_spacing=4)
    row.setContentsMargins(0, 0, 0, 0)
    for b in buttons:
        row.addWidget(b)
    return host


def _button(text: str, name: str, tip: str | None = None) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    if tip:
        b.setToolTip(tip)
    return b


class TraineePanel(QWidget):
    """Each trainee's ranked differential: add by search, drag to reorder, commit."""

    committed = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: TeachingSession | None = None
        self.drafts: dict[str, list[Pick]] = {}
        self.trainee = QComboBox()
        self.trainee.setObjectName("traineeChooser")
        self.trainee.setAccessibleName("Trainee")
        self.status = QLabel("")
        self.status.setObjectName("commitStatus")
        self.status.setWordWrap(True)
        self.entry = QLineEdit()
        self.entry.setObjectName("diagnosisEntry")
        self.entry.setPlaceholderText("Type a diagnosis (name, synonym or ICD-10 code)")
        self.entry.setAccessibleName("Diagnosis to add")
        self.completer_model = QStringListModel(self)
        completer = QCompleter(self.completer_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(12)
        self.entry.setCompleter(completer)
        self.add_button = _button("Add", "addDiagnosis")
        self.picks = QListWidget()
        self.picks.setObjectName("traineeDifferential")
        self.picks.setAccessibleName("Trainee's differential, most likely first")
        self.picks.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.picks.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.hidden_note = QLabel("Committed: hidden until the model's differential is shown.")
        self.hidden_note.setObjectName("committedHidden")
        self.hidden_note.setWordWrap(True)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.picks)
        self.list_stack.addWidget(self.hidden_note)
        self.up_button = _button("▲", "moveUp", "Move up (more likely)")
        self.down_button = _button("▼", "moveDown", "Move down (less likely)")
        self.remove_button = _button("Remove", "removeDiagnosis")
        self.commit_button = _button("Commit", "commitDifferential",
                                     "Lock this differential for the current checkpoint")

        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.add_button)
        edit = QHBoxLayout()
        edit.addWidget(self.up_button)
        edit.addWidget(self.down_button)
        edit.addWidget(self.remove_button)
        edit.addStretch(1)
        edit.addWidget(self.commit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Trainees' differentials</b> (most likely first; drag to reorder)")
        title.setWordWrap(True)
        layout.addWidget(title)
        top = QHBoxLayout()
        top.addWidget(QLabel("Trainee:"))
        top.addWidget(self.trainee, 1)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.list_stack, 1)
        layout.addLayout(edit)
        layout.addWidget(self.status)

        self.trainee.currentIndexChanged.connect(lambda _i: self.refresh())
        self.add_button.clicked.connect(self.add_entry)
        self.entry.returnPressed.connect(self.add_entry)
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button.clicked.connect(lambda: self.move(1))
        self.remove_button.clicked.connect(self.remove_selected)
        self.commit_button.clicked.connect(self.commit)
        self.picks.model().rowsMoved.connect(lambda *_a: self._sync_draft())

    def set_session(self, session: TeachingSession) -> None:
        self.session = session
        self.drafts = {t: [] for t in session.trainees}
        labels = sorted({label for c in session.service.kb.conditions
                         for label in (c.name, *c.synonyms)}, key=str.lower)
        self.completer_model.setStringList(labels)
        self.trainee.blockSignals(True)
        self.trainee.clear()
        self.trainee.addItems(list(session.trainees))
        self.trainee.blockSignals(False)
        self.refresh()

    def current(self) -> str | None:
        return self.trainee.currentText() or None

    def refresh(self) -> None:
        """Show the chosen trainee's draft, or their locked commitment."""
        s = self.session
        name = self.current()
        if s is None or name is None:
            return
        r = s.current_round()
        commitment = r.commitments.get(name) if r is not None else None
        self.picks.clear()
        shown = list(commitment.picks) if commitment else self.drafts.get(name, [])
        for pick in shown:
            self._append(pick)
        locked = commitment is not None or r is None or r.model_shown
        hide = commitment is not None and not r.model_shown
        self.list_stack.setCurrentWidget(self.hidden_note if hide else self.picks)
        self.picks.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop if locked
                                   else QAbstractItemView.DragDropMode.InternalMove)
        for w in (self.entry, self.add_button, self.up_button, self.down_button,
                  self.remove_button, self.commit_button):
            w.setEnabled(not locked)
        if r is None:
            self.status.setText("Reveal part of the case, then trainees commit.")
            return
        done = [t for t in s.trainees if t in r.commitments]
        waiting = [t for t in s.trainees if t not in r.commitments]
        parts = []
        if done:
            parts.append("Committed: " + ", ".join(done))
        if waiting and not r.model_shown:
            parts.append("Waiting for: " + ", ".join(waiting))
        if r.model_shown:
            parts.append("The model's differential is shown; reveal more to commit again.")
        self.status.setText(" · ".join(parts))

    def new_round(self) -> None:
        """A new checkpoint: each trainee starts from their last committed list."""
        s = self.session
        if s is None:
            return
        for t in s.trainees:
            last = next((r.commitments[t] for r in reversed(s.rounds) if t in r.commitments),
                        None)
            if last is not None:
                self.drafts[t] = list(last.picks)
        self.refresh()

    def _append(self, pick: Pick) -> None:
        label = pick.name if pick.resolved else f"{pick.name} (not in the knowledge base)"
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, pick)
        self.picks.addItem(item)

    def _sync_draft(self) -> None:
        name = self.current()
        if name is None:
            return
        self.drafts[name] = [self.picks.item(i).data(Qt.ItemDataRole.UserRole)
                             for i in range(self.picks.count())]

    def add_entry(self, text: str | None = None) -> Pick | None:
        """Resolve typed text against the KB and append it to the draft."""
        s, name = self.session, self.current()
        text = (text if isinstance(text, str) else self.entry.text()).strip()
        if s is None or name is None or not text:
            return None
        pick = s.search.resolve(text)
        draft = self.drafts.setdefault(name, [])
        if any((p.condition_ids and p.condition_ids == pick.condition_ids) or
               p.text.lower() == pick.text.lower() for p in draft):
            self.status.setText(f"{pick.name} is already in the list.")
            self.entry.clear()
            return None
        draft.append(pick)
        self._append(pick)
        self.entry.clear()
        return pick

    def move(self, step: int) -> None:
        row = self.picks.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.picks.count():
            return
        item = self.picks.takeItem(row)
        self.picks.insertItem(target, item)
        self.picks.setCurrentRow(target)
        self._sync_draft()

    def remove_selected(self) -> None:
        row = self.picks.currentRow()
        if row >= 0:
            self.picks.takeItem(row)
            self._sync_draft()

    def commit(self) -> None:
        s, name = self.session, self.current()
        if s is None or name is None:
            return
        self._sync_draft()
        try:
            s.commit(name, list(self.drafts.get(name, [])))
        except SessionError as exc:
            self.failed.emit(str(exc))
            return
        self.refresh()
        self.committed.emit(name)
        # Hand the keyboard to the next trainee who has not committed.
        r = s.current_round()
        waiting = [t for t in s.trainees if r is not None and t not in r.commitments]
        if waiting:
            self.trainee.setCurrentText(waiting[0])


class ModelPanel(QWidget):
    """The model's differential (with its rare diseases to consider) and the scores, shown
    only after commit; then the gold."""

    showRequested = Signal(bool)  # force
    goldRequested = Signal(bool)  # True: "Reveal anyway" (the page asks the trainer first)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.waiting = QLabel("")
        self.waiting.setObjectName("modelLocked")
        self.waiting.setWordWrap(True)
        self.show_button = _button("Show the model's differential", "showModel",
                                   "Available when every trainee has committed")
        self.force_button = _button("Show anyway", "showModelAnyway",
                                    "Show it now; trainees who have not committed are "
                                    "recorded as such")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("modelDifferential")
        self.table.setAccessibleName("The model's differential")
        self.table.setHorizontalHeaderLabels(["#", "Diagnosis", "Probability", "Can't miss"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        fit_columns(self.table, stretch=1)
        self.scores = QTableWidget(0, 5)
        self.scores.setObjectName("traineeScores")
        self.scores.setAccessibleName("Scores")
        self.scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scores.verticalHeader().hide()
        self.scores.setWordWrap(True)
        # As tall as its rows (one per trainee): the spare height goes to the notes.
        self.scores.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.scores.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        fit_columns(self.scores)
        self.gold_button = _button("Reveal the diagnosis", "revealGold",
                                   "Show the gold diagnosis, teaching notes and gold scores "
                                   "(available when every trainee has committed)")
        self.gold_anyway_button = _button("Reveal anyway…", "revealGoldAnyway",
                                          "Reveal the diagnosis before every trainee has "
                                          "committed (asks first)")
        self.gold = QTextBrowser()
        self.gold.setObjectName("goldDiagnosis")
        self.gold.setAccessibleName("Gold diagnosis and teaching notes")
        self.gold.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.gold.setMinimumHeight(5 * self.gold.fontMetrics().lineSpacing())
        self.gold.hide()
        self.note = QLabel("")
        self.note.setObjectName("engineNote")
        self.note.setWordWrap(True)
        # Hidden with the model's differential until it is revealed, then shown with it.
        self.rare = RareDiseasesPanel(min_body=0)  # the page scrolls: stretch decides
        self._diagnoses: list[Diagnosis] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>The model's differential</b>"))
        layout.addWidget(self.waiting)
        layout.addWidget(button_row(self.show_button, self.force_button, self.gold_button,
                                    self.gold_anyway_button))
        layout.addWidget(self.table, 2)
        layout.addWidget(self.rare, 3)
        layout.addWidget(self.scores)
        layout.addWidget(self.gold, 3)
        layout.addWidget(self.note)
        layout.addStretch(0)  # takes the height only while the tables and notes are hidden
        self.show_button.clicked.connect(lambda: self.showRequested.emit(False))
        self.force_button.clicked.connect(lambda: self.showRequested.emit(True))
        self.gold_button.clicked.connect(lambda: self.goldRequested.emit(False))
        self.gold_anyway_button.clicked.connect(lambda: self.goldRequested.emit(True))
        self.rare.diagnosisRequested.connect(self.select_condition)

    def select_condition(self, condition_id: str) -> bool:
        """'Also in the differential': select that diagnosis's row of the model's table."""
        for i, d in enumerate(self._diagnoses):
            if d.condition_id == condition_id:
                self.table.selectRow(i)
                self.table.scrollToItem(self.table.item(i, 1))
                return True
        return False

    def update_from(self, session: TeachingSession, busy: bool = False) -> None:
        r = session.current_round()
        diff = r.differential if r is not None else None
        waiting = session.pending() if r is not None else []
        if r is None:
            self.waiting.setText("Nothing revealed yet.")
        elif diff is not None:
            self.waiting.setText(f"Shown at checkpoint {r.label}.")
        elif busy:
            self.waiting.setText("Computing the differential on the revealed events…")
        elif waiting:
            self.waiting.setText("Commit before reveal: waiting for " + ", ".join(waiting) + ".")
        else:
            self.waiting.setText("Everyone has committed.")
        self.show_button.setEnabled(r is not None and diff is None and not waiting and not busy)
        self.force_button.setEnabled(r is not None and diff is None and bool(waiting)
                                     and not busy)
        self._fill_model(session, r)
        self.rare.show_panel(diff.rare if diff is not None else None,
                             r.timeline if r is not None else None)
        self._fill_scores(session, r)
        # The answer only once everyone is committed, or the trainer confirms (Reveal anyway).
        committed = r is not None and not waiting
        self.gold_button.setEnabled(not session.gold_revealed and committed and not busy)
        self.gold_anyway_button.setVisible(not session.gold_revealed and not committed)
        self.gold_anyway_button.setEnabled(not busy)
        if session.gold_revealed:
            meta = session.meta
            e = html.escape
            codes = ", ".join(meta.gold.icd10)
            text = (f"<p><b>Gold diagnosis: {e(meta.gold.name)}</b>"
                    + (f" ({e(codes)})" if codes else "") + "</p>")
            if meta.teaching_notes:
                text += f"<p>{e(meta.teaching_notes)}</p>"
            if meta.objectives:
                text += ("<p><b>Learning objectives</b></p><ul>"
                         + "".join(f"<li>{e(o)}</li>" for o in meta.objectives) + "</ul>")
            self.gold.setHtml(text)
            self.gold.show()
        else:
            self.gold.clear()
            self.gold.hide()

    def _fill_model(self, session: TeachingSession, r: Round | None) -> None:
        diff = r.differential if r is not None else None
        rows = diff.diagnoses[:MODEL_ROWS] if diff is not None else []
        self._diagnoses = list(rows)
        self.table.setRowCount(len(rows))
        for i, d in enumerate(rows):
            gold = session.gold_revealed and diagnosis_is_gold(d, session.target)
            name = d.name + ("  ★ gold" if gold else "")
            values = (str(d.rank), name, f"{d.probability:.1%}",
                      "can't miss" if d.cant_miss else "")
            for c, v in enumerate(values):
                self.table.setItem(i, c, QTableWidgetItem(v))
        self.table.setVisible(bool(rows))

    def _fill_scores(self, session: TeachingSession, r: Round | None) -> None:
        scores = session.scores(r) if r is not None else []
        gold = session.gold_revealed
        headers = ["Trainee", f"Overlap with\nmodel top {OVERLAP_K}", "Can't-miss\ncovered",
                   "Can't-miss\nmissed"]
        if gold:
            headers += ["Gold\nrank", "Model's\ngold rank"]
        self.scores.setColumnCount(len(headers))
        self.scores.setHorizontalHeaderLabels(headers)
        self.scores.setRowCount(len(scores))
        for i, s in enumerate(scores):
            cov = s.cant_miss_coverage
            values = [s.trainee, f"{len(s.overlap)}/{s.overlap_k}",
                      "—" if cov is None else f"{cov:.0%}",
                      ", ".join(s.cant_miss_missed) or "none"]
            if gold:
                values += ["not listed" if s.gold_rank is None else f"#{s.gold_rank}",
                           "not listed" if s.model_gold_rank is None
                           else f"#{s.model_gold_rank}"]
            for c, v in enumerate(values):
                self.scores.setItem(i, c, QTableWidgetItem(v))
        self.scores.resizeRowsToContents()
        self.scores.setVisible(bool(scores))


class SessionPage(QWidget):
    """The session: stage controls, the revealed timeline, trainees, the model."""

    modelShown = Signal(object)  # the Round
    changed = Signal()
    backRequested = Signal()
    message = Signal(str, str)  # title, text

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("teachingSession")
        self.runner = runner
        self.session: TeachingSession | None = None
        self.computing = False
        self.visible: Timeline | None = None

        self.title = QLabel("")
        self.title.setObjectName("caseTitle")
        self.title.setWordWrap(True)
        self.stages = QLabel("")
        self.stages.setObjectName("stageProgress")
        self.stages.setWordWrap(True)
        self.back_button = _button("◀ Library", "backToLibrary")
        self.prev_button = _button("◀ Previous stage", "previousStage",
                                   "Hide the furthest stage shown")
        self.event_button = _button("Next event ▸", "nextEvent", "Reveal one more event")
        self.stage_button = _button("Next stage ▸▸", "nextStage", "Reveal the next stage")
        self.all_button = _button("Reveal all", "revealAll")
        self.reset_button = _button("Reset", "resetReveal", "Hide everything again")

        controls = button_row(self.back_button, self.prev_button, self.event_button,
                              self.stage_button, self.all_button, self.reset_button)

        self.timeline_panel = TimelinePanel()
        # The teaching model sees what is revealed, not a 'now' cursor (and this window has
        # no View ▸ Set 'now' for the panel's tooltip to point to).
        self.timeline_panel.now_label.hide()
        self.timeline_panel.clear_now_button.hide()
        self.timeline_panel.now_label.setToolTip("")
        self.detail = EventDetails()
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.timeline_panel)
        left.addWidget(self.detail)
        left.setSizes([420, 200])
        self.trainees = TraineePanel()
        self.model = ModelPanel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.trainees)
        right.addWidget(self.model)
        right.setSizes([320, 380])
        self.right = right
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setSizes([700, 560])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(controls)
        layout.addWidget(self.stages)
        layout.addWidget(main, 1)

        self.back_button.clicked.connect(self.backRequested.emit)
        self.prev_button.clicked.connect(lambda: self._reveal("previous_stage"))
        self.event_button.clicked.connect(lambda: self._reveal("next_event"))
        self.stage_button.clicked.connect(lambda: self._reveal("next_stage"))
        self.all_button.clicked.connect(lambda: self._reveal("reveal_all"))
        self.reset_button.clicked.connect(lambda: self._reveal("reset"))
        self.timeline_panel.view.eventSelected.connect(self._show_event)
        self.timeline_panel.view.eventHighlighted.connect(self._show_event)
        self.model.rare.evidenceActivated.connect(self.show_source)
        self.model.rare.expandedChanged.connect(self._rare_folded)
        self.trainees.committed.connect(lambda _n: self.refresh())
        self.trainees.failed.connect(lambda text: self.message.emit("Cannot commit", text))
        self.model.showRequested.connect(self.show_model)
        self.model.goldRequested.connect(self.reveal_gold)

    @property
    def timeline_view(self):
        return self.timeline_panel.view

    def set_session(self, session: TeachingSession, engine_note: str | None = None) -> None:
        self.session = session
        self.model.note.setText(engine_note or "")
        self.trainees.set_session(session)
        self.detail.clear_event()
        self.refresh(new_round=True)

    def set_presentation(self, on: bool) -> None:
        if self.session is not None:
            self.session.reveal.presentation = on
            self.detail.clear_event()
            self.refresh()

    # --- trainer controls ------------------------------------------------------------

    def _reveal(self, action: str) -> None:
        if self.session is None:
            return
        getattr(self.session.reveal, action)()
        self.detail.clear_event()
        self.refresh(new_round=True)
        self._precompute()

    def _precompute(self) -> None:
        """Compute the new checkpoint's differential in the background (not shown)."""
        s = self.session
        r = s.current_round() if s is not None else None
        if s is None or r is None or r._differential is not None:
            return
        self.runner.submit(lambda: s.compute_model(r), lambda _res: None,
                           lambda text: self.message.emit("The model failed", text))

    def show_model(self, force: bool = False) -> None:
        s = self.session
        if s is None or self.computing:
            return
        r = s.current_round()
        if r is None:
            return
        if s.pending() and not force:
            self.message.emit("Commit before reveal",
                              "Still waiting for " + ", ".join(s.pending()) + ".")
            return
        self.computing = True
        self.refresh()
        self.runner.submit(lambda: (s.show_model(force=force), r)[1], self._model_done,
                           self._model_failed)

    def _model_done(self, r: Round) -> None:
        self.computing = False
        self.refresh()
        self.modelShown.emit(r)

    def _model_failed(self, text: str) -> None:
        self.computing = False
        self.refresh()
        self.message.emit("The model failed", text)

    def reveal_gold(self, force: bool = False) -> bool:
        """Show the gold diagnosis; before every trainee has committed, only if the trainer
        confirms (FORCE: they asked for it with Reveal anyway)."""
        s = self.session
        if s is None or s.gold_revealed:
            return False
        waiting = s.pending()
        if waiting and not (force and self.confirm_early_reveal(waiting)):
            return False
        s.reveal_gold()
        self.refresh()
        return True

    def confirm_early_reveal(self, waiting: list[str]) -> bool:
        """Ask before the answer is shown to trainees who have not committed (a test seam)."""
        answer = QMessageBox.question(
            self, "Reveal the diagnosis now?",
            f"Not committed at this checkpoint: {', '.join(waiting)}.\n\nRevealing the "
            "diagnosis now shows them the answer before they commit. Reveal it anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # --- display ---------------------------------------------------------------------

    def refresh(self, new_round: bool = False) -> None:
        s = self.session
        if s is None:
            return
        reveal = s.reveal
        self.title.setText(f"<b>{html.escape(s.meta.title)}</b> — "
                           f"{html.escape(reveal.demographics)}")
        marks = [f"{STATE_MARKS[p.state]} {p.stage.title} ({p.revealed}/{p.total})"
                 for p in reveal.progress()]
        self.stages.setText("   ".join(marks))
        upcoming = reveal.upcoming_stage
        self.stage_button.setText(f"Next stage ▸▸ {upcoming.title}" if upcoming
                                  else "Next stage ▸▸")
        self.stage_button.setEnabled(upcoming is not None)
        self.event_button.setEnabled(not reveal.complete)
        self.all_button.setEnabled(not reveal.complete)
        self.prev_button.setEnabled(reveal.revealed_count > 0)
        self.reset_button.setEnabled(reveal.revealed_count > 0)
        visible = reveal.visible_timeline()
        self.visible = visible
        self.timeline_panel.set_record(build_layout(visible) if len(visible) else None)
        if len(visible):
            self.timeline_panel.view.fit_all()
        if new_round:
            self.trainees.new_round()
        else:
            self.trainees.refresh()
        self.model.update_from(s, busy=self.computing)
        self.changed.emit()

    def _rare_folded(self, expanded: bool) -> None:
        """An open rare-disease panel takes room from the (committed) trainees' lists."""
        if expanded:
            QTimer.singleShot(0, lambda: make_room(self.right, self.model, RARE_SHARE, 0))

    def show_source(self, event_id: str, span: object) -> None:
        """A rare-disease phenotype's source: its event, with the words the model read
        marked (when the note on screen has them at the same place: redaction for the
        model can shift a note's text outside presentation mode)."""
        r = self.session.current_round() if self.session is not None else None
        if not event_id or r is None or self.visible is None:
            return
        shown, read = self.visible.get(event_id), r.timeline.get(event_id)
        if not (isinstance(span, tuple) and shown is not None and read is not None
                and shown.text and read.text
                and shown.text[span[0]:span[1]] == read.text[span[0]:span[1]]):
            span = None
        self.timeline_view.highlight_event(event_id, span)

    def _show_event(self, event_id: str, span: object = None) -> None:
        event = self.visible.get(event_id) if self.visible is not None else None
        if event is None or self.visible is None:
            return
        parent = self.visible.get(event.parent) if event.parent else None
        encounter = self.visible.get(event.encounter) if event.encounter else None
        self.detail.show_event(event, span if isinstance(span, tuple) else None,
                               parent.display if parent else None,
                               encounter.display if encounter else None)
