"""sympy -> derive's own plain-text notation, which `derive.parse` reads back to the same expression."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import requires_partial, split_super_sub
from sympy.printing.latex import LatexPrinter, accepted_latex_functions, translate
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer
from sympy.printing.str import StrPrinter

from derive.symbols import GREEK_LETTERS

_POWER = PRECEDENCE["Pow"]
SUBSTITUTION_SECONDS = 2.0  # for putting the points into one substitution that has no notation of its own


class PlainTextPrinter(StrPrinter):
    """sympy's str() with derive's notation: `^`, `e`, `abs`, `d/dx(...)`, `dE/dz`, `f'(u)`."""

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _name(self, name: str) -> str:
        """How a name is written: as it is here, where the text must read back in any keyboard's notation."""
        return name

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sympy.Expr) -> str:
        return f"heaviside({self._print(expr.args[0])})"

    def _print_DiracDelta(self, expr: sympy.Expr) -> str:
        order = 1 + (int(expr.args[1]) if len(expr.args) > 1 else 0)
        return f"heaviside{chr(39) * order}({self._print(expr.args[0])})"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        inner = expr.expr
        variables = expr.variable_count
        if len(variables) > 1:  # d/dy(d/dx(f)): one variable at a time, innermost first
            # (sympy merges nested Derivative objects into one, so the nesting exists only as text)
            text = self._print(sympy.Derivative(inner, variables[0], evaluate=False))
            for var, order in variables[1:]:
                text = f"d/d{self._print(var)}({text})" if order == 1 else f"diff({text}, {self._print(var)}, {order})"
            return text
        var, order = variables[0]
        if isinstance(var, sympy.Symbol):
            top, bottom = self._name(getattr(inner, "name", "")), self._name(var.name)
            if isinstance(inner, sympy.Symbol):
                return f"d{top}/d{bottom}" if order == 1 else f"d^{order}{top}/d{bottom}^{order}"
            # f'(x) for an abstract f, as in calculus texts; d/dx(sin(x)) for a known one, which reads better.
            if isinstance(inner, AppliedUndef) and inner.args == (var,):
                return f"{self._name(_function_name(inner))}{chr(39) * order}({bottom})"
            if order == 1:
                return f"d/d{bottom}({self._print(inner)})"
            return f"d^{order}/d{bottom}^{order}({self._print(inner)})"
        if isinstance(inner, sympy.Symbol) and order == 1 and isinstance(var, AppliedUndef):
            return f"d{self._name(inner.name)}/d{self._print(var)}"
        if isinstance(inner, AppliedUndef) and inner.args == (var,):
            return f"{self._name(_function_name(inner))}{chr(39) * order}({self._print(var)})"  # f''(g(x)), by g(x)
        return super()._print_Derivative(expr)

    def _print_Subs(self, expr: sympy.Subs) -> str:
        partial = partial_form(expr)
        if partial is not None:
            applied, slots = partial
            return self._partial(slots) + self._print(applied)
        form = prime_form(expr)
        if form is None:
            if at_number_form(expr):
                return f"{self._print(expr.expr)}({self._print(expr.point[0])})"  # dy/dz(1), as it is written
            return super()._print_Subs(expr)  # one `_displayable` could not put in
        function, order, point = form
        return f"{self._name(_function_name(function))}{chr(39) * order}({self._print(point)})"

    def _partial(self, slots: tuple[int, ...]) -> str:
        return "".join(f"∂_{k}" for k in slots) + " "

    def parenthesize(self, item: sympy.Basic, level: int, strict: bool = False) -> str:
        # `d/dx(...)` takes the rest of a product as its operand when read back (d/dx x^2 y), so inside a
        # product or a power it is wrapped: (d/dx(x^2))*y, (d/dx(x^2))^2.
        printed = self._print(item)  # once: printing again per nesting level would be exponential
        if isinstance(item, sympy.Derivative) and printed.startswith(("d/d", "∂/∂", "d^")):
            return f"({printed})"
        if isinstance(item, sympy.Derivative) and "/" in printed and level >= _POWER:
            return f"({printed})"  # (dy/dz)^2, not dy/dz^2
        tighter = precedence(item) < level or (not strict and precedence(item) <= level)
        return f"({printed})" if tighter else printed


