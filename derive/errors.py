"""Errors raised by derive: every user-facing failure is a DeriveError, never a traceback."""

from __future__ import annotations


class DeriveError(ValueError):
    """Base class of every error derive raises on bad input or exhausted limits."""


class ParseError(DeriveError):
    """Input text that cannot be read; carries the position and a caret under the fault."""

    def __init__(self, message: str, *, line: int = 1, column: int = 1, context: str = "",
                 undefined: str | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.context = context
        # the name N of a dN/dv it refuses, N not being defined (a file's reader says where else it is)
        self.undefined = undefined
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"line {self.line}, column {self.column}: {self.message}"
        return f"{text}\n{self.context}" if self.context else text

    def __reduce__(self):  # keep the keyword-only fields across pickling (worker processes)
        return (_rebuild_parse_error, (self.message, self.line, self.column, self.context, self.undefined))


def _rebuild_parse_error(message: str, line: int, column: int, context: str,
                         undefined: str | None = None) -> ParseError:
    return ParseError(message, line=line, column=column, context=context, undefined=undefined)


class LimitError(ParseError):
    """Input that is well formed but exceeds a resource limit (length, depth, digits, power size)."""

    def __reduce__(self):
        return (_rebuild_limit_error, (self.message, self.line, self.column, self.context))


def _rebuild_limit_error(message: str, line: int, column: int, context: str) -> LimitError:
    return LimitError(message, line=line, column=column, context=context)


class DefinitionError(DeriveError):
    """A definition that cannot be used: cyclic, self-referential or malformed; at the line and column
    of the statement where that shows, with a caret under it, once known (`derive.check` knows them)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 context: str = "", name: str | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.context = context
        self.name = name  # the defined name it is about, when that is all that is known of its place
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = "" if self.line is None else f"line {self.line}" + (
            "" if self.column is None else f", column {self.column}") + ": "
        return f"{where}{self.message}" + (f"\n{self.context}" if self.context else "")

    def __reduce__(self):  # keep the keyword-only fields across pickling (worker processes)
        return (_rebuild_definition_error, (self.message, self.line, self.column, self.context, self.name))


def _rebuild_definition_error(message: str, line: int | None, column: int | None, context: str,
                              name: str | None) -> DefinitionError:
    return DefinitionError(message, line=line, column=column, context=context, name=name)


def caret_context(text: str, line: int, column: int) -> str:
    """The offending line with a caret under column (both 1-based). Lines end at \n only, as positions
    count them (`preprocess.line_column`): a form feed inside a line is a space, not a line end."""
    lines = text.split("\n")
    source = lines[line - 1].removesuffix("\r") if 0 < line <= len(lines) else ""
    if len(source) > 120:  # keep the caret visible on long lines
        start = max(0, column - 60)
        source = ("…" if start else "") + source[start : start + 120]
        column = column - start + (1 if start else 0)
    return f"{source}\n{' ' * max(column - 1, 0)}^"
