"""The stop watcher shared by the engines stopped from another thread."""

from __future__ import annotations

import threading
import time

import pytest

from hzlogistics.solvers.track import watch_stop


def test_a_stop_set_during_the_block_calls_the_action_once() -> None:
    event, calls = threading.Event(), []
    with watch_stop(event, lambda: calls.append(time.perf_counter()), poll_s=0.01):
        t0 = time.perf_counter()
        event.set()
        for _ in range(500):  # the watcher acts within a poll or two
            if calls:
                break
            time.sleep(0.01)
        time.sleep(0.05)  # and only once, however long the block goes on
    assert len(calls) == 1
    assert calls[0] >= t0


def test_no_action_without_a_stop_or_after_the_block() -> None:
    event, calls = threading.Event(), []
    with watch_stop(event, lambda: calls.append("stop"), poll_s=0.01):
        time.sleep(0.05)
    event.set()  # the block has ended: its watcher with it
    time.sleep(0.05)
    assert calls == []


@pytest.mark.parametrize("stop", [None, object()])
def test_a_stop_that_cannot_be_waited_on_starts_no_thread(stop) -> None:
    before = {t.name for t in threading.enumerate()}
    with watch_stop(stop, lambda: pytest.fail("no watcher may act")):
        during = {t.name for t in threading.enumerate()}
    assert "hzlogistics-stop-watch" not in during - before


def test_the_block_can_end_the_engine_it_runs() -> None:
    # as CP-SAT's stop_search or a MipInterrupter would: the action ends the work
    event, finished = threading.Event(), threading.Event()

    def work() -> None:
        finished.wait(30)

    with watch_stop(event, finished.set, poll_s=0.01):
        threading.Timer(0.05, event.set).start()
        t0 = time.perf_counter()
        work()
        waited = time.perf_counter() - t0
    assert finished.is_set()
    assert waited < 30  # ended by the stop, not by the work's own limit
