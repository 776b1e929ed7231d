"""`osler-gui` arguments: --at, the record opened at start, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from osler.ui.app import build_parser, initial_path, main, parse_at
from osler.ui.resources import demo_case, resources_dir


def test_at_takes_fhir_dates_and_means_the_end_of_a_day():
    assert parse_at("2024-03-04T15:00:00Z") == datetime(2024, 3, 4, 15, tzinfo=UTC)
    assert parse_at("2024-03-04 15:00:00Z") == datetime(2024, 3, 4, 15, tzinfo=UTC)
    end_of_day = parse_at("2024-03-04")
    assert end_of_day.date().isoformat() == "2024-03-04" and end_of_day.hour == 23
    assert parse_at("2024-02").date().isoformat() == "2024-02-29"
    with pytest.raises(ValueError, match="not a valid FHIR date"):
        parse_at("yesterday")


def test_bad_at_exits_2_with_one_line(capsys):
    assert main(["--at", "yesterday"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("osler-gui: error: --at:") and "\n" not in err


def test_options_parse():
    args = build_parser().parse_args(["rec.json", "--theme", "dark", "--reset-settings",
                                      "--patient", "p1"])
    assert args.theme == "dark" and args.reset_settings and args.patient == "p1"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--theme", "pink"])


def test_start_opens_path_else_last_record_else_demo(app_settings, small_path, tmp_path):
    assert initial_path(None, app_settings) == demo_case()
    app_settings.add_recent(small_path)
    assert initial_path(None, app_settings) == small_path.resolve()
    explicit = tmp_path / "other.json"
    assert initial_path(explicit, app_settings) == explicit
    small_path.unlink()
    assert initial_path(None, app_settings) == demo_case()


def test_resources_are_found_from_the_package():
    root = resources_dir()
    assert (root / "cases" / "demo-chest-pain.json").is_file()
    assert (root / "styles" / "light.qss").is_file() and (root / "styles" / "dark.qss").is_file()
    assert (root / "icons" / "osler.svg").is_file()


def test_model_and_selfcheck_options_parse():
    args = build_parser().parse_args(["--model", "/models/llama", "--device", "cpu",
                                      "--quantization", "nf4", "--no-selfcheck"])
    assert args.model == "/models/llama" and args.device == "cpu"
    assert args.quantization == "nf4" and args.no_selfcheck
    defaults = build_parser().parse_args([])
    assert defaults.model is None and defaults.device == "auto" and not defaults.no_selfcheck
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--quantization", "fp3"])


def test_first_start_attaches_the_differential_and_shows_the_selfcheck_once(
        qtbot, window, app_settings, audit_db):
    from osler.ui.app import _attach_differential

    _attach_differential(window, app_settings, build_parser().parse_args([]))
    controller = window.ddx
    try:
        assert window.side_widget is controller.panel
        qtbot.waitUntil(lambda: controller.selfcheck_dialog is not None
                        and controller.selfcheck_dialog.isVisible(), timeout=10_000)
        assert app_settings.selfcheck_done()
        qtbot.waitUntil(lambda: bool(controller.selfcheck_dialog.checks), timeout=180_000)
        controller.selfcheck_dialog.close()
    finally:
        controller.shutdown()
    second = type(window)(settings=app_settings, theme="light")
    qtbot.addWidget(second)
    _attach_differential(second, app_settings, build_parser().parse_args([]))
    try:
        qtbot.wait(800)
        assert second.ddx.selfcheck_dialog is None, "the self-check was shown again"
    finally:
        second.ddx.shutdown()


def test_text_options_open_a_new_case_and_bad_combinations_exit_2(qtbot, window, clinical,
                                                                  capsys):
    from osler.ui.app import open_text_case
    from tests.ui.conftest import shown

    args = build_parser().parse_args(["--text", "fever and cough", "--age", "67", "--sex",
                                      "male"])
    assert (args.text, args.age, args.sex, args.path) == ("fever and cough", 67, "male", None)
    assert main(["--age", "40"]) == 2
    assert "give --text too" in capsys.readouterr().err
    assert main(["--text", "x", "--age", "200"]) == 2
    result = shown(qtbot, clinical, lambda: open_text_case(
        window, clinical, "Three days of fever and productive cough.", 67, "male"))
    assert window.current is None
    assert clinical.presentation.text() == "Three days of fever and productive cough."
    assert result.differential.case.age == 67 and result.differential.case.sex == "male"
    assert {"fever", "coughing-up-sputum"} <= {f.id for f in result.differential.findings}
