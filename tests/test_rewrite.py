"""Expand-style derivations: one pending derivative per step, every step verified; the Derivation API."""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest
import sympy
from sympy.core.function import AppliedUndef

from derive.definitions import Definition, Definitions
from derive.derivation import Derivation
from derive.errors import DefinitionError, DeriveError, ParseError
from derive.functions import relu, sigmoid, softplus, to_elementary
from derive.parse import parse as derive_parse
from derive.rewrite import (
    Checker,
    Letters,
    Numbers,
    OptionError,
    PendingIndex,
    abstracted,
    crosscheck,
    differentiate,
    next_pending,
    tidy,
)
from derive.rules import pending
from derive.symbols import function, realify, symbol

x, y, z, a, b, t, u, v, w = (symbol(n) for n in ("x", "y", "z", "a", "b", "t", "u", "v", "w"))
f, g, h = function("f"), function("g"), function("h")
U, V, W, Y = function("u"), function("v"), function("w"), function("y")
# Stand-ins for the abstract functions, by name (the oracle reads every function as real-valued).
CONCRETE = {"f": sympy.Lambda(t, t**3 + 2), "g": sympy.Lambda(t, sympy.sin(t) + t), "h": sympy.Lambda(t, sympy.exp(t))}
CONCRETE |= {"u": CONCRETE["f"], "v": CONCRETE["g"], "w": CONCRETE["h"]}


def concrete(e: sympy.Expr) -> sympy.Expr:
    """Abstract functions replaced by fixed elementary ones, named functions by their definitions."""
    e = to_elementary(realify(e)).replace(
        lambda q: isinstance(q, AppliedUndef) and q.func.__name__ in CONCRETE,
        lambda q: CONCRETE[q.func.__name__](*q.args),
    )
    return e.doit()


def equal_as_functions(left: sympy.Expr, right: sympy.Expr) -> bool:
    """The oracle: equal after sympy evaluates every derivative, at 5 random points if not symbolically."""
    difference = concrete(left) - concrete(right)
    if difference == 0:
        return True
    rng = random.Random(3)
    symbols = sorted(difference.free_symbols, key=str)
    for _ in range(5):
        point = {s: sympy.Rational(rng.randint(11, 89), 100) for s in symbols}
        if abs(complex(difference.evalf(30, subs=point))) > 1e-20:
            return False
    return True


def is_sympys_derivative(result: sympy.Expr, expr: sympy.Expr, var: sympy.Symbol) -> bool:
    return equal_as_functions(result, sympy.diff(concrete(expr), realify(var)))


EXPAND = [
    ("x^2 sin x", x**2 * sympy.sin(x)),
    ("a polynomial", 3 * x**4 - 2 * x**2 + x - 7),
    ("a quotient", (x**2 + 1) / (x - 1)),
    ("nested chain", sympy.sin(sympy.cos(x**2))),
    ("x^x", x**x),
    ("exp of a square", sympy.exp(-(x**2))),
    ("log of a product", sympy.log(x * sympy.sin(x))),
    ("sigmoid of an affine map", sigmoid(w * x + b)),
    ("softplus", softplus(2 * x)),
    ("relu", relu(x - 1)),
    ("tanh squared", sympy.tanh(x) ** 2),
    ("sqrt of a sum", sympy.sqrt(x**2 + 1)),
    ("f(x^2)", f(x**2)),
    ("u(v(w(x)))", U(V(W(x)))),
    ("f(x) g(x)", f(x) * g(x)),
    ("a second derivative", sympy.Derivative(x**3 * sympy.sin(x), (x, 2))),
    ("a given derivative inside", x * sympy.Derivative(x**2, x)),
]


@pytest.mark.parametrize("expr", [c[1] for c in EXPAND], ids=[c[0] for c in EXPAND])
def test_every_expand_step_is_verified_and_the_result_is_sympys_derivative(expr):
    derivation = differentiate(expr, x)
    assert derivation.style == "expand"
    assert derivation.ok, [(s.rule, s.verdict, s.note) for s in derivation.steps]
    assert is_sympys_derivative(derivation.result, expr, x)


@pytest.mark.parametrize("expr", [c[1] for c in EXPAND], ids=[c[0] for c in EXPAND])
def test_each_expand_step_continues_from_the_previous_one(expr):
    steps = differentiate(expr, x).steps
    assert steps[0].before == pending(expr, x)
    for previous, step in itertools.pairwise(steps):
        assert step.before == previous.after
    assert next_pending(steps[-1].after) is None


