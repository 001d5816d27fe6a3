"""Fuzzing: random and mutated input either parses or raises a ParseError with a readable message, in time.

The default run is short; `DERIVE_LONG_FUZZ=1` runs the long variant (tens of thousands of inputs).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import DefinitionError, ParseError, parse
from derive.statements import read_statements

# A generous bound per input: a parse takes milliseconds; only a hang or a blow-up comes near it.
BOUND = timedelta(seconds=5)
LONG = os.environ.get("DERIVE_LONG_FUZZ") == "1"
long_only = pytest.mark.skipif(not LONG, reason="long fuzz runs only with DERIVE_LONG_FUZZ=1")

# What a message must never show: parser internals instead of words.
INTERNALS = ("_RPAREN", "_LPAREN", "LPAR", "RPAR", "$END", "Token(", "Unexpected", "lark", "Expected one of",
             "Traceback", "SympifyError", "__ANON", "Tree(", "VisitError")

TOKENS = [
    "x", "y", "z", "w", "e", "2", "10", "0.5", ".", "9^9", "+", "-", "*", "/", "^", "**", "(", ")", "[", "]", "{", "}",
    "|", "=", ",", "'", " ", "\n", "_", "_{12}", "sin", "sin(", "log(", "sigmoid(", "σ", "α", "π", "∂", "²", "·", "−",
    "d/dx", "dE/dz", "dy/dz(", "f'(", "diff(", "let ", "#", "%", "&", "&=", "\\\\", "$", "\\frac", "\\frac12",
    "\\frac{d}{dx}", "\\frac{\\partial E}{\\partial z}", "\\frac{d^2}{dx^2}", "\\left(", "\\right)", "\\left|",
    "\\right|", "\\big(", "\\sqrt", "\\sqrt[3]", "\\sin", "\\tanh^2", "\\sin^{-1}", "\\log_", "\\sigma", "\\sigma'",
    "\\alpha", "\\pi", "\\cdot", "\\times", "\\,", "\\quad", "\\operatorname{relu}", "\\mathrm{d}", "\\prime", "^{",
    "{\\left(", "\\begin{align}", "\\end{align}", "\\label{a}", "\\text{ so }", "\\foo", "\\", "\x00", "\u200b",
]

CORPUS = [
    "1/2*(a - y(z))^2",
    "d/dx(x^2 sin(x)) = 2x sin(x) + x^2 cos(x)",
    "dE/dz = dy/dz * dE/dy",
    "y = sigmoid(z)\ndy/dz = y(1 - y)\n= y - y^2",
    "f'(g(x)) * g'(x)",
    "|x - |y|| + e^(-x^2/2)",
    "log(x, 2) + sqrt(abs(x)) + relu(x) - softplus(x)",
    r"\frac{1}{2}\left(a - \sigma(z)\right)^{2}",
    r"\frac{\partial E}{\partial z} = \frac{\partial y}{\partial z} \frac{\partial E}{\partial y}",
    r"\tanh^2(z) + \sin^{-1} x + \log_2 x + 2\frac{1}{2} + w_{12}",
    r"\begin{align} E &= \frac12 (a - y)^2 \\ &= \sqrt[3]{x} \end{align}",
    r"\sin^{2}{\left(x \right)} + f^{2}{\left(x \right)} + \operatorname{asin}{\left(x \right)}",
]


def parses_or_fails_cleanly(text: str, latex: bool | None) -> None:
    try:
        result = parse(text, latex=latex)
    except ParseError as error:
        shown = str(error)
        assert error.message, text
        # (a word the input itself holds may be quoted back: `:lark` is unexpected at ':')
        assert not any(internal in shown for internal in INTERNALS if internal not in text), shown
        assert error.line >= 1 and error.column >= 1
    else:
        assert isinstance(result, sympy.Basic)


def test_an_input_that_holds_a_word_of_the_parser_is_quoted_back_as_written() -> None:
    parses_or_fails_cleanly(":lark", None)  # "unexpected character ':'", then the line as it was written


def reads_or_fails_cleanly(text: str) -> None:
    try:
        read_statements(text)
    except ParseError as error:
        assert not any(internal in str(error) for internal in INTERNALS if internal not in text), str(error)
    except DefinitionError:
        pass


token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
modes = st.sampled_from([None, True, False])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid input with a few byte-level edits: deletions, insertions, replacements, duplicated slices."""
    data = bytearray(draw(st.sampled_from(CORPUS)).encode("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        byte = draw(st.integers(min_value=0, max_value=255))
        if kind == "delete" and position < len(data):
            del data[position]
        elif kind == "insert":
            data.insert(position, byte)
        elif kind == "replace" and position < len(data):
            data[position] = byte
        else:
            end = draw(st.integers(min_value=position, max_value=min(len(data), position + 12)))
            data[position:position] = data[position:end]
    return data.decode("utf-8", errors="replace")


SHORT = settings(max_examples=120, deadline=BOUND, suppress_health_check=[HealthCheck.too_slow], database=None)
LONG_RUN = settings(max_examples=20_000, deadline=BOUND, suppress_health_check=list(HealthCheck), database=None)


@SHORT
@given(token_soup, modes)
def test_token_soup_parses_or_raises_a_parse_error(text: str, latex: bool | None) -> None:
    parses_or_fails_cleanly(text, latex)


@SHORT
@given(st.text(max_size=40), modes)
def test_arbitrary_text_parses_or_raises_a_parse_error(text: str, latex: bool | None) -> None:
    parses_or_fails_cleanly(text, latex)


@SHORT
@given(mutated(), modes)
def test_mutated_valid_input_parses_or_raises_a_parse_error(text: str, latex: bool | None) -> None:
    parses_or_fails_cleanly(text, latex)


@settings(max_examples=80, deadline=BOUND, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.one_of(mutated(), token_soup))
def test_mutated_derivations_read_or_raise_a_parse_or_definition_error(text: str) -> None:
    reads_or_fails_cleanly(text)


@pytest.mark.slow
@long_only
@LONG_RUN
@given(st.one_of(token_soup, mutated(), st.text(max_size=80)), modes)
def test_long_fuzz_of_expressions(text: str, latex: bool | None) -> None:
    parses_or_fails_cleanly(text, latex)


@pytest.mark.slow
@long_only
@LONG_RUN
@given(st.one_of(token_soup, mutated(), st.text(max_size=80)))
def test_long_fuzz_of_derivations(text: str) -> None:
    reads_or_fails_cleanly(text)
