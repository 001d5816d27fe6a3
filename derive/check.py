"""Checking a hand-written derivation: every `=` is one step, judged on its own by the verifier.

Both sides of a step are read in the leaf variables with the contract's Leibniz semantics
(`definitions.interpret`, named functions rewritten into elementary ones so that derive's own rules
are never trusted) and compared by `verify.verify_equal`. A wrong step also gets what its left side
really is and, when the right side matches a classic mistake, its name (`diagnose`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import sympy
from sympy.core.function import AppliedUndef

from derive.bounded import BoundExceeded, run_bounded
from derive.definitions import Definition, Definitions, interpret
from derive.diagnose import diagnose
from derive.errors import DefinitionError
from derive.report import Report, StepCheck
from derive.statements import read_statements
from derive.symbols import function, realify, symbol
from derive.verify import Verdict, Verification, prepare, verify_equal

STEP_TIMEOUT = 5.0  # seconds the verifier may spend on one step
READ_TIMEOUT = 5.0  # seconds for giving one side its meaning (substituting, differentiating)
EXPECTED_TIMEOUT = 2.0  # seconds for writing out what a wrong step's left side really is
DIAGNOSIS_BUDGET = 4.0  # seconds for naming the mistake of one wrong step

# Exceptions by which sympy says it cannot handle an expression; they make a step unknown.
_SYMPY_FAILURES = (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ZeroDivisionError)


def check(text: str, *, latex: bool | None = None, timeout: float = STEP_TIMEOUT) -> Report:
    """Check every step of a derivation (contract sections 1 and 2).

    Definitions apply from their line on (`let y = ...` replaces y); a wrong step never hides the
    steps after it. A ParseError (with line and column) or a DefinitionError propagates: that is bad
    input, not a wrong step.
    """
    statements = read_statements(text, latex=latex)
    defs = Definitions()
    definitions: list[Definition] = []
    steps: list[StepCheck] = []
    head: sympy.Expr | None = None
    head_holds = False
    for statement in statements:
        if statement.kind == "definition" and statement.definition is not None:
            defs = defs.with_definition(statement.definition)
            _require_acyclic(defs, statement.definition.name, statement.line)
            definitions.append(statement.definition)
            head = None  # a line `= ...` below continues from the definition's body
            continue
        if not statement.continues or head is None:
            head, head_holds = statement.parts[0], True
        for k, lhs, rhs in statement.steps:
            # The chain's head names what the left side really is only while every step since holds.
            origin = head if head_holds and head is not None and head is not lhs else None
            step = check_step(lhs, rhs, defs, line=statement.line, k=k, origin=origin, timeout=timeout)
            head_holds = head_holds and step.ok
            steps.append(step)
    return Report(steps=tuple(steps), definitions=tuple(definitions))


def check_step(
    lhs: sympy.Expr,
    rhs: sympy.Expr,
    defs: Definitions,
    *,
    line: int = 1,
    k: int = 0,
    origin: sympy.Expr | None = None,
    timeout: float = STEP_TIMEOUT,
    explain: bool = True,
) -> StepCheck:
    """One step `lhs = rhs` under the definitions in force; `origin` is an expression known to equal lhs
    (the head of its chain), which helps name a mistake. With `explain=False` a wrong step gets its
    verdict and counterexample only (no expected value, no diagnosis)."""
    # derive's mathematics is real analysis: both sides and every definition over real symbols
    written = (lhs, rhs, origin)
    lhs, rhs = real(lhs), real(rhs)
    origin = real(origin) if origin is not None else None
    defs = real_definitions(defs)
    try:
        sides = run_bounded(_meanings, lhs, rhs, defs, seconds=READ_TIMEOUT)
    except DefinitionError as error:
        raise DefinitionError(f"line {line}: {error}") from None
    except BoundExceeded:
        note = "time limit reached while reading the derivatives"
        return StepCheck(line, k, *written[:2], Verdict.UNKNOWN, note=note)
    except _SYMPY_FAILURES as error:
        return StepCheck(line, k, *written[:2], Verdict.UNKNOWN, note=f"cannot read the derivatives: {error}")
    left, right = sides
    verification = verify_equal(left, right, timeout=timeout)
    if verification.verdict is Verdict.UNKNOWN and left != 0 and _opposite(left, right):
        verification = _opposite_sides(left, timeout) or verification
    expected = diagnosis = None
    if explain and verification.verdict is Verdict.REFUTED:
        expected = expected_value(lhs, defs)
        expected = as_written(expected) if expected is not None else None
        targets = (lhs,) if origin is None or not origin.has(sympy.Derivative) else (lhs, origin)
        diagnosis = diagnose(targets, right, defs, budget=DIAGNOSIS_BUDGET)
    return StepCheck(
        line=line,
        k=k,
        lhs=written[0],
        rhs=written[1],
        verdict=verification.verdict,
        counterexample=verification.counterexample,
        expected=expected,
        diagnosis=diagnosis,
        note=verification.note,
        lhs_value=verification.lhs_value,
        rhs_value=verification.rhs_value,
    )


def real(expr: sympy.Basic) -> sympy.Basic:
    """`realify`, also for the symbols a derivative binds (the z of dy/dz is no free symbol)."""
    bound = {
        v: sympy.Symbol(v.name, real=True)
        for v in expr.atoms(sympy.Symbol)
        if not v.is_Dummy and v.is_real is not True
    }
    return realify(expr.xreplace(bound) if bound else expr)


@lru_cache(maxsize=16)
def real_definitions(defs: Definitions) -> Definitions:
    """The definitions over real symbols and real-valued abstract functions (cached per collection)."""
    return Definitions(replace(d, params=tuple(real(p) for p in d.params), expr=real(d.expr)) for d in defs)


def as_written(expr: sympy.Expr) -> sympy.Expr:
    """Back to the symbols and functions the parser makes, so that an expected value compares equal to
    what the user's own code (or sympify of the JSON) builds."""
    names = {s: symbol(s.name) for s in expr.free_symbols if isinstance(s, sympy.Symbol) and not s.is_Dummy}
    plain = expr.xreplace(names)
    return plain.replace(lambda e: isinstance(e, AppliedUndef), lambda e: function(e.func.__name__)(*e.args))


