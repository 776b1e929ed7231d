"""FHIR import off the UI thread: the work a window's import task does (ui/tasks.py).

The UI thread never parses. Cancel is cooperative: the importer checks the task's token
between resources and the layout between patients, so a cancelled import stops within a
few hundred resources and frees its memory; nothing is interrupted from outside."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from osler.cancel import NEVER, CancelToken
from osler.fhir import ImportResult, import_path
from osler.ui.timeline_layout import TimelineLayout, build_layout


@dataclass(slots=True)
class LoadedRecord:
    """An import plus a ready-to-draw layout per patient, and how long it took."""

    path: Path
    result: ImportResult
    layouts: dict[str, TimelineLayout] = field(default_factory=dict)
    seconds: float = 0.0


def load_record(path: Path, cancel: CancelToken = NEVER,
                patient_id: str | None = None) -> LoadedRecord:
    """Import and lay out a record (callable without Qt threads); of a large input only
    `patient_id`'s events (the first patient's if None) are loaded."""
    started = time.perf_counter()
    result = import_path(path, cancel, patient_id)
    layouts = {}
    for t in result.timelines:
        cancel.check()
        layouts[t.patient.id] = build_layout(t)
    return LoadedRecord(Path(path), result, layouts, time.perf_counter() - started)
