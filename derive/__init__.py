"""derive: step-by-step derivatives and derivation checking, every step verified by sympy."""

from __future__ import annotations

from derive.check import check
from derive.derivation import Derivation, Step
from derive.errors import DefinitionError, DeriveError, LimitError, ParseError
from derive.functions import relu, sigmoid, softplus
from derive.parse import parse
from derive.report import Report, StepCheck
from derive.rewrite import differentiate
from derive.verify import Verdict

__version__ = "0.1.0"

__all__ = [
    "DefinitionError",
    "Derivation",
    "DeriveError",
    "LimitError",
    "ParseError",
    "Report",
    "Step",
    "StepCheck",
    "Verdict",
    "__version__",
    "check",
    "differentiate",
    "parse",
    "relu",
    "sigmoid",
    "softplus",
]
