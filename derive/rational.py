"""A quick exact proof that an expression is zero as a rational function of its parts.

Each part that is not + - * /, an integer power or an exponential (sin(x), sqrt(x), f'(x)) is an
unknown of its own, and an exponential is split into powers of e^(one term). The arithmetic runs in
sympy's sparse polynomials: no assumption asked and no gcd taken, where sympy's together and cancel
ask many and take several. Denominators are kept as products of the factors they are written with,
so that a sum over S and S^2 is put over S^2, not S^3: the numerators of a softmax's derivative stay
small instead of growing with every term.
"""

from __future__ import annotations

import sympy
from sympy.polys.rings import PolyElement

__all__ = ["exponential_parts", "vanishes_as_rational_function"]

Denominator = dict[PolyElement, int]  # each factor as written, with its power


def exponential_parts(e: sympy.exp) -> list[tuple[sympy.Expr, int]]:
    """e^(a + b + ...) as (exponent, power) pairs, e^(2z - y + 1/2) as (z, 2), (y, -1), (1/2, 1): the
    whole multiple of each term's symbolic part, so e^(2z) and e^(-z) are powers of one e^z. Exact for
    every complex value; a number's exponential stays whole."""
    parts = []
    for term in sympy.Add.make_args(e.args[0]):
        k, m = term.as_coeff_Mul()
        parts.append((m, int(k)) if k.is_Integer and not m.is_Number else (term, 1))
    return parts


def vanishes_as_rational_function(expr: sympy.Expr) -> bool:
    """Is `expr` zero as a rational function of its symbols and of everything else that is not + - * /,
    an integer power or an exponential, each such part taken as an unknown of its own?

    Zero for independent unknowns is zero for any values they take, so this proves; it cannot use
    other relations between the parts (sin^2 + cos^2 = 1), which sympy's cancel may find next.
    Raises ZeroDivisionError when a denominator is identically zero.
    """
    # Matrices and operators are products that do not commute (MatMul is a Mul): not rational functions.
    if not expr.is_commutative or expr.has(sympy.Float):
        return False
    unknowns: dict[object, int] = {}

    def collect(e: sympy.Basic) -> None:
        if type(e) in (sympy.Add, sympy.Mul):  # exactly: a matrix sum or product is one of them too
            for a in e.args:
                collect(a)
        elif type(e) is sympy.Pow and e.exp.is_Integer:
            collect(e.base)
        elif type(e) is sympy.exp:
            for exponent, _ in exponential_parts(e):
                unknowns.setdefault(("exp", exponent), len(unknowns))
        elif not isinstance(e, sympy.Rational):
            unknowns.setdefault(e, len(unknowns))

    collect(expr)
    if not unknowns:
        return expr == 0
    ring, *generators = sympy.polys.rings.ring([f"u{k}" for k in range(len(unknowns))], sympy.QQ)

    def power(numerator: PolyElement, denominator: Denominator, k: int) -> tuple[PolyElement, Denominator]:
        """(n/d)^k: a negative power turns the numerator into the one factor of the denominator."""
        if k == 0:
            return ring.one, {}
        if k > 0:
            return numerator**k, {f: m * k for f, m in denominator.items()}
        if not numerator:
            raise ZeroDivisionError("a power of zero with a negative exponent")
        flipped = ring.one
        for f, m in denominator.items():
            flipped *= f ** (m * -k)
        return flipped, {numerator: -k}

    def fraction(e: sympy.Basic) -> tuple[PolyElement, Denominator]:
        """(numerator, denominator as factors), nothing cancelled."""
        if isinstance(e, sympy.Rational):
            return ring(e), {}
        if type(e) is sympy.Add:
            parts = [fraction(a) for a in e.args]
            common: Denominator = {}
            for _, denominator in parts:
                for f, m in denominator.items():
                    common[f] = max(common.get(f, 0), m)
            total = ring.zero
            for numerator, denominator in parts:
                for f, m in common.items():
                    if m > denominator.get(f, 0):
                        numerator *= f ** (m - denominator.get(f, 0))
                total += numerator
            return total, common
        if type(e) is sympy.Mul:
            product, factors = ring.one, {}
            for a in e.args:
                numerator, denominator = fraction(a)
                product *= numerator
                for f, m in denominator.items():
                    factors[f] = factors.get(f, 0) + m
            return product, factors
        if type(e) is sympy.Pow and e.exp.is_Integer:
            return power(*fraction(e.base), int(e.exp))
        if type(e) is sympy.exp:
            product, factors = ring.one, {}
            for exponent, k in exponential_parts(e):
                numerator, denominator = power(generators[unknowns["exp", exponent]], {}, k)
                product *= numerator
                for f, m in denominator.items():
                    factors[f] = factors.get(f, 0) + m
            return product, factors
        return generators[unknowns[e]], {}

    return not fraction(expr)[0]
