"""Leibniz-style derivations: dE/dz = dE/dy · dy/dz, multi-path sums, and networks of 1 to 8 layers."""

from __future__ import annotations

import functools
import itertools
import random

import pytest
import sympy
from oracle import at_points, value_at

from derive.definitions import Definition, Definitions, substitute
from derive.derivation import Derivation, Step
from derive.functions import sigmoid, to_elementary
from derive.leibniz import Backprop, top_name
from derive.rewrite import Checker, differentiate
from derive.symbols import function, realify, symbol
from derive.verify import Verdict

a, x, y, z, u, v, p, q, E, L = (symbol(n) for n in ("a", "x", "y", "z", "u", "v", "p", "q", "E", "L"))
D = sympy.Derivative


def equal_as_functions(left: sympy.Expr, right: sympy.Expr) -> bool:
    """The oracle: equal at 5 random points after named functions become elementary."""
    left, right = to_elementary(realify(left)).doit(), to_elementary(realify(right)).doit()
    rng = random.Random(11)
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    for _ in range(5):
        point = {s: sympy.Rational(rng.randint(11, 89), 100) for s in symbols}
        if abs(complex(value_at(left, point) - value_at(right, point))) > 1e-20:
            return False
    return True


def oracle(expr: sympy.Expr, var: sympy.Symbol, where: dict) -> sympy.Expr:
    """sympy's derivative of the expression with every definition substituted."""
    defs = Definitions(Definition(str(k), (), val) for k, val in where.items())
    return sympy.diff(to_elementary(realify(substitute(expr, defs))), realify(var))


LOSS = (a - y) ** 2 / 2
SEED = [
    ("y = sigmoid(z), leibniz", {"y": sigmoid(z)}, "leibniz", -(a - sigmoid(z)) * sigmoid(z) * (1 - sigmoid(z))),
    ("y = cos(z), leibniz", {"y": sympy.cos(z)}, "leibniz", (a - sympy.cos(z)) * sympy.sin(z)),
    ("y = sigmoid(z), expand", {"y": sigmoid(z)}, "expand", -(a - sigmoid(z)) * sigmoid(z) * (1 - sigmoid(z))),
    ("y = cos(z), expand", {"y": sympy.cos(z)}, "expand", (a - sympy.cos(z)) * sympy.sin(z)),
]


@pytest.mark.parametrize(("where", "style", "expected"), [c[1:] for c in SEED], ids=[c[0] for c in SEED])
def test_the_seed_question_is_answered_in_both_styles(where, style, expected):
    derivation = differentiate(LOSS, "z", where=where, style=style)
    assert derivation.ok, [(s.rule, s.verdict) for s in derivation.steps]
    assert derivation.style == style
    assert equal_as_functions(derivation.result, expected)
    assert not derivation.result.has(y)


def test_leibniz_is_the_default_style_when_definitions_are_given():
    assert differentiate(LOSS, "z", where={"y": sigmoid(z)}).style == "leibniz"
    assert differentiate(LOSS, "a").style == "expand"


def test_the_seed_in_leibniz_style_reads_like_backprop():
    steps = differentiate(LOSS, "z", where={"y": sigmoid(z)}).steps
    expected = [
        (D(E, z), D(E, y) * D(y, z)),
        (D(E, y), -(a - y)),
        (D(y, z), y * (1 - y)),
        (D(E, z), -(a - y) * y * (1 - y)),
    ]
    for step, (before, after) in zip(steps, expected, strict=False):
        assert step.before == before
        assert sympy.expand(step.after - after) == 0
    assert str(steps[1].after) == "-(a - y)"  # as a reader writes it, not -a + y
    assert [s.rule for s in steps] == ["chain", "chain", "sigmoid", "combine", "definition"]
    assert "E = " in steps[0].explanation


def test_y_written_as_y_of_z_keeps_that_form_in_the_lines():
    derivation = differentiate((a - function("y")(z)) ** 2 / 2, "z", where={"y(z)": sigmoid(z)})
    assert derivation.ok
    assert derivation.steps[2].after == function("y")(z) * (1 - function("y")(z))
    assert equal_as_functions(derivation.result, oracle(LOSS, z, {"y": sigmoid(z)}))


