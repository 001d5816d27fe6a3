"""Derivations inside files: plain text, LaTeX (`% derive: check` blocks) and Markdown (```derivation fences).

A plain-text file is one derivation. In a LaTeX file, each `align`, `align*` or `equation` block (also
`gather`, `eqnarray`, `multline`, `flalign`, starred or not) that a `% derive: check` comment line
precedes is one derivation; the comment may add definitions, `% derive: check where y = sigmoid(z); E = ...`.
In a Markdown file, each fenced code block whose info string is `derivation` is one. Every step and
every error is reported at its line in the file, not in the block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, BinaryIO, Literal

from derive.errors import DefinitionError, DeriveError, ParseError, caret_context
from derive.limits import DEFAULT_LIMITS
from derive.preprocess import unify_line_ends

if TYPE_CHECKING:  # sympy-heavy modules are imported where they are used: the command line starts fast
    from derive.check import StepCheck
    from derive.definitions import Definition
    from derive.givens import Given
    from derive.report import Report

Kind = Literal["plain", "latex", "markdown"]

# and what pre-commit's `tex` type also covers (styles, classes, documented sources, bibliographies)
TEX_SUFFIXES = (".tex", ".ltx", ".latex", ".sty", ".cls", ".dtx", ".ins", ".bbl")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
STDIN = "-"


@dataclass(frozen=True)
class Where:
    """A definition named in a `% derive: check where ...` comment, and where it stands in the file."""

    text: str
    line: int
    column: int


@dataclass(frozen=True)
class Block:
    """One derivation found in a file.

    `text` keeps the columns of the file (anything before `\\begin` on its line is blanked), so an
    error's column in the block is its column in the file; `first_line` is the file line of the
    block's first line. `latex` is None when the text decides (a backslash means LaTeX).
    """

    text: str
    first_line: int
    latex: bool | None = None
    definitions: tuple[Where, ...] = ()


def kind_of(path: str) -> Kind:
    """How a file is read, from its suffix; standard input and anything unknown are plain text."""
    suffix = PurePath(path).suffix.lower()
    if suffix in TEX_SUFFIXES:
        return "latex"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    return "plain"


def extract(path: str, text: str, *, latex: bool | None = None) -> list[Block]:
    """The derivations in a file's text; `latex` forces the notation of plain and Markdown files."""
    kind = kind_of(path)
    if kind == "latex":
        return list(_tex_blocks(text))
    if kind == "markdown":
        return [replace(block, latex=latex) for block in _markdown_blocks(text)]
    return [Block(text=text, first_line=1, latex=latex)]


# --- LaTeX -----------------------------------------------------------------------------------------

_ENVIRONMENT = r"(?:align|equation|gather|eqnarray|multline|flalign)\*?"
_MARKER = re.compile(r"^\s*%+\s*derive\s*:\s*check\b(?P<rest>.*)$")
_BEGIN = re.compile(r"\\begin\s*\{\s*(?P<env>" + _ENVIRONMENT + r")\s*\}")
_COMMENT = re.compile(r"^\s*%")
_WHERE = re.compile(r"^\s*(?:where|with)\b\s*:?")
_SEPARATOR = re.compile(r"(?<!\\);")  # `\;` is LaTeX spacing, not a separator


def _tex_blocks(text: str) -> Iterator[Block]:
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        marker = _MARKER.match(lines[number])
        number += 1
        if marker is None:
            continue
        marker_line = number
        definitions = _where(marker.group("rest"), marker_line, marker.start("rest") + 1, text)
        # The block may follow after blank lines and ordinary comments, but not after another marker.
        while number < len(lines) and (not lines[number].strip() or (
            _COMMENT.match(lines[number]) and not _MARKER.match(lines[number])
        )):
            number += 1
        begin = _BEGIN.search(lines[number]) if number < len(lines) else None
        if begin is None or lines[number][: begin.start()].strip():
            raise _error(
                text, marker_line, 1,
                "'% derive: check' must be followed by an align, align* or equation block (\\begin{align} ...)",
            )
        yield _tex_block(lines, number, begin, definitions, text)
        number += 1


def _where(rest: str, line: int, column: int, text: str) -> tuple[Where, ...]:
    if not rest.strip():
        return ()
    keyword = _WHERE.match(rest)
    if keyword is None:
        offset = len(rest) - len(rest.lstrip())
        raise _error(text, line, column + offset,
                     "after '% derive: check', write 'where' and definitions separated by ';'")
    definitions = []
    start = keyword.end()
    for piece in _SEPARATOR.split(rest[start:]):
        if piece.strip():
            offset = start + len(piece) - len(piece.lstrip())
            definitions.append(Where(text=piece.strip(), line=line, column=column + offset))
        start += len(piece) + 1
    return tuple(definitions)


