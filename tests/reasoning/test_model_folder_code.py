"""Model folders cannot run code: folders with custom code (auto_map + modeling_*.py) or
pickled weights are refused, by name, before transformers opens them; no prompt ever asks
on the terminal; Osler passes trust_remote_code=False itself. On both paths: an Osler model
folder (the shipped model's loader) and a local LLM folder."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from osler.locations import default_model_dir
from osler.reasoning.errors import ModelLoadError, ReasoningError
from osler.reasoning.folder_screen import UnsafeModelFolder, screen_folder
from tests.conftest import REPO
from tests.reasoning.llm_fixtures import build_tiny_llm
from tests.reasoning.model_folders import (
    pickle_bomb,
    with_pickled_weights,
    with_remote_code,
)

PROMPT = "Do you wish to run the custom code"


@pytest.fixture(scope="module")
def llm_dir(tmp_path_factory) -> Path:
    return build_tiny_llm(tmp_path_factory.mktemp("llm") / "tiny-llama")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`osler ARGS` in a fresh process whose stdin answers 'y' to any question."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "osler", *args], input="y\ny\ny\n",
                          capture_output=True, text=True, timeout=300, cwd=REPO, env=full)


def _assert_refused(proc: subprocess.CompletedProcess, folder: Path, offending: str,
                    marker: Path) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert PROMPT not in proc.stdout and PROMPT not in proc.stderr
    assert not marker.exists(), "the folder's code ran"
    err = proc.stderr.strip()
    assert err.count("\n") == 0, err  # one line
    assert str(folder) in err and offending in err and "refused" in err


# --- the CLI, stdin answering "y" ------------------------------------------------------

def test_llm_folder_with_custom_code_is_refused_without_a_prompt(llm_dir, tmp_path):
    marker = tmp_path / "MARKER"
    evil = with_remote_code(llm_dir, tmp_path / "evil-llm", marker, "AutoModelForCausalLM")
    proc = _cli("ddx", "--model", str(evil), "--text", "fever and cough", "--device", "cpu",
                "--no-semantic", "--json")
    _assert_refused(proc, evil, "auto_map", marker)


def test_osler_folder_with_custom_code_is_refused_on_the_transformers_path(tiny_model,
                                                                          tmp_path):
    marker = tmp_path / "MARKER"
    evil = with_remote_code(tiny_model, tmp_path / "evil-ddx", marker,
                            "AutoModelForSequenceClassification")
    proc = _cli("ddx", "--model", str(evil), "--engine", "model", "--text", "fever",
                "--no-semantic", "--json", env={"OSLER_BACKEND": "torch"})
    _assert_refused(proc, evil, "auto_map", marker)
    proc = _cli("ddx", "--model", str(evil), "--engine", "model", "--text", "fever",
                "--no-semantic", "--json")  # the NumPy path refuses it too
    _assert_refused(proc, evil, "auto_map", marker)


def test_llm_folder_with_a_pickle_is_refused(llm_dir, tmp_path):
    marker = tmp_path / "MARKER"
    evil = with_pickled_weights(llm_dir, tmp_path / "pickle-llm", marker)
    (evil / "model.safetensors").rename(evil / "weights.safetensors")  # so .bin would load
    proc = _cli("ddx", "--model", str(evil), "--text", "fever", "--device", "cpu",
                "--no-semantic", "--json")
    _assert_refused(proc, evil, "pytorch_model.bin", marker)


def test_osler_folder_with_a_pickle_is_refused(tiny_model, tmp_path):
    marker = tmp_path / "MARKER"
    evil = with_pickled_weights(tiny_model, tmp_path / "pickle-ddx", marker)
    proc = _cli("ddx", "--model", str(evil), "--engine", "model", "--text", "fever",
                "--no-semantic", "--json", env={"OSLER_BACKEND": "torch"})
    _assert_refused(proc, evil, "pytorch_model.bin", marker)


# --- the screen itself ----------------------------------------------------------------

def _clean(tmp_path: Path, llm_dir: Path) -> Path:
    folder = tmp_path / "m"
    shutil.copytree(llm_dir, folder)
    return folder


@pytest.mark.parametrize("name", ["pytorch_model.bin", "pytorch_model-00001-of-00002.bin",
                                  "model.pt", "adapter.pth", "last.ckpt", "vectors.pkl",
                                  "x.pickle", "clf.joblib", "tf_model.h5", "training_args.bin"])
def test_pickle_family_names_are_refused(tmp_path, llm_dir, name):
    folder = _clean(tmp_path, llm_dir)
    (folder / name).write_bytes(pickle_bomb(tmp_path / "MARKER"))
    with pytest.raises(UnsafeModelFolder, match="pickle") as info:
        screen_folder(folder)
    assert info.value.file == name and info.value.path == str(folder)
    assert isinstance(info.value, ModelLoadError) and isinstance(info.value, ReasoningError)


@pytest.mark.parametrize("name", ["modeling_evil.py", "tokenization_evil.py",
                                  "sub/dir/helper.py", "compiled.pyc", "ext.so"])
def test_code_files_anywhere_are_refused(tmp_path, llm_dir, name):
    folder = _clean(tmp_path, llm_dir)
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("print('hi')\n")
    with pytest.raises(UnsafeModelFolder, match="contains code") as info:
        screen_folder(folder)
    assert info.value.file == name


@pytest.mark.parametrize("config", ["config.json", "tokenizer_config.json",
                                    "processor_config.json", "generation_config.json"])
def test_auto_map_in_any_config_is_refused(tmp_path, llm_dir, config):
    folder = _clean(tmp_path, llm_dir)
    path = folder / config
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc["auto_map"] = {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}
    path.write_text(json.dumps(doc))
    with pytest.raises(UnsafeModelFolder, match="auto_map") as info:
        screen_folder(folder)
    assert info.value.file == f"{config} (auto_map)"


def test_nested_auto_map_and_custom_pipelines_are_refused(tmp_path, llm_dir):
    folder = _clean(tmp_path, llm_dir)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["text_config"] = {"auto_map": {"AutoConfig": "x.Y"}}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UnsafeModelFolder, match="auto_map"):
        screen_folder(folder)
    del cfg["text_config"]
    cfg["custom_pipelines"] = {"evil": {"impl": "x.Pipe"}}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UnsafeModelFolder, match="custom_pipelines"):
        screen_folder(folder)


@pytest.mark.parametrize("name", ["weights.dat", "data", "extra.msgpack"])
def test_pickles_under_other_names_are_found_by_their_bytes(tmp_path, llm_dir, name):
    folder = _clean(tmp_path, llm_dir)
    (folder / name).write_bytes(pickle_bomb(tmp_path / "MARKER", protocol=2))
    with pytest.raises(UnsafeModelFolder, match="pickle") as info:
        screen_folder(folder)
    assert info.value.file == name
    (folder / name).write_bytes(b"cos\nsystem\n(S'touch x'\ntR.")  # protocol 0
    with pytest.raises(UnsafeModelFolder, match="pickle"):
        screen_folder(folder)


def test_zip_archives_are_refused(tmp_path, llm_dir):
    folder = _clean(tmp_path, llm_dir)
    with zipfile.ZipFile(folder / "weights.dat", "w") as z:  # torch.save's format
        z.writestr("archive/data.pkl", pickle_bomb(tmp_path / "MARKER"))
    with pytest.raises(UnsafeModelFolder, match="zip") as info:
        screen_folder(folder)
    assert info.value.file == "weights.dat"


def test_executables_and_scripts_are_refused(tmp_path, llm_dir):
    folder = _clean(tmp_path, llm_dir)
    (folder / "run").write_bytes(b"#!/bin/sh\ntouch x\n")
    with pytest.raises(UnsafeModelFolder, match="executable or a script"):
        screen_folder(folder)
    (folder / "run").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(40))
    with pytest.raises(UnsafeModelFolder, match="executable"):
        screen_folder(folder)


def test_clean_folders_pass(tmp_path, llm_dir, tiny_model):
    screen_folder(llm_dir)
    screen_folder(tiny_model)
    if default_model_dir().is_dir():
        screen_folder(default_model_dir())
    folder = _clean(tmp_path, llm_dir)
    (folder / "README.md").write_text("# a model card\n")
    (folder / "merges.txt").write_text("#version: 0.2\nc at\n")
    (folder / "tiny.gguf").write_bytes(b"GGUF" + bytes(60))
    (folder / ".git" / "hooks").mkdir(parents=True)  # a clone's hooks are never loaded
    (folder / ".git" / "hooks" / "pre-commit.sample").write_text("#!/bin/sh\n")
    screen_folder(folder)


# --- defence in depth inside the loaders -----------------------------------------------

def _spy(monkeypatch, cls: type, seen: list[dict], depth: list[int]) -> None:
    """Record the keyword arguments of Osler's own calls (not transformers' inner ones)."""
    real = cls.from_pretrained.__func__

    def spy(klass, *args, **kwargs):
        if depth[0] == 0:
            seen.append({"class": klass.__name__, **kwargs})
        depth[0] += 1
        try:
            return real(klass, *args, **kwargs)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))


def test_every_from_pretrained_call_says_trust_remote_code_false(monkeypatch, kb, llm_dir,
                                                                 tiny_model):
    import transformers

    from osler.reasoning.engines import NaiveBayesEngine, ShippedEngine
    from osler.reasoning.kbmatrix import KBMatrix
    from osler.reasoning.llm.engine import LLMEngine

    seen: list[dict] = []
    depth = [0]
    for cls in (transformers.AutoTokenizer, transformers.AutoModelForCausalLM,
                transformers.AutoModelForSequenceClassification,
                transformers.PreTrainedTokenizerFast):
        _spy(monkeypatch, cls, seen, depth)
    m = KBMatrix.from_kb(kb)
    ShippedEngine(tiny_model, m, device="cpu", quantization="none")
    LLMEngine(llm_dir, m, kb, device="cpu", quantization="none",
              base=NaiveBayesEngine(m, prior_exponent=0.5))
    assert {c["class"] for c in seen} >= {"AutoTokenizer", "AutoModelForCausalLM",
                                         "AutoModelForSequenceClassification",
                                         transformers.PreTrainedTokenizerFast.__name__}, seen
    assert all(kw.get("trust_remote_code") is False for kw in seen), seen
    from transformers import dynamic_module_utils

    assert dynamic_module_utils.TIME_OUT_REMOTE_CODE == 0  # never input() on the terminal


def test_without_the_screen_transformers_still_refuses_without_asking(monkeypatch, kb,
                                                                      llm_dir, tmp_path,
                                                                      capsys):
    """Were the screen ever bypassed, the loader's own settings still refuse the code."""
    import osler.reasoning.llm.folder as folder_module
    from osler.reasoning.engines import NaiveBayesEngine
    from osler.reasoning.kbmatrix import KBMatrix
    from osler.reasoning.llm.engine import LLMEngine

    marker = tmp_path / "MARKER"
    evil = with_remote_code(llm_dir, tmp_path / "evil", marker, "AutoModelForCausalLM")
    monkeypatch.setattr(folder_module, "screen_folder", lambda _p: None)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\ny\n"))
    m = KBMatrix.from_kb(kb)
    with pytest.raises(ModelLoadError, match="custom code"):
        LLMEngine(evil, m, kb, device="cpu", quantization="none",
                  base=NaiveBayesEngine(m, prior_exponent=0.5))
    assert not marker.exists()
    out = capsys.readouterr()
    assert PROMPT not in out.out and PROMPT not in out.err
