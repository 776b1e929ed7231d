"""Real processes: SIGKILL mid-append loses no committed entry; concurrent writers lose nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from osler.audit import AuditKeyError, AuditStore
from tests.audit.child import OTHER_PASSPHRASE
from tests.audit.sample import PASSPHRASE, provider, record
from tests.conftest import REPO

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")


def child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.audit.child", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(output: str) -> list[tuple[int, str]]:
    """Lines the child completed (a line cut by the kill has no newline and is ignored)."""
    lines = output.split("\n")[:-1]
    return [(int(seq), text) for seq, text in (line.split("\t") for line in lines)]


@posix_only
@pytest.mark.slow
def test_sigkill_while_appending_loses_no_committed_entry(tmp_path):
    db = tmp_path / "audit.db"
    rng = random.Random(20240301)
    reported: dict[int, str] = {}
    for run in range(8):
        proc = child("append", str(db), f"run{run}", "0")
        first = ""
        if run == 0:
            time.sleep(rng.uniform(0.05, 0.4))  # may land during start-up or store creation
        else:
            first = proc.stdout.readline()  # wait for the first commit, then a random time
            time.sleep(rng.uniform(0.0, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        for seq, text in committed(first + out):
            assert seq not in reported, "a sequence number was handed out twice"
            reported[seq] = text
    assert len(reported) >= 20, "too few commits to test anything"
    print(f"{len(reported)} entries committed across 8 SIGKILLed children")
    with AuditStore.open(db, provider(), create=False) as store:
        entries = {e.seq: e.reason_text for e in store.entries()}
        report = store.verify()
    assert report.ok, report.problems
    for seq, text in reported.items():
        assert entries.get(seq) == text, f"committed entry #{seq} lost or changed"
    assert sorted(entries) == list(range(1, len(entries) + 1))


@pytest.mark.slow
def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    db = tmp_path / "audit.db"
    n = 60
    procs = [child("append", str(db), tag, str(n)) for tag in ("alpha", "beta")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    seqs = [seq for out, _ in outputs for seq, _text in committed(out)]
    assert sorted(seqs) == list(range(1, 2 * n + 1))
    with AuditStore.open(db, provider(), create=False) as store:
        texts = sorted(e.reason_text for e in store.entries())
        assert store.verify().ok
    assert texts == sorted(f"{tag}-{i}" for tag in ("alpha", "beta") for i in range(n))


@posix_only
@pytest.mark.slow
def test_sigkill_during_rekey_leaves_a_store_that_opens_with_one_of_the_keys(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore.open(db, provider()) as store:
        for i in range(150):
            store.append(record(i))
        head = store.verify().head_hash
    rng = random.Random(7)
    rekeys = 0
    for _ in range(6):
        proc = child("rekey", str(db))
        first = proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        rekeys += (first + out).count("\n")
        opened = []
        for passphrase in (PASSPHRASE, OTHER_PASSPHRASE):
            try:
                with AuditStore.open(db, provider(passphrase), create=False) as store:
                    report = store.verify()
                opened.append(passphrase)
            except AuditKeyError:
                continue
            assert report.ok and report.count == 150 and report.head_hash == head
        assert len(opened) == 1, f"opened with {len(opened)} passphrases; child said {err}"
    assert rekeys >= 6
    print(f"{rekeys} completed rekeys across 6 SIGKILLed children")


def creating_files(folder):
    return sorted(p.name for p in folder.iterdir() if ".creating-" in p.name)


@posix_only
@pytest.mark.slow
def test_a_creation_killed_midway_is_cleaned_up_at_the_next_open(tmp_path):
    db = tmp_path / "audit.db"
    proc = child("create-stall", str(db))
    assert proc.stdout.readline() == "stalled\n", proc.stderr.read()
    left = creating_files(tmp_path)
    assert left, "the stalled creation should have its temporary file"
    # While the creator lives (and holds its lock), another process leaves its file alone.
    with AuditStore.open(db, provider()) as s:
        s.append(record(0))
    assert set(left) <= set(creating_files(tmp_path)), "removed a creation still in progress"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with AuditStore.open(db, provider()) as s:
        assert s.count() == 1 and s.verify().ok
    assert creating_files(tmp_path) == [], "the killed creation's files were left behind"