def prime_form(expr: sympy.Subs) -> tuple[sympy.Function, int, sympy.Expr] | None:
    """(f, n, u) when expr is sympy's form of f^(n)(u), `Subs(Derivative(f(t), (t, n)), t, u)`; else None."""
    inner, variables, points = expr.args
    if len(variables) != 1 or not isinstance(inner, sympy.Derivative) or len(inner.variable_count) != 1:
        return None
    var, order = inner.variable_count[0]
    if var != variables[0] or not isinstance(inner.expr, sympy.Function) or inner.expr.args != (var,):
        return None
    return inner.expr, int(order), points[0]


def partial_form(expr: sympy.Subs) -> tuple[sympy.Expr, tuple[int, ...]] | None:
    """(L(u, v), (1, 2)) when expr is L differentiated in its first and second arguments at (u, v),
    `Subs(Derivative(L(ξ1, ξ2), ξ1, ξ2), (ξ1, ξ2), (u, v))`; else None. Only for a function of several
    arguments (one argument is f'(u)), each variable bound by the Subs and one whole argument. A
    derivative by a symbol as it stands (d/dx g(u, x)) is not one: with u a defined name that depends on
    x it is the whole derivative, so it prints as d/dx(...)."""
    body, variables, points = expr.args
    if not isinstance(body, sympy.Derivative) or not isinstance(body.expr, AppliedUndef) or len(body.expr.args) < 2:
        return None
    args = body.expr.args

    def whole(v: sympy.Basic) -> bool:  # one whole argument, found in no other
        return v in args and sum(a.has(v) for a in args) == 1

    if not all(whole(v) for v in variables) or not set(body.variables) <= set(variables):
        return None
    slots: list[int] = []
    for variable, count in body.variable_count:
        slots += [args.index(variable) + 1] * int(count)
    at = dict(zip(variables, points, strict=True))
    return body.expr.func(*(at.get(a, a) for a in args)), tuple(slots)


def at_number_form(expr: sympy.Subs) -> bool:
    """Is expr dy/dz(1): the derivative of a name at a number, which derive's notation writes as such?"""
    body = expr.expr
    return (len(expr.variables) == 1 and expr.point[0].is_number and isinstance(body, sympy.Derivative)
            and isinstance(body.expr, sympy.Symbol) and set(body.variables) == set(expr.variables))


def substituted(expr: sympy.Subs) -> sympy.Expr:
    """A substitution derive has no notation for (d/dy L(y, y) at y = 1), with its points put in: the same
    value, in notation that reads back (∂_1 L(1, 1) + ∂_2 L(1, 1)); sympy's `Subs(...)` would read as a
    function named Subs. Left as it is if the derivatives cannot be taken, or if one is of a name (dE/dy,
    whose meaning is Leibniz's, which sympy alone does not know)."""
    # printing stays importable without the engine
    from derive.bounded import BoundExceeded, can_use_alarm, run_bounded
    from derive.sympy_derivative import sympy_doit

    if any(isinstance(d.expr, sympy.Symbol) for d in expr.atoms(sympy.Derivative)):
        return expr
    try:
        # Bounded where a signal can stop it; elsewhere (another thread) as before: a process per
        # printed substitution would cost more than any substitution.
        if can_use_alarm():
            return run_bounded(sympy_doit, expr, seconds=SUBSTITUTION_SECONDS)
        return sympy_doit(expr)
    except (BoundExceeded, ValueError, TypeError, NotImplementedError, RecursionError):
        return expr


def _displayable(expr: sympy.Basic) -> sympy.Basic:
    """`expr` with each substitution that has no notation of its own put in (`substituted`) before it is
    printed, so that brackets follow what is printed: x·(∂_2 L(1, 1) + ∂_1 L(1, 1)), not x·∂_2 L(1, 1) + ...."""
    if not expr.has(sympy.Subs):
        return expr

    def own_notation(e: sympy.Subs) -> bool:
        return partial_form(e) is not None or prime_form(e) is not None or at_number_form(e)

    return expr.replace(lambda e: isinstance(e, sympy.Subs) and not own_notation(e), substituted)


def _function_name(expr: sympy.Function) -> str:
    return type(expr).__name__


_PRINTER = PlainTextPrinter({"order": None})
_PRINTER_AS_BUILT = PlainTextPrinter({"order": "none"})


def _printed(printer: Printer, as_built: Printer, expr: sympy.Basic) -> str:
    """`expr` printed; with its terms in the order sympy built them when ordering them fails: sympy orders a
    sum's terms by their values, and x + exp(exp(exp(exp(10)))) has one too large to compute."""
    try:
        return printer.doprint(expr)
    except ArithmeticError:
        return as_built.doprint(expr)


