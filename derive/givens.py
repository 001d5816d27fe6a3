"""Claims that hold where a given equation holds: implicit differentiation and related rates.

A `given` line assumes an equation between functions of one variable: `given x^2 + y(x)^2 = 1` (y is
whatever function of x satisfies it) or `given x(t)^2 + y(t)^2 = 25` (both move, tied together). A claim
below it that is not an identity, such as `2x + 2y(x) dy/dx = 0` or `dy/dx = -x/y(x)`, is then checked on
the solutions of the given, as the textbook derivation means it.

How, with G = 0 the given and one function y of it taken as determined by the others (G must move with
it): every derivative is a number at a point, a jet (y, y', y'', ...). Differentiating G j times gives an
equation linear in y^(p+j) (p: the highest order of y in G), so each higher derivative of y is solved
from G in closed form (y' = -G_x / G_y), exactly as the implicit function theorem says. The claim, with
those put in, must vanish where G = 0:
- proved when it vanishes identically, or when its numerator's pseudo-remainder by G's numerator (both
  polynomials in y) is 0, so that it is a multiple of G;
- otherwise decided at points of the given: every other value at random, y solved from G to high
  precision (every real root: every branch of the curve), the two sides compared as the verifier does:
  confirmed at 8 or more random points, refuted where they differ at two points.
The solved derivatives are valid where the given determines y (dG/dy is not 0), as the theorem requires.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import mpmath
import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction

from derive.bounded import BoundExceeded, run_bounded
from derive.numeric import OutsideDomain, Unsupported, digits_needed, evaluate, mid
from derive.printing import to_text
from derive.verify import AGREE_DIGITS, BASE_DPS, CONFIRM_POINTS, Verdict, Verification, sample_points

MAX_POINTS = 60  # sample points tried before giving up on confirming
MAX_ROOTS = 8  # real roots (branches of the curve) used at one sample point
REFUTE_MARGIN = mpmath.mpf(10) ** -20  # a relative difference that refutes (the roots are good to 80 digits)
ROOT_DIGITS = 30  # digits the roots carry beyond the working precision
_NEWTON_STEPS = 200
_RUNAWAY = 10**8  # Newton's iterate beyond this: no root that way (e^y = x at x < 0)
_STARTS = (0.5, -0.5, 1.5, -1.5, 0.1, -0.1, 4, -4, 20, -20)  # Newton's starts for a given that is not polynomial

__all__ = ["Given", "GivenCheck", "on_givens"]


@dataclass(frozen=True)
class Given:
    """An equation assumed from its line on: `equation` is lhs - rhs in the leaf variables, real."""

    line: int
    equation: sympy.Expr
    written: str  # as the line writes it, for notes
    lhs: sympy.Expr | None = None  # both sides as written, for showing the line
    rhs: sympy.Expr | None = None


@dataclass(frozen=True)
class GivenCheck:
    """A claim's verdict on a given, and what its left side is there (y' solved), if it had derivatives."""

    verification: Verification
    expected: sympy.Expr | None = None


def functions_of(expr: sympy.Basic) -> set[UndefinedFunction]:
    return {f.func for f in expr.atoms(AppliedUndef)}


def on_givens(left: sympy.Expr, right: sympy.Expr, givens: Sequence[Given], *, timeout: float) -> GivenCheck | None:
    """`left = right` on the latest given that shares a function with it; None when no given does."""
    claimed = functions_of(sympy.Tuple(left, right))
    given = next((g for g in reversed(givens) if functions_of(g.equation) & claimed), None)
    if given is None:
        return None
    try:
        return run_bounded(_decide, left, right, given, timeout, seconds=timeout)
    except BoundExceeded:
        return _unknown(given, "time limit reached")
    except (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ZeroDivisionError,
            sympy.PolynomialError) as error:
        return _unknown(given, f"cannot be checked on it: {error}")


def _unknown(given: Given, why: str) -> GivenCheck:
    return GivenCheck(Verification(Verdict.UNKNOWN, note=f"on the given of line {given.line} ({given.written}): {why}"))


@dataclass
class _Jets:
    """Each function of the given and each order of its derivatives as one symbol."""

    variable: sympy.Symbol
    symbols: dict[tuple[UndefinedFunction, int], sympy.Dummy] = field(default_factory=dict)

    def of(self, f: UndefinedFunction, order: int) -> sympy.Dummy:
        key = (f, order)
        if key not in self.symbols:
            self.symbols[key] = sympy.Dummy(f"{f.__name__}{order}", real=True)
        return self.symbols[key]

    def put_in(self, expr: sympy.Expr) -> sympy.Expr:
        """`expr` with y(x), y'(x), ... as jets; a ValueError for a function applied elsewhere (y(0), y(2x))."""
        v = self.variable
        mapping: dict[sympy.Basic, sympy.Basic] = {}
        for d in expr.atoms(sympy.Derivative):
            if isinstance(d.expr, AppliedUndef) and d.expr.args == (v,) and set(d.variables) == {v}:
                mapping[d] = self.of(d.expr.func, len(d.variables))
        expr = expr.xreplace(mapping)
        for f in expr.atoms(AppliedUndef):
            if f.args != (v,):
                raise ValueError(f"{to_text(f)} is not a function of {v} alone")
            mapping[f] = self.of(f.func, 0)
        expr = expr.xreplace(mapping)
        if expr.has(sympy.Derivative, sympy.Subs):
            raise ValueError("a derivative there is not of a function of the given")
        return expr

    def taken_out(self, expr: sympy.Expr) -> sympy.Expr:
        """The jets written back as the functions and derivatives they stand for."""
        v = self.variable
        back = {s: (f(v) if n == 0 else sympy.Derivative(f(v), (v, n))) for (f, n), s in self.symbols.items()}
        return expr.xreplace(back)


