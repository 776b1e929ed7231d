"""Light and dark themes: a Fusion palette, a small stylesheet, and the timeline's colours."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from osler.ui.resources import ResourcesNotFound, style_path

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
KIND_COLOURS_LIGHT = {
    "encounter": "#0072B2", "condition": "#D55E00", "medication": "#009E73",
    "vital": "#CC79A7", "lab": "#B07800", "observation": "#3A8FC0", "procedure": "#6F6F2A",
    "note": "#5A5A5A", "report": "#8E5BA8", "immunization": "#2E8B57", "allergy": "#B8002E",
    "careplan": "#4D7F99", "imaging": "#7A5230", "family_history": "#7F7F7F",
    "device": "#5F6F7F", "order": "#8C6D3F",
}
KIND_COLOURS_DARK = {
    "encounter": "#56B4E9", "condition": "#F08A4B", "medication": "#3FCF9F",
    "vital": "#E49BC8", "lab": "#F0C040", "observation": "#7FC8F0", "procedure": "#C8C870",
    "note": "#B8B8B8", "report": "#C49BDB", "immunization": "#7ED3A0", "allergy": "#FF6B8B",
    "careplan": "#8FC1D9", "imaging": "#D0A070", "family_history": "#BDBDBD",
    "device": "#A8B8C8", "order": "#D8B880",
}


@dataclass(frozen=True)
class TimelineColours:
    """Colours the timeline paints with, per theme."""

    background: str
    lane_alt: str
    grid: str
    text: str
    muted: str
    abnormal: str
    selection: str
    match: str
    now: str
    future_overlay: str
    kinds: dict[str, str] = field(default_factory=dict)

    def kind(self, kind: str) -> QColor:
        """The colour of one event kind."""
        return QColor(self.kinds.get(kind, self.muted))


LIGHT = TimelineColours(
    background="#FFFFFF", lane_alt="#F4F6F8", grid="#D9DEE3", text="#1B1F23", muted="#6A737D",
    abnormal="#C4001A", selection="#0057D9", match="#FFB300", now="#7B1FA2",
    future_overlay="#C8FFFFFF", kinds=KIND_COLOURS_LIGHT,
)
DARK = TimelineColours(
    background="#1E1F22", lane_alt="#26282C", grid="#3A3D42", text="#E6E6E6", muted="#9AA0A6",
    abnormal="#FF5C6C", selection="#5CA8FF", match="#FFC940", now="#CE93D8",
    future_overlay="#C81E1F22", kinds=KIND_COLOURS_DARK,
)


def colours(theme: str) -> TimelineColours:
    """Timeline colours for 'light' or 'dark'."""
    return DARK if theme == "dark" else LIGHT


def system_theme() -> str:
    """'dark' when the desktop asks for a dark colour scheme, else 'light'."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None and scheme() == Qt.ColorScheme.Dark:
        return "dark"
    return "light"


def palette(theme: str) -> QPalette:
    """A complete Fusion palette for the theme (disabled text stays readable)."""
    p = QPalette()
    if theme == "dark":
        base, window, text, button = "#1E1F22", "#2B2D31", "#E6E6E6", "#33363B"
        highlight, link, tip = "#2F6FC9", "#7FB3FF", "#33363B"
        disabled = "#7D8289"
    else:
        base, window, text, button = "#FFFFFF", "#F2F3F5", "#1B1F23", "#E9EBEE"
        highlight, link, tip = "#0057D9", "#0645AD", "#FFFFE8"
        disabled = "#8A9097"
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: "#FFFFFF", QPalette.ColorRole.Link: link,
        QPalette.ColorRole.ToolTipBase: tip, QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled, QPalette.ColorRole.BrightText: "#FF5C6C",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


def apply_theme(app: QApplication, theme: str) -> None:
    """Switch the whole application to a theme: style, palette and stylesheet."""
    app.setStyle("Fusion")
    app.setPalette(palette(theme))
    try:
        sheet = style_path(theme).read_text(encoding="utf-8")
    except (OSError, ResourcesNotFound):
        sheet = ""  # the palette alone still gives a usable window
    app.setStyleSheet(sheet)
