"""Derivatives of abstract functions of several arguments, with each partial derivative a function of its own.

sympy writes the partial ∂_1 g of g(u, v) at (f(x), f(x)) as Subs(d/dξ g(ξ, f(x)), ξ, f(x)), and its own
evaluation of such forms (Subs.doit, the derivative of a Subs) turns them into derivatives by an
application, g(f(x), ξ) by f(x). The next derivative of those treats f(x) as a variable apart from x and
loses terms: d²/dx² g(f(x), f(x)) came out wrong. Here every abstract function g and each of its
partials is a function whose derivative in its k-th argument is the next partial (`_partial`), so sympy's
chain rule, which is right for such functions at every order, does all the work with no Subs in between;
the result is written back in sympy's notation for partials (`_written`).
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction

from derive.sympy_derivative import at_points


@lru_cache(maxsize=4096)  # asked of every derivative sympy_diff takes; an expression's hash is kept on it
def needs_jets(expr: sympy.Basic) -> bool:
    """Is `expr` what sympy's own chain rule gets wrong: a function of several arguments with an argument
    that is an application found in another argument (g(f(x), f(x))), or a partial of one already taken
    at a point (a Subs) or by an application, which sympy would differentiate again through Subs.doit?
    A derivative by symbols (d/dy g(x, y)) it takes right, and keeps as it is; so are functions that
    are already jets (`in_jets`), whose partials are applications."""
    several = [a for a in expr.atoms(AppliedUndef) if len(a.args) > 1 and not is_jet(a)]
    if not several:
        return False
    for application in several:
        args = application.args
        for i, a in enumerate(args):
            if not a.is_Symbol and a._diff_wrt and any(j != i and b.has(a) for j, b in enumerate(args)):
                return True
    return any(
        any(len(a.args) > 1 and not is_jet(a) for a in e.expr.atoms(AppliedUndef))
        for e in expr.atoms(sympy.Derivative, sympy.Subs)
        if isinstance(e, sympy.Subs) or not all(v.is_Symbol for v in e.variables)
    )


def jet_diff(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    """d/dvar of `expr`, right for abstract functions of several arguments at every order."""
    return _written(sympy.diff(_as_jets(expr), var))


def jet_doit(expr: sympy.Expr) -> sympy.Expr:
    """`expr` with every derivative in it taken (its Subs put in), right for functions of several arguments."""
    return _written(_as_jets(expr))


@lru_cache(maxsize=1024)
def _partial(function: UndefinedFunction, slots: tuple[int, ...]) -> UndefinedFunction:
    """The partial of `function` in the arguments `slots` (sorted, 1-based), as a function of its own."""

    def fdiff(self: sympy.Function, argindex: int = 1) -> sympy.Expr:
        return _partial(function, tuple(sorted((*slots, argindex))))(*self.args)

    # A space cannot occur in a user's name, so these functions are never theirs.
    name = f"{function.__name__} partial {','.join(map(str, slots))}"
    return UndefinedFunction(name, __dict__={"fdiff": fdiff, "jet": (function, slots)}, **function._kwargs)


def is_jet(application: sympy.Basic) -> bool:
    """An application of a function made by `_partial` (g itself or one of its partials)."""
    return hasattr(type(application), "jet")


def in_jets(expr: sympy.Basic, functions: frozenset[UndefinedFunction]) -> sympy.Basic:
    """`expr` with each application of these abstract functions made a jet: its derivatives are then
    applications of its partials, never a derivative or a substitution at a point. For an identity whose
    every abstract function is a stand-in derive made (a model's cut and general functions), which no
    derivative in the claim names: sympy builds, hashes and substitutes into Subs at many times the
    cost of an application (a 10-path chain rule's model took 115 ms in Subs, 36 ms in jets)."""
    if not functions:
        return expr
    return expr.replace(
        lambda e: isinstance(e, AppliedUndef) and type(e) in functions, lambda e: _partial(type(e), ())(*e.args)
    )


def _as_jets(expr: sympy.Basic) -> sympy.Basic:
    """`expr` with each abstract function an instance of `_partial` and every derivative and substitution
    of one evaluated (so none is left to sympy's Subs)."""
    memo: dict[sympy.Basic, sympy.Basic] = {}

    def walk(e: sympy.Basic) -> sympy.Basic:
        if not e.args:
            return e
        if e in memo:
            return memo[e]
        if isinstance(e, AppliedUndef):
            value = _partial(type(e), ())(*(walk(a) for a in e.args))
        elif isinstance(e, sympy.Derivative):
            if not all(v.is_Symbol for v in e.variables):
                value = walk(at_points(e))  # g(f(x)) by f(x): by a dummy at f(x), as sympy means it
            else:
                value = sympy.diff(walk(e.expr), *e.variable_count)
        elif isinstance(e, sympy.Subs):
            body, points = walk(e.expr), [walk(p) for p in e.point]
            if body.has(sympy.Derivative):  # a derivative sympy cannot take: the substitution stays
                value = sympy.Subs(body, e.variables, points)
            else:
                value = body.xreplace(dict(zip(e.variables, points, strict=True)))
        else:
            args = tuple(walk(a) for a in e.args)
            value = e.func(*args) if args != e.args else e
        memo[e] = value
        return value

    return walk(expr)


def partial_at(applied: AppliedUndef, slots: tuple[int, ...]) -> sympy.Expr:
    """∂_slots g at the arguments of `applied` = g(u1, ..., un): what the notation ∂_1∂_2 g(u, v) means."""
    return _written(_partial(type(applied), tuple(sorted(slots)))(*applied.args))


def _written(expr: sympy.Basic) -> sympy.Basic:
    """Back from `_as_jets`: g itself, and each partial as a derivative by dummies at its points, one dummy
    for each argument even where two arguments are the same. Never by an argument as it stands, even a
    symbol: read by a defined name u, Derivative(g(u, v), u) would be Leibniz's dg/du, which moves
    v = h(u) as well."""

    def back(e: sympy.Basic) -> sympy.Basic:
        function, slots = type(e).jet
        args = e.args
        if not slots:
            return function(*args)
        if len(args) == 1 and args[0].is_Symbol:  # f'(x), as sympy writes it: one argument, nothing to mix up
            return sympy.Derivative(function(*args), (args[0], len(slots)))
        counts = {k: slots.count(k) for k in sorted(set(slots))}
        points = {k: sympy.Dummy(f"xi_{k}", dummy_index=hash((k, args[k - 1]))) for k in counts}
        body = function(*(points.get(i, a) for i, a in enumerate(args, start=1)))
        derivative = sympy.Derivative(body, *((points[k], n) for k, n in counts.items()))
        return sympy.Subs(derivative, tuple(points.values()), tuple(args[k - 1] for k in counts))

    return expr.replace(lambda e: hasattr(type(e), "jet"), back)
