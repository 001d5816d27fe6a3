"""A derivation: verified steps and the result, with its JSON form (contract section 4) and renderings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy

from derive import render
from derive.definitions import Definition
from derive.printing import to_sympy_string
from derive.verify import Verdict


@dataclass(frozen=True)
class Step:
    """One line `before = after`, the rule that justifies it and the verifier's verdict on it."""

    rule: str
    explanation: str
    before: sympy.Expr
    after: sympy.Expr
    verdict: Verdict
    note: str | None = None

    @cached_property
    def latex(self) -> str:
        """The equation `before = after` in LaTeX (printed when first asked for: printing is not free)."""
        return render.step_latex(self.before, self.after)

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.PROVED, Verdict.CONFIRMED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "explanation": self.explanation,
            "latex": self.latex,
            "sympy": to_sympy_string(self.after),
            "verdict": Verdict(self.verdict).value,
        }


@dataclass(frozen=True)
class Derivation:
    """The steps of d/d(wrt) of the input and the result in the leaf variables (named functions kept)."""

    steps: tuple[Step, ...]
    result: sympy.Expr
    input: str
    wrt: str
    where: tuple[str, ...] = ()
    style: str = "expand"
    # The name the Leibniz style gives the expression when no definition names it (E = ...), and the
    # definitions given (`where`): the LaTeX output states them above its steps, so that it checks as it
    # stands (`derive diff ... --format latex | derive check`); the text output names E.
    named: Definition | None = None
    definitions: tuple[Definition, ...] = ()
    expression: sympy.Expr | None = None  # the input as read (with no steps, `d/dz f(z) = f'(z)` is shown)

    @property
    def ok(self) -> bool:
        """Every step proved or confirmed."""
        return all(step.ok for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "wrt": self.wrt,
            "where": list(self.where),
            "style": self.style,
            "ok": self.ok,
            "result": {
                "text": render.plain(self.result),
                "latex": render.tex(self.result),
                "sympy": to_sympy_string(self.result),
            },
            "steps": [step.to_dict() for step in self.steps],
        }

    def to_latex(self) -> str:
        return render.to_latex(self)

    def to_markdown(self) -> str:
        return render.to_markdown(self)

    def to_text(self) -> str:
        return render.to_text(self)

    def to_html(self) -> str:
        return render.to_html(self)

    def _repr_latex_(self) -> str:
        return self.to_latex()  # MathJax in Jupyter renders an align* environment as it is

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return render.to_html_fragment(self)  # a notebook's page holds it: no page of its own
