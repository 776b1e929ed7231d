"""Every window action defined once: text, shortcuts, tip and icon, by key.

Windows build their QActions from this table with `make_action(parent, key, handler)`, so
a shortcut can be bound only once (tests/ui/test_actions.py fails on any duplicate across
the main and teaching windows) and the user guide's shortcut table is checked against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QIcon, QKeySequence

StandardKey = QKeySequence.StandardKey


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: where it lives, what it says, its keys."""

    key: str
    window: str  # "main" or "teaching"
    text: str
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = ()
    tip: str = ""
    icon: str | None = None
    checkable: bool = False

    def key_texts(self) -> list[str]:
        """The shortcuts as portable text ('Ctrl+O'), standard keys resolved."""
        out: list[str] = []
        for s in self.shortcuts:
            seqs = QKeySequence.keyBindings(s) if isinstance(s, StandardKey) \
                else [QKeySequence(s)]
            out += [q.toString(QKeySequence.SequenceFormat.PortableText) for q in seqs]
        # Dedicated keyboard keys ('Open', 'Find') are not worth a row in the docs.
        return [t for t in out if t and (len(t) == 1 or "+" in t or (t[0] == "F"
                                         and t[1:].isdigit()))]


_SPECS = (
    # File
    ActionSpec("open", "main", "&Open…", (StandardKey.Open,),
               "Open a FHIR R4 Bundle, NDJSON file or resource", "open"),
    ActionSpec("open_folder", "main", "Open &folder…", ("Ctrl+Shift+O",),
               "Open a folder of FHIR NDJSON files (a Bulk Data export)"),
    ActionSpec("new_case", "main", "&New case from presentation…", ("Ctrl+N",),
               "Type or paste a presentation and see its differential; no record needed",
               "new-case"),
    ActionSpec("demo", "main", "Open &demo patient", (), "Open the fictional demo patient",
               "demo"),
    ActionSpec("teaching", "main", "&Teaching mode…", ("Ctrl+Shift+C",),
               "Case library, teaching sessions, presentation mode"),
    ActionSpec("quit", "main", "&Quit", (StandardKey.Quit,), "Quit Osler"),
    # View
    ActionSpec("zoom_in", "main", "Zoom &in", ("+", "=", "Ctrl++"),
               "Zoom in on the timeline, centred on 'now' (+, wheel)", "zoom-in"),
    ActionSpec("zoom_out", "main", "Zoom &out", ("-", "Ctrl+-"), "Zoom out (-, wheel)",
               "zoom-out"),
    ActionSpec("fit", "main", "&Fit whole record", ("0", "Ctrl+0"),
               "Show the whole record (0)", "zoom-fit"),
    ActionSpec("episode", "main", "Current &episode", ("E",),
               "Show the encounter at 'now', or the last one (E)"),
    ActionSpec("find", "main", "&Find…", (StandardKey.Find,),
               "Search the timeline (Ctrl+F)", "search"),
    ActionSpec("find_next", "main", "Find &next", (StandardKey.FindNext,)),
    ActionSpec("find_previous", "main", "Find &previous", (StandardKey.FindPrevious,)),
    ActionSpec("set_now", "main", "Set '&now'…", ("Ctrl+T",),
               "Set the time the model sees the record up to", "now"),
    ActionSpec("clear_now", "main", "&Clear 'now' (whole record)", ("Ctrl+Shift+T",)),
    # Tools (the differential)
    ActionSpec("focus_differential", "main", "Go to the &differential", ("Ctrl+Shift+D",),
               "Move the keyboard focus to the list of diagnoses"),
    ActionSpec("focus_rare", "main", "Go to &rare diseases to consider", ("Ctrl+Shift+R",),
               "Open the rare-disease suggestions (phenotype similarity, not probability) "
               "and move the keyboard focus to them"),
    ActionSpec("focus_presentation", "main", "Go to the &presentation", ("Ctrl+Shift+P",),
               "Type or paste the presentation (adds to the record at 'now')"),
    ActionSpec("model_manager", "main", "&Model manager…", ("Ctrl+Shift+M",),
               "Choose the model, device and quantization"),
    ActionSpec("audit_trail", "main", "&Audit trail…", ("Ctrl+Shift+L",),
               "Recorded overrides; verify, anchor, export"),
    ActionSpec("clinician_id", "main", "&Clinician id…", (),
               "The id your overrides are recorded under"),
    ActionSpec("rationale", "main", "&Write rationale again", (),
               "Ask the local language model for its cited rationale again"),
    # Help
    ActionSpec("selfcheck", "main", "&Self-check…", (),
               "Keyring, GPU, model checksums, offline"),
    ActionSpec("about", "main", "&About Osler", (), "Intended use, data sources and terms"),
    ActionSpec("import_warnings", "main", "Import &warnings…", (),
               "What the import skipped or could not read"),
    ActionSpec("clear_recent", "main", "Clear recent files"),
    # Teaching window
    ActionSpec("library", "teaching", "Case &library", ("Ctrl+L",), "Back to the case library"),
    ActionSpec("import_case", "teaching", "&Import case…", ("Ctrl+I",),
               "Add a FHIR record (and its case file) to your cases"),
    ActionSpec("export_html", "teaching", "Export summary as &HTML…", ("Ctrl+E",),
               "Write the session summary (no patient identifiers) as HTML"),
    ActionSpec("export_pdf", "teaching", "Export summary as &PDF…", ("Ctrl+Shift+E",),
               "Write the session summary (no patient identifiers) as PDF"),
    ActionSpec("close_teaching", "teaching", "&Close", (StandardKey.Close,)),
    ActionSpec("presentation_mode", "teaching", "&Presentation mode", ("F5",),
               "Large type, high contrast, no identifiers (F5)", checkable=True),
)
ACTIONS: dict[str, ActionSpec] = {s.key: s for s in _SPECS}


def make_action(parent: Any, key: str, handler: Callable[[], Any] | None = None,
                icon: Callable[[str], QIcon] | None = None) -> QAction:
    """The QAction for ACTIONS[key], parented to PARENT and calling HANDLER."""
    spec = ACTIONS[key]
    action = QAction(spec.text, parent)
    action.setObjectName(f"{key}Action")
    action.setCheckable(spec.checkable)
    if spec.icon and icon is not None:
        action.setIcon(icon(spec.icon))
    keys: list[QKeySequence] = []
    for s in spec.shortcuts:
        keys += QKeySequence.keyBindings(s) if isinstance(s, StandardKey) else [QKeySequence(s)]
    if keys:
        action.setShortcuts(keys)
    if spec.tip:
        action.setToolTip(spec.tip)
        action.setStatusTip(spec.tip)
    if handler is not None:
        action.triggered.connect(lambda _checked=False: handler())
    return action


def shortcut_table() -> str:
    """The user guide's shortcut table (docs/user-guide.md holds it between markers;
    tests/ui/test_actions.py fails when the two differ). Regenerate with
    `python -m osler.ui.actions`."""
    rows = ["| keys | action | window |", "|---|---|---|"]
    for spec in _SPECS:
        keys = spec.key_texts()
        if keys:
            name = spec.text.replace("&", "").rstrip("…")
            rows.append(f"| {' / '.join(keys)} | {name} | {spec.window} |")
    return "\n".join(rows)


if __name__ == "__main__":
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication([])  # standard keys are resolved by the platform
    print(shortcut_table())
