"""derive.check: statements, numbering of steps, the Report and its JSON, as the contract fixes them."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sympy
from sympy.core.function import AppliedUndef

from derive.check import check, check_step
from derive.definitions import Definitions
from derive.errors import DefinitionError, ParseError
from derive.functions import relu, sigmoid, softplus
from derive.report import Report, StepCheck
from derive.symbols import function, symbol
from derive.verify import Verdict

x, z, a, b = (symbol(n) for n in "xzab")
LOCALS = {"sigmoid": sigmoid, "softplus": softplus, "relu": relu}
BACKPROP = "E = 1/2*(a - y)^2\ny = sigmoid(z)\n"


def verdicts(report: Report) -> dict[tuple[int, int], str]:
    return {(s.line, s.k): s.verdict.value for s in report.steps}


# --- which step is which -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d/dx x^2 = 2x", {(1, 0): "proved"}),
        ("d/dx x^2 = 2x = x + x = 3x", {(1, 0): "proved", (1, 1): "proved", (1, 2): "refuted"}),
        ("d/dx x^3 = 3x^2\n= 3 x x\n= x", {(1, 0): "proved", (2, 0): "proved", (3, 0): "refuted"}),
        ("# a comment\n\nd/dx x^2 = 2x  # why\n", {(3, 0): "proved"}),
        ("y = x^2\ndy/dx = 2x", {(2, 0): "proved"}),
        ("y = x^2\nlet y = x^3\ndy/dx = 3x^2", {(3, 0): "proved"}),
        ("y = x^2\ndy/dx = 2x\nlet y = x^3\ndy/dx = 2x", {(2, 0): "proved", (4, 0): "refuted"}),
        ("where u = 2x\ndu/dx = 2", {(2, 0): "proved"}),
        (
            "\\begin{align*}\n\\frac{d}{dx} x^2 &= 2x \\\\\n&= x + x \\\\\n&= 3x\n\\end{align*}",
            {(2, 0): "proved", (3, 0): "proved", (4, 0): "refuted"},
        ),
        ("% comment\n\\frac{d}{dx} x^2 = 2x % why\n", {(2, 0): "proved"}),
    ],
    ids=[
        "one step",
        "a chain has one step per equals sign",
        "a continuation line has k = 0",
        "comments and blank lines are skipped, lines still counted",
        "a definition is no step",
        "let replaces a definition",
        "a redefinition applies from its line on",
        "where introduces a definition",
        "align rows continue the chain",
        "latex comments are skipped",
    ],
)
def test_steps_are_numbered_by_line_and_equals_sign(text: str, expected: dict[tuple[int, int], str]):
    assert verdicts(check(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a left side that sympy simplifies to a bare name is still a claim, and is checked
        ("2w - w = 5", {(1, 0): "refuted"}),
        ("sqrt(x)^2 = x", {(1, 0): "proved"}),
        ("exp(log(x)) = x", {(1, 0): "proved"}),
        ("sqrt(k)^2 = 4\nd/dx (k x) = 4", {(1, 0): "refuted", (2, 0): "refuted"}),
    ],
)
def test_a_claim_that_simplifies_to_a_name_is_checked_not_taken_as_a_definition(text, expected):
    assert verdicts(check(text)) == expected


def test_a_carriage_return_alone_ends_a_line():
    assert verdicts(check("f = x^2\rdf/dx = 3x\rdf/dx = 2x")) == {(2, 0): "refuted", (3, 0): "proved"}


def test_rows_on_one_line_number_their_equals_signs_along_that_line():
    # k is the index of the = on its line (contract): two rows on one line are not both (line, 0)
    text = "\\begin{align*} \\frac{d}{dx} x^2 &= 2x \\\\ &= x + x \\\\ &= 3x \\end{align*}"
    assert verdicts(check(text)) == {(1, 0): "proved", (1, 1): "proved", (1, 2): "refuted"}
    assert verdicts(check("$$ u = x^2 $$ $$ du/dx = 2x $$")) == {(1, 1): "proved"}


def test_a_word_in_a_subscript_is_part_of_the_name_not_a_remark():
    # \text{pred} and \text{true} in subscripts: y_pred and y_true, not both y (which proved a factor 7)
    text = (
        "\\begin{align*}\n y_{\\text{pred}} &= w x \\\\\n L &= (y_{\\text{pred}} - y_{\\text{true}})^2 \\\\\n"
        " \\frac{\\partial L}{\\partial w} &= 7 (y_{\\text{pred}} - y_{\\text{true}}) x \\\\\n"
        " \\frac{\\partial L}{\\partial w} &= 2 (y_{\\text{pred}} - y_{\\text{true}}) x\n\\end{align*}"
    )
    assert verdicts(check(text)) == {(4, 0): "refuted", (5, 0): "proved"}


def test_a_definition_whose_body_is_a_derivative_means_that_derivative():
    # backprop's delta: delta = dE/dz, then dE/dw = delta x (the derivative was read as 0, refuting it)
    text = BACKPROP + "z = w x + b\ndelta = dE/dz\ndE/dw = delta x\ndE/db = delta\ndE/dw = 2 delta x"
    assert verdicts(check(text)) == {(5, 0): "proved", (6, 0): "proved", (7, 0): "refuted"}
    assert verdicts(check("y = sigmoid(z)\ng = dy/dz\ng = y(1 - y)")) == {(3, 0): "proved"}


def test_a_wrong_line_does_not_hide_the_lines_after_it():
    report = check("d/dx x^2 = 2\nd/dx x^3 = 3\nd/dx x^4 = 4x^3")
    assert verdicts(report) == {(1, 0): "refuted", (2, 0): "refuted", (3, 0): "proved"}


def test_latex_can_be_forced_either_way():
    assert verdicts(check("\\frac{d}{dx} x^2 = 2x", latex=True)) == {(1, 0): "proved"}
    assert verdicts(check("d/dx x^2 = 2x", latex=False)) == {(1, 0): "proved"}


# --- the Leibniz semantics -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        (BACKPROP + "dE/dz = dy/dz * dE/dy", "proved"),
        (BACKPROP + "dE/dz = dE/dy(z)", "refuted"),
        ("E = 1/2*(a - y)^2\ny = cos(z)\ndE/dz = dE/dy(z)", "refuted"),
        ("E = 1/2*(a - y)^2\ny = z + b\ndE/dz = dE/dy(z)", "proved"),
        (BACKPROP + "dE/dy = -(a - y)", "proved"),
        (BACKPROP + "dy/dz = y*(1 - y)", "proved"),
        ("E(z) = 1/2*(a - sigmoid(z))^2\n\\frac{\\partial E(z)}{\\partial z} = (\\sigma(z) - a) \\sigma'(z)", "proved"),
        ("u = x y\nv = x + y\nf = u v\ndf/dx = df/du du/dx + df/dv dv/dx", "proved"),
        ("u = x y\nv = x + y\nf = u v\ndf/dx = df/du du/dx", "refuted"),
        # dE/dy(z) is dE/dy also when z is defined: y(z) is y written as a function of z (it was an error)
        ("z = w x + b\ny = sigmoid(z)\nE = 1/2*(a - y)^2\ndE/dy(z) = y - a", "proved"),
        ("z = w x + b\ny = sigmoid(z)\nE = 1/2*(a - y)^2\ndE/dz = dE/dy(z) * dy/dz", "proved"),
        ("z = w x + b\ny = sigmoid(z)\nE = 1/2*(a - y)^2\ndE/dy(z) = a - y", "refuted"),
    ],
    ids=[
        "the chain rule in Leibniz form holds",
        "dE/dz is not dE/dy for a sigmoid",
        "dE/dz is not dE/dy for a cosine",
        "dE/dz is dE/dy when y = z + b",
        "dE/dy holds y fixed",
        "dy/dz in terms of y",
        "partial of an applied definition",
        "a sum over paths",
        "a path left out",
        "dE/dy(z) with z defined",
        "the chain rule with dE/dy(z), z defined",
        "dE/dy(z) with z defined, a sign lost",
    ],
)
def test_leibniz_derivatives_mean_what_the_contract_says(text: str, verdict: str):
    (step,) = check(text).steps
    assert step.verdict.value == verdict


def test_a_steep_function_is_refuted_near_zero_where_it_differs():
    (step,) = check("d/dx abs(x) = tanh(1000 x)").steps
    assert step.verdict is Verdict.REFUTED
    point = sympy.Rational(step.counterexample["x"])
    assert abs(point) < sympy.Rational(1, 20)  # elsewhere the two agree to 30 digits
    assert sympy.N(sympy.sign(point) - sympy.tanh(1000 * point), 50) != 0


def test_a_name_used_as_a_variable_and_as_a_function_keeps_both_values_and_says_so():
    (step,) = check("d/dx (a x^2) = a(2x)").steps
    assert step.verdict is Verdict.REFUTED
    assert "Lambda" in step.counterexample["a(t)"]
    sympy.Rational(step.counterexample["a"])  # the variable's value, a number
    assert "a is both a variable and a function" in step.note


def test_a_product_written_as_an_application_in_latex_is_explained():
    (step,) = check(r"\frac{d}{dx} x^2\sin x = x(2\sin x + x\cos x)").steps
    assert step.verdict is not Verdict.PROVED  # x(...) is an application (contract, section 1)
    assert r"x \cdot (" in step.note


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("d/dx log10(x) = 1/(x ln(10))", "proved"),
        ("d/dx log2(x^2) = 2/(x ln(2))", "proved"),
        ("log10(1000) = 3", "proved"),
        ("d/dx log10(x) = 1/x", "refuted"),
    ],
)
def test_log10_and_log2_are_known_functions(text, verdict):
    assert {s.verdict.value for s in check(text).steps} == {verdict}


def test_a_step_that_holds_as_0_0_because_a_name_is_misspelt_says_so():
    text = "yhat = sigmoid(z)\nE = 1/2 (a - y_hat)^2\ndE/dz = 3 dE/dyhat dyhat/dz"
    (step,) = check(text).steps
    assert step.verdict is Verdict.PROVED  # E does not depend on z as written: both sides are 0
    assert "dE/dz is 0: E does not depend on z" in step.note
    (step,) = check(BACKPROP + "dE/dz = dy/dz * dE/dy").steps
    assert step.note is None
    (step,) = check("y = sigmoid(z)\nE(y) = 1/2*(a - y)^2\ndE/dz = dE/dy dy/dz").steps
    assert step.verdict is Verdict.PROVED and step.note is None  # E(y): E depends on z through y


def test_a_derivative_by_a_name_the_definition_applies_at_two_points_holds_as_0_0_and_says_so():
    (step,) = check("E = y(x)^2 + y(t)\ndE/dy = 0").steps
    assert step.verdict is Verdict.PROVED  # E has no variable y, and no one y(...) to take it by: 0 = 0
    assert "dE/dy is 0: E is written with y(t), a function, not with a variable y" in step.note


# The contract: dN/dy(z) means the same as dN/dy when y(z) is how y is written. The seed question, with y
# abstract: E = 1/2 (a - y(z))^2, so dE/dy = -(a - y(z)) and dE/dz = dy/dz dE/dy (oracle: sympy.diff by y(z)).
@pytest.mark.parametrize(("text", "verdict"), [
    ("E = y(x)^2\ndE/dy = 2 y(x)", "proved"),
    ("E = y(x)^2\ndE/dy = 0", "refuted"),
    ("E = 1/2*(a - y(z))^2\ndE/dy = -(a - y(z))", "proved"),
    ("E = 1/2*(a - y(z))^2\ndE/dz = dy/dz * dE/dy", "proved"),
    ("E = 1/2*(a - y(z))^2\ndE/dz = dy/dz * dE/dy(z)", "proved"),
    ("E = 1/2*(a - y(z))^2\ndE/dz = -dy/dz * dE/dy", "refuted"),
    # y(0) alone is the one place y is applied at; beside y(z) it is a number (dE/dy was 0)
    ("E = (a - y(0))^2\ndE/dy = -2(a - y(0))", "proved"),
    ("E = (a - y(0))^2\ndE/dy = 0", "refuted"),
    ("E = (a - y(z))^2 + y(0)\ndE/dy = -2(a - y(z))", "proved"),
])
def test_a_derivative_by_y_where_y_is_written_y_of_z_is_by_y_of_z(text: str, verdict: str) -> None:
    (step,) = check(text).steps
    assert step.verdict == verdict, step.note


def test_implicit_differentiation_of_a_variable_holds_as_0_0_and_says_so():
    (step,) = check("d/dx sin(y) = 3 cos(y) dy/dx").steps
    assert step.verdict is Verdict.PROVED
    assert "dy/dx is 0: y is a variable here, not a function of x" in step.note


def test_a_sigmoid_counterexample_shows_both_values():
    step = check(BACKPROP + "dE/dz = dE/dy(z)").steps[0]
    assert step.counterexample is not None and set(step.counterexample) == {"a", "z"}
    assert step.lhs_value is not None and step.rhs_value is not None
    assert step.lhs_value != step.rhs_value
    assert step.expected == sympy.diff((a - sigmoid(z)) ** 2 / 2, z)


# --- abstract functions --------------------------------------------------------------------------


def test_the_chain_rule_for_abstract_functions_is_proved():
    (step,) = check("d/dx f(g(x)) = f'(g(x)) g'(x)").steps
    assert step.verdict is Verdict.PROVED


def test_a_wrong_abstract_chain_rule_names_the_concrete_functions_it_used():
    (step,) = check("d/dx f(g(x)) = f'(x) g'(x)").steps
    assert step.verdict is Verdict.REFUTED
    assert {"f", "g", "x"} <= set(step.counterexample)
    assert step.counterexample["f"].startswith("Lambda(")
    f, g = function("f"), function("g")
    assert step.expected.doit() == sympy.diff(f(g(x)), x).doit()


# --- measure zero and domains --------------------------------------------------------------------


def test_a_step_false_only_at_one_point_is_proved_with_a_note():
    (step,) = check("d/dx abs(x) = x/abs(x)").steps
    assert step.verdict is Verdict.PROVED
    assert step.note and "undefined" in step.note


def test_a_step_that_only_fails_outside_the_real_domain_gets_a_domain_note_not_a_refutation():
    (step,) = check("log(x^2) = 2 log(x)").steps
    assert step.verdict is Verdict.UNKNOWN
    assert step.counterexample is None
    assert "not real" in step.note


# --- bad input -----------------------------------------------------------------------------------


def test_a_parse_error_propagates_with_line_and_column():
    with pytest.raises(ParseError) as caught:
        check("d/dx x^2 = 2x\nd/dx (x^2 = 2x")
    assert caught.value.line == 2
    assert caught.value.column >= 1


# dN/dv is the derivative of a name defined above the line (contract, section 1), or of a name used as a
# variable, whose derivative is 0. Of a name used nowhere else it would be 0 too, and a false chain rule
# such as dE/dz = 42 dE/dy dy/dz would hold as 0 = 0.
UNDEFINED_LEIBNIZ = [
    ("dE/dz = 42 dE/dy dy/dz\nwhere E = 1/2 (a - y)^2\nwhere y = sigmoid(z)", 1, 1, "of E, which is not defined"),
    ("y = sigmoid(z)\ndE/dz = dy/dz dE/dy", 2, 1, "of E, which is not defined"),
    ("dy/dx = 2x", 1, 1, "of y, which is not defined"),
    ("dtanh/dz = 1 - tanh(z)^2", 1, 1, "not of the function: write the function with its argument"),
    ("u = 2x\ndu/dx = 2 = dE/du(x)", 2, 13, "of E, which is not defined"),
    ("\\frac{\\partial E}{\\partial y} = 0", 1, 1, "of E, which is not defined"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), UNDEFINED_LEIBNIZ)
def test_a_leibniz_derivative_of_a_name_not_defined_above_is_an_error_at_it(text, line, column, message):
    with pytest.raises(ParseError, match=message) as caught:
        check(text)
    assert (caught.value.line, caught.value.column) == (line, column)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("dx/dx = 1", "proved"),  # of the variable itself
        ("E(y) = y^2\ndE/dy = 2y", "proved"),  # a name defined with parameters
        ("y = x^2\ndy/dx(3) = 6", "proved"),
        ("dE(z)/dz = dE(z)/dz * 1", "proved"),  # written as a function: an abstract one, not a constant
        ("d/dw(b + w x) = db/dw + x", "proved"),  # b is a variable on the line: db/dw is 0
        ("dσ/dz = σ(z)(1 - σ(z))", "proved"),  # σ undefined: the sigmoid of the variable, as ML notes mean it
        ("x dσ/dσ = x", "proved"),  # by σ itself: 1, as dx/dx
        # dE/dy(z) is dE/dy, y written as y(z), also for a variable y of E's definition (it was 0)
        ("E = y^3\ndE/dy(t) = 0", "refuted"),
        ("E = y^3\ndE/dy(t) = 3 y^2", "proved"),
        ("E = 1/2*(a - y)^2\ndE/dy(z) = dE/dy", "proved"),
        ("\\frac{d\\sigma}{dz} = \\sigma(z)(1 + \\sigma(z))", "refuted"),
        ("E = y^2\ndE/dz = dE/dy * dy/dz", "proved"),  # y is a variable in E's definition: 0 = 2y * 0
        ("x^2 + y^2 = 1\n2x + 2y dy/dx = 0", "refuted"),  # y is a variable, not a function of x
    ],
)
def test_a_leibniz_derivative_of_a_defined_name_or_of_the_variable_is_checked(text, verdict):
    assert {s.verdict.value for s in check(text).steps} == {verdict}


# Implicit differentiation: a name written as a function of the variable on the line, y(x), makes dy/dx the
# derivative of that function, y'(x), as calculus texts write it.
IMPLICIT = [
    ("d/dx(x^2 + y(x)^2) = 2x + 2y(x) dy/dx", "proved"),
    ("d/dx(x^2 + y(x)^2) = 2x + 2y(x)", "refuted"),  # the forgotten inner derivative
    ("d/dx(x y(x)) = y(x) + x dy/dx", "proved"),
    ("d/dx(x y(x)) = x dy/dx", "refuted"),  # the product rule's other term lost
    ("d/dx sin(y(x)) = cos(y(x)) dy/dx", "proved"),
    ("d/dx sin(y(x)) = -cos(y(x)) dy/dx", "refuted"),  # a sign
    ("d/dx(y(x)^2) = dy/dx * 2 y(x) = 2 y(x) y'(x)", "proved"),
    ("d^2/dx^2 y(x)^2 = 2 (dy/dx)^2 + 2 y(x) d^2y/dx^2", "proved"),
    ("\\frac{d}{dx}\\left(y(x)^3\\right) = 3y(x)^2 \\frac{dy}{dx}", "proved"),
    ("d/dt(u(x, t)^2) = 2 u(x, t) du/dt", "proved"),  # a partial derivative of a function of two variables
    ("d/dx(y(x) + y(2x)) = dy/dx", "refuted"),  # y(2x) is the same function, at 2x: 2y'(2x) is missing
    ("d/dx(y(x) - y'(0) x) = dy/dx - y'(0)", "proved"),  # y'(0) is y at a point, not y written as y(t)
    ("d/dx(y(x)^2) + y(0) = 2 y(x) dy/dx + y(0)", "proved"),
    ("d/dx(x^2 + y(x)^2) = 2x + 2y(x) y'(x)\n= 2x + 2y(x) dy/dx", "proved"),  # y(x) on the line above
    ("d/dx(x^2 + y(x)^2) = 2x + 2y(x) y'(x)\n= 2x + 2 dy/dx", "refuted"),
    ("y(x) + dy/dx(0) = y(x) + dy/dx(1)", "refuted"),  # y'(0) = y'(1) does not hold: x is bound at a point only
    ("y + 1 = 1 + y\ny(x) + dy/dx(0) = y(x) + dy/dx(1)", "refuted"),
    # dy/dx of a variable y is 0, and a derivative is no variable a defined name could be written in
    ("g = sin(y)\ng(dy/dx) = g", "refuted"),
    ("E = 1/2*(a - y)^2\nE(dy/dz) = E", "refuted"),
    ("f'(dy/dx) + y = f'(0) + y", "proved"),
    # d/dx of dy/dx: y'' (sympy merged the stand-in's derivatives, and y'' = 0 was proved)
    ("d/dx(dy/dx) + y(x) = y(x)", "refuted"),
    ("d/dx(dy/dx) = y''(x)", "proved"),
    ("d/dx(du/dt) + u(x, t) = u(x, t)", "refuted"),
    ("d/dx(y(x)^2) = 2 y(x) dy/dx\nd/dx(dy/dx) = d^2y/dx^2", "proved"),
    ("d/dt(dy/dx) + y(x) = y(x)", "proved"),
    # sympy's LaTeX for y(x)^2 writes y once, applied
    (r"\frac{d}{dx}\left(y^{2}{\left(x \right)}\right) = 2 y{\left(x \right)} \frac{dy}{dx}", "proved"),
]


@pytest.mark.parametrize(("text", "verdict"), IMPLICIT)
def test_implicit_differentiation_with_the_function_written_on_the_line_is_checked(text, verdict):
    report = check(text)
    *before, last = report.steps
    assert last.verdict.value == verdict and all(s.verdict.value == "proved" for s in before)
    if "y(x)" in text or "u(x, t)" in text:  # the function throughout, never a variable whose derivative is 0
        assert not {s.name for s in last.lhs.free_symbols | last.rhs.free_symbols} & {"y", "u"}


@pytest.mark.parametrize(
    "text",
    [
        "d/dx(y(2x)) = dy/dx",  # y(2x) is not y as a function of x: dy/dx means nothing there
        "d/dx(y(t)) = dy/dx",  # y is a function of t, not of x
        "z = x^2\nd/dx u(x, z) = du/dx",  # u(x, x^2): du/dx would be its total derivative, not the partial
    ],
)
def test_a_leibniz_derivative_of_a_function_applied_otherwise_is_still_an_error(text):
    with pytest.raises(ParseError, match="which is not defined before this line"):
        check(text)


def test_a_function_written_above_and_a_variable_on_the_line_is_an_error_that_says_where():
    expected = "y is written as y.x. on a line above and as y alone on this line"
    with pytest.raises(ParseError, match=expected) as caught:
        check("d/dx(y(x)) = dy/dx\nd/dx(y^2) = 2y dy/dx")
    assert (caught.value.line, caught.value.column) == (2, 16)


def test_a_leibniz_derivative_is_no_variable_to_differentiate_by():
    for text in ("diff(x^2 + y, dy/dx) = 0", "diff(y(x)^2, dy/dx) = 0"):
        with pytest.raises(ParseError, match="diff needs a variable"):
            check(text)


def test_the_lines_above_are_read_once_for_the_leibniz_derivatives_of_undefined_names(monkeypatch):
    import sys

    module = sys.modules["derive.parse"]  # `derive.parse` is the function
    calls = []
    real = module.function_forms
    monkeypatch.setattr(module, "function_forms", lambda exprs: calls.append(1) or real(exprs))
    lines = 60
    report = check("\n".join(f"d/dx(y(x)^2 + x^{k}) = 2 y(x) dy/dx + {k} x^{k - 1}" for k in range(2, lines + 2)))
    assert report.ok and len(report.steps) == lines
    assert len(calls) <= 2 * lines  # once for the line, at most once more for it as a line above: linear


@pytest.mark.parametrize(
    "text",
    [
        # d/dx(y) is the derivative of a variable y, 0; dy/dx beside y(x) would be y'(x): a line that writes
        # y both ways was proved false (y' = y' + 2y y') and refuted true
        "d/dx(y) + y(x) = dy/dx + y(x) + d/dx(y^2)",
        "d/dx(y(x) + y) = dy/dx + d/dx(y)",
        "d/dx(y(x, t) + y(x)) = dy/dx",
    ],
)
def test_a_function_written_two_ways_on_the_line_makes_its_leibniz_derivative_an_error(text):
    with pytest.raises(ParseError, match="cannot be told; write it one way throughout"):
        check(text)


def test_outside_a_derivation_a_leibniz_derivative_still_parses():
    from derive.parse import parse

    assert parse("dE/dz") == sympy.Derivative(symbol("E"), z)


def test_a_name_applied_before_it_is_defined_without_parameters_is_a_definition_error():
    # E's y(1 - y) applies a function y; the y defined below has no parameter, and dropping the argument
    # proved dE/dz = 2z
    with pytest.raises(DefinitionError, match=r"in the definition of E: y\(1 - y\) applies y") as caught:
        check("a = 1\n  E = y(1-y)\ny = z^2\ndE/dz = 2z")
    assert (caught.value.line, caught.value.column) == (2, 1)  # at E's definition, where y(1 - y) is


def test_a_continuation_without_an_equation_above_is_a_parse_error():
    with pytest.raises(ParseError):
        check("# nothing above\n= 2x")


def test_a_continuation_below_a_definition_continues_from_its_body():
    report = check("y = (x + 1)^2\n= x^2 + 2x + 1\n= x^2 + 1")
    assert verdicts(report) == {(2, 0): "proved", (3, 0): "refuted"}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("u = v + 1\nlet v = w\n  let w = u\ndu/dx = 0", 3, 3, "cyclic definitions"),
        ("f = x^2\nd/dx f = 2x\nlet f = f + 1", 3, 1, "f is defined in terms of itself"),
        ("a = 1\n\\begin{align*} g &= x \\\\ h &= h^2 \\end{align*}", 2, 26, "h is defined in terms of itself"),
    ],
)
def test_a_definition_error_names_its_line_and_column_with_a_caret(text, line, column, message):
    with pytest.raises(DefinitionError, match=message) as caught:
        check(text)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert error.context.splitlines()[1] == " " * (column - 1) + "^"
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_a_cycle_through_a_named_parameter_is_reported_at_its_definition():
    # E used as a name is E(y), with y the defined name: y = E + 1 is y = y^2 + 1
    with pytest.raises(DefinitionError, match=r"line 2, column 1: cyclic definitions: y -> E -> y"):
        check("E(y) = y^2\ny = E + 1\ndE/dy = 2*y")
    with pytest.raises(DefinitionError, match=r"line 2, column 1: cyclic definitions: (y -> E -> y|E -> y -> E)"):
        check("y = E + 1\nE(y) = y^2\ndE/dy = 2*y")
    check("s(z) = 1/(1 + exp(-z))\nz = w*s(u) + b\nds/dz = s*(1 - s)")  # applied: no cycle


# --- the Report ----------------------------------------------------------------------------------


def test_first_error_is_the_same_object_as_in_steps():
    report = check("d/dx x^2 = 2x\nd/dx x^3 = 3x\nd/dx x^4 = 4")
    assert report.first_error is report.steps[1]
    assert report.ok is False


def test_a_report_without_errors_is_ok_and_has_no_first_error():
    report = check("d/dx x^2 = 2x")
    assert report.ok is True and report.first_error is None


def test_a_step_check_is_frozen():
    step = check("d/dx x^2 = 2x").steps[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.verdict = Verdict.REFUTED  # type: ignore[misc]


def test_the_report_lists_the_definitions_in_order():
    report = check("y = x^2\nlet y = x^3\ndy/dx = 3x^2")
    assert [(d.name, d.line) for d in report.definitions] == [("y", 1), ("y", 2)]


def test_to_dict_has_exactly_the_contract_keys_and_is_json():
    report = check(BACKPROP + "dE/dz = dE/dy(z)\ndy/dz = y(1 - y)")
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {"ok", "first_error", "steps"}
    assert data["ok"] is False
    assert data["first_error"] == {"line": 3, "k": 0}
    contract_keys = {"line", "k", "lhs", "rhs", "verdict", "counterexample", "expected", "diagnosis"}
    for step in data["steps"]:
        assert contract_keys <= set(step)
    wrong, right = data["steps"]
    assert wrong["verdict"] == "refuted" and right["verdict"] == "proved"
    assert wrong["diagnosis"] == "forgot the inner derivative (chain rule)"
    assert all(isinstance(v, str) for v in wrong["counterexample"].values())
    assert right["counterexample"] is None and right["expected"] is None and right["diagnosis"] is None


def test_to_dict_of_a_correct_derivation_has_null_first_error():
    data = check("d/dx x^2 = 2x").to_dict()
    assert data["ok"] is True and data["first_error"] is None


@pytest.mark.parametrize(
    "text",
    [
        "L = 1/2*(a - y)^2\ny = sigmoid(z)\ndL/dz = dL/dy(z)",
        # names sympify reads as sympy's own (constants, functions, a keyword): written Symbol('E')
        "E = 1/2*(a - y)^2\ny = sigmoid(z)\ndE/dz = dE/dy(z)",
        "E1 = I*x + S*x^2\ndE1/dx = I + 2 S x + gamma",
        "d/dx (gamma*x^2 + beta*x + lambda) = 2 gamma x + beta + zoo",
        # Python's builtins: sum would be added up, input(x) would wait on the keyboard
        "sum = a + b\nd/da(sum^2) = 2 sum + len",
        "d/dx input(x^2) = x input'(x^2)",
        "d/dx f(g(x)) = f'(x) g'(x)",
        "d/dx softplus(x) = relu(x)",
        "(a - y)^2 = a^2 - y^2",
    ],
    ids=["leibniz", "E", "E1 I S gamma", "gamma beta lambda zoo", "sum len", "input", "abstract functions",
         "named functions", "algebra"],
)
def test_the_json_strings_rebuild_the_expressions_with_sympify(text: str):
    report = check(text)
    for step, data in zip(report.steps, report.to_dict()["steps"], strict=True):
        # strings written by derive itself, read back as the contract promises
        for key, expr in (("lhs", step.lhs), ("rhs", step.rhs), ("expected", step.expected)):
            rebuilt = sympy.sympify(data[key], locals=LOCALS)
            assert sympy.expand(rebuilt - _assumption_free(expr)) == 0
            if not (expr.free_symbols | expr.atoms(AppliedUndef)) & {sympy.Symbol("E"), sympy.Symbol("I")}:
                assert data[key] == str(expr) or "Symbol(" in data[key] or "Function(" in data[key]


def _assumption_free(expr: sympy.Expr) -> sympy.Expr:
    """`expr` with symbols and abstract functions as sympify makes them (no real=True), dummies as `_t`."""
    names = {s: sympy.Symbol(f"_{s.name}" if isinstance(s, sympy.Dummy) else s.name) for s in expr.atoms(sympy.Symbol)}
    plain = expr.xreplace(names)
    return plain.replace(
        lambda e: isinstance(e, AppliedUndef), lambda e: sympy.Function(e.func.__name__)(*e.args)
    )


def test_to_text_marks_each_verdict_and_explains_a_wrong_step():
    text = check(BACKPROP + "dE/dz = dy/dz * dE/dy\ndE/dz = dE/dy(z)\nlog(z^2) = 2 log(z)").to_text()
    lines = text.splitlines()
    assert lines[0].startswith("✓ line 3")
    assert lines[1].startswith("✗ line 4")
    assert "counterexample: a = " in text
    assert "the left side is" in text and "the right side" in text
    assert "expected: dE/dz = " in text
    assert "diagnosis: forgot the inner derivative (chain rule)" in text
    assert any(line.startswith("? line 5") for line in lines)
    assert lines[-1].endswith("first error on line 4")


def test_the_expected_line_is_left_out_when_it_would_repeat_the_left_side():
    assert "expected:" not in check("sin(x) = cos(x)").to_text()  # nothing to work out: sin(x) is sin(x)
    assert "expected: d/dx(sin(x)) = cos(x)" in check("d/dx sin(x) = sin(x)").to_text()


def test_to_text_marks_a_confirmed_step_with_an_approximately_equal_sign():
    step = StepCheck(1, 0, x, x, Verdict.CONFIRMED)
    assert step.to_text().startswith("≈ line 1")


# --- one step on its own -------------------------------------------------------------------------


def test_check_step_can_skip_the_explanation_of_a_wrong_step():
    step = check_step(sympy.Derivative(x**3, x), 3 * x**3, Definitions(), explain=False)
    assert step.verdict is Verdict.REFUTED
    assert step.expected is None and step.diagnosis is None
    assert step.counterexample is not None


# --- the quick proof of a rational identity ------------------------------------------------------
#
# Before sympy's together and cancel, a local identity is tried as a rational function of its symbols
# and of its other parts (sin(x), e^(-x)), each an unknown of its own: zero then is zero for any values.

y = symbol("y")
E = sympy.exp(-x)
S_EXP = sympy.exp(x) + sympy.exp(y) + sympy.exp(a)
RATIONAL_IDENTITIES = [
    # (difference, zero as a rational function of independent parts)
    (E / (1 + E) ** 2 - (1 - 1 / (1 + E)) / (1 + E), True),  # sigma' = sigma (1 - sigma), elementary
    (x**2 * sympy.sin(x) + 2 * x * sympy.sin(x) + sympy.sin(x) - (x + 1) ** 2 * sympy.sin(x), True),
    (1 / (x - 1) - 1 / (x + 1) - 2 / (x**2 - 1), True),
    (-(a - y) * y * (1 - y) - (y - a) * y * (1 - y), True),
    (2 * x * y * (1 - y**2) + 2 * x * y**3 - 2 * x * y, True),
    # Exponentials split into powers of e^(one term): e^(2x) = (e^x)^2, e^(x + y) = e^x e^y.
    (sympy.exp(2 * x) / (sympy.exp(x) + 1) - sympy.exp(x) + sympy.exp(x) / (sympy.exp(x) + 1), True),
    (sympy.exp(x + y) / (1 + sympy.exp(x)) - sympy.exp(y) + sympy.exp(y) / (1 + sympy.exp(x)), True),
    (sympy.exp(2 * x) / (sympy.exp(x) + 1) - sympy.exp(x), False),
    # Denominators kept as the factors they are written with: S and S^2 share S^2 (a softmax's derivative).
    (sympy.exp(x) / S_EXP - sympy.exp(2 * x) / S_EXP**2 - sympy.exp(x) * (S_EXP - sympy.exp(x)) / S_EXP**2, True),
    (sympy.exp(x) / S_EXP - sympy.exp(2 * x) / S_EXP**2 - sympy.exp(x) * (S_EXP + sympy.exp(x)) / S_EXP**2, False),
    (1 / (x * (x + 1)) - 1 / x + 1 / (x + 1), True),
    (sympy.Pow(1 / (x * (y + 1)), -2, evaluate=False) - x**2 * (y + 1) ** 2, True),
    (sympy.Pow(1 / (x * (y + 1)), -2, evaluate=False) - x**2 * (y + 1), False),
    ((a - y) * y * (1 - y) - (y - a) * y * (1 - y), False),  # a lost sign
    (x**2 - x, False),
    (sympy.sqrt(x) * (1 + x) - sympy.sqrt(x) - x**2, False),
    # Zero, but only through a relation between the parts, which the next tier (cancel) may find:
    (sympy.tan(x) - sympy.sin(x) / sympy.cos(x), False),
    (sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1, False),
]


@pytest.mark.parametrize(("difference", "zero"), RATIONAL_IDENTITIES)
def test_a_rational_identity_is_proved_exactly_when_it_holds_for_independent_parts(difference, zero):
    from derive.rational import vanishes_as_rational_function

    assert vanishes_as_rational_function(difference) is zero
    if zero:  # the oracle: sympy's simplify agrees
        assert sympy.simplify(difference) == 0


def test_a_wrong_rational_identity_is_never_proved_locally():
    from derive.check import proved_locally

    for difference, zero in RATIONAL_IDENTITIES:
        if not zero and sympy.simplify(difference) != 0:
            assert not proved_locally(difference + x, x), difference


def test_a_power_of_a_zero_sum_with_a_negative_exponent_is_no_proof():
    from derive.rational import vanishes_as_rational_function

    vanishing = sympy.Add(x, -x, evaluate=False)
    with pytest.raises(ZeroDivisionError):
        vanishes_as_rational_function(sympy.Pow(vanishing, -1, evaluate=False) - 1)


# Products that do not commute (operators, matrices) are outside derive's real analysis: read as real
# numbers, A B would be B A. Each of these is false, and none may be proved or confirmed.
A_OP, B_OP = sympy.symbols("A B", commutative=False)
M_MAT, N_MAT = sympy.MatrixSymbol("M", 2, 2), sympy.MatrixSymbol("N", 2, 2)
NOT_COMMUTING = [
    (A_OP * B_OP, B_OP * A_OP),
    (sympy.exp(A_OP + B_OP), sympy.exp(A_OP) * sympy.exp(B_OP)),
    ((A_OP + B_OP) ** 2, A_OP**2 + 2 * A_OP * B_OP + B_OP**2),
    (x * A_OP * B_OP, B_OP * x * A_OP),
    (M_MAT * N_MAT, N_MAT * M_MAT),
]


@pytest.mark.parametrize(("lhs", "rhs"), NOT_COMMUTING)
def test_a_step_with_products_that_do_not_commute_is_never_judged(lhs, rhs):
    from derive.check import proved_locally
    from derive.definitions import Definition
    from derive.rational import vanishes_as_rational_function

    for defs in (Definitions(), Definitions([Definition("y", (), x**2)])):
        step = check_step(lhs, rhs, defs)
        assert step.verdict is Verdict.UNKNOWN and "do not commute" in step.note
    assert not proved_locally(lhs, rhs)
    assert not vanishes_as_rational_function(lhs - rhs)


@pytest.mark.parametrize(("text", "verdict"), [
    ("s(u) = 1/(1 + exp(-u))\nds/dz = s(z)(1 - s(z))", "refuted"),  # 0 by the contract: s's definition has no z
    ("f(x) = x^2\ndf/dt = 2t", "refuted"),
    ("f(x) = x^2\ndf/dt = 0", "proved"),
])
def test_a_function_differentiated_by_another_variable_says_how_to_write_its_derivative(text, verdict):
    (step,) = check(text).steps
    assert step.verdict == verdict
    name, variable = step.lhs.expr.name, step.lhs.variables[0].name
    assert f"write d/d{variable} {name}({variable}) or {name}'({variable})" in step.note


def test_the_derivative_of_a_function_at_another_variable_written_so_holds():
    report = check("s(u) = 1/(1 + exp(-u))\nd/dz s(z) = s(z)(1 - s(z))\ns'(z) = s(z)(1 - s(z))")
    assert report.ok and all(step.note is None for step in report.steps)


def test_a_bare_name_differentiated_below_its_function_form_says_so():
    first, second = check("d/dx(y(x)^2) = 2 y(x) dy/dx\nd/dx(y^2) = 0").steps
    assert first.note is None
    assert second.verdict == "proved" and "line 1 writes y(x), a function" in second.note
    # written the other way round, or with the function of another variable, there is nothing to say
    assert all(s.note is None for s in check("d/dx(y^2) = 0\nd/dx(y(x)^2) = 2 y(x) dy/dx").steps)
    assert all(s.note is None for s in check("d/dx(y(t)) = 0\nd/dx(y^2) = 0").steps)


@pytest.mark.parametrize(("text", "verdict"), [
    (r"\frac{d x^3}{dx} = x^2", "refuted"),  # was proved: read as d·x³/(d·x)
    (r"\frac{d x^3}{dx} = 3x^2", "proved"),
    (r"\frac{d \sin x}{dx} = \frac{\sin x}{x}", "refuted"),
    (r"\frac{d(x^2)}{dx} = 2x", "proved"),
    ("E = \\frac{1}{2}(a - y)^2\ny = \\sigma(z)\n\\frac{dE}{dz} = \\frac{dE}{dy}(z) \\frac{dy}{dz}", "proved"),
    ("f(x) = x^2\n\\frac{df}{dx}(x) = 2x", "proved"),
    ("f(x) = x^2\ndf/dx(x) = 2x", "proved"),
    # with z = w x + b, a bracket after dE/dz is the chain rule's factor, not z written as z(x)
    ("z = w x + b\nE = \\frac{1}{2}(z - t)^2\n\\frac{\\partial E}{\\partial w} = \\frac{\\partial E}{\\partial z}(x)",
     "proved"),
    ("z = w x + b\nE = \\frac{1}{2}(z - t)^2\n\\frac{\\partial E}{\\partial b} = \\frac{\\partial E}{\\partial z}(b)",
     "refuted"),
])
def test_latex_derivatives_as_textbooks_write_them(text, verdict):
    (*_, step) = check(text).steps
    assert step.verdict == verdict


@pytest.mark.parametrize(("text", "verdict"), [
    (r"a_{n+1} - a_{n-1} = 0", "refuted"),  # was proved: both were a_n1
    (r"\frac{d}{dx}\left(x_{-1} x_{1}\right) = 0", "proved"),  # neither depends on x
    (r"\frac{\partial}{\partial x_{i+1}}\left(x_{i+1} x_{i-1}\right) = x_{i-1}", "proved"),  # was refuted
    ("h_t = \\tanh(w h_{t-1} + x_t)\n\\frac{\\partial h_t}{\\partial h_{t-1}} = w (1 - h_t^2)", "proved"),
])
def test_indices_with_signs_are_different_names(text, verdict):
    (*_, step) = check(text).steps
    assert step.verdict == verdict


@pytest.mark.parametrize("text", [
    r"\frac{d}{dx} x^2 = 2x \qquad (2)",  # was 4x: the equation number multiplied in
    r"\frac{d}{dx} x^2 = 2x \qquad\qquad (2.3)",
    # labels with letters (were multiplied in: 2x·i, and `= 2 \qquad (x)` proved as 2x)
    r"\frac{d}{dx} x^2 = 2x \qquad (i)",
    r"\frac{d}{dx} x^2 = 2x \qquad (ii)",
    r"\frac{d}{dx} x^2 = 2x \qquad (a)",
    r"\frac{d}{dx} x^2 = 2x \qquad (A.1)",
    r"\frac{d}{dx} x^2 = 2x \qquad (2a)",
    r"\frac{d}{dx} x^2 = 2x \qquad (2\text{a})",
    r"\frac{d}{dx} x^2 = 2x \qquad (*)",
    r"\frac{d}{dx} x^2 = 2x \qquad (2')",
    r"\frac{d}{dx} x^2 = 2x \quad (\star)",
    "\\begin{align*}\n\\frac{d}{dx} x^3 &= 3x^2 & (3) \\\\\n&= 3 x x & (4)\n\\end{align*}",
    r"\frac{d}{dx} x^2 = 2x \text{ for all } x",  # was 2x·x: the words after a remark go with it
    r"\frac{d}{dx} x^2 \text{ (power rule) } = 2x",  # a remark before the = keeps the rest of the row
])
def test_equation_numbers_and_trailing_remarks_are_not_multiplied_in(text):
    report = check(text)
    assert report.ok and all(str(step.rhs) in ("2*x", "3*x**2") for step in report.steps)


def test_a_label_is_not_a_factor_that_makes_a_wrong_step_hold():
    (step,) = check(r"\frac{d}{dx} x^2 = 2 \qquad (x)").steps
    assert step.verdict == "refuted" and step.rhs == 2


def test_a_bracket_after_a_wide_space_that_is_not_a_label_still_multiplies():
    (step,) = check(r"\frac{d}{dx} x^2 y = 2x \, (y)").steps
    assert step.verdict == "proved"


@pytest.mark.parametrize("text", [
    "E = 1/2 e^2\ne = y - t\ndE/dy = e",  # e defined below its first use is the name there too (was Euler's e)
    "E = \\frac{1}{2} e^2\ne = y - t\n\\frac{\\partial E}{\\partial y} = e",
    "e = y - t\nE = 1/2 e^2\ndE/dy = e",
])
def test_a_name_e_defined_anywhere_is_that_name_everywhere(text):
    (step,) = check(text).steps
    assert step.verdict == "proved"


def test_without_a_definition_of_e_it_is_eulers_number():
    (step,) = check("d/dx e^x = e^x").steps
    assert step.verdict == "proved" and step.lhs == sympy.Derivative(sympy.exp(symbol("x")), symbol("x"))


def test_an_operator_after_a_remark_goes_on_with_the_expression():
    # + 2x was dropped with the remark, and a false step proved
    (step,) = check(r"\frac{d}{dx}(x^3) = 3x^2 \text{ (power rule) } + 2x").steps
    assert step.verdict == "refuted" and step.rhs == 3 * x**2 + 2 * x


def test_euler_raised_to_a_variable_above_a_definition_of_e_stays_euler():
    # ML notes: the sigmoid with Euler's e, then e = y - t the error; the re-read made a cycle e -> y -> e
    text = ("\\begin{align*}\ny &= \\frac{1}{1 + e^{-z}} \\\\\n\\frac{dy}{dz} &= y(1 - y) \\\\\ne &= y - t \\\\\n"
            "E &= \\frac{1}{2} e^2 \\\\\n\\frac{dE}{dz} &= e \\, y (1 - y)\n\\end{align*}")
    report = check(text)
    assert report.ok and len(report.steps) == 2


@pytest.mark.parametrize("text", ["Given f = x^2\ndf/dx = 2x", "Given f(x) = x^2 + 1\nd/dx f(x) = 2x"])
def test_given_before_a_definition_is_prose_for_the_definition(text):
    report = check(text)
    assert report.ok and len(report.definitions) == 1 and not report.givens


@pytest.mark.parametrize(("text", "verdict"), [
    # d written as \text{d}, \textrm{d}, \operatorname{d}, or \frac d{dx} as TeX allows: a derivative, not d·x³/(d·x)
    (r"\frac{\text{d} x^3}{\text{d}x} = x^2", "refuted"),
    (r"\frac{\text{d} x^3}{\text{d}x} = 3x^2", "proved"),
    (r"\frac{\textrm{d}\sin x}{\textrm{d}x} = \frac{\sin x}{x}", "refuted"),
    (r"\frac{\operatorname{d} x^2}{\operatorname{d} x} = 2x", "proved"),
    (r"\frac d{dx} x^3 = x^2", "refuted"),
    (r"\frac d{dx}\sin x = \cos x", "proved"),
    # a defined p_1 followed by a bracket multiplies, as p_1 reads as the name p1 (it was an error)
    ("p_1 = \\sigma(z_1)\n\\frac{\\partial p_1}{\\partial z_1} = p_1(1 - p_1)", "proved"),
    ("\\alpha_1 = \\sigma(z)\n\\frac{d \\alpha_1}{dz} = \\alpha_1(1-\\alpha_1)", "proved"),
    # a defined name is no function: a^{-1}(...) is a product
    ("a = \\sigma(z)\n\\frac{da}{dz} = a^{-1}(a(1-a)) a", "proved"),
    # prose between pieces of math on a line
    ("$y = x^3$, so $\\frac{dy}{dx} = 3x^2$.", "proved"),
])
def test_latex_as_papers_write_it_after_the_third_review(text, verdict):
    (*_, step) = check(text).steps
    assert step.verdict == verdict


@pytest.mark.parametrize("text", [r"\sigma(w^Tx + b)", r"\mathbf{w}^T\mathbf{x}", r"q^Tk", r"(y - Xw)^T(y - Xw)",
                                  r"g'(x) + g^{-1}(y)"])
def test_transposes_and_inverse_functions_as_papers_write_them_are_refused(text):
    with pytest.raises(ParseError):
        check(f"z = {text}", latex=True)


def test_display_math_lines_that_go_on_or_start_a_chain():
    report = check("$$\nL = \\frac{1}{2}(y-a)^2\n\\frac{\\partial L}{\\partial a}\n= a - y\n$$")
    assert report.ok and len(report.definitions) == 1 and report.steps[0].line == 3
    (step,) = check("$$\n\\frac{d}{dx}(x^2 + 2x)\n+ 1 = 2x + 3\n$$").steps
    assert step.verdict == "proved"


# dσ/dz with σ undefined is the sigmoid's derivative; a bare σ in the same claim is then σ(z), as ML notes
# write σ' = σ(1 - σ). Oracle: sympy.diff of 1/(1 + e^-z).
@pytest.mark.parametrize(("text", "verdict"), [
    (r"\frac{d\sigma}{dz} = \sigma(1-\sigma)", "proved"),
    (r"\frac{d\sigma}{dz} = \sigma \cdot (1-\sigma)", "proved"),
    ("dsigma/dz = sigma(1 - sigma)", "proved"),
    ("dσ/dz = σ(1 - σ)", "proved"),
    (r"\frac{d\sigma}{dz} = \sigma(1+\sigma)", "refuted"),
    (r"\frac{d\sigma}{dz} = 1 - \sigma", "refuted"),
    # on a line that goes on with the chain (the textbook derivation's last line)
    ("\\begin{align*}\n\\frac{d\\sigma}{dz} &= \\frac{e^{-z}}{(1+e^{-z})^2} \\\\\n&= \\sigma(1-\\sigma)\n\\end{align*}",
     "proved"),
    # not when σ or z is a variable of a definition: σ is then not simply the sigmoid of z (both were proved)
    ("L = σ\ndL/dz = dσ/dz - σ(1 - σ)", "refuted"),
    ("z = w x + b\ndσ/dw = σ(1 - σ)", "refuted"),
])
def test_a_bare_sigma_beside_d_sigma_dz_is_the_sigmoid_of_z(text: str, verdict: str) -> None:
    (*_, step) = check(text).steps
    assert step.verdict == verdict, step.note


def test_a_step_without_variables_that_is_undefined_says_so_without_a_point() -> None:
    (step,) = check("ln(0) = 1").steps
    assert step.verdict == "unknown" and "the left side is undefined" in step.note and " at " not in step.note
