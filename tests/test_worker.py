"""The isolated worker: a hard time and memory bound that holds inside C code, from any thread or process."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
import sympy

from derive.bounded import BoundExceeded, IsolatedTimeout, WorkerFailed, run_bounded, run_isolated
from derive.worker import Unsendable, shutdown

SAFETY = 10.0


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def worker_pid() -> int:
    return os.getpid()


def parent_and_worker(_: int) -> tuple[int, int]:
    return os.getpid(), run_isolated(os.getppid, seconds=SAFETY)


def test_a_call_returns_its_value_from_another_process() -> None:
    assert run_isolated(sympy.expand, sympy.Symbol("x") * (sympy.Symbol("x") + 1), seconds=SAFETY) == sympy.sympify(
        "x**2 + x"
    )
    assert run_isolated(worker_pid, seconds=SAFETY) != os.getpid()


def test_a_long_c_call_that_ignores_signals_is_stopped_and_the_worker_replaced() -> None:
    started = time.monotonic()
    with pytest.raises(IsolatedTimeout, match=r"time limit of 0\.5 s"):
        run_isolated(sympy.Float, "1e99999999", seconds=0.5)
    assert time.monotonic() - started < SAFETY
    assert run_isolated(int, "7", seconds=SAFETY) == 7


def test_a_call_that_exceeds_the_memory_bound_fails_cleanly_and_the_next_call_works() -> None:
    with pytest.raises(WorkerFailed, match="memory"):
        run_isolated(allocate, 64 * 1024, seconds=SAFETY)
    assert run_isolated(allocate, 1, seconds=SAFETY) == 1024 * 1024


def test_a_worker_that_dies_is_reported_and_respawned() -> None:
    with pytest.raises(WorkerFailed, match="died"):
        run_isolated(crash, seconds=SAFETY)
    assert run_isolated(int, "3", seconds=SAFETY) == 3


def test_an_exception_from_the_call_passes_through_and_keeps_the_worker() -> None:
    before = run_isolated(worker_pid, seconds=SAFETY)
    with pytest.raises(ValueError, match="invalid literal"):
        run_isolated(int, "not a number", seconds=SAFETY)
    assert run_isolated(worker_pid, seconds=SAFETY) == before


def test_a_call_that_cannot_be_pickled_is_refused_without_harm() -> None:
    with pytest.raises(Unsendable):
        run_isolated(lambda: 1, seconds=SAFETY)
    assert run_isolated(int, "4", seconds=SAFETY) == 4


def test_no_zombie_is_left_after_a_kill() -> None:
    with pytest.raises(BoundExceeded):
        run_isolated(time.sleep, SAFETY, seconds=0.2)
    zombies = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                zombies.append(name)
    assert zombies == []


def test_outside_the_main_thread_run_bounded_uses_the_worker_and_stops_the_call() -> None:
    outcome: list[object] = []

    def work() -> None:
        try:
            outcome.append(run_bounded(time.sleep, SAFETY, seconds=0.2))
        except BoundExceeded as error:
            outcome.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(SAFETY * 2)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], BoundExceeded)


def test_several_threads_take_turns_on_the_worker() -> None:
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda k=k: results.append(run_isolated(int, str(k), seconds=SAFETY)))
        for k in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY * 2)
    assert sorted(results) == list(range(6))


def test_each_process_of_a_pool_gets_its_own_worker() -> None:
    run_isolated(int, "1", seconds=SAFETY)  # the parent's worker exists before the pool forks
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pairs = pool.map(parent_and_worker, range(4))
    assert all(parent == worker_parent for parent, worker_parent in pairs)
    assert all(parent != os.getpid() for parent, _ in pairs)


def test_shutdown_stops_the_worker_and_a_later_call_starts_a_new_one() -> None:
    first = run_isolated(worker_pid, seconds=SAFETY)
    shutdown()
    with pytest.raises(ChildProcessError):
        os.waitpid(first, os.WNOHANG)  # ended and reaped
    assert run_isolated(worker_pid, seconds=SAFETY) != first