def to_text(expr: sympy.Basic) -> str:
    """Plain text that derive.parse reads back to an equal expression (`x^2*sin(x)`, `dE/dz`)."""
    return _printed(_PRINTER, _PRINTER_AS_BUILT, _displayable(expr)).replace("**", "^")


# sympy writes omicron as o, and \pi is the constant: both are set in \mathrm like any other word
# \varphi and \phi are two names, as papers use them for two quantities (derive.parse reads them so)
_GREEK_WORDS = (frozenset(GREEK_LETTERS.values()) - {"omicron", "pi"}) | {
    "varepsilon", "vartheta", "varphi", "varrho", "varsigma"}
_ACCENTS_READ = ("hat", "bar", "tilde", "dot", "vec")  # as derive's LaTeX reader reads \hat{y} (a letter only)
_SCRIPTS_READ = ("cal", "scr")  # \mathcal{L} and \mathscr{L}, read as Lcal and Lscr
_OPERATORS = (r"\frac{d}{", r"\frac{d^", r"\frac{\partial}{", r"\frac{\partial^")


class DeriveLatexPrinter(LatexPrinter):
    """sympy's LaTeX with the notations derive reads back and a reader expects: `\\frac{dE}{dy}` for a
    Leibniz derivative, `f'\\left(g(x)\\right)` for sympy's `Subs(Derivative(f(t), t), t, g(x))`."""

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        # sympy writes `net` as n·e·t would be written, `ell` as \ell and `alphahat` as \hat{\alpha},
        # none of which read back: a word that is not a letter, a Greek letter or a letter with an
        # accent derive reads is set in \mathrm, in the name and in its subscripts.
        if expr.name == "sigma":  # braced: \sigma \left(x\right) reads as the sigmoid of x, not σ·x
            return r"{\sigma}"
        return self._name(expr.name, r"\mathrm")

    def _hprint_Function(self, func: str) -> str:
        """The name of an applied function of the user's, written as its symbol would be (y_{\\mathrm{out}},
        \\hat{y}, x_{1_2}), a word in \\operatorname; sympy's y_{out} reads as y_o·u·t."""
        if func in accepted_latex_functions:
            return super()._hprint_Function(func)
        return self._name(func, r"\operatorname")

    def _name(self, name: str, command: str) -> str:
        base, supers, subs = split_super_sub(name)
        text = self._word(base, command)
        if supers:
            text += "^{" + " ".join(self._word(s, r"\mathrm", accents=False) for s in supers) + "}"
        if subs:  # x_1_2 is x_{1_2}: x_{1 2} would read as x12
            text += "_{" + "_".join(self._index(s) for s in subs) + "}"
        return text

    def _index(self, word: str) -> str:
        """A subscript: x_nplus1 as x_{n+1}, as it was read (derive.parse.latex_name)."""
        return _signed_index(word) or self._word(word, r"\mathrm", accents=False)

    @staticmethod
    def _word(word: str, command: str, accents: bool = True) -> str:
        """One part of a name; an accent reads back on a name's first letter only (w_{\\hat{x}} is w_hatx)."""
        if len(word) <= 1 or word.isdigit() or word in _GREEK_WORDS:
            return translate(word)
        if accents and word[0].isalpha() and word[1:] in _ACCENTS_READ:
            return rf"\{word[1:]}{{{word[0]}}}"
        if word[0].isalpha() and word[1:] in _SCRIPTS_READ:  # Lcal is \mathcal{L}, as it was read
            return rf"\math{word[1:]}{{{word[0]}}}"
        accent = next((a for a in _ACCENTS_READ if accents and word.endswith(a) and word[:-len(a)] in _GREEK_WORDS),
                      None)
        if accent is not None:  # alphahat is \hat{\alpha}, as it reads back
            return rf"\{accent}{{{translate(word[:-len(accent)])}}}"
        return rf"{command}{{{word}}}"

    def _leibniz(self, name: sympy.Basic) -> str:
        """A name after the d of a Leibniz derivative, where a brace would end the d: \\frac{d\\sigma}{dz}."""
        if isinstance(name, sympy.Symbol) and name.name == "sigma":
            return r"\sigma"
        return self._print(name)

    def _print_DiracDelta(self, expr: sympy.Expr, exp: object = None) -> str:
        # the derivative of the step, which derive writes heaviside' (sympy's \delta would be a function δ)
        order = 1 + (int(expr.args[1]) if len(expr.args) > 1 else 0)
        text = rf"\operatorname{{heaviside}}{chr(39) * order}\left({self._print(expr.args[0])}\right)"
        return rf"\left({text}\right)^{{{exp}}}" if exp is not None else text

    def _print_Heaviside(self, expr: sympy.Expr, exp: object = None) -> str:
        # sympy's \theta(x) would read back as a function θ of the reader's
        text = rf"\operatorname{{heaviside}}\left({self._print(expr.args[0])}\right)"
        return rf"{text}^{{{exp}}}" if exp is not None else text

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        (var, order), *rest = expr.variable_count
        inner = expr.expr
        # dσ/dz of a variable σ would read back as the sigmoid's derivative: written d/dz σ instead
        leibniz = isinstance(inner, sympy.Symbol) and inner.name != "sigma"
        if not rest and order == 1 and leibniz and isinstance(var, sympy.Symbol | AppliedUndef):
            return rf"\frac{{d{self._leibniz(inner)}}}{{d{self._leibniz(var)}}}"
        if not rest and leibniz and isinstance(var, sympy.Symbol):  # d^2E/dy^2
            return rf"\frac{{d^{{{order}}}{self._leibniz(inner)}}}{{d{self._leibniz(var)}^{{{order}}}}}"
        if not rest and isinstance(inner, AppliedUndef) and inner.args == (var,):
            return self._prime(inner, order, var)
        return self._operator(expr)

    def _operator(self, expr: sympy.Derivative) -> str:
        """\\frac{d}{d x} applied: one operator per variable, innermost last (sympy's \\frac{\\partial^{2}}
        {\\partial q \\partial p} does not read back), the variable as after a d (\\sigma, not {\\sigma}), a
        sum or a sign bracketed."""
        inner = expr.expr
        d = r"\partial" if requires_partial(expr) else "d"
        negative = any(arg.could_extract_minus_sign() for arg in expr.args)
        text = self.parenthesize(inner, PRECEDENCE["Mul"], is_neg=negative, strict=True)
        for v, n in expr.variable_count:
            name = self._leibniz(v)
            operator = rf"\frac{{{d}}}{{{d} {name}}}" if n == 1 else rf"\frac{{{d}^{{{n}}}}}{{{d} {name}^{{{n}}}}}"
            text = f"{operator} {text}"
        return text

    def _prime(self, function: sympy.Function, order: int, point: sympy.Basic) -> str:
        if isinstance(function, AppliedUndef):  # as its applications print: \operatorname{loss}, y_{\mathrm{out}}
            head = self._hprint_Function(type(function).__name__)
        elif function.func is sympy.exp:  # printed e^{x}, which has no head to prime
            head = r"\exp"
        else:  # a known function: its own symbol (\sin, \sigma) with the prime
            head = re.sub(r"\s*(\{\\left\(|\\left\().*$", "", self._print(function.func(sympy.Symbol("_"))))
        return rf"{head}{chr(39) * order}\left({self._print(point)}\right)"

    def _print_Subs(self, expr: sympy.Subs) -> str:
        partial = partial_form(expr)
        if partial is not None:
            return self._partial(*partial)
        form = prime_form(expr)
        if form is not None:
            return self._prime(*form)
        if at_number_form(expr):  # \frac{dE}{dz}\left(0\right), which reads back
            return rf"{self._print(expr.expr)}\left({self._print(expr.point[0])}\right)"
        return super()._print_Subs(expr)  # one `_displayable` could not put in

    def _partial(self, applied: sympy.Expr, slots: tuple[int, ...]) -> str:
        return "".join(rf"\partial_{{{k}}}" for k in slots) + " " + self._print(applied)

    def _needs_mul_brackets(self, expr: sympy.Expr, first: bool = False, last: bool = False) -> bool:
        # \frac{d}{dx} takes the rest of a product when read back, so a derivative that does not end the
        # product is bracketed: \left(\frac{d}{dx} x^{2}\right) \partial_{1} g(x^2, y)
        if not last and isinstance(expr, sympy.Derivative) and self._print(expr).startswith(_OPERATORS):
            return True
        return super()._needs_mul_brackets(expr, first=first, last=last)


