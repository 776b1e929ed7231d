"""The model manager's 'Clinic server' fields: URL, served model, clinic CA bundle, the
explicit plain-HTTP permission with its risk stated, and this workstation's API key (stored
in the OS keyring or the passphrase-protected file by `store_key`, never in settings)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from osler.reasoning.server.config import PLAIN_HTTP_RISK, ServerURL, parse_server_url


class ServerForm(QWidget):
    """Fields only; the dialog checks them (`url`) and stores the key (`store_key`)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(18, 0, 0, 0)
        self.url = QLineEdit()
        self.url.setAccessibleName("Clinic server URL")
        self.url.setPlaceholderText("https://gpu.clinic.lan:8443")
        form.addRow("Server &URL:", self.url)
        self.model = QLineEdit()
        self.model.setAccessibleName("Served model name (optional)")
        self.model.setPlaceholderText("the one the server lists first")
        form.addRow("Served &model:", self.model)
        row = QHBoxLayout()
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setAccessibleName("Clinic CA bundle file")
        self.ca_bundle.setPlaceholderText("system certificates")
        self.ca_browse = QPushButton("Choose…")
        self.ca_browse.setAccessibleName("Choose the clinic CA bundle")
        self.ca_browse.clicked.connect(self._choose_ca)
        row.addWidget(self.ca_bundle, 1)
        row.addWidget(self.ca_browse)
        form.addRow("Clinic &CA bundle:", row)
        self.api_key = QLineEdit()
        self.api_key.setAccessibleName("API key for this workstation")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("leave empty to use the stored key")
        form.addRow("API &key:", self.api_key)
        self.allow_http = QCheckBox("Allow plain &HTTP to another machine")
        self.allow_http.setAccessibleName("Allow plain HTTP to another machine")
        form.addRow("", self.allow_http)
        self.risk = QLabel(f"Risk: {PLAIN_HTTP_RISK}.")
        self.risk.setObjectName("plainHttpRisk")
        self.risk.setWordWrap(True)
        self.risk.setStyleSheet("color: #C4001A;")
        form.addRow("", self.risk)
        self.allow_http.toggled.connect(lambda _on: self._update())
        self.url.textChanged.connect(lambda _t: self._update())
        self._update()

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Clinic CA bundle", self.ca_bundle.text(),
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_bundle.setText(path)

    def _update(self) -> None:
        text = self.url.text().strip().lower()
        remote_http = text.startswith("http://") and not any(
            h in text for h in ("//127.", "//localhost", "//[::1]"))
        self.risk.setVisible(remote_http)

    def set_enabled(self, on: bool) -> None:
        for w in (self.url, self.model, self.ca_bundle, self.ca_browse, self.api_key,
                  self.allow_http):
            w.setEnabled(on)

    def checked_url(self) -> ServerURL:
        """The URL as Osler will use it (ServerConfigError says what is wrong)."""
        return parse_server_url(self.url.text(), self.allow_http.isChecked())

    def store_key(self, ask) -> tuple[str | None, str | None]:
        """Store a typed API key for the server (keyring, else passphrase-protected file):
        (the key, where it went), or (None, None) when no key was typed. The field is
        cleared either way."""
        key = self.api_key.text().strip()
        self.api_key.clear()
        if not key:
            return None, None
        from osler.reasoning.server.config import ServerConfig
        from osler.server_keys import ServerKeyStore

        url = self.checked_url()
        ServerConfig.build(url.origin, key, allow_plain_http=True)  # the key's form
        return key, ServerKeyStore(ask=ask).set(url.origin, key)
