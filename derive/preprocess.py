"""Length-preserving clean-up of source text before lexing: positions in errors stay exact.

Every transformation here replaces characters by the same number of characters (mostly spaces), so a
column reported by the lexer is a column in the text the user wrote.
"""

from __future__ import annotations

import re

from derive.errors import LimitError, caret_context
from derive.limits import Limits

OPEN_BAR = "\ue000"
CLOSE_BAR = "\ue001"

# `\[` after a backslash is a row end's spacing (`\\[2pt]`), not display math
MATH_DELIMITERS = re.compile(r"\$\$|\$|(?<!\\)\\[\[\]()]")
_OPERAND_END = re.compile(r"[\w)\]}'!" + CLOSE_BAR + r"]")
# A known function's name right before a bar (ln|x|, \\ln|x|): that bar opens, even inside another |...|.
# The same names as BAR_FUNC in grammar/plain.lark (this module runs before any grammar is loaded).
_FUNCTION_BEFORE = re.compile(
    r"(?<![A-Za-z])(asinh|acosh|atanh|arcsin|arccos|arctan|sinh|cosh|tanh|asin|acos|atan|sin|cos|tan|sec|csc|cot"
    r"|exp|log10|log2|log|ln|sqrt|sigmoid|softplus|relu)\s*$"
)
_LEFT_RIGHT_BAR = re.compile(r"\\(left|right)\s*(?:\||\\vert(?![A-Za-z])|\\lvert(?![A-Za-z])|\\rvert(?![A-Za-z]))")


def blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces, keeping newlines so line numbers stay right."""
    piece = "".join("\n" if ch == "\n" else " " for ch in text[start:end])
    return text[:start] + piece + text[end:]


def strip_math_delimiters(text: str) -> str:
    """Blank `$ $`, `$$ $$`, `\\[ \\]` and `\\( \\)`: they only say 'this is math'."""
    return MATH_DELIMITERS.sub(lambda m: " " * len(m.group()), text)


def pair_bars(text: str) -> str:
    """Mark each `|` as opening or closing an absolute value (one pass, linear in the text).

    A bar opens when no bar is open, or when nothing that could end an operand stands before it (start,
    an operator, an opening bracket, another opening bar); otherwise it closes the innermost open bar.
    `\\left|` and `\\lvert` always open, `\\right|` and `\\rvert` always close; the commands are blanked
    so that only the marker remains. `|x - |y||` is |x - |y||, `|a||b|` is |a|·|b|, and a bar right after
    a known function's name opens (`|ln|x||`).
    """
    out = list(text)
    open_count = 0
    previous = ""  # the last character that is not a space, as already marked
    i = 0
    while i < len(text):
        ch = text[i]
        forced: bool | None = None
        width = 1
        if ch == "\\" and text.startswith(("\\lvert", "\\rvert"), i) and not text[i + 6 : i + 7].isalpha():
            forced, width = text[i + 1] == "l", 6
        elif ch == "\\":
            m = _LEFT_RIGHT_BAR.match(text, i)
            if m:
                forced, width = m.group(1) == "left", m.end() - i
        if forced is not None or ch == "|":
            opens = forced if forced is not None else (
                open_count == 0 or not _OPERAND_END.match(previous or " ")
                or (previous.isalnum() and _FUNCTION_BEFORE.search(text, max(0, i - 12), i) is not None)
            )
            marker = OPEN_BAR if opens else CLOSE_BAR
            out[i : i + width] = ["\n" if c == "\n" else " " for c in text[i : i + width - 1]] + [marker]
            open_count = open_count + 1 if opens else max(open_count - 1, 0)
            previous = marker
            i += width
            continue
        if not ch.isspace():
            previous = ch
        i += 1
    return "".join(out)


def check_nesting(text: str, limits: Limits, *, source: str | None = None, offset: int = 0) -> None:
    """Refuse bracket nesting deeper than the limit before the parser builds a deep tree."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{" + OPEN_BAR:
            depth += 1
            if depth > limits.max_depth:
                raise _limit_at(f"brackets nested more than {limits.max_depth} deep", source or text, offset + i)
        elif ch in ")]}" + CLOSE_BAR:
            depth -= 1


def _limit_at(message: str, source: str, index: int) -> LimitError:
    line, column = line_column(source, index)
    return LimitError(message, line=line, column=column, context=caret_context(source, line, column))


# Line ends other than \n: a lone carriage return (old Mac files), the Unicode line and paragraph
# separators (pasted from the web). Each is one character, so replacing it by \n keeps every position.
_OTHER_LINE_END = re.compile("\r(?!\n)|[\u2028\u2029]")


def unify_line_ends(text: str) -> str:
    """The text with every line end written \n (a CRLF keeps its \r, which is blank)."""
    return _OTHER_LINE_END.sub("\n", text) if "\r" in text or "\u2028" in text or "\u2029" in text else text


def line_column(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of a 0-based index into source."""
    index = max(0, min(index, len(source)))
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column
