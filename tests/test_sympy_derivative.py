"""sympy's derivative without its zero test: the same expression as sympy.diff and doit, case by case."""

from __future__ import annotations

import pytest
import sympy
from oracle import at_points

from derive.sympy_derivative import substitution, sympy_diff, sympy_doit

x, y = sympy.symbols("x y", real=True)
f, g = sympy.Function("f", real=True), sympy.Function("g", real=True)
A, B = sympy.symbols("A B", commutative=False)
M = sympy.MatrixSymbol("M", 2, 2)
_A, (_i, _j) = sympy.IndexedBase("A"), sympy.symbols("i j", integer=True)
product = sympy.Mul(*(sympy.Function(f"F{i}", real=True)(x) for i in range(12)))

DERIVATIVES = [
    # (case, expression, variable): sympy_diff must be exactly sympy.diff's expression
    ("a polynomial", x**3 + 2 * x * y, x),
    ("a power of a sum", (y - x) ** 2 / 2, x),
    ("the logistic function", 1 / (1 + sympy.exp(-x)), x),
    ("tanh of a function", sympy.tanh(f(x)), x),
    ("a composition", f(g(x)), x),
    ("a product of twelve functions", product, x),
    ("a function of two arguments", f(x, x**2), x),
    ("a derivative inside", sympy.Derivative(f(x), x) * g(x), x),
    ("a substitution inside", sympy.Subs(sympy.Derivative(f(y), y), y, g(x)), x),
    ("no x at all", y**2 + sympy.sin(y), x),
    ("a number", sympy.Integer(7), x),
    ("an absolute value", sympy.Abs(x - 1) * x, x),
    ("a piecewise function", sympy.Piecewise((x**2, x > 0), (-x, True)), x),
    ("a maximum", sympy.Max(x, y**2), x),
    ("a derivative itself (sympy joins them)", sympy.Derivative(f(x, y), y), x),
    ("a derivative by two variables inside", sympy.Derivative(f(x, y), x, y) * x, x),
    ("products that do not commute", A * x * B * x, x),
    ("a matrix product", M * x, x),
    ("by the other variable", x * y**2, y),
    # powers: sympy's formula without its 0·log(base) term where the exponent is free of x
    ("a power of a function", sympy.sin(x) ** 3, x),
    ("a negative power of a sum", (1 + sympy.exp(-x * y)) ** -2, x),
    ("a fractional power", (x**2 + 1) ** sympy.Rational(1, 3) / (x - 3) ** 3, x),
    ("a symbolic exponent", (sympy.cos(x) + 2) ** y, x),
    ("an exponent with x", (x**2 + 1) ** sympy.sin(x), x),
    ("x to the x", x**x, x),
    ("a power at a power", ((x + y) ** 3 + 1) ** -1, x),
    ("a power of an abstract function", f(x) ** -3 * g(x**2) ** y, x),
    ("a base sympy knows to be zero", (x * sympy.Symbol("z", zero=True) + sympy.Symbol("o", zero=True)) ** 2, x),
    ("a base with an infinite symbol", (x + sympy.Symbol("w", infinite=True)) ** 2, x),
    ("a power of a complex symbol", (sympy.Symbol("c") * x + 1) ** -1, x),
    # abstract functions of several arguments: sympy's chain rule, without asking whether each
    # argument's derivative is zero (one that is 0 as it stands is left out, as sympy does)
    ("a quotient and a function", f(sympy.exp(x) / (1 + x**2), g(x)), x),
    ("an argument free of x", f(y, x**2, 2), x),
    ("three arguments", sympy.Function("h", real=True)(x, x * y, sympy.sin(x)), x),
    ("a complex function of two arguments", sympy.Function("k")(x**2 + 1, x * y), x),
]


@pytest.mark.parametrize(("expr", "var"), [c[1:] for c in DERIVATIVES], ids=[c[0] for c in DERIVATIVES])
def test_the_derivative_is_sympy_s(expr: sympy.Expr, var: sympy.Symbol) -> None:
    assert sympy_diff(expr, var) == sympy.diff(expr, var)


EVALUATED = [
    # (case, expression): sympy_doit must be exactly expr.doit()
    ("a chain-rule line", sympy.Derivative(f(g(x)), x) + sympy.Derivative(g(x), x) * f(x)),
    ("the product rule", sympy.Derivative(product, x) - x),
    ("a derivative of a derivative", sympy.Derivative(sympy.Derivative(x**3 * f(x), x), x)),
    ("a second derivative", sympy.Derivative(sympy.sin(x) * x, (x, 2))),
    ("two variables", sympy.Derivative(x**2 * y**3, x, y)),
    ("by a function", sympy.Derivative(f(g(x)) * g(x), g(x))),
    ("a power of a derivative", sympy.Derivative(sympy.exp(x) * x, x) ** 2),
    ("f' at a point", sympy.Subs(sympy.Derivative(f(y), y), y, x**2) * sympy.Derivative(x**2, x)),
    ("a derivative inside a function", sympy.sin(sympy.Derivative(x**2, x))),
    ("an abstract function of a derivative", f(sympy.Derivative(x**2, x))),
    ("nothing to evaluate", x**2 + f(x)),
    ("a derivative that is zero", sympy.Derivative(y**2, x) + 1),
    ("an integral", sympy.Integral(x, (x, 0, 1)) + sympy.Derivative(x**2, x)),
    # by an element, which no exponent lists among its free symbols though the exponent A[i] moves with A[j]
    ("a power by an indexed element", sympy.Derivative(x ** _A[_i], _A[_j])),
    ("a power by a matrix element", sympy.Derivative(y * x ** M[0, 0], M[0, 0], y)),
]


