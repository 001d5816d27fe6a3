"""A pre-forked worker process that runs risky sympy calls under a hard time and memory bound.

A signal-based bound (derive.bounded) cannot stop one long C call (`Float("1e99999999")`, a huge gmpy
product) and runs unbounded outside the main thread. The worker can: it is forked (after `import sympy`,
so it starts warm) on first need, its address space is capped with RLIMIT_AS, and a call that runs past
its bound is ended by killing the process; the next call forks a fresh one. The parent only ever waits on
the pipe with a timeout, so it never hangs on a dead or stuck worker.

One worker per process: a process of the CLI's `--jobs` pool, forked from a parent that had a worker,
notices that the worker is not its own (by pid) and starts its own. Calls from several threads take
turns on a lock whose wait counts towards their bound.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from derive.errors import DeriveError
from derive.lifetime import die_with_parent
from derive.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

T = TypeVar("T")

__all__ = ["Unsendable", "WorkerFailed", "configure", "current_limits", "run_isolated", "shutdown"]

# How long a clean shutdown waits for the worker before killing it.
_JOIN_SECONDS = 1.0


class WorkerFailed(DeriveError):
    """The worker died (out of memory, a crash) or could not take the call."""


class _TimedOut(Exception):
    pass


def _set_memory_limit(megabytes: int) -> None:
    """Cap the address space at its current size plus `megabytes` (RLIMIT_AS counts mapped, not used, memory)."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            current = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:")), 0)
        limit = current + megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS (not Linux): the time bound still holds


def _serve(connection: Connection, megabytes: int) -> None:
    """The worker's loop: receive (fn, args, kwargs), send ("ok", value) or ("error", exception)."""
    global _inside_worker
    _inside_worker = True
    _set_memory_limit(megabytes)
    while True:
        try:
            task = _receive(connection)
        except (EOFError, OSError):
            return
        except Exception as error:  # a task that cannot be rebuilt here (a function the worker lacks)
            connection.send(("error", WorkerFailed(f"cannot be received by the worker: {error}")))
            continue
        if task is None:
            return
        fn, args, kwargs = task
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except MemoryError:
            reply = ("error", WorkerFailed("memory limit reached"))
        except RecursionError:
            reply = ("error", WorkerFailed("expression nested too deeply"))
        except Exception as error:
            reply = ("error", _portable(error))
        try:
            connection.send(reply)
        except MemoryError:
            connection.send(("error", WorkerFailed("memory limit reached")))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as error:
            connection.send(("error", WorkerFailed(f"result cannot be sent back: {error}")))


def _receive(connection: Connection) -> Any:
    """One object off the pipe, sympy expressions rebuilt exactly as they were sent.

    Unpickling calls each node's constructor; with sympy's evaluation off, -(a - y) stays -(a - y) rather
    than becoming y - a, so a derivation computed in the worker reads as it would have in the caller."""
    from sympy.core.parameters import evaluate

    with evaluate(False):
        return connection.recv()


def _portable(error: Exception) -> Exception:
    """The exception itself if it survives pickling, else a WorkerFailed with its message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return WorkerFailed(f"{type(error).__name__}: {error}")


class Unsendable(WorkerFailed):
    """The call or its arguments do not pickle (a lambda, a closure): it cannot go to the worker."""


class _Worker:
    """One live worker process and the parent's end of its pipe."""

    def __init__(self, megabytes: int) -> None:
        # A plain fork, not multiprocessing.Process: the daemonic processes of a multiprocessing pool
        # may not start Process children, and they need a worker too. Imported here, on first need:
        # most commands never start a worker, and multiprocessing takes 10 ms to import.
        import multiprocessing

        self.connection, child = multiprocessing.Pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker
            status = 0
            try:
                self.connection.close()
                if _inside_worker:
                    die_with_parent()
                _serve(child, megabytes)
            except BaseException:
                status = 1
            finally:
                os._exit(status)  # never the parent's atexit handlers, pytest or the rest of its stack
        child.close()
        self.owner = os.getpid()
        self.exitcode: int | None = None

    def alive(self) -> bool:
        if self.exitcode is not None:
            return False
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.exitcode = -1
            return False
        if pid == 0:
            return True
        self.exitcode = status
        return False

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict, seconds: float) -> tuple[str, Any]:
        try:
            # Connection.send pickles the whole task before writing, so a failure here sends nothing.
            self.connection.send((fn, args, kwargs))
        except (pickle.PicklingError, AttributeError, TypeError, RecursionError) as error:
            raise Unsendable(f"cannot be sent to the worker: {error}") from None
        if not self.connection.poll(seconds):
            raise _TimedOut
        return _receive(self.connection)

    def stop(self, *, kill: bool) -> None:
        if os.getpid() != self.owner:
            return  # a forked copy of another process's worker handle: not ours to stop
        if not kill:
            with contextlib.suppress(OSError):
                self.connection.send(None)
            end = time.monotonic() + _JOIN_SECONDS
            while self.alive() and time.monotonic() < end:
                time.sleep(0.005)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)  # reaped: no zombie left behind
            self.exitcode = -signal.SIGKILL
        self.connection.close()


