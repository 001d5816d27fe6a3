"""derive's count of operations against sympy's own count_ops(visual=True), kind by kind."""

from __future__ import annotations

import pytest
import sympy

from derive.functions import sigmoid
from derive.operations import operations

x, y, z = sympy.symbols("x y z", real=True)
f, g = sympy.Function("f"), sympy.Function("g")
A, B = sympy.MatrixSymbol("A", 2, 2), sympy.MatrixSymbol("B", 2, 2)

EXPRESSIONS = [
    # (case, expression): the counts must be sympy's, kind by kind
    ("a softmax's result", -y + (x / (sympy.exp(z) + 1) + y / (sympy.exp(z) + 1)) * sympy.exp(z)),
    ("a product rule's result", 2 * x * (1 - sympy.tanh(x**2 + 3) ** 2) * sympy.sin(x**2 + 1)
     - 2 * x * sympy.sin(x**2 + 2) * sigmoid(x**2 + 4)),
    ("a negated sum, unevaluated", sympy.Mul(-1, x - y, evaluate=False) * y * (1 - y)),
    ("fractions and negative powers", -x / (2 * y) - 3 / x + sympy.exp(-x) + sympy.E * f(x) - g(x, y) ** -2),
    ("every term negative", -x - y - sympy.sin(z)),
    ("a negative first term", -x + y),
    ("a number alone", sympy.Rational(-1, 3)),
    ("roots", x ** sympy.Rational(1, 3) * sympy.sqrt(y) / sympy.sin(x) ** 2),
    ("a maximum and a derivative", sympy.Max(x, y, z) + sympy.Derivative(f(x), x)),
    ("e alone and e to a power", sympy.E + sympy.exp(x * y) ** 2),
    ("an integer over a sum", 2 / (x + y)),
    ("a negative integer over a product", -3 / (x * y)),
    ("a symbol", x),
    ("matrices", A * B + A),
]


@pytest.mark.parametrize("expr", [c[1] for c in EXPRESSIONS], ids=[c[0] for c in EXPRESSIONS])
def test_the_counts_are_sympy_s(expr: sympy.Expr) -> None:
    visual = sympy.count_ops(expr, visual=True)
    expected = {s.name: int(c) for s, c in visual.as_coefficients_dict().items() if isinstance(s, sympy.Symbol)}
    assert {k: v for k, v in operations(expr).items() if v} == {k: v for k, v in expected.items() if v}
