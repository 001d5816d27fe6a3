"""LaTeX notation (contract section 1), as written by people and as printed by `sympy.latex`."""

from __future__ import annotations

import pytest
import sympy
from sympy import Abs, Derivative, E, Rational, Subs, exp, log, pi, sqrt

import derive
from derive import parse
from derive.functions import relu, sigmoid, softplus
from derive.symbols import function, symbol

a, b, c, r, w, x, y, z, E_ = (symbol(n) for n in ("a", "b", "c", "r", "w", "x", "y", "z", "E"))
alpha, sigma, w_1, w_12, x_1 = (symbol(n) for n in ("alpha", "sigma", "w_1", "w_12", "x_1"))
f, g, Y, E_fn = function("f"), function("g"), function("y"), function("E")
_t = sympy.Dummy("t")
L, u, v = function("L"), symbol("u"), symbol("v")
_s = sympy.Dummy("s")

ARITHMETIC = [
    (r"wx", w * x),
    (r"2\frac{1}{2}", sympy.Integer(1)),
    (r"\frac12", Rational(1, 2)),
    (r"\frac{1}{2}", Rational(1, 2)),
    (r"\frac ab", a / b),
    (r"\dfrac{a}{b}", a / b),
    (r"\tfrac{a}{b}", a / b),
    (r"\frac{x}{y}", x / y),
    (r"x^{2}", x**2),
    (r"x^2", x**2),
    (r"x^{y+1}", x ** (y + 1)),
    (r"2^{3^{2}}", sympy.Integer(512)),
    (r"2^3^2", sympy.Integer(512)),
    (r"-x^2", -(x**2)),
    (r"x^{-1}", 1 / x),
    (r"0.5 x", x / 2),
    (r"2 \cdot 3", sympy.Integer(6)),
    (r"a \cdot b", a * b),
    (r"a \times b", a * b),
    (r"a \div b", a / b),
    (r"a \cdot (b+c)", a * (b + c)),
    (r"a\,(b+c)", a * (b + c)),
    (r"a (b+c)", a * (b + c)),
    (r"\left( x + 1 \right)^2", (x + 1) ** 2),
    (r"\big( x \big)", x),
    (r"\Big[ x + 1 \Big]", x + 1),
    (r"\left[ x \right] y", x * y),
    (r"\left(a\right)\left(b\right)", a * b),
    (r"\frac{1}{2}\left(a - \sigma(z)\right)^{2}", (a - sigmoid(z)) ** 2 / 2),
    (r"\frac{1}{\left(1+e^{-x}\right)}", 1 / (1 + exp(-x))),
]

CONSTANTS_AND_NAMES = [
    (r"e^{x}", exp(x)),
    (r"e^{-x^2/2}", exp(-(x**2) / 2)),
    (r"\mathrm{e}^{x}", exp(x)),
    (r"\pi", pi),
    (r"2\pi r", 2 * pi * r),
    (r"w_{12}", w_12),
    (r"w_1", w_1),
    (r"w_{12} x_{1}", w_12 * x_1),
    (r"\alpha", alpha),
    (r"\alpha_1", symbol("alpha_1")),
    (r"\hat{y}", symbol("yhat")),
    # letters in a style (a loss \mathcal{L}, a bold parameter vector) are the letter's name
    (r"\mathcal{L}", symbol("Lcal")),  # a name of its own beside L
    (r"\mathscr{L} + 1", symbol("Lscr") + 1),
    (r"\mathsf{x}", x),
    (r"\bm{w}", w),
    (r"\boldsymbol{\theta}", symbol("theta")),
    (r"\bm{\theta}^2", symbol("theta") ** 2),
    (r"\mathbf{\alpha}", alpha),
    (r"\boldsymbol{\theta}_1", symbol("theta_1")),
    # as Wikipedia writes it: a braced operator, a whole equation in {\displaystyle ...}
    (r"{\frac {d}{dx}}\tanh x", sympy.Derivative(sympy.tanh(x), x)),
    (r"{\displaystyle {\frac {d}{dx}}x^{2}}", sympy.Derivative(x**2, x)),
    (r"{\frac {d}{d\theta }}\sin\theta", sympy.Derivative(sympy.sin(symbol("theta")), symbol("theta"))),
    (r"{\frac {d^{2}}{dx^{2}}}\sin x", sympy.Derivative(sympy.sin(x), (x, 2))),
    (r"\frac{\mathrm d}{\mathrm dx} x^2", sympy.Derivative(x**2, x)),
    (r"\frac{\mathrm{d}}{\mathrm{d}x} x^2", sympy.Derivative(x**2, x)),
    # a superscript written with \frac as TeX allows, and a subscript after a superscript
    (r"x^\frac{1}{2}", sympy.sqrt(x)),
    (r"x^\frac12", sympy.sqrt(x)),
    (r"x^2_1", x_1**2),
    (r"\theta^{2}", symbol("theta") ** 2),
    (r"\sigma", sigma),
    (r"\sigma^{2}", sigma**2),
    (r"w_{\text{out}}", symbol("w_out")),
    # indices with signs and commas stay apart (x_{n+1} and x_{n-1} were both x_n1, w_{1,12} was w_{11,2})
    (r"x_{n+1} - x_{n-1}", symbol("x_nplus1") - symbol("x_nminus1")),
    (r"h_{t - 1}", symbol("h_tminus1")),
    (r"a_{-1}", symbol("a_minus1")),
    (r"w_{1,12} - w_{11,2}", symbol("w_1_12") - symbol("w_11_2")),
    (r"a_{i,j} - a_{ij}", sympy.Integer(0)),  # one character an index: the same entry
    (r"\phi - \varphi", symbol("phi") - symbol("varphi")),  # two names, as papers use them (were one)
    (r"\varepsilon", symbol("varepsilon")),
]

