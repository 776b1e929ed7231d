"""Checking the keyed hash chain: which entries were modified, deleted, reordered or inserted.

A fast streaming pass confirms an intact chain with constant memory; only when it finds
an anomaly does a second pass classify every row, so that a report names each problem
by entry number and kind instead of stopping at the first.
"""

from __future__ import annotations

import hmac
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from osler.audit.storekeys import GENESIS, StoreKeys

KINDS = ("modified", "deleted", "reordered", "inserted", "truncated", "rollback", "corrupt",
         "anchor")
"""Problem kinds; "corrupt" = the file itself is damaged, "anchor" = the anchor is bad."""

Row = tuple[int, str, str, str]
"""(seq, body, prev_hash, entry_hash) as stored."""

Progress = Callable[[int, int], "bool | None"]
"""(rows done, rows total) -> False to cancel."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of verification: which entry (None: the store as a whole), what kind, what."""

    seq: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"entry #{self.seq}" if self.seq is not None else "store"
        return f"{where}: {self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class Head:
    """The store's head record: how many entries were committed and the last entry's hash."""

    count: int
    hash: str
    mac: str


@dataclass(frozen=True)
class VerifyReport:
    """Result of `AuditStore.verify`: ok only when no problem was found and nothing cancelled."""

    path: str
    store_id: str
    count: int
    head_hash: str
    problems: list[Problem] = field(default_factory=list)
    anchor: dict[str, Any] | None = None
    elapsed_s: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "path": self.path, "store_id": self.store_id, "count": self.count,
                "head_hash": self.head_hash, "anchor": self.anchor,
                "problems": [p.to_json() for p in self.problems],
                "cancelled": self.cancelled, "elapsed_s": round(self.elapsed_s, 4)}


class Cancelled(Exception):
    """The progress callback asked to stop."""


@dataclass(slots=True)
class _Seen:
    pos: int
    orig: int | None  # the seq the entry was written with, when its MAC checks out
    prev: str
    hash: str


def _mac_ok(keys: StoreKeys, seq: int, prev: str, body: str, entry_hash: str) -> bool:
    try:
        return hmac.compare_digest(keys.entry_hash(seq, prev, body), entry_hash)
    except (ValueError, TypeError, OverflowError):
        return False


def _ticker(total: int, progress: Progress | None) -> Callable[[int], None]:
    def tick(done: int) -> None:
        if (progress is not None and (done % 2000 == 0 or done == total)
                and progress(done, total) is False):
            raise Cancelled
    return tick


def fast_check(rows: Iterable[Row], head: Head | None, keys: StoreKeys, total: int,
               progress: Progress | None = None) -> tuple[bool, int, str]:
    """One streaming pass: (intact?, last seq, last hash). Intact means every check passed."""
    tick = _ticker(total, progress)
    expected, prev = 1, GENESIS
    intact = True
    for done, (seq, body, prev_hash, entry_hash) in enumerate(rows, 1):
        tick(done)
        if intact and (seq != expected or prev_hash != prev
                       or not _mac_ok(keys, seq, prev_hash, body, entry_hash)):
            intact = False
        expected, prev = seq + 1, entry_hash
    last = expected - 1
    head_ok = head is not None and hmac.compare_digest(keys.head_mac(head.count, head.hash),
                                                       head.mac)
    if not head_ok or head is None or head.count != last or head.hash != prev:
        intact = False
    return intact, last, prev


def classify(rows: Iterable[Row], head: Head | None, keys: StoreKeys, total: int,
             progress: Progress | None = None) -> list[Problem]:
    """Name every problem in the chain (second pass, after `fast_check` found one)."""
    tick = _ticker(total, progress)
    seen: list[_Seen] = []
    for done, (pos, body, prev, entry_hash) in enumerate(rows, 1):
        tick(done)
        orig = pos if _mac_ok(keys, pos, prev, body, entry_hash) else _moved_from(
            keys, pos, prev, body, entry_hash)
        seen.append(_Seen(pos, orig, prev, entry_hash))
    return list(_problems(seen, head, keys))


