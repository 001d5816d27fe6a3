"""One small rule per differentiation law; each rule's docstring is the formula it applies.

`find_rule` looks at one pending derivative `d/dx[f]` and picks the law that applies (a table keyed by
the type of f); `Rule.rewrite` applies it, replacing the pending derivative by an expression that may
contain new pending derivatives. Finding and applying are kept apart so that each can be tested, and
an explicit `Unknown` rule (named `sympy`) marks the derivatives derive has no law for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import sympy
from sympy.core.function import AppliedUndef

from derive.bounded import run_bounded
from derive.functions import relu, sigmoid, softplus
from derive.render import plain
from derive.sympy_derivative import sympy_doit

# sympy.diff on an expression derive has no rule for is cheap in practice; the bound is a safety net.
SYMPY_DIFF_SECONDS = 5.0


def pending(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Derivative:
    """The unevaluated derivative d/dvar[expr], as a line of a derivation shows it."""
    return sympy.Derivative(expr, var, evaluate=False)


def is_final(d: sympy.Derivative) -> bool:
    """f'(x) of an abstract f (`Derivative(f(x), x)`) is an answer, not a derivative still to take; so is
    a partial of g(x, y), but not d/dx g(x^2, x) or d/dx g(x, x), where x is in another argument too."""
    if not isinstance(d.expr, AppliedUndef):
        return False
    args = d.expr.args
    return all(args.count(v) == 1 and not any(a != v and a.has(v) for a in args) for v in d.variables)


@dataclass(frozen=True)
class Rewrite:
    """What a rule puts in place of the pending derivative, and why, in one sentence.

    `say` is the sentence, or how to write it: a sentence that shows expressions is written only when
    it is read (a Leibniz line takes each local derivative by the rules and keeps only its value;
    writing a softmax's 90 `does not depend` sentences was a quarter of that). `inner` is the pending
    derivative of the inner function when the chain rule was used, so that the derivation can name
    the next level's inner function with a fresh letter.
    """

    after: sympy.Expr
    say: str | Callable[[], str]
    inner: sympy.Derivative | None = None

    @property
    def explanation(self) -> str:
        return self.say if isinstance(self.say, str) else self.say()


class Rule:
    """A law of differentiation matched against one pending derivative."""

    name: ClassVar[str] = "rule"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        """Apply the law; `letter` is the fresh name for an inner function (the chain rule's u)."""
        raise NotImplementedError


# --- laws about the shape of the expression ------------------------------------------------------


@dataclass(frozen=True)
class Constant(Rule):
    """d/dx[c] -> 0  (c does not depend on x)"""

    expr: sympy.Expr
    var: sympy.Symbol
    name: ClassVar[str] = "constant"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        return Rewrite(
            sympy.Integer(0), lambda: f"{plain(self.expr)} does not depend on {self.var}, so its derivative is 0."
        )


@dataclass(frozen=True)
class Variable(Rule):
    """d/dx[x] -> 1"""

    var: sympy.Symbol
    name: ClassVar[str] = "variable"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        return Rewrite(sympy.Integer(1), f"The derivative of {self.var} with respect to itself is 1.")


@dataclass(frozen=True)
class Sum(Rule):
    """d/dx[f + g + ...] -> d/dx[f] + d/dx[g] + ..."""

    terms: tuple[sympy.Expr, ...]
    var: sympy.Symbol
    name: ClassVar[str] = "sum"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        after = sympy.Add(*(pending(t, self.var) for t in self.terms))
        return Rewrite(after, "The derivative of a sum is the sum of the derivatives of its terms.")


@dataclass(frozen=True)
class ConstantMultiple(Rule):
    """d/dx[c*f] -> c * d/dx[f]  (c does not depend on x)"""

    constant: sympy.Expr
    rest: sympy.Expr
    var: sympy.Symbol
    name: ClassVar[str] = "constant_multiple"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        after = self.constant * pending(self.rest, self.var)
        return Rewrite(after, lambda: f"The constant factor {plain(self.constant)} comes out of the derivative.")


@dataclass(frozen=True)
class Product(Rule):
    """d/dx[f*g*h] -> f'*g*h + f*g'*h + f*g*h'  (one term per factor)"""

    factors: tuple[sympy.Expr, ...]
    var: sympy.Symbol
    name: ClassVar[str] = "product"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        terms = []
        for i, factor in enumerate(self.factors):
            others = self.factors[:i] + self.factors[i + 1 :]
            terms.append(sympy.Mul(*others, pending(factor, self.var)))
        n = len(self.factors)
        law = "f' g + f g'" if n == 2 else f"one term per factor, each with one of the {n} factors differentiated"
        return Rewrite(sympy.Add(*terms), f"Product rule: {law}.")


@dataclass(frozen=True)
class Quotient(Rule):
    """d/dx[f/g] -> (f'*g - f*g')/g^2"""

    numerator: sympy.Expr
    denominator: sympy.Expr
    var: sympy.Symbol
    name: ClassVar[str] = "quotient"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        f, g, x = self.numerator, self.denominator, self.var
        after = (pending(f, x) * g - f * pending(g, x)) / g**2
        return Rewrite(after, lambda: f"Quotient rule with f = {plain(f)} and g = {plain(g)}: (f' g - f g')/g^2.")


@dataclass(frozen=True)
class GeneralPower(Rule):
    """d/dx[f^g] -> f^g * d/dx[g*ln(f)]  (f^g = e^(g ln f); base and exponent both depend on x)"""

    base: sympy.Expr
    exponent: sympy.Expr
    var: sympy.Symbol
    name: ClassVar[str] = "general_power"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        power = self.base**self.exponent
        inner = pending(self.exponent * sympy.log(self.base), self.var)
        return Rewrite(
            power * inner,
            lambda: f"Base and exponent both depend on {self.var}: write {plain(power)} = "
            f"e^({plain(self.exponent * sympy.log(self.base))}) and differentiate the exponent.",
        )


@dataclass(frozen=True)
class HigherOrder(Rule):
    """d²/dx²[f] -> d/dx[d/dx[f]]: the first derivative is taken by its own law, inside the second"""

    derivative: sympy.Derivative
    name: ClassVar[str] = "higher_order"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        # sympy merges d/dx[d/dx[f]] into d²/dx²[f], so the inner derivative is rewritten at once.
        (first, n), *rest = self.derivative.variable_count
        remaining = [(first, n - 1), *rest] if n > 1 else rest
        inner_rule = find_rule(pending(self.derivative.expr, first))
        inner = inner_rule.rewrite(letter)
        after = sympy.Derivative(inner.after, *remaining, evaluate=False)
        if after == self.derivative:
            return Unknown(self.derivative).rewrite(letter)
        return Rewrite(
            after,
            lambda: f"A higher derivative is taken one derivative at a time; the first by the {inner_rule.name} "
            f"rule: {inner.explanation}",
        )


@dataclass(frozen=True)
class Unknown(Rule):
    """d/dx[f] -> sympy.diff(f, x)  (derive has no law for f: sympy's own derivative, marked `sympy`)"""

    derivative: sympy.Derivative
    name: ClassVar[str] = "sympy"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        after = run_bounded(sympy_doit, self.derivative, seconds=SYMPY_DIFF_SECONDS)
        return Rewrite(
            after, lambda: f"derive has no rule for {plain(self.derivative.expr)}; this derivative is sympy's own."
        )


# --- functions of one argument: the law for F(x), and the chain rule for F(u) --------------------


@dataclass(frozen=True)
class Outer:
    """A function F of one argument, its derivative F'(u), and the rule name it is known by."""

    name: str
    function: Callable[[sympy.Expr], sympy.Expr]
    derivative: Callable[[sympy.Expr], sympy.Expr]

    @property
    def formula(self) -> str:
        return self.derivative.__doc__ or self.name


def _exp(u: sympy.Expr) -> sympy.Expr:
    """exp'(u) = exp(u)"""
    return sympy.exp(u)


def _log(u: sympy.Expr) -> sympy.Expr:
    """ln'(u) = 1/u"""
    return 1 / u


def _log_abs(u: sympy.Expr) -> sympy.Expr:
    """(ln|u|)' = 1/u"""
    return 1 / u


def _sqrt(u: sympy.Expr) -> sympy.Expr:
    """sqrt'(u) = 1/(2 sqrt(u))"""
    return 1 / (2 * sympy.sqrt(u))


def _sin(u: sympy.Expr) -> sympy.Expr:
    """sin'(u) = cos(u)"""
    return sympy.cos(u)


def _cos(u: sympy.Expr) -> sympy.Expr:
    """cos'(u) = -sin(u)"""
    return -sympy.sin(u)


def _tan(u: sympy.Expr) -> sympy.Expr:
    """tan'(u) = sec^2(u)"""
    return sympy.sec(u) ** 2


def _sec(u: sympy.Expr) -> sympy.Expr:
    """sec'(u) = sec(u) tan(u)"""
    return sympy.sec(u) * sympy.tan(u)


def _csc(u: sympy.Expr) -> sympy.Expr:
    """csc'(u) = -csc(u) cot(u)"""
    return -sympy.csc(u) * sympy.cot(u)


def _cot(u: sympy.Expr) -> sympy.Expr:
    """cot'(u) = -csc^2(u)"""
    return -sympy.csc(u) ** 2


def _asin(u: sympy.Expr) -> sympy.Expr:
    """asin'(u) = 1/sqrt(1 - u^2)"""
    return 1 / sympy.sqrt(1 - u**2)


def _acos(u: sympy.Expr) -> sympy.Expr:
    """acos'(u) = -1/sqrt(1 - u^2)"""
    return -1 / sympy.sqrt(1 - u**2)


def _atan(u: sympy.Expr) -> sympy.Expr:
    """atan'(u) = 1/(1 + u^2)"""
    return 1 / (1 + u**2)


def _acot(u: sympy.Expr) -> sympy.Expr:
    """acot'(u) = -1/(1 + u^2)"""
    return -1 / (1 + u**2)


def _sinh(u: sympy.Expr) -> sympy.Expr:
    """sinh'(u) = cosh(u)"""
    return sympy.cosh(u)


def _cosh(u: sympy.Expr) -> sympy.Expr:
    """cosh'(u) = sinh(u)"""
    return sympy.sinh(u)


def _tanh(u: sympy.Expr) -> sympy.Expr:
    """tanh'(u) = 1 - tanh^2(u)"""
    return 1 - sympy.tanh(u) ** 2


def _coth(u: sympy.Expr) -> sympy.Expr:
    """coth'(u) = 1 - coth^2(u)"""
    return 1 - sympy.coth(u) ** 2


def _sech(u: sympy.Expr) -> sympy.Expr:
    """sech'(u) = -sech(u) tanh(u)"""
    return -sympy.sech(u) * sympy.tanh(u)


def _csch(u: sympy.Expr) -> sympy.Expr:
    """csch'(u) = -csch(u) coth(u)"""
    return -sympy.csch(u) * sympy.coth(u)


def _asinh(u: sympy.Expr) -> sympy.Expr:
    """asinh'(u) = 1/sqrt(u^2 + 1)"""
    return 1 / sympy.sqrt(u**2 + 1)


def _acosh(u: sympy.Expr) -> sympy.Expr:
    """acosh'(u) = 1/(sqrt(u - 1) sqrt(u + 1))  (u > 1; 1/sqrt(u^2 - 1) would also be real for u < -1)"""
    return 1 / (sympy.sqrt(u - 1) * sympy.sqrt(u + 1))


def _atanh(u: sympy.Expr) -> sympy.Expr:
    """atanh'(u) = 1/(1 - u^2)"""
    return 1 / (1 - u**2)


def _abs(u: sympy.Expr) -> sympy.Expr:
    """|u|' = sign(u)  (undefined at 0)"""
    return sympy.sign(u)


def _step(u: sympy.Expr) -> sympy.Expr:
    """sign'(u) = H'(u) = 0  (undefined at 0, where the step is)"""
    return sympy.Integer(0)


def _sigmoid(u: sympy.Expr) -> sympy.Expr:
    """σ'(u) = σ(u)(1 - σ(u))"""
    return sigmoid(u) * (1 - sigmoid(u))


def _softplus(u: sympy.Expr) -> sympy.Expr:
    """softplus'(u) = σ(u)"""
    return sigmoid(u)


def _relu(u: sympy.Expr) -> sympy.Expr:
    """relu'(u) = H(u), the Heaviside step  (undefined at 0)"""
    return sympy.Heaviside(u)


OUTER: dict[type[sympy.Basic], Outer] = {
    f: Outer(name, f, derivative)
    for f, name, derivative in (
        (sympy.exp, "exp", _exp),
        (sympy.log, "log", _log),
        (sympy.sin, "sin", _sin),
        (sympy.cos, "cos", _cos),
        (sympy.tan, "tan", _tan),
        (sympy.sec, "sec", _sec),
        (sympy.csc, "csc", _csc),
        (sympy.cot, "cot", _cot),
        (sympy.asin, "asin", _asin),
        (sympy.acos, "acos", _acos),
        (sympy.atan, "atan", _atan),
        (sympy.acot, "acot", _acot),
        (sympy.sinh, "sinh", _sinh),
        (sympy.cosh, "cosh", _cosh),
        (sympy.tanh, "tanh", _tanh),
        (sympy.coth, "coth", _coth),
        (sympy.sech, "sech", _sech),
        (sympy.csch, "csch", _csch),
        (sympy.asinh, "asinh", _asinh),
        (sympy.acosh, "acosh", _acosh),
        (sympy.atanh, "atanh", _atanh),
        (sympy.Abs, "abs", _abs),
        (sympy.sign, "sign", _step),
        (sympy.Heaviside, "heaviside", _step),
        (sigmoid, "sigmoid", _sigmoid),
        (softplus, "softplus", _softplus),
        (relu, "relu", _relu),
    )
}
SQRT = Outer("sqrt", sympy.sqrt, _sqrt)
LOG_ABS = Outer("log", lambda u: sympy.log(sympy.Abs(u)), _log_abs)


def chain_sentence(letter: sympy.Symbol, inner: sympy.Expr, var: sympy.Symbol, outer: str, derivative: str) -> str:
    """'Chain rule with u = x^2: d/du sin(u) = cos(u), times du/dx.'"""
    return f"Chain rule with {letter} = {plain(inner)}: d/d{letter} {outer} = {derivative}, times d{letter}/d{var}."


@dataclass(frozen=True)
class Chainable(Rule):
    """A law for F(x) that, applied to F(u) with u an expression in x, becomes the chain rule."""

    arg: sympy.Expr
    var: sympy.Symbol

    law: ClassVar[str] = "rule"

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.law if self.arg == self.var else "chain"

    def outer_at(self, u: sympy.Expr) -> sympy.Expr:
        """F(u): the outer function applied to u."""
        raise NotImplementedError

    def derivative_at(self, u: sympy.Expr) -> sympy.Expr:
        """F'(u)."""
        raise NotImplementedError

    def law_sentence(self) -> str:
        x = self.var
        return f"d/d{x} {plain(self.outer_at(x))} = {plain(self.derivative_at(x))}."

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        if self.arg == self.var:
            return Rewrite(self.derivative_at(self.var), self.law_sentence)
        inner = pending(self.arg, self.var)

        def explanation() -> str:
            return chain_sentence(
                letter, self.arg, self.var, plain(self.outer_at(letter)), plain(self.derivative_at(letter))
            )

        return Rewrite(self.derivative_at(self.arg) * inner, explanation, inner)


@dataclass(frozen=True)
class Elementary(Chainable):
    """d/dx[F(u)] -> F'(u) * d/dx[u]  for F in the table `OUTER` (each entry's docstring is F')"""

    outer: Outer = field(kw_only=True)

    @property
    def law(self) -> str:  # type: ignore[override]
        return self.outer.name

    def outer_at(self, u: sympy.Expr) -> sympy.Expr:
        return self.outer.function(u)

    def derivative_at(self, u: sympy.Expr) -> sympy.Expr:
        return self.outer.derivative(u)


@dataclass(frozen=True)
class Power(Chainable):
    """d/dx[u^n] -> n*u^(n-1) * d/dx[u]  (n does not depend on x)"""

    exponent: sympy.Expr = field(kw_only=True)
    law: ClassVar[str] = "power"

    def outer_at(self, u: sympy.Expr) -> sympy.Expr:
        return u**self.exponent

    def derivative_at(self, u: sympy.Expr) -> sympy.Expr:
        return self.exponent * u ** (self.exponent - 1)

    def law_sentence(self) -> str:
        return f"Power rule: {super().law_sentence()}"


@dataclass(frozen=True)
class Exponential(Chainable):
    """d/dx[a^u] -> a^u*ln(a) * d/dx[u]  (a does not depend on x)"""

    base: sympy.Expr = field(kw_only=True)
    law: ClassVar[str] = "exponential"

    def outer_at(self, u: sympy.Expr) -> sympy.Expr:
        return self.base**u

    def derivative_at(self, u: sympy.Expr) -> sympy.Expr:
        return self.base**u * sympy.log(self.base)


@dataclass(frozen=True)
class AbstractFunction(Rule):
    """d/dx[f(u)] -> f'(u) * d/dx[u]  for an abstract f, f'(u) written Subs(d/dt f(t), t, u) as sympy does"""

    arg: sympy.Expr
    var: sympy.Symbol
    function: type
    name: ClassVar[str] = "chain"  # f(x) itself has no law: its derivative f'(x) is already an answer

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        f = self.function
        inner = pending(self.arg, self.var)
        after = sympy.Subs(sympy.Derivative(f(letter), letter), letter, self.arg) * inner
        return Rewrite(
            after, lambda: chain_sentence(letter, self.arg, self.var, f"{f}({letter})", f"{f}'({letter})"), inner
        )


@dataclass(frozen=True)
class SeveralArguments(Rule):
    """d/dx[g(u1, ..., un)] -> ∂_1 g(u1, ..., un) * d/dx[u1] + ... + ∂_n g(u1, ..., un) * d/dx[un]  for an
    abstract g, one term for each argument that depends on x; ∂_k g written as sympy does,
    Subs(d/dt g(u1, ..., t, ..., un), t, uk)"""

    expr: AppliedUndef
    var: sympy.Symbol
    name: ClassVar[str] = "chain"

    def rewrite(self, letter: sympy.Symbol) -> Rewrite:
        args, x = self.expr.args, self.var
        terms, inner, named = [], None, []
        for k, argument in enumerate(args, start=1):
            if x not in argument.free_symbols:
                continue
            point = sympy.Dummy(f"xi_{k}")
            changed = (*args[: k - 1], point, *args[k:])
            partial = sympy.Subs(sympy.Derivative(self.expr.func(*changed), point), point, argument)
            named.append((k, argument))
            if argument == x:
                terms.append(partial)
                continue
            moving = pending(argument, x)
            inner = inner if inner is not None else moving
            terms.append(partial * moving)

        def explanation() -> str:
            parts = [f"∂_{k} {self.expr.func}" + ("" if a == x else f" times d/d{x}({plain(a)})") for k, a in named]
            return (f"Chain rule over the arguments of {self.expr.func}: one term for each argument that depends "
                    f"on {x}: {', plus '.join(parts)}.")

        return Rewrite(sympy.Add(*terms), explanation, inner)


# --- finding the rule ----------------------------------------------------------------------------


def _is_denominator(factor: sympy.Expr) -> bool:
    return isinstance(factor, sympy.Pow) and factor.exp.is_Number and factor.exp.is_negative


def _find_mul(expr: sympy.Mul, var: sympy.Symbol) -> Rule:
    constant, rest = expr.as_independent(var, as_Add=False)
    if constant != 1:
        return ConstantMultiple(constant, rest, var)
    factors = sympy.Mul.make_args(expr)
    denominators = [f for f in factors if _is_denominator(f)]
    if denominators:
        numerator = sympy.Mul(*(f for f in factors if not _is_denominator(f)))
        denominator = sympy.Mul(*(f.base ** (-f.exp) for f in denominators))
        return Quotient(numerator, denominator, var)
    return Product(tuple(factors), var)


def _find_pow(expr: sympy.Pow, var: sympy.Symbol) -> Rule:
    base, exponent = expr.as_base_exp()
    if var not in exponent.free_symbols:
        if exponent == sympy.Rational(1, 2):
            return Elementary(base, var, outer=SQRT)
        return Power(base, var, exponent=exponent)
    if var not in base.free_symbols:
        return Exponential(exponent, var, base=base)
    return GeneralPower(base, exponent, var)


def _find_log(expr: sympy.log, var: sympy.Symbol) -> Rule:
    (arg,) = expr.args
    if isinstance(arg, sympy.Abs):
        return Elementary(arg.args[0], var, outer=LOG_ABS)
    return Elementary(arg, var, outer=OUTER[sympy.log])


def _find_applied(expr: AppliedUndef, var: sympy.Symbol) -> Rule:
    if len(expr.args) != 1:
        return SeveralArguments(expr, var)
    return AbstractFunction(expr.args[0], var, expr.func)


def _find_sum(expr: sympy.Add, var: sympy.Symbol) -> Rule:
    return Sum(tuple(expr.args), var)


# Declarative dispatch on the type of the expression being differentiated (searched along its MRO).
FINDERS: dict[type, Callable[[sympy.Expr, sympy.Symbol], Rule]] = {
    sympy.Add: _find_sum,
    sympy.Mul: _find_mul,
    sympy.Pow: _find_pow,
    sympy.log: _find_log,
    AppliedUndef: _find_applied,
}
for _function in OUTER:
    if _function is not sympy.log:
        FINDERS[_function] = lambda expr, var: Elementary(expr.args[0], var, outer=OUTER[type(expr)])


def find_rule(derivative: sympy.Derivative) -> Rule:
    """The law that applies to one pending derivative, or `Unknown` when derive has none."""
    expr = derivative.expr
    (var, count), *others = derivative.variable_count
    if others or count != 1:
        return HigherOrder(derivative)
    if not isinstance(var, sympy.Symbol) or expr.has(sympy.Derivative, sympy.Subs):
        return Unknown(derivative)
    if var not in expr.free_symbols:
        return Constant(expr, var)
    if expr == var:
        return Variable(var)
    for cls in type(expr).__mro__:
        finder = FINDERS.get(cls)
        if finder is not None:
            return finder(expr, var)
    return Unknown(derivative)
