"""Every shortcut is bound once across the main and teaching windows, and the user guide's
shortcut table is the one the action registry generates."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QAction, QKeySequence

from osler.ui.actions import ACTIONS, shortcut_table
from tests.conftest import REPO


def _shortcuts(widget) -> list[tuple[str, str]]:
    out = []
    for action in widget.findChildren(QAction):
        for seq in action.shortcuts():
            key = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if key:
                out.append((key, action.text()))
    return out


def test_no_shortcut_is_bound_twice_across_the_main_and_teaching_windows(qtbot, window,
                                                                         clinical, tmp_path):
    from osler.teaching.library import CaseLibrary
    from osler.ui.teaching.window import TeachingWindow

    teaching = TeachingWindow(CaseLibrary.load(user=tmp_path / "my-cases"))
    qtbot.addWidget(teaching)
    pairs = _shortcuts(window) + _shortcuts(teaching)
    counts = Counter(k for k, _ in pairs)
    dupes = {k: sorted({t for kk, t in pairs if kk == k}) for k, n in counts.items() if n > 1}
    assert not dupes, f"shortcuts bound more than once: {dupes}"
    # the actions the windows show come from the registry
    names = {a.objectName() for a in window.findChildren(QAction)}
    assert {"openAction", "new_caseAction", "teachingAction", "audit_trailAction",
            "model_managerAction", "focus_presentationAction"} <= names


def test_registry_keys_are_unique_and_the_user_guide_table_matches(qapp):
    keys = [k for spec in ACTIONS.values() for k in spec.key_texts()]
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)
    guide = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")
    start = guide.index("<!-- shortcuts:begin -->") + len("<!-- shortcuts:begin -->")
    end = guide.index("<!-- shortcuts:end -->")
    assert guide[start:end].strip() == shortcut_table(), (
        "docs/user-guide.md shortcut table is stale: regenerate it with "
        "`python -m osler.ui.actions`")
