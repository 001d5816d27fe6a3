"""Certified numeric evaluation of sympy trees at exact rational points, by interval arithmetic.

The evaluator walks the sympy tree itself (no `lambdify`: symbol names are chosen by users) and
returns an `mpmath` interval that contains the true real value. Points where an expression is not
real, undefined (division by zero, log 0) or where the interval is too wide to decide a branch raise
`OutsideDomain` with a reason instead of producing a value, so that no caller can mistake a
missing value for a difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import mpmath
import sympy
from mpmath.ctx_iv import MPIntervalContext
from mpmath.libmp import finf, fnan, fninf, mpf_add, mpf_shift
from sympy.core.function import AppliedUndef
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from derive.functions import NAMED_FUNCTIONS, to_elementary

# Arguments of exp beyond this make numbers with absurdly many digits; such points are skipped.
_MAX_EXP_ARG = 10**5
MAX_EXTRA_DIGITS = 2000  # beyond this a probe cannot show a difference, and numbers confirm nothing
_MAX_INT_POWER = 10**12  # binary powering: cheap even for huge exponents (mpf exponents are unbounded)


class OutsideDomain(Exception):  # a signal inside the evaluator, not an error for users
    """The expression has no real finite value at this point (or it cannot be decided)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason  # "undefined", "not real" or "uncertain"
        super().__init__(reason)


class Unsupported(Exception):
    """The tree contains a node that cannot be evaluated numerically (an abstract function)."""


def undefined() -> OutsideDomain:
    return OutsideDomain("undefined")


def not_real() -> OutsideDomain:
    return OutsideDomain("not real")


def uncertain() -> OutsideDomain:
    return OutsideDomain("uncertain")


@dataclass
class Evaluation:
    """The state of one evaluation: the interval context and whether every node was certified."""

    iv: MPIntervalContext
    env: dict[sympy.Symbol, object]
    certified: bool = True


Interval = object  # an mpmath interval (ivmpf); mpmath ships no type stubs
Node = Callable[[Evaluation], Interval]


def lo(x: Interval) -> mpmath.mpf:
    """The exact lower end of an interval."""
    return mpmath.mp.make_mpf(x._mpi_[0])


def hi(x: Interval) -> mpmath.mpf:
    """The exact upper end of an interval."""
    return mpmath.mp.make_mpf(x._mpi_[1])


def mid(x: Interval) -> mpmath.mpf:
    """The midpoint of an interval, exactly (one more bit than its ends)."""
    a, b = x._mpi_
    return mpmath.mp.make_mpf(mpf_shift(mpf_add(a, b), -1))


def _point(s: Evaluation, value: mpmath.mpf) -> Interval:
    return s.iv.make_mpf((value._mpf_, value._mpf_))


@cache
def interval_context(dps: int) -> MPIntervalContext:
    """A private interval context per precision, so that no global mpmath setting is touched."""
    ctx = MPIntervalContext()
    ctx.dps = dps
    return ctx


def evaluate(expr: sympy.Expr, point: dict[sympy.Symbol, sympy.Rational], dps: int) -> tuple[Interval, bool]:
    """The interval value of `expr` at `point` and whether it is certified (no fallback was used)."""
    ctx = interval_context(dps)
    env = {s: _rational(ctx, v) for s, v in point.items()}
    state = Evaluation(ctx, env)
    value = compile_expr(expr)(state)
    _require_finite(value)
    return value, state.certified


