"""Errors people can act on: a message in words, the line and column of the fault, and a caret under it."""

from __future__ import annotations

import pytest
import sympy

import derive
from derive import ParseError, parse
from derive.statements import read_statements

# (input, read as LaTeX, words the message contains, line, column)
ERRORS = [
    ("(x+1", False, "missing closing parenthesis", 1, 5),
    ("sin(x", False, "missing closing parenthesis", 1, 6),
    ("f(x,", False, "missing closing parenthesis", 1, 5),
    ("[x", False, "missing closing bracket", 1, 3),
    ("|x", False, "missing closing bar", 1, 3),
    ("x)", False, "unmatched closing bracket ')'", 1, 2),
    ("()", False, "empty brackets", 1, 2),
    ("x+", False, "expected an expression after '+'", 1, 3),
    ("x +* y", False, "expected an expression after '+', found '*'", 1, 4),
    ("x^^2", False, "expected an expression after '^'", 1, 3),
    ("1/", False, "expected an expression after '/'", 1, 3),
    ("**x", False, "expected an expression before '**'", 1, 1),
    ("d/dx", False, "expected an expression after 'd/dx'", 1, 5),
    ("", False, "empty input", 1, 1),
    ("   ", False, "empty input", 1, 1),
    ("x = y", False, "'=' is not allowed inside an expression", 1, 3),
    ("x @ y", False, "unexpected character '@'", 1, 3),
    ("1..2", False, "more than one decimal point", 1, 1),
    ("x,y", False, "commas separate the arguments", 1, 2),
    ("sin x", False, "sin is a function: write sin(...)", 1, 1),
    ("sin(x, y)", False, "sin takes 1 argument, got 2", 1, 1),
    ("diff(x)", False, "diff takes an expression and a variable", 1, 1),
    ("diff(x^2, 2)", False, "diff needs a variable", 1, 1),
    ("x + d/d2(x^2)", False, "with respect to a variable, not a number", 1, 5),
    ("log(x, 1)", False, "log base 1 is undefined", 1, 1),
    ("1/0", False, "division by zero", 1, 2),
    ("0^-1", False, "division by zero", 1, 2),
    ("f'x", False, "a prime must follow a function name", 1, 2),
    ("x\x00", False, "null character", 1, 2),
    ("x\ny+", False, "expected an expression after '+'", 2, 3),
    (r"\foo x", True, r"unknown LaTeX command \foo", 1, 1),
    (r"x + \alpah", True, r"unknown LaTeX command \alpah", 1, 5),
    (r"\int x dx", True, r"\int is not supported", 1, 1),
    (r"\frac{1}{", True, "missing closing brace", 1, 10),
    (r"\frac{1}", True, r"\frac needs two arguments", 1, 9),
    (r"\left( x", True, "missing closing parenthesis", 1, 9),
    (r"x \right)", True, r"unmatched closing bracket '\right)'", 1, 3),
    (r"\sqrt", True, r"expected an expression after '\sqrt'", 1, 6),
    (r"\sqrt[3]", True, r"expected an expression after '\sqrt[3]'", 1, 9),
    (r"\sin", True, r"expected an expression after '\sin'", 1, 5),
    (r"x^{}", True, "empty brackets", 1, 4),
    (r"x_{", True, "missing closing brace", 1, 2),
    (r"x \cdot", True, r"expected an expression after '\cdot'", 1, 8),
    (r"\frac{d^2}{dx} y", True, "order of a derivative", 1, 1),
    ("1 + d^2/dx y", False, "order of a derivative is written on both d's: d^2/dx^2", 1, 5),
    ("dy/dx(1, 2)", False, "a derivative is taken at one point", 1, 1),
    ("d/dx(x^2)(1)", False, "no notation for the derivative of an expression at a point", 1, 1),
    ("y + d^2/dx^2 [x^3](-1/2)", False, "write d^2y/dx^2(1)", 1, 5),
    (r"\frac{d}{dx}(x^2)(1)", True, "no notation for the derivative of an expression at a point", 1, 1),
    (r"y + \frac{d^2}{dx^2}\left[x^3\right]\left(\frac{\pi}{2}\right)", True, r"write \frac{d^{2}y}{dx^{2}}(1)",
     1, 5),
    (r"\dfrac{\partial}{\partial \theta}(\theta^2)\big(0\big)", True, "no notation for the derivative", 1, 1),
    (r"x \cdot d/dx(x^2)(-1)", True, "no notation for the derivative", 1, 9),
    (r"\frac{d}{dx}(x^2)\quad(1)", True, "no notation for the derivative", 1, 1),
    ("Subs(x, x, 1)", False, "Subs(...) is sympy's notation", 1, 1),
    ("∂_1" * 21 + " L(u, t)", False, "at most 20 ∂ in a row", 1, 1),
    ("∂_3 L(u, v)", False, "L takes 2 arguments here, so ∂_3 names none of them", 1, 1),
    ("∂_0 L(u, v)", False, "L takes 2 arguments here, so ∂_0 names none of them", 1, 1),
    ("∂_1 log(x, 2)", False, "∂_1 applies to a function of your own", 1, 1),
    (r"\partial_3 L(u, v)", True, "L takes 2 arguments here, so ∂_3 names none of them", 1, 1),
    (r"x + \partial_2 \sin(x)", True, "∂_2 applies to a function of your own", 1, 5),
    ("dy(x)/dx(w)", False, "dy(x)/dx(...) is taken at a number", 1, 1),
    (r"dy(x)/dx(w)", True, "dy(x)/dx(...) is taken at a number", 1, 1),
    ("d^21/dx^21 x", False, "a whole number from 1 to 20", 1, 1),
    ("x \\", True, "a lone backslash", 1, 3),
]


