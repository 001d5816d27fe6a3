"""The benchmark's inputs: each family of derivations by size, with the sympy baseline for the same work.

Every case is a `Case`: `run` does derive's work (a fully verified derivation, or `check` of a text)
and `baseline` does what a sympy user's script would do for the same expression: build it in
elementary form, `sympy.diff` it, plus one numeric comparison of two expressions at 30 digits (sympy's
derivative against derive's result, so that the baseline also says whether the two agree).

Both sides start from nothing on every run: derive reads its text, the baseline builds its sympy
objects. A baseline that reused one built expression would carry the assumptions sympy cached on its
nodes from one run into the next (clearing sympy's cache does not reach them), and building is a
third to a half of a cold `sympy.diff` script.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

import derive
from derive.functions import to_elementary


def sigmoid(z: sympy.Expr) -> sympy.Expr:
    """The logistic function as a sympy user writes it (sympy has no sigmoid of its own)."""
    return 1 / (1 + sympy.exp(-z))


@dataclass(frozen=True)
class Outcome:
    """What derive produced: whether every step holds, the number of steps (or lines), the result."""

    ok: bool
    steps: int
    result: object = None


@dataclass(frozen=True)
class Case:
    """One size of one family: derive's run and the sympy baseline for the same expression."""

    family: str
    style: str  # "leibniz", "expand" or "check"
    size: int
    run: Callable[[], Outcome] = field(repr=False)
    baseline: Callable[[Outcome], bool] = field(repr=False)  # True when sympy agrees with derive
    target: float = 2.0  # the ratio to the baseline the issue asks for


# --- the baseline ------------------------------------------------------------------------------------


def agree(left: sympy.Expr, right: sympy.Expr, seed: int = 7) -> bool:
    """One numeric comparison of two expressions at 30 significant digits, at a random point."""
    rng = random.Random(seed)
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    point = {s: sympy.Float(sympy.Rational(rng.randint(1, 999), 1000) * rng.choice((1, -1)), 40) for s in symbols}
    a, b = left.xreplace(point).evalf(30), right.xreplace(point).evalf(30)
    return bool(abs(a - b) <= sympy.Float(10) ** -25 * max(1, abs(a)))


def diff_baseline(build: Callable[[], sympy.Expr], var: sympy.Symbol) -> Callable[[Outcome], bool]:
    """sympy.diff of the expression `build` makes, then one comparison with derive's result (as plain
    elementary sympy)."""

    def baseline(outcome: Outcome) -> bool:
        derivative = sympy.diff(build(), var)
        return agree(derivative, outcome.result)

    return baseline


def as_sympy(result: sympy.Expr) -> sympy.Expr:
    """derive's result as a sympy user has it: elementary functions, plain symbols (done before timing)."""
    elementary = to_elementary(result)
    return elementary.xreplace({s: sympy.Symbol(s.name) for s in elementary.free_symbols})


def differentiation(text: str, wrt: str, where: list[str] | None = None, style: str | None = None) -> Outcome:
    derivation = derive.differentiate(text, wrt, where=where or (), style=style)
    return Outcome(derivation.ok, len(derivation.steps), derivation.result)


def case(family: str, style: str, size: int, text: str, wrt: str, build: Callable[[], sympy.Expr], *,
         where: list[str] | None = None, target: float) -> Case:
    """derive on `text`; the baseline on the same expression as `build` makes it in sympy."""

    def run() -> Outcome:
        return differentiation(text, wrt, where, style)

    return Case(family, style, size, run, diff_baseline(build, sympy.Symbol(wrt)), target)


# --- the families ------------------------------------------------------------------------------------

LEIBNIZ, EXPAND = 2.0, 3.0  # the targets: within 2x in Leibniz style, 3x in expand style


def seed() -> list[Case]:
    def expr() -> sympy.Expr:
        a, z = sympy.symbols("a z")
        return sympy.Rational(1, 2) * (a - sigmoid(z)) ** 2

    return [
        case("seed", "expand", 1, "1/2*(a - sigmoid(z))^2", "z", expr, target=EXPAND),
        case("seed", "leibniz", 1, "1/2*(a - y)^2", "z", expr, where=["y = sigmoid(z)"], target=LEIBNIZ),
    ]


