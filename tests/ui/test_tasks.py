"""The one background-task helper: results on the UI thread, stale results dropped,
cooperative cancel, failures reported."""

from __future__ import annotations

import threading
import time

from osler.cancel import CancelToken
from osler.ui.tasks import TaskRunner


def test_the_newest_task_of_a_key_wins_and_the_older_is_cancelled(qtbot):
    runner = TaskRunner()
    got, cancelled, threads = [], [], []
    release, started = threading.Event(), threading.Event()

    def slow(token: CancelToken) -> str:
        threads.append(threading.get_ident())
        started.set()
        release.wait(5)
        token.check()
        return "old"

    first = runner.run(slow, got.append, on_cancelled=lambda: cancelled.append("old"), key="k")
    assert started.wait(5)
    second = runner.run(lambda token: "new", got.append, key="k")
    release.set()
    qtbot.waitUntil(lambda: got == ["new"] and cancelled == ["old"], timeout=5_000)
    assert first.token.cancelled and not second.token.cancelled
    assert threads and threading.get_ident() not in threads
    assert not runner.busy()


def test_a_failure_reaches_its_handler_and_cancel_is_cooperative(qtbot):
    runner = TaskRunner()
    errors, cancelled = [], []
    runner.run(lambda token: 1 / 0, lambda _r: None, errors.append, key="a")
    started = threading.Event()

    def loop(token: CancelToken) -> None:
        started.set()
        while True:
            token.check()
            time.sleep(0.005)

    handle = runner.run(loop, lambda _r: None, on_cancelled=lambda: cancelled.append(1),
                        key="b")
    assert started.wait(5)
    handle.cancel()
    qtbot.waitUntil(lambda: bool(errors and cancelled), timeout=5_000)
    assert isinstance(errors[0], ZeroDivisionError)


def test_progress_reaches_the_ui_thread(qtbot):
    runner = TaskRunner()
    seen, done = [], []

    def work(token: CancelToken) -> str:
        for i in range(3):
            token.report(f"stage {i}", i / 2)
        return "ok"

    runner.run(work, done.append, key="p",
               on_progress=lambda stage, frac: seen.append((stage, frac,
                                                            threading.get_ident())))
    qtbot.waitUntil(lambda: done == ["ok"], timeout=5_000)
    assert [s[:2] for s in seen] == [("stage 0", 0.0), ("stage 1", 0.5), ("stage 2", 1.0)]
    assert {s[2] for s in seen} == {threading.get_ident()}
