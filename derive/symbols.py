"""One table of symbols and abstract functions, so that `x` is always the same sympy object."""

from __future__ import annotations

import re
from functools import lru_cache

import sympy

from derive import subs_equality  # noqa: F401  (sympy's Subs compared by its points: see that module)

# Unicode Greek letters typed directly are stored under their spelled-out names, so `α` and `alpha`
# are one symbol and both print as \alpha.
GREEK_LETTERS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda",
    "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "ρ": "rho", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "σ": "sigma",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "µ": "mu", "π": "pi",
}
_SUBSCRIPT_DIGITS = re.compile("[₀-₉]+")
_PLAIN_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


_DIGIT_SUBSCRIPT = re.compile(r"(?<=[A-Za-z])_(\d+)$")


@lru_cache(maxsize=8192)  # bounded: one entry per distinct spelling; asked on every lookup of a definition
def normalize_name(name: str) -> str:
    """Spell out Greek letters (`α_1` -> `alpha_1`), drop braces around subscripts (`w_{12}` -> `w_12`)
    and write subscript digits as a subscript (`x₁` -> `x_1`)."""
    out = "".join(GREEK_LETTERS.get(ch, ch) for ch in name)
    out = _SUBSCRIPT_DIGITS.sub(lambda m: "_" + m.group().translate(_PLAIN_DIGITS), out)
    out = out.replace("{", "").replace("}", "")
    # A subscript of digits is part of the name: h2, h_2 and h_{2} are one name, as sympy prints h2 as h_{2}.
    return _DIGIT_SUBSCRIPT.sub(r"\1", out)


@lru_cache(maxsize=8192)  # bounded: one entry per distinct user name
def symbol(name: str) -> sympy.Symbol:
    """The symbol called `name`.

    Plain (no assumptions), so that `derive.parse("x")` is `sympy.Symbol("x")` in the user's own code and
    after `sympify` of our JSON; the verifier reads every symbol as real (see `realify`).
    """
    return sympy.Symbol(normalize_name(name))


@lru_cache(maxsize=8192)  # bounded: one entry per distinct user name
def function(name: str) -> sympy.core.function.UndefinedFunction:
    """The abstract (undefined) function called `name`, e.g. the `y` of `y(z)`."""
    return sympy.Function(normalize_name(name))


@lru_cache(maxsize=8192)  # bounded: one entry per distinct user name
def _real_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


@lru_cache(maxsize=8192)  # bounded: one entry per distinct user name
def _real_function(name: str) -> sympy.core.function.UndefinedFunction:
    return sympy.Function(name, real=True)


def realify(expr: sympy.Basic) -> sympy.Basic:
    """The same expression over real symbols and real-valued abstract functions.

    derive's mathematics is real analysis: with real symbols sympy differentiates |x| to sign(x) instead
    of a formula in re(x) and im(x), and simplifies sqrt(x^2) to |x| as on paper.
    """
    # atoms, not free_symbols: the z of Derivative(y, z) must become the same real z as elsewhere.
    # A symbol that does not commute (an operator) stays as it is: made real, A B would equal B A.
    atoms = expr.atoms(sympy.Symbol, sympy.core.function.AppliedUndef)  # one walk for both kinds
    free = {s: _real_symbol(s.name) for s in atoms
            if isinstance(s, sympy.Symbol) and not isinstance(s, sympy.Dummy) and s.is_real is not True
            and s.is_commutative is not False}
    if free:
        expr = expr.xreplace(free)
    if any(isinstance(f, sympy.core.function.AppliedUndef) and _to_make_real(f) for f in atoms):
        expr = expr.replace(
            lambda e: isinstance(e, sympy.core.function.AppliedUndef) and _to_make_real(e),
            lambda e: _real_function(type(e).__name__)(*e.args),
        )
    return expr


def as_written(expr: sympy.Expr) -> sympy.Expr:
    """Back to the symbols and functions the parser makes (the inverse of `realify`), so that a value
    compares equal to what the user's own code (or sympify of the JSON) builds."""
    # atoms, not free_symbols: the x of d/dx is bound, and the parser makes it the plain x too
    names = {s: symbol(s.name) for s in expr.atoms(sympy.Symbol) if not s.is_Dummy}
    plain = expr.xreplace(names)
    return plain.replace(lambda e: isinstance(e, sympy.core.function.AppliedUndef),
                         lambda e: function(e.func.__name__)(*e.args))


def _to_make_real(application: sympy.Basic) -> bool:
    return application.is_real is not True and application.is_commutative is not False
