"""Derivations as LaTeX, Markdown, plain text and HTML: formatting only, nothing is computed here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Protocol

import sympy

from derive.printing import _MATHML_PRINTER as _MATHML
from derive.printing import definition_to_latex, derivative_to_latex, to_mathml_equation, to_unicode
from derive.printing import to_latex as _latex
from derive.printing import to_text as _plain_text

MARKS = {"proved": "✓", "confirmed": "≈", "refuted": "✗", "unknown": "?"}


class _Step(Protocol):
    rule: str
    explanation: str
    before: sympy.Expr
    after: sympy.Expr
    verdict: str


class _Definition(Protocol):
    name: str
    params: tuple[sympy.Symbol, ...]
    expr: sympy.Expr


class _Derivation(Protocol):
    steps: Sequence[_Step]
    result: sympy.Expr
    input: str
    wrt: str
    named: _Definition | None
    definitions: Sequence[_Definition]
    expression: sympy.Expr | None

    @property
    def ok(self) -> bool: ...


def plain(expr: sympy.Basic) -> str:
    """Plain-text notation that derive.parse reads back (`derive.printing.to_text`, in linear time)."""
    return _plain_text(expr)


def tex(expr: sympy.Basic) -> str:
    """LaTeX of one expression."""
    return _latex(expr)


def _verdict(verdict: object) -> str:
    """"proved", ... for a Verdict or its string."""
    return str(getattr(verdict, "value", verdict))


def mark(verdict: object) -> str:
    """✓ proved, ≈ confirmed, ✗ refuted, ? unknown."""
    return MARKS.get(_verdict(verdict), "?")


def step_latex(before: sympy.Basic, after: sympy.Basic) -> str:
    """The equation one step asserts, `before = after`."""
    return f"{tex(before)} = {tex(after)}"


def _continues(previous: _Step | None, step: _Step) -> bool:
    """A step whose left side is the previous right side is shown as `= after` under it."""
    return previous is not None and previous.after == step.before


def _pairs(derivation: _Derivation) -> list[tuple[_Step | None, _Step]]:
    steps = list(derivation.steps)
    if not steps:
        return []  # d/dz f(z): f'(z) is already the result
    return list(zip([None, *steps[:-1]], steps, strict=True))


def _escape_text(text: str) -> str:
    return text.replace("\\", r"\backslash ").replace("{", r"\{").replace("}", r"\}").replace("_", r"\_")


def to_latex(derivation: _Derivation) -> str:
    """An `align*` block, one step per row, each annotated with its rule."""
    rows = []
    if derivation.steps:  # the names the steps use, defined first: the block checks as it stands
        named = [(derivation.named, "name")] if derivation.named is not None else []
        for definition, remark in [*named, *((d, "where") for d in derivation.definitions)]:
            head, body = definition_to_latex(definition.name, definition.params, definition.expr)
            rows.append(rf"{head} &= {body} && \text{{{remark}}}")
    for previous, step in _pairs(derivation):
        left = "" if _continues(previous, step) else tex(step.before)
        rule = _escape_text(step.rule)
        rows.append(rf"{left} &= {tex(step.after)} && \text{{{rule}}}")
    if not rows and derivation.expression is not None:  # d/dz f(z) = f'(z): the result as the one row
        derivative = derivative_to_latex(derivation.expression, sympy.Symbol(derivation.wrt))
        rows.append(rf"{derivative} &= {tex(derivation.result)}")
    elif not rows:
        rows.append(rf"&{tex(derivation.result)}")
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def to_markdown(derivation: _Derivation) -> str:
    """One `$$` block per step, each with its rule, explanation and verdict mark."""
    parts = [f"**d/d{derivation.wrt}** of `{derivation.input}`"]
    for number, step in enumerate(derivation.steps, start=1):
        verdict = _verdict(step.verdict)
        parts.append(f"{number}. `{step.rule}` {mark(verdict)} {verdict}: {step.explanation}")
        parts.append(f"$$\n{step_latex(step.before, step.after)}\n$$")
    status = "every step verified" if derivation.ok else "some step not verified"
    parts.append(f"Result ({status}):\n\n$$\n{tex(derivation.result)}\n$$")
    return "\n\n".join(parts) + "\n"


def to_text(derivation: _Derivation) -> str:
    """One step per line: the equation, its rule and its verdict mark."""
    lines = []
    if derivation.named is not None and derivation.steps:  # E, the name the steps use, defined first
        lines.append(f"let {to_unicode(sympy.Symbol(derivation.named.name))} = {to_unicode(derivation.named.expr)}")
    for previous, step in _pairs(derivation):
        left = "  " if _continues(previous, step) else to_unicode(step.before) + " "
        lines.append(f"{left}= {to_unicode(step.after)}    [{step.rule}] {mark(step.verdict)}")
    lines.append(f"result: {to_unicode(derivation.result)}")
    return "\n".join(lines) + "\n"


def _math(expr: sympy.Basic) -> str:
    return f'<math display="block">{_MATHML.doprint(expr)}</math>'


_VERDICT_COLORS = {"proved": "#080", "confirmed": "#080", "refuted": "#b00", "unknown": "#a60"}


def to_html_fragment(derivation: _Derivation) -> str:
    """The steps and the result as a table with MathML, styled inline: what a notebook shows inside its
    own page (a page's styles for body and td would restyle the notebook around it)."""
    rows = []
    for number, step in enumerate(derivation.steps, start=1):
        verdict = _verdict(step.verdict)
        equation = to_mathml_equation(step.before, step.after)
        color = _VERDICT_COLORS.get(verdict, "#a60")
        rows.append(
            f"<tr><td>{number}</td><td>{equation}</td><td><code>{html.escape(step.rule)}</code></td>"
            f'<td class="{verdict}" title="{verdict}" style="color:{color}">{mark(verdict)}</td>'
            f"<td>{html.escape(step.explanation)}</td></tr>"
        )
    status = "every step verified" if derivation.ok else "some step not verified"
    return f"<table>{''.join(rows)}</table><p>Result ({status}):</p>{_math(derivation.result)}"


def to_html(derivation: _Derivation) -> str:
    """A self-contained page: MathML for the formulas, no scripts, no external files."""
    title = html.escape(f"d/d{derivation.wrt} {derivation.input}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;vertical-align:middle}</style>"
        f"</head><body><h1>{title}</h1>{to_html_fragment(derivation)}</body></html>\n"
    )
