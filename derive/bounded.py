"""Time bounds for potentially expensive sympy calls: `run_bounded` stops a call that runs too long.

How it works: in the main thread of a platform with `signal.setitimer`, a real-time interval timer
delivers SIGALRM when the bound is reached and the handler raises `BoundExceeded` inside the running
call. Limits of this first version, stated plainly:

- Python delivers signals only between bytecodes, so a single long C-level operation (a huge gmpy
  multiplication, a regex) runs to its end before the bound takes effect. Calls that can do this go to
  `run_isolated` (re-exported here from derive.worker): a worker process killed at the bound.
- Outside the main thread (or without `setitimer`) the call goes to the isolated worker process
  (derive.worker), which needs no signals, when `fn` and its arguments pickle; a call that does not
  pickle (a lambda, a closure) runs unbounded there, with no error. The public calls (`derive.check`,
  `derive.differentiate`) avoid that: from another thread they run whole in the worker
  (`whole_in_worker_off_main_thread`), where every bound inside them is a signal bound again.
- An exception raised at an arbitrary bytecode can leave a half-updated cache behind in the code that
  was interrupted; sympy's caches tolerate this in practice. A process-isolated bound is the remedy
  for both weaknesses and can replace this one behind the same function.

Nested bounds work: an inner bound never extends the outer one, and when an inner call swallows the
outer bound's exception, the outer timer is re-armed so that the outer bound still fires promptly.
The alarm also repeats every few milliseconds until the bounded call ends, because code that catches
ValueError (BoundExceeded is one) would otherwise swallow the single alarm and run on unbounded.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from derive.errors import DeriveError
from derive.worker import Unsendable, WorkerFailed, current_limits, run_isolated

__all__ = [
    "BoundExceeded",
    "IsolatedTimeout",
    "WorkerFailed",
    "can_use_alarm",
    "run_bounded",
    "run_isolated",
    "whole_in_worker_off_main_thread",
]

T = TypeVar("T")
P = ParamSpec("P")

# A re-armed timer cannot be zero (zero disarms it): an expired outer bound fires after this delay.
_EXPIRED_DELAY = 1e-4
# BoundExceeded is a ValueError (as every DeriveError), and library code that catches ValueError
# would swallow it; so the alarm repeats at this interval until the bounded call has ended.
_REPEAT = 0.02
# setitimer rejects unbounded delays; a bound longer than this (a year) is as good as none.
_LONGEST = 365 * 24 * 3600.0

# Deadlines (time.monotonic) of the bounds currently running in the main thread, outermost first.
_deadlines: list[float] = []


class BoundExceeded(DeriveError):
    """A computation ran past its time bound and was stopped."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"time limit of {seconds:g} s reached")

    def __reduce__(self) -> tuple[type, tuple[float]]:
        return type(self), (self.seconds,)  # so that it crosses from the worker as itself


class IsolatedTimeout(BoundExceeded):
    """The isolated worker ran past its own bound (not an enclosing one) and was killed."""


def can_use_alarm() -> bool:
    """Can a signal bound run here (main thread, setitimer available)?"""
    return _can_use_alarm()


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def run_bounded(fn: Callable[..., T], *args: Any, seconds: float, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)` and raise `BoundExceeded` if it runs longer than `seconds`."""
    if seconds <= 0:
        raise BoundExceeded(seconds)
    if not _can_use_alarm():
        if seconds >= _LONGEST:
            return fn(*args, **kwargs)
        try:
            return run_isolated(fn, *args, seconds=seconds, **kwargs)
        except Unsendable:
            return fn(*args, **kwargs)
    now = time.monotonic()
    deadline = now + min(seconds, _LONGEST)
    if _deadlines:
        deadline = min(deadline, _deadlines[-1])
    # A timer armed by someone else (not by an enclosing run_bounded) is honoured and restored too.
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    foreign_deadline = now + previous_delay if previous_delay and not _deadlines else None
    if foreign_deadline is not None:
        deadline = min(deadline, foreign_deadline)
    previous_handler = signal.getsignal(signal.SIGALRM)
    finished = False

    def on_alarm(signum: int, frame: object) -> None:
        if not finished:  # an alarm arriving while cleaning up below must not interrupt the cleanup
            raise BoundExceeded(seconds)

    depth = len(_deadlines)
    try:
        _deadlines.append(deadline)
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), _EXPIRED_DELAY), _REPEAT)
        return fn(*args, **kwargs)
    finally:
        finished = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        del _deadlines[depth:]
        signal.signal(signal.SIGALRM, previous_handler)
        outer = _deadlines[-1] if _deadlines else foreign_deadline
        if outer is not None:
            # Restore the enclosing timer with the time it has left (or let it fire at once).
            remaining = max(outer - time.monotonic(), _EXPIRED_DELAY)
            signal.setitimer(signal.ITIMER_REAL, remaining, _REPEAT if _deadlines else previous_interval)


def whole_in_worker_off_main_thread(fn: Callable[P, T]) -> Callable[P, T]:
    """Decorate a public entry point (a module-level function): called from any thread but the main one,
    it runs whole in the worker process, within `Limits.call_seconds` and the worker's memory bound.

    Off the main thread no signal bound works, and the lambdas inside a check cannot be sent to the
    worker one by one; in the worker (a single-threaded process) every bound inside the call is a signal
    bound again, and the kill at `call_seconds` stops even a long C call. The result comes back pickled,
    rebuilt exactly. Arguments that do not pickle (a generator) leave the call here, unbounded as before.
    """

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        if _can_use_alarm():
            return fn(*args, **kwargs)
        try:
            # `call` itself goes: pickle finds it under fn's module and name, and in the worker (its
            # main thread) it runs fn directly.
            return run_isolated(call, *args, seconds=current_limits().call_seconds, lane="calls", **kwargs)
        except Unsendable:
            return fn(*args, **kwargs)

    return call


def _forget_bounds_after_fork() -> None:
    """A process forked while a bound ran (the worker, forked by another thread meanwhile) does not
    inherit that bound: its deadlines and alarm handler belong to the parent's call."""
    _deadlines.clear()
    if _can_use_alarm():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_forget_bounds_after_fork)
