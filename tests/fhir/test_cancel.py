"""Cooperative cancellation of an import: it stops between resources, keeps nothing."""

from __future__ import annotations

import pytest

from osler.cancel import Cancelled, CancelToken
from osler.fhir import import_path


class CancelAfter(CancelToken):
    """Cancels itself at its Nth check (as if the user pressed Cancel then)."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        if self.checks >= self.n:
            self.cancel()
        super().check()


def test_an_import_stops_at_its_next_check(tmp_path):
    from bench.synthetic_record import write_synthetic_bundle

    big = write_synthetic_bundle(tmp_path / "big.json", events=5_000)
    token = CancelAfter(3)
    with pytest.raises(Cancelled):
        import_path(big, token)
    assert token.checks == 3, "the importer did not check between resources"
    assert len(import_path(big).timeline()) >= 5_000  # an uncancelled import is unchanged
