"""Shared oracle helpers for tests: exact values of expressions at points, independent of derive."""

from __future__ import annotations

import sympy


def value_at(expr: sympy.Expr, point: dict[sympy.Symbol, sympy.Rational]) -> sympy.Expr:
    """expr at point to 40 digits, each distinct subtree evaluated once (derivative trees share a lot)."""
    memo: dict[sympy.Basic, sympy.Expr] = {}

    def walk(e: sympy.Basic) -> sympy.Expr:
        if e not in memo:
            if e.is_Symbol:
                memo[e] = sympy.Float(point[e], 40)
            else:
                memo[e] = (e.func(*(walk(arg) for arg in e.args)) if e.args else e).evalf(40)
        return memo[e]

    return walk(expr)


def at_points(expr: sympy.Expr) -> sympy.Expr:
    """Each derivative by an application (f(g(x)) by g(x)) written as sympy means it: by a dummy put in
    the application's place, at the application. Then making the abstract functions concrete keeps
    the meaning (a derivative by cos(x) means nothing)."""
    def written(d: sympy.Derivative) -> sympy.Expr:
        points = {v: sympy.Dummy() for v in d.variables if not v.is_Symbol}
        if not points:
            return d
        body = sympy.Derivative(d.expr.xreplace(points), *((points.get(v, v), n) for v, n in d.variable_count))
        return sympy.Subs(body, tuple(points.values()), tuple(points))

    return expr.replace(lambda e: isinstance(e, sympy.Derivative), written)
