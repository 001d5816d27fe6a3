"""Expand-style derivations: one pending derivative rewritten by one rule per step, every step verified.

The state is a sympy expression in which the derivatives still to take are unevaluated `Derivative`
objects, so every line is a true equation. The outermost pending derivative (leftmost first) is
rewritten by the rule `derive.rules.find_rule` picks. `differentiate` is the front door for both
styles; the Leibniz style lives in `derive.leibniz`.
"""

from __future__ import annotations

import bisect
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cmp_to_key, lru_cache
from typing import Any

import mpmath
import sympy
from sympy.calculus.accumulationbounds import AccumBounds
from sympy.core.function import AppliedUndef
from sympy.core.parameters import distribute

from derive import render
from derive.bounded import BoundExceeded, run_bounded, whole_in_worker_off_main_thread
from derive.check import LOCAL_TIMEOUT, holds_locally, proved_locally, real, real_definitions
from derive.definitions import (
    Definition,
    Definitions,
    canonical,
    interpret,
    names_in,
    rebuilt,
    resolve,
    substitute,
)
from derive.derivation import Derivation, Step
from derive.errors import DefinitionError, DeriveError, LimitError, caret_context
from derive.functions import to_elementary
from derive.limits import DEFAULT_LIMITS
from derive.numeric import OutsideDomain, Unsupported, evaluate, mid
from derive.operations import operations
from derive.parse import KNOWN_FUNCTIONS, parse
from derive.rational import exponential_parts
from derive.rules import find_rule, is_final, pending
from derive.statements import parse_context, read_definition
from derive.symbols import normalize_name, symbol
from derive.sympy_derivative import sympy_diff
from derive.verify import (
    AGREE_DIGITS,
    BASE_DPS,
    Verdict,
    Verification,
    verify_equal,
)

STYLES = ("expand", "leibniz")
STEP_TIMEOUT = 5.0  # seconds the verifier may spend on one step
DERIVATION_BUDGET = 120.0  # seconds the verifier may spend on all the steps of one derivation
TIDY_SECONDS = 2.0  # seconds the final simplification may spend on one candidate form
TIDY_MAX_TERMS = 6  # a result with more terms than this is left as the rules wrote it
TIDY_MAX_SYMBOLS = 12  # ... and so is one in more symbols (function applications count as one each)
CROSSCHECK_SECONDS = 10.0  # seconds for comparing the result with sympy.diff of the whole expression
CROSSCHECK_POINTS = 1  # random points where the result must agree with sympy.diff to 30 digits
CROSSCHECK_TRIES = 8  # points tried (some may lie outside the domain)
CROSSCHECK_SEED = 20240  # the points are random but the same on every run
LETTERS = ("u", "v", "w", "p", "q", "r", "s", "t")
_NAME = re.compile(r"^[^\W\d]\w*$")
# Exceptions by which sympy says it cannot handle an expression: the step is then unknown.
_SYMPY_FAILURES = (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ArithmeticError)


class OptionError(DeriveError):
    """A bad argument to `differentiate`: a `wrt` that is not a name, an unknown style."""


# --- steps and their verification -----------------------------------------------------------------
#
# A step is checked where it happens. An expand step replaces one pending derivative D by R, and an
# equal replacement keeps the whole line equal, so D = R is what is verified; a Leibniz line is read
# in the small model of `definitions.local_model`; a line that only puts lines above together
# (`combine`, substituting the definitions) holds when they do. Each local identity is compared with
# sympy's own derivative of its elementary form, never with a rule's output, and a local check that
# does not prove the step falls back to reading the whole line in full, as before. At the end the
# result is cross-checked once against sympy.diff of the whole expression.


@lru_cache(maxsize=4096)
def _leaf_form(expr: sympy.Basic, defs: Definitions) -> sympy.Expr:
    return interpret(real(expr), real_definitions(defs), elementary=True)


def verify_step(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions, *, timeout: float = STEP_TIMEOUT) -> Verification:
    """Is `lhs = rhs` true, with the contract's Leibniz semantics and every definition substituted?

    Both sides are read by `definitions.interpret` over real symbols, with derive's named functions
    rewritten into elementary ones, so their derivatives are sympy's own and the rule that produced
    `rhs` is never trusted. This reads a line in full; `Checker` tries a local check first.
    """
    started = time.monotonic()
    with distribute(True):  # sympy's usual automatic evaluation, whatever the rules' display needs
        try:
            left, right = run_bounded(lambda: (_leaf_form(lhs, defs), _leaf_form(rhs, defs)), seconds=timeout)
        except BoundExceeded:
            return Verification(Verdict.UNKNOWN, note="time limit reached while substituting and differentiating")
        except _SYMPY_FAILURES as error:
            if isinstance(error, DeriveError):
                raise
            return Verification(Verdict.UNKNOWN, note=f"cannot be read for verification: {error}")
        return verify_equal(left, right, timeout=max(timeout - (time.monotonic() - started), 0.5))


