"""Limits: hostile input fails fast with a LimitError before sympy computes anything large; no eval anywhere."""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
from pathlib import Path

import pytest
import sympy

import derive
from derive import LimitError, ParseError, parse
from derive.limits import Limits
from derive.parse import ParseContext
from derive.statements import read_statements
from derive.symbols import symbol

x = symbol("x")

# (input, read as LaTeX, words the message contains)
REFUSED = [
    ("(" * 100_000 + "x" + ")" * 100_000, False, "input too long"),
    ("x+" * 10_001 + "x", False, "input too long"),
    ("(" * 200 + "x" + ")" * 200, False, "nested more than 120 deep"),
    ("[" * 121 + "x" + "]" * 121, False, "nested more than 120 deep"),
    ("|" * 300, False, "nested more than 120 deep"),
    ("{" * 130 + "x" + "}" * 130, True, "nested more than 120 deep"),
    ("-" * 5_000 + "x", False, "nested more than 120 deep"),
    ("x^" * 2_000 + "x", False, "nested more than 120 deep"),
    ("d/dx " * 1_000 + "x", False, "nested more than 120 deep"),
    ("9" * 301, False, "301 digits"),
    ("0." + "0" * 300 + "1", False, "digits"),
    ("9^9^9^9", False, "constant power too large"),
    ("2^(10^10)", False, "constant power too large"),
    ("10^10^10", False, "constant power too large"),
    ("2^-10^10", False, "constant power too large"),
    ("(1/3)^(-10^10)", False, "constant power too large"),
    ("(-2)^(10^10)", False, "constant power too large"),
    ("(2x)^(10^10)", False, "constant power too large"),
    ("sqrt(2)^(10^10)", False, "constant power too large"),
    ("abs(2x)^(10^10)", False, "constant power too large"),
    ("(pi*2)^(10^10)", False, "constant power too large"),
    ("2^(1/2 + 10^10)", False, "constant power too large"),
    ("exp(log(2)*10^10)", False, "constant power too large"),
    ("e^(10^10 log(2))", False, "constant power too large"),
    (r"e^{10^{10} \ln 2}", True, "constant power too large"),
    (r"\sqrt{2}^{10^{10}}", True, "constant power too large"),
    (r"2^{2^{2^{2^{2}}}}", True, "constant power too large"),
    ("2^9000*2^9000", False, "exact number too large"),
    ("+".join(f"1/{k}" + "9" * 290 for k in range(1, 40)), False, "exact number too large"),
    ("sqrt(3^6000 + 1)", False, "root of a number too large"),
    ("(2^(10^4))^(1/3)", False, "root of a number too large"),
]


@pytest.mark.parametrize(("text", "latex", "words"), REFUSED, ids=[repr(c[0][:30]) for c in REFUSED])
def test_hostile_input_is_refused_with_a_limit_error(text: str, latex: bool, words: str) -> None:
    with pytest.raises(LimitError) as caught:
        parse(text, latex=latex)
    assert words in caught.value.message
    assert caught.value.line >= 1 and caught.value.column >= 1


ALLOWED = [
    ("x^(10^10)", x ** (10**10)),
    ("(x^2)^(10^10)", x ** (2 * 10**10)),
    ("e^(10^10)", sympy.exp(10**10)),
    ("2^100", sympy.Integer(2) ** 100),
    ("2^(2^13)", sympy.Integer(2) ** (2**13)),
    ("(-1)^(10^10)", sympy.Integer(1)),
    ("sqrt(" + "9" * 300 + ")", sympy.sqrt(sympy.Integer("9" * 300))),
    ("9" * 300, sympy.Integer("9" * 300)),
    ("(" * 100 + "x" + ")" * 100, x),
]


@pytest.mark.parametrize(("text", "expected"), ALLOWED, ids=[repr(c[0][:30]) for c in ALLOWED])
def test_large_but_harmless_input_is_accepted(text: str, expected: sympy.Expr) -> None:
    assert parse(text) == expected


def test_a_limit_error_is_a_parse_error_with_a_position() -> None:
    with pytest.raises(ParseError) as caught:
        parse("x + 2^(10^10)")
    assert isinstance(caught.value, LimitError)
    assert (caught.value.line, caught.value.column) == (1, 6)