def _variable(exprs: Sequence[sympy.Expr]) -> sympy.Symbol:
    """The one variable every function of the claim and the given is applied to."""
    arguments = {f.args for e in exprs for f in e.atoms(AppliedUndef)}
    variables = {a[0] for a in arguments if len(a) == 1 and isinstance(a[0], sympy.Symbol)}
    if len(variables) != 1 or any(len(a) != 1 for a in arguments):
        raise ValueError("derive checks on a given only functions of one and the same variable, written as y(x)")
    return next(iter(variables))


def _order(expr: sympy.Expr, f: UndefinedFunction, v: sympy.Symbol) -> int:
    orders = [len(d.variables) for d in expr.atoms(sympy.Derivative) if isinstance(d.expr, AppliedUndef)
              and d.expr.func == f]
    return max(orders, default=0)


def _decide(left: sympy.Expr, right: sympy.Expr, given: Given, timeout: float) -> GivenCheck:
    equation = given.equation
    v = _variable([left, right, equation])
    missing = functions_of(sympy.Tuple(left, right)) - functions_of(equation)
    if missing:
        names = ", ".join(sorted(f.__name__ for f in missing))
        return _unknown(given, f"{names} is not in it")
    jets = _Jets(v)
    moving = sorted(functions_of(equation), key=lambda f: f.__name__)
    g0 = jets.put_in(equation)
    # The function the given determines: the last (by name) that it moves with (x(t), y(t): y from x).
    solved = next((f for f in reversed(moving)
                   if sympy.diff(g0, jets.of(f, _order(equation, f, v))) != 0), None)
    if solved is None:
        return _unknown(given, "it does not determine any of its functions")
    p = _order(equation, solved, v)
    top = jets.of(solved, p)
    claim = sympy.Tuple(left, right)
    needed = _order(claim, solved, v) - p
    # y^(p+j) from G differentiated j times: linear in it, with dG/dy^(p) as its coefficient.
    solutions: dict[sympy.Dummy, sympy.Expr] = {}
    derivative = equation
    for j in range(1, needed + 1):
        derivative = sympy.diff(derivative, v)
        gj = jets.put_in(derivative).xreplace(solutions)
        unknown = jets.of(solved, p + j)
        coefficient = sympy.diff(gj, unknown)
        if coefficient.has(unknown) or coefficient == 0:
            return _unknown(given, f"its derivative does not determine {to_text(jets.taken_out(unknown))}")
        solutions[unknown] = sympy.cancel(-gj.xreplace({unknown: 0}) / coefficient)
    sides = [jets.put_in(side).xreplace(solutions) for side in (left, right)]
    expected = _expected(left, sides[0], jets, solutions)
    if _vanishes_on(sides[0] - sides[1], g0, top):
        return GivenCheck(Verification(Verdict.PROVED, note=f"holds where the given of line {given.line} holds "
                                                                  f"({given.written}); it is not an identity"),
                          expected)
    verification = _probe(sides, g0, top, jets, solutions, given)
    return GivenCheck(verification, expected if verification.verdict is Verdict.REFUTED else None)


