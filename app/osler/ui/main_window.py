"""The main window: open a patient, the timeline with details and trends, and a side panel.

Seams for the parts that land later: `set_side_panel(widget)` (the differential),
`highlight_event(event_id, span)` (evidence links), `nowChanged` (what the model sees),
`recordLoaded` (a new patient).
"""

from __future__ import annotations

import html
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from osler.errors import INPUT_ERRORS
from osler.record import Timeline
from osler.ui.about import NOT_A_DIAGNOSIS, AboutDialog
from osler.ui.actions import make_action
from osler.ui.event_details import EventDetails
from osler.ui.event_text import format_span
from osler.ui.import_worker import LoadedRecord, load_record
from osler.ui.issues_dialog import ImportIssuesDialog
from osler.ui.patient_chooser import PatientChooser
from osler.ui.recent_files import forget_file_dialog_history, remember_recent_action
from osler.ui.resources import ResourcesNotFound, demo_case, demo_cases, icon_path
from osler.ui.settings import AppSettings
from osler.ui.tasks import TaskHandle, TaskRunner
from osler.ui.theme import apply_theme, colours, system_theme
from osler.ui.timeline_layout import LANE_TITLES
from osler.ui.timeline_panel import TimelinePanel
from osler.ui.timeline_view import TimelineView
from osler.ui.trend_plot import TrendPlot

FILE_FILTER = "FHIR R4 (*.json *.ndjson *.jsonl);;All files (*)"
SIDE_PLACEHOLDER = (
    "The differential diagnosis appears here once the reasoning engine is installed.\n\n"
    "Until then Osler shows the record only."
)


def _icon(name: str) -> QIcon:
    try:
        path = icon_path(name)
    except ResourcesNotFound:
        return QIcon()
    return QIcon(str(path)) if path.exists() else QIcon()


def case_title(path: Path) -> str:
    """Menu title of a demo case file: 'demo-chest-pain.json' -> 'Demo chest pain'."""
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


