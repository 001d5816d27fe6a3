"""Expand-style derivations: one pending derivative rewritten by one rule per step, every step verified.

The state is a sympy expression in which the derivatives still to take are unevaluated `Derivative`
objects, so every line is a true equation. The outermost pending derivative (leftmost first) is
rewritten by the rule `derive.rules.find_rule` picks. `differentiate` is the front door for both
styles; the Leibniz style lives in `derive.leibniz`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.core.parameters import distribute

from derive import render
from derive.bounded import BoundExceeded, run_bounded
from derive.check import real, real_definitions
from derive.definitions import Definition, Definitions, canonical, interpret, names_in, resolve, substitute
from derive.derivation import Derivation, Step
from derive.errors import DeriveError, LimitError
from derive.limits import DEFAULT_LIMITS
from derive.parse import parse
from derive.rules import find_rule, is_final, pending
from derive.statements import read_definition
from derive.symbols import normalize_name, symbol
from derive.verify import Verdict, Verification, verify_equal

STYLES = ("expand", "leibniz")
STEP_TIMEOUT = 5.0  # seconds the verifier may spend on one step
DERIVATION_BUDGET = 120.0  # seconds the verifier may spend on all the steps of one derivation
TIDY_SECONDS = 2.0  # seconds the final simplification may spend on one candidate form
LETTERS = ("u", "v", "w", "p", "q", "r", "s", "t")
_NAME = re.compile(r"^[^\W\d]\w*$")
# Exceptions by which sympy says it cannot handle an expression: the step is then unknown.
_SYMPY_FAILURES = (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ZeroDivisionError)


class OptionError(DeriveError):
    """A bad argument to `differentiate`: a `wrt` that is not a name, an unknown style."""


# --- steps and their verification -----------------------------------------------------------------


@lru_cache(maxsize=4096)
def _leaf_form(expr: sympy.Basic, defs: Definitions) -> sympy.Expr:
    return interpret(real(expr), real_definitions(defs), elementary=True)


def verify_step(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions, *, timeout: float = STEP_TIMEOUT) -> Verification:
    """Is `lhs = rhs` true, with the contract's Leibniz semantics and every definition substituted?

    Both sides are read by `definitions.interpret` over real symbols, with derive's named functions
    rewritten into elementary ones, so their derivatives are sympy's own and the rule that produced
    `rhs` is never trusted. The one place where steps are verified, so that checking each rewrite
    locally instead of against the whole derivative is a change here alone.
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


@dataclass(frozen=True)
class Checker:
    """Verifies the steps of one derivation, all within one time budget.

    Each step is compared with `lhs`, what the derivation set out to compute (expand style) or the
    line's own left side (Leibniz style). Once the budget is spent, the remaining steps are `unknown`
    rather than the derivation taking hours on a huge input.
    """

    defs: Definitions
    deadline: float = field(default_factory=lambda: time.monotonic() + DERIVATION_BUDGET)

    def step(self, rule: str, explanation: str, before: sympy.Expr, after: sympy.Expr, lhs: sympy.Expr) -> Step:
        remaining = self.deadline - time.monotonic()
        if remaining > 0:
            verification = verify_step(lhs, after, self.defs, timeout=min(STEP_TIMEOUT, remaining))
        else:
            note = f"not verified: the derivation's time budget of {DERIVATION_BUDGET:g} s ran out"
            verification = Verification(Verdict.UNKNOWN, note=note)
        return Step(rule, explanation, before, after, verification.verdict, verification.note)


# --- the rewriting engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawStep:
    """A rewrite before verification: the rule's name, its sentence and the state before and after."""

    rule: str
    explanation: str
    before: sympy.Expr
    after: sympy.Expr


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


