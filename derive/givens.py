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
- otherwise decided at points of the given: every other value at random (and between where branches meet,
  for a polynomial given), y solved from G to 80 digits on every real branch, where G determines y; the
  difference of the sides, as sympy writes it, measured against what the root's last digits can make of
  it (`_compare`): confirmed at 8 or more random points, refuted where it differs at two points.
The solved derivatives are valid where the given determines y (dG/dy is not 0), as the theorem requires.
Givens that write a function or a rate outright (A(t) = x(t) y(t)/2, dx/dt = 2) are put in first
(`_decide_on_all`), so that one implicit given remains.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import mpmath
import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction

from derive.bounded import BoundExceeded, run_bounded
from derive.numeric import MAX_EXTRA_DIGITS, OutsideDomain, Unsupported, digits_needed, evaluate, hi, lo, mid
from derive.printing import to_text
from derive.verify import (
    BASE_DPS,
    CONFIRM_POINTS,
    Verdict,
    Verification,
    beyond_precision,
    sample_points,
    thirds_between,
    verify_equal,
)

MAX_POINTS = 60  # sample points tried before giving up on confirming
MAX_ROOTS = 24  # real roots (branches of the curve) at one sample point, all compared
ROOT_DIGITS = 30  # digits the roots carry beyond the working precision
_NEWTON_STEPS = 200
_RUNAWAY = 10**8  # Newton's iterate beyond this: no root that way (e^y = x at x < 0)
_STARTS = (0.5, -0.5, 1.5, -1.5, 0.1, -0.1, 4, -4, 20, -20)  # Newton's starts for a given that is not polynomial

__all__ = ["Given", "GivenCheck", "explicit_function", "functions_of", "on_givens"]
_T = sympy.Symbol("t")


@dataclass(frozen=True)
class Given:
    """An equation assumed from its line on: `equation` is lhs - rhs in the leaf variables, real."""

    line: int
    equation: sympy.Expr
    written: str  # as the line writes it, for notes
    lhs: sympy.Expr | None = None  # both sides as written, for showing the line
    rhs: sympy.Expr | None = None
    left: sympy.Expr | None = None  # both sides in the leaf variables (equation = left - right)
    right: sympy.Expr | None = None


@dataclass(frozen=True)
class GivenCheck:
    """A claim's verdict on a given, and what its left side is there (y' solved), if it had derivatives."""

    verification: Verification
    expected: sympy.Expr | None = None


def functions_of(expr: sympy.Basic) -> set[UndefinedFunction]:
    return {f.func for f in expr.atoms(AppliedUndef)}


def on_givens(left: sympy.Expr, right: sympy.Expr, givens: Sequence[Given], *, timeout: float) -> GivenCheck | None:
    """`left = right` on the givens tied to it (sharing functions with it, or with those); None when none is."""
    tied = _tied(functions_of(sympy.Tuple(left, right)), givens)
    if not tied:
        return None
    given = tied[-1]
    try:
        return run_bounded(_decide_on_all, left, right, tied, timeout, seconds=timeout)
    except BoundExceeded:
        return _unknown(given, "time limit reached")
    except (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ZeroDivisionError,
            sympy.PolynomialError) as error:
        return _unknown(given, f"cannot be checked on it: {error}")


def _tied(functions: set[UndefinedFunction], givens: Sequence[Given]) -> list[Given]:
    """The givens that share a function with `functions`, or with a given that does, in their order."""
    tied: list[Given] = []
    grown = True
    while grown:
        grown = False
        for g in givens:
            if g not in tied and functions_of(g.equation) & functions:
                tied.append(g)
                functions = functions | functions_of(g.equation)
                grown = True
    return sorted(tied, key=lambda g: g.line)


