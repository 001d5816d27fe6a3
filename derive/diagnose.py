"""Naming the mistake behind a wrong step: the claim is compared with deliberately wrong derivations.

For a claim `d/dx F = R` that is refuted, small mutated differentiators (one that forgets the chain
factor, one where (f g)' = f' g', ...) and mutated Leibniz chains (a path left out, dE/dy taken for
dE/dz) produce candidate wrong derivatives of F. A candidate that the verifier finds equal to R
(proved, or confirmed at 8+ points to 30 digits) names the mistake; when none does, nothing is said.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import cache

import sympy
from sympy.core.function import AppliedUndef

from derive.bounded import BoundExceeded, run_bounded
from derive.definitions import Definition, Definitions, interpret, name_of, names_in, substitute
from derive.symbols import realify, symbol
from derive.verify import Verdict, verify_equal

SIGN = "sign error"
CHAIN = "forgot the inner derivative (chain rule)"
WRONG_ARGUMENT = "derivative evaluated at the wrong argument"
PRODUCT = "product rule written as the product of derivatives"
QUOTIENT = "quotient rule numerator reversed"
POWER = "power rule exponent not lowered"
CONSTANT = "constant treated as a variable"
MISSING_PATH = "missing path in a multivariable chain"
TANH = "tanh' = 1 + tanh^2"
SIGMOID = "σ' = σ(1+σ)"

CATALOGUE: tuple[str, ...] = (
    SIGN, CHAIN, WRONG_ARGUMENT, PRODUCT, QUOTIENT, POWER, CONSTANT, MISSING_PATH, TANH, SIGMOID,
)

# Which name wins when two candidates match: the most specific mistake first, a bare sign error last
# (forgetting the inner derivative of (a - x)^2 also flips the sign, but says more).
PRIORITY: tuple[str, ...] = (
    TANH, SIGMOID, QUOTIENT, PRODUCT, POWER, WRONG_ARGUMENT, MISSING_PATH, CHAIN, CONSTANT, SIGN,
)

MAX_SITES = 6  # mutation sites tried one at a time per mistake (and all at once)
MAX_TERMS = 8  # additive terms whose sign is flipped one at a time
CANDIDATE_TIMEOUT = 1.0  # seconds for one comparison
DEFAULT_BUDGET = 4.0  # seconds for one wrong step

Candidate = tuple[str, sympy.Expr]

# Exceptions by which sympy says it cannot handle an expression: that candidate is skipped.
_FAILURES = (TypeError, ValueError, NotImplementedError, AttributeError, RecursionError, ZeroDivisionError)


def diagnose(
    targets: tuple[sympy.Expr, ...],
    claimed: sympy.Expr,
    defs: Definitions,
    *,
    budget: float = DEFAULT_BUDGET,
) -> str | None:
    """The catalogue name of the mistake that turns one of `targets` into `claimed`, or None.

    `targets` are expressions (as written) whose true value is the left side of the wrong step: the
    left side itself, and the head of its chain when the steps in between hold. `claimed` is the right
    side in the leaf variables (as `interpret(..., elementary=True)` gives it).
    """
    deadline = time.monotonic() + budget
    tried: set[sympy.Expr] = set()
    for target in targets:
        try:
            candidates = run_bounded(lambda t=target: list(_all_candidates(t, defs)), seconds=budget / 2)
            correct = run_bounded(interpret, target, defs, elementary=True, seconds=budget / 4)
        except (BoundExceeded, *_FAILURES):
            continue
        for name in PRIORITY:
            for mistake, expr in candidates:
                if mistake != name:
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None  # out of time: say nothing rather than guess
                try:
                    candidate = run_bounded(interpret, expr, defs, elementary=True, seconds=remaining)
                except (BoundExceeded, *_FAILURES):
                    continue
                if candidate in tried or candidate == correct:
                    continue  # a mutation that changes nothing cannot name a mistake
                tried.add(candidate)
                if _matches(candidate, claimed, min(CANDIDATE_TIMEOUT, remaining)):
                    return name
    return None


def _matches(candidate: sympy.Expr, claimed: sympy.Expr, timeout: float) -> bool:
    verdict = verify_equal(candidate, claimed, timeout=timeout).verdict
    return verdict in (Verdict.PROVED, Verdict.CONFIRMED)


# --- candidates ----------------------------------------------------------------------------------


def _all_candidates(target: sympy.Expr, defs: Definitions) -> Iterator[Candidate]:
    """Wrong versions of `target`, each one mistake: in one of its derivatives, or a sign slip."""
    derivatives = _outer_derivatives(target)
    for node in derivatives:
        for mistake, wrong in _derivative_candidates(node, defs):
            yield mistake, target.xreplace({node: wrong})
    if not derivatives:
        yield from _sign_flips(SIGN, substitute(target, defs), expand=True)


def _outer_derivatives(expr: sympy.Expr) -> list[sympy.Derivative]:
    """The derivatives in `expr` that are not inside another derivative."""
    if isinstance(expr, sympy.Derivative):
        return [expr]
    found: list[sympy.Derivative] = []
    for arg in expr.args:
        found.extend(d for d in _outer_derivatives(arg) if d not in found)
    return found


def _derivative_candidates(node: sympy.Derivative, defs: Definitions) -> Iterator[Candidate]:
    """Wrong meanings of one derivative `d(body)/dv` of first order."""
    if len(node.variable_count) != 1 or node.variable_count[0][1] != 1 or node.expr.has(sympy.Derivative):
        return
    body, var = node.expr, node.variable_count[0][0]
    var_name = name_of(var)
    if var_name is None:
        return
    yield from _leibniz_candidates(body, var, defs)
    expanded, held, restore = _differentiand(body, var, defs)
    if expanded is None:
        return
    correct = _Differentiator(held).d(expanded)
    for mistake in _MUTANT_MISTAKES:
        for wrong in _mutants(expanded, held, mistake):
            yield mistake, wrong.xreplace(restore)
    yield from _sign_flips(SIGN, correct.xreplace(restore), expand=False)
    for wrong in _constants_as_variables(expanded, held, correct):
        yield CONSTANT, wrong.xreplace(restore)


def _differentiand(
    body: sympy.Expr, var: sympy.Expr, defs: Definitions
) -> tuple[sympy.Expr | None, sympy.Symbol, dict[sympy.Symbol, sympy.Expr]]:
    """The body with every definition substituted except `var`, which becomes a held symbol (Leibniz)."""
    var_name = name_of(var)
    if var_name in defs:
        definition = defs[var_name]
        expanded = substitute(body, defs, keep=(var_name,))
        held = sympy.Dummy(f"held_{var_name}", real=True)
        expanded = expanded.replace(
            lambda e: (isinstance(e, sympy.Symbol) and not isinstance(e, sympy.Dummy) and e.name == var_name)
            or (name_of(e) == var_name and definition.written_as_parameters(e)),
            lambda e: held,
        )
        return expanded, held, {held: var}
    if not isinstance(var, sympy.Symbol):
        return None, sympy.Dummy(), {}
    return substitute(body, defs), var, {}


def _sign_flips(mistake: str, correct: sympy.Expr, *, expand: bool) -> Iterator[Candidate]:
    """The negated expression, and the expression with one additive term's sign flipped."""
    yield mistake, -correct
    whole = sympy.expand(correct) if expand else correct
    terms = sympy.Add.make_args(whole)
    if 1 < len(terms) <= MAX_TERMS:
        for i in range(len(terms)):
            yield mistake, sympy.Add(*terms[:i], -terms[i], *terms[i + 1 :])


