"""Clinic-server security without a server: URL rules (http(s) only, no credentials in the URL,
plain HTTP only to this machine unless allowed), the API key kept out of reprs, and the key
store (OS keyring when secure, else AES-GCM under a passphrase; never plaintext)."""

from __future__ import annotations

import json

import pytest

from osler.reasoning.llm.rationale import Constraint
from osler.reasoning.server.config import ServerConfig, is_loopback, parse_server_url
from osler.reasoning.server.constraints import constraint_fields, gbnf, regex
from osler.reasoning.server.errors import ServerConfigError
from osler.server_keys import ServerKeyError, ServerKeyStore, api_key_for
from tests.audit.sample import FakeSecureKeyring

FAST_N = 2**10


@pytest.mark.parametrize("url, origin", [
    ("https://gpu.clinic.lan", "https://gpu.clinic.lan:443"),
    ("https://gpu.clinic.lan:8443/v1/", "https://gpu.clinic.lan:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost:8000/v1", "http://localhost:8000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
])
def test_accepted_urls(url, origin):
    assert parse_server_url(url).origin == origin


@pytest.mark.parametrize("url, words", [
    ("ftp://gpu:21", "not an http(s) URL"),
    ("gpu.clinic.lan:8080", "not an http(s) URL"),
    ("", "no server URL"),
    ("http://10.0.0.5:8080", "plain HTTP to another machine"),
    ("http://gpu.clinic.lan", "plain HTTP to another machine"),
    ("https://bob:secret@gpu.clinic.lan", "holds credentials"),
    ("https://gpu.clinic.lan/?key=abc", "query"),
    ("https://gpu.clinic.lan:99999", "not a valid URL"),
])
def test_refused_urls_say_why(url, words):
    with pytest.raises(ServerConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_server_url(url)


def test_plain_http_to_the_lan_only_when_allowed_and_never_hides_the_risk():
    url = parse_server_url("http://10.0.0.5:8080", allow_plain_http=True)
    assert not url.local
    with pytest.raises(ServerConfigError, match="unencrypted"):
        parse_server_url("http://10.0.0.5:8080")
    assert is_loopback("127.0.0.2") and not is_loopback("192.168.1.10")


def test_api_key_is_never_in_repr_and_must_be_one_word():
    cfg = ServerConfig.build("https://gpu:8443", "sk-very-secret")
    assert "sk-very-secret" not in repr(cfg)
    with pytest.raises(ServerConfigError, match="printable"):
        ServerConfig.build("https://gpu:8443", "two words")


def test_constraints_allow_only_the_prompt_ids():
    c = Constraint("ids", ("fever", 'we"ird\\id', "DocumentReference/n1"))
    g = gbnf(c)
    assert '"\\"fever\\""' in g and "ird" in g
    import re

    r = re.compile(regex(c))
    assert r.fullmatch('"fever", "DocumentReference/n1"]')
    assert not r.fullmatch('"made-up"]')
    assert re.fullmatch(regex(Constraint("text")), 'cough and fever"')
    assert "grammar" in constraint_fields("llama-cpp-python 0.3.36", c)
    assert "structured_outputs" in constraint_fields("vLLM 0.11.0", c)
    assert "guided_regex" in constraint_fields("vLLM 0.6.4", c)
    assert constraint_fields("OpenAI-compatible server", c) == {}


def test_key_goes_to_a_secure_keyring(tmp_path):
    kr = FakeSecureKeyring()
    store = ServerKeyStore(path=tmp_path / "keys.json", backend=kr)
    where = store.set("https://gpu:8443", "sk-abc")
    assert "OS keyring" in where and not (tmp_path / "keys.json").exists()
    assert store.get("https://gpu:8443").key == "sk-abc"
    assert "sk-abc" not in repr(store.get("https://gpu:8443"))
    assert api_key_for("https://gpu:8443", store, environ={}) == "sk-abc"
    assert api_key_for("https://gpu:8443", store, environ={"OSLER_SERVER_KEY": "k2"}) == "k2"
    assert store.delete("https://gpu:8443") and store.get("https://gpu:8443") is None


def test_without_a_secure_keyring_the_key_is_encrypted_under_a_passphrase(tmp_path):
    path = tmp_path / "keys.json"
    store = ServerKeyStore(path=path, use_keyring=False, passphrase="correct horse",
                           scrypt_n=FAST_N, environ={})
    assert "passphrase-protected" in store.set("https://gpu:8443", "sk-plain-text-key")
    raw = path.read_text()
    assert "sk-plain-text-key" not in raw and json.loads(raw)["kdf"] == "scrypt"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert store.get("https://gpu:8443").key == "sk-plain-text-key"
    wrong = ServerKeyStore(path=path, use_keyring=False, passphrase="wrong horse!",
                           scrypt_n=FAST_N, environ={})
    with pytest.raises(ServerKeyError, match="wrong passphrase"):
        wrong.get("https://gpu:8443")
    with pytest.raises(ServerKeyError, match="wrong passphrase"):
        wrong.set("https://other:8443", "k")
    nobody = ServerKeyStore(path=path, use_keyring=False, scrypt_n=FAST_N, environ={})
    with pytest.raises(ServerKeyError, match="passphrase"):
        nobody.get("https://gpu:8443")
    assert store.delete("https://gpu:8443") and store.get("https://gpu:8443") is None


def test_cli_stores_the_key_and_ddx_finds_it(tmp_path, monkeypatch):
    """`osler server key URL` from a file, with no secure keyring here: passphrase file."""
    import osler.server_keys as sk
    from osler.cli import main

    monkeypatch.setattr(sk, "keys_file", lambda: tmp_path / "keys.json")
    monkeypatch.setenv("OSLER_PASSPHRASE", "clinic passphrase")
    monkeypatch.setattr(sk.ServerKeyStore, "keyring",
                        lambda self: sk.KeyringStatus(False, "test", "no keyring in tests"))
    (tmp_path / "key.txt").write_text("sk-from-file\n")
    assert main(["server", "key", "https://gpu.clinic.lan:8443", "--api-key-file",
                 str(tmp_path / "key.txt")]) == 0
    assert "sk-from-file" not in (tmp_path / "keys.json").read_text()
    assert api_key_for("https://gpu.clinic.lan:8443", environ={}) == "sk-from-file"
    assert main(["server", "forget", "https://gpu.clinic.lan:8443"]) == 0
    assert api_key_for("https://gpu.clinic.lan:8443", environ={}) is None
