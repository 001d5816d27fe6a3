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
L, u, v = function("L"), symbol("u"), symbol("v")
xi1, xi2 = sympy.Dummy("xi1"), sympy.Dummy("xi2")

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
    # a function of several arguments differentiated in one of them, at a point: ∂_k, the k-th argument
    (Subs(Derivative(L(t, z), t), t, sigmoid(z)), "∂_1 L(sigmoid(z), z)"),
    (Subs(Derivative(L(y, t), t), t, y), "∂_2 L(y, y)"),
    (Subs(Derivative(L(t, z), t), t, u), "∂_1 L(u, z)"),
    (Subs(Derivative(L(xi1, xi2), xi1, xi2), (xi1, xi2), (u, v)), "∂_1∂_2 L(u, v)"),
    (Subs(Derivative(L(xi1, v), (xi1, 2)), xi1, u), "∂_1∂_1 L(u, v)"),
    (Subs(Derivative(L(xi1, xi2), xi1, xi2), (xi1, xi2), (y, y)), "∂_1∂_2 L(y, y)"),
    (2 * Subs(Derivative(L(t, z), t), t, u**2) ** 2, "2*∂_1 L(u^2, z)^2"),
]


@pytest.mark.parametrize(("expr", "text"), PRINTED, ids=[text for _, text in PRINTED])
def test_to_text_prints_derives_notation(expr: sympy.Expr, text: str) -> None:
    assert to_text(expr) == text


@pytest.mark.parametrize(("expr", "text"), PRINTED, ids=[text for _, text in PRINTED])
def test_what_to_text_prints_parses_back_to_the_same_expression(expr: sympy.Expr, text: str) -> None:
    assert parse(to_text(expr), latex=False) == expr


BY_A_VARIABLE = [
    # a derivative by a variable as it stands is not a partial at a point: with u a defined name that
    # depends on x, d/dx(g(u, x)) is the whole derivative
    (Derivative(L(u, z), z), "d/dz(L(u, z))"),
    (Derivative(f(g(x)), (g(x), 2)), "f''(g(x))"),  # sympy's derivative by an application: a prime
]


@pytest.mark.parametrize(("expr", "text"), BY_A_VARIABLE, ids=[t for _, t in BY_A_VARIABLE])
def test_a_derivative_by_a_variable_as_it_stands_prints_as_such(expr: sympy.Expr, text: str) -> None:
    assert to_text(expr) == text
    assert (parse(text) - expr).doit() == 0


SUBSTITUTED = [
    # a derivative at a point that derive's notation has no form for is printed with the point put in,
    # bracketed as what is printed needs
    "dL(y, y)/dy(1)",
    "dy(z^2)/dz(1)",
    "d/dx(g(x, x))",
    "x*dL(y, y)/dy(1)",
    "(dL(y, y)/dy(1))^2",
    "1/dL(y, y)/dy(1)",
]


@pytest.mark.parametrize("text", SUBSTITUTED)
def test_no_substitution_prints_as_sympy_s_subs_and_each_reads_back_equal(text: str) -> None:
    from derive.printing import to_latex

    expr = parse(text)
    for printed, latex in ((to_text(expr), False), (to_latex(expr), True)):
        assert "Subs" not in printed and "right|" not in printed
        assert (parse(printed, latex=latex) - expr).doit() == 0


