"""Derivations found in files: plain text, LaTeX `% derive: check` blocks, Markdown ```derivation fences."""

from __future__ import annotations

import pytest

from derive.errors import DefinitionError, DeriveError, ParseError
from derive.sources import Block, Where, check_source, decode, extract, kind_of, read_source

TEX = r"""\documentclass{article}
\begin{document}
The loss of one neuron.
% derive: check where y = sigmoid(z); E = 1/2(a-y)^2
\begin{align*}
\frac{\partial E}{\partial z} &= \frac{\partial E}{\partial y} \frac{\partial y}{\partial z} \\
  &= -(a - y) \, y (1 - y)
\end{align*}
Not marked, so not checked:
\begin{align}
x &= y + 1
\end{align}
% derive: check
  \begin{equation} \frac{d}{dx} x^3 = 2x^2 \end{equation} and text after it.
\end{document}
"""

MARKDOWN = """# Notes

```python
x = 1
```

```derivation
d/dx(x^3) = 3x^2
d/dx(sin(x)^2) = 2 sin(x) cos(x)
  = sin(2x) = 2 cos(x)
```

````markdown
```derivation
d/dx(x) = 5
```
````
"""


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the file on which `needle` stands: the oracle for reported lines."""
    return next(number for number, line in enumerate(text.split("\n"), start=1) if needle in line)


def column_of(text: str, needle: str) -> int:
    return text.split("\n")[line_of(text, needle) - 1].index(needle) + 1


# --- kinds and extraction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("notes.tex", "latex"), ("NOTES.TEX", "latex"), ("a/b.ltx", "latex"), ("notes.md", "markdown"),
        ("notes.markdown", "markdown"), ("notes.txt", "plain"), ("-", "plain"), ("derivation", "plain"),
        # what pre-commit's `tex` type also covers: a style or class file has no derivation unless marked
        ("mystyle.sty", "latex"), ("thesis.cls", "latex"), ("package.dtx", "latex"), ("refs.bbl", "latex"),
    ],
    ids=lambda value: str(value),
)
def test_the_suffix_decides_how_a_file_is_read(path: str, kind: str) -> None:
    assert kind_of(path) == kind


@pytest.mark.parametrize("end", ["\r", "\r\n", "\u2028"], ids=["CR", "CRLF", "LINE SEPARATOR"])
def test_every_kind_of_line_end_ends_a_line(end: str) -> None:
    text = end.join(["f = x^2", "df/dx = 3x", "df/dx = 2x", ""])
    report = check_source("notes.txt", text)
    assert [(s.line, s.verdict.value) for s in report.steps] == [(2, "refuted"), (3, "proved")]
    md = end.join(["# Notes", "```derivation", "d/dx x^3 = 3x^2", "```", ""])
    assert [(s.line, s.verdict.value) for s in check_source("notes.md", md).steps] == [(3, "proved")]


def test_a_definition_error_in_a_block_is_at_the_line_and_column_of_the_file() -> None:
    md = "# Notes\n\n```derivation\nf = x^2\n  let f = f + 1\n```\n"
    with pytest.raises(DefinitionError, match="defined in terms of itself") as caught:
        check_source("notes.md", md)
    assert (caught.value.line, caught.value.column) == (5, 3)
    assert caught.value.context == "  let f = f + 1\n  ^"
    tex = "Text.\n% derive: check where a = b; b = a\n\\begin{align*} \\frac{da}{dx} &= 0 \\end{align*}\n"
    with pytest.raises(DefinitionError, match="cyclic definitions") as caught:
        check_source("notes.tex", tex)
    assert caught.value.line == 2 and caught.value.context.startswith("% derive: check where")


def test_a_plain_file_is_one_derivation_starting_at_line_one() -> None:
    assert extract("notes.txt", "x = 1\ny = 2\n") == [Block(text="x = 1\ny = 2\n", first_line=1, latex=None)]


def test_only_marked_latex_blocks_are_extracted_with_their_file_lines() -> None:
    blocks = extract("notes.tex", TEX)
    assert [block.first_line for block in blocks] == [line_of(TEX, r"\begin{align*}"), line_of(TEX, "equation")]
    assert all(block.latex for block in blocks)
    assert blocks[0].text.split("\n")[0] == r"\begin{align*}"
    assert blocks[0].text.split("\n")[-1] == r"\end{align*}"


def test_a_latex_block_keeps_the_columns_of_the_file_and_stops_at_its_end() -> None:
    block = extract("notes.tex", TEX)[1]
    source_line = TEX.split("\n")[block.first_line - 1]
    assert block.text.index(r"\begin") == source_line.index(r"\begin")
    assert block.text.endswith(r"\end{equation}")


def test_the_marker_names_definitions_with_their_columns() -> None:
    definitions = extract("notes.tex", TEX)[0].definitions
    marker = line_of(TEX, "derive: check where")
    assert definitions == (
        Where("y = sigmoid(z)", marker, column_of(TEX, "y = sigmoid")),
        Where("E = 1/2(a-y)^2", marker, column_of(TEX, "E = 1/2")),
    )


@pytest.mark.parametrize(
    ("marker", "definitions"),
    [
        ("% derive: check", ()),
        ("%derive:check", ()),
        ("% derive: check where y = 2x", ("y = 2x",)),
        ("% derive: check where: y = 2x;", ("y = 2x",)),
        (r"% derive: check where E = \frac12\;(a - y)^2; y = \sigma(z)", (r"E = \frac12\;(a - y)^2", r"y = \sigma(z)")),
    ],
    ids=["bare", "no-spaces", "one-definition", "colon-and-trailing-semicolon", "latex-spacing-is-not-a-separator"],
)
def test_marker_definitions_are_separated_by_semicolons(marker: str, definitions: tuple[str, ...]) -> None:
    text = f"{marker}\n\\begin{{align}}\nx &= x\n\\end{{align}}\n"
    assert tuple(d.text for d in extract("a.tex", text)[0].definitions) == definitions


def test_blank_and_comment_lines_may_stand_between_marker_and_block() -> None:
    text = "% derive: check\n\n% the loss\n\\begin{align}\nx &= 1\n\\end{align}\n"
    assert [block.first_line for block in extract("a.tex", text)] == [4]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("% derive: check\nsome prose\n", 1, 1),
        ("% derive: check\n% derive: check\n\\begin{align}\nx &= 1\n\\end{align}\n", 1, 1),
        ("% derive: check\n\\begin{align}\nx &= 1\n", 2, 1),
        ("% derive: check because\n\\begin{align}\nx &= 1\n\\end{align}\n", 1, 17),
    ],
    ids=["marker-without-block", "marker-followed-by-marker", "unclosed-environment", "junk-after-marker"],
)
def test_a_malformed_latex_marker_is_bad_input_at_its_position(text: str, line: int, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        extract("a.tex", text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert caught.value.context.endswith("^")


def test_only_derivation_fences_are_extracted_from_markdown() -> None:
    blocks = extract("notes.md", MARKDOWN)
    assert len(blocks) == 1  # the python block and the example inside ````markdown are skipped
    assert blocks[0].first_line == line_of(MARKDOWN, "d/dx(x^3)")
    assert blocks[0].text.split("\n")[-1] == "  = sin(2x) = 2 cos(x)"


@pytest.mark.parametrize(
    ("text", "texts"),
    [
        ("~~~ derivation\nx = 1\n~~~\n", ["x = 1"]),
        ("```Derivation extra words\nx = 1\n```\n", ["x = 1"]),
        ("  ```derivation\n  x = 1\n  ```\n", ["  x = 1"]),
        ("```derivation\nx = 1\n", ["x = 1\n"]),
        ("````derivation\n```\nx = 1\n````\n", ["```\nx = 1"]),
        ("```derivations\nx = 1\n```\n", []),
        ("``` `derivation`\nx = 1\n```\n", []),
    ],
    ids=["tildes", "info-string-words", "indented", "unclosed-runs-to-the-end", "longer-fence", "other-language",
         "backtick-in-info"],
)
def test_markdown_fences_follow_commonmark(text: str, texts: list[str]) -> None:
    assert [block.text for block in extract("a.md", text)] == texts


def test_the_latex_option_applies_to_markdown_blocks() -> None:
    assert extract("a.md", "```derivation\nx = 1\n```\n", latex=True)[0].latex is True


# --- reading files ---------------------------------------------------------------------------------


def test_text_that_is_not_utf8_is_bad_input_at_its_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        decode("x = 1\nyé = \xff\n".encode("latin-1").replace(b"\xe9", "é".encode()))
    assert (caught.value.line, caught.value.column) == (2, 6)
    assert "0xff" in caught.value.message


def test_a_byte_order_mark_is_not_part_of_the_text() -> None:
    assert decode("\ufeffx = 1".encode()) == "x = 1"


def test_a_missing_file_is_bad_input(tmp_path) -> None:
    with pytest.raises(DeriveError, match="cannot read the file"):
        read_source(str(tmp_path / "missing.txt"))


# --- checking, with file line numbers --------------------------------------------------------------


def test_latex_steps_carry_the_lines_of_the_file() -> None:
    report = check_source("notes.tex", TEX)
    lines = [line_of(TEX, r"\frac{\partial E}{\partial z} &="), line_of(TEX, "&= -(a - y)"), line_of(TEX, "2x^2")]
    assert [step.line for step in report.steps] == lines
    assert [step.verdict.value for step in report.steps] == ["proved", "proved", "refuted"]
    assert report.first_error is report.steps[2]


def test_markdown_steps_carry_the_lines_of_the_file() -> None:
    report = check_source("notes.md", MARKDOWN)
    continued = line_of(MARKDOWN, "= sin(2x)")
    assert [(step.line, step.k) for step in report.steps] == [
        (line_of(MARKDOWN, "d/dx(x^3)"), 0), (line_of(MARKDOWN, "d/dx(sin"), 0), (continued, 0), (continued, 1)
    ]
    assert [step.ok for step in report.steps] == [True, True, True, False]


def test_a_file_without_derivation_blocks_has_nothing_to_check() -> None:
    report = check_source("readme.md", "# Title\n\n```python\nx = 1\n```\n")
    assert report.steps == () and report.ok


@pytest.mark.parametrize(
    ("path", "text", "needle"),
    [
        ("a.md", "# t\n\ntext\n```derivation\nx^2 = x x\n  d/dx(sin(x) = 1\n```\n", "= 1"),
        ("a.tex", "intro\n% derive: check\n\\begin{align}\nx^2 &= x x \\\\\n  &= \\foo x\n\\end{align}\n", r"\foo"),
        ("a.tex", "intro\n% derive: check where y = sigmoid(z; E = 1\n\\begin{align}\nx &= 1\n\\end{align}\n", ";"),
        ("a.txt", "d/dx(x^2) = 2x\n\n  sin(x = 1\n", "= 1"),
    ],
    ids=["markdown-block", "latex-block", "latex-where-definition", "plain-file"],
)
def test_a_parse_error_points_at_the_line_and_column_of_the_file(path: str, text: str, needle: str) -> None:
    with pytest.raises(ParseError) as caught:
        check_source(path, text)
    error = caught.value
    assert error.line == line_of(text, needle)
    source_line = text.split("\n")[error.line - 1]
    assert error.context.split("\n")[0] == source_line
    assert 1 <= error.column <= len(source_line) + 1


def test_plain_definitions_in_a_latex_marker_are_read_with_multi_letter_names() -> None:
    text = (
        "% derive: check where loss = (yhat - t)^2\n"
        "\\begin{align}\n"
        "\\frac{\\partial \\mathrm{loss}}{\\partial \\mathrm{yhat}} &= 2(\\mathrm{yhat} - t)\n"
        "\\end{align}\n"
    )
    report = check_source("a.tex", text)
    assert [(step.line, step.verdict.value) for step in report.steps] == [(3, "proved")]


@pytest.mark.parametrize(
    "where",
    ["q = heaviside(x)", "q = relu(w x) + loss(y_pred, t)", "q(u) = sign(u) u^2", "net_out = sigma(w1 x)"],
)
def test_a_plain_definition_in_a_latex_file_is_written_in_latex_that_reads_back(where: str) -> None:
    from derive.statements import read_definition

    name = read_definition(where).name
    text = f"% derive: check where {where}\n\\begin{{align}}\nq &= q\n\\end{{align}}\n".replace("q", name, 2)
    report = check_source("a.tex", text)
    assert [d.name for d in report.definitions] == [name]
    assert report.definitions[0].expr == read_definition(where).expr


def test_a_definition_the_block_notation_cannot_express_is_bad_input_at_the_marker(monkeypatch) -> None:
    import derive.sources

    def cannot(*args: object) -> str:
        raise ValueError("no notation")

    monkeypatch.setattr(derive.sources, "_printed", cannot)
    text = "% derive: check where q = rate x\n\\begin{align}\nq &= q\n\\end{align}\n"
    with pytest.raises(ParseError, match="cannot be read in LaTeX") as caught:
        check_source("a.tex", text)
    assert (caught.value.line, caught.value.column) == (1, text.index("q =") + 1)


# Each block is a derivation of its own (as each fence of a page is on the documentation site): examples
# on one page reuse names, and a definition carried over would turn a later `y = x^2` into a claim. A
# name a block uses without defining it, that an earlier block defines, is pointed out where it fails.
DEFINED_IN_AN_EARLIER_BLOCK = ("```derivation\nE = 1/2 (a - y)^2\ny = sigmoid(z)\n```\n\ntext\n\n"
                               "```derivation\n{}\n```\n")


def test_a_name_defined_only_in_an_earlier_block_is_an_error_that_says_so() -> None:
    text = DEFINED_IN_AN_EARLIER_BLOCK.format("dE/dz = dE/dy dy/dz")
    expected = "E is defined in the block at line 2; each block is read on its own"
    with pytest.raises(ParseError, match=expected) as caught:
        check_source("page.md", text)
    assert (caught.value.line, caught.value.column) == (9, 1)


def test_a_wrong_step_using_a_name_defined_only_in_an_earlier_block_says_so() -> None:
    report = check_source("page.md", DEFINED_IN_AN_EARLIER_BLOCK.format("d/dz y = y(1 - y)"))
    (step,) = report.steps
    assert step.verdict.value == "refuted"
    assert "y is defined in the block at line 3; each block is read on its own" in step.note
    report = check_source("page.md", DEFINED_IN_AN_EARLIER_BLOCK.format("y = sigmoid(z)\nd/dz y = y(1 - y)"))
    assert [s.verdict.value for s in report.steps] == ["proved"]
    assert report.steps[0].note is None


def test_a_step_that_holds_as_0_0_with_a_name_defined_only_in_an_earlier_block_says_so() -> None:
    (step,) = check_source("page.md", DEFINED_IN_AN_EARLIER_BLOCK.format("d/dz(E^2) = 2 E dE/dz")).steps
    assert step.verdict.value == "proved"  # E is a variable in this block: 0 = 0
    assert "E is defined in the block at line 2; each block is read on its own" in step.note



def test_the_name_of_an_undefined_leibniz_derivative_survives_a_worker_process() -> None:
    import pickle

    with pytest.raises(ParseError) as caught:
        check_source("page.md", "```derivation\ndE/dz = 0\n```\n")
    assert caught.value.undefined == "E"
    again = pickle.loads(pickle.dumps(caught.value))
    assert (again.undefined, again.line, again.column, again.message) == ("E", 2, 1, caught.value.message)


def test_a_note_names_the_line_of_the_file_where_a_given_is():
    from derive.sources import check_source

    text = "# Notes\n\nSome text.\n\n```derivation\ngiven x^2 + y(x)^2 = 1\ndy/dx = x/y(x)\n```\n"
    report = check_source("notes.md", text)
    (step,) = report.steps
    assert step.line == 7 and "the given of line 6" in step.note
    assert [g.line for g in report.givens] == [6]


def test_a_style_file_without_a_marked_block_has_nothing_to_check(tmp_path) -> None:
    path = tmp_path / "mystyle.sty"
    path.write_text("\\NeedsTeXFormat{LaTeX2e}\n\\ProvidesPackage{mystyle}\n", encoding="utf-8")
    report = check_source(str(path), read_source(str(path)))
    assert not report.steps and report.ok
