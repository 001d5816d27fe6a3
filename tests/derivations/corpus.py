"""The derivation corpus: one file per derivation, each step's expected verdict in a trailing comment.

A step's expectation is written on the line where its row starts, after `# expect:` (plain text) or
`% expect:` (LaTeX): one item per `=` on that line, separated by `;`, each a verdict with an optional
diagnosis in brackets, e.g. `# expect: proved; refuted [sign error]`. A refuted step without brackets
must get no diagnosis.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

import sympy
from sympy.core.function import AppliedUndef

from derive.definitions import Definitions, interpret
from derive.functions import to_elementary
from derive.statements import read_statements
from derive.symbols import realify

FOLDER = Path(__file__).parent
_EXPECT = re.compile(r"[#%]\s*expect:\s*(?P<items>.+?)\s*$")
_ITEM = re.compile(r"^(?P<verdict>proved|confirmed|refuted|unknown)(?:\s*\[(?P<diagnosis>[^\]]+)\])?$")


@dataclass(frozen=True)
class Expectation:
    verdict: str
    diagnosis: str | None


@dataclass(frozen=True)
class Derivation:
    name: str
    text: str
    latex: bool
    expected: dict[tuple[int, int], Expectation]


def read(path: Path) -> Derivation:
    text = path.read_text(encoding="utf-8")
    expected: dict[tuple[int, int], Expectation] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _EXPECT.search(line)
        if not found:
            continue
        for k, item in enumerate(part.strip() for part in found.group("items").split(";")):
            match = _ITEM.match(item)
            if match is None:
                raise ValueError(f"{path.name}:{number}: cannot read expectation {item!r}")
            expected[(number, k)] = Expectation(match.group("verdict"), match.group("diagnosis"))
    return Derivation(path.stem, text, path.suffix == ".tex", expected)


def load_all() -> list[Derivation]:
    return [read(p) for p in sorted(FOLDER.glob("*.t*")) if p.suffix in (".txt", ".tex")]


# --- the steps of a derivation, with the definitions in force at each --------------------------------


@dataclass(frozen=True)
class CorpusStep:
    derivation: str
    line: int
    k: int
    lhs: sympy.Expr
    rhs: sympy.Expr
    defs: Definitions

    @property
    def id(self) -> str:
        return f"{self.derivation}:{self.line}.{self.k}"


def steps_of(derivation: Derivation) -> list[CorpusStep]:
    """Every `=` of the derivation, read with derive's statement reader, definitions applied in order."""
    defs = Definitions()
    out = []
    for statement in read_statements(derivation.text, latex=derivation.latex):
        if statement.definition is not None:
            defs = defs.with_definition(statement.definition)
            continue
        for k, lhs, rhs in statement.steps:
            out.append(CorpusStep(derivation.name, statement.line, k, lhs, rhs, defs))
    return out


# --- an independent numeric oracle: sympy's own evalf, concrete functions of its own ------------------

_T = sympy.Symbol("t", real=True)
# Deliberately different from the verifier's stand-ins, so that the oracle does not share its blind spots.
ORACLE_FUNCTIONS: tuple[sympy.Lambda, ...] = (
    sympy.Lambda(_T, _T**3 + 2 * _T + 1),
    sympy.Lambda(_T, sympy.sin(_T) + _T**2),
    sympy.Lambda(_T, sympy.exp(_T / 2) - 3),
    sympy.Lambda(_T, 1 / (1 + _T**2)),
)
_S = sympy.Symbol("s", real=True)
ORACLE_FUNCTIONS_OF_TWO: tuple[sympy.Lambda, ...] = (
    sympy.Lambda((_T, _S), _T * _S**2 + sympy.sin(_T)),
    sympy.Lambda((_T, _S), sympy.exp(_T - _S) + 3 * _T * _S),
    sympy.Lambda((_T, _S), _T**3 - _S / (2 + _T**2)),
)
DIGITS = 30


def meaning(expr: sympy.Expr, defs: Definitions) -> sympy.Expr:
    """The contract's meaning of one side over the reals: Leibniz derivatives given their meaning,
    definitions substituted."""
    real = Definitions(replace(d, params=tuple(_real(p) for p in d.params), expr=_real(d.expr)) for d in defs)
    return interpret(_real(expr), real, elementary=True)


