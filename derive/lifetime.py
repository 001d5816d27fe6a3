"""How long a forked process lives: no longer than the process that forked it.

Its own module, free of sympy, so that the CLI can fork its `--jobs` processes before importing sympy.
"""

from __future__ import annotations

import os
import signal

__all__ = ["die_with_parent"]


def die_with_parent() -> None:
    """Ask Linux to kill this process when the one that forked it dies: a worker killed at its bound leaves
    no busy worker of its own behind, and a process of `--jobs` does not wait for work forever after a
    signal ended its parent. Elsewhere a worker ends when its pipe closes, after the call it is running."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the request took effect
            os._exit(0)
    except (OSError, AttributeError, ImportError):
        pass
