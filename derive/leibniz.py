"""Leibniz-style derivations, the backprop view: dE/dz = dE/dy · dy/dz, one line per factor.

Reverse-mode differentiation over the definitions: the derivative of N with respect to v is the sum,
over the definitions P that mention v directly (v's parents), of dN/dP times P's own derivative with
respect to v. Each factor is derived once (memoised), so a network of L layers takes a number of
lines linear in L. Every line is verified with the contract's Leibniz semantics (`verify_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy
from sympy.core.function import AppliedUndef

from derive import render
from derive.definitions import (
    Definition,
    Definitions,
    canonical,
    fold,
    name_of,
    names_in,
    rebuilt,
    substitute,
)
from derive.derivation import Step
from derive.rewrite import Checker, checking, derivative_value, names_used, simplify_step, tidy
from derive.symbols import symbol
from derive.sympy_derivative import at_points

TOP_NAMES = ("E", "L", "J", "F", "C")


def top_name(expr: sympy.Expr, defs: Definitions, var: sympy.Symbol) -> tuple[str, Definitions]:
    """The name of the expression being differentiated (a definition's, else a fresh E) and the definitions with it."""
    name = name_of(expr) if isinstance(expr, sympy.Symbol | AppliedUndef) else None
    # f(2*x) with f(t) = t^2 is f used as a function, not the name f: it gets a name of its own below.
    applied_elsewhere = isinstance(expr, AppliedUndef) and name in defs and not defs[name].written_as_parameters(expr)
    if name is not None and name in defs and not applied_elsewhere:
        return name, defs
    for definition in defs:
        if definition.expr == expr and not definition.params:
            return definition.name, defs
    taken = names_used(expr, *(d.expr for d in defs)) | set(defs.names) | {var.name}
    fresh = next(n for n in (*TOP_NAMES, *(f"E_{i}" for i in range(1, len(taken) + 2))) if n not in taken)
    return fresh, defs.with_definition(Definition(fresh, (), expr))


def reachable(names: set[str], defs: Definitions) -> set[str]:
    """The names and every name their definitions use, recursively."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(defs.dependencies(name))
    return found


def written_forms(exprs: list[sympy.Expr], defs: Definitions) -> dict[sympy.Symbol, sympy.Expr]:
    """How each name is written where it is not a plain symbol: `y -> y(z)` when the input says y(z)."""
    forms: dict[sympy.Symbol, sympy.Expr] = {}
    for expr in exprs:
        for app in sorted(expr.atoms(AppliedUndef), key=str):
            name = app.func.__name__
            if name in defs and defs[name].written_as_parameters(app):
                forms.setdefault(defs[name].symbol, app)
    return forms


def moving_terms(expr: sympy.Expr, var: sympy.Symbol) -> tuple[sympy.Expr, bool]:
    """`expr` without the terms of its sum (or of a constant times a sum) that do not depend on var, and
    whether there were any: their derivative is 0, and a softmax's loss has one term that moves for
    each of its classes. The rules would write a step for each of the others, class after class."""
    if isinstance(expr, sympy.Add):
        moving = [t for t in expr.args if var in t.free_symbols]
        return (sympy.Add(*moving), True) if len(moving) < len(expr.args) else (expr, False)
    if isinstance(expr, sympy.Mul):
        dependent = [a for a in expr.args if var in a.free_symbols]
        if len(dependent) == 1 and isinstance(dependent[0], sympy.Add):
            inner, dropped = moving_terms(dependent[0], var)
            if dropped:
                return sympy.Mul(*(inner if a is dependent[0] else a for a in expr.args)), True
    return expr, False


class Line:
    """A line `before = after` as it is written, checked later (`settle`): the lines of a derivation are
    all written first and then checked together, under one switch of sympy's evaluation (`checking`)."""

    def __init__(self, before: sympy.Expr, after: sympy.Expr, check: Callable[[], Step]) -> None:
        self.before, self.after = before, after
        self._check: Callable[[], Step] | None = check
        self._step: Step | None = None

    def settle(self) -> Step:
        """The checked line (checked once; a line that puts others together settles them first)."""
        if self._step is None:
            assert self._check is not None
            self._step, self._check = self._check(), None
        return self._step


@dataclass
class Backprop:
    """The dependency graph of canonical definitions and the lines derived so far."""

    bodies: dict[str, sympy.Expr]  # each definition with names as plain symbols
    defs: Definitions  # the definitions as given (plus the top name)
    forms: dict[sympy.Symbol, sympy.Expr]  # how names are written where the input says y(z)
    var: sympy.Symbol  # the variable of the whole derivation, as the input spells it
    folding: Definitions  # the bodies, to write derivatives back in the names
    checker: Checker  # verifies each line with the definitions as given
    introduce: str | None = None  # said before the first line when the expression got a name of its own
    steps: list[Line] = field(default_factory=list)
    memo: dict[tuple[str, str], sympy.Expr] = field(default_factory=dict)
    established: dict[tuple[str, str], Line] = field(default_factory=dict)  # the line that gave each memo entry
    reach: dict[tuple[str, str], bool] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)  # names fresh letters must avoid
    texts: dict[sympy.Expr, str] = field(default_factory=dict)  # each expression rendered for a sentence once

    def deps(self, name: str) -> list[str]:
        # a parameter is bound, unless it is a name: E(y) = L(y) is E as a function of y (bodies are canonical:
        # s(u) for s(z) = ... is already its body at u here)
        bound = {p.name for p in self.defs[name].params} - self.defs.named_parameters(name)
        found = {s.name for s in self.bodies[name].free_symbols if s.name in self.bodies and s.name not in bound}
        return sorted(found, key=list(self.bodies).index)

    def mentions(self, name: str, var: str) -> bool:
        return any(s.name == var for s in self.bodies[name].free_symbols)

    def depends(self, name: str, var: str) -> bool:
        key = (name, var)
        if key not in self.reach:
            self.reach[key] = self.mentions(name, var) or any(
                self.depends(child, var) for child in self.deps(name) if child != var
            )
        return self.reach[key]

    def parents(self, top: str, var: str) -> list[str]:
        """The definitions reachable from `top` (not through var) that mention var directly."""
        seen: list[str] = []
        todo = [top]
        while todo:
            name = todo.pop(0)
            if name in seen or name == var:
                continue
            seen.append(name)
            todo.extend(self.deps(name))
        return [n for n in sorted(seen, key=list(self.bodies).index) if self.mentions(n, var)]

    # -- display and verification --

    def show(self, expr: sympy.Basic) -> sympy.Basic:
        """Names written as the input writes them (`y(z)`), except in `dE/dy`, which stays as it reads."""
        if not self.forms or isinstance(expr, sympy.Derivative):
            return expr
        if not expr.args:
            return self.forms.get(expr, expr)
        return rebuilt(expr, tuple(self.show(a) for a in expr.args))

    def symbol(self, name: str) -> sympy.Symbol:
        return self.var if name == self.var.name else symbol(name)

    def leibniz(self, name: str, var: str) -> sympy.Derivative:
        """dname/dvar, as the parser reads `dE/dy`."""
        return sympy.Derivative(self.symbol(name), self.symbol(var), evaluate=False)

    def emit(
        self, rule: str, explanation: str, lhs: sympy.Expr, rhs: sympy.Expr, premises: list[Line] | None = None
    ) -> Line:
        """Add the line `lhs = rhs`. A line of its own is checked in the small model of its derivatives;
        a line that puts `premises` together holds as they do when it is exactly their combination."""
        left, right = self.show(lhs), self.show(rhs)
        if not self.steps and self.introduce:
            explanation = f"{self.introduce} {explanation}"
        checker = self.checker
        if premises is None:
            line = Line(left, right, lambda: checker.modelled(rule, explanation, left, right, left))
        else:
            chain, *factors = premises
            expected = chain.after.xreplace({p.before: p.after for p in factors})
            line = Line(left, right, lambda: checker.derived(
                rule, explanation, left, right, left, [p.settle() for p in premises], expected))
        self.steps.append(line)
        return line

    def text(self, expr: sympy.Expr) -> str:
        """The expression as the input writes it, rendered once (a body recurs in each line it is used in)."""
        if expr not in self.texts:
            self.texts[expr] = render.plain(self.show(expr))
        return self.texts[expr]

    # -- the derivation --

    def is_leibniz(self, e: sympy.Basic) -> bool:
        """dN/dv of a defined name N (a factor still to derive), not an abstract function's own h'(u)."""
        return isinstance(e, sympy.Derivative) and isinstance(e.expr, sympy.Symbol) and e.expr.name in self.bodies

    def local(self, name: str, var: str) -> tuple[sympy.Expr, str]:
        """d(body of name)/d(var) with every other name held fixed, written back in the names."""
        if not self.taken:
            self.taken |= set(self.bodies) | names_used(*self.bodies.values())
        variable = self.symbol(var)
        body, dropped = moving_terms(self.bodies[name], variable)
        value, rule = derivative_value(body, variable, self.taken)
        rule = "sum" if dropped else rule  # the law the whole body's derivative starts with
        if value.has(sympy.Derivative):
            # An abstract function's own derivative, h'(u) for E = h(u) or ∂g/∂z for E = g(u, z), is written
            # at its point where substituting the names would change it: a derivative by the name u would
            # be read as Leibniz's dE/du, and g(f(z), z) by z would also move f(z).
            def named(e: sympy.Basic) -> bool:
                if not isinstance(e, sympy.Derivative):
                    return False
                if any(not v.is_Symbol for v in e.variables):
                    return True  # by f(z) in L(p, f(z)): substituting p = e^z/f(z) would move it too
                return variable in e.variables and (
                    var in self.bodies or any(s.name in self.bodies for s in e.expr.free_symbols)
                )

            value = value.replace(named, lambda e: at_points(e, variable))
        return fold(value, self.folding, self.symbol), rule

    def grad(self, top: str, var: str) -> sympy.Expr:
        """dtop/dvar in the intermediate names, emitting the lines that derive it (each factor once)."""
        if top == var:
            return sympy.Integer(1)
        key = (top, var)
        if key in self.memo:
            return self.memo[key]
        lhs = self.leibniz(top, var)
        if not self.depends(top, var):
            value = sympy.Integer(0)
            step = self.emit("constant", f"{self.text(lhs.expr)} does not depend on {var}.", lhs, value)
        elif self.parents(top, var) == [top]:
            value, rule = self.local(top, var)
            body = self.text(self.bodies[top])
            explanation = f"Differentiate {top} = {body} with respect to {var}, holding the other variables fixed."
            step = self.emit(rule, explanation, lhs, value)
        else:
            value, step = self.chain(top, var, lhs)
        self.memo[key] = value
        self.established[key] = step
        return value

    def chain(self, top: str, var: str, lhs: sympy.Derivative) -> tuple[sympy.Expr, Line]:
        """The chain rule through var's parents, then each factor, then the factors put together."""
        parents = self.parents(top, var)
        terms: list[sympy.Expr] = []
        factors: list[sympy.Derivative] = []  # the Leibniz factors still to derive, in reading order
        for parent in parents:
            outer = sympy.Integer(1) if parent == top else self.leibniz(top, parent)
            others_reach_var = any(self.depends(d, var) for d in self.deps(parent) if d != var)
            # When var also reaches this definition through other names, only its direct part belongs here.
            direct = parent == top or others_reach_var
            inner = self.local(parent, var)[0] if direct else self.leibniz(parent, var)
            factors.extend(f for f in (outer, inner) if self.is_leibniz(f))
            terms.append(outer * inner)
        rhs = sympy.Add(*terms)
        through = " and ".join(p for p in parents if p != top)
        if len(parents) == 1:
            explanation = f"Chain rule: {var} reaches {top} only through {through}."
        elif top in parents:
            explanation = f"{var} appears in {top} directly and through {through}: one term for each."
        else:
            explanation = f"Chain rule, summed over the paths from {var} to {top}: through {through}."
        chain = self.emit("chain", explanation, lhs, rhs)
        values = {f: self.grad(f.expr.name, f.variables[0].name) for f in factors}
        premises = [chain, *(self.established[(f.expr.name, f.variables[0].name)] for f in values)]
        value = rhs.xreplace(values)
        return value, self.emit("combine", "Put the factors derived above together.", lhs, value, premises)


