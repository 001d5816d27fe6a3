"""Resource limits checked before sympy sees anything, so hostile input fails fast with a clear error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on what one call may ask of derive; each is documented in docs/limits.md."""

    max_expression_chars: int = 20_000  # one expression or one statement line
    max_text_chars: int = 1_000_000  # a whole derivation text
    max_lines: int = 20_000  # statements in one derivation
    max_depth: int = 120  # nested brackets, and nesting of the parse tree / 4
    max_nodes: int = 50_000  # parse-tree nodes in one expression
    max_digits: int = 300  # digits in one number literal
    max_power_bits: int = 20_000  # size of an exact constant power such as 2^(10^10)
    max_steps: int = 5_000  # steps of one derivation


DEFAULT_LIMITS = Limits()