def digits_needed(expr: sympy.Expr) -> int:
    """Decimal digits of the longest exact constant in `expr`: tiny terms like 10**-40*x must show. Not
    capped: a caller that works with fewer (MAX_EXTRA_DIGITS) cannot confirm by numbers."""
    most = 0
    for atom in expr.atoms(sympy.Rational, sympy.Float):
        if isinstance(atom, sympy.Float):
            if atom:
                _, _, exponent, bits = atom._mpf_
                # both its magnitude (1e-60) and its precision (1.000...01 to 80 digits) must show
                most = max(most, int(abs(exponent + bits) * 0.30103) + 1, int(atom._prec * 0.30103) + 1)
        else:
            most = max(most, len(str(abs(atom.p))), len(str(atom.q)))
    # A function of a large constant can differ from its limit by e^-|a| or less: 1 - tanh(100) is
    # 2.8e-87, softplus(-200) 1.4e-87. Twice |a| / ln(10) digits show such a difference.
    # and a power of a constant, (sqrt(2) - 1)^200 or pi^-100, as small as its digits say
    # (also with a variable beside the constant in the exponent: 3^(x - 2000) is 3^-2000 of 3^x)
    for p in expr.atoms(sympy.Pow):
        if not p.is_Rational and p.base.is_number:
            exponent = p.exp if p.exp.is_number else p.exp.as_coeff_Add()[0]
            try:
                size = abs(float(exponent) * math.log10(abs(float(p.base.evalf(15)))))
            except (TypeError, ValueError, OverflowError, ZeroDivisionError):
                continue
            most = max(most, int(min(size, 10**6)) + 1)
    # and so can one of a variable and a large constant: e^(x - 500) beside e^x is e^-500 of it
    for f in expr.atoms(sympy.Function):
        constants = [a if a.is_number else a.as_coeff_Add()[0] for a in f.args if isinstance(a, sympy.Expr)]
        try:
            size = max((abs(float(c.evalf(15))) for c in constants if c.is_number and c != 0), default=0.0)
        except (TypeError, ValueError, OverflowError):
            continue
        if size > 20:
            most = max(most, int(2 * min(size, 10**6) / 2.302585) + 1)
    return most


@lru_cache(maxsize=4096)
def compile_expr(expr: sympy.Basic) -> Node:
    """Turn a sympy tree into nested closures once, so that repeated points cost only arithmetic."""
    for kind, build in _BUILDERS:
        if isinstance(expr, kind):
            return build(expr)
    if type(expr) in NAMED_FUNCTIONS.values():
        return compile_expr(to_elementary(expr))
    if isinstance(expr, AppliedUndef | sympy.Derivative | sympy.Subs | sympy.Integral):
        raise Unsupported(str(expr))
    return _fallback(expr)


# --- atoms ---------------------------------------------------------------------------------------


def _rational(ctx: MPIntervalContext, value: sympy.Rational) -> Interval:
    value = sympy.Rational(value)
    if value.q == 1:
        return ctx.mpf(int(value.p))
    return ctx.mpf(int(value.p)) / int(value.q)


def _number(expr: sympy.Rational) -> Node:
    p, q = int(expr.p), int(expr.q)
    return lambda s: s.iv.mpf(p) if q == 1 else s.iv.mpf(p) / q


def _float(expr: sympy.Float) -> Node:
    mpf = expr._mpf_  # a binary float is exact as it stands
    return lambda s: s.iv.make_mpf((mpf, mpf))


def _symbol(expr: sympy.Symbol) -> Node:
    def node(s: Evaluation) -> Interval:
        try:
            return s.env[expr]
        except KeyError:
            raise Unsupported(f"no value for {expr}") from None

    return node


def _constant(expr: sympy.Expr) -> Node:
    if expr is sympy.pi:
        return lambda s: s.iv.pi
    if expr is sympy.E:
        return lambda s: s.iv.e
    if expr in (sympy.zoo, sympy.oo, sympy.S.NegativeInfinity, sympy.nan):
        return _raise(undefined)
    if expr is sympy.I:
        return _raise(not_real)
    return _fallback(expr)


def _raise(make: Callable[[], OutsideDomain]) -> Node:
    def node(s: Evaluation) -> Interval:
        raise make()

    return node


# --- arithmetic ----------------------------------------------------------------------------------


def _add(expr: sympy.Add) -> Node:
    parts = [compile_expr(a) for a in expr.args]

    def node(s: Evaluation) -> Interval:
        total = parts[0](s)
        for part in parts[1:]:
            total = total + part(s)
        return total

    return node


def _mul(expr: sympy.Mul) -> Node:
    parts = [compile_expr(a) for a in expr.args]

    def node(s: Evaluation) -> Interval:
        total = parts[0](s)
        for part in parts[1:]:
            total = total * part(s)
        return total

    return node


def _is_zero(x: Interval) -> bool:
    return not lo(x) and not hi(x)


def _sign_of(x: Interval) -> int | None:
    """1, -1 or 0 when the whole interval has that sign (0: exactly zero); None when it straddles 0."""
    if lo(x) > 0:
        return 1
    if hi(x) < 0:
        return -1
    if _is_zero(x):
        return 0
    return None


def _integer_value(x: Interval) -> int | None:
    a = lo(x)
    if a == hi(x) and a == int(a):
        return int(a)
    return None