@pytest.mark.parametrize(
    ("text", "latex", "words", "line", "column"), ERRORS, ids=[repr(case[0]) for case in ERRORS]
)
def test_bad_input_raises_a_parse_error_with_words_and_position(
    text: str, latex: bool, words: str, line: int, column: int
) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text, latex=latex)
    error = caught.value
    assert words in error.message
    assert (error.line, error.column) == (line, column)


@pytest.mark.parametrize(("text", "latex"), [(case[0], case[1]) for case in ERRORS], ids=[repr(c[0]) for c in ERRORS])
def test_no_message_names_a_lark_class_or_terminal(text: str, latex: bool) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text, latex=latex)
    shown = str(caught.value)
    for internal in ("_RPAREN", "_LPAREN", "LPAR", "RPAR", "$END", "Token(", "Unexpected", "lark", "Expected one of",
                     "Traceback", "SympifyError", "__ANON", "Tree("):
        assert internal not in shown


def test_a_long_operator_is_quoted_short() -> None:
    with pytest.raises(ParseError) as caught:
        parse(r"\frac{d" + " " * 5000 + r"}{dx_{" + "a" * 300 + "}}(x)(1)", latex=True)
    assert "no notation for the derivative" in caught.value.message
    assert len(caught.value.message) < 300


def test_the_context_is_the_line_with_a_caret_under_the_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse("2*(x + y")
    error = caught.value
    source, caret = error.context.split("\n")
    assert source == "2*(x + y"
    assert caret == " " * (error.column - 1) + "^"


def test_a_parse_error_is_a_derive_error_and_a_value_error() -> None:
    with pytest.raises(derive.DeriveError):
        parse("(")
    with pytest.raises(ValueError):
        parse("(")


def test_text_that_is_not_a_string_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="expected text"):
        parse(42)  # type: ignore[arg-type]


DERIVATION_ERRORS = [
    ("y = sigmoid(z)\nE = (a - y)^2\ndE/dz = 2(a - y(\n", "missing closing parenthesis", 3, 17),
    ("x = 1\n\n  y = 2 +\n", "expected an expression after '+'", 3, 10),
    ("x = 1 # a comment\ny = (2", "missing closing parenthesis", 2, 7),
    ("a = b\n= c\n= d @ e", "unexpected character '@'", 3, 5),
    (
        "\\begin{align}\nE &= \\frac{1}{2}(a - y)^2 \\\\\ny &= \\sigma(z) \\\\\n"
        "\\frac{\\partial E}{\\partial z} &= \\foo{y} \\\\\n\\end{align}",
        "unknown LaTeX command \\foo",
        4,
        34,
    ),
    ("\\begin{align} a &= b \\\\ c &= d + \\end{align}", "expected an expression after '+'", 1, 33),
    (
        "% comment\n\\begin{aligned}\n  u &= x^2 \\\\\n  &= (x \\cdot x\n\\end{aligned}",
        "missing closing parenthesis",
        4,
        16,
    ),
    ("$$ x = \\frac{1}{ $$", "missing closing brace", 1, 17),
]


