"""Plain-text printing: derive's own notation, which `derive.parse` reads back to the same expression."""

from __future__ import annotations

import pytest
import sympy
from sympy import Abs, Derivative, E, Rational, Subs

from derive import parse
from derive.functions import relu, sigmoid, softplus
from derive.printing import to_text
from derive.symbols import function, symbol

x, y, z, E_, w_1, alpha = (symbol(n) for n in ("x", "y", "z", "E", "w_1", "alpha"))
f, g, Y = function("f"), function("g"), function("y")
t = sympy.Dummy("t")

PRINTED = [
    (x**2 * sympy.sin(x), "x^2*sin(x)"),
    (sympy.exp(x), "exp(x)"),
    (E, "e"),
    (E * x, "e*x"),
    (Abs(x), "abs(x)"),
    (sympy.Heaviside(x), "heaviside(x)"),
    (-(x**2), "-x^2"),
    (x ** Rational(2, 3), "x^(2/3)"),
    (1 / sympy.sqrt(x), "1/sqrt(x)"),
    ((x + 1) ** -2, "(x + 1)^(-2)"),
    (Rational(1, 2) ** x, "(1/2)^x"),
    (x ** (y**2), "x^(y^2)"),
    (sigmoid(z) * (1 - sigmoid(z)), "(1 - sigmoid(z))*sigmoid(z)"),
    (softplus(x) + relu(x), "relu(x) + softplus(x)"),
    (w_1**2, "w1^2"),  # a digit subscript is part of the name: w_1 is w1
    (alpha * x, "alpha*x"),
    (Derivative(E_, z), "dE/dz"),
    (Derivative(E_, Y(z)), "dE/dy(z)"),
    (Derivative(x**2, x), "d/dx(x^2)"),
    (Derivative(x**3, (x, 2)), "d^2/dx^2(x^3)"),
    (Derivative(y, x) ** 2, "(dy/dx)^2"),
    (Derivative(f(x), x), "f'(x)"),
    (Derivative(f(x), (x, 2)), "f''(x)"),
    (Derivative(sigmoid(z), z), "d/dz(sigmoid(z))"),  # primes only for abstract functions
    (Subs(Derivative(f(t), t), t, g(x)), "f'(g(x))"),
    (Subs(Derivative(sigmoid(t), t), t, 2 * z), "sigmoid'(2*z)"),
    (Derivative(x * y, x, y), "d/dy(d/dx(x*y))"),
    (Derivative(x**2, x) ** 2, "(d/dx(x^2))^2"),
    (y * Derivative(x**2, x), "y*(d/dx(x^2))"),
    (-Derivative(x**2, x), "-(d/dx(x^2))"),
    (Derivative(E_, z) * Derivative(y, z), "dE/dz*dy/dz"),
]


@pytest.mark.parametrize(("expr", "text"), PRINTED, ids=[text for _, text in PRINTED])
def test_to_text_prints_derives_notation(expr: sympy.Expr, text: str) -> None:
    assert to_text(expr) == text


@pytest.mark.parametrize(("expr", "text"), PRINTED, ids=[text for _, text in PRINTED])
def test_what_to_text_prints_parses_back_to_the_same_expression(expr: sympy.Expr, text: str) -> None:
    assert parse(to_text(expr), latex=False) == expr


def test_a_derivative_inside_a_product_keeps_its_own_operand() -> None:
    # d/dx takes the rest of a product when read, so the printer wraps it: y*(d/dx(x^2)), not y*d/dx(x^2).
    expr = Derivative(x**2, x) * y
    assert parse(to_text(expr)) == expr != parse("d/dx(x^2)*y")


UNICODE = [
    ("x^2*cos(x) + 2*x*sin(x)", "x²·cos(x) + 2·x·sin(x)"),
    ("sigmoid(z)*(1 - sigmoid(z))", "(1 − σ(z))·σ(z)"),
    ("x^(-2)", "x⁻²"),
    ("sqrt(x^2 + 1)", "√(x² + 1)"),
    ("(x + 1)^3", "(x + 1)³"),
    ("x^x", "x^x"),
    ("dE/dz", "dE/dz"),
]


@pytest.mark.parametrize(("text", "shown"), UNICODE, ids=[t for t, _ in UNICODE])
def test_to_unicode_shows_terminal_math(text: str, shown: str) -> None:
    from derive.parse import parse
    from derive.printing import to_unicode

    assert to_unicode(parse(text)) == shown
