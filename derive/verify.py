"""Verdicts on `lhs == rhs`: proved, confirmed, refuted (with a counterexample) or unknown, time-bounded.

The tiers, cheapest first:
1. structural: `lhs - rhs` is 0 after sympy's automatic evaluation (derivatives evaluated by sympy on
   the elementary form, so derive's own rules are never trusted);
2. certified numeric probe at exact rational points (simple ones first), by interval arithmetic: a
   point where both sides are real and finite and the interval of their difference excludes 0 refutes;
3. symbolic proof: cancel, rewrite to exp, simplify, trigsimp; a zero proves, a non-zero decides nothing;
4. numeric agreement to 30+ digits at 8 or more points confirms.

Real semantics: only points where both sides are real and finite count, and a refutation must hold
at a nudged point too. A side undefined at a point (a set of measure zero, e.g. x/|x| at 0) is noted,
never refuted. Both sides must be real on the same points: where one side is real and the other is not
(log(x^2) = 2 log(x) at x = -1; log(a) + log(b) = log(ab) at a = b = -1) numbers alone never confirm
the step (it is "unknown" with a note); a symbolic proof still proves it, with the note. A right side
real on a larger domain is no exception: it would let log(ab) stand for log(a) + log(b). The one
exception is a point where both sides have the same complex value (principal branches, 30 significant
digits): acos(x) + asin(x) = pi/2 at x = 2 is one identity on a larger domain, not two functions.
Abstract functions (f(g(x))) are made concrete with several small functions for the numeric tiers.

Isolation: a signal bound cannot stop one long C call, and needs the main thread. Inputs that look
risky (many operations, huge constants, high powers of sums) and calls from other threads are therefore
verified whole in the worker process (derive.worker), killed at the bound; the rest runs in-process,
which costs no pickling (see docs/robustness.md for the measured overhead).
"""

from __future__ import annotations

import enum
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import mpmath
import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.core.sympify import _sympify

from derive.bounded import BoundExceeded, IsolatedTimeout, WorkerFailed, can_use_alarm, run_bounded, run_isolated
from derive.functions import relu, to_elementary
from derive.numeric import MAX_EXTRA_DIGITS, OutsideDomain, Unsupported, digits_needed, evaluate, hi, lo, mid
from derive.symbols import realify
from derive.sympy_derivative import at_points, by_stand_ins, settled, substitution, sympy_doit
from derive.worker import current_limits

__all__ = ["Verdict", "Verification", "looks_risky", "prepare", "verify_equal", "verify_isolated"]

T = TypeVar("T")


class Verdict(enum.StrEnum):
    """How a claimed equality was decided (the contract's four verdicts)."""

    PROVED = "proved"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verification:
    """A verdict with its evidence: the counterexample and both sides' values there, or a note."""

    verdict: Verdict
    counterexample: dict[str, str] | None = None
    lhs_value: str | None = None
    rhs_value: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.PROVED, Verdict.CONFIRMED)


# Tuning, in one place.
CONFIRM_POINTS = 8  # the contract: "equal at 8 or more points"
CONFIRM_CHOICES = 3  # distinct concrete choices of the abstract functions needed to confirm
AGREE_DIGITS = 30  # the contract: "30 or more significant digits"
BASE_DPS = 50  # working precision of the probe; raised by the digits of the expression's constants
FALLBACK_MARGIN = 10**-30  # a non-certified difference must exceed this (relative) to refute
QUICK_POINTS = 6  # points tried before the symbolic tiers (enough to refute most wrong steps quickly)
MAX_POINTS = 96  # points tried in all before giving up on confirming (two thirds of them random)
# The scales of the random points, in turn (see sample_points), so that the first eight random points
# (four of each sign) reach +-1, 1/100 (tanh(1000 x) against |x|), -100 and -1000 (abs(x + 100) = x + 100)
# and 10 and 100; later ones 1/10,000 and 1000 too.
POSITIVE_SCALES = (1, sympy.Rational(1, 100), 10, 100, 1, sympy.Rational(1, 10_000), 1000, 1)
NEGATIVE_SCALES = (1, 100, sympy.Rational(1, 100), 1000, 10, sympy.Rational(1, 10_000), 1, 10)
SYMBOLIC_SHARE = 0.6  # share of the time bound the symbolic tiers may use; the rest confirms

# Small readable rationals first, so that a counterexample is as simple as it can be.
SIMPLE_VALUES: tuple[sympy.Rational, ...] = tuple(
    sympy.Rational(v)
    for v in ("0", "1", "-1", "2", "1/2", "-2", "3/2", "-1/2", "1/3", "3", "-3/2", "2/3", "5/2", "-1/3", "-3")
)

_T = sympy.Symbol("t", real=True)
# Concrete stand-ins for an abstract function of one argument: polynomials and elementary functions
# whose derivatives differ from each other, so that a wrong chain rule shows.
# The first CONFIRM_CHOICES + 1 are the ones tried: a cubic among them, whose third derivative is neither
# 0 nor ±f' (f'''^3 = f''' f'^2 holds for t^2 + 1, 3t - 2, e^t and sin(t) + 2 alike), and one negative
# near 0 and on (0, 1) (|f(sin x)| = f(sin x) held for four choices positive there).
UNARY_CHOICES: tuple[sympy.Expr, ...] = (
    _T**2 + 1,
    sympy.exp(_T),
    _T**3 - _T + 1,
    sympy.sin(3 * _T) - sympy.Rational(1, 2),
    3 * _T - 2,
    sympy.cos(_T) + _T,
)