@pytest.mark.parametrize(("text", "words", "line", "column"), DERIVATION_ERRORS, ids=range(len(DERIVATION_ERRORS)))
def test_errors_in_derivations_point_at_the_line_and_column_the_user_wrote(
    text: str, words: str, line: int, column: int
) -> None:
    with pytest.raises(ParseError) as caught:
        read_statements(text)
    error = caught.value
    assert words in error.message
    assert (error.line, error.column) == (line, column)
    assert error.context.split("\n")[0] == text.split("\n")[line - 1]


def test_the_caret_follows_the_column_on_a_long_line() -> None:
    text = "x + " * 60 + "@"
    with pytest.raises(ParseError) as caught:
        parse(text)
    source, caret = caught.value.context.split("\n")
    assert source[len(caret) - 1] == "@"


@pytest.mark.parametrize("text", ["Float(2)*x", "d/dx(Sum(x))", "Pow'(x)", "x*Integer(3)"])
def test_a_function_named_like_a_sympy_class_is_an_error_with_its_place(text: str) -> None:
    # sympy prints by class name: a function called Float was printed as a Float, and failed
    from derive.errors import ParseError
    from derive.parse import parse

    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "cannot name a function" in caught.value.message and caught.value.column == text.index(
        next(n for n in ("Float", "Sum", "Pow", "Integer") if n in text)) + 1


@pytest.mark.parametrize(
    ("text", "column", "written"),
    [("lr*1e-3", 4, "0.001"), ("2e5*x", 1, "200000"), ("1.5E+2", 1, "150"), ("\\frac{1}{2} 3e-2 x", 13, "0.03"),
     ("1.5e3*x", 1, "1500"), ("1e-99", 1, "1e-99")],
)
def test_scientific_notation_is_an_error_not_euler_s_number(text: str, column: int, written: str) -> None:
    # read as written, 1e-3 is 1·e - 3 (about -0.28), which no one writing a learning rate means
    from derive.errors import ParseError
    from derive.parse import parse

    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "scientific notation" in caught.value.message and caught.value.column == column
    # the number itself, in the notation derive reads (or, when that is too long, how to write it)
    assert f"write {written} instead" in caught.value.message or (
        written == "1e-99" and "as a fraction or decimal" in caught.value.message)


@pytest.mark.parametrize(("text", "value"), [("2e^x", 2 * sympy.exp(sympy.Symbol("x"))), ("3e", 3 * sympy.E),
                                             ("x1e2", sympy.Symbol("x1e2")), ("2*e - 3", 2 * sympy.E - 3)])
def test_euler_s_number_after_a_number_is_still_read(text: str, value: sympy.Expr) -> None:
    from derive.parse import parse

    assert parse(text) == value


@pytest.mark.parametrize("latex", ["yes", 1, 0.0])
def test_latex_that_is_not_a_bool_or_none_is_a_derive_error(latex: object) -> None:
    from derive import DeriveError, check, parse

    with pytest.raises(DeriveError, match="latex must be True, False or None"):
        parse("x", latex=latex)  # type: ignore[arg-type]
    with pytest.raises(DeriveError, match="latex must be True, False or None"):
        check("x = 1", latex=latex)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("end", "line", "column", "shown"),
    [("\f\n", 2, 7, "y = (2"), ("\r\n", 2, 7, "y = (2"), ("\x85\n", 1, 6, "x = 1\x85"), ("\x1c\n", 1, 6, "x = 1\x1c")],
)
def test_the_context_line_is_the_line_the_position_counts(end: str, line: int, column: int, shown: str) -> None:
    # positions count \n only: a form feed, or another character Python's splitlines breaks at, is no line end
    with pytest.raises(ParseError) as caught:
        derive.check(f"x = 1{end}y = (2")
    assert (caught.value.line, caught.value.column) == (line, column)
    assert caught.value.context == shown + "\n" + " " * (column - 1) + "^"


