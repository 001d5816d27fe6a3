"""One table of symbols and abstract functions, so that `x` is always the same sympy object."""

from __future__ import annotations

from functools import cache

import sympy

# Unicode Greek letters typed directly are stored under their spelled-out names, so `α` and `alpha`
# are one symbol and both print as \alpha.
GREEK_LETTERS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda",
    "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "ρ": "rho", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "σ": "sigma",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}


def normalize_name(name: str) -> str:
    """Spell out Greek letters (`α_1` -> `alpha_1`) and drop braces around subscripts (`w_{12}` -> `w_12`)."""
    out = "".join(GREEK_LETTERS.get(ch, ch) for ch in name)
    return out.replace("{", "").replace("}", "")


@cache
def symbol(name: str) -> sympy.Symbol:
    """The real symbol called `name`; real so that sympy may simplify sqrt(x^2) and |x| as on paper."""
    return sympy.Symbol(normalize_name(name), real=True)


@cache
def function(name: str) -> sympy.core.function.UndefinedFunction:
    """The abstract (undefined) function called `name`, e.g. the `y` of `y(z)`."""
    return sympy.Function(normalize_name(name), real=True)
