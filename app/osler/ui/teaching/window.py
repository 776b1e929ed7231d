"""The teaching window: case library, session, presentation mode, summary export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from osler.errors import INPUT_ERRORS
from osler.teaching.cases import SIDECAR_SUFFIX, CaseMeta
from osler.teaching.library import (
    CaseLibrary,
    add_case,
    import_case,
    open_case,
    remove_case,
    sidecar_for,
)
from osler.teaching.session import TeachingSession, teaching_service
from osler.teaching.summary import summary_html, write_text
from osler.ui.about import NOT_A_DIAGNOSIS
from osler.ui.teaching.jobs import JobRunner
from osler.ui.teaching.library_page import LibraryPage
from osler.ui.teaching.pdf import write_pdf
from osler.ui.teaching.presentation import ScreenFit, apply_presentation, refresh_timeline_fonts
from osler.ui.teaching.session_page import SessionPage
from osler.ui.theme import DARK, colours

DEFAULT_TRAINEE = "Group"
CASE_FILTER = "FHIR record or case file (*.json *.ndjson *.jsonl);;All files (*)"


class TeachingWindow(QMainWindow):
    """Trainer's window; a session's model work runs on one worker thread."""

    sessionStarted = Signal(object)  # TeachingSession
    serviceReady = Signal()

    def __init__(self, library: CaseLibrary | None = None, service=None,
                 engine_note: str | None = None, presentation: bool = False,
                 theme: str = "light", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("oslerTeachingWindow")
        self.setWindowTitle("Osler — Teaching")
        self.setAccessibleName("Osler teaching window")
        self.resize(1400, 880)
        self.runner = JobRunner(self)
        self.library = library or CaseLibrary.load()
        self.service = service
        self.engine_note = engine_note
        self.theme = theme
        self.session: TeachingSession | None = None
        self.presentation = False
        self.screen_fit = ScreenFit(self)
        self._pending_start: tuple[CaseMeta, list[str]] | None = None

        self.notice = QLabel("⚠ " + NOT_A_DIAGNOSIS + " Cases are fictional or de-identified.")
        self.notice.setObjectName("teachingNotice")
        self.notice.setWordWrap(True)
        self.library_page = LibraryPage(self.library)
        self.session_page = SessionPage(self.runner)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.library_page)
        self.stack.addWidget(self.session_page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        # The window fits its screen whatever the type size: on a screen too small for the
        # page (presentation mode's 18 pt on a small projector), the page scrolls instead.
        self.scroller = QScrollArea()
        self.scroller.setObjectName("teachingScroller")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(central)
        self.setCentralWidget(self.scroller)
        self._build_actions()

        self.library_page.startRequested.connect(self.start_session)
        self.library_page.importRequested.connect(self.import_case_dialog)
        self.library_page.removeRequested.connect(self.remove_case)
        self.session_page.backRequested.connect(self.show_library)
        self.session_page.message.connect(self._warn)
        self.session_page.changed.connect(self._update_actions)
        self.set_presentation(presentation)
        if self.service is None:
            self._load_service()
        self._update_actions()

    # --- construction ---------------------------------------------------------------

    def _action(self, text: str, slot, shortcut: str | QKeySequence | None = None,
                tip: str | None = None, name: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        self.library_action = self._action("Case &library", self.show_library, "Ctrl+L",
                                           "Back to the case library", "libraryAction")
        self.import_action = self._action("&Import case…", self.import_case_dialog, "Ctrl+I",
                                          "Add a FHIR record (and its case file) to your "
                                          "cases", "importAction")
        self.export_html_action = self._action(
            "Export summary as &HTML…", lambda: self.export_summary("html"), "Ctrl+E",
            "Write the session summary (no patient identifiers) as HTML", "exportHtml")
        self.export_pdf_action = self._action(
            "Export summary as &PDF…", lambda: self.export_summary("pdf"), "Ctrl+Shift+E",
            "Write the session summary (no patient identifiers) as PDF", "exportPdf")
        self.close_action = self._action("&Close", self.close, QKeySequence.StandardKey.Close,
                                         None, "closeAction")
        self.presentation_action = QAction("&Presentation mode", self, checkable=True)
        self.presentation_action.setObjectName("presentationAction")
        self.presentation_action.setShortcut(QKeySequence("F5"))
        self.presentation_action.setToolTip("Large type, high contrast, no identifiers (F5)")
        self.presentation_action.toggled.connect(self.set_presentation)

        bar = self.menuBar()
        menu = bar.addMenu("&Session")
        for a in (self.library_action, self.import_action, self.export_html_action,
                  self.export_pdf_action):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.close_action)
        view = bar.addMenu("&View")
        view.addAction(self.presentation_action)
        tools = QToolBar("Teaching")
        tools.setObjectName("teachingToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.library_action, self.presentation_action, self.export_html_action,
                  self.export_pdf_action):
            tools.addAction(a)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)

    # --- the model ------------------------------------------------------------------

    def _load_service(self) -> None:
        self.statusBar().showMessage("Loading the differential model…")
        self.runner.submit(teaching_service, self._service_loaded,
                           lambda text: self._warn("The model could not be loaded", text))

    def _service_loaded(self, result) -> None:
        self.service, self.engine_note = result
        self.statusBar().showMessage("Model ready", 4000)
        self.serviceReady.emit()
        if self._pending_start is not None:
            meta, trainees = self._pending_start
            self._pending_start = None
            self.start_session(meta, trainees)

    # --- pages ----------------------------------------------------------------------

    def show_library(self) -> None:
        self.stack.setCurrentWidget(self.library_page)
        self._update_actions()

    def start_session(self, meta: CaseMeta, trainees: list[str]) -> TeachingSession | None:
        """Open a case for teaching: nothing revealed, no model shown."""
        if self.service is None:
            self._pending_start = (meta, trainees)
            self.statusBar().showMessage("The session starts when the model is ready…")
            return None
        names = trainees or [DEFAULT_TRAINEE]
        try:
            reveal = open_case(meta, presentation=self.presentation)
            session = TeachingSession(reveal, self.service, names)
        except INPUT_ERRORS as exc:
            self._warn("The case could not be opened", str(exc))
            return None
        self.session = session
        self.session_page.set_session(session, self.engine_note)
        self.stack.setCurrentWidget(self.session_page)
        if not trainees:
            self.statusBar().showMessage(
                f"No trainee names given: the room commits as '{DEFAULT_TRAINEE}'", 8000)
        self._update_actions()
        self.sessionStarted.emit(session)
        return session

    def set_presentation(self, on: bool) -> None:
        """Large fonts (the timeline's too), high contrast and no identifiers anywhere on
        screen; the window fills its screen, and gets its size back afterwards."""
        on = bool(on)
        was = self.presentation
        self.presentation = on
        if self.presentation_action.isChecked() != on:
            self.presentation_action.setChecked(on)
        apply_presentation(self, on)
        refresh_timeline_fonts(self.session_page.timeline_view)
        if on and not was:
            self.screen_fit.enter()
        elif was and not on:
            self.screen_fit.leave()
        self.session_page.timeline_view.set_colours(DARK if on else colours(self.theme))
        self.library_page.set_presentation(on)
        self.session_page.set_presentation(on)

    def _update_actions(self) -> None:
        has_rounds = self.session is not None and bool(self.session.rounds)
        self.export_html_action.setEnabled(has_rounds)
        self.export_pdf_action.setEnabled(has_rounds)

    # --- library maintenance --------------------------------------------------------

    def import_case_dialog(self, path: str | Path | None = None) -> CaseMeta | None:
        """Add a record to the trainer's cases: its case file is imported when it has one,
        otherwise a dialog asks for the title, gold diagnosis and notes."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import a teaching case", "",
                                                    CASE_FILTER)
            if not chosen:
                return None
            path = chosen
        src = Path(path)
        sidecar = src if src.name.endswith(SIDECAR_SUFFIX) else sidecar_for(src)
        try:
            if sidecar.is_file():
                meta = import_case(sidecar, library=self.library)
            else:
                meta = self._describe_and_add(src)
                if meta is None:
                    return None
        except INPUT_ERRORS as exc:
            self._warn("The case could not be imported", str(exc))
            return None
        self.library_page.reload(select=meta.id)
        self.statusBar().showMessage(f"Added '{meta.title}' to your cases", 6000)
        return meta

    def make_import_dialog(self, src: Path):
        """The dialog that describes a record with no case file (a seam for tests)."""
        from osler.ui.teaching.import_dialog import CaseImportDialog

        kb = self.service.kb if self.service is not None else _default_kb()
        return CaseImportDialog(src, kb, self)

    def _describe_and_add(self, src: Path) -> CaseMeta | None:
        dialog = self.make_import_dialog(src)
        kb = self.service.kb if self.service is not None else _default_kb()
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                return add_case(src, dialog.new_case(), kb,
                                deidentify=dialog.deidentify.isChecked(),
                                library=self.library)
            except INPUT_ERRORS as exc:
                dialog.show_error(str(exc))
        return None

    def remove_case(self, meta: CaseMeta) -> None:
        answer = QMessageBox.question(self, "Remove case",
                                      f"Remove your case '{meta.title}' and its record copy?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            remove_case(meta.id, self.library)
        except INPUT_ERRORS as exc:
            self._warn("The case could not be removed", str(exc))
        self.library_page.reload()

    # --- summary --------------------------------------------------------------------

    def export_summary(self, kind: str, path: str | Path | None = None) -> Path | None:
        """Write the session summary as 'html' or 'pdf', only where the trainer chooses."""
        if self.session is None or not self.session.rounds:
            self._warn("Nothing to export", "No one has committed a differential yet.")
            return None
        if path is None:
            suggested = f"{self.session.meta.id}-session.{kind}"
            filt = "HTML (*.html)" if kind == "html" else "PDF (*.pdf)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export the session summary",
                                                    suggested, filt)
            if not chosen:
                return None
            path = chosen
        target = Path(path)
        if target.suffix.lower() != f".{kind}":
            target = target.with_name(target.name + f".{kind}")
        page = summary_html(self.session)
        try:
            if kind == "pdf":
                write_pdf(page, target, f"Teaching session: {self.session.meta.title}")
            else:
                write_text(page, target)
        except INPUT_ERRORS as exc:
            self._warn("The summary could not be written", str(exc))
            return None
        self.statusBar().showMessage(f"Summary written to {target}", 8000)
        return target

    # --- misc -----------------------------------------------------------------------

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.wait(30_000)
        super().closeEvent(event)


def _default_kb():
    from osler.knowledge.pack import default_kb

    return default_kb()

