"""A clinic's own model folders are pinned at first use; a later change warns, naming the
folder and the files, until the user accepts it (`osler model trust DIR`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from osler.cli import main
from osler.reasoning.checksums import read_sums, write_sums
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.pins import (
    CHANGED,
    PINNED,
    SAME,
    UNAVAILABLE,
    accept_folder,
    check_pin,
    folder_identity,
)
from osler.reasoning.service import load_engine
from tests.reasoning.llm_fixtures import build_tiny_llm

TEXT = ["--text", "fever, cough and headache", "--no-semantic", "--engine", "model",
        "--device", "cpu", "--top", "3"]


@pytest.fixture
def clinic_model(tiny_model, tmp_path) -> Path:
    copy = tmp_path / "clinic-ddx"
    shutil.copytree(tiny_model, copy)
    return copy


def retrain(folder: Path) -> None:
    """What a clinic's retraining does: new weights, a new SHA256SUMS."""
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    write_sums(folder, sorted(read_sums(folder)))


def test_first_use_pins_then_unchanged_is_silent(clinic_model, private_model_pins):
    first = check_pin(clinic_model)
    assert first.status == PINNED and not first.message
    doc = json.loads(private_model_pins.read_text())
    entry = doc["folders"][str(clinic_model.resolve())]
    assert entry["basis"] == "SHA256SUMS" and "model.safetensors" in entry["files"]
    assert check_pin(clinic_model).status == SAME


def test_a_changed_weight_file_warns_and_is_not_re_pinned(clinic_model):
    check_pin(clinic_model)
    retrain(clinic_model)
    changed = check_pin(clinic_model)
    assert changed.status == CHANGED
    assert changed.changes == ("model.safetensors changed",)
    assert str(clinic_model.resolve()) in changed.message
    assert "osler model trust" in changed.message
    assert check_pin(clinic_model).status == CHANGED  # still: only the user re-pins


def test_accepting_re_pins(clinic_model):
    check_pin(clinic_model)
    retrain(clinic_model)
    doc = accept_folder(clinic_model)
    assert doc["changes"] == ["model.safetensors changed"] and doc["previous"]
    assert check_pin(clinic_model).status == SAME


def test_an_llm_folder_without_sums_is_identified_by_its_files(tmp_path):
    folder = build_tiny_llm(tmp_path / "llm")
    ident = folder_identity(folder)
    assert ident.basis == "files"
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= set(ident.files)
    assert check_pin(folder).status == PINNED
    tok = folder / "tokenizer_config.json"
    tok.write_text(tok.read_text() + "\n")
    (folder / "added_tokens.json").write_text("{}")
    changed = check_pin(folder)
    assert changed.status == CHANGED
    assert set(changed.changes) == {"tokenizer_config.json changed", "added_tokens.json added"}


def test_an_unwritable_pins_file_is_a_warning_not_a_failure(clinic_model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = check_pin(clinic_model, store=blocker / "pins.json")
    assert result.status == UNAVAILABLE and "will not be noticed" in result.message


def test_the_service_pins_clinic_folders_but_never_the_shipped_model(clinic_model, kb,
                                                                     private_model_pins):
    m = KBMatrix.from_kb(kb)
    eng = load_engine(m, kb, clinic_model, device="cpu", quantization="none", engine="model")
    assert eng.pin_warning is None and private_model_pins.exists()
    retrain(clinic_model)
    eng = load_engine(m, kb, clinic_model, device="cpu", quantization="none", engine="model")
    assert eng.pin_warning and eng.warnings[0] == eng.pin_warning
    assert "model.safetensors changed" in eng.pin_warning
    with pytest.raises(ModelLoadError, match="shipped model"):
        from osler.locations import default_model_dir

        accept_folder(default_model_dir())
    assert list(json.loads(private_model_pins.read_text())["folders"]) == [
        str(clinic_model.resolve())]


def test_cli_warns_on_stderr_and_model_trust_accepts(clinic_model, capsys):
    assert main(["ddx", "--model", str(clinic_model), *TEXT, "--json"]) == 0
    assert "changed" not in capsys.readouterr().err
    retrain(clinic_model)
    assert main(["ddx", "--model", str(clinic_model), *TEXT, "--json"]) == 0
    out = capsys.readouterr()
    json.loads(out.out)
    lines = [x for x in out.err.splitlines() if "model folder changed" in x]
    assert len(lines) == 1 and str(clinic_model.resolve()) in lines[0]
    assert "model.safetensors changed" in lines[0] and lines[0].startswith("warning: ")
    assert main(["ddx", "--model", str(clinic_model), *TEXT]) == 0  # text output: once too
    assert capsys.readouterr().err.count("model folder changed") == 1

    assert main(["model", "trust", str(clinic_model), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["changes"] == ["model.safetensors changed"]
    assert main(["ddx", "--model", str(clinic_model), *TEXT, "--json"]) == 0
    assert "model folder changed" not in capsys.readouterr().err
    assert main(["model", "trust", str(clinic_model)]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_model_trust_refuses_what_a_load_would_refuse(clinic_model, tmp_path, capsys):
    (clinic_model / "modeling_x.py").write_text("")
    assert main(["model", "trust", str(clinic_model)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "modeling_x.py" in err
    assert main(["model", "trust", str(tmp_path / "none")]) == 2
    assert "no such model folder" in capsys.readouterr().err
