"""derive: step-by-step derivatives and derivation checking, every step verified by sympy."""

from __future__ import annotations

from derive.errors import DefinitionError, DeriveError, LimitError, ParseError
from derive.functions import relu, sigmoid, softplus
from derive.parse import parse

__version__ = "0.1.0"

__all__ = [
    "DefinitionError",
    "DeriveError",
    "LimitError",
    "ParseError",
    "__version__",
    "parse",
    "relu",
    "sigmoid",
    "softplus",
]
