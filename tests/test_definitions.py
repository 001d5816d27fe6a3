"""Definitions: substitution, cycles, and the contract's Leibniz semantics for dN/dv."""

from __future__ import annotations

import pytest
import sympy
from sympy.core.function import AppliedUndef

from derive.definitions import (
    Definition,
    Definitions,
    canonical,
    fold,
    interpret,
    leibniz_derivative,
    local_model,
    substitute,
)
from derive.errors import DefinitionError
from derive.functions import sigmoid
from derive.symbols import function, symbol

a, b, x, y, z, u, v, w, E = (symbol(n) for n in ("a", "b", "x", "y", "z", "u", "v", "w", "E"))
f, Y, F = function("f"), function("y"), function("E")
D = sympy.Derivative


def defs(*pairs: tuple[str, sympy.Expr] | tuple[str, tuple[sympy.Symbol, ...], sympy.Expr]) -> Definitions:
    items = []
    for pair in pairs:
        name, params, expr = pair if len(pair) == 3 else (pair[0], (), pair[1])
        items.append(Definition(name, params, expr))
    return Definitions(items)


# The contract's own example: E = 1/2 (a - y)^2, y = sigmoid(z).
SEED = defs(("E", (a - y) ** 2 / 2), ("y", sigmoid(z)))
SEED_WRITTEN_YZ = defs(("E", (a - Y(z)) ** 2 / 2), ("y", (z,), sigmoid(z)))
s = sigmoid(z)

SUBSTITUTIONS = [
    ("a symbol", y, SEED, (), s),
    ("a symbol inside an expression", 2 * y + a, SEED, (), 2 * s + a),
    ("recursively", E, SEED, (), (a - s) ** 2 / 2),
    ("except a kept name", E, SEED, ("y",), (a - y) ** 2 / 2),
    ("an application written as its parameters", Y(z), SEED_WRITTEN_YZ, (), s),
    ("an application to other arguments", Y(2 * x), SEED_WRITTEN_YZ, (), sigmoid(2 * x)),
    ("a kept name written y(z) stays y(z)", F(z), defs(("E", (z,), Y(z) + 1), ("y", (z,), s)), ("y",), Y(z) + 1),
    ("a function definition applied", f(x**2), defs(("f", (u,), sympy.sin(u))), (), sympy.sin(x**2)),
    ("parameters swapped at once", f(y, x), defs(("f", (x, y), x - 2 * y)), (), y - 2 * x),
    ("a name without definition stays", b, SEED, (), b),
]


@pytest.mark.parametrize(
    ("expr", "table", "keep", "expected"),
    [c[1:] for c in SUBSTITUTIONS],
    ids=[c[0] for c in SUBSTITUTIONS],
)
def test_substitute_replaces_defined_names(expr, table, keep, expected):
    assert substitute(expr, table, keep=keep) == expected


CYCLES = [
    ("self reference", defs(("y", y + 1)), "y -> y"),
    ("two names", defs(("y", z), ("z", y)), "y -> z -> y"),
    ("three names", defs(("u", v + 1), ("v", w**2), ("w", u)), "u -> v -> w -> u"),
]


@pytest.mark.parametrize(("table", "cycle"), [c[1:] for c in CYCLES], ids=[c[0] for c in CYCLES])
def test_cyclic_definitions_raise_a_definition_error_naming_the_cycle(table, cycle):
    with pytest.raises(DefinitionError, match=cycle):
        table.check_acyclic()
    with pytest.raises(DefinitionError, match="cyclic"):
        substitute(symbol(table.names[0]), table)


def test_acyclic_definitions_pass_the_check():
    defs(("E", (a - y) ** 2), ("y", sigmoid(u)), ("u", w * x + b)).check_acyclic()


def test_a_redefinition_replaces_the_old_one_and_moves_to_the_end():
    table = Definitions([Definition("y", (), x), Definition("z", (), x), Definition("y", (), x**2)])
    assert table.names == ("z", "y")
    assert table["y"].expr == x**2
    assert len(table) == 2


def test_names_are_found_as_strings_symbols_and_applications():
    assert "y" in SEED and y in SEED and Y(z) in SEED and "q" not in SEED
    assert SEED[Y(z)].expr == s


def test_applying_a_definition_to_the_wrong_number_of_arguments_is_an_error():
    with pytest.raises(DefinitionError, match="argument"):
        substitute(f(x, y), defs(("f", (u,), u**2)))