def _decide_on_all(left: sympy.Expr, right: sympy.Expr, givens: list[Given], timeout: float) -> GivenCheck:
    """Givens that write one function outright (A(t) = x(t) y(t)/2) are put in; one implicit given remains
    (x(t)^2 + y(t)^2 = 100), or none, and the claim is then checked as an identity."""
    implicit = list(givens)
    rates: list[tuple[sympy.Derivative, sympy.Expr]] = []
    while True:
        # functions before rates: V(t) = 4/3 pi r(t)^3 makes the rate V'(t) = 100 an equation in r, 4 pi r^2 r' = 100
        written = [(g, f, body) for g in implicit for f, body in [explicit_function(g)] if f is not None]
        functions_first = sorted(written, key=lambda w: isinstance(w[1], sympy.Derivative))
        explicit = next(iter(functions_first), None)
        if explicit is None:
            break
        given, f, body = explicit
        implicit.remove(given)
        left, right = _put_in(left, f, body), _put_in(right, f, body)
        implicit = [replace(g, equation=_put_in(g.equation, f, body), left=_put_in(g.left, f, body),
                            right=_put_in(g.right, f, body)) for g in implicit]
        contradicted = next((g for g in implicit if not functions_of(g.equation) and sympy.cancel(g.equation) != 0),
                            None)
        if contradicted is not None:  # x(t) = 6 beside dx/dt = 2: 0 = 2
            return _unknown(given, f"it contradicts the given of line {contradicted.line} ({contradicted.written}); "
                                   "for a value at one instant (when x = 6), put the value into the claim")
        # a given with nothing left to tie (the circle, once y(x) = sqrt(1 - x^2) is put in) says nothing more
        implicit = [g for g in implicit if functions_of(g.equation)]
        if isinstance(f, sympy.Derivative):  # dx/dt = 2 holds in the derivatives of the givens too
            rates.append((f, body))
    last = givens[-1]
    if not implicit:
        verification = verify_equal(left, right, timeout=timeout)
        put_in = f"the given{'s' if len(givens) > 1 else ''} put in ({_lines(givens)})"
        if verification.ok:
            return GivenCheck(Verification(verification.verdict, note=f"holds with {put_in}"))
        return GivenCheck(replace(verification, note="; ".join(filter(None, [verification.note, f"with {put_in}"]))))
    if len(implicit) > 1:
        return _unknown(last, f"derive checks a claim on one implicit given at a time, and {_lines(implicit)} are "
                              "several")
    if functions_of(implicit[0].equation) <= {rate.expr.func for rate, _ in rates}:
        # dx/dt and dy/dt both given on x^2 + y^2 = 25: they hold together only where x x' + y y' = 0
        return _unknown(implicit[0], "rates are given for every function it ties, which over-determines it")
    return _decide(left, right, implicit[0], timeout, rates)


def _lines(givens: Sequence[Given]) -> str:
    return ", ".join(f"line {g.line}: {g.written}" for g in givens)


def explicit_function(given: Given) -> tuple[AppliedUndef | sympy.Derivative | None, sympy.Expr | None]:
    """f(t) or a derivative of f, and its body, when the given writes it outright without f: A(t) = x(t) y(t)/2,
    or dx/dt = 2, a rate (which fixes x' and every derivative above it, not x)."""
    for side, other in ((given.left, given.right), (given.right, given.left)):
        if side is None or other is None:
            continue
        f = side.expr if isinstance(side, sympy.Derivative) else side
        if isinstance(f, AppliedUndef) and len(f.args) == 1 and isinstance(f.args[0], sympy.Symbol) \
                and set(getattr(side, "variables", f.args)) == set(f.args) and f.func not in functions_of(other):
            return side, other
    return None, None


def _put_in(expr: sympy.Expr, written: AppliedUndef | sympy.Derivative, body: sympy.Expr) -> sympy.Expr:
    """`expr` with f written out as `body` wherever it is applied (f(t), f(0), f'(t)), or, for a derivative
    of f written out (dx/dt = 2), with it and the derivatives above it as body's."""
    if isinstance(written, sympy.Derivative):
        f, order = written.expr, len(written.variables)
        v = f.args[0]
        mapping = {d: sympy.diff(body, v, len(d.variables) - order) for d in expr.atoms(sympy.Derivative)
                   if d.expr == f and set(d.variables) == {v} and len(d.variables) >= order}
        return expr.xreplace(mapping)
    v = written.args[0]
    return expr.subs(written.func, sympy.Lambda(v, body)).doit()


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


