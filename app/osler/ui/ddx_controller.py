"""Connects the window, the differential panel, the model thread and the audit thread.

`attach_differential(window)` puts the panel beside the timeline (with 'Rare diseases to
consider' below it, rare_panel.py), loads the model on its
own thread, recomputes when a record opens or the 'now' cursor moves (debounced; stale
results are dropped by sequence number), applies what-if edits, turns clinician actions
into audit entries (written on the audit thread), and adds Tools ▸ Model manager,
Tools ▸ Audit trail and Help ▸ Self-check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMenu, QMessageBox, QToolButton

from osler.audit import AuditError, AuditInputError
from osler.knowledge import KnowledgeBase
from osler.record import Timeline
from osler.session import DifferentialSession, WhatIf
from osler.session.ddx_session import DECISIONS_CLEARED, Added
from osler.ui.actions import make_action
from osler.ui.audit_worker import AuditThread, AuditWorker, ProviderFactory, default_provider
from osler.ui.ddx_panel import DifferentialPanel
from osler.ui.diagnosis_search import DiagnosisChoice
from osler.ui.model_worker import (
    DdxResult,
    LoadedModel,
    ModelRequest,
    ModelThread,
    ModelWorker,
)
from osler.ui.overrides import OverrideRequest, build_record, default_clinician_id, patient_key
from osler.ui.presentation_box import PresentationBox
from osler.ui.rare_panel import RareDiseasesPanel, make_room
from osler.ui.server_banner import ServerBanner

DEBOUNCE_MS = 150
SHUTDOWN_WAIT_MS = 30_000


def _with_stored_key(request: ModelRequest, ask: Any) -> ModelRequest:
    """REQUEST with this workstation's stored API key for its server (None when none is
    stored or the store cannot be opened; the server then says whether it needs one)."""
    from dataclasses import replace

    from osler.reasoning.server.config import parse_server_url
    from osler.reasoning.server.errors import ServerConfigError
    from osler.server_keys import ServerKeyError, api_key_for

    try:
        origin = parse_server_url(request.server_url or "", True).origin
        from osler.server_keys import ServerKeyStore

        return replace(request, api_key=api_key_for(origin, ServerKeyStore(ask=ask)))
    except (ServerConfigError, ServerKeyError):
        return request


def request_from_settings(choice: dict[str, str]) -> ModelRequest:
    """The model the user loaded last time (the shipped model when nothing was saved)."""
    try:
        budget = float(choice["memory_budget_gb"]) if choice.get("memory_budget_gb") else None
    except ValueError:
        budget = None
    source = choice.get("source", "shipped")
    if source == "server":  # the API key is fetched from the key store when loading
        return ModelRequest("server", server_url=choice.get("server_url") or None,
                            server_model=choice.get("server_model") or None,
                            ca_bundle=choice.get("ca_bundle") or None,
                            allow_http=choice.get("allow_http") == "1")
    return ModelRequest(source if source in ("shipped", "kb", "folder") else "shipped",
                        choice.get("folder") or None, choice.get("device", "auto"),
                        choice.get("quantization", "auto"), budget)


class DifferentialController(QObject):
    """Owns the two worker threads and the clinical state of the window (see module doc)."""

    loadProgress = Signal(str, float)
    modelLoaded = Signal(object)  # LoadedModel
    modelFailed = Signal(str)
    modelCancelled = Signal()
    hardwareKnown = Signal(object)
    differentialShown = Signal(object)  # DdxResult
    computeFailed = Signal(str)
    auditOpened = Signal(object)
    auditAppended = Signal(object)  # AuditEntry
    auditEntries = Signal(object, object)
    auditVerifyProgress = Signal(int, int)
    auditVerified = Signal(object)
    auditFailed = Signal(str, str, object)
    auditAnchored = Signal(str, object)
    auditExported = Signal(str, int)

    _load = Signal(object)
    _compute = Signal(object)
    _probe = Signal()
    _shutdown_model = Signal()
    _audit_open = Signal(object)
    _audit_probe = Signal()
    _audit_append = Signal(object, object)
    _audit_read = Signal(object, object)
    _audit_verify = Signal(object)
    _audit_anchor = Signal(str)
    _audit_export = Signal(str, object)
    _audit_close = Signal()

    def __init__(self, window: QMainWindow, *, model: ModelRequest | None = None,
                 kb: KnowledgeBase | None = None, semantic: bool = True,
                 audit_path: Path | str | None = None,
                 provider_factory: ProviderFactory = default_provider,
                 ask_passphrase: Callable[[str, bool], str | None] | None = None,
                 selfcheck_options: dict[str, Any] | None = None,
                 debounce_ms: int = DEBOUNCE_MS, top: int = 10):
        super().__init__()
        from osler.knowledge.pack import default_kb

        self.window = window
        self.settings = window.settings
        self.kb = kb or default_kb()
        self.top = top
        self.model_request = model or request_from_settings(self.settings.model_choice())
        self.loaded_model: LoadedModel | None = None
        self.hardware: object | None = None
        self.session = DifferentialSession(top=top, at=window.timeline_view.now())
        self.ask_passphrase = ask_passphrase
        self.selfcheck_options = selfcheck_options or {}
        self._stopped = False
        self._remember_next = False
        self.model_manager_dialog: Any = None
        self.audit_viewer: Any = None
        self.selfcheck_dialog: Any = None

        self.panel = DifferentialPanel(self.kb)
        self.presentation = PresentationBox()
        self.panel.splitter.insertWidget(0, self.presentation)
        self.panel.splitter.setStretchFactor(0, 0)
        self.rare = RareDiseasesPanel()  # below the differential, never inside its list
        self.panel.splitter.addWidget(self.rare)
        self.panel.splitter.setCollapsible(self.panel.splitter.indexOf(self.rare), False)
        # The tabs' own minimum (the what-if page's) would leave an open panel no room.
        self.panel.tabs.setMinimumHeight(80)
        self.audit_read_only = QToolButton()
        self.audit_read_only.setText("⚠ Audit trail read-only")
        self.audit_read_only.setAccessibleName("Audit trail is read-only")
        self.audit_read_only.setAutoRaise(True)
        self.audit_read_only.setStyleSheet("color: #b00020; font-weight: bold;")
        self.audit_read_only.clicked.connect(self._show_read_only)
        self.audit_read_only.hide()
        self._read_only_reason = ""
        self._header_fallback = False  # the model header names the fallback model
        window.statusBar().addPermanentWidget(self.audit_read_only)
        self.server_banner = ServerBanner()
        lay = self.panel.layout()
        lay.insertWidget(lay.indexOf(self.panel.splitter), self.server_banner)
        window.set_side_panel(self.panel)
        if (state := self.settings.blob("ddxSplitter")) is not None:
            self.panel.splitter.restoreState(state)
        self._start_model_thread(semantic)
        self._start_audit_thread(audit_path, provider_factory)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self.request_differential)
        self._connect()
        self._add_menus()
        window.installEventFilter(self)
        self._load.emit(self.model_request)

    # The session's state, under the names the window and tests use.
    @property
    def timeline(self) -> Timeline | None:
        return self.session.timeline

    @property
    def at(self) -> datetime | None:
        return self.session.at

    @property
    def whatif(self) -> WhatIf:
        return self.session.whatif

    @property
    def result(self) -> DdxResult | None:
        return self.session.result

    @property
    def seq(self) -> int:
        return self.session.seq

    # --- threads -----------------------------------------------------------------

    def _start_model_thread(self, semantic: bool) -> None:
        self.model_thread = ModelThread()
        self.worker = ModelWorker(self.kb, semantic)
        self.worker.moveToThread(self.model_thread)
        q = Qt.ConnectionType.QueuedConnection
        self._load.connect(self.worker.load, q)
        self._compute.connect(self.worker.compute, q)
        self._probe.connect(self.worker.probe_hardware, q)
        self._shutdown_model.connect(self.worker.shutdown, q)
        self.worker.loadProgress.connect(self.loadProgress, q)
        self.worker.loaded.connect(self._model_loaded, q)
        self.worker.loadFailed.connect(self._model_failed, q)
        self.worker.loadCancelled.connect(self._model_cancelled, q)
        self.worker.computed.connect(self._computed, q)
        self.worker.computeFailed.connect(self._compute_failed, q)
        self.worker.token.connect(self._token, q)
        self.worker.serverStatus.connect(self.server_banner.set_fallback, q)
        self.server_banner.retryRequested.connect(self.retry_server)
        self.server_banner.cancelRequested.connect(self.cancel_compute)
        self.worker.hardware.connect(self._hardware, q)
        self.model_thread.start()

    def _start_audit_thread(self, path: Path | str | None, factory: ProviderFactory) -> None:
        self.audit_thread = AuditThread()
        self.audit = AuditWorker(path, factory)
        self.audit.moveToThread(self.audit_thread)
        q = Qt.ConnectionType.QueuedConnection
        self._audit_open.connect(self.audit.open, q)
        self._audit_append.connect(self.audit.append, q)
        self._audit_read.connect(self.audit.read, q)
        self._audit_verify.connect(self.audit.verify, q)
        self._audit_anchor.connect(self.audit.make_anchor, q)
        self._audit_export.connect(self.audit.export, q)
        self._audit_close.connect(self.audit.shutdown, q)
        self.audit.passphraseNeeded.connect(self._passphrase_needed, q)
        self.audit.opened.connect(self._audit_opened, q)
        self.audit.opened.connect(self.auditOpened, q)
        self.audit.appended.connect(self._appended, q)
        self.audit.entriesRead.connect(self.auditEntries, q)
        self.audit.verifyProgress.connect(self.auditVerifyProgress, q)
        self.audit.verified.connect(self.auditVerified, q)
        self.audit.failed.connect(self._audit_failed, q)
        self.audit.anchored.connect(self.auditAnchored, q)
        self.audit.exported.connect(self.auditExported, q)
        self.audit_thread.start()
        self._audit_probe.connect(self.audit.probe, q)
        self._audit_probe.emit()

    def shutdown(self) -> None:
        """Stop both threads (cancelling a model load, unblocking a passphrase question)."""
        if self._stopped:
            return
        self._stopped = True
        self._debounce.stop()
        self.worker.cancel.set()
        self.worker.latest_seq = self.seq + 1_000_000  # queued requests become stale
        self.audit.stop()
        self._shutdown_model.emit()  # frees the model, then ends its thread's loop
        self._audit_close.emit()  # closes the store, then ends its thread's loop
        for thread in (self.model_thread, self.audit_thread):
            if not thread.wait(SHUTDOWN_WAIT_MS):
                thread.quit()
                thread.wait(2000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.settings.set_blob("ddxSplitter", self.panel.splitter.saveState())
            self.shutdown()
        return super().eventFilter(watched, event)

    def focus_differential(self) -> None:
        self.panel.list.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_rare(self) -> None:
        """Open 'Rare diseases to consider' and move the keyboard to it, or say why not."""
        if not self.rare.focus_list():
            rare = self.result.differential.rare if self.result is not None else None
            why = (f": {rare.reason}" if rare is not None and rare.reason else
                   ": it is turned off" if self.result is not None else "")
            self.window.statusBar().showMessage(f"No rare-disease suggestions{why}", 6000)

    def show_source(self, event_id: str, span: object) -> None:
        """An evidence link: the event on the timeline, or ('' and a span) the typed words."""
        if event_id:
            self.window.highlight_event(event_id, span if isinstance(span, tuple) else None)
        elif isinstance(span, tuple):
            self.presentation.show_span(span)

    def show_condition(self, condition_id: str) -> None:
        """'Also in the differential': select that diagnosis in the list, if listed."""
        if self.panel.select_condition(condition_id):
            self.panel.list.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        name = self.kb.condition(condition_id).name if self.kb.has_condition(condition_id) \
            else condition_id
        self.window.statusBar().showMessage(f"{name} is not in the differential's list now",
                                            6000)

    def _make_room_for_rare(self, _expanded: bool) -> None:
        # Once the panel's new size limits are laid out (the next turn of the event loop).
        QTimer.singleShot(0, lambda: make_room(self.panel.splitter, self.rare))

    # --- wiring ------------------------------------------------------------------

    def _connect(self) -> None:
        w, p = self.window, self.panel
        w.recordLoaded.connect(self.set_record)
        w.nowChanged.connect(self.set_now)
        w.newCaseRequested.connect(self.new_case)
        b = self.presentation
        b.textEdited.connect(self.set_text)
        b.demographicsChanged.connect(self.set_demographics)
        b.correctionRequested.connect(self.correct)
        p.evidenceActivated.connect(self.show_source)
        self.rare.evidenceActivated.connect(self.show_source)
        self.rare.diagnosisRequested.connect(self.show_condition)
        self.rare.expandedChanged.connect(self._make_room_for_rare)
        p.citationActivated.connect(self.show_citation)
        p.findingToggled.connect(self.toggle_finding)
        p.findingAdded.connect(self.add_finding)
        p.whatIfReset.connect(self.reset_whatif)
        p.acceptRequested.connect(self.accept)
        p.rejectRequested.connect(self.ask_reject)
        p.rerankRequested.connect(self.ask_rerank)
        p.addRequested.connect(self.ask_add)
        p.commentRequested.connect(self.ask_comment)
        p.modelManagerRequested.connect(self.show_model_manager)

    def _add_menus(self) -> None:
        bar = self.window.menuBar()
        help_menu = next((a.menu() for a in bar.actions() if a.text() == "&Help"), None)
        tools = QMenu("&Tools", self.window)
        tools.setObjectName("toolsMenu")
        act = self._action
        self.model_manager_action = act("model_manager", self.show_model_manager)
        self.audit_action = act("audit_trail", self.show_audit_viewer)
        self.clinician_action = act("clinician_id", lambda: self.clinician_id(force=True))
        self.focus_action = act("focus_differential", self.focus_differential)
        self.presentation_action = act("focus_presentation", self.focus_presentation)
        self.rare_action = act("focus_rare", self.focus_rare)
        self.rationale_action = act("rationale",
                                    lambda: self.request_differential(rationale=True))
        for a in (self.focus_action, self.model_manager_action, self.audit_action,
                  self.clinician_action, self.presentation_action, self.rare_action):
            tools.addAction(a)
        tools.addSeparator()
        tools.addAction(self.rationale_action)
        self.rationale_action.setEnabled(False)
        if help_menu is not None:
            bar.insertMenu(help_menu.menuAction(), tools)
            self.selfcheck_action = self._action("selfcheck", self.show_selfcheck)
            help_menu.insertAction(help_menu.actions()[0] if help_menu.actions() else None,
                                   self.selfcheck_action)
        else:
            bar.addMenu(tools)
        self.tools_menu = tools

    def _action(self, key: str, slot: Callable[[], Any]) -> QAction:
        return make_action(self.window, key, slot)

    # --- the model ---------------------------------------------------------------------

    def load_model(self, request: ModelRequest) -> None:
        """Load on the model thread; the current model stays until the new one is ready.
        A clinic server's API key comes from the key store (keyring, else the passphrase-
        protected file) here, on the UI thread, where a passphrase can be asked for."""
        if request.source == "server" and request.api_key is None and request.server_url:
            request = _with_stored_key(request, self.ask_passphrase)
        self.worker.cancel.clear()
        self._remember_next = True
        self._load.emit(request)

    def retry_server(self) -> None:
        """The banner's 'Try the server again': ask it now, recompute what is shown."""
        self.worker.retry_server()
        self.request_differential()

    def cancel_compute(self) -> None:
        """The banner's Cancel: stop the clinic-server requests in flight."""
        self.worker.cancel_compute()

    def cancel_load(self) -> None:
        self.worker.cancel.set()

    def probe_hardware(self) -> None:
        self._probe.emit()

    def _hardware(self, report: object) -> None:
        self.hardware = report
        self.hardwareKnown.emit(report)

    def _model_loaded(self, loaded: LoadedModel) -> None:
        self.loaded_model = loaded
        self.model_request = loaded.request
        if self._remember_next:  # a choice the user made: load it again next time
            self._remember_next = False
            r = loaded.request
            self.settings.set_model_choice({
                "source": r.source, "folder": r.folder or "", "device": r.device,
                "quantization": r.quantization,
                "memory_budget_gb": "" if r.memory_budget_gb is None
                else f"{r.memory_budget_gb:g}",
                "server_url": r.server_url or "", "server_model": r.server_model or "",
                "ca_bundle": r.ca_bundle or "", "allow_http": "1" if r.allow_http else ""})
        self.server_banner.set_fallback("")
        self.panel.set_model(loaded)
        info = loaded.info
        self.rationale_action.setEnabled(loaded.is_llm)
        self.window.statusBar().showMessage(
            f"Model: {loaded.info.id} {loaded.info.version} on {loaded.info.device} "
            f"({loaded.seconds:.1f} s)", 5000)
        if self.session.set_engine(f"{info.id} {info.version} {info.sha256} "
                                   f"{self.kb.version}"):
            self.panel.decisions = {}
            self.panel.added = []
            self.window.statusBar().showMessage(DECISIONS_CLEARED, 10000)
            self.panel.show_notice(DECISIONS_CLEARED)
        self.modelLoaded.emit(loaded)
        if self.session.can_compute:
            self.request_differential()

    def _model_failed(self, message: str) -> None:
        self._remember_next = False
        if self.loaded_model is None:
            self.panel.show_message(f"No model could be loaded: {message}. Choose one in "
                                    "Tools ▸ Model manager.", error=True)
        dialog_handles = (self.model_manager_dialog is not None
                          and self.model_manager_dialog._loading)
        if not dialog_handles and self.loaded_model is not None:
            QMessageBox.warning(self.window, "Could not load the model",
                                f"{message}\n\nThe previous model stays in use.")
        self.modelFailed.emit(message)

    def _model_cancelled(self) -> None:
        self._remember_next = False
        self.window.statusBar().showMessage("Model loading cancelled; the previous model "
                                            "stays in use", 5000)
        self.modelCancelled.emit()

    # --- the differential --------------------------------------------------------------

    def set_record(self, timeline: Timeline | None) -> None:
        """A new record on screen: forget what-ifs and typed text, compute its differential."""
        self.session.set_record(timeline, self.window.timeline_view.now())
        self.presentation.clear()
        self.presentation.set_demographics_visible(timeline is None)
        self.panel.set_record(timeline)
        self.rare.clear()
        self.request_differential()

    def new_case(self, text: str = "", age: int | None = None, sex: str | None = None
                 ) -> None:
        """A case from a typed presentation alone (File ▸ New case from presentation)."""
        self.session.new_case(text, age, sex)
        self.panel.set_record(None)
        self.rare.clear()
        self.presentation.clear()
        self.presentation.set_demographics_visible(True)
        self.presentation.set_demographics(age, sex)
        if text:
            self.presentation.set_text(text)
        self.focus_presentation()
        self.request_differential()

    def focus_presentation(self) -> None:
        self.presentation.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_text(self, text: str) -> None:
        """The presentation text after a typing pause."""
        if self.session.set_text(text):
            self.request_differential()

    def set_demographics(self, age: int | None, sex: str | None) -> None:
        if self.session.timeline is None and self.session.set_demographics(age, sex):
            self.request_differential()

    def correct(self, finding: Any, remove: bool = False) -> None:
        """A finding read from the text, corrected by the clinician."""
        if self.session.correct(finding, remove):
            self.request_differential()

    def set_now(self, when: datetime | None) -> None:
        """The 'now' cursor moved: recompute once it rests (debounced)."""
        if self.session.set_now(when):
            self.panel.show_message("Updating for the new 'now'…")
            self._debounce.start()

    def request_differential(self, rationale: bool | None = None) -> int:
        """Queue a differential for what is shown (record, time, text, what-ifs); its
        sequence number."""
        self._debounce.stop()
        if self._stopped:
            return self.session.seq
        llm = self.loaded_model is not None and self.loaded_model.is_llm
        want = (llm and not self.session.whatif.active) if rationale is None \
            else (rationale and llm)
        request = self.session.request(want)
        self.worker.latest_seq = self.session.seq
        if request is None:
            self.panel.show_result_cleared(
                "Open a record, or type a presentation above (File ▸ New case from "
                "presentation for a case without a record).")
            self.rare.clear()
            return self.session.seq
        if self.loaded_model is None:
            self.panel.show_message("Loading the model…")
            return self.session.seq  # _model_loaded asks again
        if want:
            self.panel.start_rationale()
            self.panel.tabs.setTabEnabled(self.panel.rationale_tab, True)
        self.panel.show_message("Computing the differential…")
        self.server_banner.set_busy(self.loaded_model.info.kind == "server")
        self._compute.emit(request)
        return self.session.seq

    def _computed(self, result: DdxResult) -> None:
        if not self.session.accept(result):
            return  # a newer request is on its way
        self.server_banner.set_busy(False)
        self._server_model_changed(result.differential.model)
        used, loaded = result.differential.model, self.loaded_model
        if loaded is not None and loaded.info.kind == "server" and used.kind != "server":
            self.panel.show_fallback_model(used, loaded.info.path)
            self._header_fallback = True
        elif loaded is not None and self._header_fallback:
            self.panel.set_model(loaded)
            self._header_fallback = False
        extra = list(self.loaded_model.warnings) if self.loaded_model else []
        added = [DiagnosisChoice(a.name, a.icd10, "added")
                 for a in self.session.added_for()]
        self.panel.show_result(result, self.session.decisions_for(), added,
                               [w for w in extra if w not in result.differential.warnings],
                               shown_elsewhere=self.server_banner.fallback_text)
        allowed, why = self.session.overrides_allowed()
        self.panel.set_overrides_enabled(allowed, why)
        self.rare.show_panel(result.differential.rare, self.timeline)
        self.presentation.show_reading(
            result.presentation.rows(list(result.read_findings)), result.presentation.text)
        self.differentialShown.emit(result)

    def _compute_failed(self, seq: int, message: str) -> None:
        if self.session.is_current(seq):
            self.server_banner.set_busy(False)
            self.panel.show_message(f"The differential could not be computed: {message}",
                                    error=True)
            self.computeFailed.emit(message)

    def _token(self, seq: int, text: str) -> None:
        if self.session.is_current(seq):
            self.panel.append_token(text)

    def _server_model_changed(self, model: Any) -> None:
        """The clinic server now serves another model than when it was loaded: name the new
        one and say so (as for any model change, earlier decisions are cleared)."""
        loaded = self.loaded_model
        if loaded is None or model.kind != "server" or model == loaded.info:
            return
        from dataclasses import replace

        self.loaded_model = replace(loaded, info=model)
        self.panel.set_model(self.loaded_model)
        text = f"The clinic server's model changed: now {model.id} ({model.quantization})."
        if self.session.set_engine(f"{model.id} {model.version} {model.sha256} "
                                   f"{dict(model.extra).get('probe', '')} {self.kb.version}"):
            self.panel.decisions = {}
            self.panel.added = []
            text += " " + DECISIONS_CLEARED
        self.panel.show_notice(text)
        self.modelLoaded.emit(self.loaded_model)

    def show_citation(self, cited: str) -> None:
        """A rationale citation: an event id, or a finding id whose source event is shown."""
        if self.timeline is not None and cited in self.timeline:
            self.window.highlight_event(cited)
            return
        if self.result is not None:
            for f in self.result.differential.findings:
                if f.id == cited and f.source.event_id:
                    self.window.highlight_event(f.source.event_id, f.source.span)
                    return
        self.window.statusBar().showMessage(f"'{cited}' is not an event of this record", 5000)

    # --- what if -----------------------------------------------------------------------

    def toggle_finding(self, finding_id: str) -> None:
        label = self.kb.finding(finding_id).label if self.kb.has_finding(finding_id) else ""
        if self.session.toggle_finding(finding_id, label):
            self.request_differential()

    def add_finding(self, finding_id: str, present: bool = True) -> None:
        if not self.kb.has_finding(finding_id):
            return
        if self.session.add_finding(finding_id, self.kb.finding(finding_id).label, present):
            self.request_differential()

    def reset_whatif(self) -> None:
        if self.session.reset_whatif():
            self.request_differential()

    # --- overrides -----------------------------------------------------------------------

    def patient_id(self) -> str | None:
        return self.session.timeline.patient.id if self.session.timeline is not None else None

    def clinician_id(self, force: bool = False) -> str | None:
        """The id overrides are recorded under: asked once, then kept in the settings."""
        current = self.settings.clinician_id()
        if current and not force:
            return current
        text, ok = QInputDialog.getText(
            self.window, "Clinician id",
            "Your id for the audit trail (initials, staff number or user name). It is stored "
            "in this computer's settings and with each override you record:",
            text=current or default_clinician_id())
        if not ok or not text.strip():
            return current if force else None
        self.settings.set_clinician_id(text.strip())
        return text.strip()

    def override(self, request: OverrideRequest) -> bool:
        """Record REQUEST on the differential shown (on the audit thread); False if refused."""
        if self.result is None:
            return False
        allowed, why = self.session.overrides_allowed()
        if not allowed:
            QMessageBox.information(self.window, "What-if is on", why)
            return False
        clinician = self.clinician_id()
        if clinician is None:
            self.window.statusBar().showMessage("Not recorded: no clinician id", 5000)
            return False
        try:
            record = build_record(self.result.differential, request, clinician,
                                  patient_key(self.result.differential, self.patient_id()))
        except AuditInputError as exc:
            QMessageBox.warning(self.window, "Not recorded", str(exc))
            return False
        self._audit_append.emit(record, (request, self.session.patient_key()))
        self.window.statusBar().showMessage("Recording in the audit trail…", 3000)
        return True

    def _appended(self, entry: Any, tag: Any) -> None:
        request, key = tag
        name = (entry.diagnosis or {}).get("name")
        added = Added(request.name or "", tuple(request.icd10)) \
            if request.action == "add" else None
        self.session.record_decision(request.action, name, key, added)
        if key == self.session.patient_key():
            if added is not None:
                self.panel.show_added(DiagnosisChoice(added.name, added.icd10, "added"))
            elif request.action == "rerank":
                self.panel.show_reranked(request.rank, request.new_rank)
                self.panel.mark(name, "rerank")
            elif name and request.action in ("accept", "reject", "comment"):
                self.panel.mark(name, self.session.decisions_for(key).get(name,
                                                                          request.action))
        self.window.statusBar().showMessage(
            f"Recorded in the audit trail (#{entry.seq}: {entry.action}"
            + (f" {name}" if name else "") + ")", 6000)
        self.auditAppended.emit(entry)

    def _audit_opened(self, info: dict[str, Any]) -> None:
        """A read-only store (damaged WAL, witness disagrees) stays visible in the status
        bar from the moment it is known, not only when an override fails."""
        reason = info.get("read_only")
        button = self.audit_read_only
        button.setVisible(bool(reason))
        button.setToolTip(f"Overrides cannot be recorded: {reason}" if reason else "")
        self._read_only_reason = reason or ""

    def _show_read_only(self) -> None:
        QMessageBox.warning(
            self.window, "Audit trail is read-only",
            "Overrides cannot be recorded in the audit trail until this is resolved:\n\n"
            f"{self._read_only_reason}\n\nThe differential still works. See docs/audit.md, "
            "'For the clinic's IT' (a damaged WAL; reset-witness).")

    def _audit_failed(self, operation: str, message: str, tag: Any) -> None:
        if operation == "append":
            QMessageBox.warning(self.window, "Not recorded",
                                f"The override was NOT recorded in the audit trail.\n\n"
                                f"{message}")
            self.panel.restore_order()
        elif operation == "open":
            QMessageBox.warning(self.window, "Audit trail", message)
        self.auditFailed.emit(operation, message, tag)

    def _passphrase_needed(self, message: str, is_new: bool) -> None:
        if self.ask_passphrase is not None:
            answer = self.ask_passphrase(message, is_new)
        else:
            from osler.ui.passphrase_dialog import ask_passphrase

            answer = ask_passphrase(self.window, message, is_new)
        self.audit.answer(answer)

    def accept(self, rank: int) -> bool:
        return self.override(OverrideRequest("accept", rank=rank))

    def ask_reject(self, rank: int) -> bool:
        from osler.ui.override_dialogs import ReasonDialog

        dx = self._diagnosis(rank)
        if dx is None:
            return False
        dialog = ReasonDialog("Reject diagnosis", f"Rule out <b>{dx.name}</b> "
                              f"({', '.join(dx.icd10)}): why?", self.window)
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            return False
        return self.override(OverrideRequest("reject", rank=rank,
                                             reason_code=dialog.reason_code(),
                                             reason_text=dialog.reason_text()))

    def ask_rerank(self, rank: int, new_rank: int) -> bool:
        from osler.ui.override_dialogs import ReasonDialog

        dx = self._diagnosis(rank)
        if dx is None or new_rank == rank or self.result is None or self.result.whatif.active:
            self.panel.restore_order()
            return False
        dialog = ReasonDialog("Re-rank diagnosis", f"Move <b>{dx.name}</b> from rank {rank} "
                              f"to rank {new_rank}: why?", self.window,
                              default="alternative-more-likely")
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            self.panel.restore_order()
            return False
        return self.override(OverrideRequest("rerank", rank=rank, new_rank=new_rank,
                                             reason_code=dialog.reason_code(),
                                             reason_text=dialog.reason_text()))

    def ask_add(self) -> bool:
        from osler.ui.override_dialogs import AddDiagnosisDialog

        dialog = AddDiagnosisDialog(self.kb, self.window)
        if dialog.exec() != AddDiagnosisDialog.DialogCode.Accepted:
            return False
        choice = dialog.choice()
        if choice is None:
            return False
        return self.override(OverrideRequest("add", name=choice.name, icd10=choice.icd10,
                                             reason_code=dialog.reason_code(),
                                             reason_text=dialog.reason_text()))

    def ask_comment(self, rank: int | None) -> bool:
        from osler.ui.override_dialogs import CommentDialog

        diags = [(d.rank, d.name) for d in self.result.differential.diagnoses] \
            if self.result else []
        dialog = CommentDialog(diags, rank, self.window)
        if dialog.exec() != CommentDialog.DialogCode.Accepted:
            return False
        return self.override(OverrideRequest("comment", rank=dialog.rank(),
                                             reason_text=dialog.comment()))

    def _diagnosis(self, rank: int) -> Any:
        if self.result is None:
            return None
        return next((d for d in self.result.differential.diagnoses if d.rank == rank), None)

    # --- the audit trail ---------------------------------------------------------------

    def open_audit(self, create: bool = False) -> None:
        self._audit_open.emit(create)

    def read_audit(self, filters: dict[str, Any], tag: Any = None) -> None:
        self._audit_read.emit(filters, tag)

    def verify_audit(self, anchor_path: str | None = None) -> None:
        self._audit_verify.emit(anchor_path)

    def anchor_audit(self, path: str) -> None:
        self._audit_anchor.emit(path)

    def export_audit(self, path: str, filters: dict[str, Any]) -> None:
        self._audit_export.emit(path, filters)

    # --- dialogs -------------------------------------------------------------------------

    def show_model_manager(self) -> Any:
        from osler.ui.model_manager import ModelManagerDialog

        if self.model_manager_dialog is None:
            self.model_manager_dialog = ModelManagerDialog(self, self.window)
        self.model_manager_dialog.show()
        self.model_manager_dialog.raise_()
        return self.model_manager_dialog

    def show_audit_viewer(self) -> Any:
        from osler.ui.audit_viewer import AuditViewer

        if self.audit_viewer is None:
            self.audit_viewer = AuditViewer(self, self.window)
        self.audit_viewer.show()
        self.audit_viewer.raise_()
        self.audit_viewer.refresh()
        return self.audit_viewer

    def show_selfcheck(self, first_run: bool = False) -> Any:
        from osler.ui.selfcheck_dialog import SelfCheckDialog

        if self.selfcheck_dialog is None:
            self.selfcheck_dialog = SelfCheckDialog(self, self.window, self.selfcheck_options,
                                                    first_run)
        self.selfcheck_dialog.show()
        self.selfcheck_dialog.raise_()
        return self.selfcheck_dialog


def attach_differential(window: QMainWindow, **options: Any) -> DifferentialController:
    """Give WINDOW its differential panel, model and audit threads, and their menus.

    Options are DifferentialController's (model, kb, semantic, audit_path,
    provider_factory, ask_passphrase, selfcheck_options, debounce_ms, top)."""
    controller = DifferentialController(window, **options)
    window.ddx = controller  # the window keeps it alive
    return controller


__all__ = ["AuditError", "DifferentialController", "attach_differential",
           "request_from_settings"]