def _int_power(base: Interval, n: int) -> Interval:
    if abs(n) > _MAX_INT_POWER:
        raise uncertain()
    if n >= 0:
        return base**n
    sign = _sign_of(base)
    if sign == 0:
        raise undefined()
    if sign is None:
        raise uncertain()
    return 1 / base**-n


def _pow(expr: sympy.Pow) -> Node:
    base_node = compile_expr(expr.base)
    exponent = expr.exp
    if exponent.is_Integer:
        n = int(exponent)
        return lambda s: _int_power(base_node(s), n)
    if exponent.is_Rational:
        p, q = int(exponent.p), int(exponent.q)
        return lambda s: _rational_power(s, base_node(s), p, q)
    exp_node = compile_expr(exponent)
    return lambda s: _general_power(s, base_node(s), exp_node(s))


def _rational_power(s: Evaluation, base: Interval, p: int, q: int) -> Interval:
    sign = _sign_of(base)
    if sign == 0:
        if p < 0:
            raise undefined()
        return s.iv.mpf(0)
    if sign is None:
        raise uncertain()
    if sign < 0:
        raise not_real()  # sympy's principal root of a negative number is not real
    root = s.iv.sqrt(base) if q == 2 else s.iv.exp(s.iv.log(base) / q)
    return _int_power(root, p)


def _general_power(s: Evaluation, base: Interval, exponent: Interval) -> Interval:
    n = _integer_value(exponent)
    if n is not None:
        return _int_power(base, n)
    sign = _sign_of(base)
    if sign is None:
        raise uncertain()
    if sign == 0:
        exp_sign = _sign_of(exponent)
        if exp_sign == 1:
            return s.iv.mpf(0)
        raise undefined() if exp_sign in (-1, 0) else uncertain()
    if sign < 0:
        # sympy's principal power of a negative number is real only at an integer exponent
        no_integer = lo(exponent) == hi(exponent) or mpmath.ceil(lo(exponent)) > hi(exponent)
        raise not_real() if no_integer else uncertain()
    return _exp(s, s.iv.log(base) * exponent)


# --- elementary functions ------------------------------------------------------------------------


def _exp(s: Evaluation, x: Interval) -> Interval:
    if hi(x) > _MAX_EXP_ARG:
        raise uncertain()
    return s.iv.exp(x)


def _log(s: Evaluation, x: Interval) -> Interval:
    sign = _sign_of(x)
    if sign == 0:
        raise undefined()
    if sign is None:
        raise uncertain()
    if sign < 0:
        raise not_real()
    return s.iv.log(x)


def _unit_interval(x: Interval) -> None:
    """asin, acos: real only on [-1, 1]."""
    if lo(x) > 1 or hi(x) < -1:
        raise not_real()
    if lo(x) < -1 or hi(x) > 1:
        raise uncertain()


def _asin(s: Evaluation, x: Interval) -> Interval:
    _unit_interval(x)
    return s.iv.atan2(x, s.iv.sqrt(_clip_nonnegative(s, 1 - x * x)))


def _acos(s: Evaluation, x: Interval) -> Interval:
    _unit_interval(x)
    return s.iv.atan2(s.iv.sqrt(_clip_nonnegative(s, 1 - x * x)), x)


def _clip_nonnegative(s: Evaluation, x: Interval) -> Interval:
    """1 - x^2 for x in [-1, 1] is >= 0; rounding may push the lower end a hair below zero."""
    if lo(x) < 0:
        return s.iv.mpf([0, max(hi(x), 0)])
    return x


def _atan(s: Evaluation, x: Interval) -> Interval:
    return s.iv.atan2(x, s.iv.mpf(1))


def _monotone(f: Callable[[Evaluation, Interval], Interval]) -> Callable[[Evaluation, Interval], Interval]:
    """An increasing function on an interval: evaluate at both ends (avoids dependency widening)."""

    def g(s: Evaluation, x: Interval) -> Interval:
        if lo(x) == hi(x):
            return f(s, x)
        low, high = f(s, _point(s, lo(x))), f(s, _point(s, hi(x)))
        return s.iv.make_mpf((low._mpi_[0], high._mpi_[1]))

    return g


