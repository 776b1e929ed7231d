"""The audit package's one exception family; every error names the file (and entry) it is about."""

from __future__ import annotations

from pathlib import Path


class AuditError(Exception):
    """Base of the family: something about the audit trail needs the user's attention."""

    def __init__(self, message: str, path: Path | str | None = None, seq: int | None = None,
                 field: str | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.seq = seq
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(str(self.path))
        if self.seq is not None:
            parts.append(f"entry #{self.seq}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class AuditInputError(AuditError):
    """An override record, filter or option is invalid; nothing was written."""


class AuditStoreError(AuditError):
    """The store file cannot be created, opened, read or written (missing, busy, not ours)."""


class AuditKeyError(AuditStoreError):
    """The store cannot be unlocked: no key in the keyring, no passphrase, or the wrong one."""


class AuditIntegrityError(AuditStoreError):
    """The store file is damaged or its entries were altered (tamper evidence fired)."""


class AuditAnchorError(AuditError):
    """An anchor file is unreadable, malformed, forged or belongs to another store."""