def _real(expr: sympy.Basic) -> sympy.Basic:
    """Every symbol real, also those a derivative binds; abstract functions real-valued."""
    table = {s: sympy.Symbol(s.name, real=True) for s in expr.atoms(sympy.Symbol) if not s.is_Dummy}
    return realify(expr.xreplace(table))


def concretize(expr: sympy.Expr, functions: dict[str, sympy.Lambda]) -> sympy.Expr:
    """Abstract functions replaced by the named concrete ones, and every pending derivative evaluated."""
    expr = expr.replace(_wrt_expression, _at_point)
    replaced = expr.replace(
        lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in functions,
        lambda e: functions[e.func.__name__](*e.args),
    )
    return to_elementary(replaced.doit())


def _wrt_expression(e: sympy.Basic) -> bool:
    return isinstance(e, sympy.Derivative) and any(not v.is_Symbol for v in e.variables)


def _at_point(e: sympy.Derivative) -> sympy.Expr:
    """d f(g(x)) / d g(x) as f'(u) at u = g(x), which stays meaningful once g is concrete."""
    fresh = {v: sympy.Symbol(f"u{i}", real=True) for i, v in enumerate(e.variables) if not v.is_Symbol}
    body = sympy.Derivative(e.expr.xreplace(fresh), *[(fresh.get(v, v), n) for v, n in e.variable_count])
    return sympy.Subs(body, tuple(fresh.values()), tuple(fresh))


def value_at(expr: sympy.Expr, point: dict[str, sympy.Expr]) -> sympy.Expr | None:
    """The real value of `expr` at the point (by symbol name), or None where it is not real and finite."""
    table = {s: point[s.name] for s in expr.free_symbols if s.name in point}
    missing = [s for s in expr.free_symbols if s.name not in point]
    if missing:
        raise AssertionError(f"no value for {missing} in {point}")
    value = sympy.N(expr.xreplace(table), DIGITS)
    if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    real, imag = value.as_real_imag()
    if abs(imag) > 10 ** (-DIGITS + 5) * max(1, abs(real)):
        return None
    return real


def function_choices(expr: sympy.Basic) -> list[dict[str, sympy.Lambda]]:
    """Three assignments of concrete functions to the abstract ones in `expr` ([{}] when there are none)."""
    arities = {a.func.__name__: len(a.args) for a in expr.atoms(AppliedUndef)}
    if not arities:
        return [{}]
    if not set(arities.values()) <= {1, 2}:
        raise ValueError(f"the oracle has functions of one and two arguments only: {arities}")
    choices = {1: ORACLE_FUNCTIONS, 2: ORACLE_FUNCTIONS_OF_TWO}
    return [
        {name: choices[arities[name]][(i + j) % len(choices[arities[name]])] for j, name in enumerate(sorted(arities))}
        for i in range(3)
    ]


def random_points(names: list[str], count: int, seed: int = 7) -> list[dict[str, sympy.Rational]]:
    """Random rationals; the first three in (0, 1), where sqrt, log and asin all have real values."""
    rng = random.Random(seed)
    return [
        {
            name: sympy.Rational(rng.randint(1, 18), 19)
            if i < 3
            else sympy.Rational(rng.choice((-1, 1)) * rng.randint(1, 40), rng.randint(7, 19))
            for name in names
        }
        for i in range(count)
    ]


def differ(left: sympy.Expr, right: sympy.Expr) -> bool:
    scale = max(1, abs(left), abs(right))
    return abs(left - right) > sympy.Float(10) ** -12 * scale


def oracle(lhs: sympy.Expr, rhs: sympy.Expr, *, points: int = 6) -> str:
    """"different" (a point where both sides are real, finite and differ), "equal" (equal to 20+ digits at
    every point where both are real, at least 3 of them) or "undecided"; lhs and rhs are meanings."""
    names = sorted({s.name for s in lhs.free_symbols | rhs.free_symbols})
    compared = 0
    for functions in function_choices(sympy.Tuple(lhs, rhs)):
        left_expr, right_expr = concretize(lhs, functions), concretize(rhs, functions)
        for point in random_points(names, points):
            left, right = value_at(left_expr, point), value_at(right_expr, point)
            if left is None or right is None:
                continue
            if differ(left, right):
                return "different"
            if abs(left - right) > sympy.Float(10) ** -20 * max(1, abs(left)):
                return "undecided"
            compared += 1
    return "equal" if compared >= 3 else "undecided"
