"""Key sources: secure-keyring detection, passphrase mode (env, prompt), wrong key, rekey."""

from __future__ import annotations

import unicodedata

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from osler.audit import (
    Anchor,
    AuditKeyError,
    AuditStore,
    KeyProvider,
    keyring_status,
)
from osler.audit.keys import SCRYPT_N, derive_passphrase_key
from tests.audit.sample import FAST_SCRYPT_N, PASSPHRASE, PATIENT_ID, provider, record


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in a dict: unencrypted, so Osler must refuse it."""

    priority = 10

    def __init__(self):
        super().__init__()
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username), None)


def test_insecure_backends_are_refused():
    for backend, why in ((fail.Keyring(), "no keyring backend"),
                         (null.Keyring(), "not an OS-encrypted"),
                         (MemoryKeyring(), "not an OS-encrypted")):
        status = keyring_status(backend)
        assert not status.secure, backend
        assert why in status.reason


def test_chainer_with_nothing_secure_is_refused():
    status = keyring_status(chainer.ChainerBackend())
    assert not status.secure


def test_keyrings_alt_plaintext_is_refused():
    file_backends = pytest.importorskip("keyrings.alt.file",
                                        reason="keyrings.alt is not installed")
    status = keyring_status(file_backends.PlaintextKeyring())
    assert not status.secure and "keyrings.alt" in status.reason


def test_secret_service_without_a_session_bus_is_refused(monkeypatch):
    from keyring.backends import SecretService

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/nonexistent-osler-test")
    assert not keyring_status(SecretService.Keyring()).secure


def test_an_insecure_keyring_is_never_written(tmp_path):
    backend = MemoryKeyring()
    kp = KeyProvider(passphrase=PASSPHRASE, backend=backend, scrypt_n=FAST_SCRYPT_N)
    with AuditStore.open(tmp_path / "a.db", kp) as s:
        s.append(record())
        assert s.key_source == "passphrase"
    assert backend.data == {}


def test_headless_without_passphrase_is_a_clear_error(tmp_path):
    kp = KeyProvider(use_keyring=False, environ={}, scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(AuditKeyError, match="OSLER_PASSPHRASE") as info:
        AuditStore.open(tmp_path / "a.db", kp)
    assert str(tmp_path / "a.db") in str(info.value)
    assert not (tmp_path / "a.db").exists()


def test_passphrase_from_environment(tmp_path):
    env = {"OSLER_PASSPHRASE": PASSPHRASE}
    kp = KeyProvider(use_keyring=False, environ=env, scrypt_n=FAST_SCRYPT_N)
    with AuditStore.open(tmp_path / "a.db", kp) as s:
        s.append(record())
    with AuditStore.open(tmp_path / "a.db", provider(PASSPHRASE)) as s:
        assert s.count() == 1


def test_interactive_prompt_is_asked_to_confirm_a_new_passphrase(tmp_path):
    asked = []

    def ask(message, new):
        asked.append(new)
        return PASSPHRASE

    kp = KeyProvider(use_keyring=False, environ={}, ask=ask, scrypt_n=FAST_SCRYPT_N)
    AuditStore.open(tmp_path / "a.db", kp).close()
    AuditStore.open(tmp_path / "a.db", KeyProvider(use_keyring=False, environ={}, ask=ask,
                                                   scrypt_n=FAST_SCRYPT_N)).close()
    assert asked == [True, False]
    cancel = KeyProvider(use_keyring=False, environ={}, ask=lambda m, n: None,
                         scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(AuditKeyError, match="no passphrase entered"):
        AuditStore.open(tmp_path / "a.db", cancel)


def test_short_new_passphrase_is_refused(tmp_path):
    with pytest.raises(AuditKeyError, match="at least 8"):
        AuditStore.open(tmp_path / "a.db", provider("short"))
    assert list(tmp_path.iterdir()) == []


def test_wrong_passphrase_is_a_key_error_and_touches_nothing(db_path, store):
    store.append(record())
    store.close()
    before = {p.name: p.read_bytes() for p in db_path.parent.iterdir()}
    with pytest.raises(AuditKeyError, match="wrong passphrase") as info:
        AuditStore.open(db_path, provider("not the right passphrase"))
    assert str(db_path) in str(info.value)
    assert {p.name: p.read_bytes() for p in db_path.parent.iterdir()} == before


def test_passphrases_are_unicode_normalised(tmp_path):
    composed = unicodedata.normalize("NFC", "pâté-de-campagne")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    AuditStore.open(tmp_path / "a.db", provider(composed)).close()
    AuditStore.open(tmp_path / "a.db", provider(decomposed)).close()


def test_scrypt_default_cost_and_determinism():
    assert SCRYPT_N >= 2**15
    salt = bytes(16)
    a = derive_passphrase_key(PASSPHRASE, salt, FAST_SCRYPT_N)
    assert a == derive_passphrase_key(PASSPHRASE, salt, FAST_SCRYPT_N) and len(a) == 32
    assert a != derive_passphrase_key(PASSPHRASE, bytes(15) + b"\1", FAST_SCRYPT_N)


def test_rekey_to_a_new_passphrase_keeps_chain_anchors_and_pseudonyms(db_path, store):
    for i in range(3):
        store.append(record(i))
    anchor = store.anchor()
    pseudonym = store.pseudonym(PATIENT_ID)
    store.rekey(passphrase="a brand new passphrase")
    store.append(record(3))
    store.close()
    with pytest.raises(AuditKeyError):
        AuditStore.open(db_path, provider(PASSPHRASE))
    with AuditStore.open(db_path, provider("a brand new passphrase")) as s:
        report = s.verify(anchor)
        assert report.ok and report.count == 4
        assert s.pseudonym(PATIENT_ID) == pseudonym
        assert isinstance(anchor, Anchor)


def test_rekey_refuses_the_same_key_and_short_passphrases(store):
    with pytest.raises(AuditKeyError, match="same"):
        store.rekey(passphrase=PASSPHRASE)
    with pytest.raises(AuditKeyError, match="at least 8"):
        store.rekey(passphrase="short")
    with pytest.raises(AuditKeyError, match="no secure OS keyring"):
        store.rekey(to="keyring")
    store.append(record())
    assert store.verify().ok


def test_a_mistyped_passphrase_is_asked_for_once_more(db_path, store):
    store.append(record())
    store.close()
    answers = ["typo typo typo", PASSPHRASE]
    kp = KeyProvider(use_keyring=False, environ={}, ask=lambda m, new: answers.pop(0),
                     scrypt_n=FAST_SCRYPT_N)
    with AuditStore.open(db_path, kp) as s:
        assert s.count() == 1
    answers[:] = ["typo one", "typo two", PASSPHRASE]
    fresh = KeyProvider(use_keyring=False, environ={}, ask=lambda m, new: answers.pop(0),
                        scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(AuditKeyError, match="wrong passphrase"):
        AuditStore.open(db_path, fresh)
    assert answers == [PASSPHRASE]


def test_a_store_rekeyed_by_another_process_is_reopened_before_appending(db_path, store):
    store.append(record(0))
    new = "the other window's new passphrase"
    answers = [PASSPHRASE, new]
    window = AuditStore.open(db_path, KeyProvider(use_keyring=False, environ={},
                                                  ask=lambda m, is_new: answers.pop(0),
                                                  scrypt_n=FAST_SCRYPT_N))
    assert window.count() == 1 and answers == [new]
    store.rekey(passphrase=new)
    store.append(record(1))
    entry = window.append(record(2))  # asks again, gets the new passphrase, appends
    assert entry.seq == 3 and answers == []
    window.close()
    store.close()
    with AuditStore.open(db_path, provider(new)) as s:
        assert s.verify().ok and s.count() == 3


def test_verify_follows_a_rekey_made_elsewhere(db_path, store):
    store.append(record(0))
    new = "the replacement passphrase"
    answers = [PASSPHRASE, new]
    window = AuditStore.open(db_path, KeyProvider(use_keyring=False, environ={},
                                                  ask=lambda m, is_new: answers.pop(0),
                                                  scrypt_n=FAST_SCRYPT_N))
    store.rekey(passphrase=new)
    assert window.verify().ok and answers == []
    window.close()


def test_a_passphrase_of_only_whitespace_is_refused(tmp_path, store):
    for blank in (" " * 12, "\t \u3000 \u00a0   \n"):
        with pytest.raises(AuditKeyError, match="only spaces"):
            AuditStore.open(tmp_path / "a.db", provider(blank))
        with pytest.raises(AuditKeyError, match="only spaces"):
            store.rekey(passphrase=blank)
    assert not (tmp_path / "a.db").exists()


def test_the_length_rule_counts_the_normalised_passphrase(tmp_path):
    short = unicodedata.normalize("NFD", "ééééééé")  # 7 characters, 14 code points in NFD
    assert len(short) == 14
    with pytest.raises(AuditKeyError, match="at least 8"):
        AuditStore.open(tmp_path / "a.db", provider(short))
    good = unicodedata.normalize("NFD", "éééééééé")
    AuditStore.open(tmp_path / "b.db", provider(good)).close()
    with AuditStore.open(tmp_path / "b.db", provider(unicodedata.normalize("NFC", good))) as s:
        assert s.key_source == "passphrase"


def test_a_store_made_with_a_decomposed_passphrase_opens_with_either_form(tmp_path):
    """Key derivation has always normalised to NFC, so no raw-form fallback is needed."""
    nfd = unicodedata.normalize("NFD", "crème brûlée au café")
    salt = bytes(range(16))
    assert (derive_passphrase_key(nfd, salt, FAST_SCRYPT_N)
            == derive_passphrase_key(unicodedata.normalize("NFC", nfd), salt, FAST_SCRYPT_N))
    AuditStore.open(tmp_path / "a.db", provider(nfd)).close()
    AuditStore.open(tmp_path / "a.db", provider(unicodedata.normalize("NFC", nfd))).close()