def test_sin_of_x_squared_takes_a_chain_step_then_the_inner_derivative():
    steps = differentiate(sympy.sin(x**2), x).steps
    assert [s.rule for s in steps] == ["chain", "power"]
    assert steps[0].after == sympy.cos(x**2) * pending(x**2, x)
    assert "u = x^2" in steps[0].explanation


def test_the_chain_rule_names_each_nesting_level_with_a_fresh_letter():
    chain = [s.explanation for s in differentiate(sympy.sin(sympy.cos(sympy.exp(x**2))), x).steps if s.rule == "chain"]
    letters = [re.search(r"with (\w+) =", e).group(1) for e in chain]
    assert letters == ["u", "v", "w"]


def test_the_chain_rule_skips_letters_the_expression_already_uses():
    chain = [s.explanation for s in differentiate(u * sympy.sin(v * x**2), x).steps if s.rule == "chain"]
    assert chain and all(re.search(r"with (\w+) =", e).group(1) not in ("u", "v") for e in chain)


def test_letters_are_handed_out_per_level_and_never_reuse_a_taken_name():
    letters = Letters({"u", "w"})
    assert [letters.at(k).name for k in range(3)] == ["v", "p", "q"]
    assert letters.at(0).name == "v"


def test_f_of_x_squared_keeps_the_inner_derivative():
    derivation = differentiate(f(x**2), x)
    expected = 2 * x * sympy.Subs(sympy.Derivative(f(u), u), u, x**2)
    assert sympy.simplify(derivation.result - expected) == 0


def test_nested_abstract_functions_give_one_chain_step_per_level():
    derivation = differentiate(U(V(W(x))), x)
    assert [s.rule for s in derivation.steps] == ["chain", "chain"]
    assert derivation.result.count(sympy.Subs) == 2
    assert derivation.ok


def test_definitions_in_expand_style_are_substituted_in_a_first_step():
    derivation = differentiate((a - y) ** 2 / 2, "z", where={"y": sigmoid(z)}, style="expand")
    assert derivation.steps[0].rule == "definition"
    assert derivation.ok
    assert derivation.result.has(sigmoid) and not derivation.result.has(y)


def test_text_definitions_are_read_by_the_statement_reader():
    derivation = differentiate("1/2*(a - y)^2", "z", where=["y(z) = sigmoid(z)"], style="expand")
    assert derivation.ok and derivation.where == ("y(z) = sigmoid(z)",)


def test_a_mapping_key_may_name_parameters():
    derivation = differentiate(y * z, "z", where={"y(z)": "z^2"}, style="expand")
    assert equal_as_functions(derivation.result, 3 * z**2)
    assert derivation.where == ("y(z) = z^2",)


def test_a_derivative_neither_derive_nor_sympy_can_take_stays_pending_without_looping():
    derivation = differentiate(sympy.floor(x) + x**2, x)
    assert [s.rule for s in derivation.steps] == ["sum", "power"]
    assert derivation.result == 2 * x + sympy.Derivative(sympy.floor(x), x)


# --- readable results ---------------------------------------------------------------------------------


def test_the_simplify_step_keeps_sigmoid_and_tanh_in_their_named_forms():
    for expr, name in ((sigmoid(x), sigmoid), (sympy.tanh(3 * x), sympy.tanh)):
        result = differentiate(expr, x).result
        assert result.has(name) and not result.has(sympy.cosh)


def test_the_simplify_step_never_makes_the_result_longer():
    for _, expr in EXPAND:
        for step in differentiate(expr, x).steps:
            if step.rule == "simplify":
                assert sympy.count_ops(step.after) <= sympy.count_ops(step.before)


def test_there_is_no_simplify_step_when_nothing_changes():
    assert [s.rule for s in differentiate(x**3, x).steps] == ["power"]


def test_tidy_factors_a_sum_with_a_common_factor():
    assert tidy(x**2 * sympy.cos(x) + 2 * x * sympy.sin(x)) == x * (x * sympy.cos(x) + 2 * sympy.sin(x))


def test_tidy_keeps_tanh_squared_whole_when_it_pulls_out_a_common_factor():
    messy = 2 * x * (1 - sympy.tanh(x) ** 2) * sympy.sin(x) + 2 * x * sympy.tanh(x) * sympy.cos(x)
    assert tidy(messy) == 2 * x * ((1 - sympy.tanh(x) ** 2) * sympy.sin(x) + sympy.tanh(x) * sympy.cos(x))