# Leibniz semantics, exactly as the contract states it (section 1).
LEIBNIZ = [
    ("dE/dy holds y as a variable", SEED, "E", y, -(a - y)),
    ("dy/dz differentiates y's definition", SEED, "y", z, s * (1 - s)),
    ("dE/dz is the full derivative", SEED, "E", z, -(a - s) * s * (1 - s)),
    ("dE/dy(z) means dE/dy", SEED_WRITTEN_YZ, "E", Y(z), -(a - Y(z))),
    ("dE/dy when y is written y(z)", SEED_WRITTEN_YZ, "E", y, -(a - y)),
    ("dE/da treats y as a leaf function of z", SEED, "E", a, a - s),
    ("dy/dy is 1", SEED, "y", y, 1),
    ("dE/dx is 0 without x", SEED, "E", x, 0),
    ("an expression instead of a name", SEED, y**2, z, 2 * s * s * (1 - s)),
    (
        "every path through the held name counts",
        defs(("E", u * v), ("v", u**2), ("u", sympy.sin(x))),
        "E",
        u,
        3 * u**2,
    ),
]


@pytest.mark.parametrize(
    ("table", "name", "var", "expected"), [c[1:] for c in LEIBNIZ], ids=[c[0] for c in LEIBNIZ]
)
def test_leibniz_derivative_follows_the_contract(table, name, var, expected):
    assert sympy.simplify(leibniz_derivative(name, var, table) - expected) == 0


def test_the_chain_rule_in_leibniz_notation_is_true():
    lhs = interpret(D(E, z), SEED)
    rhs = interpret(D(y, z) * D(E, y), SEED)
    assert sympy.simplify(lhs - rhs) == 0


def test_a_wrong_chain_rule_in_leibniz_notation_is_false():
    lhs = interpret(D(E, z), SEED, elementary=True)
    rhs = interpret(D(E, y), SEED, elementary=True)
    assert sympy.simplify(lhs - rhs) != 0


INTERPRETATIONS = [
    ("a Leibniz derivative", D(E, y), -(a - s)),
    ("a derivative of an applied name", D(F(z), z), -(a - s) * s * (1 - s)),
    ("a derivative of an expression with names", D(y**2, z, evaluate=False), 2 * s**2 * (1 - s)),
    ("a second derivative", D(E, (y, 2)), 1),
    ("a derivative of a Leibniz derivative", D(D(E, y), z), s * (1 - s)),
    ("plain names", a * y, a * s),
]


@pytest.mark.parametrize(("expr", "expected"), [c[1:] for c in INTERPRETATIONS], ids=[c[0] for c in INTERPRETATIONS])
def test_interpret_gives_the_leaf_form(expr, expected):
    table = defs(("E", (a - y) ** 2 / 2), ("y", sigmoid(z)))
    assert sympy.simplify(interpret(expr, table) - expected) == 0


def test_interpret_in_elementary_form_has_no_named_functions_and_the_same_value():
    named = interpret(D(E, z), SEED)
    elementary = interpret(D(E, z), SEED, elementary=True)
    assert not elementary.has(sigmoid)
    point = {a: sympy.Rational(1, 3), z: sympy.Rational(2, 7)}
    assert abs(sympy.N(named.subs(point) - elementary.subs(point), 30)) < 1e-25


def test_a_derivative_by_a_name_of_an_abstract_function_of_it_is_taken_at_the_name_s_value():
    # F = g(v, u), v = e^z/u, u = f(z): dF/dv is g's first partial at (v, u), in the leaf variable z
    # it is at (e^z/f(z), f(z)); left as a derivative by v it would keep a free v.
    g = function("g")
    table = defs(("F", g(v, u)), ("v", sympy.exp(z) / u), ("u", f(z)))
    meaning = interpret(D(symbol("F"), v), table)
    assert meaning.free_symbols == {z}
    t1, t2 = sympy.symbols("t1 t2")
    concrete = {g: sympy.Lambda((t1, t2), t1**2 * t2 + sympy.sin(t2)), f: sympy.Lambda(t1, t1**3 + 1)}
    at = {z: sympy.Rational(2, 5)}
    value = meaning.subs(concrete).doit().subs(at)
    partial = sympy.diff(t1**2 * t2 + sympy.sin(t2), t1).subs({t1: sympy.exp(z) / (z**3 + 1), t2: z**3 + 1}).subs(at)
    assert abs(sympy.N(value - partial, 30)) < 1e-25


FUNCTIONS_OF_DERIVATIVES = [
    # (case, definition (name, params, body), application, its value once evaluated)
    ("the argument goes in at the point", ("f", (a,), D(a * b, a)), f(b), b),
    ("a number argument", ("f", (a,), D(a**3, a)), f(2), 12),
    ("parameters swapped", ("f", (a, b), D(a**2 * b, a)), f(b, a), 2 * b * a),
]


@pytest.mark.parametrize(("definition", "application", "value"), [c[1:] for c in FUNCTIONS_OF_DERIVATIVES],
                         ids=[c[0] for c in FUNCTIONS_OF_DERIVATIVES])
