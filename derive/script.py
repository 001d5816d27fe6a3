"""The `derive` console script and `python -m derive`: the command line, loaded under a Ctrl-C guard.

A Ctrl-C while `derive.cli` and the standard library it needs load (the first few milliseconds) ends the
command as one later does, with exit 130 and one line, not a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

EXIT_INTERRUPTED = 130  # as derive.cli, which is not loaded yet when this is needed


def run() -> NoReturn:
    try:
        from derive.cli import run as run_command_line
    except KeyboardInterrupt:
        try:
            sys.stderr.write("derive: interrupted\n")
            sys.stderr.flush()
        finally:
            os._exit(EXIT_INTERRUPTED)
    run_command_line()