class _Lane:
    """One worker and the lock that makes callers take turns on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.worker: _Worker | None = None


# Two lanes: risky steps, and whole calls from other threads (derive.bounded). A whole call may hold its
# worker for minutes; a risky step of the main thread must not wait behind it.
_LANES = ("steps", "calls")
_lanes: dict[str, _Lane] = {name: _Lane() for name in _LANES}
_limits: Limits = DEFAULT_LIMITS
# True in a worker process: a worker it starts (a risky step inside a whole call) dies with it.
_inside_worker = False


def configure(limits: Limits) -> None:
    """Use `limits.worker_memory_mb` for the workers started from now on (the running ones are replaced)."""
    global _limits
    _limits = limits
    shutdown()


def current_limits() -> Limits:
    """The limits the worker runs under (set by `configure`)."""
    return _limits


def run_isolated(fn: Callable[..., T], *args: Any, seconds: float, lane: str = "steps", **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in the worker of `lane`, within `seconds` and the memory bound.

    `fn`, its arguments and its result must pickle (module-level functions, sympy objects). Raises
    `derive.bounded.BoundExceeded` when the bound is reached (the worker is killed and replaced on the
    next call) and `WorkerFailed` when the worker dies; an exception raised by `fn` passes through.
    """
    from derive.bounded import IsolatedTimeout  # bounded imports this module

    slot = _lanes[lane]
    deadline = time.monotonic() + seconds
    if seconds <= 0 or not slot.lock.acquire(timeout=seconds):
        raise IsolatedTimeout(seconds)
    try:
        if slot.worker is not None and (slot.worker.owner != os.getpid() or not slot.worker.alive()):
            if slot.worker.owner == os.getpid():
                slot.worker.stop(kill=True)
            slot.worker = None
        if slot.worker is None:
            slot.worker = _Worker(_limits.worker_memory_mb)
        worker = slot.worker
        finished = False
        try:
            kind, value = worker.call(fn, args, kwargs, max(deadline - time.monotonic(), 0.0))
            finished = True
        except Unsendable:
            finished = True
            raise
        except _TimedOut:
            raise IsolatedTimeout(seconds) from None
        except (EOFError, OSError):
            raise WorkerFailed("the worker process died (memory limit reached or crashed)") from None
        finally:
            if not finished:
                # Interrupted, timed out or dead: the worker may still be busy; it is replaced.
                worker.stop(kill=True)
                slot.worker = None
    finally:
        slot.lock.release()
    if kind == "error":
        raise value
    return value


def shutdown() -> None:
    """Stop this process's workers, if any (also run at exit)."""
    for slot in _lanes.values():
        with slot.lock:
            if slot.worker is not None and slot.worker.owner == os.getpid():
                slot.worker.stop(kill=False)
            slot.worker = None


def _forget_after_fork() -> None:
    """In a forked child the parent's workers and locks are not ours: start afresh (lazily)."""
    global _lanes
    for slot in _lanes.values():
        if slot.worker is not None:
            slot.worker.connection.close()
    _lanes = {name: _Lane() for name in _LANES}


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)
