"""What the window remembers between runs (QSettings): layout, theme, the clinician id, the
model choice and, only when the user opts in, the recent files.

The settings file is plain text. Record file names often name the patient (Synthea writes
"Abe604_Kulas532_<uuid>.json"), so the recent-files list lives in memory for the session
unless the user ticks "Remember recent files"; lists written by older versions are removed
at start. Never patient names or record content otherwise.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "Osler"
APPLICATION = "Osler"
MAX_RECENT = 10
RECENT_KEY = "recent/files"
DIRECTORY_KEY = "recent/directory"
REMEMBER_RECENT_KEY = "privacy/remember_recent_files"
REMEMBER_RECENT_TEXT = ("Remember recent files (file names, which may contain patient names, "
                        "are stored unencrypted in the settings file)")
THEMES = ("light", "dark")


class AppSettings:
    """Typed access to the app's QSettings; tests pass their own QSettings file."""

    def __init__(self, settings: QSettings | None = None):
        self.qsettings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self._session_recent: list[Path] = []
        self._session_directory = ""
        if not self.remember_recent():
            self._forget_stored_recent()  # written by a version that always kept them

    def reset(self) -> None:
        """Forget everything (window layout, theme, recent files)."""
        self.qsettings.clear()
        self.qsettings.sync()
        self._session_recent, self._session_directory = [], ""

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()

    # --- recent files -------------------------------------------------------

    def remember_recent(self) -> bool:
        """True when the user chose to keep recent files between runs (stored unencrypted)."""
        return str(self.qsettings.value(REMEMBER_RECENT_KEY, "")) == "1"

    def set_remember_recent(self, on: bool) -> None:
        """Opt in (the session's list is written from now on) or out (it is erased)."""
        if on:
            recent, folder = self.recent_files(), self.last_directory()
            self.qsettings.setValue(REMEMBER_RECENT_KEY, "1")
            self._write_recent(recent)
            if folder:
                self.qsettings.setValue(DIRECTORY_KEY, folder)
        else:
            self.qsettings.remove(REMEMBER_RECENT_KEY)
            self._forget_stored_recent()
        self.qsettings.sync()

    def recent_files(self) -> list[Path]:
        """Recently opened records, newest first (paths only)."""
        if not self.remember_recent():
            return self._session_recent[:MAX_RECENT]
        value = self.qsettings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a bare string for one-item lists
            value = [value]
        paths = [Path(v) for v in value or [] if isinstance(v, str) and v]
        return paths[:MAX_RECENT]

    def add_recent(self, path: Path) -> None:
        """Put a path first in the recent list (absolute, de-duplicated)."""
        path = Path(path).resolve()
        paths = [path, *(p for p in self.recent_files() if p != path)][:MAX_RECENT]
        self._session_recent = paths
        if self.remember_recent():
            self._write_recent(paths)

    def clear_recent(self) -> None:
        """Forget the recent files list."""
        self._session_recent = []
        self.qsettings.remove(RECENT_KEY)

    def _write_recent(self, paths: list[Path]) -> None:
        self.qsettings.setValue(RECENT_KEY, [str(p) for p in paths])

    def _forget_stored_recent(self) -> None:
        stored = [k for k in (RECENT_KEY, DIRECTORY_KEY) if self.qsettings.contains(k)]
        for key in stored:
            self.qsettings.remove(key)
        if stored:
            self.qsettings.sync()

    def last_opened(self) -> Path | None:
        """The most recently opened record, if it still exists."""
        recent = self.recent_files()
        return recent[0] if recent and recent[0].exists() else None

    def last_directory(self) -> str:
        """Folder the Open dialog starts in (a folder may be named after a patient too)."""
        if not self.remember_recent():
            return self._session_directory
        value = self.qsettings.value(DIRECTORY_KEY, "")
        return value if isinstance(value, str) else ""

    def set_last_directory(self, folder: Path) -> None:
        self._session_directory = str(folder)
        if self.remember_recent():
            self.qsettings.setValue(DIRECTORY_KEY, str(folder))

    # --- appearance ---------------------------------------------------------

    def theme(self) -> str | None:
        """'light' or 'dark' when the user chose one, else None (follow the system)."""
        value = self.qsettings.value("appearance/theme", "")
        return value if value in THEMES else None

    def set_theme(self, theme: str) -> None:
        self.qsettings.setValue("appearance/theme", theme)

    # --- window layout ------------------------------------------------------

    def blob(self, key: str) -> QByteArray | None:
        """A saved geometry/state blob (window, splitters), or None."""
        value = self.qsettings.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"window/{key}", value)

    def hidden_kinds(self) -> set[str]:
        """Timeline lanes the user switched off."""
        value = self.qsettings.value("timeline/hidden_kinds", [])
        if isinstance(value, str):
            value = [value]
        return {v for v in value or [] if isinstance(v, str)}

    def set_hidden_kinds(self, kinds: set[str]) -> None:
        self.qsettings.setValue("timeline/hidden_kinds", sorted(kinds))

    # --- clinician, model, first run ----------------------------------------

    def clinician_id(self) -> str | None:
        """The id overrides are recorded under (not patient data); None until chosen."""
        value = self.qsettings.value("audit/clinician_id", "")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def set_clinician_id(self, clinician_id: str) -> None:
        self.qsettings.setValue("audit/clinician_id", clinician_id.strip())

    def model_choice(self) -> dict[str, str]:
        """The model the user last loaded: source (shipped|kb|folder|server), folder, device,
        quantization, memory budget (GiB, text); for a clinic server its URL, served model,
        CA bundle and plain-HTTP permission (never its API key: that is in the key store)."""
        keys = ("source", "folder", "device", "quantization", "memory_budget_gb",
                "server_url", "server_model", "ca_bundle", "allow_http")
        out = {}
        for key in keys:
            value = self.qsettings.value(f"model/{key}", "")
            if isinstance(value, str) and value:
                out[key] = value
        return out

    def set_model_choice(self, choice: dict[str, str]) -> None:
        for key, value in choice.items():
            self.qsettings.setValue(f"model/{key}", value)

    def selfcheck_done(self) -> bool:
        """True once the first-run self-check has been shown."""
        return str(self.qsettings.value("firstrun/selfcheck_done", "")) == "1"

    def set_selfcheck_done(self) -> None:
        self.qsettings.setValue("firstrun/selfcheck_done", "1")
