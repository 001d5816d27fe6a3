"""derive's own named functions: each carries its value, derivative, elementary rewrite and LaTeX.

sympy has no sigmoid, softplus or relu; these classes keep the names a reader expects
(σ(z)(1 - σ(z)) rather than 1/(4 cosh²(z/2))) while `to_elementary` gives the verifier a form
in which sympy computes derivatives on its own, independent of the `fdiff` written here.
"""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter


class sigmoid(sympy.Function):
    """σ(x) = 1/(1 + e^(-x)); σ'(x) = σ(x)(1 - σ(x))."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        # A literal zero: sympy has already folded a sum that is zero to 0, and asking is_zero of each
        # layer's w h + b is an assumption query per layer (a tenth of a 32-layer network's derivation).
        if arg == 0:
            return sympy.Rational(1, 2)
        if arg is sympy.oo:
            return sympy.Integer(1)
        if arg is sympy.S.NegativeInfinity:
            return sympy.Integer(0)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-arg))

    def _eval_rewrite_as_tanh(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return (1 + sympy.tanh(arg / 2)) / 2

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return self._eval_rewrite_as_exp(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: LatexPrinter, exp: object = None) -> str:
        base = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return base if exp is None else rf"\sigma^{{{exp}}}\left({printer._print(self.args[0])}\right)"


class softplus(sympy.Function):
    """softplus(x) = ln(1 + e^x); softplus'(x) = σ(x)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg == 0:  # literal, as sigmoid's
            return sympy.log(2)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.log(1 + sympy.exp(arg))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return self._eval_rewrite_as_exp(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: LatexPrinter, exp: object = None) -> str:
        name = r"\operatorname{softplus}" + (f"^{{{exp}}}" if exp is not None else "")
        return rf"{name}\left({printer._print(self.args[0])}\right)"


class relu(sympy.Function):
    """relu(x) = max(0, x); relu'(x) = H(x), the Heaviside step (undefined at 0)."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg.is_nonnegative:
            return arg
        if arg.is_nonpositive:
            return sympy.Integer(0)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return sympy.Heaviside(self.args[0])

    def _eval_rewrite_as_Max(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Max(0, arg)

    def _eval_rewrite_as_Piecewise(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Piecewise((arg, arg > 0), (0, True))

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return sympy.Max(0, self.args[0])._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_nonnegative(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: LatexPrinter, exp: object = None) -> str:
        name = r"\operatorname{relu}" + (f"^{{{exp}}}" if exp is not None else "")
        return rf"{name}\left({printer._print(self.args[0])}\right)"


NAMED_FUNCTIONS: dict[str, type[sympy.Function]] = {"sigmoid": sigmoid, "softplus": softplus, "relu": relu}

_ELEMENTARY = {
    sigmoid: lambda a: 1 / (1 + sympy.exp(-a)),
    softplus: lambda a: sympy.log(1 + sympy.exp(a)),
    relu: lambda a: sympy.Max(0, a),
}


def to_elementary(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite derive's named functions into elementary ones, innermost first.

    The verifier differentiates this form with sympy's own rules, so a wrong `fdiff` above cannot
    confirm itself.
    """
    if not expr.has(*_ELEMENTARY):
        return expr
    return expr.replace(
        lambda e: type(e) in _ELEMENTARY,
        lambda e: _ELEMENTARY[type(e)](*e.args),
    )