def _moved_from(keys: StoreKeys, pos: int, prev: str, body: str, entry_hash: str) -> int | None:
    """The seq this row was written with, if it is an authentic entry sitting elsewhere."""
    try:
        seq = json.loads(body).get("seq")
    except (ValueError, AttributeError):
        return None
    if isinstance(seq, int) and seq >= 1 and seq != pos and _mac_ok(keys, seq, prev, body,
                                                                       entry_hash):
        return seq
    return None


def _problems(seen: list[_Seen], head: Head | None, keys: StoreKeys) -> Iterator[Problem]:
    head_ok = head is not None and hmac.compare_digest(keys.head_mac(head.count, head.hash),
                                                       head.mac)
    if not head_ok:
        yield Problem(None, "modified",
                      "the head record (entry count and last hash) is missing or was altered")
    kept: dict[int, _Seen] = {}
    for row in seen:
        if row.orig is None:
            continue
        if row.orig in kept:
            other = kept[row.orig]
            if row.pos == row.orig:  # the copy in its own place is the original
                kept[row.orig], row = row, other
            yield Problem(row.pos, "inserted",
                          f"a copy of entry #{row.orig} was inserted at position {row.pos}")
            continue
        kept[row.orig] = row
    order = [r for r in seen if r.orig is not None and kept.get(r.orig) is r]
    in_order = _longest_increasing({id(r) for r in order}, order)
    for row in order:
        if id(row) not in in_order:
            yield Problem(row.orig, "reordered",
                          f"entry #{row.orig} was moved to position {row.pos}")
    forged = {r.pos: r for r in seen if r.orig is None}
    last = max(kept, default=0)
    count = max(head.count if head_ok and head else 0, last)
    missing: list[int] = []
    for seq in range(1, count + 1):
        if seq in kept:
            continue
        if seq in forged:
            forged.pop(seq)
            yield Problem(seq, "modified", "the entry's content or hash was changed after it "
                                           "was recorded")
        else:
            missing.append(seq)
    for first, end in _runs(missing):
        span = f"#{first}" if first == end else f"#{first}–#{end}"
        if end == count and first > last:
            yield Problem(first, "truncated", f"entries {span} were removed from the end "
                                              f"(the head record says {count} were committed)")
        else:
            yield Problem(first, "deleted", f"entr{'y' if first == end else 'ies'} {span} "
                                            "missing from the chain")
    for pos, _row in sorted(forged.items()):
        yield Problem(pos, "inserted", f"the row at position {pos} was never part of the chain")
    for seq, row in sorted(kept.items()):
        before = GENESIS if seq == 1 else (kept[seq - 1].hash if seq - 1 in kept else None)
        if before is not None and row.prev != before:
            yield Problem(seq, "modified", f"chain link broken between #{seq - 1} and #{seq}")
    if head_ok and head is not None:
        if head.count < last:
            yield Problem(head.count + 1, "rollback",
                          f"the head record says {head.count} entries but #{last} exists "
                          "(an older head record was restored)")
        elif head.count in kept and kept[head.count].hash != head.hash:
            yield Problem(head.count, "modified", "the last entry differs from the head record")


def _longest_increasing(ids: set[int], order: list[_Seen]) -> set[int]:
    """Ids of the rows in one longest run of increasing original seq: the rest moved."""
    tails: list[int] = []
    tail_idx: list[int] = []
    parent = [-1] * len(order)
    for i, row in enumerate(order):
        assert row.orig is not None
        k = bisect_left(tails, row.orig)
        if k == len(tails):
            tails.append(row.orig)
            tail_idx.append(i)
        else:
            tails[k] = row.orig
            tail_idx[k] = i
        parent[i] = tail_idx[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(id(order[i]))
        i = parent[i]
    return keep & ids


def _runs(values: list[int]) -> Iterator[tuple[int, int]]:
    start = prev = None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            yield start, prev
            start = prev = v
    if start is not None:
        yield start, prev