def neuron() -> list[Case]:
    def expr() -> sympy.Expr:
        t, w, x, b = sympy.symbols("t w x b")
        return sympy.Rational(1, 2) * (t - sigmoid(w * x + b)) ** 2

    where = ["z = w*x + b", "y = sigmoid(z)"]
    return [
        case("neuron", "expand", 1, "1/2*(t - sigmoid(w*x + b))^2", "w", expr, target=EXPAND),
        case("neuron", "leibniz", 1, "1/2*(t - y)^2", "w", expr, where=where, target=LEIBNIZ),
    ]


def network_expr(layers: int) -> sympy.Expr:
    h: sympy.Expr = sympy.Symbol("x")
    for i in range(1, layers + 1):
        h = sigmoid(sympy.Symbol(f"w{i}") * h + sympy.Symbol(f"b{i}"))
    return sympy.Rational(1, 2) * (sympy.Symbol("t") - h) ** 2


def network_leibniz(layers: int) -> Case:
    where = [f"h{i} = sigmoid(w{i}*{'x' if i == 1 else f'h{i - 1}'} + b{i})" for i in range(1, layers + 1)]
    text = f"1/2*(t - h{layers})^2"
    return case("network", "leibniz", layers, text, "w1", lambda: network_expr(layers), where=where, target=LEIBNIZ)


def network_expand(layers: int) -> Case:
    h = "x"
    for i in range(1, layers + 1):
        h = f"sigmoid(w{i}*{h} + b{i})"
    text = f"1/2*(t - {h})^2"
    return case("network", "expand", layers, text, "w1", lambda: network_expr(layers), target=EXPAND)


NESTED = ("sin", "cos", "exp")


def nested(depth: int) -> Case:
    """sin(cos(exp(sin(...(x))))), `depth` functions deep."""
    text = "x"
    for i in range(depth):
        text = f"{NESTED[i % len(NESTED)]}({text})"

    def expr() -> sympy.Expr:
        built: sympy.Expr = sympy.Symbol("x")
        for i in range(depth):
            built = getattr(sympy, NESTED[i % len(NESTED)])(built)
        return built

    return case("nested", "expand", depth, text, "x", expr, target=EXPAND)


PRODUCT = ("sin", "cos", "tanh", "sigmoid")


def product(count: int) -> Case:
    """sin(x^2 + 1) cos(x^2 + 2) tanh(x^2 + 3) sigmoid(x^2 + 4) ..., `count` composed factors."""
    names = [PRODUCT[i % len(PRODUCT)] for i in range(count)]
    text = "*".join(f"{name}(x^2 + {i + 1})" for i, name in enumerate(names))
    outer = {"sigmoid": sigmoid} | {n: getattr(sympy, n) for n in PRODUCT if n != "sigmoid"}

    def expr() -> sympy.Expr:
        x = sympy.Symbol("x")
        return sympy.Mul(*(outer[name](x**2 + i + 1) for i, name in enumerate(names)))

    return case("product", "expand", count, text, "x", expr, target=EXPAND)


def softmax_expand(classes: int) -> Case:
    """Cross-entropy -sum_k y_k log(softmax_k(z)) as one expression, with respect to z1."""
    total = " + ".join(f"exp(z{k})" for k in range(1, classes + 1))
    text = "-(" + " + ".join(f"y{k}*log(exp(z{k})/({total}))" for k in range(1, classes + 1)) + ")"

    def expr() -> sympy.Expr:
        z = [sympy.Symbol(f"z{k}") for k in range(1, classes + 1)]
        y = [sympy.Symbol(f"y{k}") for k in range(1, classes + 1)]
        denominator = sympy.Add(*(sympy.exp(zk) for zk in z))
        return -sympy.Add(*(yk * sympy.log(sympy.exp(zk) / denominator) for yk, zk in zip(y, z, strict=True)))

    return case("softmax", "expand", classes, text, "z1", expr, target=EXPAND)


def softmax_leibniz(classes: int) -> Case:
    """The same cross-entropy written with definitions: s = sum_k exp(z_k), p_k = exp(z_k)/s."""
    base = softmax_expand(classes)
    where = ["s = " + " + ".join(f"exp(z{k})" for k in range(1, classes + 1))]
    where += [f"p{k} = exp(z{k})/s" for k in range(1, classes + 1)]
    text = "-(" + " + ".join(f"y{k}*log(p{k})" for k in range(1, classes + 1)) + ")"

    def run() -> Outcome:
        return differentiation(text, "z1", where, "leibniz")

    return Case("softmax", "leibniz", classes, run, base.baseline, LEIBNIZ)