def test_leibniz_factors_are_unevaluated_derivatives_of_symbols():
    first = differentiate(LOSS, "z", where={"y": sigmoid(z)}).steps[0]
    factors = first.after.atoms(D)
    assert factors == {D(E, y), D(y, z)}
    assert all(isinstance(f.expr, sympy.Symbol) for f in factors)


MULTI_PATH = [
    ("two independent paths", u * v, {"u": sympy.sin(x), "v": x**2}, D(E, u) * D(u, x) + D(E, v) * D(v, x)),
    ("a direct term and a path", u * x, {"u": sympy.sin(x)}, u + D(E, u) * D(u, x)),
    (
        "one intermediate depending on another",
        p * q,
        {"p": q * x, "q": x**2},
        None,
    ),
    ("a shared input of a sum", sympy.exp(u) + sympy.log(v), {"u": 2 * x, "v": x**2 + 1}, None),
]


@pytest.mark.parametrize(("expr", "where", "chain"), [c[1:] for c in MULTI_PATH], ids=[c[0] for c in MULTI_PATH])
def test_several_paths_through_the_definitions_are_summed(expr, where, chain):
    derivation = differentiate(expr, "x", where=where)
    assert derivation.ok, [(s.rule, s.before, s.after, s.verdict) for s in derivation.steps]
    assert equal_as_functions(derivation.result, oracle(expr, x, where))
    assert derivation.steps[0].rule == "chain"
    if chain is not None:
        assert derivation.steps[0].after == chain


def test_differentiating_with_respect_to_an_intermediate_holds_it_as_a_variable():
    derivation = differentiate(LOSS, "y", where={"y": sigmoid(z)})
    assert derivation.ok
    assert sympy.expand(derivation.steps[0].after + (a - y)) == 0  # held as a variable: -(a - y)
    # the result in the leaf variables, as the contract says (y put in afterwards)
    assert sympy.expand(derivation.result + (a - sigmoid(z))) == 0


def test_a_variable_the_expression_does_not_depend_on_gives_zero():
    derivation = differentiate(LOSS, "x", where={"y": sigmoid(z)})
    assert derivation.ok and derivation.result == 0


@pytest.mark.parametrize("style", ["expand", "leibniz"])
def test_a_leibniz_derivative_inside_the_expression_is_read_by_its_meaning_first(style):
    where = {"E": LOSS, "y": sigmoid(z)}
    derivation = differentiate(D(E, y), "z", where=where, style=style)
    assert derivation.steps[0].rule == "definition"
    assert sympy.expand(derivation.steps[0].after - D(-(a - y), z)) == 0
    assert derivation.ok
    assert equal_as_functions(derivation.result, sigmoid(z) * (1 - sigmoid(z)))


TOP_NAMES = [
    ("E when free", LOSS, {"y": sigmoid(z)}, "E"),
    ("another name when E is taken", E * y, {"y": sigmoid(z)}, "L"),
    ("the defined name when the expression is one", L, {"L": LOSS, "y": sigmoid(z)}, "L"),
    ("the defined name when the expression is its body", LOSS, {"J": LOSS, "y": sigmoid(z)}, "J"),
]


@pytest.mark.parametrize(("expr", "where", "name"), [c[1:] for c in TOP_NAMES], ids=[c[0] for c in TOP_NAMES])
def test_the_expression_is_named_e_unless_that_name_is_taken_or_given(expr, where, name):
    defs = Definitions(Definition(k, (), val) for k, val in where.items())
    assert top_name(expr, defs, z)[0] == name
    derivation = differentiate(expr, "z", where=where)
    assert derivation.steps[0].before == D(symbol(name), z)
    assert derivation.ok


# --- networks: one line per layer, each factor derived once -----------------------------------------