def _odd(f: Callable[[Evaluation, Interval], Interval]) -> Callable[[Evaluation, Interval], Interval]:
    """Evaluate an odd function on the non-negative side, where its exp/log formula is accurate."""

    def g(s: Evaluation, x: Interval) -> Interval:
        return -f(s, -x) if hi(x) < 0 else f(s, x)

    return g


def _sinh(s: Evaluation, x: Interval) -> Interval:
    if lo(x) >= 0 and hi(x) < 1:
        e = s.iv.expm1(x)
        return e * (e + 2) / (2 * (e + 1))
    e = _exp(s, x)
    return (e - 1 / e) / 2


def _cosh(s: Evaluation, x: Interval) -> Interval:
    e = _exp(s, abs(x))
    return (e + 1 / e) / 2


def _tanh(s: Evaluation, x: Interval) -> Interval:
    if -lo(x) > _MAX_EXP_ARG:
        raise uncertain()
    e = s.iv.expm1(-2 * x)
    return -e / (e + 2)


def _asinh(s: Evaluation, x: Interval) -> Interval:
    return s.iv.log(x + s.iv.sqrt(x * x + 1))


def _acosh(s: Evaluation, x: Interval) -> Interval:
    if hi(x) < 1:
        raise not_real()
    if lo(x) < 1:
        raise uncertain()
    return s.iv.log(x + s.iv.sqrt(x * x - 1))


def _atanh(s: Evaluation, x: Interval) -> Interval:
    if lo(x) > 1 or hi(x) < -1:
        raise not_real()
    if lo(x) == hi(x) and abs(lo(x)) == 1:
        raise undefined()
    if lo(x) <= -1 or hi(x) >= 1:
        raise uncertain()
    return s.iv.log((1 + x) / (1 - x)) / 2


def _reciprocal(f: Callable[[Evaluation, Interval], Interval]) -> Callable[[Evaluation, Interval], Interval]:
    def g(s: Evaluation, x: Interval) -> Interval:
        return _int_power(f(s, x), -1)

    return g


def _periodic(name: str) -> Callable[[Evaluation, Interval], Interval]:
    def g(s: Evaluation, x: Interval) -> Interval:
        value = getattr(s.iv, name)(x)
        _require_finite(value)
        return value

    return g


_UNARY: dict[type, Callable[[Evaluation, Interval], Interval]] = {
    sympy.exp: _exp,
    sympy.log: _log,
    sympy.sin: lambda s, x: s.iv.sin(x),
    sympy.cos: lambda s, x: s.iv.cos(x),
    sympy.tan: lambda s, x: s.iv.sin(x) * _int_power(s.iv.cos(x), -1),  # a pole is a division by 0
    sympy.cot: lambda s, x: s.iv.cos(x) * _int_power(s.iv.sin(x), -1),
    sympy.sec: _reciprocal(lambda s, x: s.iv.cos(x)),
    sympy.csc: _reciprocal(lambda s, x: s.iv.sin(x)),
    sympy.atan: _monotone(_atan),
    sympy.asin: _asin,
    sympy.acos: _acos,
    sympy.sinh: _monotone(_odd(_sinh)),
    sympy.cosh: _cosh,
    sympy.tanh: _monotone(_odd(_tanh)),
    sympy.coth: _reciprocal(_odd(_tanh)),
    sympy.sech: _reciprocal(_cosh),
    sympy.csch: _reciprocal(_odd(_sinh)),
    sympy.asinh: _monotone(_odd(_asinh)),
    sympy.acosh: _monotone(_acosh),
    sympy.atanh: _atanh,
    sympy.Abs: lambda s, x: abs(x),
}


def _unary(expr: sympy.Function) -> Node:
    f = _UNARY[type(expr)]
    arg = compile_expr(expr.args[0])
    return lambda s: f(s, arg(s))


def _sign(expr: sympy.sign) -> Node:
    arg = compile_expr(expr.args[0])

    def node(s: Evaluation) -> Interval:
        sign = _sign_of(arg(s))
        if sign is None:
            raise uncertain()
        return s.iv.mpf(sign)

    return node


def _heaviside(expr: sympy.Heaviside) -> Node:
    arg = compile_expr(expr.args[0])
    at_zero = compile_expr(expr.args[1]) if len(expr.args) > 1 else None

    def node(s: Evaluation) -> Interval:
        sign = _sign_of(arg(s))
        if sign is None:
            raise uncertain()
        if sign == 0:
            if at_zero is None:
                raise undefined()
            return at_zero(s)
        return s.iv.mpf(1 if sign > 0 else 0)

    return node


