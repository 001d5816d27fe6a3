"""sympy's Subs made equal only to a substitution of the same body at the same points.

sympy compares two `Subs` by their bodies with each bound variable renamed after the printed form of
its point. Two variables at one point therefore become one symbol, so ∂_1∂_1∂_2 g(x, x) and
∂_1∂_2∂_2 g(x, x) compared equal; so did f'(2E) and f'(2e), whose points print alike, and sympy's
cache handed one for the other. Here the bound variables are numbered by where they first occur in the
body, and the points are compared as they are. Imported by `derive.symbols`, which
every part of derive that builds expressions imports first.
"""

from __future__ import annotations

import sympy

# One dummy per position, made once: the same object in every comparison, equal to no user symbol.
_BOUND: list[sympy.Dummy] = []


def _bound(i: int) -> sympy.Dummy:
    while len(_BOUND) <= i:
        _BOUND.append(sympy.Dummy(f"bound {len(_BOUND)}"))
    return _BOUND[i]


def _hashable_content(self: sympy.Subs) -> tuple[sympy.Basic, ...]:
    """The body with each bound variable numbered by where it first occurs, and the points in that order
    (so the order in which the variables are listed does not matter), then the points of variables the
    body does not hold (they change nothing)."""
    cached = self.__dict__.get("_derive_content")
    if cached is not None:
        return cached
    variables = set(self.variables)
    order: list[sympy.Basic] = []
    for node in sympy.preorder_traversal(self.expr):
        if node in variables and node not in order:
            order.append(node)
    at = dict(zip(self.variables, self.point, strict=True))
    unused = sorted((p for v, p in at.items() if v not in order), key=sympy.default_sort_key)
    names = {v: _bound(i) for i, v in enumerate(order)}
    content = (self.expr.xreplace(names), sympy.Tuple(*(at[v] for v in order)), sympy.Tuple(*unused))
    self.__dict__["_derive_content"] = content  # a Subs never changes
    return content


sympy.Subs._hashable_content = _hashable_content  # type: ignore[method-assign]