def next_pending(expr: sympy.Basic, stuck: Set[sympy.Derivative] = frozenset()) -> sympy.Derivative | None:
    """The derivative to rewrite next: outermost first, left to right; an inner one first when nested.

    Derivatives in `stuck` are those neither derive nor sympy can take (d/dx floor(x)); they stay.
    """
    if isinstance(expr, sympy.Derivative):
        if is_final(expr) or expr in stuck:
            return None
        return next_pending(expr.expr, stuck) or expr
    if isinstance(expr, sympy.Subs):
        return None  # f'(u) at u = g(x): an answer, written with a bound letter
    for arg in expr.args:
        found = next_pending(arg, stuck)
        if found is not None:
            return found
    return None


def rewrite_all(start: sympy.Expr, taken: Iterable[str], *, max_steps: int = DEFAULT_LIMITS.max_steps) -> list[RawStep]:
    """Rewrite pending derivatives one at a time until none is left (unverified; see `expand`)."""
    letters = Letters(taken)
    level: dict[sympy.Derivative, int] = {}
    stuck: set[sympy.Derivative] = set()
    steps: list[RawStep] = []
    state = start
    while (derivative := next_pending(state, stuck)) is not None:
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
        after = state.xreplace({derivative: rewrite.after})
        steps.append(RawStep(rule.name, rewrite.explanation, state, after))
        state = after
    return steps


def derivative_value(expr: sympy.Expr, var: sympy.Symbol, taken: Iterable[str] = ()) -> tuple[sympy.Expr, str]:
    """d/dvar[expr] computed by the rules, and the name of the law that did the work (for one-line steps)."""
    steps = rewrite_all(pending(expr, var), names_used(expr) | set(taken))
    if not steps:
        return pending(expr, var), "constant"
    return steps[-1].after, headline_rule(steps)


def headline_rule(steps: list[RawStep]) -> str:
    """The law a reader would name for a derivative taken in several steps (the first that is not bookkeeping)."""
    for step in steps:
        if step.rule not in ("constant_multiple", "definition"):
            return step.rule
    return steps[0].rule


# --- readable results -----------------------------------------------------------------------------


def _protect(expr: sympy.Expr) -> tuple[sympy.Expr, dict[sympy.Dummy, sympy.Expr]]:
    """Stand a dummy symbol in for each function application, so algebra cannot rewrite named forms."""
    table: dict[sympy.Basic, sympy.Dummy] = {}

    def walk(e: sympy.Basic) -> sympy.Basic:
        algebraic = isinstance(e, sympy.Add | sympy.Mul) or (isinstance(e, sympy.Pow) and e.exp.is_Rational)
        if e.is_Atom or algebraic:
            return e.func(*(walk(a) for a in e.args)) if e.args else e
        if e not in table:
            table[e] = sympy.Dummy(f"f{len(table)}")
        return table[e]

    protected = walk(expr)
    return protected, {dummy: e for e, dummy in table.items()}


def _size(expr: sympy.Expr) -> tuple[int, int]:
    """(operations other than negation, all operations): moving a minus sign is no simplification."""
    visual = sympy.count_ops(expr, visual=True)
    weights = {s: 0 if s.name == "NEG" else 1 for s in visual.free_symbols}
    return int(visual.xreplace(weights)), int(visual.xreplace(dict.fromkeys(weights, 1)))


def tidy(expr: sympy.Expr, *, seconds: float = TIDY_SECONDS) -> sympy.Expr:
    """A shorter equal form that keeps named forms: σ(z)(1 - σ(z)), 1 - tanh²(z), never 1/(4cosh²(z/2)).

    Function applications are held as opaque symbols while the rational function around them is
    factored or cancelled; a candidate is taken only when it has fewer operations (sympy.count_ops),
    not counting a minus sign moved from one factor to another.
    """
    if expr.is_Atom:
        return expr
    protected, back = _protect(expr)
    transforms = [sympy.factor]
    if any(p.exp.is_negative for p in protected.atoms(sympy.Pow)):
        transforms.append(sympy.cancel)  # cancel expands products: only worth it for a fraction

    def shorter(transform: Callable[[sympy.Expr], sympy.Expr]) -> tuple[sympy.Expr, tuple[int, int]]:
        candidate = transform(protected).xreplace(back)
        return candidate, _size(candidate)

    best, best_size = expr, _size(expr)
    for transform in transforms:
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
    steps: list[Step] = []
    state = start
    if defs and names_in(expr, defs) - {var.name}:
        body = canonical(substitute(expr, defs, keep=[var]), defs)
        state = pending(body, var)
        used = sorted(names_in(expr, defs) - {var.name})
        listed = "; ".join(f"{n} = {render.plain(defs[n].expr)}" for n in used)
        steps.append(checker.step("definition", f"Substitute the definitions: {listed}.", start, state, start))
    for raw in rewrite_all(state, names_used(expr, state) | set(defs.names)):
        steps.append(checker.step(raw.rule, raw.explanation, raw.before, raw.after, start))
        state = raw.after
    simplified = simplify_step(checker, state, start)
    return (*steps, *simplified), simplified[0].after if simplified else state


