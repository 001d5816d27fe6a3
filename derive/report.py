"""The outcome of checking a derivation: one `StepCheck` per `=`, gathered in a `Report`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy

from derive.definitions import Definition
from derive.printing import to_latex, to_mathml_equation, to_sympy_string, to_text
from derive.verify import Verdict

if TYPE_CHECKING:
    from derive.givens import Given

MARKS: dict[Verdict, str] = {
    Verdict.PROVED: "✓",
    Verdict.CONFIRMED: "≈",
    Verdict.REFUTED: "✗",
    Verdict.UNKNOWN: "?",
}


@dataclass(frozen=True)
class StepCheck:
    """One `=` of a derivation: both sides as written, the verdict and, for a wrong step, what went wrong.

    `expected` is what the left side really is (in the leaf variables); `diagnosis` names a classic
    mistake when the right side matches one exactly, and is None otherwise.
    """

    line: int
    k: int
    lhs: sympy.Expr
    rhs: sympy.Expr
    verdict: Verdict
    counterexample: dict[str, str] | None = field(default=None, hash=False)
    expected: sympy.Expr | None = None
    diagnosis: str | None = None
    note: str | None = None
    lhs_value: str | None = None
    rhs_value: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.PROVED, Verdict.CONFIRMED)

    @property
    def mark(self) -> str:
        return MARKS[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """The contract's step keys (section 4), then extras: note, values at the counterexample, LaTeX."""
        return {
            "line": self.line,
            "k": self.k,
            "lhs": to_sympy_string(self.lhs),
            "rhs": to_sympy_string(self.rhs),
            "verdict": self.verdict.value,
            "counterexample": dict(self.counterexample) if self.counterexample is not None else None,
            "expected": to_sympy_string(self.expected) if self.expected is not None else None,
            "diagnosis": self.diagnosis,
            "note": self.note,
            "lhs_value": self.lhs_value,
            "rhs_value": self.rhs_value,
            "lhs_latex": to_latex(self.lhs),  # derive's LaTeX, which reads back (sympy's writes Subs as |_)
            "rhs_latex": to_latex(self.rhs),
        }

    @property
    def shows_expected(self) -> bool:
        """Whether `expected` says more than the left side as written (sin(x) = cos(x): sin(x) is sin(x))."""
        return self.expected is not None and self.expected != self.lhs

    def to_text(self, *, number: int | None = None) -> str:
        """A line with the verdict mark and the step; for a wrong step, the evidence on indented lines."""
        where = f"line {self.line}" + (f" (step {number})" if number is not None else "")
        head = f"{self.mark} {where}: {to_text(self.lhs)} = {to_text(self.rhs)}   [{self.verdict.value}]"
        lines = [head]
        if self.counterexample:
            point = ", ".join(f"{name} = {value}" for name, value in self.counterexample.items())
            lines.append(f"    counterexample: {point}")
        if self.lhs_value is not None and self.rhs_value is not None:
            lines.append(f"    there the left side is {self.lhs_value}, the right side {self.rhs_value}")
        if self.shows_expected:
            lines.append(f"    expected: {to_text(self.lhs)} = {to_text(self.expected)}")
        if self.diagnosis:
            lines.append(f"    diagnosis: {self.diagnosis}")
        if self.note:
            lines.append(f"    note: {self.note}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Report:
    """Every step of a derivation, in order; `ok` when none is refuted or unknown."""

    steps: tuple[StepCheck, ...]
    definitions: tuple[Definition, ...] = ()
    givens: tuple[Given, ...] = ()  # the `given` lines, which the steps below them may hold on

    @property
    def first_error(self) -> StepCheck | None:
        """The first step that is refuted or unknown (the same object as in `steps`), or None."""
        return next((step for step in self.steps if not step.ok), None)

    @property
    def ok(self) -> bool:
        return self.first_error is None

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON (section 4)."""
        first = self.first_error
        return {
            "ok": self.ok,
            "first_error": {"line": first.line, "k": first.k} if first is not None else None,
            "steps": [step.to_dict() for step in self.steps],
        }

    def to_text(self) -> str:
        """One block per step, then a summary line."""
        per_line: dict[int, int] = {}
        for step in self.steps:
            per_line[step.line] = per_line.get(step.line, 0) + 1
        blocks = [
            step.to_text(number=step.k + 1 if per_line[step.line] > 1 else None) for step in self.steps
        ]
        counts = {verdict: sum(step.verdict is verdict for step in self.steps) for verdict in Verdict}
        summary = ", ".join(f"{n} {verdict.value}" for verdict, n in counts.items() if n)
        if not self.steps:
            summary = "no steps to check"
        verdict = "every step holds" if self.ok else f"first error on line {self.first_error.line}"
        blocks.append(f"{summary}: {verdict}" if self.steps else summary)
        return "\n".join(blocks)

    def to_markdown(self) -> str:
        """One list item per step with its verdict mark and the equation in a `$$` block, for notebooks."""
        items = []
        for step in self.steps:
            head = f"{len(items) + 1}. line {step.line}" + (f", step {step.k + 1}" if step.k else "")
            items.append(f"{head}: {MARKS[step.verdict]} {step.verdict.value}\n\n"
                         f"$$\n{to_latex(step.lhs)} = {to_latex(step.rhs)}\n$$\n")
            if not step.ok:
                items.extend(f"   {line.strip()}\n" for line in step.to_text().splitlines()[1:] if line.strip())
        summary = "every step holds" if self.ok else f"first error on line {self.first_error.line}"
        return "\n".join(items) + f"\n**{summary}**\n"

    def to_html(self) -> str:
        """A table of steps with MathML equations: displays without scripts in a notebook or a browser."""
        rows = "".join(
            f"<tr><td>{step.line}</td><td>{to_mathml_equation(step.lhs, step.rhs)}</td>"
            f'<td title="{step.verdict.value}">{MARKS[step.verdict]}</td>'
            f"<td>{html.escape(step.diagnosis or step.note or '')}</td></tr>"
            for step in self.steps
        )
        summary = "every step holds" if self.ok else f"first error on line {self.first_error.line}"
        return f"<table>{rows}</table><p>{html.escape(summary)}</p>"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

