"""What the window remembers between runs (QSettings): layout, theme, recent file paths,
the clinician id and the model choice.

Only paths, layout and preferences are stored, never patient names or record content.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "Osler"
APPLICATION = "Osler"
MAX_RECENT = 10
THEMES = ("light", "dark")


class AppSettings:
    """Typed access to the app's QSettings; tests pass their own QSettings file."""

    def __init__(self, settings: QSettings | None = None):
        self.qsettings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)

    def reset(self) -> None:
        """Forget everything (window layout, theme, recent files)."""
        self.qsettings.clear()
        self.qsettings.sync()

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()

    # --- recent files -------------------------------------------------------

    def recent_files(self) -> list[Path]:
        """Recently opened records, newest first (paths only)."""
        value = self.qsettings.value("recent/files", [])
        if isinstance(value, str):  # QSettings returns a bare string for one-item lists
            value = [value]
        paths = [Path(v) for v in value or [] if isinstance(v, str) and v]
        return paths[:MAX_RECENT]

    def add_recent(self, path: Path) -> None:
        """Put a path first in the recent list (absolute, de-duplicated)."""
        path = Path(path).resolve()
        paths = [p for p in self.recent_files() if p != path]
        self.qsettings.setValue("recent/files", [str(p) for p in [path, *paths][:MAX_RECENT]])

    def clear_recent(self) -> None:
        """Forget the recent files list."""
        self.qsettings.remove("recent/files")

    def last_opened(self) -> Path | None:
        """The most recently opened record, if it still exists."""
        recent = self.recent_files()
        return recent[0] if recent and recent[0].exists() else None

    def last_directory(self) -> str:
        """Folder the Open dialog starts in."""
        value = self.qsettings.value("recent/directory", "")
        return value if isinstance(value, str) else ""

    def set_last_directory(self, folder: Path) -> None:
        self.qsettings.setValue("recent/directory", str(folder))

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
        """The model the user last loaded: source (shipped|kb|folder), folder, device,
        quantization, memory budget (GiB, text)."""
        keys = ("source", "folder", "device", "quantization", "memory_budget_gb")
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
