"""Derivation-level and engine-level fuzzing: generated expressions and derivation texts, in both syntaxes.

Any exception other than DeriveError fails; a correct generated step is never refuted and a wrong one is
never proved or confirmed. The default run is short; `DERIVE_LONG_FUZZ=1` runs many more examples.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DeriveError
from derive.functions import sigmoid, softplus
from derive.printing import to_latex, to_text
from derive.symbols import symbol
from derive.verify import Verdict, verify_equal

LONG = os.environ.get("DERIVE_LONG_FUZZ") == "1"
BOUND = timedelta(seconds=30)  # per example: a hang guard, not a speed target
EXAMPLES = 2_000 if LONG else 25
FUZZ = settings(
    max_examples=EXAMPLES, deadline=BOUND, suppress_health_check=list(HealthCheck), database=None, derandomize=not LONG
)

x, a = symbol("x"), symbol("a")
LEAVES = [x, x, a, sympy.Integer(2), sympy.Integer(3), sympy.Rational(1, 2), sympy.pi]
UNARY = [sympy.sin, sympy.cos, sympy.exp, sympy.tanh, sympy.atan, sigmoid, softplus, lambda u: sympy.log(u**2 + 1),
         lambda u: sympy.sqrt(u**2 + 1)]
BINARY = [sympy.Add, sympy.Mul, lambda u, v: u - v, lambda u, v: u / (v**2 + 1), lambda u, v: u ** sympy.Integer(2)]


def _combine(children: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: t[0](t[1]))
    binary = st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: t[0](t[1], t[2]))
    return unary | binary


# Built as sympy objects (derive's own functions included), then printed: valid input in both syntaxes.
expressions = st.recursive(st.sampled_from(LEAVES), _combine, max_leaves=6).filter(lambda e: e.has(x))
syntaxes = st.sampled_from(["text", "latex"])


def written(expr: sympy.Expr, syntax: str) -> str:
    return to_latex(expr) if syntax == "latex" else to_text(expr)


def claim(lhs: sympy.Expr, rhs: sympy.Expr, syntax: str) -> str:
    if syntax == "latex":
        return rf"\frac{{d}}{{dx}}\left({to_latex(lhs)}\right) = {to_latex(rhs)}"
    return f"d/dx({to_text(lhs)}) = {to_text(rhs)}"


@st.composite
def mutated_bytes(draw: st.DrawFn, text: str) -> str:
    data = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        byte = draw(st.integers(min_value=0, max_value=255))
        kind = draw(st.sampled_from(["delete", "insert", "replace"]))
        if kind == "delete" and position < len(data):
            del data[position]
        elif kind == "insert":
            data.insert(position, byte)
        elif position < len(data):
            data[position] = byte
    return data.decode("utf-8", errors="replace")


def checked(text: str) -> derive.Report | None:
    """derive.check, where a DeriveError is a clean answer (None) and anything else fails the test."""
    try:
        return derive.check(text)
    except DeriveError:
        return None


@FUZZ
@given(expressions, syntaxes)
def test_a_correct_generated_step_is_never_refuted(expr: sympy.Expr, syntax: str) -> None:
    report = checked(claim(expr, sympy.diff(expr, x), syntax))
    assert report is not None
    assert all(step.verdict != Verdict.REFUTED for step in report.steps), report.to_dict()


@FUZZ
@given(expressions, syntaxes, st.sampled_from([1, x, sympy.Rational(1, 10**25), -1]))
def test_a_wrong_generated_step_is_never_accepted(expr: sympy.Expr, syntax: str, error: sympy.Expr) -> None:
    report = checked(claim(expr, sympy.diff(expr, x) + error, syntax))
    assert report is not None
    assert not report.ok and all(s.verdict not in (Verdict.PROVED, Verdict.CONFIRMED) for s in report.steps)


@FUZZ
@given(st.data(), expressions, syntaxes)
def test_a_mutated_derivation_is_checked_or_refused_with_a_derive_error(
    data: st.DataObject, expr: sympy.Expr, syntax: str
) -> None:
    text = f"u = {written(expr, syntax)}\n" + claim(expr, sympy.diff(expr, x), syntax)
    report = checked(data.draw(mutated_bytes(text)))
    assert report is None or isinstance(report.ok, bool)


@FUZZ
@given(expressions, syntaxes)
def test_the_engine_differentiates_generated_expressions_correctly(expr: sympy.Expr, syntax: str) -> None:
    try:
        derivation = derive.differentiate(written(expr, syntax), "x")
    except DeriveError:
        return
    assert verify_equal(derivation.result, sympy.diff(expr, x), timeout=10).verdict != Verdict.REFUTED


@FUZZ
@given(st.data(), expressions, syntaxes)
def test_the_engine_on_mutated_input_answers_or_raises_a_derive_error(
    data: st.DataObject, expr: sympy.Expr, syntax: str
) -> None:
    text = data.draw(mutated_bytes(written(expr, syntax)))
    with contextlib.suppress(DeriveError):
        derive.differentiate(text, "x")


@pytest.mark.parametrize("syntax", ["text", "latex"])
def test_the_generator_writes_input_that_parses_back(syntax: str) -> None:
    expr = sigmoid(sympy.sin(x) * a) + sympy.sqrt(x**2 + 1)
    assert sympy.simplify(derive.parse(written(expr, syntax)) - expr) == 0