def _tex_block(lines: list[str], index: int, begin: re.Match[str], definitions: tuple[Where, ...],
               text: str) -> Block:
    end = re.compile(r"\\end\s*\{\s*" + re.escape(begin.group("env")) + r"\s*\}")
    first = " " * begin.start() + lines[index][begin.start():]
    found = end.search(first, begin.end())
    body = [first]
    last = index
    while found is None:
        last += 1
        if last >= len(lines):
            raise _error(text, index + 1, begin.start() + 1,
                         f"\\begin{{{begin.group('env')}}} has no matching \\end{{{begin.group('env')}}}")
        body.append(lines[last])
        found = end.search(lines[last])
    body[-1] = body[-1][: found.end()]
    return Block(text="\n".join(body), first_line=index + 1, latex=True, definitions=definitions)


# --- Markdown --------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def _markdown_blocks(text: str) -> Iterator[Block]:
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        opening = _FENCE.match(lines[number])
        number += 1
        if opening is None or (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            continue
        fence = opening.group("fence")
        closing = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        start = number
        while number < len(lines) and not closing.match(lines[number]):
            number += 1
        words = opening.group("info").split()
        # Other fenced blocks are skipped whole, so an example inside ````markdown is not checked;
        # a fence marked expect="errors" shows a wrong derivation on purpose (as the docs fence allows).
        if words and words[0].lower() == "derivation" and 'expect="errors"' not in opening.group("info"):
            yield Block(text="\n".join(lines[start:number]), first_line=start + 1)
        number += 1


def _error(text: str, line: int, column: int, message: str) -> ParseError:
    return ParseError(message, line=line, column=column, context=caret_context(text, line, column))


# --- checking --------------------------------------------------------------------------------------


def read_source(path: str) -> str:
    """A file's text as UTF-8; a file that is not UTF-8 is bad input at the line and column of the fault."""
    try:
        with open(path, "rb") as handle:
            data = read_bounded(handle)
    except OSError as error:
        raise DeriveError(f"cannot read the file: {error.strerror or error}") from None
    return decode(data)


def read_bounded(stream: BinaryIO, limit: int = DEFAULT_LIMITS.max_input_bytes) -> bytes:
    """All of `stream` up to `limit` bytes; more is an error once it is seen, so that an endless input
    (`yes ... | derive check`, /dev/zero) is not read into memory without end."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise DeriveError(f"input too large: more than {limit:,} bytes (at most {limit:,}; limits.md)")
    return data


def decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is bad input at its line and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        shown = data.decode("utf-8", errors="replace")
        raise ParseError(f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded", line=line,
                         column=column, context=caret_context(shown, line, column)) from None


def check_source(path: str, text: str, *, latex: bool | None = None) -> Report:
    """Check every derivation in a file's text; one report whose steps carry the lines of the file."""
    from derive.report import Report

    steps = []
    definitions: list[Definition] = []
    givens: list[Given] = []
    text = unify_line_ends(text)
    for block in extract(path, text, latex=latex):
        # Each block is read on its own (examples on one page reuse names); what an earlier block defined
        # is pointed out where a block uses it undefined.
        earlier = {d.name: d.line for d in definitions if d.line is not None}
        try:
            report = check_block(block, text)
        except ParseError as error:
            hint = _defined_earlier(error.undefined, earlier, block)
            if hint is None:
                raise
            raise ParseError(f"{error.message}; {hint}", line=error.line, column=error.column,
                             context=error.context, undefined=error.undefined) from None
        own = {d.name for d in report.definitions}
        steps.extend(_with_earlier_notes(report.steps, {k: v for k, v in earlier.items() if k not in own}, block))
        definitions.extend(report.definitions)
        givens.extend(report.givens)
    return Report(steps=tuple(steps), definitions=tuple(definitions), givens=tuple(givens))


def _defined_earlier(name: str | None, earlier: dict[str, int], block: Block) -> str | None:
    if name is None or name not in earlier:
        return None
    where = " or in its `% derive: check where` line" if block.latex or "\\" in block.text else ""
    return (f"{name} is defined in the block at line {earlier[name]}; each block is read on its own: "
            f"repeat the definition in this block{where}")


def _with_earlier_notes(steps: tuple[StepCheck, ...], earlier: dict[str, int], block: Block) -> list[StepCheck]:
    """A step that does not hold, or holds with a note (dE/dx is 0: E does not depend on x), and uses a name
    only an earlier block defines says so in its note."""
    if not earlier:
        return list(steps)
    from sympy.core.function import AppliedUndef

    noted = []
    for step in steps:
        if step.verdict.value not in ("refuted", "unknown") and step.note is None:
            noted.append(step)
            continue
        used = {getattr(s, "name", None) for side in (step.lhs, step.rhs) for s in side.free_symbols}
        used |= {type(f).__name__ for side in (step.lhs, step.rhs) for f in side.atoms(AppliedUndef)}
        hints = [_defined_earlier(name, earlier, block) for name in sorted(n for n in used if n in earlier)]
        note = "; ".join(filter(None, [step.note, *hints])) or None
        noted.append(replace(step, note=note))
    return noted


def check_file(path: str, *, latex: bool | None = None) -> Report:
    """Read and check one file (`-` is standard input, read as plain UTF-8 text)."""
    import sys

    text = decode(sys.stdin.buffer.read()) if path == STDIN else read_source(path)
    return check_source(path, text, latex=latex)


def check_block(block: Block, source: str) -> Report:
    """Check one block, its `where` definitions first; lines and errors are those of the file `source`."""
    from derive.check import check
    from derive.parse import is_latex
    from derive.report import Report

    latex = is_latex(block.text, block.latex)
    prefix = _definition_lines(block.definitions, latex, source)

    def file_line(line: int) -> int:
        if line <= len(prefix):
            return block.definitions[max(line, 1) - 1].line
        return block.first_line + line - len(prefix) - 1

    try:
        report = check("\n".join([*prefix, block.text]), latex=latex)
    except ParseError as error:
        line = file_line(error.line)
        column = error.column if error.line > len(prefix) else block.definitions[max(error.line, 1) - 1].column
        raise type(error)(error.message, line=line, column=column, context=caret_context(source, line, column),
                          undefined=error.undefined) from None
    except DefinitionError as error:
        if error.line is None:
            raise
        line = file_line(error.line)
        in_block = error.line > len(prefix)
        column = (error.column or 1) if in_block else block.definitions[max(error.line, 1) - 1].column
        raise DefinitionError(error.message, line=line, column=column,
                              context=caret_context(source, line, column)) from None
    def noted(note: str | None) -> str | None:  # "the given of line 2" counts the block's lines
        return _NOTED_LINE.sub(lambda m: f"{m.group(1)}{file_line(int(m.group(2)))}", note) if note else note

    steps = tuple(replace(step, line=file_line(step.line), note=noted(step.note)) for step in report.steps)
    definitions = tuple(
        replace(d, line=file_line(d.line)) if d.line is not None else d for d in report.definitions
    )
    givens = tuple(replace(g, line=file_line(g.line)) for g in report.givens)
    return Report(steps=steps, definitions=definitions, givens=givens)


# The lines that check's notes name, counted in the block (a given's, the line that writes y(x) above);
# the hint of an earlier block is added afterwards, with the file's lines.
_NOTED_LINE = re.compile(r"(\bline )(\d+)")


def _definition_lines(definitions: tuple[Where, ...], latex: bool, source: str) -> list[str]:
    """The `where` definitions as lines in the block's notation, checked to read back to the same thing."""
    from derive.statements import read_definition

    lines: list[str] = []
    known: list[Definition] = []
    for where in definitions:
        try:
            definition = read_definition(where.text, known=known)
        except ParseError as error:
            column = where.column + error.column - 1
            raise ParseError(error.message, line=where.line, column=column,
                             context=caret_context(source, where.line, column)) from None
        except DefinitionError as error:
            raise DefinitionError(error.message, line=where.line, column=where.column,
                                  context=caret_context(source, where.line, where.column)) from None
        line = _as_notation(where.text, definition, latex, known)
        if line is None:
            notation = "LaTeX" if latex else "plain text"
            raise ParseError(f"this definition cannot be read in {notation}, as the block is; write it in {notation}",
                             line=where.line, column=where.column,
                             context=caret_context(source, where.line, where.column))
        known.append(definition)
        lines.append(line)
    return lines


def _as_notation(text: str, definition: Definition, latex: bool, known: list[Definition]) -> str | None:
    """`text` itself when it reads the same in the block's notation, else a printed form that does."""
    if _reads_as(text, definition, latex, known):
        return text
    try:
        printed = _printed(definition, latex)
    except Exception:  # a printer that cannot print it: the user is asked to write it in the block's notation
        return None
    return printed if _reads_as(printed, definition, latex, known) else None


def _printed(definition: Definition, latex: bool) -> str:
    if latex:  # derive's LaTeX, which reads back
        from derive.printing import definition_to_latex

        return " = ".join(definition_to_latex(definition.name, definition.params, definition.expr))
    from derive.printing import to_text

    params = ", ".join(p.name for p in definition.params)
    return f"{definition.name}({params}) = {to_text(definition.expr)}" if params else \
        f"{definition.name} = {to_text(definition.expr)}"


def _reads_as(text: str, definition: Definition, latex: bool, known: list[Definition]) -> bool:
    from derive.statements import read_definition

    try:
        again = read_definition(text, latex=latex, known=known)
    except DeriveError:
        return False
    return (again.name, again.params, again.expr) == (definition.name, definition.params, definition.expr)