def _order(expr: sympy.Expr, f: UndefinedFunction) -> int:
    orders = [len(d.variables) for d in expr.atoms(sympy.Derivative) if isinstance(d.expr, AppliedUndef)
              and d.expr.func == f]
    return max(orders, default=0)


def _decide(left: sympy.Expr, right: sympy.Expr, given: Given, timeout: float,
            rates: Sequence[tuple[sympy.Derivative, sympy.Expr]] = ()) -> GivenCheck:
    equation = given.equation
    v = _variable([left, right, equation])
    missing = functions_of(sympy.Tuple(left, right)) - functions_of(equation)
    if missing:
        names = ", ".join(sorted(f.__name__ for f in missing))
        return _unknown(given, f"{names} is not in it")
    jets = _Jets(v)
    # A function with a rate given (dy/dt = -1) is not the one to solve for: its derivatives are fixed.
    fixed = {rate.expr.func for rate, _ in rates}
    moving = sorted(functions_of(equation), key=lambda f: (f not in fixed, f.__name__))
    g0 = jets.put_in(equation)
    # The function the given determines: the last (by name) that it moves with (x(t), y(t): y from x).
    solved = next((f for f in reversed(moving)
                   if sympy.diff(g0, jets.of(f, _order(equation, f))) != 0), None)
    if solved is None:
        return _unknown(given, "it does not determine any of its functions")
    p = _order(equation, solved)
    top = jets.of(solved, p)
    claim = sympy.Tuple(left, right)
    needed = _order(claim, solved) - p
    # y^(p+j) from G differentiated j times: linear in it, with dG/dy^(p) as its coefficient.
    solutions: dict[sympy.Dummy, sympy.Expr] = {}
    derivative = equation
    for j in range(1, needed + 1):
        derivative = sympy.diff(derivative, v)
        gj = jets.put_in(functools.reduce(lambda e, rate: _put_in(e, *rate), rates, derivative)).xreplace(solutions)
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
    # The rates' derivatives, for a counterexample's Taylor polynomials (dx/dt = 2: x goes as 2t there)
    shown = dict(solutions)
    for rate, body in rates:
        f, order = rate.expr.func, len(rate.variables)
        for k in range(order, order + needed + 1):
            shown[jets.of(f, k)] = jets.put_in(sympy.diff(body, v, k - order)).xreplace(solutions)
    verification = _probe(sides, g0, top, jets, shown, given)
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
    needed = max(digits_needed(sides[0]), digits_needed(sides[1]), digits_needed(g0))
    dps = BASE_DPS + min(needed, MAX_EXTRA_DIGITS)
    slopes = {symbol: sympy.diff(g0, symbol) for symbol in g0.free_symbols}
    agreeing = 0
    differing: list[tuple[dict, object, object]] = []
    special = ((p, False) for p in _where_branches_change(g0, top, others))
    points = itertools.islice(itertools.chain(special, sample_points(others)), MAX_POINTS)  # sample_points is endless
    for point, random in points:
        if agreeing >= CONFIRM_POINTS:
            break
        roots = _real_roots(g0.xreplace(point), top, dps + ROOT_DIGITS)
        if roots is None:  # more branches than are tried: this point cannot confirm
            continue
        outcomes = [(_compare(sides, {**point, top: root}, top, dps), root)
                    for root in roots if _determines(slopes, top, {**point, top: root}, dps)]
        for outcome, root in outcomes:
            if outcome is not None and outcome[0] == "differ":
                differing.append(({**point, top: root}, outcome[1], outcome[2]))
        # one point of the variables, however many branches pass through it, and only if every one agrees
        if random and outcomes and all(o is not None and o[0] == "agree" for o, _ in outcomes):
            agreeing += 1
        if len(differing) >= 2:
            at, lhs, rhs = differing[0]
            return Verification(Verdict.REFUTED, counterexample=_counterexample(at, jets, solutions),
                                lhs_value=_decimal(lhs), rhs_value=_decimal(rhs),
                                note=f"at a point of the given of line {given.line} ({given.written}): "
                                     + _where(at, jets, solutions, top))
    where = f"the given of line {given.line} ({given.written})"
    if needed > MAX_EXTRA_DIGITS and not differing:
        return Verification(Verdict.UNKNOWN, note=beyond_precision(needed))
    if agreeing >= CONFIRM_POINTS and not differing:
        return Verification(Verdict.CONFIRMED, note=f"holds at {agreeing} random points of {where}; "
                                                    "it is not an identity")
    if differing:
        return Verification(Verdict.UNKNOWN, note=f"the sides differ at one point of {where} and nowhere else")
    return Verification(Verdict.UNKNOWN, note=f"only {agreeing} random points of {where} could be compared")