# The worker gets this much more than the verifier's own bound, so that the verifier, not the kill,
# normally ends a slow check (and its partial evidence is kept).
ISOLATION_GRACE = 0.5
# A power of a sum with an integer exponent above this is expanded into many terms by cancel/simplify.
RISKY_EXPONENT = 40


def verify_equal(lhs: sympy.Expr, rhs: sympy.Expr, *, timeout: float = 5.0) -> Verification:
    """Is lhs == rhs as functions of their free symbols (real)?"""
    if not commuting(lhs) or not commuting(rhs):
        return Verification(Verdict.UNKNOWN, note=NOT_COMMUTING)
    if can_use_alarm() and not looks_risky(lhs) and not looks_risky(rhs):
        return _Verifier(lhs, rhs, timeout).run()
    return verify_isolated(lhs, rhs, timeout=timeout)


NOT_COMMUTING = "not verified: products that do not commute (matrices, operators) are outside derive's real analysis"


def commuting(expr: object) -> bool:
    """Do all products in expr commute? The verifier reads every symbol as a real number (so its proofs
    and its numbers would take A B for B A): an expression of matrices or operators is never judged."""
    return not isinstance(expr, sympy.Basic) or getattr(expr, "is_commutative", True) is not False


def verify_isolated(lhs: sympy.Expr, rhs: sympy.Expr, *, timeout: float = 5.0) -> Verification:
    """verify_equal in the worker process: a hard time and memory bound, even inside C code."""
    try:
        return run_isolated(_verify_here, lhs, rhs, timeout, seconds=timeout + ISOLATION_GRACE)
    except IsolatedTimeout:
        return Verification(Verdict.UNKNOWN, note="time limit reached")
    except WorkerFailed as failure:
        return Verification(Verdict.UNKNOWN, note=f"cannot be checked: {failure}")


def _verify_here(lhs: sympy.Expr, rhs: sympy.Expr, timeout: float) -> Verification:
    return _Verifier(lhs, rhs, timeout).run()


def looks_risky(expr: object) -> bool:
    """Could checking expr run long inside one C call or take much memory? (a cheap look, bounded)"""
    if not isinstance(expr, sympy.Basic):
        return False
    limits = current_limits()
    bits = limits.isolate_digits * 3.33  # decimal digits to bits
    for count, node in enumerate(sympy.preorder_traversal(expr)):
        if count > limits.isolate_ops:
            return True
        if isinstance(node, sympy.Rational) and max(int(node.p).bit_length(), int(node.q).bit_length()) > bits:
            return True
        if isinstance(node, sympy.Float) and node and abs(node._mpf_[2] + node._mpf_[3]) > bits:
            return True
        if (
            isinstance(node, sympy.Pow)
            and isinstance(node.exp, sympy.Integer)
            and abs(int(node.exp)) > RISKY_EXPONENT
            and not node.base.is_Atom
        ):
            return True
    return False


# --- preparation ---------------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def prepare(expr: sympy.Expr) -> sympy.Expr:
    """The form that is compared: named functions elementary, pending derivatives evaluated by sympy.

    sympy writes d/dg(x) f(g(x)) as a derivative with respect to g(x); it becomes the
    `Subs(Derivative(f(t), t), t, g(x))` form that `f'(g(x))` is parsed into, so both compare equal.
    """
    expr = realify(_sympify(expr))  # strict: sympy objects and numbers only, never text
    expr = to_elementary(expr)
    if not expr.has(sympy.Derivative, sympy.Subs):
        return expr
    if any(_names_its_own(e) for e in expr.atoms(sympy.Subs)):
        expr = expr.replace(_names_its_own, _substituted_at_once)
    if settled(expr):
        # doit would give these back unchanged, at several ms each on a cold cache (a chain-rule line)
        return expr.replace(_is_derivative_wrt_function, at_points)  # no doit: the body is its own derivative
    expr = sympy_doit(expr)
    expr = to_elementary(expr)  # derivatives may have produced named functions again
    if expr.has(sympy.Derivative):
        expr = expr.replace(_is_derivative_wrt_function, _as_subs)
    return expr


def _names_its_own(e: sympy.Basic) -> bool:
    """A substitution with a point that names one of its bound variables (t in Subs(.., (s, t), (g(t), x)))."""
    return isinstance(e, sympy.Subs) and any(p.has(*e.variables) for p in e.point)


def _substituted_at_once(e: sympy.Subs) -> sympy.Basic:
    """The substitution made at once: sympy's doit makes it one variable at a time, and the t of g(t),
    which is the free t, would then be replaced too. Left as it is where that is not an expression."""
    try:
        return e.expr.xreplace(dict(zip(e.variables, e.point, strict=True)))
    except (TypeError, ValueError):  # a derivative by a number, say
        return e


def _is_derivative_wrt_function(e: sympy.Basic) -> bool:
    return isinstance(e, sympy.Derivative) and any(not v.is_Symbol for v in e.variables)


def _as_subs(e: sympy.Derivative) -> sympy.Expr:
    derivative, replacements = by_stand_ins(e)
    return substitution(sympy_doit(derivative), tuple(replacements.values()), tuple(replacements))