def test_putting_points_into_a_substitution_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A substitution whose points take too long to put in is printed as it stands (sympy's Subs)."""
    import importlib
    import time

    def slow(expr: sympy.Basic) -> sympy.Basic:
        until = time.monotonic() + 3
        while time.monotonic() < until:
            time.sleep(0.01)
        return sympy.Integer(7)  # what an unbounded call would print

    monkeypatch.setattr(importlib.import_module("derive.sympy_derivative"), "sympy_doit", slow)
    monkeypatch.setattr(importlib.import_module("derive.printing"), "SUBSTITUTION_SECONDS", 0.2)
    assert to_text(parse("dL(y, y)/dy(1)")).startswith("Subs(")


def test_a_derivative_inside_a_product_keeps_its_own_operand() -> None:
    # d/dx takes the rest of a product when read, so the printer wraps it: y*(d/dx(x^2)), not y*d/dx(x^2).
    expr = Derivative(x**2, x) * y
    assert parse(to_text(expr)) == expr != parse("d/dx(x^2)*y")


AT_POINTS_IN_LATEX = ["dE/dz(0)", "d^2E/dz^2(1)", "dE/dz(-1)", "dE/dz(pi/2)", "dE/dz(2*pi)", "dE/dz(sqrt(2))",
                      "x*d^2E/dz^2(1)", "dE/dz(1/2)*x"]


@pytest.mark.parametrize("text", AT_POINTS_IN_LATEX)
def test_a_derivative_at_a_number_prints_in_latex_and_reads_back(text: str) -> None:
    from derive.printing import to_latex

    expr = parse(text)
    assert parse(to_latex(expr), latex=True) == expr


PARTIALS_IN_LATEX = [
    (Subs(Derivative(L(t, z), t), t, sigmoid(z)), r"\partial_{1} L{\left(\sigma\left(z\right),z \right)}"),
    (Subs(Derivative(L(xi1, xi2), xi1, xi2), (xi1, xi2), (u, u)), r"\partial_{1}\partial_{2} L{\left(u,u \right)}"),
    (Subs(Derivative(L(t, v), t), t, u), r"\partial_{1} L{\left(u,v \right)}"),
]


@pytest.mark.parametrize(("expr", "latex"), PARTIALS_IN_LATEX, ids=[text for _, text in PARTIALS_IN_LATEX])
def test_a_partial_derivative_at_a_point_prints_in_latex_and_reads_back(expr: sympy.Expr, latex: str) -> None:
    from derive.printing import to_latex

    assert to_latex(expr) == latex
    assert parse(latex, latex=True) == expr


# Names LaTeX would read as products or as another function, written so that they read back.
NAMES_IN_LATEX = [
    ("dE/dnet", r"\frac{dE}{d\mathrm{net}}"),
    ("dout/dnet", r"\frac{d\mathrm{out}}{d\mathrm{net}}"),
    ("rate*x", r"\mathrm{rate} x"),
    ("y_pred - t", r"- t + y_{\mathrm{pred}}"),
    ("net1", r"\mathrm{net}_{1}"),
    ("yhat + alpha_1", r"\alpha_{1} + \hat{y}"),
    ("heaviside(x)", r"\operatorname{heaviside}\left(x\right)"),
    ("sigma*(x + 1)", r"{\sigma} \left(x + 1\right)"),
    ("d^2sigma/dx^2", r"\frac{d^{2}}{d x^{2}} {\sigma}"),  # \frac{d^{2}\sigma}{dx^{2}} is the sigmoid's
    ("d/dsigma (sigma^2)", r"\frac{d}{d \sigma} {\sigma}^{2}"),  # a brace after d would end the d
    ("x*sin(x) + loss(x)", r"x \sin{\left(x \right)} + \operatorname{loss}{\left(x \right)}"),  # functions
    ("x_1_2", r"x_{1_2}"),  # two subscripts, not x_{1 2} (x12)
    ("w_xhat", r"w_{\mathrm{xhat}}"),  # not w_{\hat{x}} (w_hatx)
    ("relu'(w*x)", r"\operatorname{relu}'\left(w x\right)"),
    ("sin'(2*x) + tanh''(2*x)", r"\sin'\left(2 x\right) + \tanh''\left(2 x\right)"),
    ("d/dq(d/dp(p^2 q^2 + p q))",
     r"\frac{\partial}{\partial q} \frac{\partial}{\partial p} \left(p^{2} q^{2} + p q\right)"),
    ("d/dx(-g(x, y))", r"\frac{\partial}{\partial x} \left(- g{\left(x,y \right)}\right)"),
    ("y_out(z) + act(z)", r"\operatorname{act}{\left(z \right)} + y_{\mathrm{out}}{\left(z \right)}"),
    ("exp'(x^2) + heaviside'(2x)", r"\operatorname{heaviside}'\left(2 x\right) + \exp'\left(x^{2}\right)"),
    ("d/dq(d/dp(g(p, q)))", r"\frac{\partial}{\partial q} \frac{\partial}{\partial p} g{\left(p,q \right)}"),
    ("h_tminus1 + x_nplus1", r"h_{t-1} + x_{n+1}"),  # indices as \LaTeX writes them, which read so
    ("a_2npluskminus1", r"a_{2n+k-1}"),
    ("x_surplus1", r"x_{\mathrm{surplus1}}"),  # a word, not an index
    ("alphahat + thetabar_1", r"\hat{\alpha} + \bar{\theta}_{1}"),  # was \mathrm{alphahat}; \hat{\alpha} was refused
]


@pytest.mark.parametrize(("text", "latex"), NAMES_IN_LATEX, ids=[text for text, _ in NAMES_IN_LATEX])
def test_names_print_in_latex_as_they_read_back(text: str, latex: str) -> None:
    from derive.printing import to_latex

    expr = parse(text)
    assert to_latex(expr) == latex
    assert parse(latex, latex=True) == expr


UNICODE = [
    ("x^2*cos(x) + 2*x*sin(x)", "x²·cos(x) + 2·x·sin(x)"),
    ("sigmoid(z)*(1 - sigmoid(z))", "(1 − σ(z))·σ(z)"),
    ("x^(-2)", "x⁻²"),
    ("sqrt(x^2 + 1)", "√(x² + 1)"),
    ("(x + 1)^3", "(x + 1)³"),
    ("x^x", "x^x"),
    ("dE/dz", "dE/dz"),
    ("∂_1 L(sigmoid(z), t)", "∂₁L(σ(z), t)"),
    ("∂_1∂_2 L(u, v)", "∂₁∂₂L(u, v)"),
    # Greek names as Greek letters (contract, section 1); a longer word that starts like one stays
    ("alpha*x^2 + lambda", "α·x² + λ"),
    ("dlambda/dx + eta_2 + Delta", "Δ + η2 + dλ/dx"),
    ("phi'(x) + psi(t)", "ψ(t) + φ'(x)"),
    ("phi'(x^2)", "φ'(x²)"),
    ("alphabet + etc", "alphabet + etc"),
]


@pytest.mark.parametrize(("text", "shown"), UNICODE, ids=[t for t, _ in UNICODE])
def test_to_unicode_shows_terminal_math(text: str, shown: str) -> None:
    from derive.parse import parse
    from derive.printing import to_unicode

    assert to_unicode(parse(text)) == shown
