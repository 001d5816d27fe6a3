"""Text -> sympy: the lark grammars in grammar/ and one Transformer that builds sympy objects directly.

Nothing the user writes reaches eval, exec, sympify or parse_expr: numbers become `Rational`, names
become symbols from `derive.symbols`, and every operation is a sympy constructor call, each one checked
against `derive.limits` before it runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

import sympy
from lark import Lark, Token, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive
from sympy.core.function import AppliedUndef

from derive import tables
from derive.errors import DeriveError, LimitError, ParseError, caret_context
from derive.functions import relu, sigmoid, softplus
from derive.limits import (
    DEFAULT_LIMITS,
    Limits,
    exp_problem,
    number_problem,
    power_problem,
    product_problem,
    sum_problem,
)
from derive.preprocess import (
    CLOSE_BAR,
    OPEN_BAR,
    blank,
    check_nesting,
    line_column,
    pair_bars,
    strip_math_delimiters,
)
from derive.symbols import GREEK_LETTERS, as_written, function, normalize_name, realify, symbol

# --------------------------------------------------------------------------------------------------
# Known functions


def _abs(arg: sympy.Expr) -> sympy.Expr:
    """|arg|, read over the reals as all of derive's mathematics is: for the parser's plain x, sympy writes
    |e^x| as e^re(x), and its derivative in real and imaginary parts; for a real x it is e^x. Where sympy
    cannot tell that an exponent is real (e^asin(x), e^(x^y), e^(dy/dx)), it is real wherever it is
    defined, as every quantity of derive's is: its real part is itself."""
    value = sympy.Abs(arg)
    if not value.has(sympy.re, sympy.im):
        return value
    real = sympy.Abs(realify(arg))
    if real.has(sympy.re, sympy.im):
        real = real.replace(lambda e: isinstance(e, sympy.re), lambda e: e.args[0])
        real = real.replace(lambda e: isinstance(e, sympy.im), lambda e: sympy.S.Zero)
    return as_written(real)


# name -> (sympy constructor, numbers of arguments it accepts)
_KNOWN: dict[str, tuple[Callable[..., sympy.Expr], tuple[int, ...]]] = {
    "sin": (sympy.sin, (1,)), "cos": (sympy.cos, (1,)), "tan": (sympy.tan, (1,)),
    "sec": (sympy.sec, (1,)), "csc": (sympy.csc, (1,)), "cot": (sympy.cot, (1,)),
    "asin": (sympy.asin, (1,)), "acos": (sympy.acos, (1,)), "atan": (sympy.atan, (1,)),
    "arcsin": (sympy.asin, (1,)), "arccos": (sympy.acos, (1,)), "arctan": (sympy.atan, (1,)),
    "asec": (sympy.asec, (1,)), "acsc": (sympy.acsc, (1,)), "acot": (sympy.acot, (1,)),
    "arcsec": (sympy.asec, (1,)), "arccsc": (sympy.acsc, (1,)), "arccot": (sympy.acot, (1,)),
    "sinh": (sympy.sinh, (1,)), "cosh": (sympy.cosh, (1,)), "tanh": (sympy.tanh, (1,)),
    "coth": (sympy.coth, (1,)), "sech": (sympy.sech, (1,)), "csch": (sympy.csch, (1,)),
    "asinh": (sympy.asinh, (1,)), "acosh": (sympy.acosh, (1,)), "atanh": (sympy.atanh, (1,)),
    "arsinh": (sympy.asinh, (1,)), "arcosh": (sympy.acosh, (1,)), "artanh": (sympy.atanh, (1,)),
    "arcsinh": (sympy.asinh, (1,)), "arccosh": (sympy.acosh, (1,)), "arctanh": (sympy.atanh, (1,)),
    "exp": (sympy.exp, (1,)), "ln": (sympy.log, (1,)), "log": (sympy.log, (1, 2)),
    "log10": (lambda x: sympy.log(x) / sympy.log(10), (1,)), "log2": (lambda x: sympy.log(x) / sympy.log(2), (1,)),
    "sqrt": (sympy.sqrt, (1,)), "abs": (_abs, (1,)),
    "sign": (sympy.sign, (1,)), "sgn": (sympy.sign, (1,)), "heaviside": (sympy.Heaviside, (1,)),
    "sigmoid": (sigmoid, (1,)), "softplus": (softplus, (1,)), "relu": (relu, (1,)), "ReLU": (relu, (1,)),
    # max(0, x) as ML notes write relu; an unknown max would be an abstract function (or a definition)
    "max": (sympy.Max, tuple(range(2, 9))), "min": (sympy.Min, tuple(range(2, 9))),
}
# Applied, sigma is the sigmoid (σ(z)); alone it is the symbol σ.
_SIGMOID_ALIASES = ("sigma",)
_INVERSE = {"sin": "asin", "cos": "acos", "tan": "atan", "sinh": "asinh", "cosh": "acosh", "tanh": "atanh",
            "sec": "asec", "csc": "acsc", "cot": "acot"}
KNOWN_FUNCTIONS = frozenset(_KNOWN) | {"diff"}
_MAX_DERIVATIVE_ORDER = 20


@dataclass(frozen=True)
class ParseContext:
    """What the surrounding derivation tells the parser about names.

    `variables` maps each name defined without parameters (`y = sigmoid(z)`) to the leaf variables of
    its definition, so that `y(z)` reads as y itself and `y(1 - y)` as a product. `functions` holds names
    defined with parameters (`y(z) = ...`), which stay applications.
    """

    variables: Mapping[str, frozenset[str]] = field(default_factory=dict)
    functions: Collection[str] = frozenset()
    limits: Limits = DEFAULT_LIMITS
    # A line of a derivation: dN/dv is then of a name N defined above it (the contract), or of one used
    # as a variable (`seen` on the lines above, or on this line), whose derivative is 0. Of a name used
    # nowhere else it would be 0 too, and a false chain rule, dE/dz = 42 dE/dy dy/dz, would hold as 0 = 0.
    derivation: bool = False
    seen: Collection[str] = frozenset()
    # The argument lists a name is applied to on the lines above (y(x) there makes dy/dx y'(x) here).
    seen_forms: Callable[[str], Iterable[tuple[sympy.Basic, ...]]] = lambda name: ()
    # Where a name is defined, for that error: on a line above ("above") or, for an expression to
    # differentiate, in the definitions given with it ("where": `derive diff --where`, `where=`).
    defined_in: str = "above"
    # The derivation defines a name e on some line: e is that name everywhere in it, not Euler's number
    # (the contract), also above its definition, as any other name would be (E = 1/2 e^2, then e = y - t).
    e_is_a_name: bool = False

    def is_defined(self, name: str) -> bool:
        """Whether the derivation defines `name` (a membership test: derivations may define thousands)."""
        return name in self.variables or name in self.functions

    @property
    def defined(self) -> frozenset[str]:
        return frozenset(self.variables) | frozenset(self.functions)


_CONTEXT: ContextVar[ParseContext] = ContextVar("derive_parse_context", default=ParseContext())  # noqa: B039 - frozen


class _Fault(Exception):
    """A semantic error found while building sympy objects; carries the token it is about."""

    def __init__(self, message: str, token: Token | None = None, *, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.token = token
        self.limit = limit


@dataclass(frozen=True)
class Chain:
    """One statement line: `A = B = C`, perhaps after `let`, perhaps continuing (`= B`)."""

    parts: tuple[sympy.Expr, ...]
    continues: bool  # the line starts with `=`
    let: bool  # the line starts with `let` or `where`
    # How the first part is written: "name" (`w`, `(w)`, `\\hat{y}`), "call" (`y(z)`, `exp(log(x))`) or
    # None (anything else). Its sympy value cannot tell: `2w - w` is sympy's w, and `2w - w = 5` a claim.
    written: str | None = None
    given: bool = False  # the line starts with `given`: an equation assumed, not claimed


# --------------------------------------------------------------------------------------------------
# LaTeX names: w_{12} -> w_12, \alpha_1 -> alpha_1, \hat{y} -> yhat (sympy prints it back as \hat{y}).

_LATEX_NAME = re.compile(
    r"""\\(?P<accent>hat|bar|tilde|dot|vec|widehat|overline)(?:\s*\{\s*(?:(?P<accented>[A-Za-z])|\\(?P<accented_greek>[A-Za-z]+))\s*\}|\s+(?P<bare>[A-Za-z]))
      | \\(?P<greek>[A-Za-z]+)(?![A-Za-z{])
      | \\(?:mathbf|boldsymbol|bm)\s*\{\s*\\(?P<bold_greek>[A-Za-z]+)\s*\}
      | \\(?P<script>mathcal|mathscr)\s*\{\s*(?P<script_letter>[A-Za-z])\s*\}
      | \\(?:mathrm|mathit|operatorname|text|textrm|mathbf|boldsymbol|bm|mathcal|mathscr|mathsf)
        \s*\{\s*(?P<word>[A-Za-z][A-Za-z0-9]*)\s*\}
      | (?P<letter>[A-Za-z]|[^\W\d_])""",
    re.VERBOSE,
)
_ACCENT_SUFFIX = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                  "dot": "dot", "vec": "vec"}
_SUBSCRIPT = re.compile(r"_\s*(?:\{((?:[^{}]|\{[^{}]*\})*)\}|([A-Za-z0-9]|\\[A-Za-z]+(?:\s*\{[^{}]*\})?))")