def _constants_as_variables(expanded: sympy.Expr, var: sympy.Symbol, correct: sympy.Expr) -> Iterator[sympy.Expr]:
    """The derivative as if a constant moved with the variable (dc/dx = 1): d/dx(a x) = a + x."""
    others = sorted((s for s in expanded.free_symbols if s != var), key=str)[:MAX_SITES]
    for c in others:
        yield correct + sympy.diff(expanded, c)
    for constant in (sympy.pi, sympy.E):
        if expanded.has(constant):
            c = sympy.Dummy("c", positive=True)
            yield correct + sympy.diff(expanded.subs(constant, c), c).subs(c, constant)
    exps = [e for e in expanded.atoms(sympy.exp) if e.args[0].is_number][:MAX_SITES]
    for e in exps:  # e^2 read as a power of the variable e: 2 e
        yield correct + e.args[0] * sympy.exp(e.args[0] - 1)


# --- Leibniz chains: a link or a path left out ----------------------------------------------------


def _leibniz_candidates(body: sympy.Expr, var: sympy.Expr, defs: Definitions) -> Iterator[Candidate]:
    """dE/dy taken for dE/dz (an inner link forgotten), and the chain with one path through the graph
    left out (only where two or more paths lead from E to z)."""
    var_name = name_of(var)
    graph = _Graph(body, var_name, var, defs)
    for name in graph.intermediates():
        yield CHAIN, sympy.Derivative(body, _real(name))
    if graph.paths(graph.TOP) < 2:
        return
    for parent, child in graph.droppable_edges():
        frozen = sympy.Symbol(f"{child}_held_fixed", real=True)
        if parent == graph.TOP:
            new_body, new_defs = _freeze(body, child, frozen, defs), defs
        else:
            definition = defs[parent]
            changed = Definition(definition.name, definition.params, _freeze(definition.expr, child, frozen, defs))
            new_body, new_defs = body, defs.with_definition(changed)
        derivative = interpret(sympy.Derivative(new_body, var), new_defs)
        yield MISSING_PATH, derivative.xreplace({frozen: _real(child)})


