"""derive: step-by-step derivatives and derivation checking, every step verified by sympy."""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The public names load on first use (PEP 562), so that `import derive` and `derive --help` do not
# pay for sympy, lark and the grammars.
_LAZY: dict[str, str] = {
    "DefinitionError": "derive.errors",
    "DeriveError": "derive.errors",
    "LimitError": "derive.errors",
    "ParseError": "derive.errors",
    "Derivation": "derive.derivation",
    "Step": "derive.derivation",
    "Report": "derive.report",
    "StepCheck": "derive.report",
    "Verdict": "derive.verify",
    "check": "derive.check",
    "differentiate": "derive.rewrite",
    "parse": "derive.parse",
    "relu": "derive.functions",
    "sigmoid": "derive.functions",
    "softplus": "derive.functions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package module, keeping `derive.check` and `derive.parse` the functions of those names.

    Loading a submodule makes the import system set the package attribute of its name to the
    submodule; an eager `from derive.check import check` used to set it back, a lazy one cannot.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