def abstracted(derivative: sympy.Derivative, replacement: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
    """`derivative = replacement` with each operand g of a new pending derivative d/dx[g] written as an
    abstract function G(x), in both sides: d/dx[sin(x^2)] = cos(x^2) d/dx[x^2] becomes
    d/dx[sin(G(x))] = cos(G(x)) G'(x), whatever the size of x^2.

    The abstract identity holds for every differentiable G if it holds at all, and G = g is one of
    them, so proving it proves the rewrite; None when nothing is pending in the replacement.
    """
    if len(derivative.variable_count) != 1 or derivative.variable_count[0][1] != 1:
        return None
    var = derivative.variables[0]
    operands = sorted(
        {d.expr for d in replacement.atoms(sympy.Derivative) if d.variable_count == ((var, 1),) and not is_final(d)},
        key=sympy.default_sort_key,
    )
    if not operands:
        return None
    # A space cannot occur in a user's name, so these functions are never theirs.
    table = {g: sympy.Function(f"op {i}", real=True)(var) for i, g in enumerate(operands)}
    pending_table = {pending(g, var): pending(G, var) for g, G in table.items()}
    model = pending(_abstract(derivative.expr, table), var)
    replaced = replacement.xreplace(pending_table | table)
    if _depends_outside(replaced, table.values(), var):
        # sympy evaluated the operand away (1/u of u = e^z/s is s e^-z): apply the law to the abstract
        # form instead, and take it when putting the operands back gives exactly the replacement.
        again = find_rule(model).rewrite(symbol("u")).after
        if again.xreplace({G: g for g, G in table.items()}) == replacement:
            return model, again
    return model, replaced


def _depends_outside(expr: sympy.Expr, stand_ins: Iterable[sympy.Expr], var: sympy.Symbol) -> bool:
    """Does expr depend on var other than through the stand-ins G(var) (and their derivatives)?

    A walk over the distinct sub-expressions, as `free_symbols` reads them (the x of d/dx and of a
    substitution is bound), without rebuilding the expression.
    """
    hidden = {h for stand_in in stand_ins for h in (stand_in, pending(stand_in, var))}
    memo: dict[sympy.Basic, bool] = {}

    def reaches(e: sympy.Basic) -> bool:
        if e in hidden:
            return False
        if not e.args:
            return e == var
        found = memo.get(e)
        if found is None:
            if isinstance(e, sympy.Derivative):
                found = reaches(e.expr) or any(reaches(count) for _, count in e.variable_count)
            elif isinstance(e, sympy.Subs):
                found = any(reaches(p) for p in e.point) or (var not in e.variables and reaches(e.expr))
            elif getattr(e, "bound_symbols", None):  # an integral, a sum: as sympy reads it
                found = var in e.xreplace({h: sympy.Dummy() for h in hidden}).free_symbols
            else:
                found = any(reaches(a) for a in e.args)
            memo[e] = found
        return found

    return reaches(expr)


def _abstract(e: sympy.Basic, table: Mapping[sympy.Basic, sympy.Expr]) -> sympy.Basic:
    """`e` with each table key replaced, also where a key is a sub-product of a product's factors (the
    numerator x*sin(x) of x*sin(x)/cos(x)) or its reciprocal (a denominator)."""
    if e in table:
        return table[e]
    if isinstance(e, sympy.Mul):
        factors = list(e.args)
        taken: list[sympy.Expr] = []
        for key, stand_in in table.items():
            for parts, power in ((sympy.Mul.make_args(key), 1), (tuple(1 / p for p in sympy.Mul.make_args(key)), -1)):
                if (len(parts) > 1 or power == -1) and _take(factors, parts):
                    taken.append(stand_in**power)
                    break
        if taken:
            return sympy.Mul(*(_abstract(f, table) for f in factors), *taken)
    if not e.args:
        return e
    return rebuilt(e, tuple(_abstract(a, table) for a in e.args))


def _take(factors: list[sympy.Expr], parts: tuple[sympy.Expr, ...]) -> bool:
    """Remove `parts` from `factors` (a multiset) when all of them are there."""
    remaining = list(factors)
    for part in parts:
        if part not in remaining:
            return False
        remaining.remove(part)
    factors[:] = remaining
    return True


def _protect_all(*exprs: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """The expressions with one shared dummy for each function application: the rational algebra
    around the named forms, which is all a simplification changes."""
    table: dict[sympy.Basic, sympy.Dummy] = {}
    return tuple(_protect(e, table)[0] for e in exprs)


def crosscheck(lhs: sympy.Expr, value: sympy.Expr, defs: Definitions, *, seconds: float) -> bool | None:
    """Does `value` agree to 30 digits with sympy's own derivative `lhs` at a random point?

    True when it agrees, False when it clearly differs, None when it cannot tell (abstract functions,
    no point where both sides are defined, time). The derivative is sympy's, taken as backprop takes
    it: every distinct sub-expression (and every definition) is one node, sympy.diff gives each
    node's derivative with respect to its arguments (sums and products: the arithmetic itself), and
    the chain rule is carried out in numbers, from the top down. That costs one small derivative per
    kind of node and one number per node, where sympy.diff of the substituted expression grows with
    the square of a network's depth.
    `value` may be written in the defined names, which then take their values at the point. A second
    line of defence behind the local checks, at the cost of what a person does to check a result.
    """

    def compare() -> bool | None:
        with distribute(True):  # sympy's usual evaluation, whatever the rules' display needs
            graph = _graph_of(lhs, defs)
            if graph is None or value.has(sympy.Derivative, sympy.Subs):
                return None
            top, var, bodies = graph
            right = canonical(value, defs)
        # A leaf is a name: the same name may come real from one side and plain from the other.
        defined = {name.name for name in bodies}
        leaves = {s.name for e in (top, right, *bodies.values()) for s in e.free_symbols} - defined
        leaves.add(var.name)
        rng = random.Random(CROSSCHECK_SEED)
        for _ in range(CROSSCHECK_TRIES):
            # Random points of moderate size: not 0 (where a wrong term x*(...) vanishes), and not so
            # large that sigmoid(z) rounds to 1 and 1 - sigmoid(z) loses every digit.
            point = {s: sympy.Rational(rng.choice((-1, 1)) * rng.randint(10, 200), rng.choice((50, 70, 90)))
                     for s in sorted(leaves)}
            numbers = Numbers(bodies, point, BASE_DPS)
            try:
                expected, actual = numbers.derivative(top, var), numbers.value(right)
            except (OutsideDomain, Unsupported, ArithmeticError, *_SYMPY_FAILURES):
                continue
            with mpmath.workdps(BASE_DPS):
                difference, scale = abs(expected - actual), max(abs(expected), abs(actual))
                if difference <= mpmath.mpf(10) ** -AGREE_DIGITS * scale:
                    return True
                return False if difference > mpmath.mpf(10) ** -20 * scale else None
        return None

    try:
        return run_bounded(compare, seconds=seconds)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return None


Graph = tuple[sympy.Expr, sympy.Symbol, dict[sympy.Symbol, sympy.Expr]]


def _graph_of(lhs: sympy.Expr, defs: Definitions) -> Graph | None:
    """(what is differentiated, the variable, the bodies of the defined names it uses), symbols as
    written, names as plain symbols; var, when it is a defined name, is held as a variable (the
    contract's Leibniz meaning), so its own definition is not among them. None for anything but a
    first derivative, or for a definition used as a function."""
    if not isinstance(lhs, sympy.Derivative) or len(lhs.variable_count) != 1:
        return None
    ((var, count),) = lhs.variable_count
    if count != 1 or not isinstance(var, sympy.Symbol) or lhs.expr.has(sympy.Derivative, sympy.Subs):
        return None
    # Symbols as they are written, not made real: values at real points are the same either way, and
    # rebuilding a large result over real symbols cost more than the rest of the cross-check.
    top = canonical(lhs.expr, defs)
    bodies: dict[sympy.Symbol, sympy.Expr] = {}
    todo = sorted(names_in(top, defs))
    while todo:
        name = todo.pop()
        definition = defs[name]
        key = definition.symbol
        if name == var.name or key in bodies:
            continue
        if definition.params and not definition.written_as_parameters(definition.symbol):
            return None
        bodies[key] = canonical(definition.expr, defs)
        todo.extend(names_in(bodies[key], defs))
    return top, var, bodies


OPAQUE = (AppliedUndef, sympy.Derivative, sympy.Subs, sympy.Piecewise)


class Numbers:
    """Values and sympy's derivatives at one point, over the distinct sub-expressions of expressions
    (a sub-expression shared by many terms, or a layer used by every later one, is computed once).

    A node is a function applied to its arguments: its value and its derivative with respect to
    each argument come from the node's shape (`sin(c0)`, `c0*c1*c2`, `1/(1 + exp(-c0))` for a
    sigmoid), made elementary and differentiated by sympy once per shape. A defined name's node is
    its body.
    """

    def __init__(self, bodies: Mapping[sympy.Symbol, sympy.Expr], point: dict[str, sympy.Rational],
                 dps: int) -> None:
        self.point, self.dps = point, dps
        # Names, not symbols: a name may come real from one expression and plain from another.
        self.named = {name.name: body for name, body in bodies.items()}
        self.values: dict[sympy.Basic, mpmath.mpf] = {}
        self._depends: dict[sympy.Basic, bool] = {}  # does a node depend on the variable? (by `_order`)

    def value(self, e: sympy.Basic) -> mpmath.mpf:
        found = self.values.get(e)
        if found is None:
            body = self.body(e)
            if body is not None:
                found = self.value(body)
            elif isinstance(e, sympy.Symbol):
                if e.name not in self.point:
                    raise Unsupported(f"no value for {e}")
                found = mid(evaluate(e, {e: self.point[e.name]}, self.dps)[0])
            elif not e.free_symbols:
                found = mid(evaluate(e, {}, self.dps)[0])
            elif isinstance(e, (sympy.Add, sympy.Mul)):  # plain arithmetic on the arguments' values
                with mpmath.workdps(self.dps):
                    values = [self.value(a) for a in e.args]
                    found = mpmath.fsum(values) if isinstance(e, sympy.Add) else mpmath.fprod(values)
            else:
                shape, symbols, arguments = self._node(e)
                found = self._at(shape, symbols, arguments)
            self.values[e] = found
        return found

    def body(self, e: sympy.Basic) -> sympy.Expr | None:
        """The definition of `e` when it is a defined name."""
        return self.named.get(e.name) if isinstance(e, sympy.Symbol) else None

    def derivative(self, top: sympy.Expr, var: sympy.Symbol) -> mpmath.mpf:
        """d(top)/d(var): each node passes its share on to its arguments, from the top down."""
        order = self._order(top, var)
        adjoint: dict[sympy.Basic, mpmath.mpf] = {top: mpmath.mpf(1)}
        with mpmath.workdps(self.dps):
            for node in reversed(order):
                weight = adjoint.get(node)
                if not weight or _named(node, var.name):
                    continue
                body = self.body(node)
                if body is not None:
                    adjoint[body] = adjoint.get(body, mpmath.mpf(0)) + weight
                    continue
                for argument, partial in self._partials(node):
                    adjoint[argument] = adjoint.get(argument, mpmath.mpf(0)) + weight * partial
            return mpmath.fsum(w for node, w in adjoint.items() if _named(node, var.name))

    def _partials(self, node: sympy.Basic) -> Iterator[tuple[sympy.Basic, mpmath.mpf]]:
        """Each argument of `node` that depends on the variable, with the node's partial derivative with
        respect to it at the point. Sums and products in numbers: d(a + b)/da = 1, d(abc)/da = bc (the
        arithmetic the chain rule is carried out in, where sympy.diff of a product of n factors by each
        of them costs n^2); every other node's partials are sympy's derivatives of its shape."""
        dependent = [k for k, a in enumerate(node.args) if self._depends.get(a)]
        if isinstance(node, sympy.Add):
            for k in dependent:
                yield node.args[k], mpmath.mpf(1)
            return
        if isinstance(node, sympy.Mul):
            values = [self.value(a) for a in node.args]
            before = [mpmath.mpf(1)]
            for v in values[:-1]:
                before.append(before[-1] * v)
            after = mpmath.mpf(1)
            others = [mpmath.mpf(0)] * len(values)
            for k in range(len(values) - 1, -1, -1):
                others[k] = before[k] * after
                after *= values[k]
            for k in dependent:
                yield node.args[k], others[k]
            return
        shape, symbols, arguments = self._node(node)
        for k in dependent:
            if arguments[k] is not None:
                yield arguments[k], self._at(_partial(shape, symbols[k]), symbols, arguments)

    def _order(self, top: sympy.Expr, var: sympy.Symbol) -> list[sympy.Basic]:
        """The nodes under top that depend on var, each after its arguments (a post-order, each once)."""
        order: list[sympy.Basic] = []
        depends = self._depends = {}

        def visit(e: sympy.Basic) -> bool:
            if e in depends:
                return depends[e]
            body = self.body(e)
            if _named(e, var.name):
                found = True
            elif body is not None:
                found = visit(body)
            elif not e.args or not e.free_symbols:
                found = False
            else:
                found = False
                for a in e.args:
                    found = visit(a) or found
            depends[e] = found
            if found:
                order.append(e)
            return found

        visit(top)
        return order

    def _node(self, e: sympy.Basic) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...], tuple[sympy.Basic | None, ...]]:
        if isinstance(e, OPAQUE) or not isinstance(e, sympy.Expr):
            raise Unsupported(str(e.func))  # no value at a point, or no elementary shape
        pattern = tuple(a if not a.free_symbols else None for a in e.args)
        shape, symbols = _shape(e.func, pattern)
        return shape, symbols, tuple(a if p is None else None for a, p in zip(e.args, pattern, strict=True))

    def _at(self, shape: sympy.Expr, symbols: tuple[sympy.Symbol, ...], arguments: tuple[sympy.Basic | None, ...]
            ) -> mpmath.mpf:
        point = {s: _rational(self.value(a)) for s, a in zip(symbols, arguments, strict=True) if a is not None}
        return mid(evaluate(shape, point, self.dps)[0])