@pytest.mark.parametrize("expr", [c[1] for c in EVALUATED], ids=[c[0] for c in EVALUATED])
def test_sympy_doit_is_doit(expr: sympy.Expr) -> None:
    assert sympy_doit(expr) == expr.doit()


def test_sympy_s_own_differentiation_is_the_one_called():
    # Without sympy's dispatch every derivative would fall back to sympy.diff: right, but slower.
    from derive import sympy_derivative

    assert sympy_derivative._DISPATCH is not None


# --- where sympy's chain rule is wrong: an application found in another argument ----------------------
#
# sympy differentiates g(e^x/f(x), f(x)) by x with "the derivative by f(x)" of the whole application for
# its second slot, which differentiates the f(x) in the first slot too. The oracle: the same expression
# with the abstract functions made concrete (sympy is right on concrete functions), at a point.
u, v = sympy.symbols("u v")
h = sympy.Function("h", real=True)
CONCRETE = {
    f: sympy.Lambda(u, sympy.cos(u) + u**3),
    g: sympy.Lambda((u, v), u * v**2 + sympy.sin(u)),
    h: sympy.Lambda((u, v), u * v + sympy.exp(v)),
}
SHARED = [
    # (case, expression): sympy.diff by x gets every one of these wrong
    ("the same application twice", g(f(x), f(x))),
    ("an application inside a quotient", g(sympy.exp(x) / f(x), f(x))),
    ("an application inside a power", g(f(x) ** 2, f(x))),
    ("an application times x", g(f(x), x * f(x))),
    ("nested", g(h(f(x), f(x)), f(x))),
    ("one inside another's argument", h(g(x, f(x)), f(x))),
]


def made_concrete(expr: sympy.Expr) -> sympy.Expr:
    for function, body in CONCRETE.items():
        expr = expr.replace(lambda e, function=function: getattr(e, "func", None) == function,
                            lambda e, body=body: body(*e.args))
    return expr


def concrete_value(expr: sympy.Expr) -> sympy.Float:
    """`expr` at x = 3/10 with f, g and h made concrete (a derivative by an application first written at
    its point, the way sympy means it)."""
    written = made_concrete(at_points(expr))
    return sympy.N(written.doit().subs(x, sympy.Rational(3, 10)), 30)


@pytest.mark.parametrize("expr", [c[1] for c in SHARED], ids=[c[0] for c in SHARED])
def test_a_shared_application_is_differentiated_once(expr: sympy.Expr) -> None:
    expected = sympy.N(sympy.diff(made_concrete(expr), x).subs(x, sympy.Rational(3, 10)), 30)
    assert abs(concrete_value(sympy_diff(expr, x)) - expected) < 1e-20
    assert abs(concrete_value(sympy_doit(sympy.Derivative(expr, x))) - expected) < 1e-20
    # sympy's own value differs: the table is of real failures, not of cases that pass anyway
    assert abs(concrete_value(sympy.diff(expr, x)) - expected) > 1e-3


INSIDE = [
    # (case, expression with a pending derivative): doit leaves each derivative to sympy's chain rule
    ("inside a sine", sympy.sin(sympy.Derivative(g(f(x), f(x)), x))),
    ("inside an absolute value", sympy.Abs(sympy.Derivative(g(f(x), f(x)), x))),
    ("inside a substitution", sympy.Subs(sympy.Derivative(g(f(y), f(y)), y), y, x**2)),
    ("the point of a substitution", sympy.Subs(y**3 + y, y, sympy.Derivative(g(f(x), f(x)), x))),
]


@pytest.mark.parametrize("expr", [c[1] for c in INSIDE], ids=[c[0] for c in INSIDE])
def test_a_pending_derivative_anywhere_is_taken_with_the_guard(expr: sympy.Expr) -> None:
    expected = concrete_value(made_concrete(expr).doit())
    assert abs(concrete_value(sympy_doit(expr)) - expected) < 1e-20
    assert abs(concrete_value(expr.doit()) - expected) > 1e-3  # sympy's doit gets each of them wrong


def test_where_sympy_gets_it_right_its_form_is_kept():
    # a symbol point is guarded by sympy itself, with the dummy derive's guard uses too
    for expr in (g(x, x**2), g(f(x), sympy.exp(x)), g(f(x), y) * h(x, f(y))):
        assert sympy_diff(expr, x) == sympy.diff(expr, x)


