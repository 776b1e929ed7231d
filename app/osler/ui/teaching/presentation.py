"""Presentation mode's look: large type and a high-contrast palette for a projector."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

POINT_SIZE = 18
SMALL_TEXT = 0.85  # the timeline's axis and event labels, relative to its font
BACKGROUND, TEXT, ACCENT, FRAME = "#000000", "#FFFFFF", "#FFD400", "#1A1A1A"
STYLE = f"""
QWidget {{ font-size: {POINT_SIZE}pt; color: {TEXT}; background-color: {BACKGROUND}; }}
QPushButton, QToolButton {{ background: {FRAME}; color: {TEXT}; border: 2px solid {TEXT};
  padding: 6px 14px; }}
QPushButton:disabled, QToolButton:disabled {{ color: #9A9A9A; border-color: #9A9A9A; }}
QPushButton:focus, QToolButton:focus {{ border-color: {ACCENT}; }}
QLineEdit, QComboBox, QListWidget, QTableWidget, QTextBrowser, QPlainTextEdit {{
  background: {BACKGROUND}; color: {TEXT}; border: 2px solid {TEXT}; }}
QHeaderView::section {{ background: {FRAME}; color: {TEXT}; border: 1px solid {TEXT}; }}
QTableWidget::item:selected, QListWidget::item:selected {{ background: {ACCENT};
  color: {BACKGROUND}; }}
QMenuBar, QMenu, QToolBar, QStatusBar {{ background: {FRAME}; color: {TEXT}; }}
QMenu::item:selected, QMenuBar::item:selected {{ background: {ACCENT}; color: {BACKGROUND}; }}
QLabel#teachingNotice {{ color: {ACCENT}; }}
"""


def palette() -> QPalette:
    """Black, white and yellow: a contrast ratio of 21:1 for text."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BACKGROUND, QPalette.ColorRole.AlternateBase: FRAME,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: FRAME,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: BACKGROUND, QPalette.ColorRole.ToolTipBase: FRAME,
        QPalette.ColorRole.ToolTipText: TEXT, QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: "#BDBDBD", QPalette.ColorRole.BrightText: ACCENT,
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    return p


def apply_presentation(widget: QWidget, on: bool) -> None:
    """Switch a window (and everything in it) to or from presentation mode."""
    if on:
        widget.setPalette(palette())
        widget.setStyleSheet(STYLE)
    else:
        widget.setStyleSheet("")
        widget.setPalette(QApplication.palette())


def refresh_timeline_fonts(view: QWidget) -> None:
    """Make a TimelineView take its font from the style sheet now (it derives its painting
    fonts on the font change that follows)."""
    view.ensurePolished()
    view.update()


class ScreenFit:
    """Presentation mode fills the screen the window is on and gives the old geometry back."""

    def __init__(self, window: QMainWindow):
        self.window = window
        self.saved: QByteArray | None = None
        self.was_maximized = False

    def enter(self) -> None:
        if self.saved is None:
            self.saved = self.window.saveGeometry()
            self.was_maximized = self.window.isMaximized()
        screen = self.window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        self.window.setGeometry(client_area(self.window, screen.availableGeometry()))

    def leave(self) -> None:
        if self.saved is None:
            return
        saved, self.saved = self.saved, None
        self.window.restoreGeometry(saved)
        if self.was_maximized:
            self.window.showMaximized()


def client_area(window: QWidget, area: QRect) -> QRect:
    """AREA less the window frame, so that the frame too stays on the screen."""
    frame, inner = window.frameGeometry(), window.geometry()
    left, top = inner.left() - frame.left(), inner.top() - frame.top()
    right, bottom = frame.right() - inner.right(), frame.bottom() - inner.bottom()
    return area.adjusted(left, top, -right, -bottom)
