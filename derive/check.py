"""Checking a hand-written derivation: every `=` is one step, judged on its own by the verifier.

Both sides of a step are read in the leaf variables with the contract's Leibniz semantics
(`definitions.interpret`, named functions rewritten into elementary ones so that derive's own rules
are never trusted) and compared by `verify.verify_equal`. A wrong step also gets what its left side
really is and, when the right side matches a classic mistake, its name (`diagnose`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache

import sympy
from sympy.core.function import AppliedUndef
from sympy.core.parameters import distribute

from derive.bounded import BoundExceeded, run_bounded, whole_in_worker_off_main_thread
from derive.definitions import Definition, Definitions, Model, depends_on, interpret, local_model, substitute
from derive.diagnose import diagnose
from derive.errors import DefinitionError
from derive.functions import to_elementary
from derive.givens import Given, explicit_function, functions_of, on_givens
from derive.jets import in_jets
from derive.printing import to_text
from derive.rational import vanishes_as_rational_function
from derive.report import Report, StepCheck
from derive.statements import at_statement, read_statements
from derive.symbols import as_written, realify
from derive.verify import (
    PIECES,
    Verdict,
    Verification,
    commuting,
    looks_risky,
    piece_arguments,
    prepare,
    verify_equal,
)

STEP_TIMEOUT = 5.0  # seconds the verifier may spend on one step
READ_TIMEOUT = 5.0  # seconds for giving one side its meaning (substituting, differentiating)
EXPECTED_TIMEOUT = 2.0  # seconds for writing out what a wrong step's left side really is
DIAGNOSIS_BUDGET = 4.0  # seconds for naming the mistake of one wrong step
LOCAL_TIMEOUT = 2.0  # seconds for proving a step in a smaller model before reading it in full
QUICK_PROOF_SECONDS = 0.5  # seconds for cancelling a local identity before the verifier's full tiers
TAME_BITS = 600  # a constant longer than this (in bits) may keep one C call busy for long
TAME_POWER = 40  # ... and so may a higher power of a sum, once expanded

# Exceptions by which sympy says it cannot handle an expression; they make a step unknown.
_SYMPY_FAILURES = (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ArithmeticError)


@whole_in_worker_off_main_thread
def check(text: str, *, latex: bool | None = None, timeout: float = STEP_TIMEOUT) -> Report:
    """Check every step of a derivation (contract sections 1 and 2).

    Definitions apply from their line on (`let y = ...` replaces y); a wrong step never hides the
    steps after it. A ParseError (with line and column) or a DefinitionError propagates: that is bad
    input, not a wrong step. Called from another thread, it runs whole in the worker process.
    """
    statements = read_statements(text, latex=latex)
    defs = Definitions()
    definitions: list[Definition] = []
    givens: list[Given] = []  # those in force
    given_lines: list[Given] = []  # every given line, for the report
    steps: list[StepCheck] = []
    head: sympy.Expr | None = None
    head_holds = False
    # The = signs before each statement on its line: rows of an align on one line (x &= a \\ &= b) or
    # several $...$ pieces number their steps along the line, as k is the index of the = on the line.
    equals_before: dict[int, int] = {}
    applied: dict[str, tuple[int, sympy.Expr]] = {}  # undefined names written applied, y(x): where first
    for statement in statements:
        for part in statement.parts:
            for f in sorted(part.atoms(AppliedUndef), key=str):
                applied.setdefault(f.func.__name__, (statement.line, f))
        first_k = equals_before.get(statement.line, 0)
        equals_before[statement.line] = first_k + len(statement.parts) - 1
        try:
            if statement.kind == "definition" and statement.definition is not None:
                defs = defs.with_definition(statement.definition)
                _require_acyclic(defs, statement.definition.name, statement.line)
                definitions.append(statement.definition)
                # a given reads as the claims below it do, under the definitions in force (r = 5 after it)
                givens = [g for g in (read_given(g.lhs, g.rhs, defs, g.line, again=True) for g in givens) if g]
                head = None  # a line `= ...` below continues from the definition's body
                continue
            if statement.kind == "given":
                given = read_given(statement.parts[0], statement.parts[1], defs, statement.line)
                assert given is not None  # read the first time, a given without a function is an error
                # a given on all the functions of an earlier one replaces it (the next problem of a sheet), unless
                # it writes one of them outright (a ladder's x^2 + y^2 = 100, then its area x y/2 = A(t), or a
                # rate dx/dt = 2), which adds to the givens
                covers = functions_of(given.equation)
                if explicit_function(given)[0] is None:
                    # replacing an implicit given starts the next problem: its rates go with it (a rate above a
                    # first implicit given, x'(t) = 2 then the ladder, stays)
                    replaced = any(explicit_function(g)[0] is None and functions_of(g.equation) <= covers
                                   for g in givens)
                    givens = [g for g in givens if not functions_of(g.equation) <= covers
                              or (explicit_function(g)[0] is not None and not replaced)]
                givens = [*givens, given]
                given_lines.append(given)
                head = None
                continue
            if not statement.continues or head is None:
                head, head_holds = statement.parts[0], True
            for k, lhs, rhs in statement.steps:
                # The chain's head names what the left side really is only while every step since holds.
                origin = head if head_holds and head is not None and head is not lhs else None
                step = check_step(lhs, rhs, defs, line=statement.line, k=first_k + k, origin=origin, timeout=timeout,
                                  givens=givens)
                head_holds = head_holds and step.ok
                steps.append(_with_note(step, _variable_written_as_function(lhs, rhs, defs, applied, statement.line))
                             if step.ok else step)
        except DefinitionError as error:
            raise at_statement(error, text, statement.line, statement.column) from None
    return Report(steps=tuple(steps), definitions=tuple(definitions), givens=tuple(given_lines))


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
    givens: Sequence[Given] = (),
) -> StepCheck:
    """One step `lhs = rhs` under the definitions in force; `origin` is an expression known to equal lhs
    (the head of its chain), which helps name a mistake. With `explain=False` a wrong step gets its
    verdict and counterexample only (no expected value, no diagnosis). A step that is not an identity
    is checked again on the `givens` in force that share a function with it (derive.givens), whose
    verdict decides: a point off the givens refutes nothing claimed only on them."""
    # derive's mathematics is real analysis: both sides and every definition over real symbols
    written = (lhs, rhs, origin)
    lhs, rhs = real(lhs), real(rhs)
    origin = real(origin) if origin is not None else None
    defs = real_definitions(defs)
    kink, known = _derivative_at_a_kink(lhs, rhs, defs)
    if kink is not None:
        return StepCheck(line, k, *written[:2], Verdict.UNKNOWN, note=kink)
    kink_note = None
    if known:  # x|x| at 0: its derivative is the one-sided limits' common value
        lhs, rhs = lhs.xreplace(known), rhs.xreplace(known)
        kink_note = "a derivative at a kink, taken as its one-sided limits (they agree)"
    if holds_locally(lhs, rhs, defs):
        note = _function_by_another_variable(lhs, rhs, defs) or _constant_derivatives(lhs, rhs, defs)
        note = "; ".join(filter(None, [kink_note, note])) or None
        return StepCheck(line, k, *written[:2], Verdict.PROVED, note=note)
    try:
        sides = run_bounded(_meanings, lhs, rhs, defs, seconds=READ_TIMEOUT)
    except DefinitionError as error:  # at this step, unless it is about a definition's own line
        raise DefinitionError(error.message, line=error.line or line, name=error.name) from None
    except BoundExceeded:
        note = "time limit reached while reading the derivatives"
        return StepCheck(line, k, *written[:2], Verdict.UNKNOWN, note=note)
    except _SYMPY_FAILURES as error:
        return StepCheck(line, k, *written[:2], Verdict.UNKNOWN, note=f"cannot read the derivatives: {error}")
    left, right = sides
    verification = verify_equal(left, right, timeout=timeout)
    if verification.verdict is Verdict.UNKNOWN and left != 0 and _opposite(left, right):
        verification = _opposite_sides(left, timeout) or verification
    on_given = on_givens(left, right, givens, timeout=timeout) if givens and not verification.ok else None
    if on_given is not None:  # a point off the given refutes nothing that is claimed only on it
        verification = on_given.verification
    note = verification.note
    extra = _function_by_another_variable(lhs, rhs, defs) or (
        _constant_derivatives(lhs, rhs, defs) if verification.ok else _both_roles(written[0], written[1]))
    note = "; ".join(filter(None, [kink_note, note, extra])) or None
    expected = diagnosis = None
    if on_given is not None:
        if explain and on_given.expected is not None and verification.verdict is Verdict.REFUTED:
            expected = as_written(on_given.expected)
    elif explain and verification.verdict is Verdict.REFUTED:
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
        note=note,
        lhs_value=verification.lhs_value,
        rhs_value=verification.rhs_value,
    )


def _derivative_at_a_kink(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions
                          ) -> tuple[str | None, dict[sympy.Subs, sympy.Expr]]:
    """Derivatives taken at a point where a piece of the function changes (|x| at 0, relu, max), where
    sympy's formula (sign(0) = 0, heaviside(0) = 1/2) is no derivative: the true one may not exist (|x|) or
    differ (relu(x)^2 + relu(-x)^2 is x^2). A first derivative written at a point (dy/dx(0), f'(0)) whose
    one-sided limits agree is that limit (x|x| at 0: 0), returned as a replacement; any other gives a note,
    and the step is neither proved nor refuted. The point is a Subs's or a defined variable's value (w = 0,
    then dL/dw), put in after."""
    known: dict[sympy.Subs, sympy.Expr] = {}
    if not (_has_pieces(lhs) or _has_pieces(rhs) or _defines_pieces(defs)):
        return None, known  # no piece anywhere to have a kink: the common case, at once
    note = _kinks(_derivatives_with_points(lhs, rhs), defs, known)
    if note is None:
        try:  # and those of the definitions the sides use (m = dy/dx(0), then m = 1/2), once those above are in
            sides = run_bounded(lambda: (substitute(lhs.xreplace(known), defs), substitute(rhs.xreplace(known), defs)),
                                seconds=READ_TIMEOUT)
            note = _kinks([(d, p, None) for d, p, _ in _derivatives_with_points(*sides)], defs, {})
        except (BoundExceeded, DefinitionError, *_SYMPY_FAILURES):
            pass
    return (note, {}) if note is not None else (None, known)


def _has_pieces(expr: sympy.Expr) -> bool:
    """Does `expr` hold a function with a kink (|u|, sign, heaviside, max, min, relu)?"""
    return expr.has(*PIECES)


@lru_cache(maxsize=64)
def _defines_pieces(defs: Definitions) -> bool:
    """Does any definition hold a function with a kink? (Asked once per set of definitions.)"""
    return any(_has_pieces(d.expr) for d in defs)


def _kinks(found: list[tuple[sympy.Derivative, dict, sympy.Subs | None]], defs: Definitions,
           known: dict[sympy.Subs, sympy.Expr]) -> str | None:
    """_derivative_at_a_kink for these derivatives: a note, or None with the values it could take in `known`."""
    for derivative, point, written in found:
        held = [v.name for v in derivative.variables if isinstance(v, sympy.Symbol) and v.name in defs]
        try:
            function = run_bounded(lambda d=derivative, h=held: to_elementary(substitute(d.expr, defs, keep=h)),
                                   seconds=READ_TIMEOUT)
            arguments = piece_arguments(function)
        except (BoundExceeded, DefinitionError, *_SYMPY_FAILURES):
            continue
        if not any(_changes_there(u, derivative, point, defs) for u in arguments):
            continue
        value = _from_both_sides(function, derivative, point) if written is not None else None
        if value is not None:
            known[written] = value
            continue
        name = derivative.expr
        name = name.func.__name__ if isinstance(name, AppliedUndef) else to_text(name)
        where = ", ".join(str(p) if isinstance(v, sympy.Dummy) else f"{v} = {p}" for v, p in point.items())
        at_where = f"at {where} " if where else "where the definitions put the variable "
        return (f"{at_where}a piece of {name} changes (a kink): the derivative there may not exist, "
                f"and sympy's formula is not it; check it from the left and the right")
    return None


def _changes_there(u: sympy.Expr, derivative: sympy.Derivative, point: dict, defs: Definitions) -> bool:
    """Is the piece argument `u`, moving with the derivative's variable, 0 at the point?"""
    if not (u.free_symbols & set(derivative.variables)) and not u.has(*point):
        return False  # a piece that does not move with the variable
    try:
        return _vanishes(substitute(u.xreplace(point), defs))
    except (DefinitionError, *_SYMPY_FAILURES):
        return False


def _from_both_sides(function: sympy.Expr, derivative: sympy.Derivative, point: dict) -> sympy.Expr | None:
    """A first derivative at a point from its one-sided difference quotients, when both exist and agree
    (x|x| at 0 is 0); None otherwise (|x| at 0: -1 and 1), or for a higher one."""
    if len(derivative.variable_count) != 1 or derivative.variable_count[0][1] != 1:
        return None
    variable = derivative.variables[0]
    if variable not in point or function.free_symbols - {variable} - set(point):
        return None
    at, h = point[variable], sympy.Symbol("h", positive=True)
    f = function.xreplace({v: p for v, p in point.items() if v != variable})
    try:
        right, left = run_bounded(lambda: (
            sympy.limit((f.xreplace({variable: at + h}) - f.xreplace({variable: at})) / h, h, 0, "+"),
            sympy.limit((f.xreplace({variable: at}) - f.xreplace({variable: at - h})) / h, h, 0, "+")),
            seconds=READ_TIMEOUT)
    except (BoundExceeded, NotImplementedError, *_SYMPY_FAILURES):
        return None
    if right.is_finite and left.is_finite and sympy.simplify(right - left) == 0:
        return right
    return None


def _derivatives_with_points(lhs: sympy.Expr, rhs: sympy.Expr
                             ) -> list[tuple[sympy.Derivative, dict, sympy.Subs | None]]:
    """Each derivative of the sides with the point a Subs puts it at ({} for none), and that Subs when it
    is the derivative alone at a point (dy/dx(0))."""
    out: list[tuple[sympy.Derivative, dict, sympy.Subs | None]] = []
    for side in (lhs, rhs):
        for at in sorted(side.atoms(sympy.Subs), key=sympy.default_sort_key):
            body, variables, points = at.args
            point = dict(zip(variables, points, strict=True))
            out += [(d, point, at if d == body else None) for d in body.atoms(sympy.Derivative)]
        inside = {d for at in side.atoms(sympy.Subs) for d in at.args[0].atoms(sympy.Derivative)}
        out += [(d, {}, None) for d in side.atoms(sympy.Derivative) if d not in inside]
    return out


def _vanishes(value: sympy.Expr) -> bool:
    """Is a piece's argument 0 there: exactly, or to 40 digits (log(4)/log(2) - 2, which sympy cannot
    tell), or at two random values of the variables left in it (0·x + 0 after w = 0, b = 0)?"""
    if value.is_zero:
        return True
    if value.is_zero is False and not value.free_symbols:
        return False
    free = sorted(value.free_symbols, key=str)
    trials = ((sympy.Rational(37, 101),) * len(free), tuple(sympy.Rational(-53, 29 + k) for k in range(len(free))))
    for values in trials:
        try:
            number = sympy.N(value.xreplace(dict(zip(free, values, strict=True))), 50)
        except (TypeError, ValueError, ArithmeticError):
            return False
        if not number.is_number or abs(number) > sympy.Float(10) ** -40:
            return False
    return True


def _constant_derivatives(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions) -> str | None:
    """A note for a step that holds while a Leibniz derivative in it is 0 because its name does not
    depend on the variable at all: dE/dz = 3 dE/dyhat dyhat/dz holds as 0 = 0 when E is written with
    y_hat, a misspelt yhat; d/dx sin(y) = 3 cos(y) dy/dx holds as 0 = 0 when y is a variable."""
    derivatives = [d for side in (lhs, rhs) for d in sorted(side.atoms(sympy.Derivative), key=sympy.default_sort_key)]
    for derivative in derivatives:
        name = derivative.expr
        if not isinstance(name, sympy.Symbol) or (name.name in defs and defs.named_parameters(name.name)):
            continue  # E(y) = ... with y defined: E depends on what y depends on (no note, rather than a wrong one)
        for variable in derivative.variables:
            if not isinstance(variable, sympy.Symbol) or variable == name:
                continue
            shown = f"d{name.name}/d{variable.name} is 0"
            if name.name not in defs:
                return f"{shown}: {name.name} is a variable here, not a function of {variable.name}"
            if not depends_on(defs, name.name, variable.name):
                return f"{shown}: {name.name} does not depend on {variable.name}"
            body = defs[name.name].expr
            applied = {f for f in body.atoms(AppliedUndef) if f.func.__name__ == variable.name
                       and not any(isinstance(s, sympy.Dummy) for s in f.free_symbols)}
            applied = sorted({f for f in applied if f.free_symbols} or applied, key=str)
            # E = y(x)^2 + y(t): y is a function there, applied at two points (at one, dE/dy is dE/dy(x))
            if len(applied) > 1 and variable not in body.free_symbols:
                return (f"{shown}: {name.name} is written with {to_text(applied[0])}, a function, not with "
                        f"a variable {variable.name}")
    return None


def _variable_written_as_function(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions,
                                  applied: dict[str, tuple[int, sympy.Expr]], line: int) -> str | None:
    """A note for a step that differentiates a bare y by x, 0 for a variable, where a line above writes
    y(x), a function of x: d/dx(y^2) = 0 holds, but the writer most likely means y(x)^2."""
    for derivative in sympy.Tuple(lhs, rhs).atoms(sympy.Derivative):
        for y in sorted(derivative.expr.free_symbols, key=str):
            if y.name in defs or y.name not in applied or applied[y.name][0] >= line:
                continue
            where, written = applied[y.name]
            if any(v in written.args for v in derivative.variables):
                return (f"{y.name} is a variable on this line, so its derivative is 0, though line {where} writes "
                        f"{to_text(written)}, a function: write {to_text(written)} here too if it is meant")
    return None


def _with_note(step: StepCheck, note: str | None) -> StepCheck:
    if not note or (step.note and "is a variable here" in step.note):  # said already, in other words
        return step
    return replace(step, note="; ".join(filter(None, [step.note, note])))


def _function_by_another_variable(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions) -> str | None:
    """A note for ds/dz with s(u) = ... defined: 0, since s's definition has no z, where ML notes mean the
    derivative of s at z, as dσ/dz means σ'(z)."""
    for derivative in sympy.Tuple(lhs, rhs).atoms(sympy.Derivative):
        name = derivative.expr
        if not isinstance(name, sympy.Symbol) or name.name not in defs or defs.named_parameters(name.name):
            continue  # E(y) = ... with y defined: E depends on what y depends on
        params, body = defs[name.name].params, defs[name.name].expr
        for variable in derivative.variables:
            if params and isinstance(variable, sympy.Symbol) and variable not in params and \
                    variable not in body.free_symbols:
                n, v, p = name.name, variable.name, ", ".join(map(str, params))
                return (f"d{n}/d{v} is 0: {n} is a function of {p}, and its definition has no {v}; for its "
                        f"derivative at {v} write d/d{v} {n}({v}) or {n}'({v})")
    return None


def _both_roles(lhs: sympy.Expr, rhs: sympy.Expr) -> str | None:
    """A note for a wrong step that uses a name as a variable and applies it too: x(2 sin x + x cos x) is
    an application of x (the contract), most often meant as a product."""
    sides = sympy.Tuple(lhs, rhs)
    variables = {getattr(s, "name", "") for s in sides.free_symbols}
    both = sorted({f.func.__name__ for f in sides.atoms(AppliedUndef)} & variables)
    if not both:
        return None
    n = both[0]
    return (f"{n} is both a variable and a function here: {n}(...) applies a function {n}; a product is "
            f"written {n}*(...), in LaTeX {n} \\cdot (...) or {n}\\,(...)")


# Every symbol real, the z a derivative binds in dy/dz included (realify reads atoms, not free symbols).
real = realify


@lru_cache(maxsize=16)
def real_definitions(defs: Definitions) -> Definitions:
    """The definitions over real symbols and real-valued abstract functions (cached per collection)."""
    return Definitions(_real_definition(d) for d in defs)


@lru_cache(maxsize=8192)
def _real_definition(definition: Definition) -> Definition:
    # One definition at a time: each definition line makes a new collection, and a long text must not
    # make every earlier definition real again (that would be quadratic in the number of lines).
    return replace(definition, params=tuple(real(p) for p in definition.params), expr=real(definition.expr))


# --- proofs in a smaller model ---------------------------------------------------------------------


def holds_locally(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions) -> bool:
    """Is the step proved in the smaller model of `definitions.local_model`? (sides and definitions
    real). A long derivation's lines are each checked in a model of their own size, not the network's,
    and a model met before in other names (the next layer's) is not checked again."""
    if not defs or _one_name_two_symbols(lhs, rhs):
        return False
    try:
        model = run_bounded(local_model, lhs, rhs, defs, seconds=LOCAL_TIMEOUT)
        if model is not None and _pieces_of_held_names(model, defs):
            return False
        shaped = run_bounded(Shaped.of, model, seconds=LOCAL_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return False  # a bad definition is reported when the step is read in full
    return shaped is not None and _holds_in_shape(shaped)


# Functions whose derivative is sign or Heaviside: proved "except where the argument is 0" (verify's
# almost-everywhere tier), which holds for a free symbol but not for a name that is 0 on an interval.
_PIECEWISE = (sympy.sign, sympy.Heaviside, sympy.Abs, sympy.Max, sympy.Min, sympy.Piecewise)


def _pieces_of_held_names(model: Model, defs: Definitions) -> bool:
    """Does the model apply a function of pieces to a name it holds as a symbol (r in sign(r)^2 = 1, with
    r = (x + |x|)/2 defined outside it)? Such a model cannot prove the step: the full reading decides."""
    kept = {d.name for d in model.definitions}
    held = {d.name for d in defs} - kept
    if not held:
        return False
    for e in (model.left, model.right, *(d.expr for d in model.definitions)):
        pieces = e.atoms(*_PIECEWISE) | {f for f in e.atoms(sympy.Function) if type(f).__name__ == "relu"}
        if any(s.name in held for f in pieces for s in f.free_symbols):
            return True
    return False


class _Keyed:
    """Equal by a key (kept with its hash), as a cache key: what is keyed is computed once per key."""

    key: tuple[object, ...]
    _hash: int

    def _keep(self, key: tuple[object, ...]) -> None:
        self.key, self._hash = key, hash(key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.key == other.key  # type: ignore[attr-defined]


class Shaped(_Keyed):
    """A model with the key of its shape: two models of one key are the same up to the names of their
    symbols and abstract functions (assumptions kept), so one holds exactly when the other does. The
    key decides that without building a sympy object (rebuilding every layer's model in sympy cost more
    than deciding the one model they share). The terms of a sum and the factors of a product are keyed
    as a multiset: a softmax's dE/dp_k meets its own term at another place of E's sum for every k, and
    all k are one shape."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._keep(_shape_of(model)[0])

    @classmethod
    def of(cls, model: Model | None) -> Shaped | None:
        return None if model is None else cls(model)


class _Shapes:
    """Expressions as nested tuples, each symbol and abstract function by the order it is first met in
    (with its assumptions), the terms of a sum and the factors of a commutative product as a multiset.
    Two expressions (or lists of them, walked in one order) of one shape are one in other names: the
    symbols and functions of one place in each order, one to one, make the first the second (up to the
    order of commutative terms, which sympy puts in its own order)."""

    def __init__(self) -> None:
        self.symbols: dict[sympy.Basic, tuple[object, ...]] = {}
        self.names: dict[str, int] = {}
        self.functions: dict[type, int] = {}
        self.function_names: dict[str, int] = {}
        self._memo: dict[sympy.Basic, object] = {}

    def __call__(self, e: sympy.Basic) -> object:
        if isinstance(e, sympy.Symbol):
            found = self.symbols.get(e)
            if found is None:
                # By its name too: a model's meaning finds a definition by name (`definitions.name_of`), so
                # a positive y is the defined (real) y there; models alike but for such a link differ.
                name = self.names.setdefault(e.name, len(self.names))
                found = self.symbols[e] = ("symbol", len(self.symbols), name, tuple(sorted(e.assumptions0.items())))
            return found
        if not e.args:
            return (type(e), e._hashable_content())  # a number by its value and precision
        found = self._memo.get(e)
        if found is None:
            head: object = self.function(type(e)) if isinstance(e, AppliedUndef) else type(e)
            if not isinstance(e, sympy.Subs) and e._hashable_content() != e._args:
                # what sympy compares beyond the arguments (an IndexedBase's assumptions), as it is; a
                # substitution's is its arguments with the bound variables renamed
                head = (head, e._hashable_content())
            args = [self(a) for a in e.args]  # in sympy's order: each name is numbered where it is first met
            if isinstance(e, sympy.Add) or (isinstance(e, sympy.Mul) and e.is_commutative):
                args.sort(key=hash)  # one multiset; a tie of hashes only splits one shape in two
            found = self._memo[e] = (head, *args)
        return found

    def function(self, function: type) -> tuple[object, ...]:
        number = self.functions.setdefault(function, len(self.functions))
        # by name too, as symbols: `realify` makes every f of one name one real f
        name = self.function_names.setdefault(function.__name__, len(self.function_names))
        jet = getattr(function, "jet", None)  # a partial of another function (`jets._partial`): which one
        of = (self.function(jet[0]), jet[1]) if jet is not None else ()
        return ("function", number, name, tuple(sorted(function._kwargs.items())), *of)


def _shape_of(model: Model) -> tuple[tuple[object, ...], list[sympy.Basic], list[type]]:
    """The model's shape (`_Shapes`): the claim, then each definition once its name has been met; with
    the symbols and functions in the order they were met."""
    shapes = _Shapes()
    claim = (shapes(model.left), shapes(model.right))
    definitions = [
        (shapes(name), tuple(shapes(p) for p in d.params), shapes(d.expr))
        for name, d in _in_met_order(
            model.definitions, lambda s: shapes.symbols[s][1] if s in shapes.symbols else None
        )
    ]
    cuts = tuple(sorted(shapes.functions.get(f, -1) for f in model.cuts))
    return (*claim, tuple(definitions), cuts), list(shapes.symbols), list(shapes.functions)


@lru_cache(maxsize=4096)  # every layer brings a model of the same shape: decided once
def _holds_in_shape(shaped: Shaped) -> bool:
    """Does the model hold: in general (its bodies abstract), else as it is? A general model is keyed by
    its shape too: every layer's chain rule, whatever its activation, is one identity."""
    model = shaped.model
    try:
        general = run_bounded(lambda: Shaped.of(_generalised(model) or _partly_generalised(model)),
                              seconds=LOCAL_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        general = None
    return (general is not None and _general_holds(general)) or _model_holds(model)


@lru_cache(maxsize=4096)
def _general_holds(shaped: Shaped) -> bool:
    return _model_holds(shaped.model)


@lru_cache(maxsize=4096)
def _generalised(model: Model) -> Model | None:
    """The chain rule as such: a claim whose right side is only derivatives (dE/dz = dE/dy * dy/dz) in a
    model where each body depends on one moving symbol, made an abstract function of it (y = G(z) for
    y = sigmoid(z)). It holds for every G if it holds at all, so a proof proves the claim; and it is the
    same identity for every layer and activation, decided once. None when the claim is not of that form
    (then the model is read as it is)."""
    if not isinstance(model.left, sympy.Derivative) or not _only_derivatives(model.right):
        return None
    definitions, general = [], []
    arguments = _Arguments(model)
    for d in model.definitions:
        if _is_cut(d, model):
            definitions.append(d)
            continue
        abstract = _of_one_argument(d, arguments)
        if abstract is None:
            return None
        definitions.append(abstract)
        general.append(type(abstract.expr))
    return _with_functions(model, definitions, general)


@lru_cache(maxsize=4096)
def _partly_generalised(model: Model) -> Model | None:
    """A claim that keeps a name's derivative as a factor on its right (ds/dz1 in a softmax's
    dE/dz1 = p1 dE/dp1 + dE/ds ds/dz1): each such name whose body depends on one moving symbol is made an
    abstract function of it (s = G(z1) for s = e^z1 + ... + e^z10), and the other bodies stay (p1 = e^z1/s,
    whose derivative the claim writes out as p1). The claim calls on such a body only through the name
    of its derivative, as a chain rule does, so it usually holds for every G; a proof for every G proves
    it for the body, and a failure decides nothing (the model is then read as it is). None when no body
    is of that kind."""
    top = model.left.expr if isinstance(model.left, sympy.Derivative) else None
    on_right = {d.expr for d in model.right.atoms(sympy.Derivative) if isinstance(d.expr, sympy.Symbol)} - {top}
    definitions, general = [], []
    arguments = _Arguments(model)
    for d in model.definitions:
        abstract = None
        if not _is_cut(d, model) and any(s.name == d.name for s in on_right):
            abstract = _of_one_argument(d, arguments)
        definitions.append(abstract or d)
        if abstract is not None:
            general.append(type(abstract.expr))
    return _with_functions(model, definitions, general) if general else None


def _is_cut(definition: Definition, model: Model) -> bool:
    return isinstance(definition.expr, AppliedUndef) and type(definition.expr) in model.cuts


class _Arguments:
    """What may be an argument of a body made abstract: the symbols the claim's derivatives move, and
    the model's names (found once per model, not once per definition)."""

    def __init__(self, model: Model) -> None:
        claim = sympy.Tuple(model.left, model.right)
        self.moving = {v for d in claim.atoms(sympy.Derivative) for v in d.variables}
        self.names = {d.name for d in model.definitions}

    def of(self, expr: sympy.Expr) -> set[sympy.Basic]:
        return {s for s in expr.free_symbols if s in self.moving or s.name in self.names}


def _of_one_argument(definition: Definition, arguments: _Arguments) -> Definition | None:
    """The definition with its body an abstract function of the one moving symbol or name it depends on
    (None when it depends on none or several, or takes parameters). What the claim's derivatives move:
    a body's other symbols are parameters, fixed in every derivative of the claim (w and b in
    h = sigmoid(w x + b), in dE/dx = dE/dh dh/dx), and an identity for every function of the moving
    symbol alone holds at every value of them."""
    if definition.params:
        return None
    found = arguments.of(definition.expr)
    if len(found) != 1:
        return None
    # A space cannot occur in a user's name, so this function is never theirs.
    general = sympy.Function(f"of {definition.name}", real=True)
    return replace(definition, expr=general(*found))


def _with_functions(model: Model, definitions: list[Definition], general: list[type]) -> Model:
    """The model with these definitions, whose abstract functions are the cuts' and `general`."""
    return Model(model.left, model.right, tuple(definitions), frozenset({*model.cuts, *general}))


def _only_derivatives(expr: sympy.Basic) -> bool:
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        return all(_only_derivatives(a) for a in expr.args)
    return isinstance(expr, sympy.Derivative) or (isinstance(expr, sympy.Number) and expr.is_Integer)


@lru_cache(maxsize=4096)
def _model_holds(model: Model) -> bool:
    try:
        with distribute(True):  # sympy's usual evaluation, whatever a caller's display needs
            left, right = run_bounded(_in_jets(model).meanings, seconds=LOCAL_TIMEOUT)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return False
    return _proved(left, right, LOCAL_TIMEOUT)


def _in_jets(model: Model) -> Model:
    """The model with its stand-in functions (cut names, general bodies) as jets (`jets.in_jets`). The
    claim names none of them, so it means the same; a proof there holds for every function they stand
    for, as a proof with their derivatives at points would."""
    if not model.cuts:
        return model
    definitions = tuple(replace(d, expr=in_jets(d.expr, model.cuts)) for d in model.definitions)
    return replace(model, definitions=definitions)


def proved_locally(left: sympy.Expr, right: sympy.Expr, *, timeout: float = LOCAL_TIMEOUT) -> bool:
    """Is `left = right` proved symbolically (no note)? For identities in a model that generalises a
    step: a proof there proves the step, anything less decides nothing.

    Identities equal up to the names of their symbols and abstract functions are decided once: each
    layer of a network, each level of a nested chain, brings the same identity in other names.
    """
    if _one_name_two_symbols(left, right):
        return False
    try:
        pair = run_bounded(_Identity, left, right, seconds=timeout)
    except (BoundExceeded, *_SYMPY_FAILURES):
        return False
    return _identity_proved(pair, timeout)


class _Identity(_Keyed):
    """`left = right` with the key of its shape (`_Shapes`): one identity in other names is one key."""

    def __init__(self, left: sympy.Expr, right: sympy.Expr) -> None:
        shapes = _Shapes()
        self.left, self.right = left, right
        self._keep((shapes(left), shapes(right)))


@lru_cache(maxsize=4096)  # every layer, every level of a nested chain: one identity, decided once
def _identity_proved(identity: _Identity, timeout: float) -> bool:
    return _proved(identity.left, identity.right, timeout)


def _one_name_two_symbols(*exprs: sympy.Basic) -> bool:
    """Do two different symbols share a name (x and a real x, from a caller's own sympy objects)? sympy
    takes them as independent, where the full reading takes them as one: no local proof then."""
    # atoms, not free_symbols: the x of d/dx is bound, and it is exactly the one that may differ
    symbols = [s for e in exprs for s in e.atoms(sympy.Symbol) if not s.is_Dummy]
    return len({s.name for s in symbols}) != len(set(symbols))


@lru_cache(maxsize=4096)
def _proved(left: sympy.Expr, right: sympy.Expr, timeout: float) -> bool:
    """A proof of `left = right` (no note): sympy's derivatives and automatic evaluation, then the
    verifier's first symbolic tier, tried here before its numeric probes (a local identity such as
    sigmoid' = sigmoid (1 - sigmoid) usually cancels at once), then the verifier itself."""
    if not commuting(left) or not commuting(right):
        return False
    with distribute(True):  # -(a + b) must cancel a + b, as in sympy's usual evaluation
        try:
            difference = run_bounded(lambda: prepare(left) - prepare(right), seconds=timeout)
        except (BoundExceeded, *_SYMPY_FAILURES):
            return False
        if difference == 0:
            return True
        tame = _tame(left) and _tame(right)
        if tame:
            seconds = min(timeout, QUICK_PROOF_SECONDS)
            for vanishes in (vanishes_as_rational_function, _cancels):
                try:
                    if run_bounded(vanishes, difference, seconds=seconds):
                        return True
                except (BoundExceeded, *_SYMPY_FAILURES):
                    pass
        if not tame or looks_risky(left) or looks_risky(right):
            return False  # the verifier would send it to its worker process: too slow to decide a local check
        verification = verify_equal(left, right, timeout=timeout)
    return verification.verdict is Verdict.PROVED and verification.note is None


def _cancels(expr: sympy.Expr) -> bool:
    """Is `expr` zero once put over one denominator and cancelled (sympy's together and cancel)?"""
    return sympy.cancel(sympy.together(expr)) == 0


def _tame(expr: sympy.Expr) -> bool:
    """No huge constant and no high power of a sum: sympy's algebra on it stays in Python code, which a
    signal bound stops on time (the reason the verifier isolates other inputs in a process)."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Rational) and max(abs(node.p), node.q).bit_length() > TAME_BITS:
            return False
        if isinstance(node, sympy.Float) and node._prec > TAME_BITS:
            return False
        high = isinstance(node, sympy.Pow) and node.exp.is_Integer and abs(node.exp) > TAME_POWER
        if high and not node.base.is_Atom:
            return False
    return True


def _in_met_order(
    definitions: tuple[Definition, ...], met: Callable[[sympy.Symbol], int | None]
) -> Iterator[tuple[sympy.Symbol, Definition]]:
    """Each definition with its name, the one whose name was met first next (`met` gives the place a
    name was met at, None if not yet; the caller meets names between steps), else the first by name:
    an order that follows the claim, so that models equal in other names list their definitions alike."""
    todo = {sympy.Symbol(d.name, real=True): d for d in definitions}
    while todo:
        seen = [(place, s) for s in todo if (place := met(s)) is not None]
        name = min(seen, key=lambda pair: pair[0])[1] if seen else min(todo, key=str)
        yield name, todo.pop(name)


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


def read_given(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions, line: int, *, again: bool = False) -> Given | None:
    """A `given` line as the checker uses it: lhs - rhs in the leaf variables, as a claim's sides are read.
    Read `again` under later definitions, a given whose functions are all defined now is None (let y(x) =
    ... below given x^2 + y(x)^2 = 1 defines y: the given has nothing left to tie)."""
    try:
        left, right = run_bounded(_meanings, real(lhs), real(rhs), real_definitions(defs), seconds=READ_TIMEOUT)
    except DefinitionError as error:
        raise DefinitionError(error.message, line=error.line or line, name=error.name) from None
    except (BoundExceeded, *_SYMPY_FAILURES) as error:
        raise DefinitionError(f"cannot read the given: {error or 'time limit reached'}", line=line) from None
    if not (left - right).atoms(AppliedUndef):
        if again:
            return None
        raise DefinitionError("a given ties functions together, such as y(x) in given x^2 + y(x)^2 = 1: write "
                              "the function that depends on the variable as y(x)", line=line)
    return Given(line=line, equation=left - right, written=f"{to_text(lhs)} = {to_text(rhs)}", lhs=lhs, rhs=rhs,
                 left=left, right=right)


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
    if value.has(sympy.Subs):
        # dy/dz(1): the value at the point (a Subs whose body has nothing left to differentiate)
        value = value.replace(lambda e: isinstance(e, sympy.Subs) and not e.expr.has(sympy.Derivative),
                              lambda e: e.doit())
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
    if defs.named_parameters(name):
        # E(y) = ... with y defined adds the path E -> y to every definition that uses E as a name,
        # not only to E's own: the whole table is checked (rare, so the quadratic cost does not matter)
        try:
            defs.check_acyclic()
        except DefinitionError as error:
            raise DefinitionError(error.message, line=line) from None
        return
    trail: dict[str, str] = {}  # each name reached -> the name that led to it
    todo = [name]
    while todo:
        current = todo.pop()
        for path in defs.edges(current):
            parent = current
            for child in path:
                if child == name:
                    cycle = [name, parent]
                    while cycle[-1] != name:
                        cycle.append(trail[cycle[-1]])
                    raise DefinitionError(f"cyclic definitions: {' -> '.join(reversed(cycle))}", line=line)
                if child not in trail and child in defs:
                    trail[child] = parent
                    todo.append(child)
                parent = child
