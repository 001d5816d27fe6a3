"""Rendered derivations read back: the LaTeX output of a corpus parses with derive's own LaTeX reader to the
same steps, and the Markdown output carries one verdict mark per step."""

from __future__ import annotations

import pytest
import sympy

import derive
from derive.statements import read_definition, read_statements

CORPUS = [
    ("x^2*sin(x)", "x", ()),
    ("sin(cos(x^2))", "x", ()),
    ("exp(-x^2/2)", "x", ()),
    ("x^x", "x", ()),
    ("(x^2 + 1)/(x - 3)", "x", ()),
    ("log(x^2 + 1) * atan(x)", "x", ()),
    ("sigmoid(w*x + b)", "w", ()),
    ("tanh(2x)^3", "x", ()),
    ("f(g(x))", "x", ()),
    ("1/2*(a - y)^2", "z", ("y = sigmoid(z)",)),
    ("1/2*(a - y)^2", "z", ("y = cos(z)",)),
    ("1/2*(t - h2)^2", "w1", ("h2 = sigmoid(w2*h1 + b2)", "h1 = sigmoid(w1*x + b1)")),
    # a pending derivative before another factor: \frac{d}{dx} would take the rest of the product
    ("f(x^2)", "x", ()),
    ("g(x^2, sin(x))", "x", ()),
    ("L(y, t)", "z", ("y = sigmoid(z)",)),
    # multi-letter names (\mathrm{net}, not n·e·t) and the step functions (not sympy's \theta)
    ("1/2*(target - out)^2", "net", ("out = sigmoid(net)",)),
    ("relu(w*x)*x^2", "w", ()),
    ("heaviside(x)*x^2 + sign(x)*x", "x", ()),
    ("loss(y_pred, t)", "w", ("y_pred = tanh(w*x_in)",)),
]


def _same(left: sympy.Expr, right: sympy.Expr) -> bool:
    if left == right:
        return True
    return sympy.simplify(sympy.expand(left - right).doit()) == 0


@pytest.mark.parametrize(("expr", "wrt", "where"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_latex_output_reads_back_as_the_same_chain_of_steps(expr, wrt, where):
    # The block defines what its steps use (E, the definitions given) in rows of its own, first.
    derivation = derive.differentiate(expr, wrt, where=where)
    text = derivation.to_latex()
    assert text.startswith("\\begin{align*}") and text.rstrip().endswith("\\end{align*}")
    statements = read_statements(text, latex=True)
    defined = [statement.definition.name for statement in statements if statement.definition is not None]
    named = [derivation.named.name] if derivation.named is not None else []
    assert defined == named + [read_definition(text).name for text in where]
    pairs = [(lhs, rhs) for statement in statements if statement.kind == "claim" for _, lhs, rhs in statement.steps]
    assert len(pairs) == len(derivation.steps)
    for (lhs, rhs), step in zip(pairs, derivation.steps, strict=True):
        assert _same(lhs, step.before), (lhs, step.before)
        assert _same(rhs, step.after), (rhs, step.after)


@pytest.mark.parametrize(("expr", "wrt", "where"), CORPUS[:4] + CORPUS[9:10], ids=[c[0] for c in CORPUS[:4]] + ["seed"])
def test_the_markdown_output_has_one_math_block_and_one_verdict_mark_per_step(expr, wrt, where):
    derivation = derive.differentiate(expr, wrt, where=where)
    text = derivation.to_markdown()
    assert text.count("$$") >= 2 * len(derivation.steps)
    assert sum(text.count(mark) for mark in "✓≈✗?") >= len(derivation.steps)


# The promise of the LaTeX output: it checks as it stands (a paper's `% derive: check` block, or piped).
CHECKS_AS_IT_STANDS = [
    *CORPUS,
    ("1/2*(a - y_out)^2", "z", ("y_out(z) = sigmoid(z)",)),
    ("3*x_1_2(z)", "z", ("x_1_2(z) = z^2",)),
    ("x + sigma", "x", ()),
    ("d/dx(x^2*y^2 + x*y)", "y", ()),
    ("-log(sigma) - (x - mu)^2/(2*sigma^2)", "sigma", ()),
    ("relu(x)^2", "x", ()),
    ("g(x)", "x", ()),  # no steps: the one row is d/dx g(x) = g'(x)
    ("d/dx(f(x))", "x", ()),
]


@pytest.mark.parametrize(("expr", "wrt", "where"), CHECKS_AS_IT_STANDS, ids=[c[0] for c in CHECKS_AS_IT_STANDS])
@pytest.mark.parametrize("style", ["expand", "leibniz"])
def test_the_latex_output_checks_as_it_stands(expr, wrt, where, style):
    derivation = derive.differentiate(expr, wrt, where=where, style=style)
    report = derive.check(derivation.to_latex(), latex=True)
    assert len(report.steps) == max(len(derivation.steps), 1)
    assert report.ok, [(s.line, s.verdict.value, s.lhs, s.rhs) for s in report.steps if not s.ok]
