"""Tools ▸ Model manager: choose the shipped model, the knowledge base's own posterior, a
local model folder or the clinic's LLM server; device, quantization and memory budget; load
with progress and cancel.

The dialog only asks; the controller's model thread loads. A failed or cancelled load
leaves the previous model in use, and the dialog says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from osler.ui.model_worker import LoadedModel, ModelRequest, model_folder_kind
from osler.ui.server_form import ServerForm

DEVICES = ("auto", "cpu", "cuda")
QUANTIZATIONS = ("auto", "none", "int8", "nf4")


def describe_model(loaded: LoadedModel | None) -> str:
    """The loaded model's identity and footprint, one fact per line (rich text)."""
    if loaded is None:
        return "<i>No model loaded yet.</i>"
    m = loaded.info
    memory = f"{m.memory_bytes / 2**20:,.1f} MiB" if m.memory_bytes else "—"
    kind = {"shipped": "Osler model", "baseline": "knowledge-base posterior (no model)",
            "llm": "local language model", "server": "language model on the clinic server"
            }.get(m.kind, m.kind)
    rows = [("Model", f"{m.id} {m.version}"), ("Kind", kind), ("Device", m.device),
            ("Quantization", m.quantization), ("Memory", memory),
            ("Load time", f"{loaded.seconds:.2f} s"),
            ("Checksum", (m.sha256[:16] + "…") if m.sha256 else "—")]
    extra = dict(m.extra)
    if m.kind == "server":
        rows += [("Server", extra.get("server", m.path)), ("Weights", extra.get("weights", "—")),
                 ("Log-probabilities", extra.get("logprobs", "—")),
                 ("Response fingerprint", extra.get("probe", "—"))]
    elif m.path:
        rows.append(("Folder", m.path))
    text = "".join(f"<tr><td><b>{k}</b>&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
    warn = "".join(f"<p style='color:#B06000'>⚠ {w}</p>" for w in loaded.warnings)
    return f"<table>{text}</table>{warn}"


class ModelManagerDialog(QDialog):
    """Non-modal: loading can take minutes for a large LLM; the window stays usable."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Model manager")
        self.setAccessibleName("Model manager")
        self.setObjectName("modelManager")
        self.resize(620, 560)
        self._loading = False
        layout = QVBoxLayout(self)

        source = QGroupBox("Model")
        s_layout = QVBoxLayout(source)
        self.shipped = QRadioButton("&Shipped model (models/osler-ddx)")
        self.kb_only = QRadioButton("&Knowledge base's own posterior (no model)")
        self.folder_choice = QRadioButton("&Local model folder (an Osler model, or a Hugging "
                                          "Face causal language model)")
        self.server_choice = QRadioButton("Clinic &server (llama.cpp or vLLM on the clinic "
                                          "network; the shipped model if it stops answering)")
        self.group = QButtonGroup(self)
        for i, b in enumerate((self.shipped, self.kb_only, self.folder_choice)):
            self.group.addButton(b, i)
            s_layout.addWidget(b)
        self.group.addButton(self.server_choice, 3)
        row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Model folder")
        self.folder.setPlaceholderText("/path/to/model folder")
        self.browse = QPushButton("&Browse…")
        self.browse.setAccessibleName("Choose a model folder")
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        s_layout.addLayout(row)
        self.folder_kind = QLabel("")
        self.folder_kind.setWordWrap(True)
        s_layout.addWidget(self.folder_kind)
        s_layout.addWidget(self.server_choice)
        self.server = ServerForm()
        s_layout.addWidget(self.server)
        layout.addWidget(source)

        options = QGroupBox("Runtime")
        form = QFormLayout(options)
        self.device = QComboBox()
        self.device.setAccessibleName("Device")
        for d in DEVICES:
            self.device.addItem(d, d)
        form.addRow("&Device:", self.device)
        self.quantization = QComboBox()
        self.quantization.setAccessibleName("Quantization")
        for q in QUANTIZATIONS:
            self.quantization.addItem(q, q)
        self.quantization.setToolTip("auto: none for the shipped model; nf4 for a language "
                                     "model on a GPU. int8/nf4 need bitsandbytes.")
        form.addRow("&Quantization:", self.quantization)
        self.budget = QDoubleSpinBox()
        self.budget.setAccessibleName("GPU memory budget in GiB for language models")
        self.budget.setRange(0.0, 1024.0)
        self.budget.setDecimals(1)
        self.budget.setSpecialValueText("automatic (90% of free GPU memory)")
        self.budget.setSuffix(" GiB")
        form.addRow("GPU memory &budget:", self.budget)
        layout.addWidget(options)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model loading progress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.progress_text = QLabel("")
        self.progress_text.setAccessibleName("Model loading stage")
        layout.addWidget(self.progress_text)
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("&Load")
        self.load_button.setDefault(True)
        self.cancel_button = QPushButton("&Cancel loading")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        current = QGroupBox("In use")
        c_layout = QVBoxLayout(current)
        self.current = QLabel(describe_model(controller.loaded_model))
        self.current.setObjectName("modelInUse")
        self.current.setAccessibleName("Model in use")
        self.current.setTextFormat(Qt.TextFormat.RichText)
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.current.setWordWrap(True)
        c_layout.addWidget(self.current)
        layout.addWidget(current, 1)

        self._restore(controller.model_request)
        self.group.idToggled.connect(lambda _i, _on: self._update())
        self.folder.textChanged.connect(lambda _t: self._update())
        self.browse.clicked.connect(self.choose_folder)
        self.load_button.clicked.connect(self.load)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        controller.loadProgress.connect(self._progress)
        controller.modelLoaded.connect(self._loaded)
        controller.modelFailed.connect(self._failed)
        controller.modelCancelled.connect(self._cancelled)
        controller.hardwareKnown.connect(self.set_hardware)
        if controller.hardware is not None:
            self.set_hardware(controller.hardware)
        else:
            controller.probe_hardware()
        self._update()

    def _restore(self, request: ModelRequest) -> None:
        {"shipped": self.shipped, "kb": self.kb_only, "folder": self.folder_choice,
         "server": self.server_choice}.get(request.source, self.shipped).setChecked(True)
        self.folder.setText(request.folder or "")
        self.server.url.setText(request.server_url or "")
        self.server.model.setText(request.server_model or "")
        self.server.ca_bundle.setText(request.ca_bundle or "")
        self.server.allow_http.setChecked(request.allow_http)
        self.device.setCurrentIndex(max(0, self.device.findData(request.device)))
        self.quantization.setCurrentIndex(max(0, self.quantization.findData(
            request.quantization)))
        self.budget.setValue(request.memory_budget_gb or 0.0)

    def set_hardware(self, report: object) -> None:
        """Disable 'cuda' (with the reason) when torch sees no GPU."""
        item = self.device.model().item(self.device.findData("cuda"))
        cuda = getattr(report, "cuda_available", False)
        item.setEnabled(bool(cuda))
        if cuda:
            names = ", ".join(d.name for d in getattr(report, "devices", ()))
            item.setToolTip(f"GPU: {names}")
            self.device.setToolTip(f"GPU available: {names}")
        else:
            why = report if isinstance(report, str) else "torch sees no CUDA GPU on this " \
                                                         "machine"
            item.setToolTip(f"Unavailable: {why}")
            self.device.setToolTip(f"cuda is unavailable: {why}")
            if self.device.currentData() == "cuda":
                self.device.setCurrentIndex(self.device.findData("auto"))

    def request(self) -> ModelRequest:
        if self.server_choice.isChecked():
            f = self.server
            return ModelRequest("server", server_url=f.url.text().strip() or None,
                                server_model=f.model.text().strip() or None,
                                ca_bundle=f.ca_bundle.text().strip() or None,
                                allow_http=f.allow_http.isChecked())
        source = ("kb" if self.kb_only.isChecked() else
                  "folder" if self.folder_choice.isChecked() else "shipped")
        budget = self.budget.value() or None
        return ModelRequest(source, self.folder.text().strip() or None,
                            str(self.device.currentData()), str(self.quantization.currentData()),
                            budget)

    def _update(self) -> None:
        folder_on = self.folder_choice.isChecked()
        self.folder.setEnabled(folder_on and not self._loading)
        self.browse.setEnabled(folder_on and not self._loading)
        text = self.folder.text().strip()
        kind = model_folder_kind(text) if folder_on and text else ""
        self.folder_kind.setText({
            "osler": "An Osler model folder (osler.json): checked against SHA256SUMS.",
            "llm": "A Hugging Face model folder (config.json): loaded as a local language "
                   "model that re-ranks the differential and writes a cited rationale.",
            "unknown": "This folder has neither osler.json nor config.json: not a model."}
            .get(kind, ""))
        self.budget.setEnabled(not self._loading and (not folder_on or kind != "osler")
                               and not self.server_choice.isChecked())
        for w in (self.shipped, self.kb_only, self.folder_choice, self.server_choice,
                  self.device, self.quantization, self.load_button):
            w.setEnabled(not self._loading)
        server_on = self.server_choice.isChecked()
        self.server.set_enabled(server_on and not self._loading)
        self.device.setEnabled(not self._loading and not server_on)
        self.quantization.setEnabled(not self._loading and not server_on)
        self.cancel_button.setEnabled(self._loading)

    def choose_folder(self) -> None:
        start = self.folder.text() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Choose a model folder", start)
        if path:
            self.folder.setText(path)
            self.folder_choice.setChecked(True)

    def load(self) -> None:
        """Ask the model thread to load the chosen model; the current one stays until then."""
        request = self.request()
        if request.source == "folder" and not request.folder:
            QMessageBox.warning(self, "No folder", "Choose a model folder first.")
            return
        if request.source == "server":
            request = self._server_request(request)
            if request is None:
                return
        self._loading = True
        self.progress.setValue(0)
        self.progress.show()
        self.progress_text.setText(f"Loading {request.describe()}…")
        self._update()
        self.controller.load_model(request)

    def _server_request(self, request: ModelRequest) -> ModelRequest | None:
        """Check the URL (plain HTTP to another machine only when allowed, with the risk
        said) and store a typed API key; None when the user must fix something first."""
        from dataclasses import replace

        from osler.reasoning.server.errors import ServerConfigError
        from osler.server_keys import ServerKeyError

        try:
            self.server.checked_url()
            key, where = self.server.store_key(self.controller.ask_passphrase)
        except (ServerConfigError, ServerKeyError) as exc:
            QMessageBox.warning(self, "Clinic server", f"{exc}\n\nThe current model stays "
                                "in use.")
            return None
        if where:
            self.progress_text.setText(f"API key stored in {where}.")
        return replace(request, api_key=key) if key else request

    def cancel(self) -> None:
        self.progress_text.setText("Cancelling…")
        self.controller.cancel_load()

    def _progress(self, message: str, fraction: float) -> None:
        if not self._loading:
            return
        self.progress_text.setText(message)
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 100))

    def _done(self, text: str) -> None:
        self._loading = False
        self.progress.hide()
        self.progress_text.setText(text)
        self._update()

    def _loaded(self, loaded: LoadedModel) -> None:
        self.current.setText(describe_model(loaded))
        if not self._loading:
            return
        self._done(f"Loaded {loaded.info.id} {loaded.info.version} in {loaded.seconds:.2f} s.")

    def _failed(self, message: str) -> None:
        if not self._loading:
            return
        self.current.setText(describe_model(self.controller.loaded_model))
        self._done("Loading failed; the previous model stays in use.")
        QMessageBox.warning(self, "Could not load the model",
                            f"{message}\n\nThe previous model stays in use.")

    def _cancelled(self) -> None:
        if not self._loading:
            return
        self._done("Loading cancelled; the previous model stays in use.")