def network(layers: int) -> tuple[sympy.Expr, dict[str, sympy.Expr]]:
    """A scalar sigmoid network h_k = sigmoid(w_k h_{k-1} + b_k), h_0 = x, with a squared-error loss."""
    where: dict[str, sympy.Expr] = {}
    previous = x
    for k in range(1, layers + 1):
        where[f"h{k}"] = sigmoid(symbol(f"w{k}") * previous + symbol(f"b{k}"))
        previous = symbol(f"h{k}")
    return (a - previous) ** 2 / 2, where


@functools.cache
def network_derivation(layers: int) -> Derivation:
    """dE/dw1 of the network (derived once for all the tests below)."""
    loss, where = network(layers)
    return differentiate(loss, "w1", where=where)


@pytest.mark.parametrize("layers", range(1, 9), ids=lambda n: f"{n} layers")
def test_a_network_derivative_is_verified_and_right(layers):
    loss, where = network(layers)
    derivation = network_derivation(layers)
    assert derivation.ok, [(s.rule, s.verdict, s.note) for s in derivation.steps]
    assert equal_as_functions(derivation.result, oracle(loss, symbol("w1"), where))
    lines = [(s.rule, s.before) for s in derivation.steps]
    assert len(lines) == len(set(lines)), "a factor was derived twice"


def test_the_number_of_lines_grows_linearly_with_the_number_of_layers():
    def lines(layers: int) -> int:
        return sum(s.rule != "simplify" for s in network_derivation(layers).steps)

    counts = [lines(n) for n in range(1, 9)]
    growth = {later - earlier for earlier, later in itertools.pairwise(counts)}
    assert growth == {3}, counts  # one chain line, one local factor and one combination per layer


def test_each_layer_contributes_its_local_factor_in_the_intermediate_names():
    steps = {s.before: s.after for s in network_derivation(2).steps if s.rule != "combine"}
    h1, h2, w2 = symbol("h1"), symbol("h2"), symbol("w2")
    assert sympy.simplify(steps[D(h2, h1)] - h2 * (1 - h2) * w2) == 0
    assert sympy.simplify(steps[D(h1, symbol("w1"))] - h1 * (1 - h1) * x) == 0


# --- how the lines are checked ------------------------------------------------------------------------


def test_a_network_derivation_never_reads_a_line_in_full(monkeypatch):
    def in_full(*args: object) -> None:
        raise AssertionError("a line was read in full")

    monkeypatch.setattr(Checker, "full", in_full)
    loss, where = network(4)
    assert differentiate(loss, "w1", where=where).ok


# Each switch of sympy's `distribute` setting empties sympy's whole cache. The rules write with numbers
# undistributed and the checks need sympy's usual evaluation, so a derivation writes all its lines first
# and checks them after: the same few switches for one layer as for six, in either style.
@pytest.mark.parametrize("style", ["leibniz", "expand"])
@pytest.mark.parametrize("layers", [1, 6])
def test_a_derivation_empties_sympys_cache_a_fixed_number_of_times(monkeypatch, style, layers):
    from sympy.core import parameters

    emptied = []

    def counted() -> None:
        emptied.append(1)
        clear_cache()

    clear_cache = parameters.clear_cache
    monkeypatch.setattr(parameters, "clear_cache", counted)
    loss, where = network(layers)
    derivation = differentiate(loss, "w1", where=where, style=style)
    assert derivation.ok and len(derivation.steps) >= 2 * layers
    assert len(emptied) <= 4


def test_a_chain_line_that_leaves_out_a_path_is_refuted(monkeypatch):
    def first_parent_only(self, top, var):
        return original(self, top, var)[:1]

    original = Backprop.parents
    monkeypatch.setattr(Backprop, "parents", first_parent_only)
    derivation = differentiate("(a - p)^2 + (b - q)^2", "x", where=["p = sigmoid(x)", "q = x^2"])
    chain = next(s for s in derivation.steps if s.rule == "chain")
    assert chain.verdict == "refuted" and not derivation.ok


