"""Encrypted, tamper-evident audit trail of what clinicians do with the model's differential.

Typical use (window or CLI)::

    store = AuditStore.open()                     # default path, keyring or passphrase
    store.append(OverrideRecord(action="reject", reason_code="alternative-more-likely", ...))
    report = store.verify(Anchor.load(path))      # report.ok, report.problems
    store.anchor().save("/media/usb/osler-anchor.json")
    store.export_fhir("audit-export.json")

See docs/audit.md (commands) and docs/security.md (threat model).
"""

from osler.audit.anchor import Anchor
from osler.audit.chain import Problem, VerifyReport
from osler.audit.entry import AuditEntry
from osler.audit.errors import (
    AuditAnchorError,
    AuditError,
    AuditInputError,
    AuditIntegrityError,
    AuditKeyError,
    AuditStoreError,
)
from osler.audit.keys import PASSPHRASE_ENV, KeyProvider, KeyringStatus, keyring_status
from osler.audit.override import Action, OverrideRecord, fingerprint_inputs
from osler.audit.reasons import REASON_SYSTEM, REASONS, OverrideReason
from osler.audit.store import DB_ENV, AuditStore, default_path

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