# --- points and concrete functions ---------------------------------------------------------------


def sample_points(
    symbols: list[sympy.Symbol], seed: int = 20240
) -> Iterator[tuple[dict[sympy.Symbol, sympy.Rational], bool]]:
    """The sample points, each with whether it is random (only random points confirm: the contract's
    "equal at 8 or more random points"); deterministic, so that a verdict is reproducible.

    The first QUICK_POINTS are simple rationals (each symbol a different one), so that a counterexample
    is as simple as it can be; then random points alternate with the other simple ones. Simple points
    alone confirmed x + sin(6 pi x) = x, which holds at every multiple of 1/6. A random value is a
    fraction of two random four-digit numbers (on no fixed grid: x + sin(273000 pi x) = x held on every
    point of the former grid), times a scale taken in turn (POSITIVE_SCALES, NEGATIVE_SCALES), each
    symbol at its own place in the turn. Every other random point is positive in every symbol (the most
    common domain: log, sqrt); the others are negative (and in every fourth point, every other symbol
    positive): abs(x + 4) = x + 4 held at the nine random points that a coin had made positive.
    """
    n = len(SIMPLE_VALUES)
    simple = ({s: SIMPLE_VALUES[(i + j) % n] for j, s in enumerate(symbols)} for i in range(n))
    for _ in range(QUICK_POINTS):
        yield next(simple), False
    rng = random.Random(seed)
    for k in itertools.count():
        point = {}
        for j, s in enumerate(symbols):
            negative = k % 2 == 1 and not (k % 4 == 3 and j % 2 == 1)
            scales = NEGATIVE_SCALES if negative else POSITIVE_SCALES
            value = sympy.Rational(rng.randint(1_000, 9_999), rng.randint(1_000, 9_999)) * scales[(k // 2 + j) % 8]
            point[s] = -value if negative else value
        yield point, True
        following = next(simple, None)
        if following is not None:
            yield following, False


BREAKPOINT_DEGREE = 4  # arguments of pieces solved for their zeros up to this degree
MAX_BREAKPOINTS = 40
MAX_LINE_SYMBOLS = 6  # a step of more variables is not tried along lines (3 lines a variable, each its zeros)


# The functions made of pieces, each changing where an argument (or, for max and min, a difference of two) is 0.
PIECES: tuple[type, ...] = (sympy.Abs, sympy.sign, sympy.Heaviside, relu, sympy.Max, sympy.Min)


def piece_arguments(expr: sympy.Expr) -> list[sympy.Expr]:
    """What decides each piece of `expr` (|u|, sign(u), heaviside(u), relu(u), max and min): where each of
    these is 0, the piece changes."""
    arguments = [f.args[0] for f in expr.atoms(sympy.Abs, sympy.sign, sympy.Heaviside, relu)]
    arguments += [a - b for f in expr.atoms(sympy.Max, sympy.Min) for a, b in itertools.combinations(f.args, 2)]
    return arguments


def _between_breakpoints(arguments: list[sympy.Expr], x: sympy.Symbol,
                         fixed: dict[sympy.Symbol, sympy.Rational] | None = None) -> list[tuple[dict, dict]]:
    """Pairs of points in each interval between (and around) the real zeros of the pieces' `arguments`, as
    rationals: a difference must show at both to refute (a nudge could leave the interval). With several
    variables, along the line where the others are `fixed`."""
    fixed = fixed or {}
    zeros: set[sympy.Rational] = set()
    for u in arguments:
        u = u.xreplace(fixed) if fixed else u
        if u.free_symbols != {x} or not u.is_polynomial(x):
            continue
        poly = sympy.Poly(u, x)
        if poly.degree() > BREAKPOINT_DEGREE or not all(c.is_Rational for c in poly.all_coeffs()):
            continue
        for (low, high), _ in poly.intervals(eps=sympy.Rational(1, 10**12)):  # isolating intervals of real roots
            zeros.add(sympy.Rational(low + high) / 2)
        if len(zeros) > MAX_BREAKPOINTS:
            return []
    return [({**fixed, x: first}, {**fixed, x: second}) for first, second in thirds_between(sorted(zeros))]


def _between_breakpoints_on_lines(arguments: list[sympy.Expr], symbols: list[sympy.Symbol],
                                  bases: list[dict[sympy.Symbol, sympy.Rational]]) -> list[tuple[dict, dict]]:
    """_between_breakpoints in several variables, along the lines through each of `bases` parallel to an
    axis: relu(x - y) relu(y - x + 1/100) = 0 is false only within 1/100 of x = y, which a line crosses."""
    pairs = [pair for base in bases for x in symbols
             for pair in _between_breakpoints(arguments, x, {s: v for s, v in base.items() if s != x})]
    return [tuple({s: point[s] for s in symbols} for point in pair) for pair in pairs]  # in the step's order


def thirds_between(zeros: list[sympy.Rational]) -> list[tuple[sympy.Rational, sympy.Rational]]:
    """Two points in each interval between sorted zeros and one beyond each end: where a function of pieces
    (or a curve's branches) may change, each stretch is tried twice, so that a nudge cannot leave it."""
    if not zeros:
        return []
    ends = [zeros[0] - 1, *zeros, zeros[-1] + 1]
    return [(a + (b - a) / 3, a + 2 * (b - a) / 3) for a, b in itertools.pairwise(ends)]


def _over_periods(expr: sympy.Expr, x: sympy.Symbol) -> list[tuple[dict, dict]]:
    """An inverse of a periodic function applied to one (atan(tan(u)), asin(sin(u))) is u only on one
    interval of each period: points every 1/2 over a few periods, where the random points may miss it."""
    inverses = (sympy.asin, sympy.acos, sympy.atan, sympy.acot, sympy.asec, sympy.acsc)
    periodic = (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)
    if not any(f.args[0].has(*periodic) for f in expr.atoms(*inverses)):
        return []
    return [({x: sympy.Rational(k, 2) + sympy.Rational(1, 7)}, {x: sympy.Rational(k, 2) + sympy.Rational(2, 7)})
            for k in range(-24, 25)]


def _at_the_scale_of_constants(expr: sympy.Expr, symbols: list[sympy.Symbol]) -> list[tuple[dict, dict]]:
    """Pairs of points where the variables are about 1/c for each large constant c of `expr`, and about c
    for each small one: x tanh(10^8 x) = |x| is false where 10^8 x is about 1, and max(|x|, 1/1000) = |x|
    where |x| < 1/1000, both far below the smallest scale of the random points. In several variables, all
    of them at that scale at once (x^2 + y^2 + z^2 clamped at 10^-6)."""
    constants = {abs(sympy.Rational(r)) for r in expr.atoms(sympy.Rational, sympy.Float) if r}
    large = sorted((c for c in constants if c >= 1000), reverse=True)[:4]
    small = sorted(c for c in constants if c <= sympy.Rational(1, 1000))[:4]
    scales = [1 / c for c in large] + [c / 10 for c in small]

    def at(scale: sympy.Rational, sign: int, factor: sympy.Rational) -> dict:
        return {x: sign * scale * factor * sympy.Rational(7 + j, 7) for j, x in enumerate(symbols)}

    return [(at(s, sign, sympy.Integer(1)), at(s, sign, sympy.Rational(3, 2))) for s in scales for sign in (1, -1)]


def _negative_integer_points(symbols: list[sympy.Symbol]) -> list[dict[sympy.Symbol, sympy.Rational]]:
    """Every symbol -1, every symbol -2, the first -1 and the others 1, the first -2 and the others 3."""
    if not symbols:
        return []
    first, *others = symbols
    points = [dict.fromkeys(symbols, sympy.Integer(v)) for v in (-1, -2)]
    if others:
        points += [{first: sympy.Integer(a), **dict.fromkeys(others, sympy.Integer(b))} for a, b in ((-1, 1), (-2, 3))]
    return points


def _nudged(point: dict[sympy.Symbol, sympy.Rational], *, dyadic: bool = False) -> dict[sympy.Symbol, sympy.Rational]:
    """A nearby point off any special line (x = 0, x = y): a refutation must survive there too, so
    that a difference only on a set of measure zero never refutes. `dyadic`: offsets exact in binary."""
    if dyadic:
        return {s: v + sympy.Rational(33 + 2 * j, 4096) for j, (s, v) in enumerate(point.items())}
    return {s: v + sympy.Rational(1, 97 + 4 * j) for j, (s, v) in enumerate(point.items())}


def concrete_choices(
    functions: dict[UndefinedFunction, int], count: int
) -> list[dict[UndefinedFunction, sympy.Lambda]]:
    """`count` assignments of small concrete functions to the abstract ones (given with their number
    of arguments), each function a different choice within an assignment (so f and g differ, which a
    wrong chain rule needs to show)."""
    out = []
    m = len(UNARY_CHOICES)
    for k in range(count):
        assignment = {}
        for j, (f, arity) in enumerate(functions.items()):
            params = (_T,) if arity == 1 else tuple(sympy.Symbol(f"t{i + 1}", real=True) for i in range(arity))
            body = sum(
                (UNARY_CHOICES[(k + j + i) % m].subs(_T, p) for i, p in enumerate(params)), sympy.Integer(0)
            )
            if j >= m:  # a seventh function would be the first again: f1' in place of f7' held. t^(j+2)
                # differs from every other choice up to its degree, and is no exponential (p''/p' = p'/p)
                body = params[0] ** (j + 2) + (k + 1) * params[0] + 1 + sum(params[1:], sympy.Integer(0))
            if arity > 1:
                # Mixed partials must not vanish, and two of the same order must differ (∂1∂1∂2 g against
                # ∂1∂2∂2 g): sin(c·t) with c_i = p_i/(4 + k), p_i the i-th prime, gives ∂^α a factor
                # Π c_i^α_i, different for every α by unique factorisation.
                weights = sum((sympy.Rational(sympy.prime(i + 1), 4 + k) * p for i, p in enumerate(params)),
                              sympy.Integer(0))
                body += params[0] * params[1] + sympy.sin(weights)
            assignment[f] = sympy.Lambda(params[0] if arity == 1 else params, body)
        out.append(assignment)
    return out


def abstract_functions(expr: sympy.Expr) -> dict[UndefinedFunction, int]:
    """The abstract functions applied in `expr`, by name, with their number of arguments."""
    found = {app.func: len(app.args) for app in expr.atoms(AppliedUndef)}
    return {f: found[f] for f in sorted(found, key=str)}


def make_concrete(expr: sympy.Expr, assignment: dict[UndefinedFunction, sympy.Lambda]) -> sympy.Expr:
    """Replace abstract functions by concrete ones and let sympy evaluate the derivatives that appear."""
    if not assignment:
        return expr
    replaced = expr.replace(
        lambda e: isinstance(e, AppliedUndef) and e.func in assignment,
        lambda e: assignment[e.func](*e.args),
    )
    return to_elementary(sympy_doit(replaced))


# --- the verifier --------------------------------------------------------------------------------


@dataclass
class _Probe:
    """What the numeric probe has seen so far."""

    agreeing: int = 0
    agreeing_at_random: int = 0  # distinct random points where some choice agreed: only they confirm
    agreeing_choices: set[int] = field(default_factory=set)
    undefined: str | None = None  # the first point where a side is undefined
    domain: str | None = None  # the first point where one side is real and the other not
    isolated: str | None = None  # the first real difference with no decision at the point nearby
    uncertain: str | None = None  # the first point where a side's value cannot be decided (sign of 0 ± ε)
    unsupported: set[int] = field(default_factory=set)  # concrete choices that cannot be evaluated
    points_tried: int = 0


class _Verifier:
    def __init__(self, lhs: sympy.Expr, rhs: sympy.Expr, timeout: float) -> None:
        self.raw = (lhs, rhs)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.timed_out = False
        self.probe = _Probe()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def bounded(self, fn: Callable[..., T], *args: object, share: float = 1.0) -> T | None:
        """Run one tier under the bound; a tier that runs out of time decides nothing (None)."""
        seconds = self.remaining() * share
        if seconds <= 0:
            self.timed_out = True
            return None
        try:
            return run_bounded(fn, *args, seconds=seconds)
        except BoundExceeded:
            self.timed_out = True
            return None

    def run(self) -> Verification:
        try:
            return self.decide()
        except BoundExceeded:
            raise  # an enclosing bound (the caller's) has expired
        except MemoryError:
            return self.unknown("cannot be checked: memory limit reached")
        except (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ArithmeticError) as error:
            return self.unknown(f"cannot be checked: {error}")

    def decide(self) -> Verification:
        sides = self.bounded(lambda: (prepare(self.raw[0]), prepare(self.raw[1])))
        if sides is None:
            return self.unknown()
        self.lhs, self.rhs = sides
        difference = self.bounded(lambda: self.lhs - self.rhs)
        if difference is None:
            return self.unknown()
        if difference == 0:
            return Verification(Verdict.PROVED)
        self.difference = difference
        self.symbols = sorted(difference.free_symbols | self.lhs.free_symbols | self.rhs.free_symbols, key=str)
        # A Tuple, not lhs + rhs, which cancels to 0 when the sides are exact opposites.
        self.functions = abstract_functions(sympy.Tuple(self.lhs, self.rhs))
        self.choices = concrete_choices(self.functions, CONFIRM_CHOICES + 1) if self.functions else [{}]
        needed = max(digits_needed(self.lhs), digits_needed(self.rhs))
        self.dps = BASE_DPS + min(needed, MAX_EXTRA_DIGITS)
        if needed > MAX_EXTRA_DIGITS:
            self.probe.uncertain = beyond_precision(needed)
        self.concrete_cache: dict[int, tuple[sympy.Expr, sympy.Expr] | None] = {}
        self.points = _PointStream(self.symbols)

        refuted = self.bounded(self.probe_points, QUICK_POINTS, share=0.5)
        if refuted is not None:
            return refuted
        if self.prove_symbolically():
            return Verification(Verdict.PROVED, note=self.notes())
        refuted = self.bounded(self.probe_points, MAX_POINTS)
        if refuted is not None:
            return refuted
        if self.enough_agreement() and not self.probe.domain:
            refuted = self.bounded(self.probe_negative_integers, share=0.5)
            if refuted is not None:
                return refuted
        if self.enough_agreement():
            refuted = self.bounded(self.probe_between_breakpoints, share=0.5)
            if refuted is not None:
                return refuted
        return self.confirm_or_unknown()

    def probe_between_breakpoints(self) -> Verification | None:
        """Before numbers confirm a step with pieces (|u|, relu(u), sign(u), max), a point in every interval
        between the zeros of the pieces' arguments: relu(4/9 - x) relu(x - 3/7) = 0 is false only between
        3/7 and 4/9, where no random point falls. In several variables, so along a few lines. In one, also
        points at the scale of its large constants (x near 10^-8 for tanh(10^8 x))."""
        arguments = piece_arguments(self.difference)
        if not self.symbols:
            return None
        if len(self.symbols) != 1:
            if not arguments or len(self.symbols) > MAX_LINE_SYMBOLS:
                return None
            # lines through two simple points and the first random one, and every variable at the scale
            # of a constant of the pieces
            bases = [self.points[i][0] for i in (0, 1, QUICK_POINTS)]
            pairs = [*_between_breakpoints_on_lines(arguments, self.symbols, bases),
                     *_at_the_scale_of_constants(self.difference, self.symbols)]
        else:
            x = self.symbols[0]
            pairs = [*_between_breakpoints(arguments, x), *_at_the_scale_of_constants(self.difference, [x]),
                     *_over_periods(self.difference, x)]
        for point, nearby in pairs:
            for k in range(len(self.choices)):
                refuted = self.try_point(point, k, nearby)
                if refuted is not None:
                    return refuted
        return None

    def probe_negative_integers(self) -> Verification | None:
        """Before numbers confirm a step, a few points of small negative integers: a power of a negative
        base is real only at an integer exponent, where no random point falls (sqrt(x^(2y)) = x^y is
        1 against -1 at x = y = -1). A difference there refutes when it also shows nearby, and otherwise
        keeps the step from being confirmed (`try_point`)."""
        for point in _negative_integer_points(self.symbols):
            refuted = self.try_point(point, 0)
            if refuted is not None:
                return refuted
        return None

    # -- tier 2 and 4: numbers --

    def probe_points(self, count: int) -> Verification | None:
        """Try points up to `count` (for every concrete choice); a refutation ends the search."""
        # Without symbols there is a single point: the value itself, compared once.
        count = count if self.symbols else 1
        while self.probe.points_tried < count:
            index = self.probe.points_tried
            point, at_random = self.points[index]
            agreeing = self.probe.agreeing
            for k in range(len(self.choices)):
                # Abstract functions: the first choice sees every point, the others fewer points.
                if k and index % (k + 1):
                    continue
                refuted = self.try_point(point, k)
                if refuted is not None:
                    return refuted
            if at_random and self.probe.agreeing > agreeing:
                self.probe.agreeing_at_random += 1  # one point, however many choices agreed there
            self.probe.points_tried += 1
            if self.enough_agreement():
                break
        return None

    def enough_agreement(self) -> bool:
        choices = CONFIRM_CHOICES if self.functions else 1
        if not self.symbols:  # a single point: the value itself
            return self.probe.agreeing >= choices and len(self.probe.agreeing_choices) >= choices
        return self.probe.agreeing_at_random >= CONFIRM_POINTS and len(self.probe.agreeing_choices) >= choices

    def concrete(self, k: int) -> tuple[sympy.Expr, sympy.Expr] | None:
        if k not in self.concrete_cache:
            try:
                pair = (make_concrete(self.lhs, self.choices[k]), make_concrete(self.rhs, self.choices[k]))
            except BoundExceeded:
                raise
            except (TypeError, ValueError, NotImplementedError, AttributeError):
                pair = None
            self.concrete_cache[k] = pair
        return self.concrete_cache[k]

    def try_point(self, point: dict[sympy.Symbol, sympy.Rational], k: int,
                  nearby: dict[sympy.Symbol, sympy.Rational] | None = None) -> Verification | None:
        pair = self.concrete(k)
        if pair is None or k in self.probe.unsupported:
            self.probe.unsupported.add(k)
            return None
        outcome = self.compare_at(pair, point, k)
        if outcome is None:
            return None
        kind, values = outcome
        if kind == "agree":
            self.probe.agreeing += 1
            self.probe.agreeing_choices.add(k)
            return None
        # A difference must also show at a nearby point, else it is a measure-zero artefact.
        again = self.compare_at(pair, nearby or _nudged(point), k)
        if again is None and nearby is None:
            # x + |x| is exactly 0 at x = -1 and not, to the interval's width, at -1 + 1/97: an offset
            # exact in binary keeps it 0 (nearby, sign(x + |x|)^2 = 1 fails too)
            again = self.compare_at(pair, _nudged(point, dyadic=True), k)
        if again is None and self.probe.isolated is None:
            # Nearby the sides are not both real (x^(2y) at x = -2 is real only where 2y is an integer):
            # no refutation, but a real difference at a real point, so numbers alone cannot confirm.
            where = ", ".join(f"{s} = {v}" for s, v in point.items())
            self.probe.isolated = f"the sides differ at {where}, where both are real, and nearby they are not"
        if again is None or again[0] != "differ":
            return None
        counterexample = {str(s): str(v) for s, v in point.items()}
        for f, lam in self.choices[k].items():
            # a name that is a variable too (a x^2 = a(2x)) keeps the variable's value under its name
            counterexample[f"{f}(t)" if str(f) in counterexample else str(f)] = str(lam)
        left, right = _decimals(*values, most=self.dps)
        return Verification(
            Verdict.REFUTED, counterexample=counterexample, lhs_value=left, rhs_value=right, note=self.notes()
        )

    def compare_at(
        self, pair: tuple[sympy.Expr, sympy.Expr], point: dict[sympy.Symbol, sympy.Rational], k: int = 0
    ) -> tuple[str, tuple[object, object]] | None:
        """"agree" (to 30+ digits) or "differ" (certainly) with both values, or None (no decision)."""
        dps = self.dps
        for _ in range(2):  # a second try at higher precision when cancellation left a wide interval
            left, right, certified = self.values_at(pair, point, dps, k)
            if left is None:
                return None
            difference = left - right
            scale = max(abs(lo(left)), abs(hi(left)), abs(lo(right)), abs(hi(right)), 1)
            if certified and (lo(difference) > 0 or hi(difference) < 0):
                return "differ", (left, right)
            if not certified and abs(mid(difference)) > FALLBACK_MARGIN * scale:
                return "differ", (left, right)
            width = max(abs(lo(difference)), abs(hi(difference)))
            magnitude = max(abs(lo(left)), abs(hi(left)), abs(lo(right)), abs(hi(right)))
            # Agreement to 30 significant digits, or both zero to the working precision.
            if width <= mpmath.mpf(10) ** -AGREE_DIGITS * magnitude or width <= mpmath.mpf(10) ** (10 - dps):
                return "agree", (left, right)
            dps *= 3
        return None

    def values_at(
        self, pair: tuple[sympy.Expr, sympy.Expr], point: dict[sympy.Symbol, sympy.Rational], dps: int, k: int
    ) -> tuple[object, object, bool] | tuple[None, None, bool]:
        results: list[object] = []
        reasons: list[str | None] = []
        certified = True
        for side in pair:
            try:
                value, side_certified = evaluate(side, point, dps)
            except OutsideDomain as out:
                results.append(None)
                reasons.append(out.reason)
                continue
            except (Unsupported, RecursionError):
                self.probe.unsupported.add(k)
                return None, None, False
            except BoundExceeded:
                raise
            except (ValueError, TypeError, ArithmeticError):  # mpmath's own domain errors
                results.append(None)
                reasons.append("uncertain")
                continue
            certified = certified and side_certified
            results.append(value)
            reasons.append(None)
        if results[0] is not None and results[1] is not None:
            return results[0], results[1], certified
        self.note_domain(pair, point, reasons)
        return None, None, False

    def note_domain(
        self, pair: tuple[sympy.Expr, sympy.Expr], point: dict[sympy.Symbol, sympy.Rational], reasons: list[str | None]
    ) -> None:
        """Remember the first point where exactly one side is undefined (a measure-zero exception) and
        the first where one side is real and the other is not, unless both sides' complex values agree
        there (acos(x) + asin(x) = pi/2 at x = 2: one identity on a larger domain, not two functions).

        Real on a larger domain is not enough: log(a) + log(b) = log(ab) holds where the left side is
        real, but at a = b = -1 the right side is real and is not the left side's value (2 pi i)."""
        where = ", ".join(f"{s} = {v}" for s, v in point.items())
        left, right = reasons
        # (at a simple point, x = 0, a step's own jump is a single point: that decides nothing)
        if self.probe.uncertain is None and "uncertain" in (left, right) and \
                not all(v in SIMPLE_VALUES for v in point.values()):
            # sign(atan(tan(x)) - x) where its argument is 0 over a whole interval: numbers cannot tell there
            self.probe.uncertain = (f"a side cannot be told at {where} (a sign or a power of something that is 0 "
                                    "to the working precision)")
        if self.probe.undefined is None and {left, right} == {None, "undefined"}:
            side = "the left side" if left else "the right side"
            # a step without variables (ln(0) = 1) is undefined as it stands, at no point
            self.probe.undefined = f"{side} undefined at {where}" if where else f"{side} is undefined"
        if self.probe.domain is None and {left, right} == {None, "not real"} and not self.continues(pair, point):
            side = "right" if left is None else "left"
            self.probe.domain = f"differs where the {side} side is not real (e.g. {where})"

    def continues(self, pair: tuple[sympy.Expr, sympy.Expr], point: dict[sympy.Symbol, sympy.Rational]) -> bool:
        """Do both sides have the same complex value (principal branches) at `point`, to 30 significant
        digits? Relative only: two tiny values (e^-100 log(ab) and e^-100 (log a + log b)) are not alike
        for being small."""
        try:
            values = []
            for side in pair:
                parts = sympy.N(side.xreplace(point), self.dps).as_real_imag()
                if not all(isinstance(p, sympy.Number) and p.is_finite for p in parts):
                    return False  # not a number: a Piecewise, a function sympy cannot evaluate there
                values.append(parts)
            with mpmath.workdps(self.dps):
                left, right = (mpmath.mpc(mpmath.mpf(re._as_mpf_val(mpmath.mp.prec)),
                                          mpmath.mpf(im._as_mpf_val(mpmath.mp.prec))) for re, im in values)
                scale = max(abs(left), abs(right))
                return scale == 0 or abs(left - right) <= mpmath.mpf(10) ** -AGREE_DIGITS * scale
        except BoundExceeded:
            raise
        except (TypeError, ValueError, ArithmeticError, AttributeError, RecursionError, NotImplementedError):
            return False

    # -- tier 3: symbols --

    def prove_symbolically(self) -> bool:
        d = self.difference
        steps: tuple[tuple[Callable[[sympy.Expr], sympy.Expr], float], ...] = (
            (lambda e: sympy.cancel(sympy.together(e)), 0.3),
            (_cancel_almost_everywhere, 0.3),
            (lambda e: sympy.cancel(e.rewrite(sympy.exp)), 0.3),
            (sympy.simplify, 0.6),
            (sympy.trigsimp, 0.6),
        )
        budget_end = time.monotonic() + self.remaining() * SYMBOLIC_SHARE
        for step, share in steps:
            seconds = (budget_end - time.monotonic()) * share
            if seconds <= 0:
                self.timed_out = True
                return False
            try:
                result = run_bounded(step, d, seconds=seconds)
            except BoundExceeded:
                self.timed_out = True
                continue
            except (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ArithmeticError):
                continue  # a tier that cannot handle the expression decides nothing
            if result == 0:
                return True
        return False

    # -- verdicts --

    def confirm_or_unknown(self) -> Verification:
        probe = self.probe
        if self.enough_agreement():
            if probe.domain or probe.isolated or probe.uncertain:
                return Verification(Verdict.UNKNOWN, note=self.notes())
            note = self.notes()
            if self.timed_out:
                note = "; ".join(filter(None, [note, "time limit reached in symbolic proof"]))
            if self.functions:
                names = ", ".join(map(str, self.functions))
                extra = f"holds for {len(probe.agreeing_choices)} concrete choices of {names}; not proved"
                note = f"{note}; {extra}" if note else extra
            return Verification(Verdict.CONFIRMED, note=note)
        reasons = []
        if probe.unsupported:
            reasons.append("cannot be evaluated numerically")
        elif self.symbols and probe.agreeing_at_random < CONFIRM_POINTS:
            reasons.append(f"equal at only {probe.agreeing_at_random} random points where both sides are real")
        if self.timed_out:
            reasons.append("time limit reached")
        return self.unknown("; ".join(filter(None, [*reasons, self.notes()])))

    def unknown(self, note: str | None = None) -> Verification:
        if note is None:
            note = "time limit reached" if self.timed_out else None
        return Verification(Verdict.UNKNOWN, note=note)

    def notes(self) -> str | None:
        parts = [p for p in (self.probe.isolated, self.probe.domain, self.probe.uncertain, self.probe.undefined) if p]
        return "; ".join(parts) or None


def beyond_precision(needed: int) -> str:
    """Why numbers cannot confirm a step whose constants need more digits than a probe uses."""
    return (f"a difference as small as 10^-{needed} would not show at the {BASE_DPS + MAX_EXTRA_DIGITS} digits "
            f"the numbers are computed with")


class _PointStream:
    """The sample points, generated once and indexable, each with whether it is random."""

    def __init__(self, symbols: list[sympy.Symbol]) -> None:
        self._source = sample_points(symbols)
        self._seen: list[tuple[dict[sympy.Symbol, sympy.Rational], bool]] = []

    def __getitem__(self, index: int) -> tuple[dict[sympy.Symbol, sympy.Rational], bool]:
        while len(self._seen) <= index:
            self._seen.append(next(self._source))
        return self._seen[index]


# Functions analytic on the whole real line (or, log, on its domain): built from them, a u that is not 0
# is 0 only at isolated points. tan has poles, so atan(tan(x)) - x is 0 on a whole interval; so are
# asin(sin(x)) - x, sqrt(x^2) - x, and a relu's or an abstract function's argument.
_ANALYTIC = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.sinh, sympy.cosh, sympy.tanh, sympy.atan, sympy.asinh)


def _not_zero(u: sympy.Expr) -> bool:
    """Is u seen not to be 0 at some point? An analytic u that sympy does not know to be 0 can be:
    sign(sin(x)^2 + cos(x)^2 - 1)^2 = 1 is false everywhere."""
    symbols = sorted(u.free_symbols, key=str)
    for value in (sympy.Rational(7, 13), sympy.Rational(29, 11), sympy.Rational(-5, 17)):
        point = {s: value + sympy.Rational(j, 3) for j, s in enumerate(symbols)}
        try:
            if abs(mid(evaluate(u, point, BASE_DPS)[0])) > mpmath.mpf(10) ** (10 - BASE_DPS):
                return True
        except (OutsideDomain, Unsupported, ZeroDivisionError, ValueError, TypeError, ArithmeticError):
            continue
    return False


def _analytic(u: sympy.Expr) -> bool:
    return all(_analytic_node(node) for node in sympy.preorder_traversal(u))


def _analytic_node(node: sympy.Basic) -> bool:
    if isinstance(node, sympy.Pow):
        return bool(node.exp.is_Integer) or node.base is sympy.E
    if isinstance(node, (sympy.Derivative, sympy.Subs, sympy.Piecewise)):
        return False
    # derive's sigmoid and softplus are analytic too
    return not isinstance(node, sympy.Function) or isinstance(node, _ANALYTIC) or \
        type(node).__name__ in ("sigmoid", "softplus")


def _cancel_almost_everywhere(e: sympy.Expr) -> sympy.Expr:
    """sign(u) -> u/|u| and Heaviside(u) -> (1 + u/|u|)/2: equal except where u = 0, a set of measure
    zero, which is exactly the freedom a derivative of |x| or relu(x) has. Only for an analytic u (not 0,
    it is 0 on a null set): sign(x + |x|)^2 = 1 is false for every x < 0, sign(atan(tan(x)) - x)^2 = 1
    on (-π/2, π/2)."""
    if not e.has(sympy.sign, sympy.Heaviside):
        return e
    arguments = [f.args[0] for f in e.atoms(sympy.sign, sympy.Heaviside)]
    if not all(_analytic(u) and _not_zero(u) for u in arguments):
        return e
    e = e.replace(sympy.sign, lambda u: u / sympy.Abs(u))
    e = e.replace(sympy.Heaviside, lambda u, *at_zero: (1 + u / sympy.Abs(u)) / 2)
    return sympy.cancel(sympy.together(e))


def _decimals(left: object, right: object, most: int) -> tuple[str, str]:
    """Both values to 15 significant digits, or more (up to `most`) when needed to show that they differ."""
    digits = 15
    while True:
        shown = mpmath.nstr(mid(left), digits), mpmath.nstr(mid(right), digits)
        if shown[0] != shown[1] or digits >= most:
            return shown
        digits = min(most, digits * 2)