class MainWindow(QMainWindow):
    """Osler's main window."""

    recordLoaded = Signal(object)  # Timeline of the patient now shown
    recordFailed = Signal(str)  # the message shown to the user
    importCancelled = Signal()
    nowChanged = Signal(object)  # datetime or None, forwarded from the timeline
    newCaseRequested = Signal()  # File ▸ New case from presentation: the record was closed

    def __init__(self, settings: AppSettings | None = None, theme: str | None = None,
                 thread_pool: QThreadPool | None = None):
        super().__init__()
        self.settings = settings or AppSettings()
        self.pool = thread_pool or QThreadPool.globalInstance()
        self.loaded: LoadedRecord | None = None
        self.current: Timeline | None = None
        self.current_path: Path | None = None
        self.tasks = TaskRunner(self, self.pool)
        self._import_generation = 0  # which open_path call the import callbacks belong to
        self.import_job: TaskHandle | None = None
        self._job_path: Path | None = None
        self._job_patient: str | None = None
        self._job_now: datetime | None = None
        self._user_cancelled = False
        self._shown_once = False
        self.setObjectName("oslerMainWindow")
        self.setWindowTitle("Osler")
        self.setWindowIcon(_icon("osler"))
        self.setAcceptDrops(True)
        self.setAccessibleName("Osler main window")
        self.resize(1400, 860)

        self._build_central()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self.set_theme(theme or self.settings.theme() or system_theme(), remember=False)

    # --- construction ---------------------------------------------------------

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.notice = QLabel("⚠ " + NOT_A_DIAGNOSIS)
        self.notice.setObjectName("notDiagnosisNotice")
        self.notice.setAccessibleName("Notice: decision support, not a diagnosis")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.notice)
        self.patient_label = QLabel("No record open")
        self.patient_label.setObjectName("patientBanner")
        self.patient_label.setTextFormat(Qt.TextFormat.RichText)
        self.patient_label.setAccessibleName("Patient")
        self.patient_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.patient_label)

        self.timeline_panel = TimelinePanel()
        self.detail = EventDetails()
        self.trend = TrendPlot()
        self.detail_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.detail_splitter.setObjectName("detailSplitter")
        self.detail_splitter.addWidget(self.detail)
        self.detail_splitter.addWidget(self.trend)
        self.detail_splitter.setSizes([500, 500])
        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.setObjectName("leftSplitter")
        self.left_splitter.addWidget(self.timeline_panel)
        self.left_splitter.addWidget(self.detail_splitter)
        self.left_splitter.setStretchFactor(0, 3)
        self.left_splitter.setStretchFactor(1, 2)
        self.left_splitter.setSizes([520, 300])

        self.side = QWidget()
        self.side.setObjectName("sidePanel")
        self.side.setAccessibleName("Side panel")
        self._side_layout = QVBoxLayout(self.side)
        self._side_layout.setContentsMargins(0, 0, 0, 0)
        placeholder = QLabel(SIDE_PLACEHOLDER)
        placeholder.setObjectName("sidePanelPlaceholder")
        placeholder.setAccessibleName("Differential diagnosis (not installed)")
        placeholder.setWordWrap(True)
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.side_widget: QWidget = placeholder
        self._side_layout.addWidget(placeholder)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(self.left_splitter)
        self.main_splitter.addWidget(self.side)
        self.main_splitter.setStretchFactor(0, 3)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([1000, 400])
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        view = self.timeline_view

        def act(key: str, handler) -> QAction:
            return make_action(self, key, handler, _icon)

        self.open_action = act("open", self.open_dialog)
        self.open_folder_action = act("open_folder", self.open_folder_dialog)
        self.new_case_action = act("new_case", self.new_case)
        self.demo_action = act("demo", self.open_demo)
        self.teaching_action = act("teaching", self.open_teaching)
        self.quit_action = act("quit", self.close)
        self.zoom_in_action = act("zoom_in", view.zoom_in)
        self.zoom_out_action = act("zoom_out", view.zoom_out)
        self.fit_action = act("fit", view.fit_whole_record)
        self.episode_action = act("episode", self.show_current_episode)
        self.find_action = act("find", self.focus_search)
        self.find_next_action = act("find_next", view.next_match)
        self.find_prev_action = act("find_previous", view.previous_match)
        self.set_now_action = act("set_now", self.ask_now)
        self.clear_now_action = act("clear_now", lambda: view.set_now(None))
        self.about_action = act("about", self.show_about)
        self.warnings_action = act("import_warnings", self.show_warnings)
        self.warnings_action.setEnabled(False)
        self.clear_recent_action = act("clear_recent", self._clear_recent)
        self.remember_recent_action = remember_recent_action(self, self.settings)
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for theme in ("light", "dark"):
            action = QAction(theme.capitalize(), self, checkable=True)
            action.triggered.connect(lambda _c=False, t=theme: self.set_theme(t))
            self.theme_group.addAction(action)
            self.theme_actions[theme] = action
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.episode_action):
            # Window-wide, but a text field keeps its own '+', '-', '0' and 'e'.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        file_menu.addAction(self.new_case_action)
        self.demo_menu = file_menu.addMenu("Open &demo case")
        self.demo_menu.setObjectName("demoMenu")
        try:
            cases = demo_cases()
        except ResourcesNotFound:
            cases = []
        for case in cases:
            action = QAction(case_title(case), self)
            action.setStatusTip(f"Fictional demo patient ({case.name})")
            action.triggered.connect(lambda _c=False, p=case: self.open_path(p))
            self.demo_menu.addAction(action)
        self.demo_menu.setEnabled(bool(cases))
        file_menu.addAction(self.teaching_action)
        self.recent_menu = file_menu.addMenu("&Recent files")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.warnings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = bar.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.episode_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.find_action)
        view_menu.addAction(self.find_next_action)
        view_menu.addAction(self.find_prev_action)
        view_menu.addSeparator()
        view_menu.addAction(self.set_now_action)
        view_menu.addAction(self.clear_now_action)
        view_menu.addSeparator()
        self.lanes_menu = view_menu.addMenu("&Lanes")
        self.lanes_menu.aboutToShow.connect(self._fill_lanes_menu)
        theme_menu = view_menu.addMenu("&Theme")
        for action in self.theme_actions.values():
            theme_menu.addAction(action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        tools = QToolBar("Main toolbar")
        tools.setObjectName("mainToolbar")
        tools.setAccessibleName("Main toolbar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setMovable(False)
        tools.addAction(self.open_action)
        tools.addAction(self.demo_action)
        tools.addSeparator()
        tools.addAction(self.zoom_in_action)
        tools.addAction(self.zoom_out_action)
        tools.addAction(self.fit_action)
        tools.addSeparator()
        tools.addAction(self.find_action)
        tools.addAction(self.set_now_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)
        self.toolbar = tools

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.window_label = QLabel("")
        self.window_label.setAccessibleName("Visible time range")
        bar.addPermanentWidget(self.window_label)
        self.warnings_button = QToolButton()
        self.warnings_button.setDefaultAction(self.warnings_action)
        self.warnings_button.setText("")
        self.warnings_button.setAutoRaise(True)
        self.warnings_button.setAccessibleName("Import warnings")
        self.warnings_button.hide()
        bar.addPermanentWidget(self.warnings_button)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import progress")
        self.progress.setRange(0, 0)  # busy indicator: the importer reports no fraction
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_label = QLabel("")
        self.progress_label.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop opening this record; the current one stays open")
        self.cancel_button.setAccessibleName("Cancel import")
        self.cancel_button.clicked.connect(self.cancel_import)
        self.cancel_button.hide()
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _connect(self) -> None:
        view = self.timeline_view
        view.eventSelected.connect(self._show_event)
        view.eventHighlighted.connect(self._show_highlight)
        view.eventActivated.connect(self._activate_event)
        view.nowChanged.connect(self._now_changed)
        view.viewChanged.connect(self._update_window_label)
        self.timeline_panel.undatedSelected.connect(self._show_event)
        self.timeline_panel.attach(self.detail, self.trend)

    # --- public seams ---------------------------------------------------------

    @property
    def timeline_view(self) -> TimelineView:
        """The timeline widget (zoom, filters, search, highlight_event, now cursor)."""
        return self.timeline_panel.view

    def set_side_panel(self, widget: QWidget) -> QWidget:
        """Put a widget (the differential panel) right of the timeline; returns the old one."""
        old = self.side_widget
        self._side_layout.removeWidget(old)
        old.hide()
        old.setParent(None)
        self._side_layout.addWidget(widget)
        widget.show()
        self.side_widget = widget
        return old

    def highlight_event(self, event_id: str, span: tuple[int, int] | None = None) -> bool:
        """Scroll to, select and flash an event; with a span, mark it in the note text."""
        return self.timeline_view.highlight_event(event_id, span)

    def set_now(self, when: datetime | None) -> None:
        """Move the 'now' cursor (what the model sees)."""
        self.timeline_view.set_now(when)

    # --- opening records ------------------------------------------------------

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a FHIR record",
                                              self.settings.last_directory(), FILE_FILTER)
        forget_file_dialog_history(self.settings)
        if path:
            self.settings.set_last_directory(Path(path).parent)
            self.open_path(Path(path))

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of FHIR NDJSON files",
                                                self.settings.last_directory())
        forget_file_dialog_history(self.settings)
        if path:
            self.settings.set_last_directory(Path(path))
            self.open_path(Path(path))

    def open_teaching(self) -> None:
        """Teaching mode in its own window: case library, sessions, presentation mode."""
        from osler.ui.teaching.window import TeachingWindow

        if getattr(self, "teaching_window", None) is None:
            self.teaching_window = TeachingWindow(theme=getattr(self, "theme", "light"))
        self.teaching_window.show()
        self.teaching_window.raise_()

    def new_case(self) -> None:
        """Close the record (nothing of it is kept) and start a case from a typed
        presentation; the differential's presentation box takes it from here."""
        self.cancel_import(quiet=True)
        self.clear_record()
        self.timeline_view.empty_text = (
            "A case from a typed presentation: no record.\nType it in the Presentation box "
            "beside the differential →\nFile ▸ Open (Ctrl+O) to work on a record instead.")
        self.timeline_view.update()
        self.patient_label.setText("<b>New case from a presentation</b> · no record")
        self.setWindowTitle("Osler — new case")
        self.newCaseRequested.emit()

    def clear_record(self) -> None:
        """Show no record (the state before the first open)."""
        self.loaded = None
        self.current = None
        self.current_path = None
        self.timeline_panel.set_record(None)
        self.detail.clear_event()
        self.trend.clear()
        self.warnings_action.setEnabled(False)
        self.warnings_button.setVisible(False)
        self._update_patient_label()
        self._update_window_label()

    def show_current_episode(self) -> None:
        """The encounter at 'now' (or the last one); the whole record if the view cannot."""
        self.timeline_view.show_current_episode()

    def open_demo(self) -> None:
        try:
            self.open_path(demo_case())
        except ResourcesNotFound as exc:
            self._error("Demo patient not found", str(exc))

    def open_path(self, path: str | Path, patient_id: str | None = None,
                  now: datetime | None = None) -> TaskHandle:
        """Import a record on a worker thread; the current record stays until it succeeds.
        A newer open supersedes (and cancels) an import still running."""
        path = Path(path)
        self._job_path, self._job_patient, self._job_now = path, patient_id, now
        self._user_cancelled = False
        self._show_progress(f"Opening {path.name}…")
        self._import_generation += 1
        generation = self._import_generation
        self.import_job = self.tasks.run(
            lambda token: load_record(path, token, patient_id), self._import_finished,
            self._import_error, lambda: self._import_cancelled(generation), key="import")
        return self.import_job

    def cancel_import(self, quiet: bool = False) -> None:
        """Stop the import in progress; the record on screen stays."""
        job = self.import_job
        if job is None:
            return
        job.cancel()
        self.import_job = None
        self._hide_progress()
        if not quiet:
            self._user_cancelled = True
            name = self._job_path.name if self._job_path else "the record"
            self.statusBar().showMessage(f"Cancelled opening {name}", 5000)

    def _import_finished(self, loaded: LoadedRecord) -> None:
        self.import_job = None
        self._hide_progress()
        result = loaded.result
        if not result.roster:
            self._import_failed_message(
                f"{loaded.path}: no patient data (no Patient and no resource naming a patient "
                f"among {result.resources} resources)")
            return
        patient_id = self._job_patient
        if patient_id is None and len(result.roster) > 1:
            patient_id = self.choose_patient(loaded)
            if patient_id is None:
                self.statusBar().showMessage("Opening cancelled: no patient chosen", 5000)
                self.importCancelled.emit()
                return
            if (patient_id not in loaded.layouts
                    and any(e.patient.id == patient_id for e in result.roster)):
                # A large input kept only its first patient's events: read it again for
                # the chosen one (streamed; the record on screen stays until then).
                self.open_path(loaded.path, patient_id, self._job_now)
                return
        if patient_id is not None and patient_id not in loaded.layouts:
            self._import_failed_message(f"{loaded.path}: no patient with id {patient_id!r}")
            return
        timeline = (loaded.layouts[patient_id].timeline if patient_id is not None
                    else result.timelines[0])
        self._show_record(loaded, timeline)
        if self._job_now is not None:
            self.timeline_view.set_now(self._job_now)

    def _import_error(self, exc: BaseException) -> None:
        """Bad input is a message naming what and where; anything else a bug, reported."""
        self.import_job = None
        self._hide_progress()
        path = self._job_path
        if isinstance(exc, INPUT_ERRORS):
            message = str(exc)
        elif isinstance(exc, MemoryError):
            message = f"{path}: not enough memory to open this record"
        else:
            message = (f"{path}: internal error while importing "
                       f"({type(exc).__name__}: {exc})")
        self._import_failed_message(message)

    def _import_failed_message(self, message: str) -> None:
        what = "The record could not be opened"
        if self.current is not None:
            what += "; the previous record stays open"
        self._error("Could not open record", f"{what}.\n\n{message}")
        self.recordFailed.emit(message)

    def _import_cancelled(self, generation: int) -> None:
        """Only the newest import's cancellation is news; a superseded one stays quiet
        even when its worker notices the cancel after the newer import has finished."""
        if generation != self._import_generation:
            return
        by_user = self._user_cancelled
        self._user_cancelled = False
        if by_user or self.import_job is None:
            self._hide_progress()
            self.importCancelled.emit()

    def choose_patient(self, loaded: LoadedRecord) -> str | None:
        """Ask which patient to open when the input holds several."""
        dialog = PatientChooser(str(loaded.path), loaded.result.roster, self)
        if dialog.exec() != PatientChooser.DialogCode.Accepted:
            return None
        return dialog.chosen()

    def _show_record(self, loaded: LoadedRecord, timeline: Timeline) -> None:
        self.timeline_view.empty_text = None
        self.loaded = loaded
        self.current = timeline
        self.current_path = loaded.path
        layout = loaded.layouts[timeline.patient.id]
        self.timeline_panel.set_record(layout)
        self.detail.clear_event()
        self.trend.clear()
        self.settings.add_recent(loaded.path)
        n_issues = len(loaded.result.issues)
        self.warnings_action.setEnabled(n_issues > 0)
        self.warnings_action.setText(f"Import &warnings ({n_issues})…" if n_issues
                                     else "Import &warnings…")
        self.warnings_button.setText(f"⚠ {n_issues} import warning{'s' * (n_issues != 1)}")
        self.warnings_button.setVisible(n_issues > 0)
        self._update_patient_label()
        self._update_window_label()
        self.statusBar().showMessage(
            f"Opened {loaded.path.name}: {len(timeline):,} events in {loaded.seconds:.2f} s",
            6000)
        self.recordLoaded.emit(timeline)

    def _update_patient_label(self) -> None:
        t = self.current
        if t is None:
            self.patient_label.setText("No record open")
            self.setWindowTitle("Osler")
            return
        p = t.patient
        now = self.timeline_view.now()
        age = p.age_at(now or date.today())
        parts = [f"<b>{html.escape(p.name or f'Patient {p.id}')}</b>"]
        if p.gender:
            parts.append(html.escape(p.gender))
        if p.birth_date:
            parts.append(html.escape(f"born {p.birth_date.isoformat()}")
                         + (f" (age {age}{' at now' if now else ''})" if age is not None
                            and not p.deceased else ""))
        if p.deceased:
            parts.append("deceased")
        parts.append(f"{len(t):,} events")
        if self.current_path is not None:
            parts.append(f"<span style='color:gray'>{html.escape(self.current_path.name)}</span>")
        self.patient_label.setText(" · ".join(parts))
        self.setWindowTitle(f"Osler — {p.name or p.id}")

    def _update_window_label(self) -> None:
        if self.current is None:
            self.window_label.setText("")
            return
        from osler.ui.time_axis import FORMATS

        t0, t1 = self.timeline_view.window()
        days = (t1 - t0) / 86400
        fmt = FORMATS["day"] if days > 3 else FORMATS["hour"]
        try:
            text = (f"{datetime.fromtimestamp(t0).strftime(fmt)} – "
                    f"{datetime.fromtimestamp(t1).strftime(fmt)}")
        except (OverflowError, OSError, ValueError):
            text = ""
        self.window_label.setText(text)

    def _show_progress(self, text: str) -> None:
        self.progress_label.setText(text)
        for w in (self.progress_label, self.progress, self.cancel_button):
            w.show()

    def _hide_progress(self) -> None:
        for w in (self.progress_label, self.progress, self.cancel_button):
            w.hide()

    # --- selection ------------------------------------------------------------

    def _show_event(self, event_id: str, span: tuple[int, int] | None = None) -> None:
        if self.current is None:
            return
        event = self.current.get(event_id)
        if event is None:
            return
        parent = self.current.get(event.parent) if event.parent else None
        encounter = self.current.get(event.encounter) if event.encounter else None
        self.detail.show_event(
            event, span, parent.display if parent else None,
            f"{encounter.display} ({format_span(encounter)})" if encounter else None)
        if event.numeric is not None:
            self.trend.show_for(self.current, event)

    def _activate_event(self, event_id: str) -> None:
        """Enter or double-click: show the event and move focus to its details."""
        self._show_event(event_id)
        self.detail.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_highlight(self, event_id: str, span: object) -> None:
        self._show_event(event_id, span if isinstance(span, tuple) else None)

    def _now_changed(self, when: datetime | None) -> None:
        self.trend.set_now(when)
        self._update_patient_label()
        self.nowChanged.emit(when)

    def ask_now(self) -> None:
        """Set the 'now' cursor with a calendar or typed date (keyboard alternative to dragging)."""
        from osler.ui.now_dialog import ask_now

        record = self.current
        bounds = (record.start, record.end) if record is not None else None
        accepted, when = ask_now(self, self.timeline_view.now(), bounds)
        if accepted:
            self.timeline_view.set_now(when)

    def focus_search(self) -> None:
        self.timeline_panel.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.timeline_panel.search.selectAll()

    # --- menus ----------------------------------------------------------------

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = QAction(str(path), self.recent_menu)
            action.setEnabled(path.exists())
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
            self.recent_menu.addAction(action)
        if recent:
            self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.clear_recent_action)
        self.recent_menu.addAction(self.remember_recent_action)
        self.clear_recent_action.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent_menu()

    def _fill_lanes_menu(self) -> None:
        self.lanes_menu.clear()
        layout = self.timeline_view.record
        hidden = {k.value for k in self.timeline_view.hidden_kinds()}
        for lane in layout.lanes if layout is not None else []:
            action = QAction(LANE_TITLES.get(lane.kind, lane.title), self.lanes_menu,
                             checkable=True)
            action.setChecked(lane.kind.value not in hidden)
            action.toggled.connect(
                lambda on, k=lane.kind.value: self.timeline_panel.set_kind_visible(k, on))
            self.lanes_menu.addAction(action)

    def show_about(self) -> None:
        AboutDialog(self).exec()

    def show_warnings(self) -> None:
        if self.loaded is not None:
            ImportIssuesDialog(self.loaded.result, self).exec()

    def _error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    # --- theme and settings ---------------------------------------------------

    def set_theme(self, theme: str, remember: bool = True) -> None:
        """Switch between the light and dark theme."""
        theme = "dark" if theme == "dark" else "light"
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.theme = theme
        self.timeline_view.set_colours(colours(theme))
        self.trend.set_colours(colours(theme))
        self.theme_actions[theme].setChecked(True)
        if remember:
            self.settings.set_theme(theme)

    def _restore_settings(self) -> None:
        s = self.settings
        if (blob := s.blob("geometry")) is not None:
            self.restoreGeometry(blob)
        if (blob := s.blob("state")) is not None:
            self.restoreState(blob)
        for kind in s.hidden_kinds():
            try:
                self.timeline_view.set_kind_visible(kind, False)
            except ValueError:
                continue

    def _restore_splitters(self) -> None:
        for name, splitter in self._splitters().items():
            if (blob := self.settings.blob(name)) is not None:
                splitter.restoreState(blob)

    def showEvent(self, event: QShowEvent) -> None:
        # Splitter sizes are restored once the window has its final size, else Qt
        # redistributes them by stretch factor when the window grows.
        if not self._shown_once:
            self._shown_once = True
            self._restore_splitters()
        super().showEvent(event)

    def _splitters(self) -> dict[str, QSplitter]:
        return {"mainSplitter": self.main_splitter, "leftSplitter": self.left_splitter,
                "detailSplitter": self.detail_splitter}

    def save_settings(self) -> None:
        """Remember window layout, theme and lane filters (never patient data)."""
        s = self.settings
        s.set_blob("geometry", QByteArray(self.saveGeometry()))
        s.set_blob("state", QByteArray(self.saveState()))
        for name, splitter in self._splitters().items():
            s.set_blob(name, QByteArray(splitter.saveState()))
        s.set_hidden_kinds({k.value for k in self.timeline_view.hidden_kinds()})
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.import_job is not None:
            self.cancel_import(quiet=True)
        self.save_settings()
        super().closeEvent(event)

    # --- drag and drop --------------------------------------------------------

    @staticmethod
    def _dropped_paths(event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        if len(paths) > 1:
            self.statusBar().showMessage(
                f"{len(paths)} items dropped: opening {paths[0].name} (drop a folder to open "
                "several NDJSON files together)", 8000)
        self.open_path(paths[0])

