"""The clinic server's strip above the differential: while a differential is being computed
on the server, 'Asking the clinic server…' with Cancel; while the server is not answering,
a banner saying the shipped model's differential is shown instead, with 'Try the server
again'. Drawing only: the controller decides (session/server_fallback.py holds the policy)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

FALLBACK_STYLE = ("QFrame#serverBanner { background: #FDE2E1; border: 1px solid #C4001A; } "
                  "QFrame#serverBanner QLabel { color: #5C0010; }")
BUSY_STYLE = ("QFrame#serverBanner { background: #E3ECFA; border: 1px solid #7E9CD8; } "
              "QFrame#serverBanner QLabel { color: #102A56; }")


class ServerBanner(QFrame):
    """Hidden unless the clinic server is being asked or is not answering."""

    retryRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("serverBanner")
        self.setAccessibleName("Clinic server status")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.text = QLabel("")
        self.text.setObjectName("serverBannerText")
        self.text.setAccessibleName("Clinic server status text")
        self.text.setWordWrap(True)
        layout.addWidget(self.text, 1)
        self.retry = QPushButton("&Try the server again")
        self.retry.setAccessibleName("Try the clinic server again")
        self.retry.clicked.connect(self.retryRequested)
        layout.addWidget(self.retry)
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName("Cancel the request to the clinic server")
        self.cancel.clicked.connect(self.cancelRequested)
        layout.addWidget(self.cancel)
        self.fallback_text = ""
        self.busy = False
        self.hide()

    @property
    def falling_back(self) -> bool:
        return bool(self.fallback_text)

    def set_fallback(self, text: str) -> None:
        """TEXT: why the shipped model is shown ('' when the server answers again)."""
        self.fallback_text = text
        self._draw()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._draw()

    def _draw(self) -> None:
        if self.fallback_text:
            self.setStyleSheet(FALLBACK_STYLE)
            self.text.setText("⚠ " + self.fallback_text)
        elif self.busy:
            self.setStyleSheet(BUSY_STYLE)
            self.text.setText("Asking the clinic server…")
        self.retry.setVisible(bool(self.fallback_text))
        self.cancel.setVisible(self.busy)
        self.setVisible(bool(self.fallback_text) or self.busy)
