"""Plain-text notation (contract section 1): each input parses to the sympy expression written beside it."""

from __future__ import annotations

import pytest
import sympy
from sympy import Abs, Derivative, E, Rational, Subs, exp, log, pi, sqrt

from derive import parse
from derive.functions import relu, sigmoid, softplus
from derive.symbols import function, symbol

a, b, c, d, x, y, z, E_, N, t = (symbol(n) for n in ("a", "b", "c", "d", "x", "y", "z", "E", "N", "t"))
f, g, Y = function("f"), function("g"), function("y")
_t = sympy.Dummy("t")
L, u, v = function("L"), symbol("u"), symbol("v")
_s = sympy.Dummy("s")

NUMBERS = [
    ("2", sympy.Integer(2)),
    ("0.5", Rational(1, 2)),
    ("1/2", Rational(1, 2)),
    (".25", Rational(1, 4)),
    ("2.50", Rational(5, 2)),
    ("1/3 + 1/6", Rational(1, 2)),
    ("0.1 + 0.2", Rational(3, 10)),
    ("pi", pi),
    ("π", pi),
    ("e", E),
    ("2e", 2 * E),
    ("2pi", 2 * pi),
]

POWERS = [
    ("x^2", x**2),
    ("x**2", x**2),
    ("2^3^2", sympy.Integer(512)),
    ("2**3**2", sympy.Integer(512)),
    ("x^y^z", x ** (y**z)),
    ("-x^2", -(x**2)),
    ("-2^2", sympy.Integer(-4)),
    ("(-2)^2", sympy.Integer(4)),
    ("x^-1", 1 / x),
    ("2^-1", Rational(1, 2)),
    ("-x^-2", -(x**-2)),
    ("x^(1/2)", sqrt(x)),
    ("x^0.5", sqrt(x)),
    ("x²", x**2),
    ("x⁻¹", 1 / x),
    ("e^x", exp(x)),
    ("e^-x", exp(-x)),
    ("e^(-x^2/2)", exp(-(x**2) / 2)),
    ("sin(x)^2", sympy.sin(x) ** 2),
]

PRODUCTS = [
    ("2x", 2 * x),
    ("3(x+1)", 3 * (x + 1)),
    ("(a-b)(c-d)", (a - b) * (c - d)),
    ("x y", x * y),
    ("xy", symbol("xy")),
    ("2 sin(x)", 2 * sympy.sin(x)),
    ("2x y", 2 * x * y),
    ("x (y+1)", x * (y + 1)),
    ("(x+1)y", (x + 1) * y),
    ("3x^2", 3 * x**2),
    ("a/b/c", a / (b * c)),
    ("a/b*c", a * c / b),
    ("1/2x", x / 2),
    ("3 * -x", -3 * x),
    ("x·y", x * y),
    ("x×y", x * y),
    ("x÷y", x / y),
    ("x − y", x - y),
    ("x\u00a0y", x * y),
    ("x - -y", x + y),
    ("+x", x),
    ("[x + 1]^2", (x + 1) ** 2),
    ("1/2*(a - y(z))^2", (a - Y(z)) ** 2 / 2),
]

NAMES = [
    ("w1", symbol("w1")),
    ("h_2", symbol("h_2")),
    ("alpha", symbol("alpha")),
    ("α", symbol("alpha")),
    ("delta", symbol("delta")),
    ("x₁", symbol("x_1")),
    ("sigma", symbol("sigma")),
    ("rate", symbol("rate")),
]

APPLICATIONS = [
    ("y(z)", Y(z)),
    ("f(g(x))", f(g(x))),
    ("f(x, y)", f(x, y)),
    ("x(y+1)", function("x")(y + 1)),
    ("f (x)", symbol("f") * x),
    ("e(x+1)", E * (x + 1)),
]

