"""Verified derivations in Markdown: the ```derive and ```derivation fences for pymdownx.superfences.

Two fences, rendered when the site is built, so every step a page shows has been verified:

    ```derive                       ```derivation
    expr: 1/2*(a - y)^2             E = 1/2*(a - y)^2
    wrt: z                          y = sigmoid(z)
    where: y = sigmoid(z)           dE/dz = dy/dz * dE/dy
    graph: true                     ```
    ```

A ```derive fence is differentiated step by step; a ```derivation fence is checked line by line.
Either fails the build, naming the page and the line, when a step is refuted or unknown, except a
```derivation expect="errors" fence, which shows a wrong derivation on purpose (and fails when it has
no wrong step left to show). Math is written as arithmatex's generic markup (`<div class="arithmatex">
\\[ ... \\]</div>`), for MathJax or KaTeX to typeset in the browser.

In mkdocs.yml, with pymdownx.superfences and pymdownx.arithmatex: `- derive.mkdocs_ext`.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown
import sympy
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from pymdownx.superfences import SuperFencesCodeExtension, SuperFencesException

from derive.check import check
from derive.definitions import Definition
from derive.derivation import Derivation, Step
from derive.errors import DeriveError, ParseError
from derive.parse import parse
from derive.printing import to_latex
from derive.report import Report, StepCheck
from derive.rewrite import differentiate
from derive.statements import read_definition
from derive.verify import Verdict

try:  # under MkDocs, a BuildError ends the build with the message alone, without a traceback
    from mkdocs.exceptions import PluginError as _BuildError
except ImportError:  # plain Python-Markdown

    class _BuildError(Exception):  # type: ignore[no-redef]
        """Stands in for MkDocs' PluginError when MkDocs is not installed."""


FENCES = ("derive", "derivation")
DERIVE_KEYS = ("expr", "wrt", "where", "style", "graph")
DERIVATION_OPTIONS = {"expect": ("errors",)}
MARKS = {Verdict.PROVED: "✓", Verdict.CONFIRMED: "≈", Verdict.REFUTED: "✗", Verdict.UNKNOWN: "?"}
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class DerivationFenceError(SuperFencesException, _BuildError):
    """A fence whose derivation does not hold (or cannot be read): the message names the page and line.

    A SuperFencesException, so that superfences lets it through instead of showing the block as code.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- LaTeX as a reader of derivations expects it --------------------------------------------------


def tex(expr: sympy.Basic) -> str:
    """LaTeX of one expression: dE/dz as a Leibniz fraction, f'(g(x)) with a prime."""
    return to_latex(expr)


# --- where a fence is: the page and the line ------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """The page (a path, as the writer knows it) and the 1-based line of a fence's opening ``` line."""

    page: str
    line: int | None

    def at(self, offset: int = 0) -> str:
        """`page:line` for the line `offset` lines below the opening ``` line (its body starts at 1)."""
        if self.line is None:
            return self.page
        return f"{self.page}:{self.line + offset}"


_OPENING = re.compile(r"^(?P<indent>[ \t>]*)(?P<fence>`{3,}|~{3,})[ \t]*\.?(?P<lang>[\w#.+-]*)")


