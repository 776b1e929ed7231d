"""Project-made audit fixtures: a ddx document as `osler ddx --json` prints it, and records."""

from __future__ import annotations

from typing import Any

from osler.audit import KeyProvider, OverrideRecord

PASSPHRASE = "correct horse battery staple"
FAST_SCRYPT_N = 2**12
"""Tests' scrypt cost: the same code path as the default 2**17, a fraction of the time."""

PATIENT_NAME = "Ada Testperson"
PATIENT_ID = "MRN-0001-Testperson"
CLINICIAN = "dr-grace-hopper"
REASON_TEXT = "Chest film is clear; Ada Testperson has a classic viral picture"


def ddx() -> dict[str, Any]:
    """A small differential with the fields the ddx command prints."""
    return {
        "model": {"id": "osler-test", "version": "0.0.1", "sha256": "ab" * 32,
                  "device": "cpu", "quantization": "none"},
        "findings": [{"id": "fever", "label": "Fever", "present": True, "source": "text"},
                     {"id": "cough", "label": "Cough", "present": True, "source": "text"}],
        "differential": [
            {"rank": 1, "name": "Community-acquired pneumonia", "icd10": ["J18.9"],
             "probability": 0.55, "cant_miss": True, "evidence_for": [], "next_best": []},
            {"rank": 2, "name": "Acute bronchitis", "icd10": ["J20.9"], "probability": 0.3,
             "cant_miss": False},
            {"rank": 3, "name": "Influenza", "icd10": ["J11.1"], "probability": 0.15,
             "cant_miss": False},
        ],
    }


def record(i: int = 0, action: str = "reject", patient_id: str = PATIENT_ID,
           clinician_id: str = CLINICIAN, text: str | None = None) -> OverrideRecord:
    """A valid override; I varies the free text so entries differ."""
    kwargs: dict[str, Any] = {"reason_text": text if text is not None else f"{REASON_TEXT} #{i}"}
    if action in ("accept", "reject"):
        kwargs.update(rank=1, reason_code="alternative-more-likely")
    elif action == "rerank":
        kwargs.update(rank=2, new_rank=1, reason_code="insufficient-evidence")
    elif action == "add":
        kwargs.update(name="Pulmonary embolism", icd10=["I26.99"],
                      reason_code="findings-not-in-record")
    return OverrideRecord.from_ddx(ddx(), action=action, clinician_id=clinician_id,
                                   patient_id=patient_id, **kwargs)


def provider(passphrase: str = PASSPHRASE) -> KeyProvider:
    """Passphrase mode, as on a headless machine, at the tests' scrypt cost."""
    return KeyProvider(passphrase=passphrase, use_keyring=False, scrypt_n=FAST_SCRYPT_N)


class FakeSecureKeyring:
    """An in-memory keyring posing as the Secret Service, to run keyring mode in-process
    (not a KeyringBackend subclass, so keyring's own discovery never sees it)."""

    priority = 10

    def __init__(self):
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username), None)


FakeSecureKeyring.__module__ = "keyring.backends.SecretService"