def _expected(left: sympy.Expr, solved_left: sympy.Expr, jets: _Jets, solutions: dict) -> sympy.Expr | None:
    """What the left side is on the given, when putting in the solved derivatives changed it (dy/dx)."""
    if not solutions or not any(jets.put_in(left).has(s) for s in solutions):
        return None
    return jets.taken_out(sympy.cancel(solved_left))


def _vanishes_on(difference: sympy.Expr, g0: sympy.Expr, top: sympy.Dummy) -> bool:
    """The difference is 0, or a multiple of the given's numerator as polynomials in `top`."""
    numerator = sympy.fraction(sympy.cancel(sympy.together(difference)))[0]
    if sympy.expand(numerator) == 0:
        return True
    g = sympy.fraction(sympy.cancel(sympy.together(g0)))[0]
    if not (numerator.is_polynomial(top) and g.is_polynomial(top) and sympy.degree(g, top) > 0):
        return False
    return sympy.expand(sympy.prem(numerator, g, top)) == 0


def _probe(sides: list[sympy.Expr], g0: sympy.Expr, top: sympy.Dummy, jets: _Jets,
           solutions: dict[sympy.Dummy, sympy.Expr], given: Given) -> Verification:
    """The sides compared at points of the given: every other value at random, `top` each real root."""
    others = sorted((sympy.Tuple(*sides).free_symbols | g0.free_symbols) - {top}, key=str)
    dps = BASE_DPS + max(digits_needed(sides[0]), digits_needed(sides[1]), digits_needed(g0))
    agreeing = 0
    tried = 0
    differing: list[tuple[dict, object, object]] = []
    for point, random in sample_points(others):
        tried += 1
        if tried > MAX_POINTS or agreeing >= CONFIRM_POINTS:
            break
        for root in _real_roots(g0.xreplace(point), top, dps + ROOT_DIGITS):
            at = {**point, top: root}
            outcome = _compare(sides, at, dps)
            if outcome is None:
                continue
            kind, lhs, rhs = outcome
            if kind == "agree":
                agreeing += random
            else:
                differing.append((at, lhs, rhs))
        if len(differing) >= 2:
            at, lhs, rhs = differing[0]
            return Verification(Verdict.REFUTED, counterexample=_counterexample(at, jets, solutions),
                                lhs_value=_decimal(lhs), rhs_value=_decimal(rhs),
                                note=f"at a point of the given of line {given.line} ({given.written}): "
                                     + _where(at, jets, solutions, top))
    where = f"the given of line {given.line} ({given.written})"
    if agreeing >= CONFIRM_POINTS and not differing:
        return Verification(Verdict.CONFIRMED, note=f"holds at {agreeing} random points of {where}; "
                                                    "it is not an identity")
    if differing:
        return Verification(Verdict.UNKNOWN, note=f"the sides differ at one point of {where} and nowhere else")
    return Verification(Verdict.UNKNOWN, note=f"only {agreeing} random points of {where} could be compared")


def _compare(sides: list[sympy.Expr], at: dict, dps: int) -> tuple[str, object, object] | None:
    try:
        (lhs, _), (rhs, _) = evaluate(sides[0], at, dps), evaluate(sides[1], at, dps)
    except (OutsideDomain, Unsupported, ZeroDivisionError):
        return None
    left, right = mid(lhs), mid(rhs)
    scale = max(abs(left), abs(right))
    difference = abs(left - right)
    if difference <= mpmath.mpf(10) ** -AGREE_DIGITS * scale or difference <= mpmath.mpf(10) ** (10 - dps):
        return "agree", left, right
    if difference > REFUTE_MARGIN * max(scale, 1):
        return "differ", left, right
    return None


def _real_roots(g: sympy.Expr, top: sympy.Dummy, dps: int) -> list[sympy.Rational]:
    """The real values of `top` where g = 0, to `dps` digits, as exact rationals (at most MAX_ROOTS)."""
    if g.free_symbols - {top}:
        return []
    roots: list[mpmath.mpf] = []
    with mpmath.workdps(dps):
        if g.is_polynomial(top):
            poly = sympy.Poly(sympy.expand(g), top)
            if poly.degree() < 1:
                return []
            if all(c.is_Rational for c in poly.all_coeffs()):
                roots = [mpmath.mpf(str(r.evalf(dps))) for r in poly.real_roots()]
            else:
                coefficients = [mpmath.mpf(str(sympy.N(c, dps))) for c in poly.all_coeffs()]
                found = mpmath.polyroots(coefficients, maxsteps=200, extraprec=2 * dps)
                roots = [mpmath.re(r) for r in found if abs(mpmath.im(r)) <= mpmath.mpf(10) ** (5 - dps)]
        else:
            roots = _newton_roots(g, top, dps)
    unique = sorted({_exact(r) for r in roots})
    return unique[:MAX_ROOTS]