def _fence_bodies(lines: list[str], language: str) -> Iterator[tuple[int, list[str]]]:
    """(index of the opening line, stripped body lines) of every fence of `language` in `lines`.

    Every fence is skipped whole, so an example inside a ````markdown block is not taken for a fence.
    """
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening.group("fence")
        closing = re.compile(r"^[ \t>]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        body = []
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            body.append(lines[end].lstrip(" \t>").strip())
            end += 1
        if opening.group("lang") == language:
            yield index, body
        index = end + 1


def _page_of(md: markdown.Markdown) -> tuple[str, str | None]:
    """The page being converted (a path relative to the working directory when it can be) and its text.

    MkDocs converts each page with a Markdown instance of its own that carries the page's file in its
    `relpath` tree processor; plain Python-Markdown has no page, and the fence names "the Markdown text".
    """
    processors = getattr(md, "treeprocessors", None)
    processor = processors["relpath"] if processors is not None and "relpath" in processors else None
    file = getattr(processor, "file", None)
    if file is None:
        return "the Markdown text", None
    path = getattr(file, "abs_src_path", None)
    name = getattr(file, "src_uri", None) or str(path)
    text = None
    if path:
        try:
            name = str(Path(path).resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError:
            text = None
    return name, text


def locate(md: markdown.Markdown, language: str, source: str) -> Location:
    """Where the fence with this body is: its page and the line of its opening ``` in the page's file.

    superfences hands a fence its body only, so the body is looked up in the lines being converted
    (`md.lines`); the k-th fence with the same body is the k-th match, counted per conversion.
    """
    page, file_text = _page_of(md)
    lines = getattr(md, "lines", None)
    wanted = [line.strip() for line in source.strip("\n").split("\n")]
    if not isinstance(lines, list):
        return Location(page, None)
    seen: tuple[list[str], Counter[tuple[str, tuple[str, ...]]]] | None = getattr(md, "_derive_fences_seen", None)
    if seen is None or seen[0] is not lines:
        seen = (lines, Counter())
        md._derive_fences_seen = seen  # type: ignore[attr-defined]
    key = (language, tuple(wanted))
    occurrence = seen[1][key]
    seen[1][key] += 1

    def nth(text_lines: list[str]) -> int | None:
        matches = [index for index, body in _fence_bodies(text_lines, language) if _same_body(body, wanted)]
        return matches[occurrence] + 1 if occurrence < len(matches) else None

    if file_text is not None:
        line = nth(file_text.split("\n"))
        if line is not None:
            return Location(page, line)
    return Location(page, nth(lines))


def _same_body(body: list[str], wanted: list[str]) -> bool:
    trimmed = list(body)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    while trimmed and not trimmed[0]:
        trimmed.pop(0)
    return trimmed == wanted


# --- the ```derive fence: what to differentiate ---------------------------------------------------


@dataclass(frozen=True)
class DeriveSpec:
    """The body of a ```derive fence: `key: value` lines, `where:` repeatable, `#` starts a comment line."""

    expr: str
    wrt: str
    where: tuple[str, ...] = ()
    style: str | None = None
    graph: bool = False
    lines: Mapping[str, int] = field(default_factory=dict)  # body line (1-based) of each key's first use
    where_lines: tuple[int, ...] = ()  # body line of each `where:`


def read_derive_spec(source: str, location: Location) -> DeriveSpec:
    """Read the `key: value` lines of a ```derive fence; an unknown key or a missing one fails with its line."""
    values: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    where_lines: list[int] = []
    for number, raw in enumerate(source.split("\n"), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        key, colon, value = text.partition(":")
        key = key.strip().lower()
        if not colon or key not in DERIVE_KEYS:
            raise DerivationFenceError(
                f"{location.at(number)}: expected `key: value` with a key among {', '.join(DERIVE_KEYS)}, "
                f"not {text!r}"
            )
        if key != "where" and key in values:
            raise DerivationFenceError(f"{location.at(number)}: `{key}:` is given twice")
        values.setdefault(key, []).append(value.strip())
        lines.setdefault(key, number)
        if key == "where":
            where_lines.append(number)
    for key in ("expr", "wrt"):
        if not values.get(key) or not values[key][0]:
            raise DerivationFenceError(f"{location.at()}: the derive fence needs a line `{key}: ...`")
    graph = values.get("graph", ["false"])[0].lower()
    if graph not in TRUE_WORDS + FALSE_WORDS:
        raise DerivationFenceError(f"{location.at(lines['graph'])}: `graph:` is true or false, not {graph!r}")
    style = values.get("style", [None])[0] or None
    return DeriveSpec(
        expr=values["expr"][0],
        wrt=values["wrt"][0],
        where=tuple(values.get("where", ())),
        style=style,
        graph=graph in TRUE_WORDS,
        lines=lines,
        where_lines=tuple(where_lines),
    )


def _math(latex: str, *, display: bool = True) -> str:
    """arithmatex's generic markup, which MathJax or KaTeX typesets in the browser."""
    if display:
        return f'<div class="arithmatex">\\[{html.escape(latex, quote=False)}\\]</div>'
    return f'<span class="arithmatex">\\({html.escape(latex, quote=False)}\\)</span>'


def _mark(verdict: Verdict) -> str:
    verdict = Verdict(verdict)
    return f'<span class="derive-mark derive-{verdict.value}" title="{verdict.value}">{MARKS[verdict]}</span>'


def _verdict_words(verdict: Verdict) -> str:
    return f'{_mark(verdict)} <span class="derive-verdict">{Verdict(verdict).value}</span>'


def render_derivation(derivation: Derivation, *, graph: str | None = None) -> str:
    """HTML of a verified derivation: one row per step (equation, rule, verdict, why), then the result."""
    rows = []
    previous: Step | None = None
    for step in derivation.steps:
        continues = previous is not None and previous.after == step.before
        equation = f"= {tex(step.after)}" if continues else f"{tex(step.before)} = {tex(step.after)}"
        note = f' <span class="derive-note">({html.escape(step.note)})</span>' if step.note else ""
        rows.append(
            f'<li class="derive-step" data-verdict="{Verdict(step.verdict).value}"><div class="derive-row">'
            f'{_math(equation)}<p class="derive-label"><code class="derive-rule">{html.escape(step.rule)}</code> '
            f"{_verdict_words(step.verdict)}</p>"
            f'<p class="derive-explanation">{html.escape(step.explanation)}{note}</p></div></li>'
        )
        previous = step
    where = ""
    if derivation.where:
        where = " where " + ", ".join(_math(shown, display=False) for shown in _where_tex(derivation.where))
    status = "every step verified" if derivation.ok else "some step not verified"
    caption = (
        "The computational graph: each arrow is labelled with the local derivative of the quantity it "
        "points to with respect to the one it leaves, the other names held fixed. The derivative with "
        f"respect to {html.escape(derivation.wrt)} is the sum, over the highlighted paths, of the products "
        "of their labels."
    )
    figure = f'<figure class="derive-graph">{graph}<figcaption>{caption}</figcaption></figure>' if graph else ""
    operator = r"\frac{d}{d" + tex(sympy.Symbol(derivation.wrt)) + "}"
    return (
        f'<div class="derive derive-derivation" data-ok="{str(derivation.ok).lower()}">'
        f'<p class="derive-task">{_math(operator, display=False)} '
        f"of <code>{html.escape(derivation.input)}</code>{where} "
        f'<span class="derive-style">({html.escape(derivation.style)} style)</span></p>'
        f'<ol class="derive-steps">{"".join(rows)}</ol>'
        f'<p class="derive-result">Result ({status}):</p>{_math(tex(derivation.result))}{figure}</div>'
    )


def _where_tex(texts: tuple[str, ...]) -> list[str]:
    """LaTeX of the `where` definitions as written (`y = sigmoid(z)`), each read knowing those before it."""
    known: list[Definition] = []
    shown = []
    for text in texts:
        definition = read_definition(text, known=known)
        known.append(definition)
        head: sympy.Basic = sympy.Symbol(definition.name)
        if definition.params:
            head = sympy.Function(definition.name)(*definition.params)
        shown.append(f"{tex(head)} = {tex(definition.expr)}")
    return shown


def _read_each_line(spec: DeriveSpec, location: Location) -> None:
    """Read the expression and each definition on its own first, so that an error names its own line."""
    definitions = ((text, line, True) for text, line in zip(spec.where, spec.where_lines, strict=True))
    pieces = [(spec.expr, spec.lines["expr"], False), *definitions]
    known: list[Definition] = []
    for text, line, is_definition in pieces:
        try:
            if is_definition:
                known.append(read_definition(text, known=known))
            else:
                parse(text)
        except DeriveError as error:
            raise DerivationFenceError(f"{location.at(line)}: {_one_line(error)}") from None


def derive_fence(source: str, md: markdown.Markdown, options: Mapping[str, Any]) -> str:
    """Differentiate as the fence says; any step not proved or confirmed fails the build."""
    location = locate(md, "derive", source)
    unknown = sorted(set(options) - {"graph"})
    if unknown:
        raise DerivationFenceError(f"{location.at()}: unknown option {unknown[0]!r} for a derive fence")
    spec = read_derive_spec(source, location)
    _read_each_line(spec, location)
    try:
        derivation = differentiate(spec.expr, spec.wrt, where=spec.where, style=spec.style)
    except DeriveError as error:
        # what is left to go wrong: the variable, the style, the definitions together (a cycle)
        key = next((k for k in ("wrt", "style") if k in str(error) and k in spec.lines), None)
        line = spec.lines[key] if key else 0
        raise DerivationFenceError(f"{location.at(line)}: {_one_line(error)}") from None
    for number, step in enumerate(derivation.steps, start=1):
        if not step.ok:
            why = f" ({step.note})" if step.note else ""
            raise DerivationFenceError(
                f"{location.at()}: step {number} of d/d{derivation.wrt} {derivation.input} is "
                f"{Verdict(step.verdict).value}{why}: [{step.rule}] {step.explanation}"
            )
    picture = None
    if spec.graph or str(options.get("graph", "")).lower() in TRUE_WORDS:
        from derive.graph import graph_svg

        try:
            picture = graph_svg(spec.expr, spec.wrt, spec.where)
        except DeriveError as error:
            raise DerivationFenceError(f"{location.at()}: cannot draw the graph: {_one_line(error)}") from None
    return render_derivation(derivation, graph=picture)


def _one_line(error: Exception) -> str:
    if isinstance(error, ParseError):
        return f"{error.message} (column {error.column})" + (f"\n{error.context}" if error.context else "")
    return str(error)


# --- the ```derivation fence: a derivation to check ------------------------------------------------


def render_report(report: Report, source: str = "", *, expect_errors: bool = False) -> str:
    """HTML of a checked derivation: definitions and steps in the order of their lines (numbered by
    them), each with the line as written; a wrong step with its counterexample, what the left side
    really is and the mistake it looks like."""
    written = source.split("\n")
    items: list[tuple[int, int, str]] = []
    for definition in report.definitions:
        head: sympy.Basic = sympy.Symbol(definition.name)
        if definition.params:
            head = sympy.Function(definition.name)(*definition.params)
        line = definition.line or 0
        items.append(
            (
                line,
                -1,
                f'<li class="derive-line derive-definition" value="{line}"><div class="derive-row">'
                f'{_math(f"{tex(head)} = {tex(definition.expr)}")}'
                f'<p class="derive-label"><span class="derive-rule">definition</span></p>'
                f"{_source_line(written, line)}</div></li>",
            )
        )
    for given in report.givens:
        items.append(
            (
                given.line,
                -1,
                f'<li class="derive-line derive-definition" value="{given.line}"><div class="derive-row">'
                f'{_math(f"{tex(given.lhs)} = {tex(given.rhs)}")}'
                f'<p class="derive-label"><span class="derive-rule">given</span></p>'
                f"{_source_line(written, given.line)}</div></li>",
            )
        )
    previous: StepCheck | None = None
    for step in report.steps:
        continues = previous is not None and previous.line <= step.line and previous.rhs == step.lhs
        equation = f"= {tex(step.rhs)}" if continues else f"{tex(step.lhs)} = {tex(step.rhs)}"
        shown = _source_line(written, step.line) if step.k == 0 else ""
        items.append((step.line, step.k, _render_step(step, equation, shown)))
        previous = step
    items.sort(key=lambda item: (item[0], item[1]))
    counts = Counter(Verdict(step.verdict) for step in report.steps)
    summary = ", ".join(f"{counts[v]} {v.value}" for v in Verdict if counts[v])
    first = report.first_error
    summary += ": every step holds" if first is None else f": first error on line {first.line}"
    kind = " derive-expect-errors" if expect_errors else ""
    return (
        f'<div class="derive derive-check{kind}" data-ok="{str(report.ok).lower()}">'
        f'<ol class="derive-steps">{"".join(html_item for _, _, html_item in items)}</ol>'
        f'<p class="derive-summary">{html.escape(summary)}</p></div>'
    )


def _source_line(written: list[str], line: int) -> str:
    """The line as the writer typed it, so that a reader can match derive's reading to it."""
    if not 1 <= line <= len(written) or not written[line - 1].strip():
        return ""
    return f'<p class="derive-source"><code>{html.escape(written[line - 1].strip())}</code></p>'


def _render_step(step: StepCheck, equation: str, shown: str) -> str:
    verdict = Verdict(step.verdict)
    details = []
    if step.counterexample:
        point = ", ".join(f"{name} = {value}" for name, value in step.counterexample.items())
        details.append(f"<dt>counterexample</dt><dd><code>{html.escape(point)}</code>")
        if step.lhs_value is not None and step.rhs_value is not None:
            details[-1] += (
                f" — there the left side is <code>{html.escape(step.lhs_value)}</code>, "
                f"the right side <code>{html.escape(step.rhs_value)}</code>"
            )
        details[-1] += "</dd>"
    if step.shows_expected:
        expected = rf"\displaystyle {tex(step.lhs)} = {tex(step.expected)}"
        details.append(f"<dt>expected</dt><dd>{_math(expected, display=False)}</dd>")
    if step.diagnosis:
        details.append(f'<dt>diagnosis</dt><dd class="derive-diagnosis">{html.escape(step.diagnosis)}</dd>')
    if step.note:
        details.append(f"<dt>note</dt><dd>{html.escape(step.note)}</dd>")
    label = _verdict_words(verdict) + (f' <span class="derive-k">(step {step.k + 1})</span>' if step.k else "")
    body = f'<dl class="derive-evidence">{"".join(details)}</dl>' if details else ""
    return (
        f'<li class="derive-line derive-step" value="{step.line}" data-verdict="{verdict.value}">'
        f'<div class="derive-row">{_math(equation)}<p class="derive-label">{label}</p>{shown}{body}</div></li>'
    )


def derivation_fence(source: str, md: markdown.Markdown, options: Mapping[str, Any]) -> str:
    """Check the derivation; a wrong step fails the build unless the fence says expect="errors"."""
    location = locate(md, "derivation", source)
    for key, value in options.items():
        if key not in DERIVATION_OPTIONS or value not in DERIVATION_OPTIONS[key]:
            allowed = "; ".join(f'{k}="{v}"' for k, vs in DERIVATION_OPTIONS.items() for v in vs)
            raise DerivationFenceError(
                f"{location.at()}: unknown option {key}={value!r} for a derivation fence (allowed: {allowed})"
            )
    expect_errors = options.get("expect") == "errors"
    try:
        report = check(source)
    except DeriveError as error:
        line = error.line if isinstance(error, ParseError) else _line_in_message(error)
        raise DerivationFenceError(f"{location.at(line or 0)}: {_one_line(error)}") from None
    if not report.steps:
        raise DerivationFenceError(f"{location.at()}: the derivation fence has no step to check")
    wrong = [step for step in report.steps if not step.ok]
    if wrong and not expect_errors:
        step = wrong[0]
        raise DerivationFenceError(f"{location.at(step.line)}: {_describe(step)}")
    if expect_errors and not wrong:
        raise DerivationFenceError(
            f'{location.at()}: the derivation fence says expect="errors", but every step holds'
        )
    return render_report(report, source, expect_errors=expect_errors)


def _line_in_message(error: Exception) -> int | None:
    found = re.match(r"line (\d+)", str(error))
    return int(found.group(1)) if found else None


def _describe(step: StepCheck) -> str:
    """One line for a build log: the step, its verdict and the evidence."""
    from derive.printing import to_text

    text = f"{to_text(step.lhs)} = {to_text(step.rhs)} is {Verdict(step.verdict).value}"
    if step.counterexample:
        text += " (counterexample: " + ", ".join(f"{k} = {v}" for k, v in step.counterexample.items()) + ")"
    if step.expected is not None:
        text += f"; expected {to_text(step.lhs)} = {to_text(step.expected)}"
    if step.diagnosis:
        text += f"; looks like: {step.diagnosis}"
    if step.note:
        text += f"; {step.note}"
    return text


# --- superfences glue ------------------------------------------------------------------------------

_RENDERERS: dict[str, Callable[[str, markdown.Markdown, Mapping[str, Any]], str]] = {
    "derive": derive_fence,
    "derivation": derivation_fence,
}


def validate(language: str, inputs: Mapping[str, Any], options: dict[str, Any], attrs: dict[str, Any],
             md: markdown.Markdown) -> bool:
    """superfences validator: every header option goes to the fence, which reports unknown ones with
    the page and line (a validator that said no would let the block through as plain text)."""
    options.update(inputs)
    return True


def fence(source: str, language: str, class_name: str, options: Mapping[str, Any], md: markdown.Markdown,
          **kwargs: Any) -> str:
    """superfences format function for both fences (`format: !!python/name:derive.mkdocs_ext.fence`)."""
    renderer = _RENDERERS.get(language)
    if renderer is None:
        raise DerivationFenceError(f"derive.mkdocs_ext has no fence called {language!r} (only {', '.join(FENCES)})")
    return renderer(source, md, options)


class _AddFences(Preprocessor):
    """Adds the fences to the superfences instance that will run, just before it runs.

    Done at conversion time rather than in extendMarkdown, so that the order of the extensions in
    mkdocs.yml does not matter: a superfences listed after derive.mkdocs_ext replaces the first one.
    """

    def run(self, lines: list[str]) -> list[str]:
        try:
            superfences = self.md.preprocessors["fenced_code_block"].extension
        except (KeyError, AttributeError):  # no superfences, or Python-Markdown's own fenced_code
            superfences = None
        if not isinstance(superfences, SuperFencesCodeExtension):
            raise DerivationFenceError("derive.mkdocs_ext needs pymdownx.superfences in markdown_extensions")
        for name in FENCES:
            if not any(entry["name"] == name for entry in superfences.superfences):  # else set in custom_fences
                superfences.extend_super_fences(name, _formatter, validate, _reset)
        return lines


class DeriveExtension(Extension):
    """Adds the ```derive and ```derivation fences to pymdownx.superfences."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        if "fenced_code_block" not in md.preprocessors:
            md.registerExtensions(["pymdownx.superfences"], {})
        # after whitespace normalisation (30), just before superfences (25)
        md.preprocessors.register(_AddFences(md), "derive_fences", 26)


def _formatter(src: str = "", language: str = "", md: markdown.Markdown | None = None,
               options: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    assert md is not None
    return fence(src, language, language, options or {}, md, **kwargs)


def _reset(md: markdown.Markdown) -> None:
    md.__dict__.pop("_derive_fences_seen", None)


def makeExtension(**kwargs: Any) -> DeriveExtension:
    return DeriveExtension(**kwargs)