def simplify_step(checker: Checker, state: sympy.Expr, lhs: sympy.Expr) -> list[Step]:
    """The final `simplify` step (`state = tidy form`, checked against lhs), or none when it is no shorter."""
    tidied = tidy(state)
    if tidied == state:
        return []
    return [checker.step("simplify", "Simplify, keeping the named functions.", state, tidied, lhs)]


# --- reading the arguments of differentiate --------------------------------------------------------


def read_expression(expr: str | sympy.Basic) -> tuple[str, sympy.Expr]:
    """The input as text (for the record) and as sympy."""
    if isinstance(expr, str):
        return expr, parse(expr)
    if isinstance(expr, sympy.Basic):
        return render.plain(expr), expr
    if isinstance(expr, int):
        return str(expr), sympy.Integer(expr)
    raise OptionError(f"expected an expression as text or sympy, got {type(expr).__name__}")


def read_variable(wrt: str | sympy.Basic, *exprs: sympy.Basic) -> sympy.Symbol:
    """The variable to differentiate by: a name, never a number; the expression's own symbol of that name."""
    if isinstance(wrt, sympy.Symbol):
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
    return symbol(name)


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
    if isinstance(where, Mapping):
        for key, value in where.items():
            definition, text = _definition_from_pair(key, value)
            items.append(definition)
            texts.append(text)
    else:
        for text in where:
            if not isinstance(text, str):
                raise OptionError(f"definitions are given as text such as 'y = sigmoid(z)', not {text!r}")
            items.append(read_definition(text, known=items))
            texts.append(text)
    defs = Definitions(items)
    defs.check_acyclic()
    return defs, tuple(texts)


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
    definitions are given.
    """
    text, expression = read_expression(expr)
    defs, where_texts = read_where(where)
    chosen = read_style(style, defs)
    var = read_variable(wrt, expression, *(d.expr for d in defs))
    # Keep 2*(a - y) and -(a - y) as the rules write them rather than let sympy distribute the number.
    with distribute(False):
        first, expression = read_leibniz_derivatives(expression, var, defs)
        if chosen == "leibniz":
            from derive.leibniz import leibniz  # leibniz builds on this module's engine

            steps, result = leibniz(expression, var, defs)
        else:
            steps, result = expand(expression, var, defs)
    return Derivation(
        steps=(*first, *steps), result=result, input=text, wrt=var.name, where=where_texts, style=chosen
    )


def read_leibniz_derivatives(expr: sympy.Expr, var: sympy.Symbol, defs: Definitions) -> tuple[list[Step], sympy.Expr]:
    """A first step that gives `dE/dy` inside the expression its Leibniz meaning, when there is one.

    The rules know nothing of definitions; a derivative of a defined name is read as the contract
    says before they start.
    """
    if not defs or not expr.has(sympy.Derivative):
        return [], expr
    resolved = resolve(expr, defs, every=False)
    if resolved == expr:
        return [], expr
    start = pending(expr, var)
    explanation = "Read each derivative of a defined name by its meaning (the other names substituted)."
    return [Checker(defs).step("definition", explanation, start, pending(resolved, var), start)], resolved
