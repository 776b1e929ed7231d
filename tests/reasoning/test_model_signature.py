"""The shipped model's SHA256SUMS is signed by the project's Ed25519 key; every loader of
the shipped model (NumPy, transformers, the LLM's base, the self-check, the CLI) refuses a
list that is unsigned, signed by another key or not matching, and says how to repair."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import osler.locations
import osler.reasoning.signature as signature
from osler.locations import default_model_dir
from osler.reasoning.checksums import read_sums, write_sums
from osler.reasoning.engines import ShippedEngine
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.numpy_engine import NumpyShippedEngine
from osler.reasoning.signature import (
    PROJECT_KEYS,
    SIGNATURE,
    ModelSignatureError,
    key_id,
    sign_sums,
    verify_shipped,
    verify_sums_signature,
)
from tests.conftest import REPO

NOT_SIGNED = "not the one the Osler project signed"


def _keys(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {key_id(raw): base64.b64encode(raw).decode()}


@pytest.fixture(scope="module")
def test_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def shipped_copy(tmp_path) -> Path:
    folder = default_model_dir()
    if not (folder / "osler.json").is_file():
        pytest.skip("the shipped model is not installed")
    copy = tmp_path / "osler-ddx"
    shutil.copytree(folder, copy)
    return copy


@pytest.fixture
def signed_tiny(tiny_model, tmp_path, test_key, monkeypatch) -> Path:
    """The tiny model as if it were this install's shipped model, signed with a test key
    that Osler is made to trust for the test."""
    copy = tmp_path / "models" / "osler-ddx"
    shutil.copytree(tiny_model, copy)
    (copy / SIGNATURE).write_text(sign_sums((copy / "SHA256SUMS").read_bytes(), test_key))
    monkeypatch.setattr(signature, "PROJECT_KEYS", {**PROJECT_KEYS, **_keys(test_key)})
    monkeypatch.setattr(osler.locations, "default_model_dir", lambda: copy)
    return copy


def test_the_shipped_model_is_signed_by_the_project_key():
    folder = default_model_dir()
    if not (folder / "osler.json").is_file():
        pytest.skip("the shipped model is not installed")
    assert verify_sums_signature(folder) in PROJECT_KEYS
    assert set(verify_shipped(folder)) >= {"model.safetensors", "osler.json", "config.json"}


def test_a_missing_signature_is_refused_with_the_repair(shipped_copy):
    (shipped_copy / SIGNATURE).unlink()
    with pytest.raises(ModelSignatureError, match=NOT_SIGNED) as info:
        verify_shipped(shipped_copy)
    assert info.value.file == SIGNATURE and "reinstall Osler" in str(info.value)


def test_a_rewritten_checksum_list_is_refused(shipped_copy):
    """Whoever rewrites the files can rewrite SHA256SUMS; the signature then fails."""
    meta = shipped_copy / "osler.json"
    meta.write_text(meta.read_text().replace('"temperature"', '"temperature" ', 1))
    write_sums(shipped_copy, sorted(read_sums(shipped_copy)))
    assert not (shipped_copy / SIGNATURE).exists()  # a rewritten list drops its signature
    shutil.copy(default_model_dir() / SIGNATURE, shipped_copy / SIGNATURE)
    with pytest.raises(ModelSignatureError, match="does not match SHA256SUMS"):
        verify_shipped(shipped_copy)


def test_another_key_or_garbage_is_refused(shipped_copy, test_key):
    sums = (shipped_copy / "SHA256SUMS").read_bytes()
    (shipped_copy / SIGNATURE).write_text(sign_sums(sums, test_key))
    with pytest.raises(ModelSignatureError, match="not an Osler project key"):
        verify_shipped(shipped_copy)
    verify_sums_signature(shipped_copy, _keys(test_key))  # it is a good signature otherwise
    (shipped_copy / SIGNATURE).write_text("osler-sha256sums-signature 1\nkey-id: x\n")
    with pytest.raises(ModelSignatureError, match="not an Osler signature file"):
        verify_shipped(shipped_copy)


def test_changed_or_unlisted_files_of_the_shipped_model_are_refused(shipped_copy):
    extra = shipped_copy / "special_tokens_map.json"
    extra.write_text("{}")
    with pytest.raises(ModelSignatureError, match="not part of the signed model") as info:
        verify_shipped(shipped_copy)
    assert info.value.file == "special_tokens_map.json"
    extra.unlink()
    weights = shipped_copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelSignatureError, match="checksum mismatch") as info:
        verify_shipped(shipped_copy)
    assert info.value.file == "model.safetensors" and "reinstall Osler" in str(info.value)


@pytest.mark.parametrize("engine_class", [NumpyShippedEngine, ShippedEngine])
def test_both_engines_verify_the_signature_of_the_shipped_model(signed_tiny, kb,
                                                                engine_class):
    m = KBMatrix.from_kb(kb)
    eng = engine_class(signed_tiny, m, device="cpu", quantization="none")
    assert eng.shipped and eng.info.id == "tiny-ddx"
    (signed_tiny / SIGNATURE).unlink()
    with pytest.raises(ModelSignatureError, match=NOT_SIGNED):
        engine_class(signed_tiny, m, device="cpu", quantization="none")


def test_a_clinic_model_elsewhere_needs_no_signature(tiny_model, kb):
    eng = NumpyShippedEngine(tiny_model, KBMatrix.from_kb(kb), device="cpu",
                             quantization="none")
    assert not eng.shipped and not (tiny_model / SIGNATURE).exists()


def test_the_self_check_and_the_llm_base_refuse_an_unsigned_shipped_model(signed_tiny, kb):
    from osler.reasoning.llm.engine import base_engine
    from osler.selfcheck import FAIL, OK, check_model_files

    ok = check_model_files()
    assert ok.status == OK and ok.data["signed"] is True and "signed" in ok.detail
    assert base_engine(KBMatrix.from_kb(kb), kb).info.kind == "shipped"
    (signed_tiny / SIGNATURE).write_text("tampered")
    bad = check_model_files()
    assert bad.status == FAIL and NOT_SIGNED in bad.detail and SIGNATURE in bad.detail
    with pytest.raises(ModelSignatureError):
        base_engine(KBMatrix.from_kb(kb), kb)


def test_the_cli_refuses_an_unsigned_shipped_model_in_one_line(tmp_path, shipped_copy):
    root = tmp_path / "install"
    (root / "models").mkdir(parents=True)
    shutil.move(shipped_copy, root / "models" / "osler-ddx")
    (root / "resources").symlink_to(REPO / "resources")
    (root / "models" / "osler-ddx" / SIGNATURE).unlink()
    env = {**os.environ, "OSLER_HOME": str(root)}
    proc = subprocess.run([sys.executable, "-m", "osler", "ddx", "--text", "fever", "--json",
                           "--no-semantic", "--device", "cpu"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    err = proc.stderr.strip()
    assert err.count("\n") == 0 and NOT_SIGNED in err and SIGNATURE in err
    assert "reinstall Osler" in err and proc.stdout == ""


def test_sign_model_script_signs_checks_and_refuses(tiny_model, tmp_path, test_key):
    sys.path.insert(0, str(REPO / "packaging"))
    try:
        import sign_model
    finally:
        sys.path.remove(str(REPO / "packaging"))
    key_file = tmp_path / "key" / "ed25519.pem"
    assert sign_model.main([str(tmp_path), "--key", str(key_file), "--generate"]) == 0
    assert key_file.stat().st_mode & 0o077 == 0, "the private key must be private"
    assert sign_model.main([str(tmp_path), "--key", str(key_file), "--generate"]) == 2
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    key = sign_model.load_private_key(key_file)
    sign_model.sign(folder, key_file, _keys(key))
    verify_sums_signature(folder, _keys(key))
    # Osler's own keys do not know this key: the script says so instead of shipping it.
    before = (folder / SIGNATURE).read_text()
    assert sign_model.main([str(folder), "--key", str(key_file)]) == 2
    assert (folder / SIGNATURE).read_text() == before
    (folder / "modeling_x.py").write_text("")
    with pytest.raises(ModelLoadError, match="contains code"):
        sign_model.sign(folder, key_file, _keys(key))
    assert sign_model.main([str(tmp_path / "none"), "--key", str(key_file)]) == 2
