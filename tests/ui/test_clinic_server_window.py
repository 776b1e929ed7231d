"""The window with a clinic server (the real llama.cpp server of tests/clinic_server.py): the
model manager's 'Clinic server' entry (API key to the key store, never to settings), a
differential and streamed rationale through the server, the fallback banner while the server
is down (what the clinician typed is kept) until it answers again, a bad URL that keeps the
model in use, and Cancel mid-request."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from osler.ui.model_manager import describe_model
from tests.clinic_server import LlamaServer, free_port, require_server, write_gguf
from tests.fault_proxy import FaultProxy
from tests.ui.conftest import attach, shown

pytestmark = pytest.mark.slow


@pytest.fixture
def key_store(tmp_path, monkeypatch):
    """Server keys in a private passphrase-protected file (never the user's keyring)."""
    import osler.server_keys as sk

    monkeypatch.setattr(sk, "keys_file", lambda: tmp_path / "server-keys.json")
    monkeypatch.setattr(sk.ServerKeyStore, "keyring",
                        lambda self: sk.KeyringStatus(False, "test", "no keyring in tests"))
    return tmp_path / "server-keys.json"


def load_server(qtbot, controller, url: str, key: str | None = None, signal=None):
    manager = controller.show_model_manager()
    manager.server_choice.setChecked(True)
    manager.server.url.setText(url)
    if key:
        manager.server.api_key.setText(key)
    with qtbot.waitSignal(signal or controller.modelLoaded, timeout=60_000):
        qtbot.mouseClick(manager.load_button, Qt.MouseButton.LeftButton)
    return manager


def test_clinic_server_with_fallback_banner(qtbot, window, app_settings, audit_db, messages,
                                            key_store, tiny_models, tmp_path):
    require_server()
    from tests.reasoning.conftest import tiny_kb

    port = free_port()
    server = LlamaServer(tiny_models.gguf, port=port, log=tmp_path / "a.log").start()
    controller = attach(qtbot, window, kb=tiny_kb())
    try:
        manager = load_server(qtbot, controller, server.url, server.api_key)
        loaded = controller.loaded_model
        assert loaded.info.kind == "server" and loaded.is_llm
        text = describe_model(loaded)
        assert "clinic server" in text and server.url in text and "tiny-llama-F32.gguf" in text
        assert manager.server.api_key.text() == ""
        saved = app_settings.model_choice()
        assert saved["source"] == "server" and saved["server_url"] == server.url
        app_settings.qsettings.sync()
        settings_text = app_settings.qsettings.fileName()
        assert server.api_key not in Path(settings_text).read_text(encoding="utf-8")
        assert server.api_key not in key_store.read_text()  # encrypted, not plaintext

        tokens: list[str] = []
        controller.worker.token.connect(lambda _seq, t: tokens.append(t))
        result = shown(qtbot, controller, lambda: controller.new_case(
            "cough and fever for three days, short of breath", 58, "male"))
        assert result.differential.model.kind == "server"
        assert result.differential.rationale is not None and tokens
        assert not controller.server_banner.isVisible()

        server.kill()
        typed = "cough and fever for three days, short of breath, chest pain"
        result = shown(qtbot, controller, lambda: controller.set_text(typed))
        banner = controller.server_banner
        assert result.differential.model.kind != "server"
        assert banner.isVisible() and "not answering" in banner.text.text()
        assert "not answering" not in controller.panel.warnings.text()  # said once, above
        assert banner.retry.isVisible()
        # the header names the model that made this differential, not the silent server
        header = controller.panel.model_button.text()
        assert "(fallback)" in header and result.differential.model.id in header
        assert server.url in controller.panel.model_button.toolTip()
        assert controller.session.presentation.text == typed  # nothing typed is lost
        assert result.differential.findings, "the fallback reasons on the same case"

        # it comes back serving other weights: the differential says so, and the window
        other = write_gguf(tiny_models.hf_dir, tmp_path / "other-Q8_0.gguf", perturb=0.5)
        server = LlamaServer(other, port=port, api_key=server.api_key,
                             log=tmp_path / "b.log").start()
        result = shown(qtbot, controller, lambda: qtbot.mouseClick(
            banner.retry, Qt.MouseButton.LeftButton))
        assert result.differential.model.kind == "server"
        assert not banner.isVisible()
        assert "(fallback)" not in controller.panel.model_button.text()
        assert any("now serves" in w for w in result.differential.warnings)
        assert "model changed" in controller.panel.notice.text()
        assert controller.loaded_model.info.quantization == "Q8_0"

        before = controller.loaded_model
        manager.server.url.setText("ftp://gpu.clinic.lan")
        qtbot.mouseClick(manager.load_button, Qt.MouseButton.LeftButton)
        assert "not an http(s) URL" in messages[-1][1]
        assert "current model stays" in messages[-1][1]
        assert controller.loaded_model is before
    finally:
        controller.shutdown()
        server.stop()


def test_cancel_mid_request_keeps_the_differential_shown(qtbot, window, audit_db, key_store,
                                                         clinic_server):
    from tests.reasoning.conftest import tiny_kb

    proxy = FaultProxy(("127.0.0.1", clinic_server.port))
    controller = attach(qtbot, window, kb=tiny_kb())
    try:
        load_server(qtbot, controller, proxy.url, clinic_server.api_key)
        first = shown(qtbot, controller, lambda: controller.new_case("cough and fever", 40,
                                                                     "female"))
        proxy.set("slow", only="/v1/completions", delay=20)
        with qtbot.waitSignal(controller.computeFailed, timeout=20_000) as blocker:
            controller.set_text("cough and fever and wheezing")
            qtbot.waitUntil(lambda: controller.server_banner.cancel.isVisible(), timeout=5000)
            qtbot.wait(300)
            qtbot.mouseClick(controller.server_banner.cancel, Qt.MouseButton.LeftButton)
        assert "cancelled" in blocker.args[0]
        assert controller.result is first  # the differential shown stays
        assert not controller.server_banner.isVisible()
    finally:
        proxy.set("none")
        controller.shutdown()
        proxy.close()