_LATEX_PRINTER = DeriveLatexPrinter()
_LATEX_PRINTER_AS_BUILT = DeriveLatexPrinter({"order": "none"})


def to_latex(expr: sympy.Basic) -> str:
    """LaTeX that derive's LaTeX reader reads back to an equal expression."""
    return _printed(_LATEX_PRINTER, _LATEX_PRINTER_AS_BUILT, _displayable(expr))


def derivative_to_latex(expr: sympy.Expr, var: sympy.Symbol) -> str:
    """d/dvar of expr written as the operator applied, `\\frac{d}{d x} g{\\left(x \\right)}`, where to_latex
    would write the derivative of a function of its variable with a prime."""
    return _LATEX_PRINTER._operator(sympy.Derivative(_displayable(expr), var))


def definition_to_latex(name: str, params: Sequence[sympy.Symbol], expr: sympy.Expr) -> tuple[str, str]:
    """The two sides of a definition in LaTeX that reads back as it: `y`, or `y\\left(z\\right)` for a
    function (sympy's y{\\left(z \\right)} is an application, not a definition's head)."""
    if not params:
        return to_latex(sympy.Symbol(name)), to_latex(expr)
    # as its applications print (y_{\mathrm{out}}, \operatorname{act}); \sigma would be the sigmoid
    called = _LATEX_PRINTER._hprint_Function(name) if name != "sigma" else r"\operatorname{sigma}"
    return rf"{called}\left({', '.join(to_latex(p) for p in params)}\right)", to_latex(expr)