# --- check: derivations of many lines ------------------------------------------------------------------

BLOCK = """\
z{k} = w{k}*x{k} + b{k}
y{k} = sigmoid(z{k})
E{k} = 1/2*(t{k} - y{k})^2
dE{k}/dy{k} = -(t{k} - y{k})
dy{k}/dz{k} = y{k}*(1 - y{k})
dE{k}/dz{k} = dE{k}/dy{k} * dy{k}/dz{k}
  = -(t{k} - y{k})*y{k}*(1 - y{k})
dE{k}/dw{k} = dE{k}/dz{k} * x{k}
dE{k}/db{k} = dE{k}/dz{k}
d/dx(x^{n}*sin(x)) = {n}*x^{m}*sin(x) + x^{n}*cos(x)
"""
BLOCK_LINES = BLOCK.count("\n")


def derivation_text(lines: int) -> str:
    """A backprop derivation of `lines` lines: one neuron per block of ten, each with names of its own."""
    return "".join(BLOCK.format(k=k, n=k + 2, m=k + 1) for k in range(lines // BLOCK_LINES))


def block_claims(k: int) -> list[tuple[sympy.Expr, sympy.Symbol, sympy.Expr]]:
    """What a sympy user would compute to check block k: (expression, variable, claimed derivative)."""
    w, x, b, t, yv, zv, X = sympy.symbols(f"w{k} x{k} b{k} t{k} y{k} z{k} x")
    loss = lambda y: sympy.Rational(1, 2) * (t - y) ** 2  # noqa: E731
    y_of_z = sigmoid(zv)
    y_of_w = sigmoid(w * x + b)
    de_dz = -(t - y_of_z) * y_of_z * (1 - y_of_z)
    de_dz_at = de_dz.xreplace({zv: w * x + b})
    n = k + 2
    return [
        (loss(yv), yv, -(t - yv)),
        (y_of_z, zv, y_of_z * (1 - y_of_z)),
        (loss(y_of_z), zv, de_dz),
        (loss(y_of_z), zv, de_dz),
        (loss(y_of_w), w, de_dz_at * x),
        (loss(y_of_w), b, de_dz_at),
        (X**n * sympy.sin(X), X, n * X ** (n - 1) * sympy.sin(X) + X**n * sympy.cos(X)),
    ]


def check_case(lines: int) -> Case:
    text = derivation_text(lines)

    def run() -> Outcome:
        report = derive.check(text)
        return Outcome(report.ok, text.count("\n"))

    def baseline(outcome: Outcome) -> bool:
        claims = [c for k in range(lines // BLOCK_LINES) for c in block_claims(k)]
        return all(agree(sympy.diff(expr, var), claimed) for expr, var, claimed in claims)

    return Case("check", "check", lines, run, baseline, LEIBNIZ)


# --- all of them ---------------------------------------------------------------------------------------

FULL = {
    "network_leibniz": (1, 2, 4, 8, 16, 32),
    "network_expand": (1, 2, 4, 8),
    "nested": (5, 10, 20, 40, 80),
    "product": (5, 10, 20, 40),
    "softmax": (3, 10),
    "check": (10, 30, 100, 300, 1000),
}
QUICK = {
    "network_leibniz": (1, 2, 4, 8),
    "network_expand": (1, 2, 4),
    "nested": (5, 10, 20),
    "product": (5, 10),
    "softmax": (3,),
    "check": (10, 30, 100),
}


def cases(quick: bool = False) -> list[Case]:
    sizes = QUICK if quick else FULL
    out = [*seed(), *neuron()]
    out += [network_leibniz(n) for n in sizes["network_leibniz"]]
    out += [network_expand(n) for n in sizes["network_expand"]]
    out += [nested(n) for n in sizes["nested"]]
    out += [product(n) for n in sizes["product"]]
    out += [c for n in sizes["softmax"] for c in (softmax_expand(n), softmax_leibniz(n))]
    out += [check_case(n) for n in sizes["check"]]
    return out
