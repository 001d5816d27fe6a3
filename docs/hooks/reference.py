"""MkDocs hook: write the command line's own output into the pages at build time.

- A line `<!-- derive-help diff -->` (or `check`, or nothing for the top level) becomes a code block
  with what `derive diff --help` prints.
- A block `<!-- derive-check seed.txt` ... `-->` becomes a session that shows the file (the lines in
  between) and what `derive check seed.txt` prints for it, with its exit code.

So the reference and the examples can never drift from the program.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from derive.cli import main

HELP = re.compile(r"^<!-- derive-help(?: (?P<command>[a-z]+))? -->$", re.MULTILINE)
CHECK = re.compile(r"^<!-- derive-check (?P<name>[\w.-]+)\n(?P<text>.*?)\n-->$", re.MULTILINE | re.DOTALL)
WIDTH = "80"  # columns for argparse, whatever terminal (or none) the build runs in


@contextlib.contextmanager
def _columns(width: str) -> Iterator[None]:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def run(argv: list[str]) -> tuple[int, str]:
    """What `derive ARGV` prints (standard output and error, as a terminal shows them) and its exit code."""
    out = io.StringIO()
    with _columns(WIDTH), contextlib.redirect_stdout(out):
        code = main(argv, stdout=out, stderr=out, environ={})
    return code, out.getvalue().rstrip()


def help_block(found: re.Match[str]) -> str:
    command = found.group("command")
    argv = [command, "--help"] if command else ["--help"]
    _code, text = run(argv)
    if not text:
        raise PluginError(f"derive {' '.join(argv)} printed nothing")
    return f"```console\n$ derive {' '.join(argv)}\n{text}\n```"


def check_block(found: re.Match[str]) -> str:
    name, text = found.group("name"), found.group("text")
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path(name).write_text(text + "\n", encoding="utf-8")
        code, output = run(["check", name])
    return f"```console\n$ cat {name}\n{text}\n$ derive check {name}\n{output}\n$ echo $?\n{code}\n```"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return CHECK.sub(check_block, HELP.sub(help_block, markdown))
