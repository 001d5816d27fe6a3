"""sympy's own derivative, without the zero test that `Derivative(..., evaluate=True)` asks of its result.

`sympy.diff(e, x)` computes the derivative with `e`'s own differentiation method and then asks whether
the result is zero, only to return that same result early. On a fresh expression the question is the
expensive part: for the 40-factor product rule it is two thirds of the time (80 ms against 230 ms),
for tanh(f(x)) nine tenths. The derivative returned is the same object sympy computes; only the
question is skipped. Anything but a first derivative by a symbol goes to sympy unchanged.
"""

from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef

# sympy's dispatch to an expression's own differentiation method (used by Derivative.__new__ itself).
_DISPATCH = getattr(sympy.Derivative, "_dispatch_eval_derivative_n_times", None)


def sympy_diff(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    """`sympy.diff(expr, var)`, the same value (see the module's docstring)."""
    if (
        _DISPATCH is None
        or not isinstance(var, sympy.Symbol)
        or not isinstance(expr, sympy.Expr)
        or isinstance(expr, sympy.Derivative)  # sympy joins nested derivatives into one
        or not expr.is_commutative  # matrices and operators: left to sympy
        or not hasattr(expr, "_eval_derivative")
    ):
        return sympy.diff(expr, var)
    if var not in expr.free_symbols:
        return sympy.diff(expr, var)  # sympy's quick exit, zero of the right kind
    value = _DISPATCH(expr, var, 1)
    if value is None:
        return sympy.diff(expr, var)
    if any(len(d.variable_count) > 1 for d in value.atoms(sympy.Derivative)):
        # as sympy leaves them: the variables of each derivative in canonical order
        value = value.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.canonical)
    return value


def sympy_doit(expr: sympy.Basic) -> sympy.Basic:
    """`expr.doit()`, with each first derivative by a symbol taken by `sympy_diff`."""
    if not expr.has(sympy.Derivative):
        return expr.doit()
    if isinstance(expr, sympy.Derivative) and _first_by_symbol(expr):
        return sympy_diff(sympy_doit(expr.expr), expr.variables[0])
    if type(expr) in (sympy.Add, sympy.Mul):
        return expr.func(*(sympy_doit(a) for a in expr.args), evaluate=True)  # what AssocOp.doit does
    if type(expr) is sympy.Pow or isinstance(expr, AppliedUndef):
        return expr.func(*(sympy_doit(a) for a in expr.args))  # what Basic.doit does
    return expr.doit()


def _first_by_symbol(d: sympy.Derivative) -> bool:
    (variable, count), *rest = d.variable_count
    return not rest and count == 1 and isinstance(variable, sympy.Symbol)