def _extremum(expr: sympy.Max | sympy.Min) -> Node:
    parts = [compile_expr(a) for a in expr.args]
    pick = max if isinstance(expr, sympy.Max) else min

    def node(s: Evaluation) -> Interval:
        values = [part(s) for part in parts]
        return s.iv.mpf([pick(lo(v) for v in values), pick(hi(v) for v in values)])

    return node


def _piecewise(expr: sympy.Piecewise) -> Node:
    branches = [(compile_expr(e), _condition(c)) for e, c in expr.args]

    def node(s: Evaluation) -> Interval:
        for value, holds in branches:
            if holds(s):
                return value(s)
        raise undefined()

    return node


Condition = Callable[[Evaluation], bool]


def _condition(cond: Boolean) -> Condition:
    """A decided truth value at the point; an interval that straddles the boundary raises uncertain."""
    if isinstance(cond, BooleanTrue):
        return lambda s: True
    if isinstance(cond, BooleanFalse):
        return lambda s: False
    if isinstance(cond, sympy.And | sympy.Or):
        parts = [_condition(c) for c in cond.args]
        combine = all if isinstance(cond, sympy.And) else any
        return lambda s: combine(p(s) for p in parts)
    if isinstance(cond, sympy.Not):
        inner = _condition(cond.args[0])
        return lambda s: not inner(s)
    if isinstance(cond, sympy.core.relational.Relational):
        difference = compile_expr(cond.lhs - cond.rhs)
        test = _RELATIONS.get(type(cond))
        if test is None:
            raise Unsupported(str(cond))
        return lambda s: test(_sign_of(difference(s)))
    raise Unsupported(str(cond))


def _decided(sign: int | None) -> int:
    if sign is None:
        raise uncertain()
    return sign


_RELATIONS: dict[type, Callable[[int | None], bool]] = {
    sympy.StrictGreaterThan: lambda sg: _decided(sg) > 0,
    sympy.GreaterThan: lambda sg: _decided(sg) >= 0,
    sympy.StrictLessThan: lambda sg: _decided(sg) < 0,
    sympy.LessThan: lambda sg: _decided(sg) <= 0,
    sympy.Eq: lambda sg: _decided(sg) == 0,
    sympy.Ne: lambda sg: _decided(sg) != 0,
}


# --- fallback ------------------------------------------------------------------------------------


def _fallback(expr: sympy.Expr) -> Node:
    """Nodes without an interval method: sympy's evalf at extra precision, marked as not certified."""
    if not isinstance(expr, sympy.Expr):
        raise Unsupported(str(expr))
    parts = [compile_expr(a) for a in expr.args]

    def node(s: Evaluation) -> Interval:
        s.certified = False
        dps = s.iv.dps + 10
        args = [sympy.Float(mid(p(s)), dps) for p in parts]
        value = (expr.func(*args) if args else expr).evalf(dps)
        if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise undefined()
        if not value.is_real:
            raise not_real() if value.is_real is False else uncertain()
        exact = sympy.Float(value, dps)._mpf_
        center = s.iv.make_mpf((exact, exact))
        slack = hi(abs(center) * s.iv.mpf(10) ** (5 - s.iv.dps) + s.iv.mpf(10) ** (-2 * s.iv.dps))
        return center + s.iv.mpf([-slack, slack])

    return node


def _require_finite(value: Interval) -> None:
    if any(end in (finf, fninf, fnan) for end in value._mpi_):
        raise uncertain()


_BUILDERS: tuple[tuple[type | tuple[type, ...], Callable[[sympy.Basic], Node]], ...] = (
    (sympy.Rational, _number),
    (sympy.Float, _float),
    (sympy.Symbol, _symbol),
    (sympy.NumberSymbol | sympy.core.numbers.ImaginaryUnit | sympy.core.numbers.Infinity
     | sympy.core.numbers.NegativeInfinity | sympy.core.numbers.ComplexInfinity | sympy.core.numbers.NaN,
     _constant),
    (sympy.Add, _add),
    (sympy.Mul, _mul),
    (sympy.Pow, _pow),
    (tuple(_UNARY), _unary),
    (sympy.sign, _sign),
    (sympy.Heaviside, _heaviside),
    (sympy.Max | sympy.Min, _extremum),
    (sympy.Piecewise, _piecewise),
)