def _determines(slopes: dict[sympy.Symbol, sympy.Expr], top: sympy.Dummy, at: dict, dps: int) -> bool:
    """Does the given determine y at this point (dG/dy not 0 beside G's other slopes, as the implicit
    function theorem asks)? At x = 1, sin(x y) = y meets y = 0 three times over, every slope is 0 there, and
    the root found is not one to 20 digits; exp(y)/10^15 = x/10^15 has slopes of 10^-15 everywhere.
    `slopes`: G's derivative by each of its symbols, taken once for all the points."""
    try:
        values = {s: abs(mid(evaluate(slope, at, dps)[0])) for s, slope in slopes.items() if s in at}
    except (OutsideDomain, Unsupported, ZeroDivisionError):
        return False
    own = values.get(top, mpmath.mpf(0))
    return own > mpmath.mpf(10) ** -12 * max(values.values(), default=0) and own > mpmath.mpf(10) ** (20 - dps)


def _compare(sides: list[sympy.Expr], at: dict, top: sympy.Dummy, dps: int) -> tuple[str, object, object] | None:
    """"agree", "differ" (with both values) or None, at a point whose `top` is a root known to ROOT_DIGITS more
    digits than `dps`. The difference is evaluated as sympy writes it (exp(100 y) - (exp(100 y) + 1) is -1,
    not two numbers of 10^260 that agree to 30 digits) and measured against its own terms. What moving the
    root by far more than its error does to it bounds what that error can do: a difference well beyond it
    is the claim's (10^-25 beside x^3 is no rounding), one within it is not. An interval too wide to tell
    (y cosh^2 - y' sinh^2 at x = -100 cancels 87 digits) is computed again with 3x the digits."""
    root = at[top]
    shift = (abs(root) + 1) * sympy.Rational(1, 10) ** (dps + ROOT_DIGITS // 2)
    difference = sides[0] - sides[1]
    terms = sympy.Add.make_args(difference)
    for working in (dps, 3 * dps):
        try:
            (lhs, _), (rhs, _) = evaluate(sides[0], at, working), evaluate(sides[1], at, working)
            value, _ = evaluate(difference, at, working)
            moved, _ = evaluate(difference, {**at, top: root + shift}, working)
            scale = max(abs(mid(evaluate(term, at, working)[0])) for term in terms)
        except (OutsideDomain, Unsupported, ZeroDivisionError):
            return None
        width = hi(value) - lo(value)
        # the intervals bound the rounding; what is left is the root's error, which the shift bounds. Not a
        # share of the terms' scale: e^100 dy/dx against a right side off by x agreed to 30 digits
        tolerance = 10 * abs(mid(moved) - mid(value)) + mpmath.mpf(10) ** (5 - working) * scale
        if abs(mid(value)) + width <= tolerance:
            return "agree", mid(lhs), mid(rhs)
        if abs(mid(value)) - width > 10**6 * tolerance:
            return "differ", mid(lhs), mid(rhs)
    return None


def _real_roots(g: sympy.Expr, top: sympy.Dummy, dps: int) -> list[sympy.Rational] | None:
    """The real values of `top` where g = 0, to `dps` digits, as exact rationals; None for more than
    MAX_ROOTS (the branches left out could be the ones where a claim fails)."""
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
                values = [sympy.N(c, dps) for c in poly.all_coeffs()]
                if not all(v.is_real for v in values):  # log(x) at x < 0: the given has no point here
                    return []
                coefficients = [mpmath.mpf(str(v)) for v in values]
                found = mpmath.polyroots(coefficients, maxsteps=200, extraprec=2 * dps)
                roots = [mpmath.re(r) for r in found if abs(mpmath.im(r)) <= mpmath.mpf(10) ** (5 - dps)]
        else:
            roots = _newton_roots(g, top, dps)
    unique = sorted({_exact(r) for r in roots})
    return unique if len(unique) <= MAX_ROOTS else None


def _where_branches_change(g0: sympy.Expr, top: sympy.Dummy, others: list[sympy.Symbol]) -> list[dict]:
    """For a given polynomial in y: points between the values of one other variable where branches meet or
    end (the real zeros of the discriminant and of the leading coefficient), and beyond them, the other
    variables at the values of a first random point. With 1000 x = (y^2 - 1)^2, two more branches exist only
    for 0 < x < 1/1000, where no random x falls; so with 10^6 a x, sqrt(2) x, or x(t) and its rate."""
    if not others or not g0.is_polynomial(top):
        return []
    g = sympy.fraction(sympy.cancel(sympy.together(g0)))[0]
    if not g.is_polynomial(top) or sympy.degree(g, top) < 1:
        return []
    special = sympy.discriminant(g, top) * sympy.Poly(g, top).LC()
    moving = [s for s in others if s in special.free_symbols]
    if special == 0 or not moving:
        return []
    x = moving[0]
    base = next(p for p, random in sample_points(others) if random)
    special = special.xreplace({s: base[s] for s in others if s != x})
    if not special.is_polynomial(x) or sympy.degree(special, x) < 1:
        return []
    try:
        found = sympy.Poly(special, x).nroots(n=30, maxsteps=200)
    except (sympy.polys.polyerrors.PolynomialError, NotImplementedError, ValueError):
        return []
    # to 12 digits, as short decimals: the points between them read well in a counterexample
    zeros = sorted({sympy.Rational(mpmath.nstr(mpmath.mpf(str(sympy.re(z))), 12)) for z in found
                    if abs(sympy.im(z)) < 1e-20})
    if not zeros or len(zeros) > 12:
        return []
    return [{**base, x: value} for pair in thirds_between(zeros) for value in pair]


def _newton_roots(g: sympy.Expr, top: sympy.Dummy, dps: int) -> list[mpmath.mpf]:
    """Real roots of a transcendental g by Newton's method from several starts (those it converges to)."""
    slope = sympy.diff(g, top)
    found: list[mpmath.mpf] = []
    for start in _STARTS:
        root = _newton(g, slope, top, mpmath.mpf(start), dps)
        if root is not None and all(abs(root - r) > mpmath.mpf(10) ** (10 - dps) * max(1, abs(r)) for r in found):
            found.append(root)
    return found


def _newton(g: sympy.Expr, slope: sympy.Expr, top: sympy.Dummy, y: mpmath.mpf, dps: int) -> mpmath.mpf | None:
    """Newton's iteration from y until its step is below the precision (whatever the scale of g: e^y/10^15),
    or None when it leaves the domain, runs away or does not settle."""
    try:
        for _ in range(_NEWTON_STEPS):
            at = {top: _exact(y)}
            step = mid(evaluate(g, at, dps)[0]) / mid(evaluate(slope, at, dps)[0])
            y -= step
            if abs(y) > _RUNAWAY:
                return None
            if abs(step) <= mpmath.mpf(10) ** (5 - dps) * max(1, abs(y)):
                return y
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
        power = "" if n == 0 else f"*({_T - x0})" + (f"**{n}" if n > 1 else "")
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