def _named(e: sympy.Basic, name: str) -> bool:
    return isinstance(e, sympy.Symbol) and e.name == name


@lru_cache(maxsize=4096)
def _shape(func: type, pattern: tuple[sympy.Basic | None, ...]) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """A node's function applied to fresh symbols (constants kept), in elementary form."""
    symbols = tuple(sympy.Symbol(f"c{k}", real=True) for k in range(len(pattern)))
    return to_elementary(func(*(s if p is None else p for p, s in zip(pattern, symbols, strict=True)))), symbols


@lru_cache(maxsize=8192)
def _partial(shape: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    return sympy_diff(shape, symbol)


def _rational(value: mpmath.mpf) -> sympy.Rational:
    """An mpf exactly, as a rational (the evaluator takes exact points)."""
    sign, mantissa, exponent, _ = value._mpf_  # exact, where mpmath.mpf(value) rounds to the global 53 bits
    mantissa = -mantissa if sign else mantissa
    return sympy.Rational(mantissa * 2**exponent) if exponent >= 0 else sympy.Rational(mantissa, 2**-exponent)


def weakest(steps: Iterable[Step]) -> Verdict:
    """Proved when every step is proved, confirmed when some is only confirmed (all ok assumed)."""
    return Verdict.CONFIRMED if any(s.verdict is Verdict.CONFIRMED for s in steps) else Verdict.PROVED


@dataclass(frozen=True)
class Checker:
    """Verifies the steps of one derivation, all within one time budget.

    Local checks first (see the comment above), the full reading of a line as the fallback. Once the
    budget is spent, the remaining full checks are `unknown` rather than the derivation taking hours on
    a huge input.
    """

    defs: Definitions
    deadline: float = field(default_factory=lambda: time.monotonic() + DERIVATION_BUDGET)

    def full(self, lhs: sympy.Expr, after: sympy.Expr) -> Verification:
        """`lhs = after` read in full (every definition substituted, sympy's derivatives)."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            note = f"not verified: the derivation's time budget of {DERIVATION_BUDGET:g} s ran out"
            return Verification(Verdict.UNKNOWN, note=note)
        return verify_step(lhs, after, self.defs, timeout=min(STEP_TIMEOUT, remaining))

    def step(self, rule: str, explanation: str, before: sympy.Expr, after: sympy.Expr, lhs: sympy.Expr) -> Step:
        """The line `before = after`, checked as `lhs = after` in full."""
        verification = self.full(lhs, after)
        return Step(rule, explanation, before, after, verification.verdict, verification.note)

    def rewrite(self, raw: RawStep, lhs: sympy.Expr) -> Step:
        """An expand step: the pending derivative against its replacement, abstractly, then as it stands."""
        if raw.derivative is not None and raw.replacement is not None:
            model = abstracted(raw.derivative, raw.replacement)
            if model is None and not names_in(sympy.Tuple(raw.derivative, raw.replacement), self.defs):
                model = raw.derivative, raw.replacement  # a leaf rule (sigma' = sigma (1 - sigma)): as it is
            if model is not None and proved_locally(*model):
                return Step(raw.rule, raw.explanation, raw.before, raw.after, Verdict.PROVED)
            local = verify_step(raw.derivative, raw.replacement, self.defs, timeout=LOCAL_TIMEOUT)
            if local.ok:
                return Step(raw.rule, raw.explanation, raw.before, raw.after, local.verdict, local.note)
        return self.step(raw.rule, raw.explanation, raw.before, raw.after, lhs)

    def modelled(self, rule: str, explanation: str, before: sympy.Expr, after: sympy.Expr, lhs: sympy.Expr) -> Step:
        """A line with Leibniz derivatives: proved in the small model of `local_model`, else read in full."""
        if holds_locally(real(lhs), real(after), real_definitions(self.defs)):
            return Step(rule, explanation, before, after, Verdict.PROVED)
        return self.step(rule, explanation, before, after, lhs)

    def derived(
        self, rule: str, explanation: str, before: sympy.Expr, after: sympy.Expr, lhs: sympy.Expr,
        premises: Sequence[Step], expected: sympy.Expr,
    ) -> Step:
        """A line that puts lines above together: it holds as they do when `after` is exactly `expected`
        (what substituting their results gives); otherwise it is read in full."""
        if premises and all(p.ok for p in premises) and expected == after:
            return Step(rule, explanation, before, after, weakest(premises))
        return self.step(rule, explanation, before, after, lhs)

    def algebra(
        self, rule: str, explanation: str, before: sympy.Expr, after: sympy.Expr, lhs: sympy.Expr,
        old: sympy.Expr, premise: Step | None,
    ) -> Step:
        """A line that rewrites `old` (no derivatives) as `after`: proved with each function application
        held as a symbol (all a simplification changes), else compared as it stands, else read in full."""
        premises = [premise] if premise is not None else []
        if all(p.ok for p in premises):
            # The stand-ins commute: only an identity between commuting quantities is read through them.
            commuting = old.is_commutative and after.is_commutative
            if commuting and proved_locally(*_protect_all(old, after)):
                return Step(rule, explanation, before, after, weakest(premises))
            local = verify_step(old, after, self.defs, timeout=LOCAL_TIMEOUT)
            if local.ok:
                verdict = Verdict.CONFIRMED if local.verdict is Verdict.CONFIRMED else weakest(premises)
                return Step(rule, explanation, before, after, verdict, local.note)
        return self.step(rule, explanation, before, after, lhs)

    def crosscheck(self, step: Step, lhs: sympy.Expr) -> Step:
        """The last line against sympy.diff of the whole expression; on a disagreement it is read in full."""
        if not step.ok:
            return step
        seconds = min(CROSSCHECK_SECONDS, self.deadline - time.monotonic())
        if seconds <= 0 or crosscheck(lhs, step.after, self.defs, seconds=seconds) is not False:
            return step
        verification = self.full(lhs, step.after)
        return replace(step, verdict=verification.verdict, note=verification.note)


# --- the rewriting engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawStep:
    """A rewrite before verification: the rule's name, its sentence (or how to write it, see
    `rules.Rewrite`), the state before and after, and the pending derivative that was replaced with
    its replacement (what a local check compares)."""

    rule: str
    say: str | Callable[[], str]
    before: sympy.Expr
    after: sympy.Expr
    derivative: sympy.Derivative | None = None
    replacement: sympy.Expr | None = None

    @property
    def explanation(self) -> str:
        return self.say if isinstance(self.say, str) else self.say()


class Letters:
    """Fresh names for inner functions, one per nesting level of the chain rule: u, v, w, ...

    Letters already used in the expression are skipped, so `u` never means two things on one line.
    """

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)
        self._letters: list[sympy.Symbol] = []

    def at(self, level: int) -> sympy.Symbol:
        index = 0
        while len(self._letters) <= level:
            name = LETTERS[index] if index < len(LETTERS) else f"u_{index - len(LETTERS) + 1}"
            index += 1
            if name not in self._taken and symbol(name) not in self._letters:
                self._letters.append(symbol(name))
        return self._letters[level]


def names_used(*exprs: sympy.Basic) -> set[str]:
    """Every symbol and function name in the expressions (letters for inner functions avoid them)."""
    used: set[str] = set()
    for expr in exprs:
        used |= {s.name for s in expr.atoms(sympy.Symbol)}
        used |= {type(f).__name__ for f in expr.atoms(sympy.Function)}
        used |= {a.func.__name__ for a in expr.atoms(AppliedUndef)}
    return used


class PendingIndex:
    """The derivatives still to take in each subtree of a derivation's state, remembered across steps.

    A step changes one pending derivative and leaves every other subtree the same object, so finding
    the next derivative and replacing it cost the size of what changed, not of the whole state (a
    product rule over 40 factors leaves a sum of 40 products of 40 factors each).
    """

    def __init__(self) -> None:
        self._memo: dict[sympy.Basic, frozenset[sympy.Derivative]] = {}

    def pending(self, e: sympy.Basic) -> frozenset[sympy.Derivative]:
        found = self._memo.get(e)
        if found is None:
            if isinstance(e, sympy.Subs) or not e.args:
                found = frozenset()  # f'(u) at u = g(x): an answer, written with a bound letter
            else:
                found = frozenset().union(*(self.pending(a) for a in e.args))
                if isinstance(e, sympy.Derivative) and not is_final(e):
                    found |= {e}
            self._memo[e] = found
        return found

    def replace(self, e: sympy.Basic, old: sympy.Derivative, new: sympy.Expr) -> sympy.Basic:
        """`e.xreplace({old: new})`, looking only into the subtrees that hold `old`."""
        if old not in self.pending(e):
            return e
        if e == old:
            return new
        args = tuple(self.replace(a, old, new) for a in e.args)
        if type(e) is sympy.Add:
            changed = [k for k, (a, b) in enumerate(zip(args, e.args, strict=True)) if a is not b]
            if len(changed) == 1 and (quick := sum_with_term_replaced(e, changed[0], args[changed[0]])) is not None:
                return quick
        return rebuilt(e, args)


def sum_with_term_replaced(total: sympy.Add, index: int, term: sympy.Expr) -> sympy.Add | None:
    """`Add(*args)` with `args[index]` replaced by `term`, when sympy would only put `term` in its place:
    found by bisection in sympy's order of terms instead of sorting them all again (a product rule over
    n factors leaves a sum of n terms that n more steps each rebuild). None when sympy would do more
    (combine like terms, flatten a sum, fold a number, absorb into an infinity): then the sum is built
    the usual way."""
    args = list(total.args)
    del args[index]
    if not _ordinary(term) or term.is_Number or (term.is_Pow and term.base.is_Number):
        return None
    if not all(_ordinary(a) for a in args):
        return None
    start = 1 if args and args[0].is_Number else 0  # a number leads
    like = term.as_coeff_Mul()[1]
    if any(a.as_coeff_Mul()[1] == like for a in args[start:]):
        return None
    key = cmp_to_key(sympy.Basic.compare)
    args.insert(bisect.bisect_left(args, key(term), lo=start, key=key), term)
    return sympy.Add._exec_constructor_postprocessors(sympy.Add._from_args(args, True))


_ABSORBING = (sympy.S.Infinity, sympy.S.NegativeInfinity, sympy.S.ComplexInfinity, sympy.S.NaN)


def _ordinary(e: sympy.Basic) -> bool:
    """A term sympy's Add keeps as it is: commuting, no sum, finite if a number, no O(x), no matrix."""
    if not e.is_commutative or e.is_Add or e.is_Order or e in _ABSORBING:
        return False
    if isinstance(e, sympy.MatrixExpr | AccumBounds):
        return False
    return not e.is_Number or isinstance(e, sympy.Rational | sympy.Float)