def test_a_point_put_into_a_substitution_reaches_its_point():
    # sympy joins Subs(Subs(f'(t), t, y), y, 0) into one simultaneous substitution that leaves f'(y)
    t = sympy.Symbol("t")
    inner = sympy.Subs(sympy.Derivative(f(t), t), t, y)
    assert substitution(inner, [y], [0]) == sympy.Subs(sympy.Derivative(f(t), t), t, 0)
    assert sympy.Subs(inner, y, 0).doit() != sympy.Subs(sympy.Derivative(f(t), t), t, 0)  # sympy's own
    assert substitution(x**2 + y, [y], [3]) == sympy.Subs(x**2 + y, y, 3)


HIGHER = [
    # (case, expression, order): the guard's value differentiated again, order by order
    ("the same application twice, second order", g(f(x), f(x)), 2),
    ("the same application twice, third order", g(f(x), f(x)), 3),
    ("an application inside a quotient, second order", g(sympy.exp(x) / f(x), f(x)), 2),
    ("nested, second order", g(h(f(x), f(x)), f(x)), 2),
    ("one inside another's argument, second order", h(g(x, f(x)), f(x)), 2),
    ("an application times x, third order", g(f(x), x * f(x)), 3),
]


@pytest.mark.parametrize(("expr", "order"), [c[1:] for c in HIGHER], ids=[c[0] for c in HIGHER])
def test_a_shared_application_is_differentiated_right_at_every_order(expr: sympy.Expr, order: int) -> None:
    expected = sympy.N(sympy.diff(made_concrete(expr), (x, order)).subs(x, sympy.Rational(3, 10)), 30)
    value = expr
    for _ in range(order):
        value = sympy_diff(value, x)
        # no derivative by an application is left for the next order to take (sympy's is wrong there)
        assert all(v.is_Symbol for d in value.atoms(sympy.Derivative) for v in d.variables)
    assert abs(concrete_value(value) - expected) < 1e-20
    assert abs(concrete_value(sympy_doit(sympy.Derivative(expr, (x, order)))) - expected) < 1e-20


def test_sympy_used_outside_derive_keeps_its_own_power_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    module = sys.modules["derive.sympy_derivative"]
    own = module._SYMPY_POWER_DERIVATIVE
    calls: list[sympy.Expr] = []
    monkeypatch.setattr(module, "_SYMPY_POWER_DERIVATIVE", lambda self, s: calls.append(self) or own(self, s))
    power = (x**2 + 1) ** 3
    assert sympy.diff(power, x) == 6 * x * (x**2 + 1) ** 2
    assert calls == [power]  # sympy's formula, log(base) and all
    calls.clear()
    assert sympy_diff(power, x) == 6 * x * (x**2 + 1) ** 2
    assert calls == []  # derive's: the same value without the 0·log(base) term


def test_sympy_used_outside_derive_keeps_its_own_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    module = sys.modules["derive.sympy_derivative"]
    own = module._SYMPY_DIFF_METHOD
    calls: list[sympy.Expr] = []
    monkeypatch.setattr(module, "_SYMPY_DIFF_METHOD", lambda self, *a, **k: calls.append(self) or own(self, *a, **k))
    expr = sympy.sin(x**2) * f(x)
    assert expr.diff(x) == 2 * x * sympy.cos(x**2) * f(x) + sympy.sin(x**2) * sympy.Derivative(f(x), x)
    assert expr in calls  # sympy's own, zero test and all
    calls.clear()
    sympy_diff(expr, x)
    assert sympy.sin(x**2) not in calls and x**2 not in calls  # derive's: its parts without the zero test


def test_an_argument_whose_derivative_is_zero_by_assumptions_gives_a_zero_term() -> None:
    """sympy leaves the argument z·x out when its assumptions say z is zero; derive keeps the term, which
    is that zero times a partial: the same value."""
    z = sympy.Symbol("z", zero=True)
    expr = f(x, z * x + y)
    ours, sympy_s = sympy_diff(expr, x), sympy.diff(expr, x)
    assert ours != sympy_s  # the kept term
    assert sympy.simplify((ours - sympy_s).subs(z, 0).doit()) == 0


def test_sympy_used_outside_derive_keeps_its_own_chain_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    module = sys.modules["derive.sympy_derivative"]
    own = module._SYMPY_FUNCTION_DERIVATIVE
    calls: list[sympy.Expr] = []
    monkeypatch.setattr(module, "_SYMPY_FUNCTION_DERIVATIVE", lambda self, s: calls.append(self) or own(self, s))
    expr = f(sympy.exp(x) / (1 + x**2), g(x))
    expected = sympy.diff(expr, x)
    assert expr in calls  # sympy's, zero tests and all
    calls.clear()
    assert sympy_diff(expr, x) == expected
    assert expr not in calls  # derive's: the same sum, without asking whether each part is zero