class DeriveMathMLPrinter(MathMLPresentationPrinter):
    """sympy's presentation MathML, with σ for the sigmoid and the parentheses of -(a - y) kept."""

    def _print_Mul(self, expr: sympy.Mul) -> object:
        if expr.args and expr.args[0] == -1:  # sympy drops the brackets of -(a - y) built unevaluated
            rest = expr.args[1:]
            body = rest[0] if len(rest) == 1 else sympy.Mul(*rest, evaluate=False)
            row = self.dom.createElement("mrow")
            minus = self.dom.createElement("mo")
            minus.appendChild(self.dom.createTextNode("-"))
            row.appendChild(minus)
            inner = self._print(body)
            row.appendChild(self._parentheses(inner) if isinstance(body, sympy.Add) else inner)
            return row
        return super()._print_Mul(expr)

    def _parentheses(self, node: object) -> object:
        """( node ) with <mo> brackets: browsers implement MathML Core, which has no <mfenced>."""
        row = self.dom.createElement("mrow")
        for part in ("(", node, ")"):
            if isinstance(part, str):
                bracket = self.dom.createElement("mo")
                bracket.appendChild(self.dom.createTextNode(part))
                row.appendChild(bracket)
            else:
                row.appendChild(part)
        return row

    def _print_Derivative(self, expr: sympy.Derivative) -> object:
        """dE/dy as one fraction, the way backpropagation is written."""
        if (isinstance(expr.expr, sympy.Symbol) and len(expr.variable_count) == 1
                and isinstance(expr.variable_count[0][0], sympy.Symbol) and expr.variable_count[0][1] == 1):
            fraction = self.dom.createElement("mfrac")
            for name in (expr.expr, expr.variable_count[0][0]):
                row = self.dom.createElement("mrow")
                d = self.dom.createElement("mi")
                d.setAttribute("mathvariant", "normal")
                d.appendChild(self.dom.createTextNode("d"))
                row.appendChild(d)
                row.appendChild(self._print(name))
                fraction.appendChild(row)
            return fraction
        return super()._print_Derivative(expr)

    def _print_sigmoid(self, expr: sympy.Function) -> object:
        row = self.dom.createElement("mrow")
        name = self.dom.createElement("mi")
        name.appendChild(self.dom.createTextNode("σ"))
        row.appendChild(name)
        row.appendChild(self._parentheses(self._print(expr.args[0])))
        return row


_MATHML_PRINTER = DeriveMathMLPrinter()