def test_tidy_cancels_exponentials_of_multiples_of_one_exponent():
    # (a e^x + e^2x - e^2x) e^-x, as a softmax derivative leaves it before the final step
    messy = ((a + sympy.exp(x)) * sympy.exp(x) - sympy.exp(2 * x)) * sympy.exp(-x)
    assert messy != a
    assert tidy(messy) == a


# --- bad input -----------------------------------------------------------------------------------------


# The expression is read under its definitions, as a derivation's line is: y(1 - y) is a product once y
# is defined, and a defined e is that name, not Euler's number. The oracle is sympy.diff of the same
# expression written out.
UNDER_DEFINITIONS = [
    ("y(1-y)", "z", ["y = sigmoid(z)"], sympy.diff(sigmoid(z) * (1 - sigmoid(z)), z)),
    ("g(1-g)", "x", ["g = sin(x)"], sympy.diff(sympy.sin(x) * (1 - sympy.sin(x)), x)),
    ("y(2z)", "z", ["y = sigmoid(z)"], sympy.diff(sigmoid(z) * 2 * z, z)),
    ("e + x", "x", ["e = x^2"], 2 * x + 1),
    ("e*x", "x", ["e = x"], 2 * x),
    ("e^x", "x", ["e = 2"], 2**x * sympy.log(2)),
    ("x*e", "x", {"e": "x^2"}, 3 * x**2),
]


@pytest.mark.parametrize(("expr", "wrt", "where", "oracle"), UNDER_DEFINITIONS, ids=[c[0] for c in UNDER_DEFINITIONS])
@pytest.mark.parametrize("style", ["expand", "leibniz"])
def test_the_expression_is_read_under_its_definitions(expr, wrt, where, oracle, style):
    derivation = differentiate(expr, wrt, where=where, style=style)
    assert derivation.ok
    assert equal_as_functions(to_elementary(derivation.result), to_elementary(oracle))


# dN/dv in an expression to differentiate reads as on a line of a derivation: of a defined N, of a
# variable (0), or of a function written in the expression, y(x); of anything else it is an error, where it
# was silently 0 (`x*dy/dx` dropped from the result).
LEIBNIZ_IN_THE_EXPRESSION = [
    ("y(x)^2 + x*dy/dx", "x", [], sympy.diff(Y(x) ** 2 + x * Y(x).diff(x), x)),
    ("d/dx(dy/dx) + y(x)", "x", [], sympy.diff(Y(x).diff(x, 2) + Y(x), x)),
    ("dσ/dz", "z", [], sympy.diff(sigmoid(z), z, 2)),
]


@pytest.mark.parametrize(("expr", "wrt", "where", "oracle"), LEIBNIZ_IN_THE_EXPRESSION,
                         ids=[c[0] for c in LEIBNIZ_IN_THE_EXPRESSION])
def test_a_leibniz_derivative_in_the_expression_reads_as_in_a_derivation(expr, wrt, where, oracle):
    derivation = differentiate(expr, wrt, where=where)
    assert derivation.ok
    assert sympy.simplify(to_elementary(derivation.result) - to_elementary(oracle)) == 0


# A variable's dN/dv is always 0 in an expression to differentiate: y + z*dy/dz would silently be y's.
@pytest.mark.parametrize("expr", ["dE/dz", "x*dE/dz", "y(2z) + dy/dz", "y + z*dy/dz", "b + w*z + db/dz"])
def test_a_leibniz_derivative_of_an_undefined_name_in_the_expression_is_an_error(expr):
    with pytest.raises(ParseError, match=r'not defined here \(define it with --where "[Eyb] = \.\.\."'):
        differentiate(expr, "z")


@pytest.mark.parametrize("text", ["sign(x)*x", "heaviside(x^2 - 1)*x", "sign(sin(x))*x^2"])
def test_a_step_function_has_derivative_0_away_from_its_step_and_leaves_nothing_pending(text):
    derivation = differentiate(text, "x")
    assert derivation.ok and not derivation.result.has(sympy.Derivative)
    # the oracle: sympy's derivative, whose DiracDelta terms vanish wherever the step is not
    oracle = sympy.diff(derive_parse(text).subs(symbol("x"), x), x)
    assert equal_as_functions(derivation.result, oracle)