def latex_name(text: str) -> str:
    """The plain name of a LaTeX name token (letter, Greek command, accent, \\mathrm word; subscript)."""
    text = text.strip()
    m = _LATEX_NAME.match(text)
    if m is None:
        return normalize_name(text)
    if m.group("greek"):
        base = m.group("greek")  # \varphi is varphi: a name of its own, not phi
    elif m.group("bold_greek"):
        base = m.group("bold_greek")
    elif m.group("script"):  # \mathcal{L} is a name of its own beside L (a log-likelihood beside a likelihood)
        base = m.group("script_letter") + m.group("script")[4:]
    elif m.group("accent"):
        letter = m.group("accented") or m.group("accented_greek") or m.group("bare")  # \hat{y}, \hat{\alpha}, \hat y
        base = letter + _ACCENT_SUFFIX[m.group("accent")]
    elif m.group("word"):
        base = m.group("word")
    else:
        base = normalize_name(m.group("letter"))
    rest = text[m.end() :].strip()
    sub = _SUBSCRIPT.match(rest)
    if sub:
        inner = sub.group(1) if sub.group(1) is not None else sub.group(2)
        inner = re.sub(r"\\(?:text|textrm|mathrm|mathit|operatorname)\s*", "", inner)  # w_{\text{out}}
        inner = re.sub(r"\\([A-Za-z]+)", r"\1", inner)  # w_{\alpha} -> w_alpha
        # x_{n+1}, x_{n-1}, w_{1,12}: the signs and commas keep indices apart (all were x_n1, w_112), as
        # words a name can hold (x_nplus1, x_nminus1, w_1_12); derive prints them back as written.
        # a_{i,j} is a_{ij} (one character an index), but w_{1,12} is not w_{11,2}
        parts = [part.strip() for part in inner.split(",")]
        inner = "".join(parts) if all(len(part) <= 1 for part in parts) else "_".join(parts)
        inner = re.sub(r"\s*\+\s*", "plus", re.sub(r"\s*[-−]\s*", "minus", inner))
        inner = re.sub(r"\W", "", inner)
        if inner:
            return f"{base}_{inner}"
    return base


# --------------------------------------------------------------------------------------------------
# Derivative tokens: the grammar recognises them, these patterns take them apart.

# A name as the plain grammar's _NAME reads it: superscripts and vulgar fractions are not letters (x²).
_PLAIN_NAME = (r"[^\W\d\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u209f\u2150-\u218f\u2460-\u24ff]"
               r"[^\W\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u207f\u2090-\u209f\u2150-\u218f\u2460-\u24ff]*")
_PLAIN_TOP = r"(?:\^(?P<top>\d\d?)|(?P<top_bare>[²³⁴⁵⁶⁷⁸⁹]))?"
_PLAIN_BOTTOM = r"(?:\^(?P<bottom>\d\d?)|(?P<bottom_bare>[²³⁴⁵⁶⁷⁸⁹]))?"
_PLAIN_LEIBNIZ = re.compile(
    rf"^[d∂]{_PLAIN_TOP}(?P<n>{_PLAIN_NAME})(?P<args>\([^()]*\))?/[d∂](?P<v>{_PLAIN_NAME}){_PLAIN_BOTTOM}$"
)
_PLAIN_DOP = re.compile(rf"^[d∂]{_PLAIN_TOP}/[d∂](?P<v>{_PLAIN_NAME}){_PLAIN_BOTTOM}$")
_DL = (r"(?:d|∂|\\mathrm\s*\{\s*d\s*\}|\\mathrm\s+d|\\operatorname\s*\{\s*d\s*\}|\\text\s*\{\s*d\s*\}"
       r"|\\partial(?![A-Za-z]))")
_LVAR = (r"(?:\\[A-Za-z]+\s*(?:\{\s*(?:[A-Za-z][A-Za-z0-9]*|\\[A-Za-z]+)\s*\})?|[A-Za-z]|[α-ορ-ωϑϕϵΓΔΘΛΞΠΣΥΦΨΩ])"
         r"(?:\s*_\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9]))?")


def _order(name: str) -> str:
    return rf"(?:\s*\^\s*(?:\{{\s*(?P<{name}>\d\d?)\s*\}}|(?P<{name}_bare>\d)))?"


_FRAC = r"^\\[dt]?frac\s*\{\s*"
_FRACTION = re.compile(_FRAC)
_LATEX_LEIBNIZ = re.compile(
    rf"{_FRAC}{_DL}{_order('top')}\s*(?P<n>{_LVAR})(?P<args>\s*(?:\([^()]*\)|\\left\s*\([^()]*\\right\s*\)))?"
    rf"\s*\}}\s*\{{\s*{_DL}\s*(?P<v>{_LVAR}){_order('bottom')}\s*\}}$"
)
_LATEX_DOP = re.compile(rf"{_FRAC}{_DL}{_order('top')}\s*\}}\s*\{{\s*{_DL}\s*(?P<v>{_LVAR}){_order('bottom')}\s*\}}$")
_LARGS = r"(?P<args>\s*(?:\([^()]*\)|\\left\s*\([^()]*\\right\s*\)))?"
_LATEX_SLASH_LEIBNIZ = re.compile(rf"^{_DL}\s*(?P<n>{_LVAR}){_LARGS}\s*/\s*{_DL}\s*(?P<v>{_LVAR})$")
_LATEX_SLASH_DOP = re.compile(rf"^{_DL}\s*/\s*{_DL}\s*(?P<v>{_LVAR})$")

# The numbers written as Unicode superscripts (x², x⁻¹).
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
# The argument numbers of ∂_1∂_2 L(...), ∂₁L(...), \partial_{1} L(...).
_PARTIAL_SLOT = re.compile(r"_\s*\{?\s*(\d+)|([₀-₉]+)")


# --------------------------------------------------------------------------------------------------
# The transformer: reads like a table of what each grammar rule means in sympy.