ABSOLUTE_VALUES = [
    (r"|x|", Abs(x)),
    (r"|x - |y||", Abs(x - Abs(y))),
    (r"\left|x\right|", Abs(x)),
    (r"\ln|x|", log(Abs(x))),  # a function of an absolute value, as calculus texts write it
    (r"\ln\left|x\right|", log(Abs(x))),
    (r"\log|x - 1| + |y|", log(Abs(x - 1)) + Abs(y)),
    (r"\ln|x| y", y * log(Abs(x))),
    (r"\ln|\ln|x||", log(Abs(log(Abs(x))))),
    (r"\left| x - \left|y\right| \right|", Abs(x - Abs(y))),
    (r"\lvert x \rvert", Abs(x)),
    (r"\left|{x}\right|^{2}", Abs(x) ** 2),
    (r"\left|e^{x}\right|", exp(x)),  # over the reals, not sympy's e^re(x)
]

FUNCTIONS = [
    (r"\sqrt{x}", sqrt(x)),
    (r"\sqrt[3]{x}", x ** Rational(1, 3)),
    (r"\sqrt{x^2+1}", sqrt(x**2 + 1)),
    (r"\sin x", sympy.sin(x)),
    (r"\sin(x)", sympy.sin(x)),
    (r"\sin 2x", sympy.sin(2 * x)),
    (r"\sin x \cos x", sympy.sin(x) * sympy.cos(x)),
    # where an argument without brackets ends: at a thin space, before a fraction or a number after its
    # first factor, and before a power of e (sin x e^{x} as it is set in a derivative, not sin(x e^x))
    (r"\sin 2\pi x", sympy.sin(2 * sympy.pi * x)),
    (r"\cos \frac{x}{2}", sympy.cos(x / 2)),
    (r"\sin x^2", sympy.sin(x**2)),
    (r"\cos x \, e^{\sin x}", sympy.cos(x) * exp(sympy.sin(x))),
    (r"\cos x\,x^2", sympy.cos(x) * x**2),
    (r"\ln 2 \, 2^x", log(2) * 2**x),
    (r"\ln 2 \; 2^x", log(2) * 2**x),
    (r"\ln 2\ 2^x", log(2) * 2**x),
    (r"\ln 2 \cdot 2^x", log(2) * 2**x),
    (r"\ln 2 \, 2^x + 1", log(2) * 2**x + 1),
    (r"\ln x \cdot \frac{1}{x}", log(x) / x),
    # a fraction goes on with the argument, as TeX and physics write it (cos 2π x/λ)
    (r"\cos 2\pi\frac{x}{\lambda}", sympy.cos(2 * sympy.pi * x / symbol("lambda"))),
    (r"\sin n \frac{\pi x}{L}", sympy.sin(symbol("n") * sympy.pi * x / symbol("L"))),
    # e^x glued to the argument is part of it; after a space it is a factor of its own
    (r"\ln xe^{x}", log(x * exp(x))),
    (r"\ln 2e^{x}", log(2 * exp(x))),
    # a space written out after anything but a function's argument changes nothing
    (r"x^3 \qquad", x**3),
    (r"\frac{1}{2}\, x^2", x**2 / 2),
    (r"e^{-x}\,\cos x", exp(-x) * sympy.cos(x)),
    (r"\sqrt{x}\,\sin x", sympy.sqrt(x) * sympy.sin(x)),
    (r"\log_2\, x", log(x) / log(2)),
    (r"\sin^2\,x", sympy.sin(x) ** 2),
    (r"\cos x e^{\sin x}", sympy.cos(x) * exp(sympy.sin(x))),
    (r"\sin^2 x \, e^{x}", sympy.sin(x) ** 2 * exp(x)),
    (r"\ln e^{x}", log(exp(x))),
    (r"\sin \, x", sympy.sin(x)),
    # a function's own command spelled out, with a power (was the name tanh squared, times z)
    (r"\operatorname{tanh}^2(z)", sympy.tanh(z) ** 2),
    (r"\mathrm{sin}^2(x)", sympy.sin(x) ** 2),
    (r"\text{sech}^2(x)", sympy.sech(x) ** 2),
    (r"\operatorname{tanh} z", sympy.tanh(z)),
    (r"\sigma '(x)", sympy.Derivative(sigmoid(x), x)),  # a space before the prime, as Wikipedia sets it
    (r"\tanh '(x)", sympy.Derivative(sympy.tanh(x), x)),
    (r"\sin^2 x", sympy.sin(x) ** 2),
    (r"\tanh^2(z)", sympy.tanh(z) ** 2),
    (r"\tanh^{2}(z)", sympy.tanh(z) ** 2),
    (r"\sin^{-1} x", sympy.asin(x)),
    (r"\cos^{-1}(x)", sympy.acos(x)),
    (r"\arcsin x", sympy.asin(x)),
    (r"\arctan(x)", sympy.atan(x)),
    (r"\log_b x", log(x) / log(b)),
    (r"\log_{2}(x)", log(x) / log(2)),
    (r"\ln x", log(x)),
    (r"\log x", log(x)),
    (r"\exp(x)", exp(x)),
    (r"\exp\left(x\right)", exp(x)),
    (r"\sigma(z)", sigmoid(z)),
    (r"\sigma\left(z\right)", sigmoid(z)),
    (r"\sigma (z)", sigmoid(z)),
    (r"\operatorname{softplus}(x)", softplus(x)),
    (r"\operatorname{relu}(x)", relu(x)),
    (r"\mathrm{ReLU}(x)", relu(x)),
    (r"\max(0, x)", sympy.Max(0, x)),
    (r"\max\left(0, x\right)", sympy.Max(0, x)),  # as sympy prints it
    (r"\min (x, 1)", sympy.Min(x, 1)),
    (r"\frac{1}{\sigma(z)}", 1 / sigmoid(z)),
    (r"y(z)", Y(z)),
    (r"f(g(x))", f(g(x))),
    (r"\phi(x)", function("phi")(x)),
    # a name applied is an application after a function command too (it was log(σ)·z)
    (r"\log \sigma(z)", log(sigmoid(z))),
    (r"\log f(x) + 1", log(f(x)) + 1),
    (r"\ln y(z)", log(Y(z))),
    # primes on function commands, as derive prints them
    (r"\sin'(x)", Derivative(sympy.sin(x), x)),
    (r"\operatorname{relu}'(x)", Derivative(relu(x), x)),
    (r"\exp'(x)", Derivative(exp(x), x)),
    (r"\sigma^{\prime}(z)", Derivative(sigmoid(z), z)),
    (r"\sigma^{2}(z)", sigmoid(z) ** 2),
]

