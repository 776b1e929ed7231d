"""Audit store: append latency with fsync, and verify throughput over 100k entries.

Baselines run in the same process on the same disk:
- append: a plain (unencrypted) sqlite3 WAL database with synchronous=FULL inserting the
  same entry text in its own transaction: what durability alone costs. Prints p50/p99 of
  each and the ratio (target: p99 ratio <= 3).
- verify: reading every entry of the same encrypted store and SHA-256 hashing it, the least
  any check must do. Prints entries/s of each and the ratio (target: >= 10,000
  entries/s, i.e. 100k entries in under 10 s; verify also runs SQLite's quick_check).

    python -m bench.audit_bench [--appends 1000] [--entries 100000] [--dir FOLDER]

Use --dir to measure on the disk the store will live on (fsync cost depends on it).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from osler.audit import AuditStore, KeyProvider, OverrideRecord
from osler.audit.store import _connect

P99_RATIO_TARGET = 3.0
VERIFY_TARGET = 10_000
"""100k entries (years of a busy clinic) verified in under 10 s on the window's worker."""


def sample_record(i: int) -> OverrideRecord:
    """A realistic entry: ten-item differential, a coded reason and a sentence of free text."""
    differential = [{"rank": r, "name": f"Condition number {r}", "icd10": [f"J{10 + r}.9"],
                     "probability": round(0.5 / r, 4), "cant_miss": r == 3}
                    for r in range(1, 11)]
    return OverrideRecord(
        action="reject", clinician_id="dr-benchmark", patient_id=f"patient-{i % 500}",
        model={"id": "osler-small", "version": "0.1.0", "sha256": "ab" * 32, "device": "cpu",
               "quantization": "none"},
        inputs_fingerprint="sha256:" + hashlib.sha256(str(i).encode()).hexdigest(),
        differential_shown=differential, diagnosis=differential[0],
        reason_code="alternative-more-likely",
        reason_text="Chest film clear, procalcitonin low; viral picture more likely.")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def plain_sqlite_appends(path: Path, bodies: list[str]) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, body TEXT, prev_hash TEXT, "
                 "entry_hash TEXT)")
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO entries (body, prev_hash, entry_hash) VALUES (?, ?, ?)",
                     (body, "0" * 64, hashlib.sha256(body.encode()).hexdigest()))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t0)
    conn.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="where to put the test stores")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="osler-audit-bench-", dir=args.dir))
    provider = KeyProvider(passphrase="benchmark passphrase", use_keyring=False)

    record = sample_record(0)
    with AuditStore.open(work / "append.db", provider) as store:
        for i in range(20):  # warm up caches and the file
            store.append(sample_record(i))
        bodies = [e.body for e in store.entries()]
        ours: list[float] = []
        base: list[float] = []
        half = args.appends // 2
        for chunk in range(2):  # interleave so both share the machine's noise
            base += plain_sqlite_appends(work / f"plain{chunk}.db",
                                         (bodies * (half // len(bodies) + 1))[:half])
            for _ in range(half):
                t0 = time.perf_counter()
                store.append(record)
                ours.append(time.perf_counter() - t0)
        entry_bytes = len(bodies[0].encode())
    p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    b50, b99 = percentile(base, 0.5), percentile(base, 0.99)
    ratio = p99 / b99
    print(f"folder: {work} (fsync on every commit; entry {entry_bytes} bytes)")
    print(f"append, {len(ours)} x AuditStore.append: p50 {p50 * 1e3:.2f} ms, p99 "
          f"{p99 * 1e3:.2f} ms, mean {statistics.fmean(ours) * 1e3:.2f} ms")
    print(f"append, {len(base)} x plain sqlite3 WAL+FULL insert: p50 {b50 * 1e3:.2f} ms, p99 "
          f"{b99 * 1e3:.2f} ms")
    print(f"append ratio p50 {p50 / b50:.2f}x, p99 {ratio:.2f}x (target p99 <= "
          f"{P99_RATIO_TARGET:.0f}x) {'PASS' if ratio <= P99_RATIO_TARGET else 'FAIL'}")

    t0 = time.perf_counter()
    with AuditStore.open(work / "verify.db", provider) as store:
        batch = [sample_record(i) for i in range(1000)]
        for _ in range(args.entries // len(batch)):
            store.append_batch(batch)
        build = time.perf_counter() - t0
        report = store.verify()
        conn = _connect(store.path, store._key.key, store._cipher.salt)
        t1 = time.perf_counter()
        n = 0
        for (body,) in conn.execute("SELECT body FROM entries ORDER BY seq"):
            hashlib.sha256(body.encode()).digest()
            n += 1
        read = time.perf_counter() - t1
        conn.close()
    size = (work / "verify.db").stat().st_size
    rate = report.count / report.elapsed_s
    print(f"verify store: {report.count} entries, {size / 1e6:.1f} MB, built in {build:.1f} s "
          "(batches of 1000)")
    print(f"verify: {report.elapsed_s:.2f} s = {rate:,.0f} entries/s (ok={report.ok}); "
          f"read+sha256 baseline {n / read:,.0f} entries/s; ratio {report.elapsed_s / read:.2f}x")
    print(f"verify target >= {VERIFY_TARGET:,} entries/s "
          f"{'PASS' if rate >= VERIFY_TARGET else 'FAIL'}")
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    return 0 if ratio <= P99_RATIO_TARGET and rate >= VERIFY_TARGET and report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
