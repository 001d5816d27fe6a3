"""Definitions (`y = sigmoid(z)`, `E(y) = ...`) and the contract's Leibniz semantics for `dN/dv`.

A defined name N appears in expressions either as the symbol `N` or as an application `N(args)`.
`substitute` replaces both by N's definition; `leibniz_derivative` gives `dN/dv` its meaning
(contract section 1): substitute every defined name except v, then differentiate with respect to v
with every other leaf variable held fixed. `interpret` turns any expression that contains such
derivatives into one in the leaf variables only, which is what claims are compared in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import sympy
from sympy.core.function import AppliedUndef
from sympy.core.parameters import distribute, global_parameters

from derive.errors import DefinitionError
from derive.functions import to_elementary
from derive.symbols import normalize_name, realify, symbol
from derive.sympy_derivative import at_points, substitution, sympy_diff

NameLike = str | sympy.Symbol | AppliedUndef


@dataclass(frozen=True)
class Definition:
    """`name(params) = expr`, from line `line` of a text when it came from one."""

    name: str
    params: tuple[sympy.Symbol, ...]
    expr: sympy.Expr
    line: int | None = None

    @property
    def symbol(self) -> sympy.Symbol:
        return symbol(self.name)

    def applied(self, args: tuple[sympy.Expr, ...]) -> sympy.Expr:
        """The body with the parameters replaced by `args` (all at once, so `f(y, x)` swaps cleanly)."""
        if len(args) != len(self.params):
            if not self.params:
                # `y = sigmoid(z)` written later as `y(z)`: the arguments only say what y depends on.
                if all(isinstance(a, sympy.Symbol) for a in args):
                    return self.expr
                raise DefinitionError(not_applicable(self.name, args))
            raise DefinitionError(
                f"{self.name} takes {len(self.params)} argument(s), but is applied to {len(args)}"
            )
        return put_in(self.expr, self.params, args)

    def written_as_parameters(self, expr: sympy.Expr) -> bool:
        """True for `y(z)` when y is defined as `y(z) = ...`, or as `y = ...` and applied to variables only:
        then `y(z)` is just how y is written. (y(1 - y) applies it, which a name without parameters
        cannot be: `not_applicable`.)"""
        if not isinstance(expr, AppliedUndef):
            return False
        if self.params:
            return tuple(expr.args) == self.params
        return all(isinstance(a, sympy.Symbol) for a in expr.args)


def not_applicable(name: str, args: Iterable[sympy.Basic]) -> str:
    """Why `name(args)` cannot be read when `name` is defined without parameters: written before the
    definition (or in an expression read without it), it applied a function, and dropping its arguments
    would change the meaning (y(1 - y) is no y)."""
    from derive.printing import to_text

    shown = f"{name}({', '.join(to_text(a) for a in args)})"
    return (f"{shown} applies {name}, which is defined without parameters: write {name}*(...) for a product, "
            f"or define {name} with a parameter ({name}(z) = ...) to apply it")


def put_in(body: sympy.Expr, params: tuple[sympy.Symbol, ...], args: tuple[sympy.Expr, ...]) -> sympy.Expr:
    """`body` with the parameters replaced by `args`, all at once (f(y, x) swaps cleanly).

    A parameter that a derivative in the body differentiates by (F(a) = d/da(a b)) takes its argument
    at the point, as a Subs (F(b) is d/da(a b) at a = b, which is b), never into the variable, where
    d/db(b b) would differentiate by the argument instead.
    """
    table = dict(zip(params, args, strict=True))
    if not body.has(sympy.Derivative, sympy.Subs):
        return body.xreplace(table)
    # Each parameter first becomes a dummy of its own (the same every time, so that equal meanings are
    # equal expressions), then each dummy takes its argument: sympy's subs writes the point where the
    # dummy is a variable, and no argument can hold a dummy, so the order does not matter.
    # (named unlike any symbol: see sympy_derivative.substitution)
    dummies = {p: sympy.Dummy(f"parameter {p.name}", dummy_index=hash((p, "parameter")), **p.assumptions0)
               for p in params}
    value = body.xreplace(dummies)
    for p, arg in table.items():
        value = value.subs(dummies[p], arg)
    return value


def name_of(item: NameLike | sympy.Basic) -> str | None:
    """The name a symbol, an application `N(args)` or a string stands for; None for anything else."""
    if isinstance(item, str):
        return normalize_name(item)
    if isinstance(item, sympy.Symbol):
        return item.name
    if isinstance(item, AppliedUndef):
        return item.func.__name__
    return None


class Definitions:
    """An ordered, immutable collection of definitions; defining a name again replaces it."""

    def __init__(self, items: Iterable[Definition] = ()) -> None:
        table: dict[str, Definition] = {}
        for item in items:
            table.pop(item.name, None)  # a redefinition takes the place of the latest line
            table[item.name] = item
        self._table = table
        self._dependencies: dict[str, frozenset[str]] = {}  # asked again and again by the Leibniz engine

    def __iter__(self) -> Iterator[Definition]:
        return iter(self._table.values())

    def __len__(self) -> int:
        return len(self._table)

    def __bool__(self) -> bool:
        return bool(self._table)

    def __contains__(self, item: object) -> bool:
        name = name_of(item) if isinstance(item, str | sympy.Basic) else None
        return name is not None and name in self._table

    def __getitem__(self, item: NameLike) -> Definition:
        name = name_of(item)
        if name is None or name not in self._table:
            raise KeyError(item)
        return self._table[name]

    def __repr__(self) -> str:
        return f"Definitions({list(self._table.values())!r})"

    def get(self, item: NameLike, default: Definition | None = None) -> Definition | None:
        name = name_of(item)
        return self._table.get(name, default) if name is not None else default

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._table)

    def with_definition(self, definition: Definition) -> Definitions:
        return Definitions([*self, definition])

    def named_parameters(self, name: str) -> frozenset[str]:
        """The parameters of `name`'s definition that are defined names: where the name is used as such
        (E, or E(y) as written), E(y) = L(y) is E written as a function of the intermediate y. Where it
        is applied to other arguments (s(u) for s(z) = ...), every parameter is a placeholder."""
        return frozenset(p.name for p in self._table[name].params if p.name in self._table and p.name != name)

    def dependencies(self, name: str) -> frozenset[str]:
        """The defined names that appear in `name`'s definition, its parameters excluded: what it depends
        on as a function (s(z) = ... before z = w s(u) + b is no cycle)."""
        if name not in self._dependencies:
            definition = self._table[name]
            bound = {p.name for p in definition.params}
            self._dependencies[name] = frozenset(n for n in names_in(definition.expr, self) if n not in bound)
        return self._dependencies[name]

    def edges(self, name: str) -> list[tuple[str, ...]]:
        """The paths along which `name`'s definition depends on other names: (child,) for each name it
        uses, and (E, y) where it uses E as a name and E(y) = ... has y, a defined name, as a parameter
        (`named_parameters`: E used as a name is E(y)). Where E is applied (E(u)), E's parameters are
        placeholders, so s(z) = ... before z = w s(u) + b is no cycle."""
        bare = {s.name for s in self._table[name].expr.free_symbols if isinstance(s, sympy.Symbol)}
        paths: list[tuple[str, ...]] = []
        for child in sorted(self.dependencies(name)):
            paths.append((child,))
            if child in bare:
                paths.extend((child, parameter) for parameter in sorted(self.named_parameters(child)))
        return paths

    def check_acyclic(self) -> None:
        """Raise DefinitionError naming the cycle if some definition refers back to itself."""
        done: set[str] = set()

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in trail:
                cycle = (*trail[trail.index(name) :], name)
                raise DefinitionError(f"cyclic definitions: {' -> '.join(cycle)}", name=cycle[0])
            if name in done:
                return
            for path in self.edges(name):
                for k, child in enumerate(path):
                    visit(child, (*trail, name, *path[:k]))
            done.add(name)

        for name in self._table:
            visit(name, ())


def rebuilt(e: sympy.Basic, args: tuple[sympy.Basic, ...]) -> sympy.Basic:
    """`e` with new arguments, or `e` itself when none changed (rebuilding a large tree is not free)."""
    if all(new is old for new, old in zip(args, e.args, strict=True)):
        return e
    try:
        return e.func(*args)
    except RecursionError:
        # sympy's odd functions loop on sin(-a - x) while numbers are not distributed over sums (as the
        # engine keeps -(a - y) for display): sin(-u) -> -sin(u) -> sin(-u) ... Built the usual way.
        with distribute(True):
            return e.func(*args)


def names_in(expr: sympy.Basic, defs: Definitions) -> set[str]:
    """The defined names that occur in `expr`, as symbols or applications."""
    found = {s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol) and s.name in defs}
    found |= {a.func.__name__ for a in expr.atoms(AppliedUndef) if a.func.__name__ in defs}
    return found


def substitute(expr: sympy.Basic, defs: Definitions, keep: Iterable[NameLike] = ()) -> sympy.Expr:
    """Replace every defined name (symbol `N` or application `N(args)`) by its definition, recursively.

    Names in `keep` stay as they are (both `y` and `y(z)` when y is written `y(z)`). A derivative with
    respect to a substituted name is left untouched: its meaning is Leibniz's, which `interpret` gives.
    Raises DefinitionError naming the cycle when definitions refer back to themselves.
    """
    if not defs:
        return expr
    kept = frozenset(n for n in (name_of(k) for k in keep) if n is not None)
    expanded = _expansions(defs, kept, bool(global_parameters.distribute))

    def expand(name: str, trail: tuple[str, ...]) -> sympy.Expr:
        if name in trail:
            cycle = (*trail[trail.index(name) :], name)
            raise DefinitionError(f"cyclic definitions: {' -> '.join(cycle)}", name=cycle[0])
        if name not in expanded:
            definition = defs[name]
            bound = kept | {p.name for p in definition.params}
            expanded[name] = walk(definition.expr, bound, (*trail, name))
        return expanded[name]

    done: dict[tuple[sympy.Basic, frozenset[str]], sympy.Basic] = {}

    def walk(e: sympy.Basic, bound: frozenset[str], trail: tuple[str, ...]) -> sympy.Basic:
        if not e.args and not isinstance(e, sympy.Symbol):
            return e
        key = (e, bound)
        if key not in done:
            done[key] = step(e, bound, trail)
        return done[key]

    def step(e: sympy.Basic, bound: frozenset[str], trail: tuple[str, ...]) -> sympy.Basic:
        if isinstance(e, sympy.Symbol):
            if e.name not in defs or e.name in bound:
                return e
            definition = defs[e.name]
            named = defs.named_parameters(e.name)
            if named:
                # E(y) = L(y) used as E is E(y), its parameter the name y (what the application E(y) means
                # too); left bound, y would be a variable of its own and dE/dz would read 0
                arguments = tuple(walk(p, bound, trail) if p.name in named else p for p in definition.params)
                return put_in(expand(e.name, trail), definition.params, arguments)
            return expand(e.name, trail)
        if isinstance(e, AppliedUndef):
            args = tuple(walk(a, bound, trail) for a in e.args)
            name = e.func.__name__
            if name not in defs:
                return rebuilt(e, args)
            definition = defs[name]
            if name in bound and definition.written_as_parameters(e):
                return rebuilt(e, args)
            body = expand(name, trail)
            if not definition.params:
                if all(isinstance(a, sympy.Symbol) for a in e.args):
                    return body  # y(z): y written as a function of its variables
                if not trail:
                    raise DefinitionError(not_applicable(name, e.args))
                owner = defs[trail[-1]]  # the definition whose body applies the name: the place to fix
                raise DefinitionError(f"in the definition of {owner.name}: {not_applicable(name, e.args)}",
                                      line=owner.line, name=owner.name)
            if len(args) != len(definition.params):
                raise DefinitionError(
                    f"{name} takes {len(definition.params)} argument(s), but is applied to {len(args)}"
                )
            return put_in(body, definition.params, args)
        if isinstance(e, sympy.Derivative):
            if any(name_of(v) in defs and name_of(v) not in bound for v in e.variables):
                return e
            if not all(v.is_Symbol for v in e.variables):
                # by an application g(z): at its point, which substitution reaches (the variable it does not)
                return walk(at_points(e), bound, trail)
            return e.func(walk(e.expr, bound, trail), *e.variable_count)
        if isinstance(e, sympy.Subs):
            inner = bound | {v.name for v in e.variables}
            return substitution(walk(e.expr, inner, trail), e.variables, [walk(p, bound, trail) for p in e.point])
        return rebuilt(e, tuple(walk(a, bound, trail) for a in e.args))

    return walk(expr, kept, ())


@lru_cache(maxsize=256)
def _expansions(defs: Definitions, kept: frozenset[str], distributed: bool) -> dict[str, sympy.Expr]:
    """Names already expanded with `kept` held, shared by all calls: a network's layers recur on every line.

    Keyed by sympy's `distribute` setting too, since that changes the expressions it builds.
    """
    return {}


def leibniz_derivative(
    name_or_expr: NameLike | sympy.Expr,
    var: NameLike,
    defs: Definitions,
    *,
    elementary: bool = False,
    keep: frozenset[str] = frozenset(),
) -> sympy.Expr:
    """The meaning of `dN/dv` (contract section 1), with v kept as written and every other name substituted.

    For a defined name N: substitute into N's definition every defined name except v (recursively) and
    differentiate with respect to v, holding every other leaf variable fixed; a defined v (an
    intermediate such as y) is an independent variable while differentiating, and `y(z)` stands for y
    when that is how y is written. Any other expression is treated like a definition's body.
    With `elementary=True` derive's named functions are rewritten first, so the derivative comes from
    sympy's own rules alone (that is the form the verifier compares). Names in `keep` stay too: an outer
    derivative is taken by them (d/du(d/dw(u w))), and they do not depend on v (`resolve`).
    """
    variable = symbol(var) if isinstance(var, str) else var
    var_name = name_of(variable)
    target = symbol(name_or_expr) if isinstance(name_or_expr, str) else name_or_expr
    target_name = name_of(target) if isinstance(target, sympy.Symbol | AppliedUndef) else None
    if target_name is not None and target_name in defs and target_name == var_name:
        return sympy.Integer(1)
    if var_name is None or var_name not in defs:
        body = substitute(target, defs, keep=keep)
        if isinstance(variable, sympy.Symbol) and variable not in body.free_symbols:
            # dE/dy with E written with y(z) (one application, no variable y) is dE/dy(z), as the contract says
            # (y(0) beside y(z) is a number: applications at a variable count first; y'(0)'s dummy does not)
            applications = {e for e in body.atoms(AppliedUndef) if e.func.__name__ == var_name
                            and not any(isinstance(s, sympy.Dummy) for s in e.free_symbols)}
            at_variables = {e for e in applications if e.free_symbols}
            applications = at_variables or applications
            if len(applications) == 1:
                variable = applications.pop()
        return sympy_diff(to_elementary(body) if elementary else body, variable)
    definition = defs[var_name]
    body = substitute(target, defs, keep=(var_name, *keep))
    # The same dummy every time, so that the points written below are the same in every meaning.
    held = sympy.Dummy(f"held {var_name}", real=True, dummy_index=hash(variable))
    occurrences = [s for s in body.free_symbols if isinstance(s, sympy.Symbol) and s.name == var_name]
    occurrences += [
        e for e in body.atoms(AppliedUndef) if e.func.__name__ == var_name and definition.written_as_parameters(e)
    ]
    body = body.xreplace(dict.fromkeys(occurrences, held))
    if elementary:
        body = to_elementary(body)
    value = sympy_diff(body, held)
    if value.has(sympy.Derivative):
        # An abstract function keeps its derivative by v (g(v, u)) or by an application of v (L(g(v)) by
        # g(v)): each is written at its point, as sympy writes f'(g(x)), so that substituting v's
        # definition later reaches the point too (a derivative by v, or by g(v), would be left alone).
        value = value.replace(
            lambda e: isinstance(e, sympy.Derivative) and any(v == held or not v.is_Symbol for v in e.variables),
            lambda e: at_points(e, held),
        )
    return value.xreplace({held: variable})


def interpret(expr: sympy.Basic, defs: Definitions, *, elementary: bool = False) -> sympy.Expr:
    """`expr` in the leaf variables: every derivative given its Leibniz meaning, every name substituted.

    `Derivative(N, v)`, `Derivative(N(args), v)` and `Derivative(N, y(z))` (how `dN/dv`, `∂N(z)/∂z`
    and `dN/dy(z)` are parsed) all mean `leibniz_derivative`; so does any other derivative, with its
    body in place of N's definition. Inner derivatives are read first and keep their own variable,
    so `d/dz(dE/dy)` differentiates `dE/dy` as a function of y(z). With `elementary=True` the result
    has no named functions and no derivative computed by derive's own `fdiff`.
    """
    if elementary:
        # Rewriting each definition once is much cheaper than rewriting the substituted trees.
        defs, expr = elementary_definitions(defs), to_elementary(expr)
    result = substitute(resolve(expr, defs), defs)
    # A definition whose body is a derivative (delta = dE/dz, z defined) brings it in unread: read it too.
    for _ in range(len(defs)):
        if not any(_names_a_definition(d, defs) for d in result.atoms(sympy.Derivative)):
            break
        result = substitute(resolve(result, defs), defs)
    return result


def _names_a_definition(derivative: sympy.Derivative, defs: Definitions) -> bool:
    """Whether a derivative still has a Leibniz meaning to give: of a defined name, or by one."""
    return bool(names_in(derivative.expr, defs)) or any(name_of(v) in defs for v in derivative.variables)


def resolve(
    expr: sympy.Basic, defs: Definitions, *, every: bool = True, outer: frozenset[str] = frozenset()
) -> sympy.Basic:
    """`expr` with its derivatives replaced by their Leibniz meaning; names outside them stay.

    With `every=False` only the derivatives that involve a defined name are read (`dE/dy` in an
    expression to differentiate), and the others are left for the rules. `outer` names the defined
    names a derivative around `expr` is by (`_derivative_meaning`).
    """
    def meaning(e: sympy.Basic, outer: frozenset[str]) -> sympy.Basic:
        if isinstance(e, sympy.Derivative):
            names = frozenset(n for n in (name_of(v) for v in e.variables) if n is not None and n in defs)
            inner = e.func(meaning(e.expr, outer | names), *e.variable_count)
            return _derivative_meaning(inner, defs, outer) if every or names_in(inner, defs) else inner
        if isinstance(e, sympy.Subs):
            return substitution(meaning(e.expr, outer), e.variables, [meaning(p, outer) for p in e.point])
        return rebuilt(e, tuple(meaning(a, outer) for a in e.args)) if e.args else e

    return meaning(expr, outer)


@lru_cache(maxsize=4096)
def _derivative_meaning(
    derivative: sympy.Derivative, defs: Definitions, outer: frozenset[str] = frozenset()
) -> sympy.Expr:
    """One derivative's Leibniz meaning (cached: a factor such as dE/dy recurs on many lines), one
    variable at a time. `outer` holds the defined names that derivatives around this one are by: they,
    and the names this one takes next, stay while it differentiates wherever they do not depend on its
    variable, so that d/du(d/dw(u w)) is d/du(u) = 1 for u = f(z), not d/du(f(z)) = 0. (Held or put
    in, such a name has the same derivative by w; only held can the outer derivative find it.)"""
    inner = derivative.expr
    variables = [v for v, count in derivative.variable_count for _ in range(int(count))]
    for i, variable in enumerate(variables):
        later = outer | {n for n in (name_of(v) for v in variables[i + 1 :]) if n is not None and n in defs}
        inner = leibniz_derivative(inner, variable, defs, keep=_independent_of(later, variable, defs))
    return inner


def _independent_of(names: frozenset[str], variable: sympy.Basic, defs: Definitions) -> frozenset[str]:
    """The names among `names` whose definitions do not reach `variable` (nor are it)."""
    if not names:
        return names
    target = name_of(variable)
    graph = _graph(defs)
    # A name that uses one the graph cannot follow (E(y) = ... with y defined depends on y through its
    # parameter; a body that differentiates depends on more than it mentions) is never held.
    unfollowed = graph.unmodelled
    return frozenset(
        n for n in names
        if n != target and n not in unfollowed and not graph.reaches(n, frozenset({target}) | unfollowed)
    )


@lru_cache(maxsize=64)
def elementary_definitions(defs: Definitions) -> Definitions:
    """The definitions with derive's named functions rewritten into elementary ones."""
    return Definitions(_elementary_definition(d) for d in defs)