def test_a_function_defined_by_a_derivative_differentiates_by_its_parameter(definition, application, value):
    table = defs(definition)
    assert sympy.simplify(substitute(application, table).doit() - value) == 0
    assert sympy.simplify(table[definition[0]].applied(application.args).doit() - value) == 0


def test_interpret_keeps_abstract_functions_that_are_not_defined():
    assert interpret(D(f(x), x), SEED) == D(f(x), x)


def test_canonical_writes_y_of_z_as_the_name_y_and_expands_other_uses():
    table = defs(("y", (z,), sigmoid(z)))
    assert canonical(Y(z) + Y(2 * x), table) == y + sigmoid(2 * x)


def test_fold_writes_bodies_back_as_names_but_never_bare_symbols():
    table = defs(("y", sigmoid(z)), ("q", x))
    assert fold(sigmoid(z) * (1 - sigmoid(z)) + x, table, symbol) == y * (1 - y) + x


# --- the smaller model of one claim (local_model) ---------------------------------------------------

h1, h2, h3, w1, w2, w3, t = (symbol(n) for n in ("h1", "h2", "h3", "w1", "w2", "w3", "t"))
NETWORK = defs(
    ("h1", sigmoid(w1 * x)), ("h2", sigmoid(w2 * h1)), ("h3", sigmoid(w3 * h2)), ("E", (t - h3) ** 2 / 2)
)


def model_names(claim_lhs: sympy.Expr, claim_rhs: sympy.Expr, definitions: Definitions) -> set[str]:
    model = local_model(claim_lhs, claim_rhs, definitions)
    assert model is not None
    return {d.name for d in model.definitions}


def test_a_name_no_derivative_can_move_is_held_as_a_free_symbol():
    # dE/dh3 = -(t - h3): h3 is the lowest variable, so nothing below it is substituted.
    assert model_names(D(E, h3), -(t - h3), NETWORK) == {"E"}


def test_a_name_differentiated_above_and_below_stands_as_a_function_of_the_upper_name():
    model = local_model(D(E, h1), D(E, h2) * D(h2, h1), NETWORK)
    assert model is not None
    cut = next(d for d in model.definitions if d.name == "E")
    assert isinstance(cut.expr, AppliedUndef) and cut.expr.args == (sympy.Symbol("h2", real=True),)
    assert {d.name for d in model.definitions} == {"E", "h2"}  # h3 lies inside E's function


def test_no_cut_when_the_lower_variable_also_reaches_the_name_another_way():
    shortcut = defs(("h2", sigmoid(w2 * h1)), ("E", (t - h2) ** 2 / 2 + h1))
    model = local_model(D(E, h1), D(E, h2) * D(h2, h1), shortcut)
    assert model is not None
    assert not any(isinstance(d.expr, AppliedUndef) for d in model.definitions)


# (id, definitions, claim, true?) -- the model must prove the true claims and never a false one
LOCAL_CLAIMS = [
    ("chain through one name", NETWORK, (D(E, h1), D(E, h2) * D(h2, h1)), True),
    ("chain with the factor written out", NETWORK, (D(E, h1), D(E, h2) * w2 * h2 * (1 - h2)), True),
    ("local factor", NETWORK, (D(h2, h1), w2 * h2 * (1 - h2)), True),
    ("top factor", NETWORK, (D(E, h3), -(t - h3)), True),
    ("a name that does not depend", NETWORK, (D(h1, w2), sympy.Integer(0)), True),
    ("factor with the wrong sign", NETWORK, (D(h2, h1), -w2 * h2 * (1 - h2)), False),
    ("chain that skips a layer", NETWORK, (D(E, h1), D(E, h2)), False),
    ("dE/dh1 taken for dE/dh2", NETWORK, (D(E, h2), D(E, h1) * D(h2, h1)), False),
    ("seed in names", SEED, (D(E, z), D(E, y) * D(y, z)), True),
    ("seed, y(z) written", SEED_WRITTEN_YZ, (D(F(z), z), D(E, Y(z)) * D(Y(z), z)), True),
]


@pytest.mark.parametrize(
    ("definitions", "claim", "true"), [c[1:] for c in LOCAL_CLAIMS], ids=[c[0] for c in LOCAL_CLAIMS]
)
def test_the_model_proves_true_claims_and_never_a_false_one(definitions, claim, true):
    model = local_model(*claim, definitions)
    assert model is not None
    left, right = model.meanings()
    proved = sympy.simplify(left.doit() - right.doit()) == 0
    full_left, full_right = interpret(claim[0], definitions), interpret(claim[1], definitions)
    assert (sympy.simplify(full_left - full_right) == 0) is true  # the oracle: the claim read in full
    if proved:
        assert true
    if true and not any(isinstance(d.expr, AppliedUndef) for d in model.definitions):
        assert proved
