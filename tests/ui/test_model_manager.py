"""Model manager: bad folders are messages and the previous model stays; cancel; a local LLM
streams its rationale; the self-check dialog runs the same checks as `osler selfcheck`."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QDialogButtonBox

from osler.audit import keyring_status
from osler.ui.model_manager import describe_model
from osler.ui.model_worker import ModelRequest
from osler.ui.resources import demo_case
from tests.ui.conftest import answer_modal, attach, shown


@pytest.fixture
def demo(qtbot, clinical):
    shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    return clinical


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory) -> Path:
    from tests.reasoning.llm_fixtures import build_tiny_llm

    return build_tiny_llm(tmp_path_factory.mktemp("llm") / "tiny-llama")


def fake_osler_folder(root: Path) -> Path:
    """An Osler model folder whose weights do not match SHA256SUMS (as if tampered with)."""
    from osler.knowledge.pack import default_kb
    from osler.reasoning.service import kb_fingerprint

    root.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (root / name).write_text("{}", encoding="utf-8")
    meta = {"id": "osler-ddx", "version": "9.9.9", "temperature": 1.0, "prior_exponent": 0.5,
            "labels": [], "kb": kb_fingerprint(default_kb())}
    (root / "osler.json").write_text(json.dumps(meta), encoding="utf-8")
    (root / "model.safetensors").write_bytes(b"\0" * 64)
    sums = {n: hashlib.sha256((root / n).read_bytes()).hexdigest()
            for n in ("config.json", "tokenizer.json", "osler.json")}
    sums["model.safetensors"] = "0" * 64
    (root / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()),
                                     encoding="utf-8")
    return root


def load_and_wait(qtbot, manager, controller, folder: Path, signal):
    manager.folder_choice.setChecked(True)
    manager.folder.setText(str(folder))
    with qtbot.waitSignal(signal, timeout=60_000):
        qtbot.mouseClick(manager.load_button, Qt.MouseButton.LeftButton)


def test_bad_folders_are_messages_and_the_previous_model_stays(
        qtbot, demo, messages, tmp_path):
    before = demo.loaded_model
    manager = demo.show_model_manager()
    assert "naive-bayes" in manager.current.text()

    not_a_model = tmp_path / "photos"
    not_a_model.mkdir()
    (not_a_model / "cat.jpg").write_bytes(b"\xff\xd8")
    load_and_wait(qtbot, manager, demo, not_a_model, demo.modelFailed)
    assert "neither osler.json nor config.json" in manager.folder_kind.text()
    title, text = messages[-1]
    assert title == "Could not load the model"
    assert str(not_a_model) in text and "osler.json" in text
    assert "previous model stays in use" in text

    tampered = fake_osler_folder(tmp_path / "tampered")
    load_and_wait(qtbot, manager, demo, tampered, demo.modelFailed)
    assert "checksum mismatch" in messages[-1][1] and "model.safetensors" in messages[-1][1]

    bad_llm = tmp_path / "bad-llm"
    bad_llm.mkdir()
    (bad_llm / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    load_and_wait(qtbot, manager, demo, bad_llm, demo.modelFailed)
    assert "not a causal language model" in messages[-1][1]

    assert demo.loaded_model is before, "a failed load replaced the model in use"
    assert "Loading failed" in manager.progress_text.text()
    result = shown(qtbot, demo, lambda: demo.toggle_finding("raised-d-dimer"))
    assert result.differential.model.id == before.info.id


def test_cuda_is_offered_only_when_torch_sees_a_gpu(qtbot, demo):
    manager = demo.show_model_manager()
    qtbot.waitUntil(lambda: demo.hardware is not None, timeout=60_000)
    cuda = manager.device.model().item(manager.device.findData("cuda"))
    assert cuda.isEnabled() == bool(getattr(demo.hardware, "cuda_available", False))
    if not cuda.isEnabled():
        assert "Unavailable" in cuda.toolTip()


def test_cancel_keeps_the_previous_model(qtbot, demo, tiny_llm):
    before = demo.loaded_model
    manager = demo.show_model_manager()
    manager.folder_choice.setChecked(True)
    manager.folder.setText(str(tiny_llm))
    assert "language model" in manager.folder_kind.text()
    with qtbot.waitSignal(demo.modelCancelled, timeout=60_000):
        qtbot.mouseClick(manager.load_button, Qt.MouseButton.LeftButton)
        assert manager.cancel_button.isEnabled() and not manager.load_button.isEnabled()
        qtbot.mouseClick(manager.cancel_button, Qt.MouseButton.LeftButton)
    assert demo.loaded_model is before
    assert "cancelled" in manager.progress_text.text()
    assert manager.load_button.isEnabled()


def short_record(path: Path) -> Path:
    """One note, two findings: keeps the tiny LLM's prompt (and this test) short."""
    from osler.fhir.builder import BundleBuilder

    b = BundleBuilder("tiny-llm-case")
    b.patient("Lena", "Short", "female", "1980-01-01")
    b.note("2024-03-01T09:20:00+00:00", "Cough and fever for three days.", title="Clinic note")
    path.write_text(json.dumps(b.bundle()), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_local_llm_loads_and_streams_a_cited_rationale(qtbot, clinical, tiny_llm, tmp_path):
    shown(qtbot, clinical, lambda: clinical.window.open_path(short_record(tmp_path / "r.json")))
    manager = clinical.show_model_manager()
    manager.quantization.setCurrentIndex(manager.quantization.findData("none"))
    tokens: list[str] = []
    clinical.worker.token.connect(lambda _seq, text: tokens.append(text))
    with qtbot.waitSignal(clinical.differentialShown, timeout=180_000) as blocker:
        load_and_wait(qtbot, manager, clinical, tiny_llm, clinical.modelLoaded)
    loaded = clinical.loaded_model
    assert loaded.is_llm and loaded.info.kind == "llm"
    assert "local language model" in describe_model(loaded)
    assert loaded.info.memory_bytes > 0 and "MiB" in manager.current.text()
    result = blocker.args[0]
    doc = result.differential.rationale
    assert doc is not None and "citations_dropped" in doc
    assert tokens and "".join(tokens).startswith('{"diagnoses": [')
    panel = clinical.panel
    assert panel.tabs.isTabEnabled(panel.rationale_tab)
    assert "dropped as invalid" in panel.rationale.toPlainText()
    cited = [c for d in doc["diagnoses"] for c in d["citations"]]
    assert doc["citations_kept"] == len(cited)
    # A citation link (an event id or a finding id) highlights the event it names.
    cough = next(f for f in result.differential.findings if f.id == "cough")
    panel.rationale.anchorClicked.emit(QUrl("cite:cough"))
    assert clinical.window.timeline_view.selected_event().id == cough.source.event_id
    assert clinical.window.detail.span == cough.source.span
    assert clinical.settings.model_choice()["source"] == "folder"


def test_selfcheck_dialog_runs_the_checks(qtbot, window, app_settings, audit_db):
    controller = attach(qtbot, window, selfcheck_options={"gpu": False,
                                                         "engine": "naive-bayes"})
    try:
        dialog = controller.show_selfcheck(first_run=True)
        with qtbot.waitSignal(dialog.finished_checks, timeout=120_000) as blocker:
            pass
        checks = blocker.args[0]
        names = [c.name for c in checks]
        display = ["Display"] if sys.platform.startswith("linux") else []  # Qt's X11 libraries
        assert names == ["Python", "Packages", *display, "Keyring", "Knowledge base",
                         "Rare-disease data", "Model checksums", "Model", "Offline", "Audit trail"]
        assert dialog.tree.topLevelItemCount() == len(checks)
        offline = dialog.tree.topLevelItem(names.index("Offline"))
        assert offline.text(1) == "✓ ok"
        assert "Welcome" in dialog.intro.text()
        current = dialog.tree.currentItem()
        assert current is not None and current.text(0) in dialog.details.text()
        worst = next((c for c in checks if c.status == "fail"),
                     next((c for c in checks if c.status == "warn"), checks[0]))
        assert current.text(0) == worst.name, "the first check needing attention is shown"
        assert dialog.summary.text()
        assert not audit_db.exists(), "the self-check created the store without being asked"
    finally:
        controller.shutdown()


def test_selfcheck_sets_up_the_passphrase_when_there_is_no_keyring(
        qtbot, window, app_settings, audit_db, monkeypatch):
    if keyring_status().secure:
        pytest.skip("a secure OS keyring is available here: no passphrase set-up is offered")
    monkeypatch.delenv("OSLER_PASSPHRASE")
    controller = attach(qtbot, window, selfcheck_options={"gpu": False,
                                                         "engine": "naive-bayes"})
    try:
        dialog = controller.show_selfcheck()
        qtbot.waitUntil(lambda: dialog.checks != [], timeout=120_000)
        assert dialog.passphrase_button.isVisible()

        def passphrase(d):
            d.first.setText("a long enough passphrase")
            d.second.setText("a long enough passphrase")
            d.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

        answer_modal(qtbot, passphrase)
        with qtbot.waitSignal(controller.auditOpened, timeout=30_000):
            qtbot.mouseClick(dialog.passphrase_button, Qt.MouseButton.LeftButton)
        assert audit_db.exists()
        qtbot.waitUntil(lambda: any((c.name == "Audit trail" and "0 entries" in c.detail)
                                    or "present and encrypted" in c.detail
                                    for c in dialog.checks), timeout=120_000)
        assert not dialog.passphrase_button.isVisible()
    finally:
        controller.shutdown()


def test_startup_without_the_shipped_model_uses_the_kb_posterior_and_says_so(
        qtbot, window, app_settings, audit_db):
    from osler.locations import default_model_dir

    if default_model_dir().is_dir():
        pytest.skip("the shipped model is installed")
    controller = attach(qtbot, window, model=ModelRequest("shipped"))
    try:
        assert controller.loaded_model.info.kind == "baseline"
        assert any("not installed" in w for w in controller.loaded_model.warnings)
        result = shown(qtbot, controller, lambda: window.open_path(demo_case()))
        assert result.differential.diagnoses
        assert "not installed" in controller.panel.warnings.text()
    finally:
        controller.shutdown()
