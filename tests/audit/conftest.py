"""Fixtures for the audit tests: a fresh store in a temporary folder, in passphrase mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from osler.audit import AuditStore
from tests.audit.sample import provider


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "audit.db"


@pytest.fixture
def store(db_path: Path):
    s = AuditStore.open(db_path, provider())
    yield s
    s.close()
