"""File ▸ Recent files ▸ Remember recent files: the opt-in to keep the list between runs.

Off by default because record file names often name the patient and the settings file is
not encrypted (see osler.ui.settings).
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from osler.ui.settings import REMEMBER_RECENT_TEXT, AppSettings


def remember_recent_action(parent: QWidget, settings: AppSettings) -> QAction:
    """A checkable action bound to the setting; unticking erases the stored list."""
    action = QAction("Remember recent files between sessions", parent, checkable=True)
    action.setObjectName("rememberRecentAction")
    action.setToolTip(REMEMBER_RECENT_TEXT)
    action.setStatusTip(REMEMBER_RECENT_TEXT)
    action.setChecked(settings.remember_recent())
    action.toggled.connect(settings.set_remember_recent)
    return action


def forget_file_dialog_history(settings: AppSettings) -> None:
    """Qt's own (non-native) file dialog keeps the folders it visited in QtProject.conf,
    beside our settings and as unencrypted; folder names can name a patient. Unless the
    user opted in to remembering recent files, that history is removed after each dialog."""
    if settings.remember_recent():
        return
    from PySide6.QtCore import QSettings

    qt = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "QtProject")
    for key in ("FileDialog/history", "FileDialog/lastVisited", "FileDialog/qtVersion",
                "FileDialog/shortcuts", "FileDialog/sidebarWidth", "FileDialog/treeViewHeader",
                "FileDialog/viewMode"):
        qt.remove(key)
    qt.sync()
