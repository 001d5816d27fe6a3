"""Naming a wrong step's mistake: each catalogue entry recognised, and silence when nothing matches."""

from __future__ import annotations

import pytest
import sympy

from derive.check import check
from derive.definitions import Definitions, interpret
from derive.diagnose import CATALOGUE, diagnose
from derive.symbols import symbol

x = symbol("x")

EXAMPLES = [
    ("d/dx cos(x) = sin(x)", "sign error"),
    ("d/dx 1/x = 1/x^2", "sign error"),
    ("E = 1/2 (a - y)^2\ny = tanh(z)\ndE/dy = y - a\ndE/dz = (y - a)(1 - y^2)\ndE/dz = (a - y)(1 - y^2)", "sign error"),
    ("d/dx sin(x^2) = cos(x^2)", "forgot the inner derivative (chain rule)"),
    ("d/dx (a - x)^2 = 2(a - x)", "forgot the inner derivative (chain rule)"),
    ("E = 1/2 (a - y)^2\ny = sigmoid(z)\ndE/dz = dE/dy(z)", "forgot the inner derivative (chain rule)"),
    ("d/dx sin(3x) = 3 cos(x)", "derivative evaluated at the wrong argument"),
    ("d/dx f(g(x)) = f'(x) g'(x)", "derivative evaluated at the wrong argument"),
    ("d/dx (x^2 sin(x)) = 2x cos(x)", "product rule written as the product of derivatives"),
    ("d/dx (e^x (x + 1)) = e^x", "product rule written as the product of derivatives"),
    ("d/dx (x/(x + 1)) = -1/(x + 1)^2", "quotient rule numerator reversed"),
    ("d/dx (sin(x)/x) = (sin(x) - x cos(x))/x^2", "quotient rule numerator reversed"),
    ("d/dx x^3 = 3x^3", "power rule exponent not lowered"),
    ("d/dx (x^2 + 1)^5 = 10x (x^2 + 1)^5", "power rule exponent not lowered"),
    ("d/dx (a x^2) = 2 a x + x^2", "constant treated as a variable"),
    ("d/dx e^2 = 2e", "constant treated as a variable"),
    ("y1 = w z\ny2 = v z\nE = (a - y1)^2 + (b - y2)^2\ndE/dz = -2(a - y1) w", "missing path in a multivariable chain"),
    ("u = x^2\nf = u x\ndf/dx = 2x^2", "missing path in a multivariable chain"),
    ("d/dx tanh(x) = 1 + tanh(x)^2", "tanh' = 1 + tanh^2"),
    ("d/dx tanh(2x) = 2(1 + tanh(2x)^2)", "tanh' = 1 + tanh^2"),
    ("y = sigmoid(z)\ndy/dz = y (1 + y)", "σ' = σ(1+σ)"),
    ("d/dw sigmoid(w x) = sigmoid(w x)(1 + sigmoid(w x)) x", "σ' = σ(1+σ)"),
]


@pytest.mark.parametrize(("text", "mistake"), EXAMPLES, ids=[f"{m}: {t.splitlines()[-1]}" for t, m in EXAMPLES])
def test_a_classic_mistake_is_named(text: str, mistake: str):
    step = check(text).steps[-1]
    assert step.verdict.value == "refuted"
    assert step.diagnosis == mistake


def test_every_catalogue_entry_has_an_example():
    assert {m for _, m in EXAMPLES} == set(CATALOGUE)
    assert len(CATALOGUE) == 10


UNLIKE_ANY = [
    "d/dx x^2 = 2",
    "d/dx sin(x) = x",
    "d/dx ln(x) = 1/x^2",
    "d/dx e^x = x e^(x - 1)",
    "d/dx (x^3 + x) = 7",
    "(a - y)^2 = a^2 - y^2",
    "h = w x\na = sigmoid(h)\nE = 1/2 (a - t)^2\ndE/dw = (a - t) x",
    "d/dx f(g(x)) = g'(f(x))",
    "u = sin(x)\nf = u^3\ndf/dx = 1",  # df/df = 1 is no forgotten link
]


@pytest.mark.parametrize("text", UNLIKE_ANY, ids=[t.splitlines()[-1] for t in UNLIKE_ANY])
def test_a_wrong_step_unlike_any_catalogue_entry_gets_no_diagnosis(text: str):
    step = check(text).steps[-1]
    assert step.verdict.value == "refuted"
    assert step.diagnosis is None


def test_a_mistake_in_the_middle_of_a_chain_is_named_against_the_chain_head():
    report = check("d/dx sin(x^2) = cos(x^2) d/dx(x^2)\n= cos(x^2)")
    assert [s.verdict.value for s in report.steps] == ["proved", "refuted"]
    assert report.steps[1].diagnosis == "forgot the inner derivative (chain rule)"


def test_a_forgotten_inner_derivative_is_preferred_to_a_bare_sign_error():
    # 2(a - x) is also -(true derivative); the more specific name wins
    (step,) = check("d/dx (a - x)^2 = 2(a - x)").steps
    assert step.diagnosis == "forgot the inner derivative (chain rule)"


def test_diagnose_says_nothing_without_time():
    target = sympy.Derivative(x**3, x)
    claimed = 3 * x**3
    assert diagnose((target,), claimed, Definitions(), budget=1.0) == "power rule exponent not lowered"
    assert diagnose((target,), claimed, Definitions(), budget=0.0) is None


def test_diagnose_says_nothing_about_a_claim_that_is_right():
    target = sympy.Derivative(sympy.sin(x) ** 2, x)
    claimed = interpret(target, Definitions(), elementary=True)
    assert diagnose((target,), claimed, Definitions()) is None