KNOWN_FUNCTIONS = [
    ("sin(x)", sympy.sin(x)),
    ("cos(x)", sympy.cos(x)),
    ("tan(x)", sympy.tan(x)),
    ("sec(x)", sympy.sec(x)),
    ("csc(x)", sympy.csc(x)),
    ("cot(x)", sympy.cot(x)),
    ("asin(x)", sympy.asin(x)),
    ("acos(x)", sympy.acos(x)),
    ("atan(x)", sympy.atan(x)),
    ("arcsin(x)", sympy.asin(x)),
    ("arccos(x)", sympy.acos(x)),
    ("arctan(x)", sympy.atan(x)),
    ("sinh(x)", sympy.sinh(x)),
    ("cosh(x)", sympy.cosh(x)),
    ("tanh(x)", sympy.tanh(x)),
    ("asinh(x)", sympy.asinh(x)),
    ("acosh(x)", sympy.acosh(x)),
    ("atanh(x)", sympy.atanh(x)),
    ("exp(x)", exp(x)),
    ("exp(1)", E),
    ("log(x)", log(x)),
    ("ln(x)", log(x)),
    ("log(x, b)", log(x) / log(b)),
    ("log(8, 2)", log(8) / log(2)),
    ("sqrt(x)", sqrt(x)),
    ("sqrt(4)", sympy.Integer(2)),
    ("abs(x)", Abs(x)),
    ("abs(-3)", sympy.Integer(3)),
    ("sigmoid(z)", sigmoid(z)),
    ("σ(z)", sigmoid(z)),
    ("sigma(z)", sigmoid(z)),
    ("softplus(x)", softplus(x)),
    ("relu(x)", relu(x)),
    ("max(0, x)", sympy.Max(0, x)),
    ("min(x, y, z)", sympy.Min(x, y, z)),
    ("sin(x)cos(x)", sympy.sin(x) * sympy.cos(x)),
]

ABSOLUTE_VALUES = [
    ("|x|", Abs(x)),
    ("|x - |y||", Abs(x - Abs(y))),
    ("||x| - y|", Abs(Abs(x) - y)),
    ("|a||b|", Abs(a) * Abs(b)),
    ("2|x|", 2 * Abs(x)),
    ("|x|^2", Abs(x) ** 2),
    # over the reals, as derive reads everything: sympy would write |e^x| as e^re(x) for a plain x
    ("|exp(x)|", exp(x)),
    ("abs(2^x)*y", 2**x * y),
    ("|exp(f(x) + y)|", exp(f(x) + y)),
    ("|x*exp(y)|", Abs(x) * exp(y)),
    # where sympy cannot tell that an exponent is real: it is, wherever it is defined
    ("|exp(asin(x))|", exp(sympy.asin(x))),
    ("|(-2)^asin(x)|", 2 ** sympy.asin(x)),
    ("|exp(dy/dx)|", exp(Derivative(y, x))),  # the plain x, bound as the variable too
    # a known function of an absolute value (ln|x|); any other name before a bar multiplies it
    ("ln|x|", sympy.log(Abs(x))),
    ("a log|x - 1|", a * sympy.log(Abs(x - 1))),
    ("sin|x|^2", sympy.sin(Abs(x)) ** 2),
    ("x|y|", x * Abs(y)),
    ("cosine|x|", symbol("cosine") * Abs(x)),
    ("|ln|x||", Abs(sympy.log(Abs(x)))),  # a bar right after a function's name opens, inside |...| too
    ("ln|ln|x||", sympy.log(Abs(sympy.log(Abs(x))))),
    ("|x sin|y||", Abs(x * sympy.sin(Abs(y)))),
]