DERIVATIVES = [
    (r"\frac{d}{dx} x^2", Derivative(x**2, x)),
    (r"\frac{d}{dx}(x^2)", Derivative(x**2, x)),
    (r"\frac{d}{dx}\left[x^2\right]", Derivative(x**2, x)),
    # a bracket with a letter after the operand multiplies (with only a number it is an error: a point?)
    (r"\frac{d}{dx}(x^2)(y)", Derivative(x**2 * y, x)),
    (r"\frac{d}{dx}(x^2)\left(1 + x\right)", Derivative(x**2 * (1 + x), x)),
    (r"\frac{\mathrm{d}}{\mathrm{d}x} x^2", Derivative(x**2, x)),
    (r"\frac{\partial}{\partial x} x y", Derivative(x * y, x)),
    (r"\frac{d}{dz}\sigma(z)", Derivative(sigmoid(z), z)),
    (r"\frac{dy}{dx}", Derivative(y, x)),
    (r"\frac{\partial E}{\partial z}", Derivative(E_, z)),
    (r"\frac{dE}{dz}(0)", Subs(Derivative(E_, z), z, 0)),
    (r"\frac{d^2 E}{dz^2} \left(\frac{1}{2}\right)", Subs(Derivative(E_, (z, 2)), z, Rational(1, 2))),
    (r"\frac{dE}{dz} (z + 1)", (z + 1) * Derivative(E_, z)),
    (r"\frac{dE}{dz}\big(0\big)", Subs(Derivative(E_, z), z, 0)),
    (r"\frac{dE}{dz}\,(0)", Subs(Derivative(E_, z), z, 0)),  # spacing changes nothing
    (r"\frac{dE}{dz}\quad (0)", Subs(Derivative(E_, z), z, 0)),
    (r"\frac{dE}{dz}\ \displaystyle(0)", Subs(Derivative(E_, z), z, 0)),
    (r"\frac{dE}{dz}\Bigl(\frac{1}{2}\Bigr)", Subs(Derivative(E_, z), z, Rational(1, 2))),
    (r"\frac{dE}{dz}\big(z + 1\big)", (z + 1) * Derivative(E_, z)),
    (r"dE/dz\big(1\big)", Subs(Derivative(E_, z), z, 1)),
    (r"\frac{dE}{dz}(1+z)^{-2}", Derivative(E_, z) / (1 + z) ** 2),
    (r"\frac{\partial E(z)}{\partial z}", Derivative(E_fn(z), z)),
    (r"\frac{dE(z)}{dz}(0)", Subs(Derivative(E_fn(z), z), z, 0)),
    (r"\frac{dE(z)}{dz}(z + 1)", (z + 1) * Derivative(E_fn(z), z)),
    (r"dE(z)/dz(1)", Subs(Derivative(E_fn(z), z), z, 1)),
    (r"\frac{\mathrm{d}y}{\mathrm{d}z}", Derivative(y, z)),
    (r"\frac{\partial y}{\partial z} \frac{\partial E}{\partial y}", Derivative(y, z) * Derivative(E_, y)),
    (r"\frac{\partial E}{\partial w_{12}}", Derivative(E_, w_12)),
    (r"\frac{d^2}{dx^2} x^3", Derivative(x**3, (x, 2))),
    (r"\frac{d^{10}}{dx^{10}} x^{10}", Derivative(x**10, (x, 10))),
    (r"\frac{\partial^2 E}{\partial z^2}", Derivative(E_, (z, 2))),
    (r"dE/dz", Derivative(E_, z)),
    (r"\partial E/\partial z", Derivative(E_, z)),
    (r"d/dx\, x^2", Derivative(x**2, x)),
    (r"dE/dy(z)", Derivative(E_, Y(z))),
    (r"f'(x)", Derivative(f(x), x)),
    (r"\sigma'(x)", Derivative(sigmoid(x), x)),
    (r"f^{\prime}(x)", Derivative(f(x), x)),
    (r"f''(x)", Derivative(f(x), (x, 2))),
    (r"f'(g(x))", Subs(Derivative(f(_t), _t), _t, g(x))),
    (r"\partial_1 L(u, w)", Subs(Derivative(L(_t, w), _t), _t, u)),
    (r"\partial_{2} L\left(u, w^2\right)", Subs(Derivative(L(u, _t), _t), _t, w**2)),
    (r"\partial_1 \partial_2 L(u, u)", Subs(Derivative(L(_t, _s), _t, _s), (_t, _s), (u, u))),
    (r"\partial_1 L(\sigma(z), w)", Subs(Derivative(L(_t, w), _t), _t, sigmoid(z))),
    (r"\partial_1 \phi(z)", Derivative(function("phi")(z), z)),
    # a known function in its one argument, as ∂_1 sin(u) in plain text: sin'(u)
    (r"\partial_1 \sin(u)", Derivative(sympy.sin(u), u)),
    (r"\partial_{1} \tanh\left(z^2\right)", Subs(Derivative(sympy.tanh(_t), _t), _t, z**2)),
    (r"\partial_1\partial_1 \operatorname{relu}(u)", Derivative(relu(u), (u, 2))),
    # d of an expression over dx, as textbooks write it (read as d·x³/(d·x) it was x²)
    (r"\frac{d x^3}{dx}", Derivative(x**3, x)),
    (r"\frac{d(x^2)}{dx}", Derivative(x**2, x)),
    (r"\frac{d \sin x}{dx}", Derivative(sympy.sin(x), x)),
    (r"\frac{d (e^x)}{dx}", Derivative(exp(x), x)),
    (r"\frac{d^2 x^3}{dx^2}", Derivative(x**3, (x, 2))),
    (r"\frac{\mathrm{d} x^2}{\mathrm{d}x}", Derivative(x**2, x)),
    (r"\frac{2d}{d}", sympy.Integer(2)),  # a plain fraction still
    (r"\frac{a d}{c d}", a / c),  # d last in both: a fraction, not the derivative of a by c
    # \frac{dy}{dx}(x): at its own variable, dy/dx; another letter multiplies
    (r"\frac{dy}{dx}(x)", Derivative(y, x)),
    (r"\frac{dy}{dx}(w)", w * Derivative(y, x)),
    (r"\sin '(x)", Derivative(sympy.sin(x), x)),  # a space before the prime, as TeX allows (was refused)
]

