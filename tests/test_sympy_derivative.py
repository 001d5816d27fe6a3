"""sympy's derivative without its zero test: the same expression as sympy.diff and doit, case by case."""

from __future__ import annotations

import pytest
import sympy

from derive.sympy_derivative import sympy_diff, sympy_doit

x, y = sympy.symbols("x y", real=True)
f, g = sympy.Function("f", real=True), sympy.Function("g", real=True)
A, B = sympy.symbols("A B", commutative=False)
M = sympy.MatrixSymbol("M", 2, 2)
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
]


@pytest.mark.parametrize("expr", [c[1] for c in EVALUATED], ids=[c[0] for c in EVALUATED])
def test_sympy_doit_is_doit(expr: sympy.Expr) -> None:
    assert sympy_doit(expr) == expr.doit()


def test_sympy_s_own_differentiation_is_the_one_called():
    # Without sympy's dispatch every derivative would fall back to sympy.diff: right, but slower.
    from derive import sympy_derivative

    assert sympy_derivative._DISPATCH is not None