def test_the_node_limit_counts_parse_tree_nodes() -> None:
    small = ParseContext(limits=Limits(max_nodes=50))
    assert parse("x + " * 5 + "x", context=small) == 6 * x
    with pytest.raises(LimitError, match="more than 50 parts"):
        parse("x + " * 60 + "x", context=small)


def test_limits_can_be_tightened_for_one_call() -> None:
    strict = ParseContext(limits=Limits(max_digits=3, max_power_bits=100))
    with pytest.raises(LimitError, match="4 digits"):
        parse("1234", context=strict)
    with pytest.raises(LimitError, match="constant power"):
        parse("2^101", context=strict)
    assert parse("2^99", context=strict) == 2**99


def test_a_derivation_longer_than_the_text_limit_is_refused() -> None:
    with pytest.raises(LimitError, match="too long"):
        read_statements("x = 1\n" * 200, limits=Limits(max_text_chars=1_000))
    with pytest.raises(LimitError, match="too many lines"):
        read_statements("x = 1\n" * 200, limits=Limits(max_lines=100))


# -- no eval ------------------------------------------------------------------------------------------

# Called by name (`eval(...)`, `sympify(...)`) or as an attribute (`sympy.sympify(...)`, `builtins.eval(...)`);
# `re.compile` and a sympy class's own `eval` classmethod are not what this is about.
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "sympify", "parse_expr", "lambdify", "S"}
FORBIDDEN_ATTRIBUTES = {"sympify", "parse_expr", "lambdify", "parse_latex"}
FORBIDDEN_ON = {"builtins": {"eval", "exec", "compile", "__import__"}, "sympy": {"S"}}
PACKAGE = Path(derive.__file__).parent


def _forbidden_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name):
            bad = function.id in FORBIDDEN_NAMES
            name = function.id
        elif isinstance(function, ast.Attribute):
            owner = function.value.id if isinstance(function.value, ast.Name) else ""
            name = function.attr
            bad = name in FORBIDDEN_ATTRIBUTES or name in FORBIDDEN_ON.get(owner, set())
        else:
            continue
        if bad:
            found.append(f"{path.name}:{node.lineno} calls {name}")
    return found


def test_the_scan_finds_each_forbidden_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import re, sympy, builtins\neval('1')\nsympy.sympify('x')\nbuiltins.exec('')\n"
                      "sympy.S('x')\nre.compile('x')\n")
    assert [line.split(" calls ")[1] for line in _forbidden_calls(sample)] == ["eval", "sympify", "exec", "S"]


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_module_of_derive_calls_eval_exec_sympify_parse_expr_or_lambdify(path: Path) -> None:
    assert _forbidden_calls(path) == []


def test_parsing_never_hands_text_to_eval_exec_or_sympify(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("sympy.core.sympify")  # the module; sympy.core.sympify is the function
    real_sympify = module.sympify

    def refuse_text(a: object, *args: object, **kwargs: object) -> object:
        if isinstance(a, str):
            raise AssertionError(f"sympify was given text: {a!r}")
        return real_sympify(a, *args, **kwargs)

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("eval or exec was called")

    monkeypatch.setattr(module, "sympify", refuse_text)
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    for text in ["__import__('os').system('true')", "x.__class__", "1/2*(a - y(z))^2 + sigmoid(z)", "sin(x)**2",
                 r"\frac{\partial E(z)}{\partial z} + \sqrt[3]{x}", "exec(x)", "eval(y)", "lambda(x)"]:
        with contextlib.suppress(ParseError):
            parse(text)


def test_a_derivation_that_needs_more_steps_than_the_limit_is_refused() -> None:
    from derive.rewrite import rewrite_all

    many = sympy.Derivative(sympy.Add(*[sympy.sin(k * x) for k in range(1, 8)]), x, evaluate=False)
    with pytest.raises(LimitError, match="more than 3 steps"):
        rewrite_all(many, ["x"], max_steps=3)
    assert len(rewrite_all(many, ["x"])) > 3