def next_pending(
    expr: sympy.Basic, stuck: Set[sympy.Derivative] = frozenset(), index: PendingIndex | None = None
) -> sympy.Derivative | None:
    """The derivative to rewrite next: outermost first, left to right; an inner one first when nested.

    Derivatives in `stuck` are those neither derive nor sympy can take (d/dx floor(x)); they stay.
    """
    if index is not None and not index.pending(expr):
        return None
    if isinstance(expr, sympy.Derivative):
        if is_final(expr) or expr in stuck:
            return None
        return next_pending(expr.expr, stuck, index) or expr
    if isinstance(expr, sympy.Subs):
        return None  # f'(u) at u = g(x): an answer, written with a bound letter
    for arg in expr.args:
        found = next_pending(arg, stuck, index)
        if found is not None:
            return found
    return None


def rewrite_all(start: sympy.Expr, taken: Iterable[str], *, max_steps: int = DEFAULT_LIMITS.max_steps) -> list[RawStep]:
    """Rewrite pending derivatives one at a time until none is left (unverified; see `expand`)."""
    letters = Letters(taken)
    level: dict[sympy.Derivative, int] = {}
    stuck: set[sympy.Derivative] = set()
    index = PendingIndex()
    steps: list[RawStep] = []
    state = start
    while (derivative := next_pending(state, stuck, index)) is not None:
        if len(steps) >= max_steps:
            raise LimitError(f"the derivation needs more than {max_steps} steps")
        rule = find_rule(derivative)
        depth = level.get(derivative, 0)
        rewrite = rule.rewrite(letters.at(depth))
        if rewrite.after == derivative:
            stuck.add(derivative)
            continue
        for new in rewrite.after.atoms(sympy.Derivative):
            level.setdefault(new, depth + 1 if new == rewrite.inner else depth)
        after = index.replace(state, derivative, rewrite.after)
        steps.append(RawStep(rule.name, rewrite.say, state, after, derivative, rewrite.after))
        state = after
    return steps