def to_mathml_equation(lhs: sympy.Basic, rhs: sympy.Basic) -> str:
    """One `<math>` element showing `lhs = rhs`, for pages that must render without scripts."""
    left = _MATHML_PRINTER.doprint(lhs)
    right = _MATHML_PRINTER.doprint(rhs)
    return f'<math display="block"><mrow>{left}<mo>=</mo>{right}</mrow></math>'


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class UnicodePrinter(PlainTextPrinter):
    """Terminal math: x²·cos(x), σ(z), −(a − y), √(x); one line per expression, unlike sympy's pretty()."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        if exponent.is_Integer and 1 < abs(int(exponent)) < 100 and (exponent > 0 or base.is_Symbol):
            text = self.parenthesize(base, precedence(expr), strict=True)
            return text + str(int(exponent)).translate(_SUPERSCRIPT)
        if exponent == sympy.S.Half:
            return f"√({self._print(base)})"
        return super()._print_Pow(expr, rational)

    def _print_sigmoid(self, expr: sympy.Function) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _name(self, name: str) -> str:
        """Greek names as Greek letters (alpha_1 is α_1), as the contract asks of every output."""
        return _GREEK_NAME.sub(lambda m: _GREEK[m.group()], name)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self._name(super()._print_Symbol(expr))

    def _print_Function(self, expr: sympy.Function, *args: object, **kwargs: object) -> str:
        text = super()._print_Function(expr, *args, **kwargs)
        if isinstance(expr, AppliedUndef):
            head = _function_name(expr)
            return self._name(head) + text[len(head):]
        return text

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        return super()._print_Derivative(expr).replace("diff(", "d/d(")

    def _partial(self, slots: tuple[int, ...]) -> str:
        return "".join(f"∂{str(k).translate(_SUBSCRIPT)}" for k in slots)


# A Greek name, alone or before a subscript (alpha, alpha_1, alpha1), never the start of a longer word.
_GREEK = {word: letter for letter, word in GREEK_LETTERS.items() if letter not in "ϵϑϕςµπ"}
_GREEK_NAME = re.compile(r"^(" + "|".join(sorted(_GREEK, key=len, reverse=True)) + r")(?=_|\d|$)")
_UNICODE = UnicodePrinter({"order": None})
_UNICODE_AS_BUILT = UnicodePrinter({"order": "none"})
_SIGNED_INDEX = re.compile(r"^(.*)(plus|minus)([A-Za-z]|[0-9]+)$")  # the last sign of n+1, t-1, i+j, -1, 2n+k+1
_SIMPLE_INDEX = re.compile(r"^[0-9]*[A-Za-z]?$")


def _signed_index(word: str) -> str | None:
    """An index with signs (nplus1, 2npluskminus1, minus1) as written, n+1; None for any other word."""
    m = _SIGNED_INDEX.match(word)
    if m is None:
        return None
    head = m.group(1) if _SIMPLE_INDEX.match(m.group(1)) else _signed_index(m.group(1))
    if head is None:
        return None
    return f"{head}{'+' if m.group(2) == 'plus' else '-'}{m.group(3)}"


def to_unicode(expr: sympy.Basic) -> str:
    """Readable one-line math for a terminal; not meant to be parsed back (use `to_text` for that)."""
    text = _printed(_UNICODE, _UNICODE_AS_BUILT, _displayable(expr)).replace("**", "^")
    return text.replace("*", "·").replace(" - ", " − ").replace("(-", "(−")


# --- the JSON's "sympy" strings ------------------------------------------------------------------


class SympyStringPrinter(StrPrinter):
    """sympy's str(), except for a name sympify would read as something else: a variable E, I, gamma or
    E1 (sympy's constants and functions), sum (Python's) or lambda (a keyword), is written Symbol('E'),
    and an abstract function input(x) Function('input')(x), so that sympify rebuilds every string (the
    contract, section 4)."""

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        text = super()._print_Symbol(expr)
        return f"Symbol({expr.name!r})" if type(expr) is sympy.Symbol and _taken(expr.name) else text

    def _print_Function(self, expr: sympy.Function, *args: object, **kwargs: object) -> str:
        name = type(expr).__name__
        if isinstance(expr, AppliedUndef) and _taken(name):
            return f"Function({name!r})({self.stringify(expr.args, ', ')})"
        return super()._print_Function(expr, *args, **kwargs)


def _taken(name: str) -> bool:
    """Whether sympify reads `name` as something other than a new symbol."""
    return name in _taken_names() or not name.isidentifier()


@functools.lru_cache(maxsize=1)
def _taken_names() -> frozenset[str]:
    import builtins
    import keyword

    # What `from sympy import *` brings into sympify's namespace, Python's builtins (which it reaches too:
    # sum(x) would call Python's sum, input(x) wait on the keyboard), and what Python reserves.
    return frozenset(sympy.__all__) | frozenset(dir(builtins)) | frozenset(keyword.kwlist)


_SYMPY_STRINGS = SympyStringPrinter({"order": None})
_SYMPY_STRINGS_AS_BUILT = SympyStringPrinter({"order": "none"})


def to_sympy_string(expr: sympy.Basic) -> str:
    """The JSON's "sympy", "lhs", "rhs" and "expected" strings: str(expr), rebuilt by sympify."""
    return _printed(_SYMPY_STRINGS, _SYMPY_STRINGS_AS_BUILT, expr)
