"""Each differentiation law on its canonical input, against sympy.diff; and a wrong law is always caught."""

from __future__ import annotations

import random

import pytest
import sympy
from sympy.core.function import AppliedUndef

from derive import rules
from derive.functions import relu, sigmoid, softplus, to_elementary
from derive.rewrite import differentiate
from derive.rules import find_rule, is_final, pending
from derive.symbols import function, realify, symbol

x, y, a, c, u = (symbol(n) for n in ("x", "y", "a", "c", "u"))
f, g = function("f"), function("g")
LETTER = symbol("u")


def concrete(expr: sympy.Expr) -> sympy.Expr:
    """Abstract functions made concrete, a different one for each name and each argument (sympy's own
    derivative of an abstract g(f(x), f(x)) is wrong, and a concrete function cannot hide a lost term)."""
    def made(e: sympy.Expr) -> sympy.Expr:
        c = len(type(e).__name__)
        args = e.args
        squares = sum((k + c) * a**2 for k, a in enumerate(args))
        return sympy.sin(sum(args) + c) + squares + args[0] * sympy.exp(args[-1])

    return expr.replace(lambda e: isinstance(e, AppliedUndef), made)


def equal_as_functions(left: sympy.Expr, right: sympy.Expr) -> bool:
    """The oracle: equal after sympy evaluates every derivative, symbolically or at 5 random points."""
    difference = (to_elementary(concrete(realify(left))).doit()
                  - to_elementary(concrete(realify(right))).doit())
    if difference == 0 or sympy.simplify(difference) == 0:
        return True
    rng = random.Random(5)
    symbols = sorted(difference.free_symbols, key=str)
    checked = 0
    for _ in range(30):
        point = {s: sympy.Rational(rng.randint(11, 89), 100) for s in symbols}
        value = difference.evalf(30, subs=point)
        if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo):
            continue
        if abs(complex(value)) > 1e-20:
            return False
        checked += 1
        if checked == 5:
            return True
    return False


# (id, expression, rule name): one canonical input per law, with x the variable.
CANONICAL = [
    ("constant", a**2 + 3, "constant"),
    ("variable", x, "variable"),
    ("sum", x + sympy.sin(x), "sum"),
    ("difference", x**2 - sympy.cos(x), "sum"),
    ("constant multiple", 5 * sympy.sin(x), "constant_multiple"),
    ("constant multiple by a symbol", a * x**3, "constant_multiple"),
    ("product of two", x * sympy.sin(x), "product"),
    ("product of three", x * sympy.exp(x) * sympy.log(x), "product"),
    ("quotient", sympy.sin(x) / (x + 1), "quotient"),
    ("quotient with a squared denominator", x / (x**2 + 1) ** 2, "quotient"),
    ("power", x**5, "power"),
    ("negative power", x**-3, "power"),
    ("rational power", x ** sympy.Rational(3, 2), "power"),
    ("symbolic constant power", x**a, "power"),
    ("sqrt", sympy.sqrt(x), "sqrt"),
    ("exp", sympy.exp(x), "exp"),
    ("a to the x", 2**x, "exponential"),
    ("symbolic base to the x", a**x, "exponential"),
    ("x to the x", x**x, "general_power"),
    ("sin(x) to the x", sympy.sin(x) ** x, "general_power"),
    ("natural log", sympy.log(x), "log"),
    ("log base 10", sympy.log(x, 10), "constant_multiple"),
    ("log of |x|", sympy.log(sympy.Abs(x)), "log"),
    ("sin", sympy.sin(x), "sin"),
    ("cos", sympy.cos(x), "cos"),
    ("tan", sympy.tan(x), "tan"),
    ("sec", sympy.sec(x), "sec"),
    ("csc", sympy.csc(x), "csc"),
    ("cot", sympy.cot(x), "cot"),
    ("asin", sympy.asin(x), "asin"),
    ("acos", sympy.acos(x), "acos"),
    ("atan", sympy.atan(x), "atan"),
    ("acot", sympy.acot(x), "acot"),
    ("sinh", sympy.sinh(x), "sinh"),
    ("cosh", sympy.cosh(x), "cosh"),
    ("tanh", sympy.tanh(x), "tanh"),
    ("coth", sympy.coth(x), "coth"),
    ("sech", sympy.sech(x), "sech"),
    ("csch", sympy.csch(x), "csch"),
    ("asinh", sympy.asinh(x), "asinh"),
    ("acosh", sympy.acosh(x), "acosh"),
    ("atanh", sympy.atanh(x), "atanh"),
    ("abs", sympy.Abs(x), "abs"),
    ("sigmoid", sigmoid(x), "sigmoid"),
    ("softplus", softplus(x), "softplus"),
    ("relu", relu(x), "relu"),
    ("chain: sin of x^2", sympy.sin(x**2), "chain"),
    ("chain: power of a sum", (x**2 + 1) ** 3, "chain"),
    ("chain: sigmoid of an affine map", sigmoid(a * x + c), "chain"),
    ("chain: abstract function", f(x**2), "chain"),
    ("chain: log of |g|", sympy.log(sympy.Abs(sympy.sin(x))), "chain"),
    ("no law: erf", sympy.erf(x), "sympy"),
    ("chain: abstract function of two arguments", f(x, x**2), "chain"),
    ("chain: the same inner function twice", g(f(x), f(x)), "chain"),
    ("chain: one argument constant", g(a, sympy.sin(x)), "chain"),
    ("second derivative", sympy.Derivative(x**3, (x, 2)), "higher_order"),
]