def _real(name: str) -> sympy.Symbol:
    """The name as the checker reads it, a real symbol. A plain one among real ones is not only wrong:
    sympy's Subs compares by the names of its points, so a Subs at a plain z equals the same Subs at
    the real z, and sympy's cache would hand the one for the other to later lines."""
    return realify(symbol(name))


def _freeze(expr: sympy.Expr, name: str, frozen: sympy.Symbol, defs: Definitions) -> sympy.Expr:
    """`expr` with the name (as a symbol, or applied as it is written) replaced by a constant symbol."""
    definition = defs[name] if name in defs else None  # noqa: SIM401 - Definitions has no get()
    return expr.replace(
        lambda e: (isinstance(e, sympy.Symbol) and e.name == name)
        or (isinstance(e, AppliedUndef) and definition is not None and name_of(e) == name
            and definition.written_as_parameters(e)),
        lambda e: frozen,
    )


class _Graph:
    """Which defined names lie between a body and the variable, and how many paths lead there."""

    TOP = "<body>"

    def __init__(self, body: sympy.Expr, var_name: str, var: sympy.Expr, defs: Definitions) -> None:
        self.body, self.var_name, self.defs = body, var_name, defs
        self.var_defined = var_name in defs
        self.var_symbol = var if isinstance(var, sympy.Symbol) else symbol(var_name)
        self._children: dict[str, list[str]] = {}
        self._reaches: dict[str, bool] = {}
        self._paths: dict[str, int] = {}
        self._paths_down: dict[str, int] = {}
        self._all: list[str] | None = None

    def expr(self, node: str) -> sympy.Expr:
        return self.body if node == self.TOP else self.defs[node].expr

    def children(self, node: str) -> list[str]:
        """Defined names in the node's expression that lead to the variable (and the variable itself)."""
        if node not in self._children:
            self._children[node] = self._find_children(node)
        return self._children[node]

    def _find_children(self, node: str) -> list[str]:
        if node == self.var_name and node != self.TOP:
            return []
        expr = self.expr(node)
        bound = set() if node == self.TOP else {p.name for p in self.defs[node].params}
        names = sorted(n for n in names_in(expr, self.defs) if n not in bound)
        out = [n for n in names if n == self.var_name or self.reaches(n)]
        if not self.var_defined and self.var_symbol in expr.free_symbols and self.var_name not in bound:
            out.append(self.var_name)
        return out

    def reaches(self, node: str) -> bool:
        if node not in self._reaches:
            self._reaches[node] = node == self.var_name or any(self.reaches(c) for c in self.children(node))
        return self._reaches[node]

    def paths(self, node: str) -> int:
        if node not in self._paths:
            self._paths[node] = 1 if node == self.var_name else sum(self.paths(c) for c in self.children(node))
        return self._paths[node]

    def _nodes(self) -> list[str]:
        if self._all is None:
            self._all = self._walk()
        return self._all

    def _walk(self) -> list[str]:
        seen: list[str] = []
        todo = [self.TOP]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.append(node)
            todo.extend(self.children(node))
        return seen

    def intermediates(self) -> list[str]:
        """Defined names strictly between the body and the variable (dE/dE = 1 names no mistake)."""
        own = name_of(self.body)
        return [n for n in self._nodes() if n not in (self.TOP, self.var_name, own) and n in self.defs]

    def droppable_edges(self) -> list[tuple[str, str]]:
        """Edges whose removal leaves at least one path (else the whole derivative would vanish)."""
        total = self.paths(self.TOP)
        edges = []
        for parent in self._nodes():
            for child in self.children(parent):
                through = self._paths_to(parent) * self.paths(child)
                if 0 < through < total:
                    edges.append((parent, child))
        return edges[: 2 * MAX_SITES]

    def _paths_to(self, node: str) -> int:
        """Paths from the top down to `node`."""
        if node == self.TOP:
            return 1
        if node not in self._paths_down:
            parents = [p for p in self._nodes() if node in self.children(p)]
            self._paths_down[node] = sum(self._paths_to(p) * self.children(p).count(node) for p in parents)
        return self._paths_down[node]


# --- mutated differentiators ---------------------------------------------------------------------

_T = sympy.Dummy("t", real=True)

_MUTANT_MISTAKES: tuple[str, ...] = (CHAIN, WRONG_ARGUMENT, PRODUCT, QUOTIENT, POWER, TANH, SIGMOID, SIGN)


def _mutants(expr: sympy.Expr, var: sympy.Symbol, mistake: str) -> Iterator[sympy.Expr]:
    """The derivative with `mistake` made at every site at once, then at each site alone."""
    everywhere = _Differentiator(var, mistake)
    result = everywhere.d(expr)
    if not everywhere.sites:
        return
    yield result
    if everywhere.sites > 1:
        for site in range(min(everywhere.sites, MAX_SITES)):
            yield _Differentiator(var, mistake, site).d(expr)