# What `sympy.latex` prints: people paste it, and the round-trip tests rely on it.
SYMPY_PRINTED = [
    (r"\sin{\left(x \right)}", sympy.sin(x)),
    (r"\sin^{2}{\left(x \right)}", sympy.sin(x) ** 2),
    (r"\log{\left(x \right)}^{2}", log(x) ** 2),
    (r"f{\left(x \right)}", f(x)),
    (r"f{\left(x,y \right)}", f(x, y)),
    (r"f^{2}{\left(x \right)}", f(x) ** 2),
    (r"f{\left(g{\left(x \right)} \right)}", f(g(x))),
    (r"\operatorname{asin}{\left(x \right)}", sympy.asin(x)),
    (r"\operatorname{acos}^{2}{\left(x \right)}", sympy.acos(x) ** 2),
    (r"\sigma^{2}\left(x\right)", sigmoid(x) ** 2),
    (r"\operatorname{softplus}^{3}\left(x\right)", softplus(x) ** 3),
    (r"x \left(y + 1\right)", x * (y + 1)),
    (r"\alpha \left(x + 1\right)", alpha * (x + 1)),
    (r"\left(\frac{1}{2}\right)^{x}", Rational(1, 2) ** x),
    (r"\frac{d}{d x} f{\left(x \right)}", Derivative(f(x), x)),
    (r"\sin^{f{\left(x \right)}}{\left(x \right)}", sympy.sin(x) ** f(x)),
]