DERIVATIVES = [
    ("d/dx(x^2)", Derivative(x**2, x)),
    ("d/dx [x^2]", Derivative(x**2, x)),
    ("d/dx x^2 y", Derivative(x**2 * y, x)),
    ("d/dx(sin(x))^2", Derivative(sympy.sin(x) ** 2, x)),
    ("diff(x^2, x)", Derivative(x**2, x)),
    ("diff(x^3, x, 2)", Derivative(x**3, (x, 2))),
    ("d^2/dx^2(x^3)", Derivative(x**3, (x, 2))),
    ("d²/dx² x^3", Derivative(x**3, (x, 2))),
    ("d^2N/dx^2", Derivative(N, (x, 2))),
    ("d²N/dx²", Derivative(N, (x, 2))),
    ("d^3/dx^3 sin(x)", Derivative(sympy.sin(x), (x, 3))),
    ("d^10/dx^10(x^10)", Derivative(x**10, (x, 10))),
    ("dN/dx(1)", Subs(Derivative(N, x), x, 1)),
    ("dN/dx(pi/2)", Subs(Derivative(N, x), x, pi / 2)),
    ("d^02/dx^2(x^3)", Derivative(x**3, (x, 2))),
    ("d^2N/dx^2(0)", Subs(Derivative(N, (x, 2)), x, 0)),
    ("d²N/dx²(-1/2)", Subs(Derivative(N, (x, 2)), x, Rational(-1, 2))),
    ("dN/dx", Derivative(N, x)),
    ("∂N/∂x", Derivative(N, x)),
    ("dE/dy(z)", Derivative(E_, Y(z))),
    ("dE(z)/dz", Derivative(function("E")(z), z)),
    ("dE(z)/dz(1)", Subs(Derivative(function("E")(z), z), z, 1)),
    ("d^2E(z)/dz^2(0)", Subs(Derivative(function("E")(z), (z, 2)), z, 0)),
    ("dE(z)/dz (1 + z)", (1 + z) * Derivative(function("E")(z), z)),
    ("dy/dz * dE/dy", Derivative(y, z) * Derivative(E_, y)),
    ("f'(x)", Derivative(f(x), x)),
    ("f''(x)", Derivative(f(x), (x, 2))),
    ("f'(g(x))", Subs(Derivative(f(_t), _t), _t, g(x))),
    ("sigmoid'(z)", Derivative(sigmoid(z), z)),
    ("σ'(z)", Derivative(sigmoid(z), z)),
    ("2 f'(x)", 2 * Derivative(f(x), x)),
    # ∂_k: the derivative of a function of several arguments in its k-th one, at the arguments given
    ("∂_1 L(u, t)", Subs(Derivative(L(_t, t), _t), _t, u)),
    ("∂_2 L(u, t)", Subs(Derivative(L(u, _t), _t), _t, t)),
    ("∂₁L(sigmoid(z), t)", Subs(Derivative(L(_t, t), _t), _t, sigmoid(z))),
    ("∂_1 L(y, y)", Subs(Derivative(L(_t, y), _t), _t, y)),
    ("∂_1∂_2 L(u, v)", Subs(Derivative(L(_t, _s), _t, _s), (_t, _s), (u, v))),
    ("∂_1 ∂_2 L(u, u)", Subs(Derivative(L(_t, _s), _t, _s), (_t, _s), (u, u))),
    ("∂_2∂_2 L(u, v^2)", Subs(Derivative(L(u, _t), (_t, 2)), _t, v**2)),
    ("∂_1L(u, t)/2", Subs(Derivative(L(_t, t), _t), _t, u) / 2),
    ("dsin(z)/dz(0)", Subs(Derivative(sympy.sin(z), z), z, 0)),  # a known function is itself there too
    ("∂_1 f(x)", Derivative(f(x), x)),  # one argument: f'(x)
    ("∂_1 f(g(x))", Subs(Derivative(f(_t), _t), _t, g(x))),
    ("2∂_1 L(u^2, t)", 2 * Subs(Derivative(L(_t, t), _t), _t, u**2)),
]

CASES = NUMBERS + POWERS + PRODUCTS + NAMES + APPLICATIONS + KNOWN_FUNCTIONS + ABSOLUTE_VALUES + DERIVATIVES


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_plain_text_parses_to_the_expected_sympy_expression(text: str, expected: sympy.Expr) -> None:
    assert parse(text, latex=False) == expected


def test_plain_text_without_a_backslash_is_read_as_plain_text() -> None:
    assert parse("xy") == symbol("xy")


def test_numbers_are_exact_rationals_never_floats() -> None:
    value = parse("0.1")
    assert isinstance(value, sympy.Rational)
    assert value == Rational(1, 10)


def test_unary_minus_binds_looser_than_a_power() -> None:
    parsed = parse("-x^2")
    assert parsed.subs(x, 3) == -9


def test_powers_are_right_associative() -> None:
    assert parse("2^3^2") == 2**9 != (2**3) ** 2


def test_greek_names_spelled_or_typed_are_one_symbol() -> None:
    assert parse("alpha") is parse("α")


def test_a_derivative_operator_stays_unevaluated() -> None:
    parsed = parse("d/dx(x^2)")
    assert isinstance(parsed, Derivative)
    assert parsed.doit() == 2 * x


def test_dy_dz_times_de_dy_is_a_product_of_two_derivatives() -> None:
    parsed = parse("dy/dz * dE/dy")
    assert isinstance(parsed, sympy.Mul)
    assert all(isinstance(arg, Derivative) for arg in parsed.args)


def test_an_unknown_name_applied_is_an_abstract_function() -> None:
    parsed = parse("y(z)")
    assert isinstance(parsed, sympy.core.function.AppliedUndef)
    assert parsed.func == Y


def test_sigmoid_is_derives_own_function_class() -> None:
    assert type(parse("sigmoid(z)")) is sigmoid
    assert type(parse("σ(z)")) is sigmoid


@pytest.mark.parametrize(("text", "expected"), [
    ("x^2 + 𝑥", x**2 + x),  # mathematical italic x, as a PDF gives it when pasted: it was a name of its own
    ("ｘ + x", 2 * x),  # fullwidth
    ("𝜎(𝑧)", sigmoid(z)),
    ("𝐰 𝐱", symbol("w") * x),
])
def test_letters_that_stand_for_plain_ones_are_the_plain_ones(text, expected):
    assert parse(text) == expected
