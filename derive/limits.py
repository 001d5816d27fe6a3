"""Resource limits checked before sympy sees anything, so hostile input fails fast with a clear error.

Text limits (length, lines, nesting, parse-tree size, digits) are checked on the text and the parse tree.
Number limits are checked while the parser builds sympy objects, *before* each constructor runs: sympy
evaluates exact numbers eagerly, so `2^(10^10)`, `(2x)^(10^10)`, `sqrt(2)^(10^10)` and `exp(10^10 log(2))`
would each compute a number of billions of digits inside one C call that no time bound can stop. The
estimates below are upper bounds on the size of the numbers sympy would compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy


@dataclass(frozen=True)
class Limits:
    """Bounds on what one call may ask of derive; each is documented in docs/limits.md."""

    max_expression_chars: int = 20_000  # one expression or one statement line
    max_text_chars: int = 1_000_000  # a whole derivation text
    max_input_bytes: int = 16_000_000  # a file or standard input as read by the CLI (a Markdown page of many)
    max_lines: int = 20_000  # statements in one derivation
    max_depth: int = 120  # nested brackets, and nesting of the parse tree / 4
    max_nodes: int = 50_000  # parse-tree nodes in one expression
    max_digits: int = 300  # digits in one number literal
    # Bits of any exact number an expression builds: powers (2^(10^10), 9^9^9^9), products and sums.
    # About 3,000 digits; Python refuses to print integers beyond 4,300 digits, and sympy prints numbers
    # to sort them.
    max_power_bits: int = 10_000
    # Bits of a number under a root (sqrt, x^(1/3), x^(3/2)): sympy factors it to simplify the root.
    max_root_bits: int = 1_024
    max_steps: int = 5_000  # steps of one derivation
    # The isolated worker (derive.worker): address space it may map beyond its size when it starts.
    worker_memory_mb: int = 2_048
    # verify_equal runs in the worker when one side has more operations than this, or huge constants.
    # Size alone keeps sympy in Python code, which a signal bound stops; only very large sides go.
    isolate_ops: int = 5_000
    isolate_digits: int = 200  # ... or an exact number or float exponent with more digits than this
    # derive.check / derive.differentiate called from a thread other than the main one run whole in the
    # worker (no signal bound works there); this bounds the whole call.
    call_seconds: float = 600.0


DEFAULT_LIMITS = Limits()


def rational_bits(r: sympy.Rational) -> float:
    """log2 of the larger of |numerator| and denominator: the size of r in bits."""
    return math.log2(max(abs(int(r.p)), int(r.q), 1))


def coefficient_bits(expr: sympy.Expr) -> float:
    """Size of the exact numbers that a power of expr makes sympy compute, per unit of exponent.

    (2x)^n is 2^n x^n, sqrt(2)^n is 2^(n/2) and (2^(1/3))^n is 2^(n/3); (x^2)^n, (x + 1)^n and e^n stay
    symbolic.
    """
    if isinstance(expr, sympy.Rational):
        return rational_bits(expr)
    if isinstance(expr, sympy.Mul):
        return sum(coefficient_bits(arg) for arg in expr.args)
    if isinstance(expr, sympy.Pow) and isinstance(expr.base, sympy.Rational):
        exponent = expr.exp
        scale = abs(float(exponent)) if isinstance(exponent, sympy.Rational) else 0.0
        return rational_bits(expr.base) * scale
    return 0.0


def root_bits(expr: sympy.Expr) -> float:
    """Size of the largest exact number a root of expr makes sympy factor (sqrt(4x) is 2 sqrt(x))."""
    if isinstance(expr, sympy.Rational):
        return rational_bits(expr)
    if isinstance(expr, sympy.Mul):
        return max((root_bits(arg) for arg in expr.args), default=0.0)
    if isinstance(expr, sympy.Pow) and isinstance(expr.base, sympy.Rational):
        return rational_bits(expr.base)
    return 0.0


def power_problem(base: sympy.Expr, exponent: sympy.Expr, limits: Limits) -> str | None:
    """Why base^exponent is refused, or None: the exact numbers it computes would be too large."""
    if base is sympy.E:
        return exp_problem(exponent, limits)
    if not isinstance(exponent, sympy.Rational):
        return None
    bits = abs(float(exponent)) * coefficient_bits(base)
    if bits > limits.max_power_bits:
        return f"constant power too large to compute exactly (about {_round(bits)} bits)"
    if not exponent.is_Integer and root_bits(base) > limits.max_root_bits:
        return f"root of a number too large to simplify exactly (about {_round(root_bits(base))} bits)"
    return None


def exp_problem(argument: sympy.Expr, limits: Limits) -> str | None:
    """Why exp(argument) is refused, or None: sympy turns exp(n log(b)) into b^n."""
    logs = argument.atoms(sympy.log) if argument.has(sympy.log) else set()
    if not logs:
        return None
    inner = max((root_bits(log.args[0]) for log in logs), default=0.0)
    scale = max((abs(float(r)) for r in argument.atoms(sympy.Rational)), default=1.0)
    bits = scale * inner
    if bits > limits.max_power_bits:
        return f"constant power too large to compute exactly (about {_round(bits)} bits)"
    return None


def product_problem(factors: list[sympy.Expr], limits: Limits) -> str | None:
    """Why the product of factors is refused, or None: its exact coefficient would be too large."""
    bits = sum(rational_bits(f.as_coeff_Mul()[0]) for f in factors)
    if bits > limits.max_power_bits:
        return f"exact number too large (about {_round(bits)} bits)"
    return None


def sum_problem(terms: list[sympy.Expr], limits: Limits) -> str | None:
    """Why the sum of terms is refused, or None: its common denominator would be too large."""
    denominator = 1
    numerator_bits = 0.0
    for term in terms:
        coefficient = term.as_coeff_Mul()[0]
        denominator = math.lcm(denominator, int(coefficient.q))
        numerator_bits = max(numerator_bits, math.log2(max(abs(int(coefficient.p)), 1)))
        bits = denominator.bit_length() + numerator_bits
        if bits > limits.max_power_bits:
            return f"exact number too large (about {_round(bits)} bits)"
    return None


def number_problem(expr: sympy.Basic, limits: Limits) -> str | None:
    """Why a built expression is refused, or None: one of its exact numbers is too large."""
    bits = max((rational_bits(r) for r in expr.atoms(sympy.Rational)), default=0.0)
    if bits > limits.max_power_bits:
        return f"exact number too large (about {_round(bits)} bits)"
    return None


def _round(bits: float) -> str:
    return f"{bits:,.0f}" if bits < 1e15 else f"{bits:.1e}"