@pytest.mark.parametrize(("expr", "name"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL])
def test_find_rule_picks_the_law_for_the_expression(expr, name):
    derivative = expr if isinstance(expr, sympy.Derivative) else pending(expr, x)
    assert find_rule(derivative).name == name


@pytest.mark.parametrize(("expr", "name"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL])
def test_each_rewrite_equals_sympys_derivative(expr, name):
    derivative = expr if isinstance(expr, sympy.Derivative) else pending(expr, x)
    rewrite = find_rule(derivative).rewrite(LETTER)
    assert equal_as_functions(rewrite.after, derivative)
    assert rewrite.explanation.endswith(".")


def test_a_law_for_the_variable_itself_leaves_nothing_pending():
    for expr in (sympy.sin(x), x**5, sympy.exp(x), sigmoid(x)):
        assert not find_rule(pending(expr, x)).rewrite(LETTER).after.has(sympy.Derivative)


def test_the_chain_rule_leaves_the_inner_derivative_pending_and_names_it():
    rewrite = find_rule(pending(sympy.sin(x**2), x)).rewrite(LETTER)
    assert rewrite.after == sympy.cos(x**2) * pending(x**2, x)
    assert rewrite.inner == pending(x**2, x)
    assert "u = x^2" in rewrite.explanation


def test_the_chain_rule_for_an_abstract_function_uses_sympys_subs_convention():
    rewrite = find_rule(pending(f(x**2), x)).rewrite(LETTER)
    assert rewrite.after == sympy.Subs(sympy.Derivative(f(u), u), u, x**2) * pending(x**2, x)


def test_the_chain_rule_over_several_arguments_has_one_term_per_argument_that_moves():
    rewrite = find_rule(pending(g(a, x**2, x), x)).rewrite(LETTER)
    t = sympy.Dummy("t")
    # ∂_2 g(a, x^2, x)·d/dx[x^2] + ∂_3 g(a, x^2, x): a does not move, so it has no term, and x is its own
    # derivative's variable
    assert rewrite.after == (sympy.Subs(sympy.Derivative(g(a, t, x), t), t, x**2) * pending(x**2, x)
                             + sympy.Subs(sympy.Derivative(g(a, x**2, t), t), t, x))
    assert "∂_2 g" in rewrite.explanation


def test_the_fallback_rule_says_that_the_derivative_is_sympys():
    rewrite = find_rule(pending(sympy.erf(x), x)).rewrite(LETTER)
    assert "sympy" in rewrite.explanation


FINAL = [
    ("f'(x) is an answer", sympy.Derivative(f(x), x), True),
    ("a partial derivative of f(x, y) is an answer", sympy.Derivative(f(x, y), y), True),
    ("f(x^2) still has a derivative to take", sympy.Derivative(f(x**2), x), False),
    ("sin(x) still has a derivative to take", sympy.Derivative(sympy.sin(x), x), False),
]


@pytest.mark.parametrize(("derivative", "final"), [c[1:] for c in FINAL], ids=[c[0] for c in FINAL])
def test_is_final_tells_answers_from_pending_derivatives(derivative, final):
    assert is_final(derivative) is final


def test_every_outer_derivative_in_the_table_has_its_formula_as_docstring():
    for outer in rules.OUTER.values():
        assert "'" in outer.formula and "=" in outer.formula


# --- mutation: a wrong rule must be refuted by the verifier, never trusted ---------------------------


def _negated(rule_class):
    original = rule_class.rewrite

    def rewrite(self, letter):
        result = original(self, letter)
        after = 1 - result.after if result.after == 0 else -result.after
        return rules.Rewrite(after, result.explanation, result.inner)

    return rewrite


