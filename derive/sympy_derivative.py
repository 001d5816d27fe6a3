"""sympy's own derivative, without the zero test that `Derivative(..., evaluate=True)` asks of its result.

`sympy.diff(e, x)` computes the derivative with `e`'s own differentiation method and then asks whether
the result is zero, only to return that same result early. On a fresh expression the question is the
expensive part: for the 40-factor product rule it is two thirds of the time (80 ms against 230 ms),
for tanh(f(x)) nine tenths. The derivative returned is the same object sympy computes; only the
question is skipped. Anything but a first derivative by a symbol goes to sympy unchanged.
`settled` says when doit has nothing left to evaluate (f'(g(x)) in an abstract chain rule), so that
a comparison can skip it.

Inside these functions (and only there: sympy used by anything else is untouched) the parts of an
expression are differentiated the same way, without the zero test (`_expr_diff`), and a power whose
exponent does not depend on the variable is differentiated with sympy's own formula for it,
b^e (e'·log(b) + b'·e/b), without building the term 0·log(b): evaluating log(1 + e^(-z)) for a
sigmoid asks sympy's assumptions enough to take two thirds of that derivative's time, and the term
is 0 (see `_power_derivative`); and an abstract function's chain rule keeps the term of each argument
that moves, without asking whether its derivative is zero (see `_function_derivative`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sympy
from sympy.core.function import AppliedUndef, ArgumentIndexError

from derive import subs_equality  # noqa: F401  (sympy's Subs compared by its points: see that module)

# sympy's dispatch to an expression's own differentiation method (used by Derivative.__new__ itself).
_DISPATCH = getattr(sympy.Derivative, "_dispatch_eval_derivative_n_times", None)


# --- sympy's own derivative methods, with less work inside derive's derivatives ------------------------

_inside = threading.local()  # how deep the current thread is in this module's derivatives
_SYMPY_POWER_DERIVATIVE = sympy.Pow._eval_derivative


@contextmanager
def _own_derivatives() -> Iterator[None]:
    depth = getattr(_inside, "depth", 0)
    _inside.depth = depth + 1
    try:
        yield
    finally:
        _inside.depth = depth


def _power_derivative(self: sympy.Pow, s: sympy.Symbol) -> sympy.Expr:
    """sympy's `Pow._eval_derivative`, self·(dexp·log(base) + dbase·exp/base). With an exponent free of s,
    dexp is 0 and sympy's sum is dbase·exp/base, the same object built here without log(base): the
    only other value sympy could give, NaN from 0·log(0), needs a base sympy knows to be zero or
    infinite, which a base holding s is not unless one of its symbols says so (then sympy's own)."""
    if (
        getattr(_inside, "depth", 0)
        and isinstance(s, sympy.Symbol)  # A[j] is not among the free symbols of an exponent A[i], yet moves it
        and s not in self.exp.free_symbols
        and not any(v.is_zero or v.is_infinite for v in self.base.free_symbols)
    ):
        return self * (self.base.diff(s) * self.exp / self.base)
    return _SYMPY_POWER_DERIVATIVE(self, s)


sympy.Pow._eval_derivative = _power_derivative  # type: ignore[method-assign]


_SYMPY_FUNCTION_DERIVATIVE = sympy.Function._eval_derivative


def _function_derivative(self: sympy.Function, s: sympy.Symbol) -> sympy.Expr:
    """sympy's `Function._eval_derivative`, the sum over arguments of ∂_i f · da_i, for an abstract function
    inside this module's derivatives: sympy leaves out an argument whose derivative its assumptions find
    zero; here one that is 0 as it stands (the argument is free of s). The sum has the same value: a term
    kept here is a partial times a zero. Asking assumptions whether e^z/s(z) - e^z s'(z)/s(z)^2 is zero
    was half the time of a softmax's chain rule in jets. Elsewhere sympy's."""
    if not (getattr(_inside, "depth", 0) and isinstance(self, AppliedUndef)):
        return _SYMPY_FUNCTION_DERIVATIVE(self, s)
    terms = []
    for i, a in enumerate(self.args, start=1):
        da = a.diff(s)
        if da == 0:
            continue
        try:
            df = self.fdiff(i)
        except ArgumentIndexError:
            df = sympy.Function.fdiff(self, i)
        terms.append(df * da)
    return sympy.Add(*terms)


sympy.Function._eval_derivative = _function_derivative  # type: ignore[method-assign]


_SYMPY_DIFF_METHOD = sympy.Expr.diff


def _expr_diff(self: sympy.Expr, *symbols: sympy.Basic, **assumptions: object) -> sympy.Basic:
    """`Expr.diff`, which sympy's own differentiation methods call on each part (the factors of a product,
    the arguments of a function): inside this module's derivatives a first derivative by a symbol is
    `_sympy_diff`'s, without the zero test on every part's derivative (for the chain rule of a function
    of two arguments that test was half the time); elsewhere sympy's."""
    if getattr(_inside, "depth", 0) and len(symbols) == 1 and not assumptions:
        (by,) = symbols
        if isinstance(by, tuple) and len(by) == 2 and isinstance(by[0], sympy.Symbol) and by[1] in (0, 1):
            if by[1] == 0:  # how a product asks for the factors it does not differentiate: sympy gives them back
                return self
            by = by[0]
        if isinstance(by, sympy.Symbol):
            return _sympy_diff(self, by)
    return _SYMPY_DIFF_METHOD(self, *symbols, **assumptions)


sympy.Expr.diff = _expr_diff  # type: ignore[method-assign]


def _own_diff(expr: sympy.Basic, var: sympy.Symbol) -> sympy.Basic:
    """sympy's own `diff`, zero test and all (where `_sympy_diff` leaves a derivative to sympy)."""
    if isinstance(expr, sympy.Expr) and type(expr).diff is _expr_diff:
        return _SYMPY_DIFF_METHOD(expr, var)
    return sympy.diff(expr, var)


# --- derivatives -------------------------------------------------------------------------------------


def sympy_diff(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    """`sympy.diff(expr, var)`, the same value (see the module's docstring), except where sympy's is
    wrong: an abstract function of several arguments, one of which is an application found in another,
    or a partial of one already taken (see `derive.jets`, which takes those)."""
    from derive import jets  # jets builds on this module's at_points

    with _own_derivatives():
        if jets.needs_jets(expr):
            return jets.jet_diff(expr, var)
        return _sympy_diff(expr, var)


def _sympy_diff(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    if (
        _DISPATCH is None
        or not isinstance(var, sympy.Symbol)
        or not isinstance(expr, sympy.Expr)
        or isinstance(expr, sympy.Derivative)  # sympy joins nested derivatives into one
        or not expr.is_commutative  # matrices and operators: left to sympy
        or not hasattr(expr, "_eval_derivative")
    ):
        return _own_diff(expr, var)
    if var not in expr.free_symbols:
        return _own_diff(expr, var)  # sympy's quick exit, zero of the right kind
    value = _DISPATCH(expr, var, 1)
    if value is None:
        return _own_diff(expr, var)
    if any(len(d.variable_count) > 1 for d in value.atoms(sympy.Derivative)):
        # as sympy leaves them: the variables of each derivative in canonical order
        value = value.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.canonical)
    return value


def substitution(expr: sympy.Basic, variables: Sequence[sympy.Basic], points: Sequence[sympy.Basic]) -> sympy.Basic:
    """`Subs(expr, variables, points)`, without sympy's joining of a Subs body into one substitution.

    sympy builds Subs(Subs(f'(ξ), ξ, y), y, 0) as the simultaneous Subs(f'(ξ), (ξ, y), (y, 0)), so the 0
    never reaches ξ and dE/dy(0) for E = L(y) reads L'(y). Into a Subs body the points are put by
    substitution instead (through dummies, the same every time, as the points may hold the variables).
    """
    if not isinstance(expr, sympy.Subs):
        return sympy.Subs(expr, tuple(variables), tuple(points))
    # Named so that no point is ever named like them: sympy's Subs compares by the names of its points,
    # so a dummy named z at the point of one Subs would make it equal to the same Subs at the symbol z.
    dummies = [sympy.Dummy(f"point {v}", dummy_index=hash((v, "point"))) for v in variables]
    value = expr.xreplace(dict(zip(variables, dummies, strict=True)))
    for dummy, point in zip(dummies, points, strict=True):
        value = value.subs(dummy, point)
    return value


def sympy_doit(expr: sympy.Basic) -> sympy.Basic:
    """`expr.doit()`, with each first derivative by a symbol taken by `sympy_diff`, wherever it stands
    (in a sum, a function, a substitution), so that it is not left to sympy's own chain rule, and with
    `derive.jets` where sympy's is wrong. Other higher derivatives are still sympy's own."""
    if not expr.has(sympy.Derivative):
        return expr.doit()
    from derive import jets  # jets builds on this module's at_points

    with _own_derivatives():
        if jets.needs_jets(expr):
            return jets.jet_doit(expr)
        return _doit(expr)


def _doit(expr: sympy.Basic) -> sympy.Basic:
    """`sympy_doit` below its check for jets: no part of an expression that needs none needs them."""
    if not expr.has(sympy.Derivative):
        return expr.doit()
    if isinstance(expr, sympy.Derivative) and _first_by_symbol(expr):
        value = sympy_diff(_doit(expr.expr), expr.variables[0])
        if value != expr and value.has(sympy.Derivative) and not settled(value):
            value = sympy_doit(value)  # Derivative.doit evaluates what the derivative brought in, once more
        return value
    if type(expr) in (sympy.Add, sympy.Mul):
        return expr.func(*(_doit(a) for a in expr.args), evaluate=True)  # what AssocOp.doit does
    if isinstance(expr, sympy.Subs):
        # the body first (its derivatives are by the bound variables, which are symbols), then the point
        return substitution(_doit(expr.expr), expr.variables, [_doit(p) for p in expr.point]).doit()
    if type(expr).doit is sympy.Basic.doit:
        return expr.func(*(_doit(a) for a in expr.args))  # what Basic.doit does: sin, |x|, f(...), x^n
    return expr.doit()


def _first_by_symbol(d: sympy.Derivative) -> bool:
    (variable, count), *rest = d.variable_count
    return not rest and count == 1 and isinstance(variable, sympy.Symbol)


# --- what doit leaves as it is ----------------------------------------------------------------------


def settled(expr: sympy.Basic) -> bool:
    """Is every derivative in `expr` one that sympy cannot evaluate further: of an abstract function by
    arguments that are symbols found in none of its other arguments, either as it stands, by arguments
    that are not symbols (f(g(x)) by g(x)), or at points that are not symbols (f'(g(x)))? Then doit
    gives `expr` back unchanged, up to the names of bound dummies."""
    for e in expr.atoms(sympy.Derivative, sympy.Subs):
        if isinstance(e, sympy.Subs):
            if not (
                _settled_derivative(e.expr)
                and set(e.variables) == set(e.expr.variables)
                and _apart(e.variables, e.point)
            ):
                return False
        else:
            symbols = [v.is_Symbol for v in e.variables]
            if any(symbols) and not all(symbols):
                return False  # by g(x) and by y at once: doit writes these otherwise
            if not _settled_derivative(by_stand_ins(e)[0]):
                return False
    return True


def by_stand_ins(
    e: sympy.Derivative, also: sympy.Symbol | None = None
) -> tuple[sympy.Derivative, dict[sympy.Basic, sympy.Dummy]]:
    """The derivative with each variable that is not a symbol (g(x)), and `also`, replaced by a dummy in
    the body too, and those replacements (the points of the Subs it stands for). The dummies are the same
    for the same point, so that equal meanings are equal expressions, and named unlike sympy's own xi_1
    (see `substitution`)."""
    replacements = {
        v: sympy.Dummy(f"ξ{i + 1}", real=True, dummy_index=hash(v))
        for i, v in enumerate(e.variables)
        if v == also or not v.is_Symbol
    }
    if not replacements:
        return e, replacements
    counts = [(replacements.get(v, v), n) for v, n in e.variable_count]
    return sympy.Derivative(e.expr.xreplace(replacements), *counts), replacements


def at_points(derivative: sympy.Derivative, also: sympy.Symbol | None = None) -> sympy.Expr:
    """A derivative by applications (f(g(x)) by g(x)), and by `also`, written as the derivative by
    dummies at those points: f'(u) at u = g(x), which is what sympy means by it."""
    body, points = by_stand_ins(derivative, also)
    return sympy.Subs(body, tuple(points.values()), tuple(points)) if points else derivative


def _settled_derivative(e: sympy.Basic) -> bool:
    """A derivative of f(..., v, ...) by variables v that are symbols, each one whole argument of f and
    in no other argument."""
    if not isinstance(e, sympy.Derivative) or not isinstance(e.expr, AppliedUndef):
        return False
    arguments = e.expr.args
    for v in e.variables:
        if not v.is_Symbol or arguments.count(v) != 1:
            return False
        if any(a != v and v in a.free_symbols for a in arguments):
            return False
    return True


def _apart(variables: tuple[sympy.Basic, ...], points: tuple[sympy.Basic, ...]) -> bool:
    """Points that doit leaves in place: not symbols (those make a derivative by a symbol), distinct,
    and free of derivatives and of the bound variables. (A point found in another argument, f'(s) in
    f(e^z/s, s), stays too: the table in tests/test_verify.py holds sympy to that.)"""
    return len(set(points)) == len(points) and all(
        not p.is_Symbol and not p.has(sympy.Derivative, sympy.Subs, *variables) for p in points
    )