@lru_cache(maxsize=8192)
def _elementary_definition(definition: Definition) -> Definition:
    # One definition at a time: a text that adds a definition per line must not rewrite all of them again.
    return replace(definition, expr=to_elementary(definition.expr))


# --- a smaller, more general model of one claim -----------------------------------------------------


class _Graph:
    """Which names each definition mentions and depends on, found once per name (bodies are small)."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self._mentions: dict[str, frozenset[str]] = {}
        self._dependencies: dict[str, frozenset[str]] = {}
        self._bodies: dict[str, sympy.Expr] = {}
        self._reaches: dict[tuple[str, frozenset[str]], bool] = {}
        # Names a model cannot hold as they are: a body that differentiates (q = d/dz2(s)) depends on more
        # than it mentions, and E(y) = L(y) with y defined depends on y where E is used as a name but not
        # where it is applied (E(2)), which the model's dependencies do not tell apart.
        self.unmodelled = frozenset(
            d.name for d in defs if d.expr.has(sympy.Derivative, sympy.Subs) or defs.named_parameters(d.name)
        )

    def dependencies(self, name: str) -> frozenset[str]:
        if name not in self._dependencies:
            self._dependencies[name] = self.defs.dependencies(name)
        return self._dependencies[name]

    def body(self, name: str) -> sympy.Expr:
        """The definition with each defined name as a plain symbol (`canonical`)."""
        if name not in self._bodies:
            self._bodies[name] = realify(canonical(self.defs[name].expr, self.defs))
        return self._bodies[name]

    def mentions(self, name: str) -> frozenset[str]:
        """Every name in the body, parameters included (a parameter is a symbol that stays)."""
        if name not in self._mentions:
            body = self.defs[name].expr
            found = {s.name for s in body.free_symbols if isinstance(s, sympy.Symbol)}
            self._mentions[name] = frozenset(found | {a.func.__name__ for a in body.atoms(AppliedUndef)})
        return self._mentions[name]

    def reaches(self, name: str, targets: frozenset[str], stop: frozenset[str] = frozenset()) -> bool:
        """Does name's definition mention one of `targets`, directly or through the names it uses
        (not looking inside the names in `stop`)?"""
        if name not in self.defs:
            return False  # a leaf variable depends on nothing
        key = (name, targets)
        if not stop and key in self._reaches:
            return self._reaches[key]
        seen: set[str] = set()
        todo = [name]
        found = False
        while todo and not found:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            found = bool(self.mentions(current) & targets)
            todo.extend(d for d in self.dependencies(current) if d not in stop)
        if not stop:
            self._reaches[key] = found
        return found


@lru_cache(maxsize=16)
def _graph(defs: Definitions) -> _Graph:
    return _Graph(defs)


def depends_on(defs: Definitions, name: str, variable: str) -> bool:
    """Whether the defined `name` depends on `variable`: its definition mentions it, directly or through
    the names it uses. If not, dN/dv is 0."""
    return _graph(defs).reaches(name, frozenset({variable}))


def _cut_function(name: str) -> sympy.core.function.UndefinedFunction:
    # A space cannot occur in a name that a user writes, so this function is never one of theirs.
    return sympy.Function(f"cut {name}", real=True)


def _cut(name: str, mine: frozenset[str], variables: frozenset[str], graph: _Graph) -> tuple[str, ...]:
    """The names `name` can stand as a function of: variables of its derivatives that lie above the others,
    when every path from name to a lower variable passes through them; empty when there are none."""
    if len(mine) < 2 or name in variables:
        return ()
    above = [u for u in mine if u in graph.defs and graph.reaches(u, mine - {u})]
    topmost = [u for u in above if not any(graph.reaches(w, frozenset({u})) for w in mine - {u})]
    for cut in (topmost, above):
        chosen = frozenset(cut)
        if chosen and not graph.reaches(name, variables - chosen, stop=chosen):
            return tuple(sorted(chosen))
    return ()


@dataclass(frozen=True)
class Model:
    """A claim in a smaller model of the definitions (see `local_model`): both sides, the definitions
    the model keeps, and the abstract functions that stand for cut names."""

    left: sympy.Expr
    right: sympy.Expr
    definitions: tuple[Definition, ...]
    cuts: frozenset[type]

    def meanings(self) -> tuple[sympy.Expr, sympy.Expr]:
        """Both sides in the model's leaf variables, with the contract's meaning and named functions elementary."""
        local = Definitions(self.definitions)
        return _model_meaning(self.left, local, self.cuts), _model_meaning(self.right, local, self.cuts)


def local_model(lhs: sympy.Expr, rhs: sympy.Expr, defs: Definitions) -> Model | None:
    """A claim in a smaller model that generalises the definitions (None: read it in full).

    The model keeps only what the claim's derivatives move. A defined name that no variable of a
    derivative in the claim reaches is held as a free symbol, and so is the lowest such variable
    (nothing below it is differentiated). A name differentiated with respect to several names, some
    above the others, stands as an abstract function of the upper ones when it reaches the lower ones
    only through them: `E = Φ(h2)` in `dE/dh1 = dE/dh2 · dh2/dh1`, however deep E lies. Read with the
    contract's meaning (`Model.meanings`), an identity that holds in the model holds for the
    definitions themselves (put back the held names' values and Φ's body), so a proof there proves the
    claim; anything less decides nothing, and the claim is read in full. Even when nothing is held or
    cut, the model keeps only the definitions the claim uses, so that `check.holds_locally` finds the
    same claim about the next layer to be the same model in other names, and does not prove it again.
    """
    if not defs:
        return None
    # realify: `y(z)` becomes the plain symbol y, which must be the same symbol as the real y elsewhere
    left, right = realify(canonical(lhs, defs)), realify(canonical(rhs, defs))
    claim = sympy.Tuple(left, right)
    if claim.has(sympy.Subs):
        return None  # dE/dy(0): a point inside the model's own points (Φ' at ξ = y) would be lost
    variables: set[str] = set()
    tops: dict[str, set[str]] = {}
    for derivative in claim.atoms(sympy.Derivative):
        if not all(isinstance(v, sympy.Symbol) for v in derivative.variables):
            return None  # a derivative with respect to an expression: read in full
        names = {v.name for v in derivative.variables}
        variables |= names
        if isinstance(derivative.expr, sympy.Symbol) and derivative.expr.name in defs:
            tops.setdefault(derivative.expr.name, set()).update(names)
    moving = frozenset(variables)
    graph = _graph(defs)
    if graph.unmodelled and any(
        n in graph.unmodelled or graph.reaches(n, graph.unmodelled) for n in names_in(claim, defs)
    ):
        return None  # read in full (see _Graph.unmodelled)
    model: dict[str, Definition] = {}
    held: set[str] = set()
    cuts: set[type] = set()
    todo = sorted(names_in(claim, defs))
    while todo:
        name = todo.pop()
        if name in model or name in held:
            continue
        if not graph.reaches(name, moving - {name}):
            held.add(name)
            continue
        cut = _cut(name, frozenset(tops.get(name, ())), moving, graph)
        if cut:
            function = _cut_function(name)
            cuts.add(function)
            model[name] = Definition(name, (), function(*(sympy.Symbol(c, real=True) for c in cut)))
            todo.extend(cut)
        else:
            definition = defs[name]
            model[name] = Definition(name, definition.params, graph.body(name))
            todo.extend(graph.dependencies(name))
    return Model(left, right, tuple(model.values()), frozenset(cuts))


@lru_cache(maxsize=64)
def _graph(defs: Definitions) -> _Graph:
    return _Graph(defs)


def _model_meaning(expr: sympy.Basic, local: Definitions, cuts: frozenset[type]) -> sympy.Expr:
    """`interpret` over the model; a derivative of a cut function Φ with respect to a defined name h is
    written Φ'(ξ) at ξ = h (a Subs), so that h is substituted there as everywhere else."""
    value = interpret(expr, local, elementary=True)
    if not cuts or not value.has(sympy.Derivative):
        return value

    def of_cut(e: sympy.Basic) -> bool:
        return isinstance(e, sympy.Derivative) and isinstance(e.expr, AppliedUndef) and type(e.expr) in cuts

    def at_point(e: sympy.Derivative) -> sympy.Expr:
        points = {v: sympy.Dummy("xi", real=True) for v in e.variables if v.name in local}
        if not points:
            return e
        body = sympy.Derivative(e.expr.xreplace(points), *((points.get(v, v), n) for v, n in e.variable_count))
        return sympy.Subs(body, tuple(points.values()), tuple(points))

    return substitute(value.replace(of_cut, at_point), elementary_definitions(local))