def _without_inner_derivative(rule_class):
    original = rule_class.rewrite

    def rewrite(self, letter):
        result = original(self, letter)
        if result.inner is None:
            return result
        return rules.Rewrite(result.after.xreplace({result.inner: 1}), result.explanation, None)

    return rewrite


# (id, rule class, expression whose derivation uses it, law name to look for in the steps)
MUTANTS = [
    ("constant", rules.Constant, x + a, "constant"),
    ("variable", rules.Variable, x + a, "variable"),
    ("sum", rules.Sum, x**2 + sympy.sin(x), "sum"),
    ("constant multiple", rules.ConstantMultiple, 3 * sympy.sin(x), "constant_multiple"),
    ("product", rules.Product, x * sympy.sin(x), "product"),
    ("quotient", rules.Quotient, sympy.sin(x) / (x + 1), "quotient"),
    ("power", rules.Power, x**3, "power"),
    ("exponential", rules.Exponential, 2**x, "exponential"),
    ("general power", rules.GeneralPower, x**x, "general_power"),
    ("elementary", rules.Elementary, sympy.tanh(x), "tanh"),
    ("sigmoid", rules.Elementary, sigmoid(x), "sigmoid"),
    ("higher order", rules.HigherOrder, sympy.Derivative(x**3, (x, 2)), "higher_order"),
    ("abstract function", rules.AbstractFunction, f(x**2), "chain"),
    ("several arguments", rules.SeveralArguments, g(x**2, sympy.sin(x)), "chain"),
    ("sympy fallback", rules.Unknown, sympy.erf(x), "sympy"),
]


@pytest.mark.parametrize(("cls", "expr", "law"), [c[1:] for c in MUTANTS], ids=[c[0] for c in MUTANTS])
def test_a_rule_with_a_flipped_sign_is_refuted(monkeypatch, cls, expr, law):
    monkeypatch.setattr(cls, "rewrite", _negated(cls))
    derivation = differentiate(expr, x, style="expand")
    first = next(step for step in derivation.steps if step.rule == law)
    assert first.verdict == "refuted"
    assert not derivation.ok


CHAIN_MUTANTS = [
    ("power", rules.Power, (x**2 + 1) ** 3),
    ("elementary", rules.Elementary, sympy.sin(x**2)),
    ("sigmoid", rules.Elementary, sigmoid(3 * x + 1)),
    ("exponential", rules.Exponential, 2 ** (x**2)),
    ("abstract function", rules.AbstractFunction, f(x**2)),
    ("several arguments", rules.SeveralArguments, g(x**2, sympy.sin(x))),
]


@pytest.mark.parametrize(("cls", "expr"), [c[1:] for c in CHAIN_MUTANTS], ids=[c[0] for c in CHAIN_MUTANTS])
def test_a_chain_rule_that_drops_the_inner_derivative_is_refuted(monkeypatch, cls, expr):
    monkeypatch.setattr(cls, "rewrite", _without_inner_derivative(cls))
    derivation = differentiate(expr, x, style="expand")
    first = next(step for step in derivation.steps if step.rule == "chain")
    assert first.verdict == "refuted"


def test_a_flipped_sign_in_a_leibniz_factor_is_refuted(monkeypatch):
    monkeypatch.setattr(rules.Elementary, "rewrite", _negated(rules.Elementary))
    derivation = differentiate((a - y) ** 2 / 2, "z", where={"y": sigmoid(symbol("z"))})
    factor = next(step for step in derivation.steps if step.rule == "sigmoid")
    assert factor.verdict == "refuted"


NAMED_AT_ZERO = [
    # (function, an argument that is zero, the value): evaluated, also where sympy folded a sum to 0
    (sigmoid, sympy.Integer(0), sympy.Rational(1, 2)),
    (softplus, sympy.Integer(0), sympy.log(2)),
    (sigmoid, symbol("x") - symbol("x"), sympy.Rational(1, 2)),
    (sigmoid, sympy.sin(sympy.pi), sympy.Rational(1, 2)),
]


@pytest.mark.parametrize(("func", "arg", "value"), NAMED_AT_ZERO)
def test_named_functions_evaluate_at_zero(func, arg, value):
    z = symbol("z")
    assert func(arg) == value
    assert sympy.simplify(to_elementary(func(z)).subs(z, 0) - value) == 0  # the oracle: the elementary form


def test_named_functions_stay_unevaluated_elsewhere():
    z = symbol("z")
    assert isinstance(sigmoid(z), sigmoid) and isinstance(softplus(2 * z + 1), softplus)