def _newton_roots(g: sympy.Expr, top: sympy.Dummy, dps: int) -> list[mpmath.mpf]:
    """Real roots of a transcendental g by Newton's method from several starts (those it converges to)."""
    slope = sympy.diff(g, top)
    found: list[mpmath.mpf] = []
    for start in _STARTS:
        root = _newton(g, slope, top, mpmath.mpf(start), dps)
        if root is not None and all(abs(root - r) > mpmath.mpf(10) ** (20 - dps) for r in found):
            found.append(root)
    return found


def _newton(g: sympy.Expr, slope: sympy.Expr, top: sympy.Dummy, y: mpmath.mpf, dps: int) -> mpmath.mpf | None:
    """Newton's iteration from y, or None when it leaves the domain, runs away or does not settle."""
    tolerance = mpmath.mpf(10) ** (10 - dps)
    try:
        for _ in range(_NEWTON_STEPS):
            at = {top: _exact(y)}
            value = mid(evaluate(g, at, dps)[0])
            if abs(value) <= tolerance * max(1, abs(y)):
                return y
            step = value / mid(evaluate(slope, at, dps)[0])
            y -= step
            if abs(y) > _RUNAWAY:
                return None
    except (OutsideDomain, Unsupported, ZeroDivisionError, OverflowError):
        return None
    return None


def _exact(x: mpmath.mpf) -> sympy.Rational:
    """An mpf's exact value as a rational."""
    sign, man, exp, _ = x._mpf_  # not mpmath.mpf(x), which rounds to the current precision
    value = sympy.Integer(man) * sympy.Integer(2) ** exp
    return -value if sign else value


def _jet_values(at: dict, jets: _Jets, solutions: dict) -> Iterator[tuple[UndefinedFunction, int, mpmath.mpf]]:
    """Each function's derivatives at the point: given, solved from the given, or solved derivatives."""
    for (f, n), s in sorted(jets.symbols.items(), key=lambda item: (item[0][0].__name__, item[0][1])):
        if s in at:
            yield f, n, mpmath.mpf(str(sympy.N(at[s], 20)))
        elif s in solutions:
            try:
                yield f, n, mid(evaluate(solutions[s], at, BASE_DPS)[0])
            except (OutsideDomain, Unsupported, ZeroDivisionError):
                continue


def _counterexample(at: dict, jets: _Jets, solutions: dict) -> dict[str, str]:
    """The point's variables, and each function as its Taylor polynomial there: a function that satisfies
    the given to the order the claim looks at, as the contract writes a function (Lambda(t, ...))."""
    v = jets.variable
    names = {s for s in at if not isinstance(s, sympy.Dummy)}
    result = {str(s): str(at[s]) for s in sorted(names, key=str)}
    x0 = at.get(v, sympy.Integer(0))  # a claim whose sides hold no x (only y, y') is the same at any x
    result.setdefault(str(v), str(x0))
    terms: dict[UndefinedFunction, list[str]] = {}
    for f, n, value in _jet_values(at, jets, solutions):
        coefficient = mpmath.nstr(value / math.factorial(n), 15)
        power = "" if n == 0 else f"*(t - {x0})" + (f"**{n}" if n > 1 else "")
        terms.setdefault(f, []).append(f"({coefficient}){power}")
    for f, parts in terms.items():
        result[f.__name__] = f"Lambda(t, {' + '.join(parts)})"
    return result


def _where(at: dict, jets: _Jets, solutions: dict, top: sympy.Dummy) -> str:
    v = jets.variable
    shown = [f"{v} = {at[v]}"] if v in at else []
    for f, n, value in _jet_values(at, jets, solutions):
        name = f"{f.__name__}({v})" if n == 0 else f"d{'^' + str(n) if n > 1 else ''}{f.__name__}/d{v}" + (
            f"^{n}" if n > 1 else "")
        shown.append(f"{name} = {mpmath.nstr(value, 12)}")
    return ", ".join(shown)


def _decimal(x: object) -> str:
    return mpmath.nstr(x, 20)