def _opposite(left: sympy.Expr, right: sympy.Expr) -> bool:
    try:
        return run_bounded(lambda: sympy.Add(prepare(left), prepare(right)) == 0, seconds=READ_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return False


def _opposite_sides(left: sympy.Expr, timeout: float) -> Verification | None:
    """`L = -L` holds exactly where L = 0, so it is decided by `L = 0`.

    The verifier looks for abstract functions in lhs + rhs, which vanishes when the sides are opposite
    (f'(x) = -f'(x)); asked `L = 0` it finds them and makes them concrete.
    """
    zero = verify_equal(left, sympy.Integer(0), timeout=timeout)
    if zero.verdict is not Verdict.REFUTED or zero.lhs_value is None:
        return None
    value = zero.lhs_value
    opposite = value[1:] if value.startswith("-") else f"-{value}"
    return replace(zero, rhs_value=opposite)


def _meanings(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions) -> tuple[sympy.Expr, sympy.Expr]:
    return interpret(lhs, defs, elementary=True), interpret(rhs, defs, elementary=True)


def expected_value(lhs: sympy.Expr, defs: Definitions) -> sympy.Expr | None:
    """What the left side really is, in the leaf variables with derive's named functions kept.

    For algebra (no derivative) the expanded form says more than the left side repeated, as long as
    it stays short: (a - y)^2 -> a^2 - 2 a y + y^2.
    """
    try:
        value = run_bounded(interpret, lhs, defs, seconds=EXPECTED_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return None
    if lhs.has(sympy.Derivative):
        return value.replace(_is_derivative_wrt_expression, _as_prime) if value.has(sympy.Derivative) else value
    try:
        expanded = run_bounded(sympy.expand, value, seconds=EXPECTED_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return value
    if expanded != value and sympy.count_ops(expanded) <= 3 * sympy.count_ops(value) + 4:
        return expanded
    return value


def _is_derivative_wrt_expression(e: sympy.Basic) -> bool:
    return isinstance(e, sympy.Derivative) and len(e.variables) == 1 and not e.variables[0].is_Symbol


def _as_prime(e: sympy.Derivative) -> sympy.Expr:
    """sympy's d f(g(x))/d g(x) written as f'(g(x)): `Subs(Derivative(f(t), t), t, g(x))`, as primes are read."""
    (inner, order), = e.variable_count
    t = sympy.Dummy("t", real=True)
    return sympy.Subs(sympy.Derivative(e.expr.xreplace({inner: t}), (t, order)), t, inner)


def _require_acyclic(defs: Definitions, name: str, line: int) -> None:
    """The definitions before were acyclic, so a cycle now runs through the new name: follow its
    dependencies until they end or lead back to it (linear, where a full check per line is quadratic)."""
    trail: dict[str, str] = {}  # each name reached -> the name that led to it
    todo = [name]
    while todo:
        current = todo.pop()
        for child in sorted(defs.dependencies(current)):
            if child == name:
                cycle = [name, current]
                while cycle[-1] != name:
                    cycle.append(trail[cycle[-1]])
                path = " -> ".join(reversed(cycle))
                raise DefinitionError(f"line {line}: cyclic definitions: {path}")
            if child not in trail and child in defs:
                trail[child] = current
                todo.append(child)
