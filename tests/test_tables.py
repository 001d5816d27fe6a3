"""The parse tables stored next to the grammars: current, and read exactly as the built parsers read.

The oracle is the parser lark builds from the grammar itself: over every derivation in the test corpus,
every hostile input and a table of bad inputs, a parser loaded from the stored tables must give the
same sympy objects and the same errors (message, line and column).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import lark
import pytest
import sympy
from lark.lexer import Token

from derive import tables
from derive.errors import DeriveError
from derive.statements import read_statements

HERE = Path(__file__).parent
CORPUS = sorted([*(HERE / "derivations").glob("*.t*"), *(HERE / "hostile").glob("*.t*")])
parse_module = importlib.import_module("derive.parse")  # derive.parse is also the name of a function
BAD_INPUTS = [
    "x +* 2",
    "sin(x",
    "1/2*(a - y))^2",
    "dE/dz = = 3",
    "\\frac{1}{2}(a - y(z)^2",
    "\\frac{1}{}",
    "x^{2",
    "\\sin{x}}",
    "d/dx x^2 = 2x\n  = = 3",
    "y(z) = sigmoid(z)\ndE/dz = dE/dy *",
]


def reading(text: str, latex: bool | None = None) -> str:
    """What derive makes of a text: its statements in full (sympy's srepr), or the error it reports."""
    try:
        statements = [(s.line, s.kind, s.continues, sympy.srepr(s.parts, order="none"))  # no term too large to order
                      for s in read_statements(text, latex=latex)]
        return re.sub(r"dummy_index=\d+", "", repr(statements))  # a fresh dummy for each reading
    except DeriveError as error:
        return f"{type(error).__name__}: {error}"


def readings(texts: list[str]) -> Iterator[str]:
    for text in texts:
        yield reading(text)
        for line in text.splitlines():
            yield reading(line, latex=False)
            yield reading(line, latex=True)


@pytest.fixture
def built_parsers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """derive with parsers built from the grammars, as if no tables were stored."""
    parse_module._parser.cache_clear()
    monkeypatch.setattr(tables, "load", lambda name: None)
    yield
    parse_module._parser.cache_clear()


def test_both_grammars_have_stored_tables_that_load():
    for name in tables.GRAMMARS:
        assert isinstance(tables.load(name), lark.Lark), name


def test_the_stored_tables_are_those_of_the_grammars_as_they_stand():
    for name in tables.GRAMMARS:
        stored = json.loads(tables.grammar_folder().joinpath(f"{name}.tables.json").read_text(encoding="utf-8"))
        if stored["lark"] != lark.__version__:
            pytest.skip(f"tables made with lark {stored['lark']}, lark {lark.__version__} installed")
        assert stored["fingerprint"] == tables.fingerprint(tables.grammar_folder()), (
            f"{name}.lark changed: regenerate the tables with `.venv/bin/python -m derive.tables`"
        )


def test_a_parser_loaded_from_tables_reads_everything_as_the_built_one(built_parsers, monkeypatch):
    texts = [path.read_bytes().decode("utf-8", errors="replace") for path in CORPUS] + BAD_INPUTS
    assert len(CORPUS) > 50
    from_grammar = list(readings(texts))
    monkeypatch.undo()  # the stored tables again
    parse_module._parser.cache_clear()
    from_tables = list(readings(texts))
    assert from_tables == from_grammar
    assert sum(r.startswith("ParseError") for r in from_grammar) >= len(BAD_INPUTS)


def test_tables_that_do_not_match_the_grammar_are_not_used(monkeypatch):
    monkeypatch.setattr(tables, "fingerprint", lambda folder: "another grammar")
    assert tables.load("plain") is None


def test_a_parser_is_built_from_the_grammar_when_no_tables_match(built_parsers):
    assert parse_module.parse("1/2*(a - y)^2") == sympy.Rational(1, 2) * (
        parse_module.symbol("a") - parse_module.symbol("y")) ** 2


@pytest.mark.parametrize(
    "value",
    [
        {0: {"NAME": ("SHIFT", 3)}, 1: {}},
        {"rules": [(1, 2), ("a", ("b", None))], "flag": True, "ratio": 0.5},
        {(0, "x"): [1, [2, (3,)]]},
    ],
)
def test_tables_survive_json_with_their_numbered_states_and_tuples(value):
    assert json.loads(json.dumps(tables._encoded(value)), object_hook=tables._decoded) == value


def test_a_token_is_stored_as_its_text():
    assert tables._encoded(Token("NAME", "x")) == "x"
    with pytest.raises(TypeError):
        tables._encoded(object())


def test_damaged_tables_are_ignored_and_the_grammar_is_used(tmp_path, monkeypatch):
    for entry in tables.grammar_folder().iterdir():
        if entry.name.endswith(".lark"):
            (tmp_path / entry.name).write_bytes(entry.read_bytes())
    monkeypatch.setattr(tables, "grammar_folder", lambda: tmp_path)
    (tmp_path / "plain.tables.json").write_text('{"fingerprint": "', encoding="utf-8")
    assert tables.load("plain") is None
    (tmp_path / "plain.tables.json").write_text("[]", encoding="utf-8")
    assert tables.load("plain") is None
    assert tables.load("latex") is None  # no file at all
    tables.write("plain")
    assert isinstance(tables.load("plain"), lark.Lark)


def test_line_endings_do_not_change_the_fingerprint(tmp_path):
    for entry in tables.grammar_folder().iterdir():
        if entry.name.endswith(".lark"):
            text = entry.read_bytes().replace(b"\r\n", b"\n")
            (tmp_path / entry.name).write_bytes(text.replace(b"\n", b"\r\n"))
    assert tables.fingerprint(tmp_path) == tables.fingerprint(tables.grammar_folder())