@pytest.mark.parametrize(("text", "column"), [
    (r"z^{(1)} = w^{(1)} x", 2), (r"a^{[2]}", 2), (r"f^{( 2 )}(x)", 2),
    # a letter index too: x^{(l)} read as x^l, a^{[l-1]} as a^(l - 1), f^{(n)}(x) as f^n x
    (r"x^{(l)}", 2), (r"a_j^{(l)} = w x", 4), (r"a^{[l-1]}", 2), (r"y^{(i)} - \hat{y}^{(i)}", 2), (r"f^{(n)}(x)", 2),
])
def test_an_index_superscript_is_an_error_not_a_power(text: str, column: int) -> None:
    # z^{(1)} is layer 1 in ML texts; read as the power 1 it made z = w x a definition or a false claim
    with pytest.raises(ParseError, match="is an index") as caught:
        derive.check(text, latex=True)
    assert caught.value.column == column


@pytest.mark.parametrize(("text", "message", "column"), [
    (r"\theta^T x", "transpose", 7),  # read as θ to the power T
    (r"W^{\top} x", "transpose", 2),
    ("f(x) = 2x\n" r"f^{-1}(x) = \frac{x}{2}", "inverse function of f", 1),  # read as x/f: a function's inverse
    (r"f(y) + f^{-1}(x)", "inverse function of f", 8),
    (r"\sigma^{-1}(y)", "inverse of the sigmoid", 1),  # the logit, which read as 1/σ(y) it was not
])
def test_a_transpose_or_an_inverse_function_is_an_error_not_a_power(text: str, message: str, column: int) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        derive.check(text, latex=True)
    assert caught.value.column == column


@pytest.mark.parametrize(("text", "expected"), [
    (r"e^{(x+1)}", "exp(x + 1)"), (r"e^T", "exp(T)"), (r"e^{-1}(x)", "x*exp(-1)"), (r"\sin^{-1}(x)", "asin(x)"),
    (r"x^{2}", "x**2"), (r"y^{-1}", "1/y"),
    # a letter that is no function: x^{-1}(x^2 + 1) is a product; γ^T a discount over T steps
    (r"x^{-1}(x^2+1)", "(x**2 + 1)/x"), (r"\gamma^T", "gamma**T"), (r"\beta^{T} + 1", "beta**T + 1"),
    (r"a^T \ln a", "a**T*log(a)"),  # a function after ^T: a power of a variable T (it was refused)
    (r"\frac{d \cdot m}{d \cdot t}", "m/t"),  # d times m over d times t, written so
])
def test_powers_next_to_them_still_read_as_powers(text: str, expected: str) -> None:
    assert str(derive.parse(text, latex=True)) == expected


@pytest.mark.parametrize(("text", "column"), [
    (r"\left.\frac{dy}{dx}\right|_{x=0} = 2", 20),  # was "unmatched closing bar"
    (r"\frac{d}{dx}x^2\Big|_{x=1} = 2", 16),  # was "unknown LaTeX command \Big"
])
def test_a_value_at_a_point_written_with_a_bar_says_how_derive_writes_it(text: str, column: int) -> None:
    with pytest.raises(ParseError, match="evaluates at a point") as caught:
        derive.check(text, latex=True)
    assert caught.value.column == column


@pytest.mark.parametrize(("text", "expected"), [
    (r"\hat y - y", "-y + yhat"),  # \hat y without braces, as TeX allows (was unknown command \hat)
    (r"y_\text{pred} + h_\theta", "h_theta + y_pred"),  # a command as a subscript (was an error)
    (r"h_\theta(x)", "h_theta(x)"),
])
def test_accents_and_subscripts_written_without_braces(text: str, expected: str) -> None:
    assert str(derive.parse(text, latex=True)) == expected