BAD = [
    ("wrt a number", dict(expr=x, wrt="2"), OptionError, "name"),
    ("wrt a sympy number", dict(expr=x, wrt=sympy.Integer(2)), OptionError, "name"),
    ("wrt an expression", dict(expr=x, wrt="x + y"), OptionError, "name"),
    ("wrt a symbol that is no name", dict(expr=x, wrt=sympy.Symbol("x y")), OptionError, "name"),
    ("wrt an empty symbol", dict(expr=x, wrt=sympy.Symbol("")), OptionError, "name"),
    # e*x by e was 0: the e written there is Euler's number
    ("wrt Euler's number", dict(expr="e*x", wrt="e"), OptionError, "Euler's number"),
    ("wrt pi", dict(expr="pi*x", wrt="pi"), OptionError, "π"),
    ("wrt Euler's number beside exp", dict(expr="e*exp(x)", wrt="e"), OptionError, "Euler's number"),
    ("wrt Euler's number in a power", dict(expr="e^x", wrt="e"), OptionError, "Euler's number"),
    # d/dsin(sin(x)) was 0, and d/dy of y(x)^2 too: a function's name is not a variable
    ("wrt a known function", dict(expr="sin(x)", wrt="sin"), OptionError, "function"),
    ("wrt an applied function", dict(expr="y(x)^2", wrt="y"), OptionError, "function"),
    # a relation is not an expression to differentiate (it gave ok with no steps)
    ("an equation", dict(expr=sympy.Eq(x, 1), wrt="x"), OptionError, "expression"),
    ("an inequality", dict(expr=x > 1, wrt="x"), OptionError, "expression"),
    ("unknown style", dict(expr=x, wrt="x", style="forward"), OptionError, "style"),
    ("a self-referential definition", dict(expr=y, wrt="x", where={"y": y + 1}), DefinitionError, "y -> y"),
    ("a cycle of two", dict(expr=y, wrt="x", where={"y": z, "z": y}), DefinitionError, "y -> z -> y"),
    ("a text cycle", dict(expr="y", wrt="x", where=["y = z", "z = y"]), DefinitionError, "y"),
    ("a definition that is not text", dict(expr=x, wrt="x", where=[3]), DeriveError, "text"),
    ("definitions that are None", dict(expr=x, wrt="x", where=None), DeriveError, "definitions"),
    # y(1 - y) read before y was defined applies a function y; y then has no parameter to take 1 - y
    ("a name applied before it is defined without parameters", dict(expr="E", wrt="z", where=["E = y(1-y)", "y = z^2"]),
     DefinitionError, "y(1 - y) applies y"),
    # As the same definitions written as text ("sigmoid = 2*z") are refused:
    ("a built-in function redefined", dict(expr="sigmoid(z)", wrt="z", where={"sigmoid": "2*z"}), OptionError,
     "built-in"),
    ("a built-in function redefined with a parameter", dict(expr="sin(z)", wrt="z", where={"sin(t)": "t"}),
     OptionError, "built-in"),
]