DELIMITERS_AND_SPACING = [
    (r"$x^2$", x**2),
    (r"$$x^2$$", x**2),
    (r"\[x^2\]", x**2),
    (r"\(x^2\)", x**2),
    (r"x \, y", x * y),
    (r"x\;y", x * y),
    (r"x \! y", x * y),
    (r"x \quad y", x * y),
    (r"\displaystyle \frac{1}{x}", 1 / x),
    (r"x~y", x * y),
    ("α x", alpha * x),
    ("σ(z)", sigmoid(z)),
    ("π", pi),
]

CASES = ARITHMETIC + CONSTANTS_AND_NAMES + ABSOLUTE_VALUES + FUNCTIONS + DERIVATIVES + SYMPY_PRINTED
CASES += DELIMITERS_AND_SPACING


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_latex_parses_to_the_expected_sympy_expression(text: str, expected: sympy.Expr) -> None:
    assert parse(text, latex=True) == expected


def test_text_with_a_backslash_is_read_as_latex_unless_told_otherwise() -> None:
    assert parse(r"\frac{1}{2} wx") == w * x / 2


def test_juxtaposed_letters_multiply_in_latex_but_form_one_name_in_plain_text() -> None:
    assert parse("wx", latex=True) == w * x
    assert parse("wx", latex=False) == symbol("wx")


