"""The grammars' LALR parse tables, stored as JSON next to the grammars and loaded instead of built.

Building the plain-text parser from its grammar takes about 0.1 s and the LaTeX one about 0.25 s, on
every run of the command line; loading the tables takes a few milliseconds. The tables are lark's own
serialisation of the built parser, written as JSON (never pickle: loading them runs no code). Each file
carries a fingerprint of the grammar texts, the parser options and lark's version; a file that does not
match (a grammar edited, another lark) is ignored and the parser is built from the grammar as before.
Regenerate after editing a grammar: `.venv/bin/python -m derive.tables` (a test fails until then).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import lark
from lark import Lark
from lark.exceptions import LarkError
from lark.grammar import Rule
from lark.lexer import TerminalDef, Token

OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "start": ["expression", "statement"],
    "propagate_positions": False,
    "maybe_placeholders": False,
}
GRAMMARS = ("plain", "latex")


def grammar_folder() -> Traversable:
    return resources.files("derive.grammar")


def fingerprint(folder: Traversable) -> str:
    """What the tables were built from: every grammar file (they import each other), the options, lark."""
    digest = hashlib.sha256(f"lark {lark.__version__}\n{json.dumps(OPTIONS, sort_keys=True)}\n".encode())
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".lark")), key=lambda e: e.name):
        digest.update(f"{entry.name}\n".encode())
        digest.update(entry.read_bytes().replace(b"\r\n", b"\n"))  # a checkout may change line endings
    return digest.hexdigest()


def build(name: str) -> Lark:
    """The parser of grammar `name`, built from the grammar text."""
    folder = grammar_folder()
    text = folder.joinpath(f"{name}.lark").read_text(encoding="utf-8")
    with resources.as_file(folder) as path:
        return Lark(text, import_paths=[str(path)], **OPTIONS)


def load(name: str) -> Lark | None:
    """The parser of grammar `name` from its stored tables, or None when there are none for this grammar."""
    folder = grammar_folder()
    stored = folder.joinpath(f"{name}.tables.json")
    try:
        document = json.loads(stored.read_text(encoding="utf-8"), object_hook=_decoded)
        if document.get("fingerprint") != fingerprint(folder):
            return None
        return Lark._load_from_dict(document["data"], document["memo"])  # how lark's standalone parsers load
    except (OSError, ValueError, KeyError, TypeError, AttributeError, LarkError):
        return None  # missing, damaged or from another format: the grammar itself is always there


def tables(parser: Lark) -> dict[str, Any]:
    """The JSON document of a built parser's tables."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    return {"fingerprint": fingerprint(grammar_folder()), "lark": lark.__version__,
            "data": _encoded(data), "memo": _encoded(memo)}


def write(name: str) -> str:
    """Build grammar `name` and store its tables next to it (in the source tree); the file's path."""
    folder = grammar_folder()
    with resources.as_file(folder.joinpath(f"{name}.tables.json")) as path:
        path.write_text(json.dumps(tables(build(name)), separators=(",", ":")) + "\n", encoding="utf-8")
        return str(path)


# JSON has no tuples and only text keys, where lark's tables have both (states are numbered).
def _encoded(value: Any) -> Any:
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: _encoded(v) for k, v in value.items()}
        return {"__items__": [[_encoded(k), _encoded(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encoded(v) for v in value]}
    if isinstance(value, list):
        return [_encoded(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in parse tables")


def _decoded(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "__tuple__" in obj:
            return tuple(obj["__tuple__"])
        if "__items__" in obj:
            return dict(obj["__items__"])  # a key that was a tuple is one again (decoded first)
    return obj


if __name__ == "__main__":  # pragma: no cover
    for grammar in GRAMMARS:
        print(write(grammar))