def derivative_value(expr: sympy.Expr, var: sympy.Symbol, taken: Iterable[str] = ()) -> tuple[sympy.Expr, str]:
    """d/dvar[expr] computed by the rules, and the name of the law that did the work (for one-line steps)."""
    start = pending(expr, var)
    steps = rewrite_all(start, names_used(expr) | set(taken))
    if not steps:
        return start, "abstract_function" if is_final(start) else "constant"  # h'(u) is the answer itself
    return steps[-1].after, headline_rule(steps)


def headline_rule(steps: list[RawStep]) -> str:
    """The law a reader would name for a derivative taken in several steps (the first that is not bookkeeping)."""
    for step in steps:
        if step.rule not in ("constant_multiple", "definition"):
            return step.rule
    return steps[0].rule


# --- readable results -----------------------------------------------------------------------------


def _protect(
    expr: sympy.Expr, table: dict[sympy.Basic, sympy.Dummy] | None = None
) -> tuple[sympy.Expr, dict[sympy.Dummy, sympy.Expr]]:
    """Stand a dummy symbol in for each function application, so algebra cannot rewrite named forms.

    An exponential stands as powers of one dummy per term of its exponent, e^(2z - y) as f0^2 f1^-1
    with f0 = e^z and f1 = e^y: e^(2z) e^(-z) then cancels to e^z as it does on paper.
    """
    table = {} if table is None else table

    def stand_in(e: sympy.Basic) -> sympy.Dummy:
        if e not in table:
            table[e] = sympy.Dummy(f"f{len(table)}")
        return table[e]

    def walk(e: sympy.Basic) -> sympy.Basic:
        algebraic = isinstance(e, sympy.Add | sympy.Mul) or (isinstance(e, sympy.Pow) and e.exp.is_Rational)
        if e.is_Atom or algebraic:
            return e.func(*(walk(a) for a in e.args)) if e.args else e
        if isinstance(e, sympy.exp):
            return sympy.Mul(*(stand_in(sympy.exp(m)) ** k for m, k in exponential_parts(e)))
        return stand_in(e)

    protected = walk(expr)
    return protected, {dummy: e for e, dummy in table.items()}