def test_two_leibniz_fractions_side_by_side_are_a_product_of_two_derivatives() -> None:
    parsed = parse(r"\frac{\partial y}{\partial z} \frac{\partial E}{\partial y}")
    assert isinstance(parsed, sympy.Mul)
    assert sorted(map(str, parsed.args)) == ["Derivative(E, y)", "Derivative(y, z)"]


def test_sigma_alone_is_a_symbol_and_applied_is_the_sigmoid() -> None:
    assert parse(r"\sigma") == sigma
    assert type(parse(r"\sigma(z)")) is sigmoid


def test_sigma_of_an_expression_in_sigma_is_a_product() -> None:
    # σ(1 - σ), as the sigmoid's derivative is written: no one means the sigmoid of 1 - σ
    assert parse(r"\sigma(1-\sigma)") == sigma * (1 - sigma)
    assert parse("sigma(1 - sigma)") == sigma * (1 - sigma)
    assert type(parse(r"\sigma(1 - z)")) is sigmoid
    # σ beside another variable in the argument is the sigmoid: σ(μ/σ), with σ a standard deviation
    assert type(parse(r"\sigma\left(\frac{x - \mu}{\sigma}\right)")) is sigmoid
    assert type(parse(r"\sigma(\mu/\sigma)")) is sigmoid


def test_a_name_followed_by_a_space_and_a_parenthesis_is_a_product() -> None:
    assert parse(r"y (z)", latex=True) == y * z
    assert parse(r"y(z)", latex=True) == Y(z)


@pytest.mark.parametrize("text", [r"\frac{d}{dx} x", r"\frac{dy}{dx}", r"f'(x)"], ids=str)
def test_latex_derivatives_stay_unevaluated(text: str) -> None:
    assert parse(text).has(Derivative)


def test_euler_e_and_pi_are_sympy_constants() -> None:
    assert parse(r"e^{i}", latex=True) == E ** symbol("i")
    assert parse(r"\pi").is_number


def test_inline_leibniz_with_an_argument_reads_as_in_plain_text():
    # dE/dy(z): E by y written as y(z), whatever the d (the LaTeX point form is \frac{dE}{dy}(0) only)
    expected = parse("dE/dy(z)")
    for text in (r"\partial E/\partial y(z)", r"\mathrm{d}E/\mathrm{d}y(z)", r"dE/dy(z)"):
        assert parse(text, latex=True) == expected


@pytest.mark.parametrize("text", [
    r"\frac{d}{dx} x^3 = 3x^2 \qquad (2)",
    r"\frac{d}{dx} \cos x = -\sin x \, ,",
    r"\frac{d}{dx} \frac{1}{x} = -\frac{1}{x^2}\;.",
    r"\frac{d}{dx} x^3 = 3x^2 \quad \text{for all } x",
])
def test_a_space_written_out_at_the_end_of_a_display_changes_nothing(text: str) -> None:
    report = derive.check(text)
    assert report.ok, [(s.lhs, s.rhs, s.verdict) for s in report.steps]


@pytest.mark.parametrize("text", [r"\mathbf{w}^{\mathsf{T}}\mathbf{x}", r"\bm{w}^{\mathrm{T}}\bm{x}",
                                  r"w^\mathsf{T} x"])
def test_a_transpose_written_with_a_styled_t_is_refused_not_a_power(text: str) -> None:
    with pytest.raises(derive.ParseError, match="transpose"):
        parse(text)


def test_a_calligraphic_letter_prints_back_as_it_was_written() -> None:
    from derive.printing import to_latex

    assert to_latex(parse(r"\mathcal{L} + L")) in (r"L + \mathcal{L}", r"\mathcal{L} + L")