@v_args(inline=True)
class _Builder(Transformer_NonRecursive):
    """Builds sympy objects from either grammar's tree; `latex` selects how names are spelled."""

    def __init__(self, latex: bool) -> None:
        super().__init__()
        self.latex = latex

    # -- numbers, names, constants ------------------------------------------------------------
    def number(self, tok: Token) -> sympy.Expr:
        limits = _CONTEXT.get().limits
        digits = sum(ch.isdigit() for ch in tok)
        if digits > limits.max_digits:
            raise _Fault(f"number with {digits} digits (at most {limits.max_digits})", tok, limit=True)
        return sympy.Rational(str(tok))  # exact: 0.5 is 1/2

    def name(self, tok: Token) -> sympy.Expr:
        name = self._name(tok)
        ctx = _CONTEXT.get()
        if ctx.is_defined(name):
            return symbol(name)
        if name == "e" and not ctx.e_is_a_name:
            return sympy.E
        if name == "pi" and not self.latex:
            return sympy.pi
        if not self.latex and name in KNOWN_FUNCTIONS:
            raise _Fault(f"{name} is a function: write {name}(...) with its argument in parentheses", tok)
        return symbol(name)

    def const(self, tok: Token) -> sympy.Expr:
        return {"pi": sympy.pi, "π": sympy.pi, "infty": sympy.oo, "∞": sympy.oo}[tok.lstrip("\\")]

    def _name(self, text: str) -> str:
        return latex_name(text) if self.latex else normalize_name(text.strip())

    # -- arithmetic ----------------------------------------------------------------------------
    def sum(self, first: sympy.Expr, *rest: object) -> sympy.Expr:
        terms = [first]
        for op, term in zip(rest[::2], rest[1::2], strict=True):
            terms.append(-term if op in ("-", "−") else term)
        _limit(sum_problem(terms, _CONTEXT.get().limits), rest[0] if rest else None)
        return sympy.Add(*terms)

    def term(self, first: sympy.Expr, *rest: object) -> sympy.Expr:
        factors = [first]
        items = iter(rest)
        last: Token | None = None
        for item in items:
            if isinstance(item, Token):  # an explicit operator, then its operand
                last = item
                operand = next(items)
                if item.strip() in ("/", "\\div", "÷"):
                    if operand == 0:
                        raise _Fault("division by zero", item)
                    factors.append(sympy.Pow(operand, -1))
                else:
                    factors.append(operand)
            else:
                factors.append(item)
        _limit(product_problem(factors, _CONTEXT.get().limits), last)
        return sympy.Mul(*factors)

    plain_product = term


    def neg(self, _tok: Token, operand: sympy.Expr) -> sympy.Expr:
        return -operand

    def pos(self, _tok: Token, operand: sympy.Expr) -> sympy.Expr:
        return operand

    def power(self, base: sympy.Expr, *rest: object) -> sympy.Expr:
        token = rest[0] if isinstance(rest[0], Token) else None
        if token is not None and token.type == "SUPERSCRIPT":  # x², x⁻¹
            exponent: sympy.Expr = sympy.Integer(int(token.translate(_SUPERSCRIPTS)))
        else:
            exponent = rest[-1]  # type: ignore[assignment]
        ctx = _CONTEXT.get()
        if base == _E_NAME and ctx.e_is_a_name and not ctx.is_defined("e") and exponent.free_symbols:
            # above a line that defines e: e^{-z} is still Euler's (y = 1/(1 + e^{-z}), then e = y - t), e^2 the name
            return sympy.exp(exponent)
        return _pow(base, exponent, token)

    def frac(self, tok: Token, numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr:
        derivative = _differential_quotient(numerator, denominator, tok) if _starts_with_d(tok) else None
        if derivative is not None:
            return derivative
        if denominator == 0:
            raise _Fault("division by zero", tok)
        factors = [numerator, sympy.Pow(denominator, -1)]
        _limit(product_problem(factors, _CONTEXT.get().limits), tok)
        return sympy.Mul(*factors)

    def frac_short(self, tok: Token) -> sympy.Expr:
        """\\frac12 is 1/2 and \\frac ab is a/b: TeX takes one character per argument."""
        numerator, denominator = (self._short_arg(ch, tok) for ch in re.sub(r"^\\[dt]?frac\s*|\s", "", tok))
        return self.frac(tok, numerator, denominator)

    def _short_arg(self, ch: str, tok: Token) -> sympy.Expr:
        return sympy.Integer(int(ch)) if ch.isdigit() else self.name(Token("LETTER", ch, start_pos=tok.start_pos))

    def sqrt(self, tok: Token, *rest: sympy.Expr) -> sympy.Expr:
        radicand = rest[-1]
        if len(rest) > 1:  # \sqrt[n]{x}: rest = (n, x)
            index = rest[0]
            if index == 0:
                raise _Fault("a root of index 0 is undefined", tok)
            return _pow(radicand, sympy.Pow(index, -1), tok)
        return _pow(radicand, sympy.S.Half, tok)

    def abs(self, _open: Token, inner: sympy.Expr, _close: Token) -> sympy.Expr:
        return _abs(inner)

    # -- applications --------------------------------------------------------------------------
    def args(self, *items: object) -> list[sympy.Expr]:
        return [item for item in items if not isinstance(item, Token)]

    def call(self, tok: Token, args: list[sympy.Expr]) -> sympy.Expr:
        raw = tok.strip()
        written = normalize_name(latex_name(raw)) if self.latex else normalize_name(raw)
        # \sigma(z) goes by its own name, so that \sigma(1 - \sigma) is read as σ·(1 − σ) (_apply)
        known = _known_latex_function(raw) if self.latex and written not in _SIGMOID_ALIASES else None
        return _apply(known or written, args, tok)

    def bar_call(self, tok: Token, _open: Token, inner: sympy.Expr, _close: Token) -> sympy.Expr:
        """ln|x|: a known function of an absolute value."""
        return _apply(tok.strip(), [_abs(inner)], tok)

    def _function_name(self, raw: str) -> str:
        """The name a function is written with: \\sin is sin, \\operatorname{relu} is relu, α_1 is alpha_1."""
        # p_1 is p1, as the name p_1 reads (normalize_name): p_1(1 - p_1) is a product once p_1 is defined
        return (_known_latex_function(raw) or normalize_name(latex_name(raw))) if self.latex else normalize_name(raw)

    def call_power(self, base: sympy.Expr, exponent: sympy.Expr, args: list[sympy.Expr]) -> sympy.Expr:
        """f^{2}{\\left(x \\right)}: sympy's way of printing f(x)^2."""
        if not isinstance(base, sympy.Symbol):
            raise _Fault(f"cannot apply {base} to arguments: only a name can be a function", None)
        value = _apply(base.name, args, None)
        return _pow(value, exponent, None)

    def prime_call(self, tok: Token, args: list[sympy.Expr]) -> sympy.Expr:
        raw = tok.strip()
        order = raw.count("'") + raw.count("\\prime")
        name = self._function_name(re.split(r"'|\^", raw, maxsplit=1)[0].strip())
        if len(args) != 1:
            raise _Fault(f"{name}' needs exactly one argument", tok)
        return _prime(name, args[0], order, tok)

    def partial_call(self, tok: Token, name_tok: Token, args: list[sympy.Expr]) -> sympy.Expr:
        """∂_1 L(u, t): L differentiated in its first argument, at (u, t); ∂_1∂_2 L(u, v) in both."""
        slots = [int((plain or sub).translate(_SUBSCRIPTS)) for plain, sub in _PARTIAL_SLOT.findall(tok)]
        name = self._function_name(name_tok.strip())
        first = f"∂_{slots[0]}"
        if len(slots) > _MAX_DERIVATIVE_ORDER:
            raise _Fault(f"at most {_MAX_DERIVATIVE_ORDER} ∂ in a row", tok)
        if name in _CONTEXT.get().variables:
            raise _Fault(f"{name} is defined without arguments: write d{name}/dx for its derivative", tok)
        if len(args) == 1 and set(slots) == {1}:
            return _prime(name, args[0], len(slots), tok)  # one argument: f'(u)
        applied = _apply(name, args, tok)
        if not isinstance(applied, AppliedUndef):
            raise _Fault(f"{first} applies to a function of your own, such as L(y, t); for {name} write d/dx", tok)
        for k in slots:
            if not 1 <= k <= len(args):
                raise _Fault(f"{name} takes {len(args)} arguments here, so ∂_{k} names none of them", tok)
        from derive.jets import partial_at  # the form derive's own derivatives take

        return partial_at(applied, tuple(slots))

    def func(self, tok: Token, *rest: object) -> sympy.Expr:
        """\\sin x, \\tanh^2(z), \\sin^{-1} x, \\log_2 x: modifiers first, the argument last."""
        raw = tok.strip()
        name = _known_latex_function(raw) or raw.lstrip("\\")
        arg = rest[-1]
        power: sympy.Expr | None = None
        base: sympy.Expr | None = None
        for kind, value in rest[:-1]:  # type: ignore[misc]
            if kind == "sup":
                power = value
            else:
                base = value
        if power == -1 and name in _INVERSE:  # \sin^{-1} x is arcsin, as in calculus texts
            name, power = _INVERSE[name], None
        if base is not None and name != "log":
            raise _Fault(f"\\{name} does not take a subscript", tok)
        value = _apply(name, [arg] if base is None else [arg, base], tok)  # type: ignore[list-item]
        return value if power is None else _pow(value, power, tok)

    def func_sup(self, value: sympy.Expr) -> tuple[str, sympy.Expr]:
        return ("sup", value)

    def func_sub(self, value: sympy.Expr) -> tuple[str, sympy.Expr]:
        return ("sub", value)

    # -- derivatives ---------------------------------------------------------------------------
    def deriv(self, tok: Token, operand: sympy.Expr) -> sympy.Expr:
        if self.latex:  # \frac d{dx} is \frac{d}{dx}
            tok = tok.update(value=re.sub(r"^(\\[dt]?frac)\s+d\s*\{", r"\1{d}{", tok))
        m = _match((_LATEX_DOP, _LATEX_SLASH_DOP) if self.latex else (_PLAIN_DOP,), tok)
        var = symbol(self._name(m.group("v")))
        return sympy.Derivative(operand, (var, _derivative_order(m, tok)), evaluate=False)

    def number_derivative(self, tok: Token) -> sympy.Expr:
        raise _Fault(f"{tok}: a derivative is taken with respect to a variable, not a number", tok)

    def leibniz(self, tok: Token) -> sympy.Expr:
        m = _match((_LATEX_LEIBNIZ, _LATEX_SLASH_LEIBNIZ) if self.latex else (_PLAIN_LEIBNIZ,), tok)
        return self._leibniz_derivative(m, tok)

    def _leibniz_derivative(self, m: re.Match[str], tok: Token) -> sympy.Expr:
        numerator = self._name(m.group("n"))
        var = symbol(self._name(m.group("v")))
        order = _derivative_order(m, tok)
        args_text = m.groupdict().get("args")
        if args_text:  # \frac{\partial E(z)}{\partial z}, dE(z)/dz
            inner = re.sub(r"^\s*(\\left\s*)?\(|(\\right\s*)?\)\s*$", "", args_text)
            try:
                args = [parse(piece, latex=self.latex) for piece in inner.split(",")]
            except ParseError as error:  # reported at the derivative, where the user can find it
                raise _Fault(f"in the arguments of {numerator}: {error.message}", tok,
                             limit=isinstance(error, LimitError)) from None
            # dsin(z)/dz is the sine's derivative, as sin(z) is the sine
            return sympy.Derivative(_apply(numerator, args, tok), (var, order), evaluate=False)
        target = symbol(numerator)
        context = _CONTEXT.get()
        if (context.derivation and target.name in _SIGMOID_ALIASES and not context.is_defined(target.name)
                and var != target):  # dσ/dσ is 1, as dx/dx
            # dσ/dz = σ(z)(1 - σ(z)), as ML notes write it: σ is the sigmoid of the variable
            return sympy.Derivative(sigmoid(var), (var, order), evaluate=False)
        return _leibniz_of(target.name, var, order, tok)

    def _at_its_variable(self, m: re.Match[str], args: list[sympy.Expr]) -> bool:
        """\\frac{df}{dx}(x), \\frac{dE}{dy}(z) with y = sigmoid(z): the derivative written at its own
        variable, as dE/dy(z) in plain text; any other bracket after a fraction multiplies."""
        if len(args) != 1 or not isinstance(args[0], sympy.Symbol):
            return False
        variable, name = self._name(m.group("v")), args[0].name
        variables = _CONTEXT.get().variables
        leaves, own = variables.get(variable), variables.get(name)
        # y written as y(z): z is all y is made of (y = σ(z), or z = w x + b defined and y = σ(z)); with
        # z = w x + b, \frac{\partial E}{\partial z}(x) is the chain rule's factor x, a product
        return name == variable or (leaves is not None and (set(leaves) == {name} or
                                                            (own is not None and bool(own) and own == leaves)))

    def leibniz_at(self, tok: Token, args: list[sympy.Expr]) -> sympy.Expr:
        """dE/dy(z): the derivative of E with respect to y, y written as y(z); dy/dz(1), dy(z)/dz(1): at a point."""
        m = _match((_LATEX_LEIBNIZ, _LATEX_SLASH_LEIBNIZ) if self.latex else (_PLAIN_LEIBNIZ,), tok)
        fraction = self.latex and _FRACTION.match(tok) is not None
        if fraction and not all(a.is_number for a in args) and not self._at_its_variable(m, args):
            if len(args) != 1:
                raise _Fault("\\frac{dy}{dx} is followed by one factor or one point, not a list", tok)
            return self._leibniz_derivative(m, tok) * args[0]
        if all(a.is_number for a in args):
            # dy/dz(1), dy/dz(pi/2): at a point, as in calculus texts; a variable is never a number
            if len(args) != 1:
                raise _Fault(f"a derivative is taken at one point, not at {len(args)} numbers", tok)
            variable = symbol(self._name(m.group("v")))
            return sympy.Subs(self._leibniz_derivative(m, tok), variable, args[0])
        if m.groupdict().get("args"):
            # dy(x)/dx(w): y is already written as a function; a parenthesis glued on can only be a point
            written = tok.strip()
            raise _Fault(f"{written}(...) is taken at a number; write {written} * (...) for a product", tok)
        name = symbol(self._name(m.group("n")))
        order = _derivative_order(m, tok)
        variable = self._name(m.group("v"))
        context = _CONTEXT.get()
        if args == [symbol(variable)]:  # df/dx(x): at x itself, df/dx (not by a function x(x))
            return _leibniz_of(name.name, symbol(variable), order, tok)
        leaves = context.variables.get(name.name, frozenset()) if not context.is_defined(variable) else ()
        if variable in leaves and all(isinstance(a, sympy.Symbol) for a in args):
            # dE/dy(z) with E = 1/2 (a - y)^2: y is a variable of E's, written as y(z) here (not a function y,
            # by which E's derivative would be 0)
            return _leibniz_of(name.name, symbol(variable), order, tok)
        wrt = _apply_name(variable, args, tok)
        if not isinstance(wrt, (sympy.Symbol, AppliedUndef)):
            raise _Fault(f"cannot differentiate with respect to {m.group('v')}(...)", tok)
        return _leibniz_of(name.name, wrt, order, tok)

    # -- statements ----------------------------------------------------------------------------
    def chain(self, *items: object) -> Chain:
        continues = isinstance(items[0], Token) and items[0].type == "EQ"
        parts = tuple(item for item in items if not isinstance(item, Token))
        return Chain(parts=parts, continues=continues, let=False)  # type: ignore[arg-type]

    def statement(self, *items: object) -> Chain:
        chain = items[-1]
        if not isinstance(chain, Chain):
            chain = Chain(parts=(chain,), continues=False, let=False)  # type: ignore[arg-type]
        keyword = items[0].type if len(items) > 1 and isinstance(items[0], Token) else None
        return Chain(parts=chain.parts, continues=chain.continues, let=keyword == "LET", given=keyword == "GIVEN")


def _limit(problem: str | None, token: Token | None) -> None:
    if problem is not None:
        raise _Fault(problem, token, limit=True)


def _pow(base: sympy.Expr, exponent: sympy.Expr, token: Token | None) -> sympy.Expr:
    """base^exponent, refused before sympy computes a number too large (2^(10^10), 9^9^9^9)."""
    _limit(power_problem(base, exponent, _CONTEXT.get().limits), token)
    if base == 0 and exponent.is_number and exponent.is_negative:
        raise _Fault("division by zero (0 to a negative power)", token)
    return sympy.Pow(base, exponent)


def _leibniz_of(name: str, wrt: sympy.Expr, order: int, tok: Token) -> sympy.Expr:
    """dN/dv. In a derivation, of a name N not defined above the line, a stand-in until the whole line is
    read (`_settle`): N may be written there as a function of v (implicit differentiation), used as a
    variable, or neither (an error). A stand-in, not sympy's Derivative(N, v): d/dv(N) is that too."""
    context = _CONTEXT.get()
    defined = not context.derivation or context.is_defined(name)
    if defined or (isinstance(wrt, sympy.Symbol) and wrt.name == name):  # dx/dx
        return sympy.Derivative(symbol(name), (wrt, order), evaluate=False)
    # A function named as written, of the variable: not a Symbol (g(dy/dx) is a product, f'(dy/dx) at a
    # point), not a derivative sympy would merge with the one around it (d/dx(dy/dx)), found again once the
    # line is read. Its name cannot be typed as a function's, and in a message it reads as written.
    power = f"^{order}" if order > 1 else ""
    placeholder = function(f"d{power}{name}/d{wrt}{power}")(wrt)
    _UNDEFINED.get().append(_Pending(name, wrt, order, tok, placeholder))
    return placeholder


@dataclass(frozen=True)
class _Pending:
    """A dN/dv of a name not defined above the line, noted while the line is read."""

    name: str
    wrt: sympy.Expr
    order: int
    tok: Token
    placeholder: sympy.Expr


_UNDEFINED: ContextVar[list[_Pending]] = ContextVar("derive_undefined_leibniz")
# The text being parsed, which token positions index: how a fraction is written, where its value cannot tell.
_WRITTEN: ContextVar[str] = ContextVar("derive_written_text", default="")


def _settle(result: sympy.Expr | Chain, pending: list[_Pending], tree: Tree, latex: bool, source: str,
            begin: int) -> sympy.Expr | Chain:
    """Give each dN/dv of a name not defined above the line its meaning, from the whole line:
    - N written on it as a function of v, y(x), in one way and never as a bare y: the derivative of that
      function, y'(x) (implicit differentiation; y(0) or y(2x) beside it are the same function);
    - N used on it or above as a variable: the derivative of a variable, 0 (in a derivation only);
    - else an error at it: read as 0, a wrong chain rule would hold as 0 = 0."""
    context = _CONTEXT.get()
    parts = result.parts if isinstance(result, Chain) else (result,)
    bare = _bare_names(tree, latex)
    forms = function_forms(parts)
    meaning: dict[sympy.Basic, sympy.Basic] = {}
    for p in pending:
        written = forms.get(p.name, set()) | set(context.seen_forms(p.name))
        candidates = [args for args in written if p.wrt in args
                      and all(isinstance(a, sympy.Symbol) and not context.is_defined(a.name) for a in args)]
        if len(candidates) == 1 and p.name not in bare:
            meaning[p.placeholder] = sympy.Derivative(function(p.name)(*candidates[0]), (p.wrt, p.order))
        elif candidates:
            message = _both_forms(p, candidates, bare, forms.get(p.name, set()))
            _raise_at(source, begin + (p.tok.start_pos or 0), message)
        elif context.defined_in == "above" and (p.name in bare or p.name in context.seen):
            meaning[p.placeholder] = sympy.Derivative(symbol(p.name), (p.wrt, p.order), evaluate=False)
        else:
            _raise_at(source, begin + (p.tok.start_pos or 0), _undefined_message(p), undefined=p.name)
    if isinstance(result, Chain):
        return replace(result, parts=tuple(part.xreplace(meaning) for part in parts))
    return result.xreplace(meaning)


def _bare_names(tree: Tree, latex: bool) -> set[str]:
    """The names written on the line as names, not applied (`y`, `d/dx(y)`; not `y(x)`, not `dy/dx`, not
    the y of sympy's y^{2}{\\left(x \\right)}, which is y(x)^2)."""
    builder = _BUILDERS[latex]
    applied = {id(node.children[0]) for node in tree.iter_subtrees() if node.data == "call_power"}
    return {
        symbol(builder._name(node.children[0])).name
        for node in tree.iter_subtrees()
        if node.data == "name" and isinstance(node.children[0], Token) and id(node) not in applied
    }


def function_forms(exprs: Iterable[sympy.Basic]) -> dict[str, set[tuple[sympy.Basic, ...]]]:
    """Name -> the argument lists it is applied to in `exprs`, leaving out those of a derivative's stand-in
    variable: y'(0) is Subs(Derivative(y(t), t), t, 0), and y is not written as y(t) there."""
    forms: dict[str, set[tuple[sympy.Basic, ...]]] = {}
    todo: list[tuple[sympy.Basic, frozenset[sympy.Basic]]] = [(e, frozenset()) for e in exprs]
    while todo:
        expr, bound = todo.pop()
        if isinstance(expr, sympy.Subs):
            todo.extend((point, bound) for point in expr.point)
            todo.append((expr.expr, bound | frozenset(expr.variables)))
            continue
        if isinstance(expr, AppliedUndef) and not bound.intersection(expr.args):
            forms.setdefault(expr.func.__name__, set()).add(expr.args)
        todo.extend((arg, bound) for arg in expr.args)
    return forms


def _both_forms(p: _Pending, candidates: list[tuple[sympy.Basic, ...]], bare: set[str],
                on_line: set[tuple[sympy.Basic, ...]]) -> str:
    def written(args: tuple[sympy.Basic, ...]) -> str:
        return f"{p.name}({', '.join(str(a) for a in args)})" + ("" if args in on_line else " on a line above")

    ways = " and ".join(sorted(written(args) for args in candidates))
    if p.name in bare:
        ways += f" and as {p.name} alone on this line"
    return (f"{p.tok.strip()}: {p.name} is written as {ways}, so its derivative cannot be told; "
            f"write it one way throughout: {p.name}({p.wrt}) for a function of {p.wrt}, {p.name} for a variable")


def _undefined_message(p: _Pending) -> str:
    written = p.tok.strip()
    if p.name in KNOWN_FUNCTIONS or p.name in _SIGMOID_ALIASES:  # dσ/dz: the sigmoid, without its argument
        return (f"{written} is the derivative of a name {p.name}, not of the function: write the function "
                f"with its argument, as d/dz(sigmoid(z)) or sigmoid'(z)")
    quotient = f"; for a quotient, write {written.replace('/', ' / ', 1)}" if "/" in written else ""
    # e(t) is Euler's number times t, and by y(z) there is no function to write
    function = (f", or write it as a function, {p.name}({p.wrt.name})"
                if isinstance(p.wrt, sympy.Symbol) and p.name != "e" else "")
    if _CONTEXT.get().defined_in == "above":
        where = f"before this line (define {p.name} = ... above it{function})"
    else:
        where = f'here (define it with --where "{p.name} = ...", where= in Python{function})'
    return f"{written} reads as the derivative of {p.name}, which is not defined {where}{quotient}"


def _match(patterns: tuple[re.Pattern[str], ...], tok: Token) -> re.Match[str]:
    """Take a derivative token apart; the grammar and these patterns describe the same tokens."""
    for pattern in patterns:
        m = pattern.match(tok.strip())
        if m is not None:
            return m
    raise _Fault("cannot read this derivative", tok)


def _derivative_order(m: re.Match[str], tok: Token) -> int:
    """The n of d^n/dx^n: both d's carry it, or neither does."""
    groups = m.groupdict()
    top = (groups.get("top") or groups.get("top_bare") or "").translate(_SUPERSCRIPTS) or None
    bottom = (groups.get("bottom") or groups.get("bottom_bare") or "").translate(_SUPERSCRIPTS) or None
    if (int(top) if top else None) != (int(bottom) if bottom else None):
        raise _Fault("the order of a derivative is written on both d's: d^2/dx^2, \\frac{d^2}{dx^2}", tok)
    order = int(top) if top else 1
    if not 1 <= order <= _MAX_DERIVATIVE_ORDER:
        raise _Fault(f"the order of a derivative is a whole number from 1 to {_MAX_DERIVATIVE_ORDER}", tok)
    return order


def _known_latex_function(command: str) -> str | None:
    """The function a LaTeX command or spelled-out word names, if any (\\operatorname{relu} -> relu)."""
    command = command.strip().lstrip("\\")
    m = re.match(r"^(?:operatorname|mathrm|text)\s*\{\s*([A-Za-z]+)\s*\}$", command)
    word = m.group(1) if m else command
    if word in ("sigma", "σ"):
        return "sigmoid"
    return word if word in _KNOWN else None


def _apply(name: str, args: list[sympy.Expr], tok: Token | None) -> sympy.Expr:
    """Apply a known function by name, or make an abstract one (y(z), f(g(x)))."""
    ctx = _CONTEXT.get()
    if name == "diff" and not ctx.is_defined(name):
        return _diff_call(args, tok)
    if name in _SIGMOID_ALIASES and not ctx.is_defined(name):
        if len(args) == 1 and args[0].free_symbols and all(s.name == name for s in args[0].free_symbols):
            # σ(1 - σ), as the sigmoid's derivative is written: the product σ·(1 − σ), not σ of 1 − σ (an
            # argument with another variable in it, σ(μ/σ) with σ a standard deviation, is the sigmoid)
            return sympy.Mul(symbol(name), args[0])
        name = "sigmoid"
    if name in _KNOWN and not ctx.is_defined(name):
        constructor, arities = _KNOWN[name]
        if len(args) not in arities:
            expected = " or ".join(str(a) for a in arities)
            raise _Fault(f"{name} takes {expected} argument{'s' if arities != (1,) else ''}, got {len(args)}", tok)
        if name == "log" and len(args) == 2:
            if args[1] == 1 or args[1] == 0:
                raise _Fault(f"log base {args[1]} is undefined", tok)
            return sympy.log(args[0]) / sympy.log(args[1])
        if name == "sqrt":
            return _pow(args[0], sympy.S.Half, tok)
        if name == "exp":
            _limit(exp_problem(args[0], ctx.limits), tok)
        return constructor(*args)
    return _apply_name(name, args, tok)


# sympy's printed notation, which reads as something else here (Subs(...) would be an abstract function).
_SYMPY_NOTATION = {"Subs", "Derivative", "Integral", "Lambda", "Function", "Symbol"}


@lru_cache(maxsize=1)
def _sympy_class_names() -> frozenset[str]:
    """The class names sympy's printers and precedence table pick a method by (Float, Sum, Pow, ...)."""
    from sympy.printing.precedence import PRECEDENCE_FUNCTIONS, PRECEDENCE_VALUES

    from derive.printing import DeriveLatexPrinter, DeriveMathMLPrinter, UnicodePrinter

    printers = (DeriveLatexPrinter, DeriveMathMLPrinter, UnicodePrinter)
    names = {m.removeprefix("_print_") for p in printers for m in dir(p) if m.startswith("_print_")}
    return frozenset(names | set(PRECEDENCE_FUNCTIONS) | set(PRECEDENCE_VALUES))


def _user_function(name: str, tok: Token | None) -> type:
    """An abstract function of the user's, unless its name is one sympy prints by: a function called
    Float would be printed (and fail) as sympy's Float."""
    if name in _sympy_class_names():
        raise _Fault(f"{name} cannot name a function: it is the name of one of sympy's classes", tok)
    return function(name)


def _apply_name(name: str, args: list[sympy.Expr], tok: Token | None) -> sympy.Expr:
    """A user name applied to arguments: an abstract function, or a defined variable."""
    ctx = _CONTEXT.get()
    if name in _SYMPY_NOTATION and not ctx.is_defined(name):
        raise _Fault(f"{name}(...) is sympy's notation, which derive does not read: write the expression "
                     "with d/dx, dy/dx(1), f'(u) or ∂_1 g(u, v)", tok)
    leaves = ctx.variables.get(name)
    if leaves is not None:
        # y = sigmoid(z): y(z) is y written as a function of its own variables, or of a defined name made of
        # them (z, with z = w x + b defined too); y(1 - y) is a product.
        if all(isinstance(a, sympy.Symbol) and (a.name in leaves or _made_of(a.name, leaves, ctx)) for a in args):
            return symbol(name)
        if len(args) == 1:
            return symbol(name) * args[0]
        raise _Fault(f"{name} is defined without arguments, so {name}(...) cannot take {len(args)}", tok)
    if name == "e" and not ctx.is_defined("e") and not ctx.e_is_a_name and len(args) == 1:
        return sympy.E * args[0]  # e(x + 1): Euler's number times (x + 1), not a function called e
    if not args:
        raise _Fault(f"{name}() needs an argument", tok)
    return _user_function(name, tok)(*args)


_D = symbol("d")
_E_NAME = symbol("e")
_D_FORM = r"(?:d|\\(?:mathrm|text|textrm|operatorname)\s*\{\s*d\s*\})"  # d, \mathrm{d}, \text{d}, ...
# an argument written starting with d, but not \frac{d \cdot m}{d \cdot t}: a product, written so
_D_START = r"\s*\{\s*" + _D_FORM + r"(?!\s*(?:\\cdot|\\times|\*))"
_D_ARGUMENT = re.compile(_D_START + r"(?![A-Za-z]*\s*\})")  # the numerator: not \frac{dy}{...}, a Leibniz fraction


def _starts_with_d(tok: Token) -> bool:
    """Are both arguments of this \\frac written starting with d (\\frac{d x^3}{dx}, not \\frac{a d}{c d})?"""
    text, start = _WRITTEN.get(), tok.end_pos
    if start is None or not _D_ARGUMENT.match(text, start):
        return False
    depth, close = 0, len(text)
    for close in range(text.index("{", start), len(text)):  # the numerator's closing brace
        depth += {"{": 1, "}": -1}.get(text[close], 0)
        if depth == 0:
            break
    return re.match(_D_START, text[close + 1:]) is not None


def _differential_quotient(numerator: sympy.Expr, denominator: sympy.Expr, tok: Token) -> sympy.Expr | None:
    """\\frac{d x^3}{dx}, \\frac{d(x^2)}{dx}, \\frac{d^2 \\sin x}{dx^2}: d of an expression over dx, as
    textbooks write a derivative (read as d·x³/(d·x) it was x², so a false step held). None for any
    other fraction, or when d is a defined name."""
    if _CONTEXT.get().is_defined("d"):
        return None
    over = sympy.Mul.make_args(denominator)
    variables = [f for f in over if f != _D]
    if len(over) != 2 or _D not in over or len(variables) != 1:
        return None
    variable, order = variables[0].as_base_exp()
    if not (isinstance(variable, sympy.Symbol) and order.is_Integer and order > 0):
        return None
    if isinstance(numerator, AppliedUndef) and numerator.func.__name__ == "d" and len(numerator.args) == 1:
        if order != 1:
            return None
        body = numerator.args[0]  # d(x^2): the differential of a bracket
    else:
        factors = sympy.Mul.make_args(numerator)
        if sympy.Pow(_D, order) not in factors:
            return None
        body = sympy.Mul(*(f for f in factors if f != sympy.Pow(_D, order)))
        if body.has(_D):
            return None
    if order > _MAX_DERIVATIVE_ORDER:
        raise _Fault(f"at most {_MAX_DERIVATIVE_ORDER} derivatives", tok)
    return sympy.Derivative(body, (variable, int(order)), evaluate=False)


def _made_of(name: str, leaves: Collection[str], ctx: ParseContext) -> bool:
    """Is `name` defined without parameters, in some of `leaves` only?"""
    own = ctx.variables.get(name)
    return own is not None and bool(own) and set(own) <= set(leaves)


def _prime(name: str, arg: sympy.Expr, order: int, tok: Token) -> sympy.Expr:
    """f'(u): sympy's own notation, Derivative(f(x), x) for a variable and Subs(...) otherwise."""
    if name in _SIGMOID_ALIASES and not _CONTEXT.get().is_defined(name):
        name = "sigmoid"
    if order > _MAX_DERIVATIVE_ORDER:
        raise _Fault(f"at most {_MAX_DERIVATIVE_ORDER} primes", tok)
    if name in _KNOWN:
        constructor, arities = _KNOWN[name]
        if 1 not in arities:
            raise _Fault(f"{name}' is not defined", tok)
        make = constructor
    elif name in _CONTEXT.get().variables:
        raise _Fault(f"{name} is defined without arguments: write d{name}/dx for its derivative", tok)
    else:
        make = _user_function(name, tok)
    if isinstance(arg, sympy.Symbol):
        return sympy.Derivative(make(arg), (arg, order), evaluate=False)
    t = sympy.Dummy("t")
    return sympy.Subs(sympy.Derivative(make(t), (t, order), evaluate=False), t, arg)


def _diff_call(args: list[sympy.Expr], tok: Token | None) -> sympy.Expr:
    """diff(EXPR, x) and diff(EXPR, x, n)."""
    if len(args) not in (2, 3):
        raise _Fault("diff takes an expression and a variable: diff(EXPR, x)", tok)
    var = args[1]
    if not isinstance(var, sympy.Symbol):
        raise _Fault("diff needs a variable as its second argument", tok)
    order = 1
    if len(args) == 3:
        if not (args[2].is_Integer and 1 <= int(args[2]) <= _MAX_DERIVATIVE_ORDER):
            raise _Fault(f"the order of a derivative is a whole number from 1 to {_MAX_DERIVATIVE_ORDER}", tok)
        order = int(args[2])
    return sympy.Derivative(args[0], (var, order), evaluate=False)


# --------------------------------------------------------------------------------------------------
# Parsers, made once, on first use (the LaTeX one is not needed for plain text): loaded from the
# tables stored next to the grammars (a few ms), or built from the grammar (0.1 to 0.25 s) when the
# tables do not match it (`derive.tables`).


@lru_cache(maxsize=2)
def _parser(latex: bool) -> Lark:
    name = "latex" if latex else "plain"
    return tables.load(name) or tables.build(name)


_BUILDERS = {False: _Builder(latex=False), True: _Builder(latex=True)}


def is_latex(text: str, latex: bool | None = None) -> bool:
    """Text with a backslash (or a brace, which plain text never uses: x^{2}, w_{12}) is LaTeX."""
    if latex is not None:
        if not isinstance(latex, bool):
            raise DeriveError(f"latex must be True, False or None, not {latex!r}")
        return latex
    return "\\" in text or "{" in text


def parse(text: str, *, latex: bool | None = None, context: ParseContext | None = None) -> sympy.Expr:
    """Parse one expression (plain text or LaTeX) into a sympy expression.

    Raises `ParseError` (with line, column and a caret context) for anything that is not one
    well-formed expression, and `LimitError` for input beyond the limits in `derive.limits`.
    """
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    result = parse_span(text, 0, len(text), latex=is_latex(text, latex), start="expression", context=context)
    if isinstance(result, Chain):  # the "expression" start symbol never yields a chain
        raise ParseError("expected one expression, not an equation")
    return result


# What the grammars ignore as space, including the zero-width and no-break spaces of pasted text.
_BLANK = re.compile(r"[\s\u200b\ufeff]+")


def _lookalikes() -> dict[int, str]:
    """Letters and digits that stand for plain ones: mathematical italic and bold (𝑥, 𝐱, 𝜎, as PDFs give
    them when pasted) and fullwidth forms (ｘ). Each is one character for one, so columns stay right."""
    table: dict[int, str] = {}
    for code in (*range(0x1D400, 0x1D800), *range(0xFF01, 0xFF5F)):
        plain = unicodedata.normalize("NFKC", chr(code))
        if len(plain) == 1 and plain != chr(code):
            table[code] = plain
    return table


_LOOKALIKES = _lookalikes()


# A superscript written before a subscript: the subscript belongs to the name (x^2_1 is x_1^2 in TeX).
_SUPERSCRIPT_FIRST = re.compile(r"(?<=[A-Za-z])(\^\s*(?:\{[^{}]*\}|[A-Za-z0-9]))(_\s*(?:\{[^{}]*\}|[A-Za-z0-9]))")


# A function's argument without brackets ends where a space is written out (\cos x \, e^{\sin x}, \ln 2 \; 2^x)
# or where a power of e follows after a space (\cos x e^{\sin x}; xe^{x} glued stays one argument): that space
# becomes `*`, which ends it in the grammar, when what follows is an operand (not `=`, an operator, the end).
_FUNCTION_HEAD = (r"\\(?:arcsin|arccos|arctan|sinh|cosh|tanh|coth|sech|csch|sin|cos|tan|sec|csc|cot|exp|ln|log|sgn)"
                  r"(?![A-Za-z])|\\(?:operatorname|mathrm|text)\s*\{\s*[A-Za-z]+\s*\}")
_ARGUMENT_ATOM = (r"(?:[A-Za-z0-9.]|\\(?:pi|" + "|".join(sorted(set(GREEK_LETTERS.values()))) + r")(?![A-Za-z]))"
                  r"(?:\s*\^\s*(?:\{[^{}]*\}|[A-Za-z0-9]))?")  # a letter, digit or Greek letter, perhaps a power
_BARE_ARGUMENT_END = re.compile(
    r"(?:" + _FUNCTION_HEAD + r")(?:\s*[\^_]\s*(?:\{[^{}]*\}|[A-Za-z0-9]))*\s*(?:" + _ARGUMENT_ATOM + r"\s*?)+?"
    r"(?P<space>\\[,;: ]|\\q?quad(?![A-Za-z])|\s(?=\s*e\s*\^))"
    r"(?=\s*(?:[A-Za-z0-9({]|\\(?!(?:cdot|times|div|ast|quad|qquad|right|end|left\s*[.|])(?![A-Za-z]))[A-Za-z]))")


def _arguments_ended(text: str) -> str:
    """`*` where a function's argument without brackets ends at a space (see _BARE_ARGUMENT_END)."""
    for m in reversed(list(_BARE_ARGUMENT_END.finditer(text))):
        text = text[: m.start("space")] + "*".ljust(m.end("space") - m.start("space")) + text[m.end("space") :]
    return text


# Wikipedia's LaTeX: {\displaystyle ...} around a whole equation, and {\frac {d}{dx}} an operator in braces.
_DISPLAY_GROUP = re.compile(r"\{\s*\\displaystyle(?![A-Za-z])")
_BRACED_OPERATOR = re.compile(r"(\{)\s*\\[dt]?frac\s*\{\s*" + _DL + r"(?:\s*\^\s*\{?\s*\d+\s*\}?)?\s*\}\s*\{\s*"
                              + _DL + r"\s*" + _LVAR + r"(?:\s*\^\s*\{?\s*\d+\s*\}?)?\s*\}\s*(\})")


def _braces_unwrapped(text: str) -> str:
    """`{\\displaystyle X}` and `{\\frac {d}{dx}}` without their braces (blanked: columns stay), which hold
    the equation or the operator together but read as a bracket that ends too early."""
    for m in reversed(list(_BRACED_OPERATOR.finditer(text))):
        text = blank(blank(text, m.start(2), m.end(2)), m.start(1), m.end(1))
    for m in reversed(list(_DISPLAY_GROUP.finditer(text))):
        depth = 0
        for i in range(m.start(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0) if text[i - 1 : i] != "\\" else 0
            if depth == 0:
                text = blank(blank(text, i, i + 1), m.start(), m.start() + 1)
                break
    return text


def parse_span(
    source: str,
    begin: int,
    end: int,
    *,
    latex: bool,
    start: str,
    context: ParseContext | None = None,
    cleaned: str | None = None,
) -> sympy.Expr | Chain:
    """Parse source[begin:end] and report positions in source.

    `cleaned`, when given, is source after length-preserving clean-up (comments and alignment marks
    blanked); it is what gets parsed, while messages quote the source the user wrote.
    """
    ctx = context or _CONTEXT.get()
    limits = ctx.limits
    snippet = (source if cleaned is None else cleaned)[begin:end]
    if len(snippet) > limits.max_expression_chars:
        _raise_at(source, begin, f"input too long: {len(snippet)} characters (at most {limits.max_expression_chars})",
                  limit=True)
    if "\x00" in snippet:
        _raise_at(source, begin + snippet.index("\x00"), "null character in input")
    text = strip_math_delimiters(snippet.translate(_LOOKALIKES))
    if latex:
        _refuse_evaluation_bars(text, source, begin)
    text = pair_bars(text)
    if latex:
        text = _SUPERSCRIPT_FIRST.sub(r"\2\1", text)  # x^2_1 is x_1^2, as TeX sets it (same length)
        text = _braces_unwrapped(text)
        text = _arguments_ended(text)
    if not _BLANK.sub("", text):
        _raise_at(source, begin, "empty input")
    check_nesting(text, limits, source=source, offset=begin)
    if latex:
        _refuse_latex_operator_points(text, source, begin)
        _refuse_index_superscripts(text, source, begin, ctx)
    else:
        _refuse_operator_points(text, source, begin)
    _refuse_scientific_notation(text, source, begin)
    token = _CONTEXT.set(ctx)
    noted = _UNDEFINED.set([])
    written = _WRITTEN.set(text)
    try:
        try:
            tree = _parser(latex).parse(text, start=start)
        except UnexpectedInput as exc:
            raise _syntax_error(exc, text, source, begin, latex) from None
        _check_tree_size(tree, limits, source, begin)
        try:
            result = _BUILDERS[latex].transform(tree)
        except VisitError as exc:
            _raise_fault(exc.orig_exc, source, begin)
            raise  # _raise_fault always raises; this line is for readers and type checkers
        if _UNDEFINED.get():
            result = _settle(result, _UNDEFINED.get(), tree, latex, source, begin)
        if isinstance(result, Chain):
            result = replace(result, written=_first_part_written(tree))
        # Exponents can still combine into large numbers (x^(1/p) x^(1/q)); cheap to find once built.
        for part in result.parts if isinstance(result, Chain) else (result,):
            problem = number_problem(part, limits)
            if problem is not None:
                _raise_at(source, begin, problem, limit=True)
        return result
    finally:
        _WRITTEN.reset(written)
        _UNDEFINED.reset(noted)
        _CONTEXT.reset(token)


def _first_part_written(statement: Tree) -> str | None:
    """How a statement's first part is written: "name", "call" or None (see `Chain.written`); a
    statement's tree is [LET?, chain], or [LET?, part] for a single part."""
    node = statement.children[-1]
    first = node.children[0] if isinstance(node, Tree) and node.data == "chain" else node
    return first.data if isinstance(first, Tree) and first.data in ("name", "call") else None


def _raise_fault(fault: BaseException, source: str, begin: int) -> None:
    """Re-raise what went wrong while building sympy objects as a DeriveError at the right place."""
    if isinstance(fault, _Fault):
        start = fault.token.start_pos if fault.token is not None and fault.token.start_pos is not None else 0
        _raise_at(source, begin + start, fault.message, limit=fault.limit)
    if isinstance(fault, DeriveError):  # a nested parse, or a time bound around the whole call
        raise fault from None
    if isinstance(fault, (RecursionError, MemoryError)):
        _raise_at(source, begin, "expression too deeply nested", limit=True)
    if isinstance(fault, ValueError) and "integer string conversion" in str(fault):
        _raise_at(source, begin, "exact number too large", limit=True)
    if isinstance(fault, (TypeError, ValueError, ArithmeticError, AttributeError, IndexError, KeyError)):
        _raise_at(source, begin, f"cannot build this expression ({type(fault).__name__}: {fault})")
    raise fault


def _check_tree_size(tree: Tree, limits: Limits, source: str, begin: int) -> None:
    """Count nodes and depth without recursion; refuse trees beyond the limits."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            _raise_at(source, begin, f"expression too large (more than {limits.max_nodes} parts)", limit=True)
        if depth > 4 * limits.max_depth:
            _raise_at(source, begin, f"expression nested more than {limits.max_depth} deep", limit=True)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


# d/dx(EXPR)(1): the operator, its bracketed operand, and a number in brackets right after it.
_OPERATOR = re.compile(r"(?<!\w)[d∂](\^\d\d?|[²³⁴⁵⁶⁷⁸⁹])?/[d∂]\w+?(\^\d\d?|[²³⁴⁵⁶⁷⁸⁹])?(?=\s*[(\[])")
_NUMBER_IN_BRACKETS = re.compile(r"\(\s*-?\s*(\d+(\.\d*)?|pi)(\s*/\s*\d+)?\s*\)")


def _refuse_operator_points(text: str, source: str, begin: int) -> None:
    """`d/dx(x^2)(1)` would read as d/dx(x^2·1), though it is written like "at x = 1"; plain text has no
    notation for an expression's derivative at a point, so say how to write either reading."""
    for m in _OPERATOR.finditer(text):
        i = m.end()
        while i < len(text) and text[i].isspace():
            i += 1
        close = _matching_bracket(text, i)
        if close is not None and _NUMBER_IN_BRACKETS.match(text, close + 1):
            order = m.group(1) or ""
            _raise_at(source, begin + m.start(), f"{m.group()}(...)(...): derive has no notation for the derivative "
                      f"of an expression at a point; name the expression (y = ...) and write d{order}y/dx{order}(1), "
                      "or write * for a product")


# \frac{d}{dx}(EXPR)(1) in LaTeX: the operator, its bracketed operand, and a point as LaTeX writes one
# (digits, \pi, \frac, \sqrt: the grammar's LEIBNIZ_AT) in brackets right after it.
_LATEX_OPERATOR = re.compile(
    rf"\\[dt]?frac\s*\{{\s*{_DL}{_order('top')}\s*\}}\s*\{{\s*{_DL}\s*{_LVAR}{_order('bottom')}\s*\}}"
    rf"|(?<![A-Za-z\\]){_DL}\s*/\s*{_DL}\s*{_LVAR}"
)
# What the grammar ignores between them: spaces, spacing and style commands.
_LATEX_SPACE = r"(?:\s|\\[,;:! ]|~|\\(?:quad|qquad|displaystyle|textstyle|scriptstyle)(?![A-Za-z]))*"
_LATEX_OPEN = re.compile(_LATEX_SPACE + r"(?:\\left\s*|\\[bB]igg?l?\s*)?[(\[]")
_LATEX_POINT = re.compile(
    _LATEX_SPACE + r"(?:\(|\\left\s*\(|\\[bB]igg?l?\s*\()"
    r"(?:[\s\d.+\-*/^{}]|\\pi(?![A-Za-z])|\\cdot(?![A-Za-z])|\\[dt]?frac(?![A-Za-z])|\\sqrt(?![A-Za-z]))+"
    r"(?:\)|\\right\s*\)|\\[bB]igg?r?\s*\))"
)


def _refuse_latex_operator_points(text: str, source: str, begin: int) -> None:
    """`\\frac{d}{dx}(x^2)(1)`, as `_refuse_operator_points` for plain text: it would read as
    d/dx(x^2·1)."""
    for m in _LATEX_OPERATOR.finditer(text):
        opening = _LATEX_OPEN.match(text, m.end())
        close = _matching_bracket(text, opening.end() - 1) if opening else None
        if close is not None and _LATEX_POINT.match(text, close + 1):
            order = m.group("top") or m.group("top_bare")
            power = f"^{{{order}}}" if order else ""
            written = " ".join(m.group().split())
            written = written if len(written) <= 40 else written[:37] + "..."  # a message quotes, not copies
            _raise_at(source, begin + m.start(), f"{written}(...)(...): derive has no notation for the "
                      "derivative of an expression at a point; name the expression (y = ...) and write "
                      f"\\frac{{d{power}y}}{{dx{power}}}(1), or write \\cdot for a product")


# 1e-3 as a programmer writes a number; read as written it is 1·e - 3, Euler's number minus 3.
_SCIENTIFIC = re.compile(r"(?<![\w.])\d+(?:\.\d*)?[eE][+-]?\d+")


# z^{(1)}, W^{[2]}: a layer's index (or f^{(2)}, a derivative's order), which read as a power is 1 or 2.
# x^{(l)}, a^{[l-1]}, y^{(i)}, f^{(n)}: a letter or a letter and a number, not only digits.
_INDEX_SUPERSCRIPT = re.compile(
    r"\^\s*\{\s*(\(\s*[A-Za-z0-9](?:\s*[-+]\s*\d+)?\s*\)|\[\s*[A-Za-z0-9](?:\s*[-+]\s*\d+)?\s*\]|\[\s*\d+\s*\]|\(\s*\d+\s*\))\s*\}")
# \theta^T x, W^{\top}: a transpose, which read as a power is θ to the T. ^{\top} always; ^T only before a factor
# it multiplies (w^T x), as \gamma^T, a discount over T steps, is a power (so is e^T).
# the Greek letters a vector may be named with (not \pi, a number), as the grammar reads them
_GREEK_COMMANDS = "|".join(sorted({*GREEK_LETTERS.values(), "varepsilon", "vartheta", "varphi", "varrho",
                                   "varsigma"} - {"pi", "omicron"}))
_TRANSPOSE = re.compile(
    r"(?:(?<![A-Za-z\\])[A-Za-df-z]|\\[A-Za-z]+|[})])\s*\^\s*"
    r"(\{\s*(?:\\top|\\intercal)\s*\}|\\top(?![A-Za-z])|\\intercal(?![A-Za-z])"
    # ^{\mathsf{T}}, ^\mathrm{T}: a T in a style of its own is the transpose, whatever follows it
    r"|\{\s*\\(?:mathsf|mathrm|mathbf|text|textsf|rm|sf)\s*\{\s*T\s*\}\s*\}|\\(?:mathsf|mathrm|mathbf|text|textsf)\s*\{\s*T\s*\}"
    r"|(?:\{\s*T\s*\}|T)(?=\s*(?:[A-Za-z(\[]|\\(?:mathbf|boldsymbol|bm|vec|hat|bar|tilde|left|" + _GREEK_COMMANDS + r")"
    r"(?![A-Za-z]))))")  # a vector after it (x, \mathbf{x}, \phi), not a function (a^T \ln a is a power)
# f^{-1}(x): the inverse function of a function f, which read as a power is x/f (\sin^{-1} is asin, read before
# this; x^{-1}(x + 1) is a product); \sigma^{-1}(y) is the logit, not 1/σ(y)
_INVERSE_FUNCTION = re.compile(
    r"(?<![A-Za-z])(\\sigma(?![A-Za-z])|(?<!\\)[A-Za-df-z])\s*\^\s*(?:\{\s*-\s*1\s*\}|-1)\s*(?=\(|\\left\s*\()")


def _refuse_index_superscripts(text: str, source: str, begin: int, ctx: ParseContext) -> None:
    """Refuse `z^{(1)}` rather than read it as z^1: z^{(1)} = w^{(1)} x would define z, or claim z = w x.
    Likewise a transpose (θ^T) and an inverse function (f^{-1}(x), which reads as x/f)."""
    # e^{(x+1)} is a power of Euler's number, with a bracket in its exponent
    m = next((m for m in _INDEX_SUPERSCRIPT.finditer(text) if not _after_euler(text, m.start())), None)
    if m is not None:
        index = " ".join(m.group(1).split())
        _raise_at(source, begin + m.start(), f"^{{{index}}} is an index (a layer, an example, a derivative's order), "
                  "which derive does not read; write a subscript for an index (z_{1}, a_{l-1}) or primes for a "
                  "derivative")
    m = _TRANSPOSE.search(text)
    if m is not None:
        _raise_at(source, begin + m.start(1) - 1, "^T reads as a transpose, and derive's expressions are scalars: "
                  "write the products of the entries (w_1 x_1 + w_2 x_2)")
    for m in _INVERSE_FUNCTION.finditer(text):
        f = m.group(1)
        if f == "\\sigma":
            _raise_at(source, begin + m.start(), "\\sigma^{-1}(...) is the inverse of the sigmoid, which derive "
                      "does not read: write \\log\\frac{y}{1 - y}, or \\frac{1}{\\sigma(y)} for 1/σ(y)")
        # applied (g(x), g'(x)) or defined as a function, and not a name defined without parameters (a(1 - a))
        applied = re.search(rf"(?<![\\A-Za-z]){f}\s*(?:_\{{[^{{}}]*\}}|_\w)?\s*(?:'|\^\s*\{{?\s*\\prime\s*\}}?)*"
                            rf"\s*(?:\(|\\left\s*\()", text)
        if f not in ctx.variables and (f in ctx.functions or any(ctx.seen_forms(f)) or applied is not None):
            _raise_at(source, begin + m.start(), f"{f}^{{-1}}(...) is the inverse function of {f}, which derive does "
                      f"not read; for 1/{f} times a bracket write {f}^{{-1}} \\cdot (...)")


def _after_euler(text: str, caret: int) -> bool:
    """Is the ^ at `caret` written after a lone e (Euler's number, not the end of \\theta or of a name)?"""
    before = text[:caret].rstrip()
    return before.endswith("e") and not re.search(r"(\\[A-Za-z]*|[A-Za-z])e$", before)


# \left. \frac{dy}{dx} \right|_{x=0}, \Big|_{x = 1}: a value at a point, which pair_bars would call an
# unmatched bar.
_EVALUATION_BAR = re.compile(r"(?:\\right\s*\||\\[bB]igg?r?\s*\||\\vert|\|)\s*_\s*\{?\s*([A-Za-z])\s*=\s*"
                            r"([^{}]*?)\s*\}?(?=\s|$|\\|=)")


def _refuse_evaluation_bars(text: str, source: str, begin: int) -> None:
    """Say how to write a value at a point, rather than call its bar unmatched."""
    m = _EVALUATION_BAR.search(text)
    if m is not None:
        _raise_at(source, begin + m.start(), f"|_{{{m.group(1)}={m.group(2)}}} evaluates at a point, which derive "
                  f"writes dy/dx({m.group(2)}), \\frac{{dy}}{{dx}}({m.group(2)}) in LaTeX, for a named y")


def _refuse_scientific_notation(text: str, source: str, begin: int) -> None:
    """`1e-3` would read as e - 3 (a learning rate of -0.28): say how to write either reading."""
    m = _SCIENTIFIC.search(text)
    if m is not None:
        written = m.group()
        number = Decimal(written)  # a decimal literal the pattern matched: no code is run
        # the number written out, unless that takes more than a few dozen digits (1e-99)
        shown = "write the number as a fraction or decimal"
        if abs(number.adjusted()) <= 30:
            shown = f"write {number:f} instead"
        mantissa, exponent = re.split("[eE]", written)
        signed = exponent[0] in "+-" and "e" in written  # 1e-3 may be 1*e - 3; 3E+2 has a variable E
        euler = f" (or {mantissa}*e {exponent[0]} {exponent[1:]} for Euler's number)" if signed else ""
        _raise_at(source, begin + m.start(), f"{written}: derive does not read scientific notation; {shown}{euler}")


def _matching_bracket(text: str, i: int) -> int | None:
    """The index of the bracket that closes the one at i (None if there is none)."""
    if i >= len(text) or text[i] not in "([":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] in "([":
            depth += 1
        elif text[j] in ")]":
            depth -= 1
            if depth == 0:
                return j
    return None


def _raise_at(source: str, index: int, message: str, *, limit: bool = False, undefined: str | None = None) -> None:
    line, column = line_column(source, index)
    if limit:
        raise LimitError(message, line=line, column=column, context=caret_context(source, line, column))
    raise ParseError(message, line=line, column=column, context=caret_context(source, line, column),
                     undefined=undefined)


# --------------------------------------------------------------------------------------------------
# Syntax errors in words.

_CLOSERS = {")": "(", "]": "[", "}": "{", CLOSE_BAR: OPEN_BAR}
_BRACKET_NAMES = {"(": "parenthesis", "[": "bracket", "{": "brace", OPEN_BAR: "bar |"}
_OPERATORS = ("+", "-", "−", "*", "/", "^", "=", ",", "·", "⋅", "×", "÷", "\\cdot", "\\times", "\\div", "_")
# Commands a misspelt word may start with (\sigmax, \pix, \cdotx), longest first.
_KNOWN_COMMANDS = sorted(
    {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
     "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "pi", "frac", "dfrac", "tfrac", "sqrt",
     "cdot", "times", "div", "sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "arcsin", "arccos",
     "arctan", "exp", "ln", "log", "quad", "qquad", "left", "right", "partial", "infty"},
    key=len,
    reverse=True,
)
_UNSUPPORTED = {"int", "sum", "prod", "lim", "iint", "oint", "nabla", "begin", "end", "max", "min", "sup",
                "inf", "det", "arg", "deg", "dim", "ker", "gcd", "Pr"}
# How a token that ends an expression too early is named in a message.
_NEEDS_OPERAND = re.compile(
    r"(\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|\\sqrt\s*\[[^\]]*\]|d/d\w+|∂/∂\w+"
    r"|\\[A-Za-z]+(\s*\{\s*[A-Za-z]+\s*\})?|[-+*/^=,·⋅×÷−_])\s*$"
)


def _syntax_error(exc: UnexpectedInput, cleaned: str, source: str, begin: int, latex: bool) -> ParseError:
    """Turn a lark exception into a ParseError whose message a student can act on."""
    if isinstance(exc, UnexpectedCharacters):
        index = exc.pos_in_stream
        return _error_at(source, begin + index, _unexpected_character_message(cleaned, index, latex))
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        index = len(cleaned.rstrip())
        return _error_at(source, begin + index, _end_of_input_message(cleaned))
    assert isinstance(exc, UnexpectedToken)
    index = exc.token.start_pos if exc.token.start_pos is not None else 0
    return _error_at(source, begin + index, _unexpected_token_message(cleaned, exc.token, latex))


def _error_at(source: str, index: int, message: str) -> ParseError:
    line, column = line_column(source, index)
    return ParseError(message, line=line, column=column, context=caret_context(source, line, column))


def _open_brackets(text: str) -> list[str]:
    stack: list[str] = []
    for ch in text:
        if ch in "([{" + OPEN_BAR:
            stack.append(ch)
        elif ch in _CLOSERS and stack and stack[-1] == _CLOSERS[ch]:
            stack.pop()
    return stack


def _unexpected_character_message(text: str, index: int, latex: bool) -> str:
    rest = text[index:]
    command = re.match(r"\\([A-Za-z]+)", rest)
    if command:
        word = command.group(1)
        if not latex:
            return f"\\{word} is LaTeX, but this text is read as plain text"
        if word in _UNSUPPORTED:
            return f"\\{word} is not supported here"
        if word in ("partial", "prime", "mathrm", "operatorname", "text", "left", "right", "label", "tag"):
            return f"cannot read \\{word} here"
        known = next((k for k in _KNOWN_COMMANDS if word.startswith(k) and len(word) > len(k)), None)
        if known is not None:  # \sigmax: TeX reads one command, the writer meant \sigma x
            rest = word[len(known) :]
            return f"unknown LaTeX command \\{word} (for \\{known} followed by {rest}, put a space between)"
        return f"unknown LaTeX command \\{word}"
    if re.match(r"[\d.]*\.[\d.]*\.", rest):
        return "a number has more than one decimal point"
    ch = rest[:1]
    if ch in _CLOSERS:
        return f"unmatched closing {_BRACKET_NAMES[_CLOSERS[ch]]} '{_show(ch)}'"
    if ch == "\\":
        return "a lone backslash"
    if ch == "'":
        return "a prime must follow a function name and come before its argument: f'(x)"
    if ch in "_^" and latex:
        return f"'{ch}' must follow a name or a closing bracket"
    return f"unexpected character '{_show(ch)}'"


def _end_of_input_message(text: str) -> str:
    stack = _open_brackets(text)
    if stack:
        return f"missing closing {_BRACKET_NAMES[stack[-1]]}"
    if re.search(r"\\[dt]?frac\s*\{[^{}]*\}\s*$", text):
        return "\\frac needs two arguments: \\frac{a}{b}"
    tail = _NEEDS_OPERAND.search(text.rstrip())
    if tail:
        return f"expected an expression after '{_show(tail.group(1).strip())}'"
    return "unexpected end of input"


def _unexpected_token_message(text: str, token: Token, latex: bool) -> str:
    value = _show(str(token)).strip()
    if token.type == "EQ":
        return "'=' is not allowed inside an expression (an equation is checked with derive.check)"
    before = text[: token.start_pos]
    if value in (")", "]", "}", "|") or token.type in ("_RPAREN", "_RBRACK", "RPAR", "RSQB", "RBRACE", "CLOSE_BAR"):
        if token.type == "CLOSE_BAR" and OPEN_BAR not in _open_brackets(before):
            return "unmatched closing bar |"
        if token.type != "CLOSE_BAR" and not _open_brackets(before):
            return f"unmatched closing bracket '{value}'"
        prev = before.rstrip()[-1:]
        if prev in "([{" + OPEN_BAR or before.rstrip().endswith(("\\left(", "\\left[")):
            return "empty brackets: expected an expression inside"
        return f"expected an expression before '{value}'"
    stripped = before.rstrip()
    if value == "_" and latex:
        if _open_brackets(text[token.start_pos :]):
            return "missing closing brace"
        return "a subscript must follow a name: w_1, w_{12}"
    if not stripped:
        return f"expected an expression before '{value}'"
    if stripped.endswith(_OPERATORS):
        operator = next(op for op in _OPERATORS if stripped.endswith(op))
        return f"expected an expression after '{operator}', found '{value}'"
    if token.type == "COMMA":
        return "unexpected ',' (commas separate the arguments of a function)"
    if token.type == "LET":
        return f"'{value}' may only start a definition"
    return f"unexpected '{value}'"


def _show(text: str) -> str:
    return text.replace(OPEN_BAR, "|").replace(CLOSE_BAR, "|")
