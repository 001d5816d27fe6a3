"""Time bounds: a call that runs too long is stopped with BoundExceeded, nested bounds never extend."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from derive.bounded import BoundExceeded, run_bounded
from derive.errors import DeriveError

# Loops give up on their own after this long, so that a broken bound fails a test instead of hanging it.
SAFETY = 10.0


def busy_loop() -> str:
    end = time.monotonic() + SAFETY
    while time.monotonic() < end:
        pass
    return "not stopped"


def sleeper() -> str:
    time.sleep(SAFETY)
    return "not stopped"


def test_a_quick_call_returns_its_value_and_gets_its_arguments() -> None:
    assert run_bounded(lambda a, b=0: a + b, 2, b=3, seconds=5) == 5


@pytest.mark.parametrize("fn", [busy_loop, sleeper], ids=["a busy loop", "a sleep"])
def test_a_call_that_runs_too_long_is_stopped(fn) -> None:
    with pytest.raises(BoundExceeded):
        run_bounded(fn, seconds=0.05)


def test_the_bound_is_a_derive_error_that_names_the_limit() -> None:
    with pytest.raises(DeriveError, match="time limit"):
        run_bounded(busy_loop, seconds=0.05)


def test_no_time_at_all_raises_at_once() -> None:
    with pytest.raises(BoundExceeded):
        run_bounded(lambda: "ran", seconds=0)


def test_a_shorter_inner_bound_stops_only_the_inner_call() -> None:
    def outer() -> str:
        with pytest.raises(BoundExceeded):
            run_bounded(busy_loop, seconds=0.05)
        return "outer finished"

    assert run_bounded(outer, seconds=5) == "outer finished"


def test_an_inner_bound_never_extends_the_outer_one() -> None:
    events = []

    def outer() -> None:
        try:
            run_bounded(busy_loop, seconds=SAFETY * 2)  # asks for more time than the outer bound has
        except BoundExceeded:
            events.append("inner stopped")  # and swallows the exception, as a verifier tier does
        busy_loop()
        events.append("outer ran on")

    with pytest.raises(BoundExceeded):
        run_bounded(outer, seconds=0.1)
    assert events == ["inner stopped"]


def test_the_previous_handler_and_timer_are_restored() -> None:
    before = signal.getsignal(signal.SIGALRM)
    run_bounded(lambda: None, seconds=5)
    with pytest.raises(BoundExceeded):
        run_bounded(busy_loop, seconds=0.05)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_exception_from_the_call_passes_through_unchanged() -> None:
    def fail() -> None:
        raise KeyError("inner")

    with pytest.raises(KeyError, match="inner"):
        run_bounded(fail, seconds=5)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_outside_the_main_thread_a_call_that_cannot_be_pickled_runs_unbounded() -> None:
    results = []

    def work() -> None:
        results.append(run_bounded(lambda: time.sleep(0.05) or "finished", seconds=0.01))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results == ["finished"]


def test_an_infinite_bound_runs_the_call_to_its_end() -> None:
    assert run_bounded(lambda: "finished", seconds=float("inf")) == "finished"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