def test_a_wrong_combination_that_slips_past_the_local_checks_is_caught_by_the_crosscheck(monkeypatch):
    def trusting(self, rule, explanation, before, after, lhs, premises, expected):
        return Step(rule, explanation, before, after, Verdict.PROVED)  # a bookkeeping bug: nothing compared

    def doubling(self, rule, explanation, lhs, rhs, premises=None):
        return emit(self, rule, explanation, lhs, 2 * rhs if rule == "combine" else rhs, premises)

    emit = Backprop.emit
    monkeypatch.setattr(Checker, "derived", trusting)
    monkeypatch.setattr(Backprop, "emit", doubling)
    loss, where = network(2)
    derivation = differentiate(loss, "w1", where=where)
    last_combination = [s for s in derivation.steps if s.rule == "combine"][-1]
    assert last_combination.verdict == "refuted"


# sympy's odd functions loop forever on sin(-a - x) while numbers are not distributed over sums, which
# the engine does for display: a definition whose body is a sum of negative terms must not bring that out.
@pytest.mark.parametrize("outer", ["sin", "cos", "tan", "tanh", "atan", "asinh"])
@pytest.mark.parametrize("inner", ["-x - a", "-2*x - 3", "-(x + a)/2"])
@pytest.mark.parametrize("style", ["leibniz", "expand"])
def test_an_odd_function_of_a_negated_sum_is_derived_like_any_other(outer: str, inner: str, style: str) -> None:
    from derive import differentiate, parse

    derivation = differentiate(f"{outer}(u)*a", "x", where={"u": inner}, style=style)
    assert all(step.ok for step in derivation.steps)
    xs, as_ = sympy.Symbol("x"), sympy.Symbol("a")
    truth = sympy.diff(parse(f"{outer}({inner})*a"), xs)
    result = to_elementary(substitute(derivation.result, Definitions([Definition("u", (), parse(inner))])))
    point = {xs: sympy.Rational(3, 7), as_: sympy.Rational(5, 11)}
    assert abs(complex(value_at(result, point) - value_at(truth, point))) < 1e-25


@pytest.mark.parametrize("style", ["leibniz", "expand"])
@pytest.mark.parametrize("outer", ["sin", "tanh", "atan"])
def test_a_function_definition_applied_to_a_negated_sum_is_derived_like_any_other(style: str, outer: str) -> None:
    from derive import differentiate, parse

    derivation = differentiate("f(-x - a)*b", "x", where=[f"f(t) = {outer}(t)"], style=style)
    assert all(step.ok for step in derivation.steps)
    xs, as_, bs = sympy.Symbol("x"), sympy.Symbol("a"), sympy.Symbol("b")
    truth = sympy.diff(parse(f"{outer}(-x - a)*b"), xs)
    point = {xs: sympy.Rational(3, 7), as_: sympy.Rational(5, 11), bs: sympy.Rational(-2, 3)}
    assert abs(complex(value_at(to_elementary(derivation.result), point) - value_at(truth, point))) < 1e-25


# Abstract functions over named intermediates: each derivative of one is an answer (h'(u), ∂g/∂z), to be
# read at its point once the names are substituted. The oracle: the same expression with f, g and h
# made concrete before sympy differentiates it.
T1, T2 = sympy.symbols("t1 t2")
CONCRETE = {
    "f": sympy.Lambda(T1, T1**3 + 2 * T1 + 1),
    "g": sympy.Lambda((T1, T2), T1 * T2**2 + sympy.sin(T1)),
    "h": sympy.Lambda(T1, sympy.sin(T1) + T1**2),
    "L": sympy.Lambda((T1, T2), T1**2 * T2 + sympy.exp(T2)),
}
ABSTRACT_OVER_NAMES = [
    # (case, definitions, E written out)
    ("one argument", ["u = f(z)", "E = h(u)"], "h(f(z))"),
    ("the name and the variable", ["u = f(z)", "E = g(u, z)"], "g(f(z), z)"),
    ("the name twice", ["u = f(z)", "E = g(u, u)"], "g(f(z), f(z))"),
    ("two names", ["u = f(z)", "v = sigmoid(u)", "E = g(u, v)"], "g(f(z), sigmoid(f(z)))"),
    ("a name inside the other", ["u = f(z)", "v = exp(z)/u", "E = g(v, u)"], "g(exp(z)/f(z), f(z))"),
    ("an application beside a name holding it", ["p = exp(z)/f(z)", "E = L(p, f(z))"], "L(exp(z)/f(z), f(z))"),
    ("an application inside the name beside it", ["y = h(z)^2", "E = L(h(z), y)"], "L(h(z), h(z)^2)"),
    ("the variable inside another argument", ["E = g(z^2, z)"], "g(z^2, z)"),
]