def leibniz(
    expr: sympy.Expr, var: sympy.Symbol, defs: Definitions
) -> tuple[tuple[Step, ...], sympy.Expr, Definition | None]:
    """The Leibniz-style steps of d/dvar[expr], the result in the leaf variables, and the definition of
    the name the steps give the expression when no definition names it (E = ...)."""
    named, (top, defs) = defs, top_name(expr, defs, var)
    bodies = {d.name: canonical(d.expr, defs) for d in defs}
    forms = written_forms([expr, *(d.expr for d in defs)], defs)
    folding = Definitions(Definition(n, (), body) for n, body in bodies.items())
    checker = Checker(defs)
    backprop = Backprop(bodies, defs, forms, var, folding, checker)
    introduced = None if top in named else defs[top]
    if introduced is not None:
        backprop.introduce = f"Call the expression {top} = {render.plain(expr)}."
    value = backprop.grad(top, var.name)
    lhs = backprop.show(backprop.leibniz(top, var.name))
    shown = backprop.show(value)
    kept: list[str] = []  # the result in the leaf variables, as the contract says: a defined var too
    leaf = substitute(shown, defs, keep=kept)
    last = backprop.established.get((top, var.name))
    whole = last is not None and last.before == lhs  # the last line gives the value in the names
    definition_line: tuple[str, sympy.Expr | None] | None = None  # its explanation and what it must be
    if leaf != shown:
        named = reachable(names_in(shown, defs), defs)
        used = [defs[n] for n in defs.names if n in named and n != var.name]
        listed = "; ".join(f"{backprop.text(d.symbol)} = {render.plain(d.expr)}" for d in used)
        # The names' meaning is their definitions: the line holds as the line it rewrites does.
        expected = None
        if whole:  # usually the value itself, substituted just above
            expected = leaf if last.after == shown else substitute(last.after, defs, keep=kept)
        definition_line = f"Substitute the definitions: {listed}.", expected
    tidied = tidy(leaf)
    with checking():
        steps = [line.settle() for line in backprop.steps]
        premise = last.settle() if last is not None else None
        if whole:
            # The value in the names, against sympy's derivative at a point, before the lines built on it.
            checked = checker.crosscheck(premise, lhs)
            steps[next(i for i, line in enumerate(backprop.steps) if line is last)] = premise = checked
        if definition_line is not None:
            explanation, expected = definition_line
            if premise is not None and expected is not None:
                premise = checker.derived("definition", explanation, lhs, leaf, lhs, [premise], expected)
            else:
                premise = checker.step("definition", explanation, lhs, leaf, lhs)
            steps.append(premise)
        # The simplify line keeps dE/dz on its left, like every line of this style.
        steps.extend(simplify_step(checker, leaf, tidied, lhs, premise=premise))
    return tuple(steps), steps[-1].after if steps else leaf, introduced