def _factored(expr: sympy.Expr) -> bool:
    """A product of symbols and sums of first degree (w2*x*(1 - f1)*(t - f2)) has nothing to factor."""
    if not isinstance(expr, sympy.Mul):
        return False
    for factor in expr.args:
        base = factor.base if isinstance(factor, sympy.Pow) and factor.exp.is_Integer else factor
        if base.is_Atom:
            continue
        if not isinstance(base, sympy.Add) or any(not t.is_Atom and not _monomial(t) for t in base.args):
            return False
    return True


def _monomial(term: sympy.Expr) -> bool:
    """A number times one symbol: -f1, 2*x."""
    return term.as_coeff_Mul()[1].is_Symbol


def _size(expr: sympy.Expr) -> tuple[int, int]:
    """(operations other than negation, all operations): moving a minus sign is no simplification."""
    counted = operations(expr)
    total = sum(counted.values())
    return total - counted["NEG"], total


def tidy(expr: sympy.Expr, *, seconds: float = TIDY_SECONDS) -> sympy.Expr:
    """A shorter equal form that keeps named forms: σ(z)(1 - σ(z)), 1 - tanh²(z), never 1/(4cosh²(z/2)).

    Function applications are held as opaque symbols while the rational function around them is
    factored or cancelled; a candidate is taken only when it has fewer operations (sympy.count_ops),
    not counting a minus sign moved from one factor to another.
    """
    if expr.is_Atom or not expr.is_commutative:
        return expr  # matrices and operators: the algebra below takes every product as commuting
    protected, back = _protect(expr)
    too_long = len(sympy.Add.make_args(protected)) > TIDY_MAX_TERMS or len(protected.free_symbols) > TIDY_MAX_SYMBOLS
    if too_long or _factored(protected):
        return expr  # nothing to factor, or factoring would take long and read no better
    # Common factors first: factor_terms pulls them out as they stand (2x·σ·(...), 1 - tanh² kept whole)
    # at a fraction of sympy.factor's cost; factor and cancel, which multiply such sums out to factor
    # them as polynomials or put them over one denominator, are tried only when there is no common
    # factor (cancel after factor_terms was 20 ms of a softmax's 130, for a longer candidate).
    transforms: list[Callable[[sympy.Expr], sympy.Expr]] = [sympy.factor_terms, sympy.factor]
    if any(p.exp.is_negative for p in protected.atoms(sympy.Pow)):
        transforms.append(sympy.cancel)  # cancel expands products: only worth it for a fraction

    def shorter(transform: Callable[[sympy.Expr], sympy.Expr]) -> tuple[sympy.Expr, tuple[int, int]]:
        candidate = transform(protected).xreplace(back)
        return candidate, _size(candidate)

    best, best_size = expr, _size(expr)
    for transform in transforms:
        if transform is not sympy.factor_terms and best is not expr:
            continue
        try:
            candidate, size = run_bounded(shorter, transform, seconds=seconds)
        except (BoundExceeded, sympy.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
        if size[0] < best_size[0] and size[1] <= best_size[1]:
            best, best_size = candidate, size
    return best


# --- expand style ----------------------------------------------------------------------------------


def expand(expr: sympy.Expr, var: sympy.Symbol, defs: Definitions) -> tuple[tuple[Step, ...], sympy.Expr]:
    """The expand-style steps of d/dvar[expr] and the result."""
    checker = Checker(defs)
    start = pending(expr, var)
    state = start
    substituted: str | None = None  # the first line's explanation, when it substitutes definitions
    if defs and names_in(expr, defs) - {var.name}:
        body = canonical(substitute(expr, defs, keep=[var]), defs)
        state = pending(body, var)
        used = sorted(names_in(expr, defs) - {var.name})
        listed = "; ".join(f"{n} = {render.plain(defs[n].expr)}" for n in used)
        substituted = f"Substitute the definitions: {listed}."
    raws = rewrite_all(state, names_used(expr, state) | set(defs.names))
    final = raws[-1].after if raws else state
    tidied = tidy(final)
    with checking():
        steps: list[Step] = []
        if substituted is not None:
            steps.append(checker.step("definition", substituted, start, state, start))
        steps.extend(checker.rewrite(raw, start) for raw in raws)
        if steps:
            steps[-1] = checker.crosscheck(steps[-1], start)
        steps.extend(simplify_step(checker, final, tidied, start))
    return tuple(steps), steps[-1].after if steps else state


@contextmanager
def checking() -> Iterator[None]:
    """sympy's usual evaluation, for verifying lines the rules wrote with numbers undistributed.

    Every switch of sympy's `distribute` setting empties sympy's whole cache, so a derivation writes
    all its lines first and then checks them all under one switch, rather than switching twice a line.
    """
    with distribute(True):
        yield


def simplify_step(
    checker: Checker, state: sympy.Expr, tidied: sympy.Expr, lhs: sympy.Expr, premise: Step | None = None
) -> list[Step]:
    """The final `simplify` step (`state = tidied`, `tidied` from `tidy`), or none when it is no shorter.

    With a `premise` (a Leibniz line `lhs = state`) the step is written `lhs = tidied` and holds as
    the premise does; without one it is `state = tidied`, an identity of its own.
    """
    if tidied == state:
        return []
    before = lhs if premise is not None else state
    explanation = "Simplify, keeping the named functions."
    return [checker.algebra("simplify", explanation, before, tidied, lhs, state, premise)]


# --- reading the arguments of differentiate --------------------------------------------------------


def read_expression(expr: str | sympy.Basic, defs: Definitions | None = None) -> tuple[str, sympy.Expr]:
    """The input as text (for the record) and as sympy, read under the definitions (`y(1 - y)` is a
    product once y is defined, and a defined `e` is that name, not Euler's number)."""
    if isinstance(expr, str):
        return expr, parse(expr, context=parse_context(defs or ()))
    if isinstance(expr, sympy.Basic):
        if not isinstance(expr, sympy.Expr):  # Eq(x, 1), x > 1: nothing to differentiate (it gave no steps)
            raise OptionError(f"expected an expression to differentiate, got {type(expr).__name__}: "
                              f"{render.plain(expr)}")
        return render.plain(expr), expr
    if isinstance(expr, int):
        return str(expr), sympy.Integer(expr)
    raise OptionError(f"expected an expression as text or sympy, got {type(expr).__name__}")


def read_variable(wrt: str | sympy.Basic, *exprs: sympy.Basic, defined: Collection[str] = ()) -> sympy.Symbol:
    """The variable to differentiate by: a name, never a number or a function that is not defined (`defined`
    names an intermediate, y(z) = sigmoid(z), which may be held as a variable); the expression's own symbol
    of that name."""
    if isinstance(wrt, sympy.Symbol) and _NAME.match(wrt.name):
        name = wrt.name
    elif isinstance(wrt, str) and _NAME.match(normalize_name(wrt.strip())):
        name = normalize_name(wrt.strip())
    else:
        shown = wrt if isinstance(wrt, str) else render.plain(wrt) if isinstance(wrt, sympy.Basic) else repr(wrt)
        raise OptionError(f"wrt must be a variable name such as x or w1, not {shown!r}")
    for expr in exprs:
        for s in expr.free_symbols:
            if isinstance(s, sympy.Symbol) and s.name == name:
                return s
    applied = [f for expr in exprs for f in expr.atoms(sympy.Function) if _function_name(f) == name]
    if applied and name not in defined:  # d/dsin(sin(x)) and d/dy(y(x)^2) were 0
        raise OptionError(f"cannot differentiate by {name}: it is a function in the expression "
                          f"({render.plain(applied[0])}), not a variable; differentiate by its argument")
    constant = {"e": sympy.E, "pi": sympy.pi}.get(name)
    if constant is not None and any(expr.has(constant) or (name == "e" and expr.has(sympy.exp)) for expr in exprs):
        # d/de of e*x would be 0: the e written there is Euler's number
        what = "Euler's number" if name == "e" else "the number π"
        raise OptionError(f"cannot differentiate by {name}: {name} in the expression is {what}, a constant; "
                          "write the variable with another name")
    return symbol(name)


def _function_name(f: sympy.Function) -> str:
    """The name a function is written with: sin for sin(x), sigmoid for σ(z), y for y(x)."""
    return str(getattr(f.func, "__name__", type(f).__name__))


def read_style(style: str | None, defs: Definitions) -> str:
    if style is None:
        return "leibniz" if defs else "expand"
    if style not in STYLES:
        raise OptionError(f"unknown style {style!r}: expected one of {', '.join(STYLES)}")
    return style


_HEAD = re.compile(r"^\s*([^\W\d]\w*)\s*(?:\(\s*([^()]*?)\s*\))?\s*$")


def _definition_from_pair(key: Any, value: str | sympy.Basic) -> tuple[Definition, str]:
    if isinstance(key, AppliedUndef) and all(isinstance(a, sympy.Symbol) for a in key.args):
        name, params = key.func.__name__, tuple(key.args)
    elif isinstance(key, sympy.Symbol):
        name, params = key.name, ()
    elif isinstance(key, str) and (match := _HEAD.match(key)):
        names = [p.strip() for p in match.group(2).split(",")] if match.group(2) else []
        if not all(_NAME.match(p) for p in names):
            raise OptionError(f"cannot read the definition head {key!r}")
        name, params = normalize_name(match.group(1)), tuple(symbol(p) for p in names)
    else:
        raise OptionError(f"a definition's name must be a name such as y or y(z), not {key!r}")
    if name in KNOWN_FUNCTIONS:  # as the same definition written as text is refused
        raise OptionError(f"{name} is a built-in function and cannot be defined")
    head = f"{name}({', '.join(p.name for p in params)})" if params else name
    if isinstance(value, str):
        return Definition(name, params, parse(value)), f"{head} = {value}"
    if isinstance(value, sympy.Basic):
        return Definition(name, params, value), f"{head} = {render.plain(value)}"
    raise OptionError(f"the definition of {name} must be text or a sympy expression")


def read_where(where: Iterable[str] | Mapping[Any, str | sympy.Basic] | str) -> tuple[Definitions, tuple[str, ...]]:
    """Definitions from strings (`"y(z) = sigmoid(z)"`) or a mapping, checked for cycles."""
    items: list[Definition] = []
    texts: list[str] = []
    if isinstance(where, str):
        where = [where]
    if not isinstance(where, Mapping | Iterable):
        raise OptionError(f"definitions are given as a list of texts or a mapping, not {type(where).__name__}")
    if isinstance(where, Mapping):
        for key, value in where.items():
            definition, text = _definition_from_pair(key, value)
            items.append(definition)
            texts.append(text)
    else:
        for text in where:
            if not isinstance(text, str):
                raise OptionError(f"definitions are given as text such as 'y = sigmoid(z)', not {text!r}")
            try:
                items.append(read_definition(text, known=items))
            except DefinitionError as error:
                raise _at_definition(error, text) from None
            texts.append(text)
    defs = Definitions(items)
    try:
        defs.check_acyclic()
    except DefinitionError as error:
        at = next((t for d, t in zip(items, texts, strict=True) if d.name == error.name), None)
        raise (_at_definition(error, at) if at is not None else error) from None
    return defs, tuple(texts)


def _at_definition(error: DefinitionError, text: str) -> DefinitionError:
    """`error` shown at the start of the definition `text` it is about (one line: a --where argument)."""
    return DefinitionError(error.message, line=1, column=1, context=caret_context(text, 1, 1), name=error.name)


def _derive(
    expression: sympy.Expr, var: sympy.Symbol, defs: Definitions, style: str
) -> tuple[tuple[Step, ...], list[Step], sympy.Expr, Definition | None]:
    first, expression = read_leibniz_derivatives(expression, var, defs)
    if style == "leibniz":
        from derive.leibniz import leibniz  # leibniz builds on this module's engine

        steps, result, named = leibniz(expression, var, defs)
        return tuple(first), list(steps), result, named
    steps, result = expand(expression, var, defs)
    return tuple(first), list(steps), result, None


@whole_in_worker_off_main_thread
def differentiate(
    expr: str | sympy.Basic,
    wrt: str | sympy.Symbol,
    *,
    where: Iterable[str] | Mapping[Any, str | sympy.Basic] = (),
    style: str | None = None,
) -> Derivation:
    """d/dwrt[expr] step by step, every step verified (contract section 2).

    `where` gives definitions as strings or a mapping; `style` is "expand" (one pending derivative
    rewritten per step) or "leibniz" (chain of named intermediates), by default leibniz when
    definitions are given. Called from another thread, it runs whole in the worker process.
    """
    defs, where_texts = read_where(where)
    text, expression = read_expression(expr, defs)
    chosen = read_style(style, defs)
    var = read_variable(wrt, expression, *(d.expr for d in defs), defined=defs.names)
    try:
        # Keep 2*(a - y) and -(a - y) as the rules write them rather than let sympy distribute the number.
        with distribute(False):
            first, steps, result, named = _derive(expression, var, defs, chosen)
    except RecursionError:
        # ... except where sympy cannot: its odd functions loop on sin(-a - x) while numbers are not
        # distributed (sin(-u) -> -sin(u) -> sin(-u) ...). Such a derivation is written the usual way.
        first, steps, result, named = _derive(expression, var, defs, chosen)
    return Derivation(
        steps=(*first, *steps), result=result, input=text, wrt=var.name, where=where_texts, style=chosen,
        named=named, definitions=tuple(defs), expression=expression,
    )


def read_leibniz_derivatives(expr: sympy.Expr, var: sympy.Symbol, defs: Definitions) -> tuple[list[Step], sympy.Expr]:
    """A first step that gives `dE/dy` inside the expression its Leibniz meaning, when there is one.

    The rules know nothing of definitions; a derivative of a defined name is read as the contract
    says before they start.
    """
    if not defs or not expr.has(sympy.Derivative):
        return [], expr
    # By a defined name (--wrt u), the derivatives inside keep u for the rules to take, where they can
    outer = frozenset({var.name}) if var.name in defs else frozenset()
    resolved = resolve(expr, defs, every=False, outer=outer)
    if resolved == expr:
        return [], expr
    start = pending(expr, var)
    explanation = "Read each derivative of a defined name by its meaning (the other names substituted)."
    return [Checker(defs).step("definition", explanation, start, pending(resolved, var), start)], resolved