@pytest.mark.parametrize(("kwargs", "error", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_arguments_raise_a_derive_error_with_a_clear_message(kwargs, error, words):
    args = dict(kwargs)
    with pytest.raises(error, match=re.escape(words)):
        differentiate(args.pop("expr"), args.pop("wrt"), **args)
    assert issubclass(error, DeriveError)


def test_wrt_may_be_a_sympy_symbol_or_a_name_and_means_the_expressions_own_symbol():
    plain_x = sympy.Symbol("x")
    assert differentiate(plain_x**2, "x").result == 2 * plain_x
    assert differentiate(x**2, x).result == 2 * x


# --- the Derivation API (contract sections 2 and 4) ----------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Derivation:
    return differentiate("1/2*(a - y)^2", "z", where=["y = sigmoid(z)"])


def test_to_dict_has_exactly_the_contracts_keys(seed):
    data = seed.to_dict()
    assert list(data) == ["input", "wrt", "where", "style", "ok", "result", "steps"]
    assert list(data["result"]) == ["text", "latex", "sympy"]
    assert all(list(s) == ["rule", "explanation", "latex", "sympy", "verdict"] for s in data["steps"])
    assert data["input"] == "1/2*(a - y)^2" and data["wrt"] == "z" and data["where"] == ["y = sigmoid(z)"]
    assert data["style"] == "leibniz" and data["ok"] is True
    json.dumps(data)


def test_to_dict_strings_rebuild_the_expressions_with_sympify(seed):
    names = {"sigmoid": sigmoid, "softplus": softplus, "relu": relu}
    data = seed.to_dict()
    rebuilt = sympy.sympify(data["result"]["sympy"], locals=names)
    assert equal_as_functions(rebuilt.subs({sympy.Symbol("a"): a, sympy.Symbol("z"): z}), seed.result)
    assert {s["verdict"] for s in data["steps"]} <= {"proved", "confirmed"}


@pytest.mark.parametrize(
    ("expr", "wrt", "where"),
    [("gamma*x^2 + beta*x + lambda", "x", []), ("x*I + x^2*E1 + N", "x", []),
     ("1/2*(a - y)^2", "z", ["y = sigmoid(z)"]), ("x^2*sin(x)", "x", [])],
    ids=["gamma beta lambda", "I E1 N", "leibniz E", "no such name"],
)
def test_names_sympify_would_misread_are_written_so_that_every_string_rebuilds(expr, wrt, where):
    # sympy's str() writes a variable gamma, E1 or I (and derive's own E) as sympify reads sympy's
    # function or constant; the strings name such a symbol Symbol('gamma') instead (contract, section 4)
    names = {"sigmoid": sigmoid, "softplus": softplus, "relu": relu}
    derivation = differentiate(expr, wrt, where=where)
    data = derivation.to_dict()
    pairs = [(data["result"]["sympy"], derivation.result)]
    pairs += [(s["sympy"], step.after) for s, step in zip(data["steps"], derivation.steps, strict=True)]
    for text, written in pairs:
        plain = written.xreplace({s: sympy.Symbol(s.name) for s in written.atoms(sympy.Symbol)})
        assert sympy.expand(sympy.sympify(text, locals=names) - plain) == 0, text


def test_to_latex_is_an_align_block_with_one_row_per_definition_and_step(seed):
    latex = seed.to_latex()
    assert latex.startswith("\\begin{align*}") and latex.endswith("\\end{align*}")
    rows = latex.removeprefix("\\begin{align*}\n").removesuffix("\n\\end{align*}").split(" \\\\\n")
    # E, the name the steps give the expression, and the given y = sigmoid(z) come first: the block checks
    # as it stands
    assert rows[:2] == [r"E &= \frac{\left(a - y\right)^{2}}{2} && \text{name}",
                        r"y &= \sigma\left(z\right) && \text{where}"]
    assert len(rows) == 2 + len(seed.steps)
    assert all(f"\\text{{{step.rule}}}" in row for step, row in zip(seed.steps, rows[2:], strict=True))
    assert seed._repr_latex_() == latex


def test_the_latex_output_checks_as_it_stands(seed):
    from derive.check import check

    report = check(seed.to_latex())
    assert len(report.steps) == len(seed.steps) and report.ok


def test_to_markdown_shows_each_step_in_display_math_with_a_verdict_mark(seed):
    markdown = seed.to_markdown()
    assert markdown.count("$$") == 2 * (len(seed.steps) + 1)
    assert markdown.count("✓") + markdown.count("≈") >= len(seed.steps)
    assert seed._repr_markdown_() == markdown


def test_to_text_names_the_expression_then_has_one_line_per_step_and_the_result(seed):
    first, *lines = seed.to_text().splitlines()
    assert first == "let E = (a − y)²/2"  # the steps' E, which no definition names
    assert len(lines) == len(seed.steps) + 1
    assert all(f"[{s.rule}]" in line for s, line in zip(seed.steps, lines, strict=False))
    assert differentiate("x^2", "x").to_text().splitlines()[0].startswith("d/dx")  # expand style: no name


def test_to_html_is_a_self_contained_page_with_mathml(seed):
    page = seed.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<math" in page and "<script" not in page
    assert page.count("<tr>") == len(seed.steps)
    assert seed._repr_html_() in page


def test_the_notebook_display_is_a_fragment_that_restyles_nothing_around_it(seed):
    # a notebook puts it inside its own page: no document, no head, no styles for body or td, no h1
    fragment = seed._repr_html_()
    assert not any(tag in fragment for tag in ("<!DOCTYPE", "<html", "<head", "<body", "<style", "<h1"))
    assert fragment.count("<tr>") == len(seed.steps) and "<math" in fragment


def test_a_refuted_step_makes_the_derivation_not_ok(monkeypatch):
    from derive import rules

    monkeypatch.setitem(rules.OUTER, sympy.cos, rules.Outer("cos", sympy.cos, lambda q: sympy.sin(q)))
    derivation = differentiate(sympy.cos(x), x)
    assert not derivation.ok
    assert derivation.to_dict()["ok"] is False
    assert "✗" in derivation.to_markdown() and "✗" in derivation.to_text()


# --- local checks -------------------------------------------------------------------------------------


def test_a_chain_step_is_checked_with_its_inner_function_abstract():
    G = sympy.Function("op 0", real=True)
    model = abstracted(pending(sympy.sin(x**2), x), sympy.cos(x**2) * pending(x**2, x))
    assert model == (pending(sympy.sin(G(x)), x), sympy.cos(G(x)) * pending(G(x), x))


def test_a_quotient_is_abstracted_even_when_its_numerator_is_no_node_of_the_product():
    G, H = sympy.Function("op 0", real=True), sympy.Function("op 1", real=True)
    f = x * sympy.sin(x) / sympy.cos(x)
    numerator, denominator = x * sympy.sin(x), sympy.cos(x)
    after = (pending(numerator, x) * denominator - numerator * pending(denominator, x)) / denominator**2
    derivative, _ = abstracted(pending(f, x), after)
    assert derivative.expr.free_symbols == {x} and not derivative.expr.has(sympy.sin, sympy.cos)
    assert derivative.expr.has(G, H)


def test_when_sympy_evaluates_the_operand_away_the_law_is_applied_to_the_abstract_form():
    s = sympy.exp(x) + sympy.exp(y)
    u = sympy.exp(x) / s
    derivative, replacement = abstracted(pending(sympy.log(u), x), (1 / u) * pending(u, x))
    assert derivative.expr.func is sympy.log
    assert not replacement.has(sympy.exp)  # 1/u was s*exp(-x); the model keeps 1/G(x)


def test_no_abstraction_when_nothing_is_left_pending():
    assert abstracted(pending(x**3, x), 3 * x**2) is None


def test_the_pending_index_finds_and_replaces_like_a_full_walk():
    state = sympy.Add(*(pending(sympy.sin(k * x), x) * sympy.cos(k * x) for k in range(1, 6)))
    index = PendingIndex()
    first = next_pending(state, index=index)
    assert first == next_pending(state)
    assert index.replace(state, first, sympy.Integer(7)) == state.xreplace({first: sympy.Integer(7)})


CROSSCHECKS = [
    ("right", sympy.sin(x**2), 2 * x * sympy.cos(x**2), True),
    ("inner derivative forgotten", sympy.sin(x**2), sympy.cos(x**2), False),
    ("sign", sigmoid(3 * x), -3 * sigmoid(3 * x) * (1 - sigmoid(3 * x)), False),
    ("sigmoid", sigmoid(3 * x), 3 * sigmoid(3 * x) * (1 - sigmoid(3 * x)), True),
    ("abstract function", f(x**2), 2 * x * sympy.Subs(sympy.Derivative(f(u), u), u, x**2), None),
]


@pytest.mark.parametrize(("expr", "value", "expected"), [c[1:] for c in CROSSCHECKS], ids=[c[0] for c in CROSSCHECKS])
def test_the_crosscheck_compares_a_result_with_sympys_derivative_in_numbers(expr, value, expected):
    assert crosscheck(pending(expr, x), value, Definitions(), seconds=10) is expected


def test_the_crosscheck_reads_a_result_written_in_the_defined_names():
    where = Definitions([Definition("y", (), sigmoid(z)), Definition("E", (), (a - y) ** 2 / 2)])
    lhs = sympy.Derivative(symbol("E"), z)
    assert crosscheck(lhs, -(a - y) * y * (1 - y), where, seconds=10) is True
    assert crosscheck(lhs, (a - y) * y * (1 - y), where, seconds=10) is False
    held = sympy.Derivative(symbol("E"), y)  # y is held as a variable: dE/dy = -(a - y)
    assert crosscheck(held, -(a - y), where, seconds=10) is True


@pytest.mark.parametrize(
    "expr",
    [
        sympy.sin(sympy.exp(x) * x**2),
        sympy.tanh(x) ** 3 / (1 + x**2),
        x**x,
        # Sums and products are carried out in numbers (a product of n factors by each of them):
        sympy.Mul(*[sympy.sin(k * x) + k for k in range(1, 9)]),
        2 * x * sympy.exp(x) * sympy.cos(x) + 3 + x**2,
        x * sympy.exp(x) * (x + sympy.sin(x) * x),
    ],
)
def test_numbers_give_sympys_value_and_derivative_at_a_point(expr):
    real_x = realify(x)
    expr = realify(expr)
    point = {real_x: sympy.Rational(3, 7)}
    numbers = Numbers({}, {"x": sympy.Rational(3, 7)}, 40)
    assert abs(numbers.value(expr) - sympy.N(expr.subs(point), 40)) < 1e-30
    assert abs(numbers.derivative(expr, real_x) - sympy.N(sympy.diff(expr, real_x).subs(point), 40)) < 1e-30


def test_an_expand_derivation_never_reads_a_line_in_full(monkeypatch):
    def in_full(*args: object) -> None:
        raise AssertionError("a line was read in full")

    monkeypatch.setattr(Checker, "full", in_full)
    derivation = differentiate(sympy.sin(sympy.cos(sympy.exp(x**2))) * sigmoid(w * x + b), x)
    assert derivation.ok


# A defined function used at another argument (f(2x) with f(t) = t^2) is f applied there, not the name f
# (whose Leibniz derivative with respect to x is 0): the result is sympy's derivative, in both styles.
@pytest.mark.parametrize("style", ["leibniz", "expand"])
@pytest.mark.parametrize(
    ("expr", "where", "truth"),
    [
        ("f(2*x)", ["f(t) = t^2"], 8 * x),
        ("f(x)", ["f(t) = t^2"], 2 * x),
        ("f(x^2)*a", ["f(t) = sin(t)"], 2 * a * x * sympy.cos(x**2)),
    ],
)
def test_a_defined_function_applied_to_an_expression_is_differentiated_there(expr, where, truth, style):
    derivation = differentiate(expr, "x", where=where, style=style)
    assert all(step.ok for step in derivation.steps)
    assert sympy.simplify(derivation.result - truth) == 0


def test_one_name_as_two_sympy_symbols_never_gets_a_wrong_step_proved():
    # A caller's own sympy objects may hold a plain x and a real x; derive reads a name as one variable,
    # so the engine's step that holds the real x constant is wrong and must not be proved locally.
    real_x = sympy.Symbol("x", real=True)
    one = {real_x: x}
    for expr in (sympy.exp(x**2 + real_x**3), x**2 * sympy.sin(real_x), sympy.exp(real_x**3 + x**2)):
        for step in differentiate(expr, "x", style="expand").steps:
            if step.ok:  # then its two sides are equal when x is one variable
                before, after = (to_elementary(e.xreplace(one)).doit() for e in (step.before, step.after))
                assert sympy.simplify(before - after) == 0, step


# --- what a local check abstracts --------------------------------------------------------------------


def _depends_outside_oracle(expr, stand_ins, var):
    """sympy's own reading: hide the stand-ins and their derivatives, then ask for the free symbols."""
    hidden = {}
    for stand_in in stand_ins:
        hidden[pending(stand_in, var)] = sympy.Dummy()
        hidden[stand_in] = sympy.Dummy()
    return var in expr.xreplace(hidden).free_symbols


G = function("op 0")(x)
f_of = function("f")
DEPENDS_OUTSIDE = [
    (G, False),
    (G * x, True),
    (sympy.cos(G) * pending(G, x), False),
    (pending(sympy.sin(x), x), True),
    (pending(a, x), False),
    (sympy.Subs(sympy.Derivative(f_of(t), t), t, G), False),
    (sympy.Subs(sympy.Derivative(f_of(t), t), t, x**2), True),
    (sympy.Subs(sympy.Derivative(f_of(x), x), x, G), False),
    (sympy.Integral(x * t, (t, 0, 1)), True),
    (sympy.Integral(G * t, (t, 0, 1)), False),
    (sympy.Integral(t, (t, 0, x)), True),
]


@pytest.mark.parametrize(("expr", "depends"), DEPENDS_OUTSIDE)
def test_a_dependence_outside_the_stand_ins_is_found_as_free_symbols_find_it(expr, depends):
    from derive.rewrite import _depends_outside

    assert _depends_outside(expr, [G], x) is depends
    assert _depends_outside_oracle(expr, [G], x) is depends


# --- a sum with one term replaced ----------------------------------------------------------------------
#
# A step replaces one pending derivative; in a sum of n terms, the new term is put in its place in
# sympy's order rather than all n sorted again. The oracle is sympy's own Add of the new terms: the
# same object (arguments in the same order), for every kind of term and under both of sympy's settings
# for distributing numbers. Where sympy would do more (combine, flatten, absorb), the sum is built by it.


def test_a_sum_with_one_term_replaced_is_the_sum_sympy_builds():
    from sympy.core.parameters import distribute

    from derive.rewrite import sum_with_term_replaced

    f = function("f")
    pool = [
        x, y, 2 * x, -y, x * y, 3 * x * y, -2 * x * y, -x, sympy.Rational(3, 2) * x,
        sympy.sin(x), -sympy.sin(x), x**2, sympy.exp(x), sympy.Integer(2) ** x, f(x) * sympy.cos(y),
        pending(f(x), x), 2 * pending(f(x), x), pending(sympy.sin(x**2), x), sympy.Subs(f(y), y, x**2),
        sympy.Rational(1, 2), sympy.Integer(3), sympy.Float(1.5), sympy.Float(2.0) * x, sympy.sqrt(2), sympy.pi,
        sympy.pi * x, sympy.E, sympy.I, sympy.I * x, x + y, -(a - y), sympy.Mul(2, x + 1, evaluate=False),
        sympy.oo, -sympy.oo, sympy.zoo, sympy.nan, sympy.AccumBounds(0, 1), sympy.O(x),
    ]
    rng = random.Random(7)
    quick = 0
    for setting in (True, False):
        with distribute(setting):
            for _ in range(3000):
                total = sympy.Add(*rng.sample(pool, rng.randint(2, 7)))
                if type(total) is not sympy.Add:
                    continue
                index, term = rng.randrange(len(total.args)), rng.choice(pool)
                found = sum_with_term_replaced(total, index, term)
                if found is None:
                    continue
                quick += 1
                args = list(total.args)
                args[index] = term
                expected = sympy.Add(*args)
                assert type(found) is type(expected) and found.args == expected.args, (total, index, term)
    assert quick > 1000


# --- by a defined name, an expression that holds a partial ----------------------------------------------

@pytest.mark.parametrize("text", ["dE/dv", "∂_2 g(u, v)*u", "d/dw(u*w)"])
def test_a_partial_inside_is_differentiated_by_the_defined_name_it_holds(text: str) -> None:
    # u = f(z), v = h(u), E = g(u, v): d/du holds u as a variable and moves v = h(u) with it
    where = ["u = f(z)", "v = h(u)", "E = g(u, v)"]
    derivation = differentiate(text, "u", where=where)
    assert derivation.ok
    a, b, u, w = sympy.symbols("a b u w", real=True)
    g = sympy.Lambda((a, b), a**2 * b + sympy.sin(a * b))
    h = sympy.Lambda(a, sympy.cos(a) + a**2)
    meaning = {  # the text with the definitions put in and u a variable, as sympy evaluates it
        "dE/dv": sympy.diff(g(u, b), b).subs(b, h(u)),
        "∂_2 g(u, v)*u": sympy.diff(g(u, b), b).subs(b, h(u)) * u,
        "d/dw(u*w)": sympy.diff(u * w, w),
    }[text]
    expected = sympy.diff(meaning, u)
    result = derivation.result.replace(
        lambda e: isinstance(e, AppliedUndef) and type(e).__name__ in ("g", "h"),
        lambda e: {"g": g, "h": h}[type(e).__name__](*e.args),
    ).doit()
    result = result.xreplace({s: u for s in result.free_symbols if s.name == "u"})
    # the result is in the leaf variables (u is f(z) there): f(z) back to u, to compare at a value of u
    result = result.replace(lambda e: isinstance(e, AppliedUndef) and type(e).__name__ == "f", lambda e: u)
    point = {u: sympy.Rational(7, 10)}
    assert abs(sympy.N((result - expected).subs(point), 30)) < 1e-20


ABSOLUTE_EXPONENTIALS = [
    # (text, definitions, variable, the derivative over the reals): sympy alone would write |e^u| as
    # e^re(u) for the parser's plain symbols, and differentiate real and imaginary parts
    ("|e^(dy/dz)|", ["y = z^3"], z, 6 * z * sympy.exp(3 * z**2)),
    ("|e^(asin(x))|", [], x, sympy.exp(sympy.asin(x)) / sympy.sqrt(1 - x**2)),
    ("|(-2)^x|*t", [], x, sympy.log(2) * 2**x * t),
    ("|x*e^(x^2)|", [], x, sympy.sign(x) * sympy.exp(x**2) + 2 * x * sympy.Abs(x) * sympy.exp(x**2)),
]


@pytest.mark.parametrize(("text", "where", "var", "expected"), ABSOLUTE_EXPONENTIALS,
                         ids=[c[0] for c in ABSOLUTE_EXPONENTIALS])
def test_the_absolute_value_of_an_exponential_is_read_and_differentiated_over_the_reals(text, where, var, expected):
    derivation = differentiate(text, var, where=where, style="expand")
    assert derivation.ok
    assert not derivation.result.has(sympy.re, sympy.im)
    for k in range(3):
        point = {s: sympy.Rational(k + 2, 7) * (-1) ** k for s in derivation.result.free_symbols | {var}}
        left, right = derivation.result.xreplace(point), expected.xreplace(point)
        assert abs(sympy.N(left - right, 30)) < 1e-20
