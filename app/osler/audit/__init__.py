"""Encrypted, tamper-evident audit trail of what clinicians do with the model's differential.

Typical use (window or CLI)::

    store = AuditStore.open()                     # default path, keyring or passphrase
    store.append(OverrideRecord(action="reject", reason_code="alternative-more-likely", ...))
    report = store.verify(Anchor.load(path))      # report.ok, report.problems
    store.anchor().save("/media/usb/osler-anchor.json")
    store.export_fhir("audit-export.json")

See docs/audit.md (commands) and docs/security.md (threat model).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "Anchor": "anchor",
    "Problem": "chain",
    "VerifyReport": "chain",
    "AuditEntry": "entry",
    "AuditAnchorError": "errors",
    "AuditError": "errors",
    "AuditInputError": "errors",
    "AuditIntegrityError": "errors",
    "AuditKeyError": "errors",
    "AuditStoreError": "errors",
    "PASSPHRASE_ENV": "keys",
    "KeyProvider": "keys",
    "KeyringStatus": "keys",
    "keyring_status": "keys",
    "Action": "override",
    "OverrideRecord": "override",
    "fingerprint_inputs": "override",
    "REASON_SYSTEM": "reasons",
    "REASONS": "reasons",
    "OverrideReason": "reasons",
    "DB_ENV": "store",
    "AuditStore": "store",
    "default_path": "store",
}
"""Public names and their modules: imported on first use, so that `osler.audit.errors`
(needed by every CLI error path) does not pull in SQLCipher, sqlite-utils and cryptography."""


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'osler.audit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"osler.audit.{_HOME[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DB_ENV",
    "PASSPHRASE_ENV",
    "REASONS",
    "REASON_SYSTEM",
    "Action",
    "Anchor",
    "AuditAnchorError",
    "AuditEntry",
    "AuditError",
    "AuditInputError",
    "AuditIntegrityError",
    "AuditKeyError",
    "AuditStore",
    "AuditStoreError",
    "KeyProvider",
    "KeyringStatus",
    "OverrideReason",
    "OverrideRecord",
    "Problem",
    "VerifyReport",
    "default_path",
    "fingerprint_inputs",
    "keyring_status",
]
