"""A derivation text -> statements (definitions and claim chains), each with its line number.

Plain text: one statement per line, `#` comments. LaTeX: `%` comments, and `align`, `align*`,
`aligned`, `eqnarray`, `equation`, `gather` blocks read row by row (`&` ignored, `\\\\` ends a row,
a row starting with `&=` continues the chain above). Clean-up keeps every character's position, so
errors point at the line and column the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import sympy
from sympy.core.function import AppliedUndef

from derive.definitions import Definition
from derive.errors import DefinitionError, LimitError, ParseError, caret_context
from derive.functions import sigmoid
from derive.limits import DEFAULT_LIMITS, Limits
from derive.parse import Chain, ParseContext, is_latex, parse_span
from derive.preprocess import MATH_DELIMITERS, blank, line_column, strip_math_delimiters, unify_line_ends
from derive.printing import to_text
from derive.symbols import symbol


@dataclass(frozen=True)
class Statement:
    """One row of a derivation.

    For a claim, `parts` is the chain `A = B = C` (a continuation line `= D` starts with the last part of
    the chain above), so step k compares parts[k] with parts[k + 1]. For a definition, `definition`
    holds it and `parts` is `(lhs, rhs)`. For a given (`given x^2 + y(x)^2 = 1`), `parts` is the equation
    assumed: claims below may hold only where it does (derive.givens).
    """

    line: int
    kind: Literal["definition", "claim", "given"]
    parts: tuple[sympy.Expr, ...]
    continues: bool = False
    definition: Definition | None = None
    column: int = 1  # where the statement starts on its line
    aside: bool = False  # not the first equation of its row (`, since d/dx(3x+1) = 3`): no chain goes on from it

    @property
    def steps(self) -> Iterator[tuple[int, sympy.Expr, sympy.Expr]]:
        """(k, lhs, rhs) for every `=` of a claim."""
        if self.kind == "claim":
            for k in range(len(self.parts) - 1):
                yield k, self.parts[k], self.parts[k + 1]


# --------------------------------------------------------------------------------------------------
# Rows: spans of a cleaned copy of the text, same length as the original.

_ENVIRONMENTS = r"(?:align|aligned|alignat|eqnarray|equation|gather|gathered|split|multline|flalign)\*?"
_BEGIN_END = re.compile(r"\\(?:begin|end)\s*\{\s*" + _ENVIRONMENTS + r"\s*\}(?:\s*\{\s*\d+\s*\})?")
_ANY_ENV = re.compile(r"\\(begin|end)\s*\{\s*(" + _ENVIRONMENTS + r")\s*\}")
_LATEX_NOISE = re.compile(
    r"\\(?:label|tag\*?|eqref|ref)\s*\{[^{}]*\}|\\(?:nonumber|notag|intertext\s*\{[^{}]*\})"
    # \text{by the chain rule}, \text{where}, \text{(1)}: commentary; never in a subscript or a superscript,
    # where it is part of a name (y_{\text{pred}})
    r"|(?<!_\{)(?<!_)(?<!\^\{)\\(?:text|textrm|mbox|textbf|textit)\s*\{[^{}]*[\s\\][^{}]*\}"
    r"|(?<!_\{)(?<!_)(?<!\^\{)\\(?:text|textrm|mbox)\s*\{\s*(?:[A-Za-z]{2,}|[^{}]*[.,:;!?()][^{}]*)\s*\}"
    r"(?!\s*(?:\(|\\left|\{\s*\\left|\^|_))"  # but \text{relu}(x) names a function
)


def _latex_comments(text: str) -> str:
    """Blank `%` comments (but not `\\%`)."""
    for m in reversed(list(re.finditer(r"(?<!\\)%[^\n]*", text))):
        text = blank(text, m.start(), m.end())
    return text


def _plain_comments(text: str) -> str:
    for m in reversed(list(re.finditer(r"#[^\n]*", text))):
        text = blank(text, m.start(), m.end())
    return text


# `= 2x \qquad (2)`, `&= 3x^2 & (3.1)`, `\qquad (ii)`, `\quad (A.1)`, `(2a)`, `(*)`: a hand-written equation label at
# the end of a row, after a wide space, like \tag (it was multiplied in: 2x·2, 2x·i, and `= 2 \qquad (x)` held).
_LABEL = (r"\d+(?:\.\d+)*(?:[a-z]|\\text\s*\{\s*[a-z]\s*\})?'*|[ivxIVX]+|[A-Za-z](?:\.\d+)*'*|\*+"
          r"|\\(?:star|ast|dagger|ddagger|S)(?![A-Za-z])")
_EQUATION_NUMBER = re.compile(
    r"(?:\\q?quad|\\hfill|&)(?:\s|\\q?quad|\\hfill|&)*(\(\s*(?:" + _LABEL + r")\s*\))\s*(?=\\\\|\n|$)")
# A remark and what follows it on the row, when that has no `=`: `= 2x \text{ for all } x` is a claim about
# 2x, not 2x·x.
_REMARK_TO_ROW_END = re.compile(r"\\(?:text|textrm|mbox|textbf|textit)\s*\{[^{}]*\}([^=\n\\$]*?)(?=\\\\|\n|$)")
_GOES_ON = re.compile(r"[-+*/^_=<>]|\\(?:cdot|times|div|pm|mp)(?![A-Za-z])")
_LET_WORD = re.compile(r"\\(?:text|textrm|mathrm|mbox|textbf|textit)\s*\{\s*(let|[Gg]iven)\s*,?\s*\}")
# `y = \sigma(z) \text{ where } z = wx + b`: a remark that joins two statements written on one row.
_JOINING_WORD = re.compile(r"\\(?:text|textrm|mbox|textit)\s*\{\s*,?\s*(?P<word>where|and|with|since|because|so|then"
                           r"|thus|hence|therefore|which\s+means|which\s+gives|i\.e\.)"
                           r"(?:\s+(?:we\s+)?(?:set|let|have|know|put))?\s*,?\s*\}")
_ROW_END = re.compile(r"\\\\\*?(?:\s*\[[^\]]*\])?")  # \\, \\*, \\[2pt]
_LINE_END = re.compile(r"\\\\\*?(?:\s*\[[^\]]*\])?|\n")


def _latex_rows(text: str) -> tuple[str, list[tuple[int, int]], Collection[int], dict[int, str]]:
    """Cleaned text, the row spans, the column breaks (the `&` that starts a row's second equation, in
    an align of two columns of equations), and the word of each joining remark (`\\text{where}`) by where it
    ends: inside environments rows end at `\\\\`, outside at line ends.

    Inside an environment, a row without `=` goes on with the expression of the row above (a long
    right-hand side broken over two rows: `&= a + b \\\\ &\\quad + c`).
    """
    cleaned = _latex_comments(text)
    # `$$ a = b $$ $$ c = d $$`: each piece of math is its own statement, even on one line.
    delimiters = [(m.start(), m.end()) for m in MATH_DELIMITERS.finditer(cleaned)]
    cleaned = _display_math_joined(cleaned)
    cleaned = strip_math_delimiters(cleaned)
    # \text{let} y = ... is `let y = ...`: keep the word, blank the command around it.
    cleaned = _LET_WORD.sub(lambda m: m.group(1).ljust(len(m.group())), cleaned)
    joins = [(m.start(), m.end()) for m in _JOINING_WORD.finditer(cleaned)]
    joined = {m.end(): m.group("word") for m in _JOINING_WORD.finditer(cleaned)}
    for m in reversed(list(_EQUATION_NUMBER.finditer(cleaned))):
        cleaned = blank(cleaned, m.start(1), m.end(1))
    for m in reversed(list(_REMARK_TO_ROW_END.finditer(cleaned))):
        noise = _LATEX_NOISE.match(cleaned, m.start())  # a remark, not \text{relu}(x) or y_{\text{pred}}
        rest = m.group(1).strip()
        # `3x^2 \text{ (power rule) } + 2x` goes on with the expression: an operator keeps the rest
        if noise is not None and noise.end() == m.start(1) and rest and not _GOES_ON.match(rest):
            cleaned = blank(cleaned, m.start(1), m.end(1))  # the remark itself goes with the noise below
    cleaned = _LATEX_NOISE.sub(lambda m: " " * len(m.group()), cleaned)
    cleaned = _JOINING_WORD.sub(lambda m: " " * len(m.group()), cleaned)
    spans: list[tuple[int, int]] = []
    inside = False
    cursor = 0
    pieces: list[tuple[int, int, bool]] = []  # (begin, end, inside an environment)
    for m in _ANY_ENV.finditer(cleaned):
        pieces.append((cursor, m.start(), inside))
        inside = m.group(1) == "begin"
        cursor = m.end()
    pieces.append((cursor, len(cleaned), inside))
    cleaned = _BEGIN_END.sub(lambda m: " " * len(m.group()), cleaned)
    breaks = _column_breaks(cleaned)
    cleaned = re.sub(r"(?<!\\)&", " ", cleaned)
    for begin, end, in_env in pieces:
        row_end = _ROW_END if in_env else _LINE_END
        ends = [(m.start(), m.end()) for m in row_end.finditer(cleaned, begin, end)]
        ends += [(a, b) for a, b in joins + delimiters if begin <= a and b <= end]
        start = begin
        rows_here: list[tuple[int, int]] = []
        for a, b in sorted(ends):
            if a < start:
                continue
            rows_here.append((start, a))
            start = b
        rows_here.append((start, end))
        spans.extend(_join_continued(cleaned, rows_here) if in_env else rows_here)
    cleaned = _ROW_END.sub(lambda m: " " * len(m.group()), cleaned)
    return cleaned, spans, breaks, joined


def _column_breaks(cleaned: str) -> list[int]:
    """The second, fourth, ... `&` of each row: in `z &= wx + b & y &= \\sigma(z)` the second starts the
    equation of the next column (the first and third align the `=`)."""
    breaks: list[int] = []
    start = 0
    for end in [m.start() for m in _ROW_END.finditer(cleaned)] + [len(cleaned)]:
        ampersands = [m.start() for m in re.finditer(r"(?<!\\)&", cleaned[start:end])]
        # eqnarray's `&=&` sets the `=` in a column of its own: an `&` beside an `=` starts no equation
        breaks += [start + a for a in ampersands[1::2] if not re.match(r"\s*=", cleaned[start + a + 1 : end])
                   and not re.search(r"=\s*$", cleaned[start : start + a])]
        start = end
    return breaks


def _display_math_joined(text: str) -> str:
    """`$$` or `\\[` math with one equation broken over several lines is one statement, as TeX reads it (a
    line end there is a space): a line end inside it becomes a space where the line before ends with `=`
    or an operator, or one of the two lines has no `=`. One equation a line stays one statement a line."""
    opened: tuple[str, int] | None = None
    for m in MATH_DELIMITERS.finditer(text):
        token = m.group()
        if opened is None and token in ("$$", "\\["):
            opened = (token, m.end())
        elif opened is not None and (token, opened[0]) in (("$$", "$$"), ("\\]", "\\[")):
            begin = opened[1]
            text = text[:begin] + _broken_lines_joined(text[begin:m.start()]) + text[m.start():]
            opened = None
    return text


_OPEN_END = re.compile(r"(?:[=+\-*/(]|\\cdot|\\times|\\left\s*\(|\\frac\s*\{[^{}]*\})\s*$")


def _broken_lines_joined(block: str) -> str:
    lines = block.split("\n")
    out = lines[0]
    for k, line in enumerate(lines[1:], start=1):
        before = out.split("\n")[-1]
        after = lines[k + 1].strip() if k + 1 < len(lines) else ""
        # a left side alone above `= ...` starts a chain of its own (L = ..., then \frac{dL}{da}, then = a - y)
        heads_a_chain = "=" not in line and after.startswith("=")
        joined = before.strip() and line.strip() and not heads_a_chain and (
            _OPEN_END.search(before) or _OPEN_START.match(line) or "=" not in line or "=" not in before)
        out += (" " if joined else "\n") + line
    return out


_OPEN_START = re.compile(r"\s*(?:[+\-*/]|\\cdot|\\times)")  # `+ 1 = (x+1)^2` goes on with the line above


def _join_continued(cleaned: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join each non-empty row that has no `=` to the row above it (the text between is blank)."""
    out: list[tuple[int, int]] = []
    for begin, end in spans:
        piece = cleaned[begin:end]
        if out and piece.strip() and "=" not in piece:
            out[-1] = (out[-1][0], end)
        elif piece.strip() or not out:
            out.append((begin, end))
    return out


