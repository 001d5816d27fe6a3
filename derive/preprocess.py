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

_DELIMITERS = re.compile(r"\$\$|\$|\\\[|\\\]|\\\(|\\\)")
_OPERAND_END = re.compile(r"[\w)\]}'!" + CLOSE_BAR + r"]")


def blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces, keeping newlines so line numbers stay right."""
    piece = "".join("\n" if ch == "\n" else " " for ch in text[start:end])
    return text[:start] + piece + text[end:]


def strip_math_delimiters(text: str) -> str:
    """Blank `$ $`, `$$ $$`, `\\[ \\]` and `\\( \\)`: they only say 'this is math'."""
    return _DELIMITERS.sub(lambda m: " " * len(m.group()), text)


def pair_bars(text: str) -> str:
    """Mark each `|` as opening or closing an absolute value.

    A bar opens when nothing that could end an operand stands before it (start, an operator, an opening
    bracket, another opening bar), or when no bar is open; otherwise it closes the innermost open bar.
    `\\left|` always opens and `\\right|` always closes.
    """
    out = list(text)
    open_count = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "|":
            before = text[:i].rstrip()
            if before.endswith("\\left"):
                opens = True
            elif before.endswith("\\right"):
                opens = False
            else:
                prev = before[-1:] if before else ""
                ends_operand = bool(prev) and bool(_OPERAND_END.match(prev))
                opens = not ends_operand or open_count == 0
            if opens:
                out[i] = OPEN_BAR
                open_count += 1
            else:
                out[i] = CLOSE_BAR
                open_count = max(open_count - 1, 0)
            # `\left|` / `\right|`: blank the command so only the marker remains.
            for word in ("\\left", "\\right"):
                if before.endswith(word):
                    j = len(before) - len(word)
                    out[j : j + len(word)] = " " * len(word)
        elif ch in "\\" and text.startswith(("\\lvert", "\\rvert"), i):
            out[i : i + 6] = [OPEN_BAR if text[i + 1] == "l" else CLOSE_BAR] + [" "] * 5
            open_count += 1 if text[i + 1] == "l" else -1
            i += 6
            continue
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


def line_column(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of a 0-based index into source."""
    index = max(0, min(index, len(source)))
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column