@cache
def _outer_derivative(func: type) -> sympy.Expr:
    """f'(t) for a function of one argument, from sympy (derive's own classes for sigmoid and friends)."""
    return sympy.diff(func(_T), _T)


class _Differentiator:
    """d/dvar by the textbook rules, making `mistake` at the chosen site (every site when `site` is None).

    Sites are counted in a fixed walk order, so site i means the same place in every run.
    """

    def __init__(self, var: sympy.Symbol, mistake: str | None = None, site: int | None = None) -> None:
        self.var, self.mistake, self.site = var, mistake, site
        self.sites = 0

    def fire(self, mistake: str) -> bool:
        if mistake != self.mistake:
            return False
        index = self.sites
        self.sites += 1
        return self.site is None or self.site == index

    def d(self, e: sympy.Expr) -> sympy.Expr:
        x = self.var
        if not e.has(x):
            return sympy.Integer(0)
        if e == x:
            return sympy.Integer(1)
        if isinstance(e, sympy.Add):
            return sympy.Add(*(self.d(a) for a in e.args))
        if isinstance(e, sympy.Mul):
            return self.mul(e)
        if isinstance(e, sympy.Pow):
            return self.pow(e)
        if isinstance(e, sympy.exp):
            return self.chain(lambda u: sympy.exp(u), e.args[0])
        if isinstance(e, sympy.Function) and len(e.args) == 1 and not isinstance(e, sympy.Derivative | sympy.Subs):
            return self.function(e)
        return sympy.diff(e, x)

    def chain(self, outer: Callable[[sympy.Expr], sympy.Expr], u: sympy.Expr) -> sympy.Expr:
        """outer'(u) * u', where the chain's own mistakes may happen (only when u is not the variable)."""
        if u == self.var:
            return outer(u)
        if self.fire(CHAIN):
            return outer(u)
        if self.fire(WRONG_ARGUMENT):
            return outer(self.var) * self.d(u)
        return outer(u) * self.d(u)

    def mul(self, e: sympy.Mul) -> sympy.Expr:
        x = self.var
        numerator, denominator = _split_fraction(e)
        if numerator.has(x) and denominator.has(x) and self.fire(QUOTIENT):
            return (numerator * self.d(denominator) - self.d(numerator) * denominator) / denominator**2
        varying = [a for a in e.args if a.has(x)]
        constant = sympy.Mul(*(a for a in e.args if not a.has(x)))
        if len(varying) >= 2 and self.fire(PRODUCT):
            return constant * sympy.Mul(*(self.d(a) for a in varying))
        terms = []
        for i, factor in enumerate(varying):
            rest = sympy.Mul(*varying[:i], *varying[i + 1 :])
            terms.append(self.d(factor) * rest)
        return constant * sympy.Add(*terms)

    def pow(self, e: sympy.Pow) -> sympy.Expr:
        base, exponent = e.args
        if not exponent.has(self.var):
            lowered = exponent - 1
            if self.fire(POWER):
                lowered = exponent
            sign = -1 if exponent == -1 and self.fire(SIGN) else 1  # (1/u)' = +u'/u^2
            return self.chain(lambda u: sign * exponent * u**lowered, base)
        if not base.has(self.var):
            return self.chain(lambda u: base**u * sympy.log(base), exponent)
        return e * self.d(exponent * sympy.log(base))

    def function(self, e: sympy.Function) -> sympy.Expr:
        u = e.args[0]
        func = e.func
        if isinstance(e, AppliedUndef):
            return self.chain(lambda a: sympy.Subs(sympy.Derivative(func(_T), _T), _T, a).doit(), u)
        outer = _outer_derivative(func)
        if func is sympy.tanh and self.fire(TANH):
            outer = 1 + sympy.tanh(_T) ** 2
        elif func.__name__ == "sigmoid" and self.fire(SIGMOID):
            outer = func(_T) * (1 + func(_T))
        elif func is sympy.cos and self.fire(SIGN):
            outer = sympy.sin(_T)
        if outer.has(sympy.Derivative, sympy.Subs):
            return sympy.diff(e, self.var)
        return self.chain(lambda a: outer.xreplace({_T: a}), u)


def _split_fraction(e: sympy.Mul) -> tuple[sympy.Expr, sympy.Expr]:
    """numerator, denominator: factors with a negative exponent go below the line."""
    top, bottom = [], []
    for factor in e.args:
        base, exponent = factor.as_base_exp()
        if exponent.is_number and exponent.is_negative:
            bottom.append(base ** (-exponent))
        else:
            top.append(factor)
    return sympy.Mul(*top), sympy.Mul(*bottom)