def _plain_rows(text: str) -> tuple[str, list[tuple[int, int]], Collection[int], dict[int, str]]:
    """Cleaned text and the row spans (a row ends at a line end or a math delimiter, `$`, `$$`); no
    column breaks and no joining remarks."""
    cleaned = _plain_comments(text)
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"\n|" + MATH_DELIMITERS.pattern, cleaned):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(cleaned)))
    return strip_math_delimiters(cleaned), spans, (), {}


def _trim(cleaned: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop empty rows and a closing punctuation mark (`= 3x^2.`), which ends a sentence, not math."""
    out = []
    for begin, end in spans:
        piece = cleaned[begin:end]
        if not piece.strip():
            continue
        stripped = piece.rstrip()
        if stripped.endswith((".", ",", ";")) and not stripped.endswith(("..", "\\,", "\\;")):
            end = begin + len(stripped) - 1
        words = re.sub(r"[,.;:]", " ", cleaned[begin:end]).lower().split()
        if all(word in _CONNECTIVES for word in words):  # `$a = b$, and so $c = d$`: prose between
            continue
        out.append((begin, end))
    return out


_CONNECTIVES = frozenset({"and", "so", "then", "hence", "thus", "therefore", "i", "e", "since", "because",
                          "which", "gives", "giving", "we", "get", "have", "obtain"})  # i.e. splits into i, e


class Rows(NamedTuple):
    """The cleaned text, the spans of its statements, the word each statement cut from a row beginning
    with `given` or `let` (`given dx/dt = 2, dy/dt = -1`) takes from it, and the statements that are asides
    of their row (not its first equation), by the span's start."""

    cleaned: str
    spans: list[tuple[int, int]]
    heads: dict[int, str]
    asides: frozenset[int]


def rows(text: str, *, latex: bool) -> Rows:
    """The cleaned text and the spans of its statements in reading order: several equations on a row cut
    apart, an aside that defines (`where u = x^2`) before the equation it explains."""
    cleaned, spans, breaks, joined = _latex_rows(text) if latex else _plain_rows(text)
    defining = [m.start() for m in _DEFINING_EQUALS.finditer(cleaned)]
    cleaned = _DEFINING_EQUALS.sub(lambda m: "=".ljust(len(m.group())), cleaned)
    cleaned, parts = _cut_between_equations(cleaned, spans, breaks, joined)
    for group in parts:
        for part in group:
            # `\Rightarrow \frac{dy}{dx} = 2x`, `y = x^2 \quad \Rightarrow`: the arrow is not the claim's
            for arrow in (_LEADING_CONNECTIVE.match(cleaned, part.begin, part.end),
                          _TRAILING_CONNECTIVE.search(cleaned, part.begin, part.end)):
                if arrow is not None:
                    cleaned = blank(cleaned, arrow.start(1), arrow.end(1))
    order = []
    for group in parts:
        main = " ".join(cleaned[p.begin : p.end] for p in group if p.kind == "main")
        first = [p for p in group if _reads_first(cleaned, p, main)]
        order += first + [p for p in group if p not in first]
    spans = _trim(cleaned, [(p.begin, p.end) for p in order])
    kept = {begin for begin, _ in spans}
    heads = {p.begin: p.head for p in order if p.head and p.begin in kept}
    # `y := x^3` redefines y, as `let y = x^3` does
    heads.update({p.begin: "let" for p in order if p.begin in kept and p.begin not in heads and p.kind == "main"
                  and any(p.begin <= d < p.end for d in defining)})  # (an aside cannot redefine mid-chain)
    asides = frozenset(p.begin for p in order if p.kind != "main" and p.begin in kept)
    return Rows(cleaned, spans, heads, asides)


def _reads_first(cleaned: str, part: _Part, main: str) -> bool:
    """An aside that defines a name is read before its row's equation: after `where` (`where u = x^2`), or
    any aside (`, u = 1 + x^2`, `\\text{with } u = x^2`) defining a name the equation uses; not one that
    gives a number (`where x = 1`, a condition on it: see _a_condition), nor a consequence (`, so ...`)."""
    named = _NAMES_ONE.match(cleaned, part.begin, part.end)
    if part.kind == "main" or part.linking or named is None or _A_NUMBER.search(cleaned, part.begin, part.end):
        return False
    return part.kind == "defines" or re.search(r"(?<![A-Za-ce-z\\])" + re.escape(named["name"]) + r"(?![A-Za-z])",
                                               main) is not None


# `z = wx + b, \quad y = \sigma(z)`, `u = x^2; v = sin(x)`, `E = 1/2 (t - y)^2 where y = sigmoid(z)`: punctuation
# (not a comma between digits, 1,000), a wide space, a word or an arrow of reasoning between two equations of
# one row (`\,` and `\;` are thin spaces, not punctuation). After a linking word or an arrow (`, so`,
# `\implies`) the equation is a consequence: it takes no `given` or `let` from the row's start.
_CONNECTIVE = (r"\\(?:Rightarrow|Longrightarrow|implies|therefore|because|iff|Leftrightarrow|Longleftrightarrow)"
               r"(?![A-Za-z])")
_LINKING_WORDS = (r"so|then|thus|hence|therefore|implies|giving|which\s+gives|which\s+means|we\s+get|we\s+have"
                  r"|i\.e\.?")
_SEPARATOR = re.compile(
    r"(?:(?<!\\)(?:;|(?<!\d),|,(?!\d))|\\q?quad(?![A-Za-z])"
    r"|(?<![\w\\])(?P<word>where|and|with|since|because|" + _LINKING_WORDS + r")(?![\w.])"
    r"|(?P<arrow>" + _CONNECTIVE + r"))(?:\s|~|\\[,;:! ]|\\q?quad(?![A-Za-z]))*")
_LEADING_CONNECTIVE = re.compile(r"\s*(" + _CONNECTIVE + r")")
_TRAILING_CONNECTIVE = re.compile(r"(" + _CONNECTIVE + r")\s*$")
# `f(x) := x^2`, `f(x) \coloneqq x^2`, `g \triangleq x^3`: a definition's equals sign
_DEFINING_EQUALS = re.compile(r":=|\\(?:coloneqq|triangleq)(?![A-Za-z])")
_HEAD = re.compile(r"\s*(let|where|[Gg]iven)(?=\s)")
# `where u = x^2`, `u_1 = ...`, `\hat{y} = ...`: an aside that defines one name
_NAMES_ONE = re.compile(r"\s*(?:where\s+)?(?P<name>[A-Za-z]\w*|\\[A-Za-z]+(?:\s*\{[^{}]*\})?)"
                        r"(?:\s*_\s*(?:\{[^{}]*\}|\w))?\s*=")
_DEFINING_START = re.compile(r"\s*where(?!\w)")
_A_NUMBER = re.compile(r"=\s*[-+]?\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$")
_OPENING, _CLOSING = "([{", ")]}"


@dataclass(frozen=True)
class _Part:
    """One statement cut from a row: `main` (the row's first), an aside, or an aside that `defines`."""

    begin: int
    end: int
    kind: Literal["main", "aside", "defines"] = "main"
    head: str = ""  # the `given` or `let` of the row, for a part after the first
    linking: bool = False  # after a linking word or an arrow (`, so`, `\implies`): a consequence


def _top_level(piece: str) -> list[bool]:
    """For each character of `piece`, whether it is outside every bracket (not in f(x, y), a_{i,j})."""
    depth, out = 0, []
    for char in piece:
        if char in _CLOSING:
            depth = max(depth - 1, 0)
        out.append(depth == 0)
        if char in _OPENING:
            depth += 1
    return out


def _cut_between_equations(cleaned: str, spans: list[tuple[int, int]], breaks: Collection[int],
                           joined: Mapping[int, str]) -> tuple[str, list[list[_Part]]]:
    """Cut a row with several equations (`z = wx + b \\qquad y = \\sigma(z)`, `u = x^2, v = x`, two columns
    of an align) into statements, grouped by row: at a separator, or at one of `breaks`, with an `=` outside
    brackets on each side, where the right side does not go on with the chain (`, \\qquad = 3x^2`: the
    punctuation is left out). A row read as one chain made a product of the two (b·y) and refuted both.
    A span that starts where a joining remark ended (`joined`, `\\text{where}`) is an aside of the row above."""
    groups: list[list[_Part]] = []
    for begin, end in spans:
        word = joined.get(begin)
        if word is not None and groups:
            group = groups[-1]
            kind: Literal["main", "aside", "defines"] = "defines" if word == "where" else "aside"
        else:
            group, kind = [], "main"
            groups.append(group)
        piece = cleaned[begin:end]
        if "=" not in piece:
            group.append(_Part(begin, end, kind))
            continue
        top = _top_level(piece)
        equals = [begin + i for i, char in enumerate(piece) if char == "=" and top[i]]
        cuts = [(m.start(), m.end(), m["word"], m["arrow"]) for m in _SEPARATOR.finditer(cleaned, begin, end)
                if top[m.start() - begin]]
        cuts += [(a, a + 1, None, None) for a in breaks if begin <= a < end and top[a - begin]]
        head = _HEAD.match(piece)
        start, inherits = begin, True
        for a, b, word, arrow in sorted(cuts):
            linking = arrow is not None or word not in (None, "where", "and", "with")
            if a >= start and (word not in (None, "where") or arrow) and not cleaned[start:a].strip():
                start = b  # `, since d/dx(3x + 1) = 3`, `, so dy/dx = ...`: the word after the comma goes too
                inherits = inherits and not linking
                continue
            if a < start or not any(start <= e < a for e in equals) or not any(e >= b for e in equals):
                continue
            if cleaned[b:end].lstrip().startswith("="):  # the chain goes on: `= 3x \cdot x, \qquad = 3x^2`
                cleaned = blank(cleaned, a, b)
                continue
            group.append(_Part(start, a, kind, head.group(1) if head and kind != "main" and inherits else "",
                               not inherits))
            defines = word == "where" or _DEFINING_START.match(cleaned, b) is not None  # `, where y = ...`
            kind = "defines" if defines else "aside"
            inherits = not linking
            start = a if word == "where" else b  # `where y = ...` reads as a definition, as at a row's start
        group.append(_Part(start, end, kind, head.group(1) if head and kind != "main" and inherits else "",
                           kind != "main" and not inherits))
    return cleaned, groups


# --------------------------------------------------------------------------------------------------
# Statements.


def read_statements(
    text: str, *, latex: bool | None = None, limits: Limits = DEFAULT_LIMITS, e_is_a_name: bool = False
) -> list[Statement]:
    """Read a derivation: definitions in order, claims as chains, continuations joined to the chain above.

    A derivation that defines a name e below a line that wrote e (as Euler's number, then) is read again
    with e a name throughout, as the contract says; except e to a power with a variable in it (e^{-z}),
    which only Euler's number is raised to in such notes."""
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > limits.max_text_chars:
        raise LimitError(f"input too long: {len(text)} characters (at most {limits.max_text_chars})")
    text = unify_line_ends(text)
    latex = is_latex(text, latex)
    cleaned, spans, heads, asides = rows(text, latex=latex)
    if len(spans) > limits.max_lines:
        raise LimitError(f"too many lines: {len(spans)} (at most {limits.max_lines})")
    if not spans:
        raise ParseError("empty input: no definitions or equations found", context=caret_context(text, 1, 1))
    statements: list[Statement] = []
    seen = _Seen(statements)
    tied: set[str] = set()  # the functions the given lines so far tie together
    definitions: dict[str, Definition] = {}
    sigma_variable: sympy.Symbol | None = None  # the z of a chain that began with dσ/dz (σ the sigmoid)
    for begin, end in spans:
        first = begin + (len(cleaned[begin:end]) - len(cleaned[begin:end].lstrip()))
        line, column = line_column(text, first)
        context = replace(_context(definitions, limits, seen), e_is_a_name=e_is_a_name)
        chain = parse_span(text, begin, end, latex=latex, start="statement", context=context, cleaned=cleaned)
        assert isinstance(chain, Chain)
        if begin in asides and chain.let and cleaned[begin:end].lstrip().startswith("where"):
            # an aside `where u = x^3` about a u defined above claims it (as a line `u = x^3` would), so
            # that it cannot redefine u in the middle of a chain
            chain = replace(chain, let=False)
        if begin in heads and not (chain.let or chain.given or chain.continues):  # `given a = 1, b = 2`
            chain = replace(chain, given=heads[begin].lower() == "given", let=heads[begin] != "given")
        try:
            statement = replace(_classify(chain, line, definitions, statements, text, first, tied), column=column,
                                aside=begin in asides)
        except DefinitionError as error:
            raise at_statement(error, text, line, column) from None
        if (statement.definition is not None and statement.definition.name == "e" and not e_is_a_name
                and any(part.has(sympy.E, sympy.exp) for earlier in statements for part in earlier.parts)):
            return read_statements(text, latex=latex, limits=limits, e_is_a_name=True)
        if begin in asides and not chain.let and _a_condition(statement, statements):
            # `\quad \text{at } x = 1`, `2x - 4 = 0, x = 2`: where the row's equation is taken, not a definition
            _take_at(statements, statement)
            continue
        if statement.definition is not None:
            definitions.pop(statement.definition.name, None)
            definitions[statement.definition.name] = statement.definition
        if statement.kind == "given":
            tied |= {f.func.__name__ for part in statement.parts for f in part.atoms(AppliedUndef)}
        if statement.kind == "claim":
            sigma_variable = _sigma_variable(statement, definitions, sigma_variable if statement.continues else None)
            if sigma_variable is not None:
                sigma = symbol("sigma")
                statement = replace(statement, parts=tuple(part.xreplace({sigma: sigmoid(sigma_variable)})
                                                           for part in statement.parts))
        statements.append(statement)
    return statements


def _take_at(statements: list[Statement], condition: Statement) -> None:
    """The row's equation (the last one that is not an aside) at the condition's point: x = 1 put in, and
    a derivative by x taken there (dy/dx(1)), as `dy/dx = 2x = 2 \\quad \\text{at } x = 1` means."""
    assert condition.definition is not None
    name, value = symbol(condition.definition.name), condition.definition.expr
    index = _main_index(statements)
    if index is None or statements[index].kind != "claim":
        return
    claim = statements[index]

    def at(part: sympy.Expr) -> sympy.Expr:
        return sympy.Subs(part, name, value) if part.has(sympy.Derivative) else part.xreplace({name: value})

    # Only the chain's last step is an equation at the point (6x + 2 = 14 at x = 2); the steps before it are
    # identities still (dy/dx = 6x + 2), or a wrong formula would hold because it holds at the point.
    last = (at(claim.parts[-2]), at(claim.parts[-1]))
    if len(claim.parts) == 2:
        statements[index] = replace(claim, parts=last)
    else:
        statements[index: index + 1] = [replace(claim, parts=claim.parts[:-1]), replace(claim, parts=last,
                                                                                         continues=True)]


def _main_index(statements: Sequence[Statement]) -> int | None:
    """Where the last statement that is not an aside stands: the equation of the row being read."""
    return next((i for i in range(len(statements) - 1, -1, -1) if not statements[i].aside), None)


def _a_condition(statement: Statement, earlier: Sequence[Statement]) -> bool:
    """An aside that gives a variable of its row's claim a number (`at x = 1`): a condition on that claim,
    which made x = 1 a definition for every line below (d/dx x^3 = 3 was proved)."""
    definition = statement.definition
    if definition is None or definition.params or definition.expr.free_symbols:
        return False
    name = symbol(definition.name)
    index = _main_index(earlier)
    main = earlier[index] if index is not None else None
    # after a definition (x(t) = A cos(ω t), ω = 3) a number is the value of a parameter: a definition
    return main is not None and main.kind == "claim" and any(name in part.free_symbols for part in main.parts)


def _sigma_variable(statement: Statement, definitions: Mapping[str, Definition],
                    chain: sympy.Symbol | None) -> sympy.Symbol | None:
    """The z that a bare σ in this claim stands beside as σ(z): the claim (or the chain it continues,
    `chain`) takes dσ/dz with σ undefined, the sigmoid's derivative, as ML notes write σ' = σ(1 - σ).
    None when σ or z is a variable of a definition (E = 1/2(a - σ)^2, z = w x + b: then σ is not simply
    the sigmoid of z) or the claim takes a derivative by σ."""
    sigma = symbol("sigma")
    if "sigma" in definitions:
        return None
    derivatives = [d for part in statement.parts for d in part.atoms(sympy.Derivative)]
    if any(sigma in d.variables for d in derivatives):
        return None
    variables = {d.variables[0] for d in derivatives if isinstance(d.expr, sigmoid) and d.expr.args == d.variables[:1]}
    if chain is not None:
        variables.add(chain)
    if len(variables) != 1:
        return None
    (variable,) = variables
    used = {s for d in definitions.values() for s in d.expr.free_symbols}
    if variable.name in definitions or variable in used or sigma in used:
        return None
    return variable


def at_statement(error: DefinitionError, text: str, line: int, column: int) -> DefinitionError:
    """`error` at the statement that starts at `line`, `column` of `text`, unless it has a place already
    (a line of its own, another statement's: at the start of that line)."""
    if error.column is not None:
        return error
    if error.line is not None and error.line != line:
        line, column = error.line, 1
    return DefinitionError(error.message, line=line, column=column, context=caret_context(text, line, column),
                           name=error.name)


def read_definition(text: str, *, latex: bool | None = None, known: Iterable[Definition] = ()) -> Definition:
    """Read one definition such as `y(z) = sigmoid(z)` or `h = w*x + b` (for `where=` arguments)."""
    if not isinstance(text, str):
        raise ParseError(f"expected a definition as text, got {type(text).__name__}")
    definitions = {d.name: d for d in known}
    latex = is_latex(text, latex)
    cleaned, spans, *_ = rows(text, latex=latex)
    if len(spans) != 1:
        raise ParseError("a definition is one line: NAME = EXPR or NAME(args) = EXPR",
                         context=caret_context(text, 1, 1))
    begin, end = spans[0]
    chain = parse_span(text, begin, end, latex=latex, start="statement",
                       context=replace(_context(definitions, DEFAULT_LIMITS, _Seen(())), defined_in="where"),
                       cleaned=cleaned)
    assert isinstance(chain, Chain)
    definition = _as_definition(chain, 1, definitions, force=True)
    if definition is None:
        raise ParseError(
            "not a definition: write NAME = EXPR or NAME(args) = EXPR, e.g. y(z) = sigmoid(z)",
            context=caret_context(text, 1, 1),
        )
    return definition


def _context(definitions: dict[str, Definition], limits: Limits, seen: _Seen | None = None) -> ParseContext:
    """What the parser needs to know about the definitions so far, and about the lines so far of a
    derivation being read (`seen`; None for an expression outside one): live views, nothing copied per
    line."""
    derivation = seen is not None
    seen = seen if seen is not None else _Seen(())
    return ParseContext(variables=_Leaves(definitions), functions=_FunctionNames(definitions), limits=limits,
                        derivation=derivation, seen=seen, seen_forms=seen.forms)


def parse_context(definitions: Iterable[Definition], limits: Limits = DEFAULT_LIMITS) -> ParseContext:
    """How an expression to differentiate reads under its definitions (`derive diff --where`): `y(z)` as y
    and `y(1 - y)` as a product after `y = sigmoid(z)`, a defined `e` as that name; dN/dv as in a line
    of a derivation, of a defined N, a variable or a function N(v) written in the expression."""
    return replace(_context({d.name: d for d in definitions}, limits, _Seen(())), defined_in="where")


class _Seen(Collection[str]):
    """The names the statements so far use (their free symbols) and the argument lists they apply names to,
    asked only of a dN/dv whose N is not defined: gathered from the lines not yet seen on each question,
    so that a derivation of thousands of lines reads each line once for it, or not at all."""

    def __init__(self, statements: Sequence[Statement]) -> None:
        self._statements = statements  # the derivation's list, which grows as it is read
        self._read = 0
        self._names: set[str] = set()
        self._forms: dict[str, set[tuple[sympy.Basic, ...]]] = {}

    def _catch_up(self) -> None:
        from derive.parse import function_forms

        for statement in self._statements[self._read:]:
            self._names.update(getattr(s, "name", "") for part in statement.parts for s in part.free_symbols)
            for name, forms in function_forms(statement.parts).items():
                self._forms.setdefault(name, set()).update(forms)
        self._read = len(self._statements)
        self._names.discard("")

    def __contains__(self, name: object) -> bool:
        self._catch_up()
        return name in self._names

    def forms(self, name: str) -> set[tuple[sympy.Basic, ...]]:
        """The argument lists the statements so far apply `name` to (y(x) above makes dy/dx y'(x) here)."""
        self._catch_up()
        return set(self._forms.get(name, ()))

    def __iter__(self) -> Iterator[str]:
        self._catch_up()
        return iter(sorted(self._names))

    def __len__(self) -> int:
        self._catch_up()
        return len(self._names)


class _Leaves(Mapping[str, frozenset[str]]):
    """Name defined without parameters -> the leaf variables of its definition, through other definitions.

    Computed only when the parser asks (`y(z)` after `y = sigmoid(z)`), so a derivation with thousands of
    definitions costs nothing for the names it never applies.
    """

    def __init__(self, definitions: dict[str, Definition]) -> None:
        self._definitions = definitions

    def __getitem__(self, name: str) -> frozenset[str]:
        definition = self._definitions.get(name)
        if definition is None or definition.params:
            raise KeyError(name)
        return _leaves(definition, self._definitions)

    def __contains__(self, name: object) -> bool:
        definition = self._definitions.get(name) if isinstance(name, str) else None
        return definition is not None and not definition.params

    def __iter__(self) -> Iterator[str]:
        return (name for name, d in self._definitions.items() if not d.params)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _FunctionNames(Collection[str]):
    """Names defined with parameters (`y(z) = ...`), which stay applications."""

    def __init__(self, definitions: dict[str, Definition]) -> None:
        self._definitions = definitions

    def __contains__(self, name: object) -> bool:
        definition = self._definitions.get(name) if isinstance(name, str) else None
        return definition is not None and bool(definition.params)

    def __iter__(self) -> Iterator[str]:
        return (name for name, d in self._definitions.items() if d.params)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _leaves(definition: Definition, definitions: dict[str, Definition]) -> frozenset[str]:
    """Names of the leaf variables a definition depends on, through other definitions."""
    seen: set[str] = set()
    leaves: set[str] = set()
    todo = [definition]
    while todo:
        d = todo.pop()
        if d.name in seen:
            continue
        seen.add(d.name)
        for s in d.expr.free_symbols:
            name = getattr(s, "name", "")
            if name in definitions and name != d.name:
                todo.append(definitions[name])
            else:
                leaves.add(name)
    return frozenset(leaves)


def _classify(
    chain: Chain,
    line: int,
    definitions: dict[str, Definition],
    earlier: list[Statement],
    text: str,
    index: int,
    tied: set[str],
) -> Statement:
    """What a line is: a claim, a definition or a given. `tied`: the functions the givens so far tie."""
    if chain.continues:
        # `y = (x + 1)^2` then `= x^2 + 2x + 1`: the step relates the last expression above to the new one,
        # whether the line above is a claim or a definition.
        if not earlier:
            raise _error(text, index, "a line that starts with '=' continues the equation above, but there is none")
        previous = next((s for s in reversed(earlier) if not s.aside), earlier[-1])
        if previous.kind == "given":
            raise _error(text, index, "a line that starts with '=' continues an equation, but the line above is "
                                      "a given: write the claim in full")
        return Statement(line=line, kind="claim", parts=(previous.parts[-1], *chain.parts), continues=True)
    if chain.given:
        if len(chain.parts) != 2:
            raise _error(text, index, "after 'given', write one equation: A = B, e.g. given x^2 + y(x)^2 = 1")
        # `Given f(x) = x^2 + 1`, as prose says it: a definition, of an f no given ties and that its body
        # does not hold (given x(t) = 3t below x(t)^2 + y(t)^2 = 25, or y(x) = x + sin(y(x)), is assumed)
        lhs, rhs = chain.parts
        head = lhs.func.__name__ if isinstance(lhs, AppliedUndef) else lhs.name if isinstance(lhs, sympy.Symbol) else ""
        own = {f.func.__name__ for f in rhs.atoms(AppliedUndef)} | {str(s) for s in rhs.free_symbols}
        if head and head not in tied and head not in own:
            definition = _as_definition(chain, line, definitions, force=False)
            if definition is not None:
                return Statement(line=line, kind="definition", parts=chain.parts, definition=definition)
        return Statement(line=line, kind="given", parts=chain.parts)
    tied = tied if not chain.let else set()
    head = chain.parts[0] if chain.written in ("name", "call") and len(chain.parts) == 2 else None
    name = (head.func.__name__ if isinstance(head, AppliedUndef)
            else head.name if isinstance(head, sympy.Symbol) else None)
    if name in tied and name not in definitions:
        if isinstance(head, sympy.Symbol):
            raise _error(text, index, f"{name} is a function of the given above, {name}(...): write {name}(x) = ... "
                                      f"to claim what it is there, or let {name} = ... for a new {name}")
        # after `given x^2 + y(x)^2 = 1`, `y(x) = sqrt(1 - x^2)` claims a solution, even `y(x) = x/y(x)`
        return Statement(line=line, kind="claim", parts=chain.parts)
    definition = _as_definition(chain, line, definitions, force=chain.let)
    if definition is not None:
        return Statement(line=line, kind="definition", parts=chain.parts, definition=definition)
    if chain.let:
        raise _error(text, index, "after 'let', write a definition: NAME = EXPR or NAME(args) = EXPR")
    if len(chain.parts) < 2:
        raise _error(text, index, "expected an equation (A = B) or a definition (NAME = EXPR)")
    return Statement(line=line, kind="claim", parts=chain.parts)


def _as_definition(
    chain: Chain, line: int, definitions: dict[str, Definition], *, force: bool
) -> Definition | None:
    """A chain `NAME = EXPR` or `NAME(x, y) = EXPR` whose NAME is new (or after `let`) defines NAME.

    The left side must be written so (`Chain.written`), not only be a name once sympy has built it:
    `2w - w = 5` and `exp(log(x)) = x` are claims."""
    if len(chain.parts) != 2 or chain.continues or chain.written is None:
        return None
    lhs, rhs = chain.parts
    if lhs is sympy.E and chain.written == "name":  # `e = ...` defines a name e, replacing Euler's number
        lhs = symbol("e")
    # y(z) reads as y itself once y is defined without parameters: `let y(z) = ...` redefines y.
    if isinstance(lhs, sympy.Symbol) and (chain.written == "name" or lhs.name in definitions):
        name, params = lhs.name, ()
    elif chain.written == "call" and isinstance(lhs, AppliedUndef) and all(
        isinstance(a, sympy.Symbol) for a in lhs.args
    ) and len(set(lhs.args)) == len(lhs.args):
        name, params = lhs.func.__name__, tuple(lhs.args)
    else:
        return None
    if name in definitions and not force:
        return None  # `y = ...` about a defined y is a claim; `let y = ...` redefines it
    if rhs.has(sympy.Derivative) and any(
        isinstance(d.expr, sympy.Symbol) and d.expr.name == name for d in rhs.atoms(sympy.Derivative)
    ):
        return None
    body_names = {s.name for s in rhs.free_symbols} | {f.func.__name__ for f in rhs.atoms(AppliedUndef)}
    if name in body_names and name not in {p.name for p in params} and (force or name not in definitions):
        raise DefinitionError(f"{name} is defined in terms of itself ({to_text(lhs)} = {to_text(rhs)})", line=line)
    return Definition(name=name, params=params, expr=rhs, line=line)


def _error(text: str, index: int, message: str) -> ParseError:
    line, column = line_column(text, index)
    return ParseError(message, line=line, column=column, context=caret_context(text, line, column))
