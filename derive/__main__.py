"""`python -m derive`: the same command line as the `derive` script."""

from __future__ import annotations

from derive.script import run

run()
