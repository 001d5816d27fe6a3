"""Text -> sympy: the lark grammars in grammar/ and one Transformer that builds sympy objects directly.

Nothing the user writes reaches eval, exec, sympify or parse_expr: numbers become `Rational`, names
become symbols from `derive.symbols`, and every operation is a sympy constructor call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources

import sympy
from lark import Lark, Token, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive

from derive.errors import LimitError, ParseError, caret_context
from derive.functions import relu, sigmoid, softplus
from derive.limits import DEFAULT_LIMITS, Limits
from derive.preprocess import (
    CLOSE_BAR,
    OPEN_BAR,
    check_nesting,
    line_column,
    pair_bars,
    strip_math_delimiters,
)
from derive.symbols import function, normalize_name, symbol

# --------------------------------------------------------------------------------------------------
# Known functions: name -> (sympy constructor, number of arguments it accepts)

_KNOWN: dict[str, tuple[object, tuple[int, ...]]] = {
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
    "sqrt": (sympy.sqrt, (1,)), "abs": (sympy.Abs, (1,)),
    "sign": (sympy.sign, (1,)), "sgn": (sympy.sign, (1,)), "heaviside": (sympy.Heaviside, (1,)),
    "sigmoid": (sigmoid, (1,)), "softplus": (softplus, (1,)), "relu": (relu, (1,)), "ReLU": (relu, (1,)),
}
# Applied, sigma is the sigmoid (σ(z)); alone it is the symbol σ.
_SIGMOID_ALIASES = ("sigma",)
_INVERSE = {"sin": "asin", "cos": "acos", "tan": "atan", "sinh": "asinh", "cosh": "acosh", "tanh": "atanh",
            "sec": "asec", "csc": "acsc", "cot": "acot"}
KNOWN_FUNCTIONS = frozenset(_KNOWN) | {"diff"}


@dataclass(frozen=True)
class ParseContext:
    """What the surrounding derivation tells the parser about names.

    `variables` maps each name defined without parameters (`y = sigmoid(z)`) to the leaf variables of
    its definition, so that `y(z)` reads as y itself and `y(1 - y)` as a product. `functions` holds names
    defined with parameters (`y(z) = ...`), which stay applications.
    """

    variables: Mapping[str, frozenset[str]] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()
    limits: Limits = DEFAULT_LIMITS

    @property
    def defined(self) -> frozenset[str]:
        return frozenset(self.variables) | self.functions


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


# --------------------------------------------------------------------------------------------------
# LaTeX names: w_{12} -> w_12, \alpha_1 -> alpha_1, \hat{y} -> yhat (sympy prints it back as \hat{y}).

_LATEX_NAME = re.compile(
    r"""\\(?P<greek>[A-Za-z]+)(?![A-Za-z{])
      | \\(?P<accent>hat|bar|tilde|dot|vec|widehat|overline)\s*\{\s*(?P<accented>[A-Za-z])\s*\}
      | \\(?:mathrm|mathit|operatorname|text|textrm|mathbf|boldsymbol)\s*\{\s*(?P<word>[A-Za-z][A-Za-z0-9]*)\s*\}
      | (?P<letter>[A-Za-z])""",
    re.VERBOSE,
)
_ACCENT_SUFFIX = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                  "dot": "dot", "vec": "vec"}
_SUBSCRIPT = re.compile(r"_\s*(?:\{([^{}]*)\}|([A-Za-z0-9]))")
_VARIANT = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi"}


def latex_name(text: str) -> str:
    """The plain name of a LaTeX name token (letter, Greek command, accent, \\mathrm word; subscript)."""
    text = text.strip()
    m = _LATEX_NAME.match(text)
    if m is None:
        return normalize_name(text)
    if m.group("greek"):
        base = _VARIANT.get(m.group("greek"), m.group("greek"))
    elif m.group("accent"):
        base = m.group("accented") + _ACCENT_SUFFIX[m.group("accent")]
    elif m.group("word"):
        base = m.group("word")
    else:
        base = m.group("letter")
    rest = text[m.end() :].strip()
    sub = _SUBSCRIPT.match(rest)
    if sub:
        inner = sub.group(1) if sub.group(1) is not None else sub.group(2)
        inner = re.sub(r"\\([A-Za-z]+)", r"\1", inner)  # w_{\text{out}} -> w_out
        inner = re.sub(r"[^\w]", "", inner.replace("text", "").replace("mathrm", ""))
        if inner:
            return f"{base}_{inner}"
    return base


def _plain_name(text: str) -> str:
    return normalize_name(text)


# --------------------------------------------------------------------------------------------------
# The transformer: reads like a table of what each grammar rule means in sympy.

_PLAIN_LEIBNIZ = re.compile(r"^[d∂](?P<n>[^\W\d]\w*)/[d∂](?P<v>[^\W\d]\w*)$")
_PLAIN_DOP = re.compile(r"^[d∂]/[d∂](?P<v>[^\W\d]\w*)$")
_DL = r"(?:d|\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|\\text\s*\{\s*d\s*\}|\\partial(?![A-Za-z]))"
_LVAR = r"(?:\\[A-Za-z]+\s*(?:\{\s*[A-Za-z][A-Za-z0-9]*\s*\})?|[A-Za-z])(?:\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]))?"
_LATEX_LEIBNIZ = re.compile(
    rf"^\\[dt]?frac\s*\{{\s*{_DL}\s*(?P<n>{_LVAR})(?P<args>\s*(?:\([^()]*\)|\\left\s*\([^()]*\\right\s*\)))?"
    rf"\s*\}}\s*\{{\s*{_DL}\s*(?P<v>{_LVAR})\s*\}}$"
)
_LATEX_DOP = re.compile(rf"^\\[dt]?frac\s*\{{\s*{_DL}\s*\}}\s*\{{\s*{_DL}\s*(?P<v>{_LVAR})\s*\}}$")


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
        if tok == ".":
            raise _Fault("a lone '.' is not a number", tok)
        return sympy.Rational(str(tok))  # exact: 0.5 is 1/2

    def name(self, tok: Token) -> sympy.Expr:
        name = latex_name(tok) if self.latex else _plain_name(tok)
        ctx = _CONTEXT.get()
        if name in ctx.defined:
            return symbol(name)
        if name == "e":
            return sympy.E
        if name == "pi" and not self.latex:
            return sympy.pi
        if not self.latex and name in KNOWN_FUNCTIONS:
            raise _Fault(f"{name} is a function: write {name}(...) with its argument in parentheses", tok)
        return symbol(name)

    def const(self, tok: Token) -> sympy.Expr:
        return {"pi": sympy.pi, "infty": sympy.oo}[tok.lstrip("\\")]

    # -- arithmetic ----------------------------------------------------------------------------
    def sum(self, first: sympy.Expr, *rest: object) -> sympy.Expr:
        terms = [first]
        for op, term in zip(rest[::2], rest[1::2], strict=True):
            terms.append(-term if op == "-" else term)
        return sympy.Add(*terms)

    def term(self, first: sympy.Expr, *rest: object) -> sympy.Expr:
        factors = [first]
        items = list(rest)
        while items:
            item = items.pop(0)
            if isinstance(item, Token):  # an explicit operator, then its operand
                operand = items.pop(0)
                if item.strip() in ("/", "\\div", "÷"):
                    if operand == 0:
                        raise _Fault("division by zero", item)
                    factors.append(sympy.Pow(operand, -1))
                else:
                    factors.append(operand)
            else:
                factors.append(item)
        return sympy.Mul(*factors)

    plain_product = term

    def neg(self, _tok: Token, operand: sympy.Expr) -> sympy.Expr:
        return -operand

    def pos(self, _tok: Token, operand: sympy.Expr) -> sympy.Expr:
        return operand

    def power(self, base: sympy.Expr, *rest: object) -> sympy.Expr:
        exponent = rest[-1]
        token = rest[0] if isinstance(rest[0], Token) else None
        _check_power_size(base, exponent, token)
        if base == 0 and exponent.is_number and exponent.is_negative:
            raise _Fault("division by zero (0 to a negative power)", token)
        return sympy.Pow(base, exponent)

    def frac(self, _tok: Token, numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr:
        if denominator == 0:
            raise _Fault("division by zero", _tok)
        return numerator * sympy.Pow(denominator, -1)

    def frac_short(self, tok: Token) -> sympy.Expr:
        """\\frac12 is 1/2 and \\frac ab is a/b: TeX takes one character per argument."""
        numerator, denominator = (self._short_arg(ch, tok) for ch in re.sub(r"^\\[dt]?frac\s*|\s", "", tok))
        return self.frac(tok, numerator, denominator)

    def _short_arg(self, ch: str, tok: Token) -> sympy.Expr:
        return sympy.Integer(int(ch)) if ch.isdigit() else self.name(Token("LETTER", ch, start_pos=tok.start_pos))

    def sqrt(self, _tok: Token, *rest: object) -> sympy.Expr:
        radicand = rest[-1]
        if len(rest) > 1:  # \sqrt[n]{x}: rest = (n, x)
            index = rest[0]
            if index == 0:
                raise _Fault("a root of index 0 is undefined", _tok)
            return sympy.Pow(radicand, sympy.Pow(index, -1))
        return sympy.sqrt(radicand)

    def abs(self, _open: Token, inner: sympy.Expr, _close: Token) -> sympy.Expr:
        return sympy.Abs(inner)

    # -- applications --------------------------------------------------------------------------
    def args(self, *items: object) -> list[sympy.Expr]:
        return [item for item in items if not isinstance(item, Token)]

    def call(self, tok: Token, *rest: object) -> sympy.Expr:
        args = next(item for item in rest if isinstance(item, list))
        raw = tok.strip()
        if self.latex:
            lowered = raw.lstrip("\\")
            name = _known_latex_function(lowered) or latex_name(raw)
        else:
            name = _plain_name(raw)
        return _apply(name, args, tok)

    def prime_call(self, tok: Token, *rest: object) -> sympy.Expr:
        args = next(item for item in rest if isinstance(item, list))
        raw = tok.strip()
        order = raw.count("'") + raw.count("\\prime")
        base = re.split(r"'|\^", raw, maxsplit=1)[0].strip()
        name = (_known_latex_function(base.lstrip("\\")) or latex_name(base)) if self.latex else _plain_name(base)
        if len(args) != 1:
            raise _Fault(f"{name}' needs exactly one argument", tok)
        return _prime(name, args[0], order, tok)

    def func(self, tok: Token, *rest: object) -> sympy.Expr:
        """\\sin x, \\tanh^2(z), \\sin^{-1} x, \\log_2 x: modifiers first, the argument last."""
        name = _known_latex_function(tok.strip().lstrip("\\")) or tok.strip().lstrip("\\")
        arg = rest[-1]
        power: sympy.Expr | None = None
        base: sympy.Expr | None = None
        for mod in rest[:-1]:
            kind, value = mod
            if kind == "sup":
                power = value
            else:
                base = value
        if power == -1 and name in _INVERSE:  # \sin^{-1} x is arcsin, as in calculus texts
            name, power = _INVERSE[name], None
        args = [arg] if base is None else [arg, base]
        if base is not None and name not in ("log",):
            raise _Fault(f"\\{name} does not take a subscript", tok)
        value = _apply(name, args, tok)
        if power is not None:
            _check_power_size(value, power, tok)
            value = sympy.Pow(value, power)
        return value

    def func_sup(self, value: sympy.Expr) -> tuple[str, sympy.Expr]:
        return ("sup", value)

    def func_sub(self, value: sympy.Expr) -> tuple[str, sympy.Expr]:
        return ("sub", value)

    # -- derivatives ---------------------------------------------------------------------------
    def deriv(self, tok: Token, operand: sympy.Expr) -> sympy.Expr:
        pattern = _LATEX_DOP if self.latex else _PLAIN_DOP
        m = pattern.match(tok.strip())
        if m is None:  # the grammar and the pattern describe the same token
            raise _Fault("cannot read this derivative operator", tok)
        var = symbol(self._var_name(m.group("v")))
        return sympy.Derivative(operand, var, evaluate=False)

    def leibniz(self, tok: Token) -> sympy.Expr:
        pattern = _LATEX_LEIBNIZ if self.latex else _PLAIN_LEIBNIZ
        m = pattern.match(tok.strip())
        if m is None:
            raise _Fault("cannot read this derivative", tok)
        numerator = self._var_name(m.group("n"))
        var = symbol(self._var_name(m.group("v")))
        args_text = m.groupdict().get("args")
        if args_text:  # \frac{\partial E(z)}{\partial z}
            inner = re.sub(r"^\s*(\\left\s*)?\(|(\\right\s*)?\)\s*$", "", args_text)
            args = [parse(piece, latex=True) for piece in inner.split(",")]
            return sympy.Derivative(_apply_name(numerator, args, tok), var, evaluate=False)
        return sympy.Derivative(symbol(numerator), var, evaluate=False)

    def leibniz_at(self, tok: Token, *rest: object) -> sympy.Expr:
        """dE/dy(z): the derivative of E with respect to y, y written as y(z)."""
        args = next(item for item in rest if isinstance(item, list))
        m = _PLAIN_LEIBNIZ.match(tok.strip())
        if m is None:
            raise _Fault("cannot read this derivative", tok)
        wrt = _apply_name(_plain_name(m.group("v")), args, tok)
        if isinstance(wrt, sympy.Symbol):
            return sympy.Derivative(symbol(_plain_name(m.group("n"))), wrt, evaluate=False)
        if not isinstance(wrt, sympy.core.function.AppliedUndef):
            raise _Fault(f"cannot differentiate with respect to {m.group('v')}(...)", tok)
        return sympy.Derivative(symbol(_plain_name(m.group("n"))), wrt, evaluate=False)

    def _var_name(self, text: str) -> str:
        return latex_name(text) if self.latex else _plain_name(text)

    # -- statements ----------------------------------------------------------------------------
    def chain(self, *items: object) -> Chain:
        continues = isinstance(items[0], Token) and items[0].type == "EQ"
        parts = tuple(item for item in items if not isinstance(item, Token))
        return Chain(parts=parts, continues=continues, let=False)

    def statement(self, *items: object) -> Chain:
        chain = items[-1]
        if not isinstance(chain, Chain):
            chain = Chain(parts=(chain,), continues=False, let=False)
        let = len(items) > 1
        return Chain(parts=chain.parts, continues=chain.continues, let=let)


def _known_latex_function(command: str) -> str | None:
    """The function a LaTeX command or spelled-out word names, if any (\\operatorname{relu} -> relu)."""
    m = re.match(r"^(?:operatorname|mathrm|text)\s*\{\s*([A-Za-z]+)\s*\}$", command)
    word = m.group(1) if m else command
    if word in _KNOWN or word == "sigma":
        return "sigmoid" if word == "sigma" else word
    return None


def _apply(name: str, args: list[sympy.Expr], tok: Token) -> sympy.Expr:
    """Apply a known function by name, or make an abstract one (y(z), f(g(x)))."""
    ctx = _CONTEXT.get()
    if name == "diff":
        return _diff_call(args, tok)
    if name in _SIGMOID_ALIASES and name not in ctx.defined:
        name = "sigmoid"
    if name in _KNOWN and name not in ctx.defined:
        constructor, arities = _KNOWN[name]
        if len(args) not in arities:
            expected = " or ".join(str(a) for a in arities)
            raise _Fault(f"{name} takes {expected} argument{'s' if arities != (1,) else ''}, got {len(args)}", tok)
        if name in ("log",) and len(args) == 2:
            if args[1] == 1 or args[1] == 0:
                raise _Fault(f"log base {args[1]} is undefined", tok)
            return sympy.log(args[0]) / sympy.log(args[1])
        return constructor(*args)
    return _apply_name(name, args, tok)


def _apply_name(name: str, args: list[sympy.Expr], tok: Token) -> sympy.Expr:
    """A user name applied to arguments: an abstract function, or a defined variable."""
    ctx = _CONTEXT.get()
    leaves = ctx.variables.get(name)
    if leaves is not None:
        # y = sigmoid(z): y(z) is y written as a function of its own variables; y(1 - y) is a product.
        if all(isinstance(a, sympy.Symbol) and a.name in leaves for a in args):
            return symbol(name)
        if len(args) == 1:
            return symbol(name) * args[0]
    if name == "e" and "e" not in ctx.defined and len(args) == 1:
        return sympy.E * args[0]  # e(x+1) read as e·(x+1) is almost never meant; keep it exact anyway
    if not args:
        raise _Fault(f"{name}() needs an argument", tok)
    return function(name)(*args)


def _prime(name: str, arg: sympy.Expr, order: int, tok: Token) -> sympy.Expr:
    """f'(u): sympy's own notation, Derivative(f(x), x) for a variable and Subs(...) otherwise."""
    if name == "sigma":
        name = "sigmoid"
    if name in _KNOWN:
        constructor, arities = _KNOWN[name]
        if 1 not in arities:
            raise _Fault(f"{name}' is not defined", tok)
        make = constructor
    else:
        make = function(name)
    if isinstance(arg, sympy.Symbol):
        return sympy.Derivative(make(arg), (arg, order), evaluate=False)
    t = sympy.Dummy("t", real=True)
    return sympy.Subs(sympy.Derivative(make(t), (t, order), evaluate=False), t, arg)


def _diff_call(args: list[sympy.Expr], tok: Token) -> sympy.Expr:
    """diff(EXPR, x) and diff(EXPR, x, n)."""
    if len(args) not in (2, 3):
        raise _Fault("diff takes an expression and a variable: diff(EXPR, x)", tok)
    var = args[1]
    if not isinstance(var, sympy.Symbol):
        raise _Fault("diff needs a variable as its second argument", tok)
    order = 1
    if len(args) == 3:
        if not (args[2].is_Integer and 1 <= int(args[2]) <= 20):
            raise _Fault("the order of a derivative is a whole number from 1 to 20", tok)
        order = int(args[2])
    return sympy.Derivative(args[0], (var, order), evaluate=False)


def _check_power_size(base: sympy.Expr, exponent: sympy.Expr, token: Token | None) -> None:
    """Refuse exact constant powers too large to compute (2^(10^10), 9^9^9^9) before sympy tries."""
    if not (base.is_Rational and exponent.is_Rational):
        return
    limits = _CONTEXT.get().limits
    size = max(abs(base.p), abs(base.q))
    if size <= 1:
        return
    bits = abs(math.floor(exponent)) * size.bit_length()
    if bits > limits.max_power_bits:
        raise _Fault(f"constant power too large to compute exactly (about {bits} bits)", token, limit=True)


# --------------------------------------------------------------------------------------------------
# Parsers, built once at import.


def _load(name: str) -> Lark:
    grammar_dir = resources.files("derive.grammar")
    text = grammar_dir.joinpath(f"{name}.lark").read_text(encoding="utf-8")
    with resources.as_file(grammar_dir) as path:
        return Lark(
            text,
            parser="lalr",
            start=["expression", "statement"],
            import_paths=[str(path)],
            propagate_positions=False,
            maybe_placeholders=False,
        )


_PARSERS = {False: _load("plain"), True: _load("latex")}
_BUILDERS = {False: _Builder(latex=False), True: _Builder(latex=True)}


def is_latex(text: str, latex: bool | None = None) -> bool:
    """Text with a backslash (or a brace, which plain text never uses: x^{2}, w_{12}) is LaTeX."""
    if latex is not None:
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
    assert not isinstance(result, Chain)
    return result


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
        line, column = line_column(source, begin)
        raise LimitError(
            f"input too long: {len(snippet)} characters (at most {limits.max_expression_chars})",
            line=line, column=column, context=caret_context(source, line, column),
        )
    if "\x00" in snippet:
        _raise_at(source, begin + snippet.index("\x00"), "null character in input")
    cleaned = pair_bars(strip_math_delimiters(snippet))
    if not cleaned.strip():
        _raise_at(source, begin, "empty input")
    check_nesting(cleaned, limits, source=source, offset=begin)
    token = _CONTEXT.set(ctx)
    try:
        try:
            tree = _PARSERS[latex].parse(cleaned, start=start)
        except UnexpectedInput as exc:
            raise _syntax_error(exc, cleaned, source, begin, latex) from None
        _check_tree_size(tree, limits, source, begin)
        try:
            return _BUILDERS[latex].transform(tree)
        except VisitError as exc:
            fault = exc.orig_exc
            if isinstance(fault, _Fault):
                index = begin + (fault.token.start_pos if fault.token is not None and fault.token.start_pos
                                 is not None else 0)
                _raise_at(source, index, fault.message, limit=fault.limit)
            if isinstance(fault, ParseError):
                raise fault from None
            if isinstance(fault, (RecursionError, MemoryError)):
                _raise_at(source, begin, "expression too deeply nested", limit=True)
            if isinstance(fault, (TypeError, ValueError, ZeroDivisionError, ArithmeticError)):
                _raise_at(source, begin, f"cannot build this expression: {fault}")
            raise
    finally:
        _CONTEXT.reset(token)


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


def _raise_at(source: str, index: int, message: str, *, limit: bool = False) -> None:
    line, column = line_column(source, index)
    cls = LimitError if limit else ParseError
    raise cls(message, line=line, column=column, context=caret_context(source, line, column))


# --------------------------------------------------------------------------------------------------
# Syntax errors in words.

_CLOSERS = {")": "(", "]": "[", "}": "{", CLOSE_BAR: OPEN_BAR}
_BRACKET_NAMES = {"(": "parenthesis", "[": "bracket", "{": "brace", OPEN_BAR: "bar |"}
_OPERATOR_TYPES = {"PLUS": "+", "MINUS": "-", "MUL_OP": None, "POW_OP": None, "EQ": "=", "COMMA": ","}
_UNSUPPORTED = {"int", "sum", "prod", "lim", "iint", "oint", "partial", "nabla", "begin", "end"}


def _syntax_error(exc: UnexpectedInput, cleaned: str, source: str, begin: int, latex: bool) -> ParseError:
    """Turn a lark exception into a ParseError whose message a student can act on."""
    if isinstance(exc, UnexpectedCharacters):
        index = exc.pos_in_stream
        message = _unexpected_character_message(cleaned, index, latex)
        return _error_at(source, begin + index, message)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        index = len(cleaned.rstrip())
        message = _end_of_input_message(cleaned, exc)
        return _error_at(source, begin + index, message)
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    index = token.start_pos if token.start_pos is not None else 0
    return _error_at(source, begin + index, _unexpected_token_message(cleaned, exc))


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
        if word in _UNSUPPORTED:
            return f"\\{word} is not supported here"
        return f"unknown LaTeX command \\{word}"
    ch = rest[:1]
    if ch in _CLOSERS:
        return f"unmatched closing {_BRACKET_NAMES[_CLOSERS[ch]]} '{_show(ch)}'"
    if ch == "\\":
        return "a lone backslash"
    if ch == "'":
        return "a prime must follow a function name and come before its argument: f'(x)"
    return f"unexpected character '{_show(ch)}'"


def _end_of_input_message(text: str, exc: UnexpectedInput) -> str:
    stack = _open_brackets(text)
    if stack:
        return f"missing closing {_BRACKET_NAMES[stack[-1]]}"
    last = text.rstrip()[-1:]
    if last in "+-*/^=,·×÷" or text.rstrip().endswith(("\\cdot", "\\times")):
        return f"expected an expression after '{last}'"
    return "unexpected end of input"


def _unexpected_token_message(text: str, exc: UnexpectedToken) -> str:
    token = exc.token
    value = _show(str(token))
    if token.type == "EQ":
        return "'=' is not allowed inside an expression (an equation is checked with derive.check)"
    if value in (")", "]", "}") or token.type in ("_RPAREN", "_RBRACK", "RPAR", "RSQB", "RBRACE", "CLOSE_BAR"):
        before = text[: token.start_pos]
        if not _open_brackets(before):
            return f"unmatched closing bracket '{value}'"
        prev = before.rstrip()[-1:]
        if prev in "([{" + OPEN_BAR:
            return "empty brackets: expected an expression inside"
        return f"expected an expression before '{value}'"
    prev_text = text[: token.start_pos].rstrip()
    prev = prev_text[-1:]
    if prev in "+-*/^=,·×÷":
        return f"expected an expression after '{prev}', found '{value}'"
    if token.type == "COMMA":
        return "unexpected ',' (commas separate the arguments of a function)"
    return f"unexpected '{value}'"


def _show(text: str) -> str:
    return text.replace(OPEN_BAR, "|").replace(CLOSE_BAR, "|")