def made_concrete(expr: sympy.Expr) -> sympy.Expr:
    """f, g and h replaced by CONCRETE (a derivative by an application first written at its point)."""
    expr = at_points(to_elementary(expr))
    for name, body in CONCRETE.items():
        expr = expr.replace(lambda e, name=name: getattr(e.func, "__name__", None) == name and e.is_Function,
                            lambda e, body=body: body(*e.args))
    return expr.doit()


@pytest.mark.parametrize("style", ["leibniz", "expand"])
@pytest.mark.parametrize(("where", "written_out"), [c[1:] for c in ABSTRACT_OVER_NAMES],
                         ids=[c[0] for c in ABSTRACT_OVER_NAMES])
def test_an_abstract_function_of_named_intermediates_is_derived_and_right(where, written_out, style):
    from derive.parse import parse

    derivation = differentiate("E", "z", where=where, style=style)
    assert derivation.ok
    assert {s.name for s in derivation.result.free_symbols} == {"z"}  # in the leaf variable only
    expr = made_concrete(parse(written_out))
    (zr,) = expr.free_symbols
    truth = sympy.diff(expr, zr).subs(zr, sympy.Rational(3, 10))
    (zd,) = derivation.result.free_symbols
    value = made_concrete(derivation.result).subs(zd, sympy.Rational(3, 10))
    assert abs(sympy.N(value - truth, 30)) < 1e-20
    assert all(step.before != step.after for step in derivation.steps)  # no line dE/du = dE/du


def test_a_definition_written_as_a_function_of_a_name_depends_on_that_name():
    # E(y) = 1/2 (a - y)^2 with y(z) = sigmoid(z): E(y) is E as a function of the intermediate y
    derivation = differentiate("E", "z", where=["y(z) = sigmoid(z)", "E(y) = 1/2*(a - y)^2"])
    assert derivation.ok
    expected = differentiate("E", "z", where=["y = sigmoid(z)", "E = 1/2*(a - y)^2"])
    assert sympy.simplify(derivation.result - expected.result) == 0
    assert derivation.result != 0


MOVING = [
    # (case, body, variable, how many terms move): the rules' derivative of the moving part is theirs of it all
    ("a softmax's loss by one class", "-(y1*log(p1) + y2*log(p2) + y3*log(p3))", "p2", 1),
    ("a square plus a constant", "1/2*(t - h)^2 + w^2", "h", 1),
    ("a sum of exponentials", "exp(z1) + exp(z2) + exp(z3)", "z1", 1),
    ("a constant times a sum", "-2*(a + sin(x) + b*x)", "x", 2),
    ("every term moves", "x^2 + sin(x)", "x", 2),
    ("a product with two moving factors", "(x + a)*(x + b)", "x", 2),
]


@pytest.mark.parametrize(("text", "name", "moving"), [c[1:] for c in MOVING], ids=[c[0] for c in MOVING])
def test_a_local_derivative_takes_only_the_terms_that_move(text: str, name: str, moving: int) -> None:
    from sympy.core.parameters import distribute

    from derive.leibniz import moving_terms
    from derive.parse import parse
    from derive.rewrite import derivative_value

    with distribute(False):  # as the rules run
        body, var = parse(text), symbol(name)
        part, dropped = moving_terms(body, var)
        assert len(sympy.Add.make_args(part.args[-1] if part.is_Mul else part)) == moving
        assert dropped is (part != body)
        assert derivative_value(part, var)[0] == derivative_value(body, var)[0] == sympy.diff(body, var)
