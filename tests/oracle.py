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