def canonical(expr: sympy.Basic, defs: Definitions) -> sympy.Expr:
    """`expr` with each defined name as a plain symbol: `y(z)` -> `y` where y is written `y(z)`.

    Applications to other arguments (`f(2*x)` with `f(x) = x^2`) use a definition as a function
    rather than name an intermediate, so they are expanded.
    """
    def walk(e: sympy.Basic) -> sympy.Basic:
        if isinstance(e, AppliedUndef) and e.func.__name__ in defs:
            definition = defs[e.func.__name__]
            if definition.written_as_parameters(e):
                return definition.symbol
            return walk(definition.applied(tuple(walk(a) for a in e.args)))
        if not e.args or not e.atoms(AppliedUndef):
            return e
        return e.func(*(walk(a) for a in e.args))

    return walk(expr)


def fold(expr: sympy.Expr, defs: Definitions, form: Callable[[str], sympy.Expr]) -> sympy.Expr:
    """Write definitions' bodies back as their names (`sigmoid(z)` -> `y`), the form a reader expects.

    Only bodies that are not a bare symbol or number are folded: with `y = z` not every z is a y.
    """
    table = {d.expr: form(d.name) for d in defs if d.expr.args}
    if not table:
        return expr

    def walk(e: sympy.Basic) -> sympy.Basic:
        if e in table:
            return table[e]
        if not e.args or isinstance(e, sympy.Derivative | sympy.Subs):
            return e  # h'(u) is not dE/du for E = h(u): that name means the derivative of all of E
        return rebuilt(e, tuple(walk(a) for a in e.args))

    return walk(expr)
