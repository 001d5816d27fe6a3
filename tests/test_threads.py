"""derive.check and derive.differentiate from a thread other than the main one (a web server's worker
thread, a thread pool): no signal bound works there, so the whole call runs in the worker process, under
its memory bound and `Limits.call_seconds`, and comes back exactly as it would have in the main thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import derive
from derive import worker
from derive.bounded import BoundExceeded, run_bounded
from derive.limits import DEFAULT_LIMITS, Limits
from derive.worker import configure, shutdown

SAFETY = 60.0

DERIVATIONS = [
    "d/dx sin(x^2) = 2 x cos(x^2) = 2 cos(x^2)",
    "E = 1/2 (a - y)^2\ny = sigmoid(z)\ndE/dz = dE/dy * dy/dz = -(a - y) y (1 - y)",
    "d/dx f(g(x)) = f'(g(x)) g'(x)",
    "d/dx(x (log(a) + log(b))) = log(a b)",
]


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a new thread: its value, or the exception it raised."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(fn(*args, **kwargs))
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(SAFETY)
    assert not thread.is_alive(), "the call outlived its bound"
    return outcome[0]


@pytest.fixture
def short_calls() -> Iterator[None]:
    configure(Limits(call_seconds=1.0))
    yield
    configure(DEFAULT_LIMITS)


@pytest.mark.parametrize("text", DERIVATIONS)
def test_a_check_from_another_thread_gives_the_main_threads_report(text: str) -> None:
    here = derive.check(text)
    there = in_thread(derive.check, text)
    assert there == here
    assert there.to_text() == here.to_text()


@pytest.mark.parametrize(
    ("expr", "wrt", "where", "style"),
    [
        ("1/2*(a - y)^2", "z", ["y = sigmoid(z)"], "leibniz"),
        ("1/2*(a - sigmoid(z))^2", "z", [], "expand"),
        ("x^x * f(x)", "x", [], "expand"),
    ],
)
def test_a_derivation_from_another_thread_reads_exactly_as_in_the_main_thread(
    expr: str, wrt: str, where: list[str], style: str
) -> None:
    here = derive.differentiate(expr, wrt, where=where, style=style)
    there = in_thread(derive.differentiate, expr, wrt, where=where, style=style)
    assert there == here
    # Not only equal: the steps keep their written form (-(a - y), not y - a).
    assert [str(s.after) for s in there.steps] == [str(s.after) for s in here.steps]


def test_bad_input_from_another_thread_is_the_same_clear_error() -> None:
    error = in_thread(derive.check, "d/dx (x +")
    assert isinstance(error, derive.ParseError)
    assert (error.line, error.column) == (1, 10)


def test_a_call_from_another_thread_is_stopped_at_call_seconds(short_calls: None) -> None:
    # Four hundred different steps take several seconds; the bound is one second.
    text = "\n".join(f"d/dx(x^{k} + sin({k} x)) = {k} x^{k - 1} + {k} cos({k} x)" for k in range(2, 402))
    started = time.monotonic()
    error = in_thread(derive.check, text)
    assert isinstance(error, BoundExceeded)
    assert time.monotonic() - started < SAFETY / 2
    configure(DEFAULT_LIMITS)
    assert in_thread(derive.check, DERIVATIONS[0]).steps[0].ok  # the worker was replaced


def test_the_call_runs_in_a_worker_of_its_own_not_in_the_calling_thread() -> None:
    shutdown()
    in_thread(derive.check, DERIVATIONS[0])
    lane = worker._lanes["calls"].worker
    assert lane is not None and lane.alive() and lane.pid != os.getpid()
    assert worker._lanes["steps"].worker is None  # risky steps have a worker of their own


def bounds_in_force() -> list[float]:
    from derive import bounded

    return list(bounded._deadlines)


def test_a_worker_forked_while_the_main_thread_is_inside_a_bound_does_not_inherit_that_bound() -> None:
    shutdown()
    # The calls' worker is forked from another thread while the main thread runs under a bound.
    run_bounded(in_thread, derive.check, "d/dx x = 1", seconds=SAFETY)
    assert in_thread(worker.run_isolated, bounds_in_force, seconds=SAFETY, lane="calls") == []
    assert in_thread(derive.check, DERIVATIONS[0]).steps[0].ok
