"""Presentation mode's look: large type and a high-contrast palette for a projector."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

POINT_SIZE = 18
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
