"""A Report displays in a notebook: Markdown with one math block and mark per step, HTML with MathML."""

from __future__ import annotations

import derive

SEED = "E = 1/2*(a - y)^2\ny = cos(z)\ndE/dz = dy/dz * dE/dy\ndE/dz = dE/dy(z)\n"


def test_the_markdown_of_a_report_has_one_math_block_per_step_and_the_evidence_of_the_wrong_one():
    report = derive.check(SEED)
    text = report._repr_markdown_()
    assert text.count("$$") == 2 * len(report.steps)
    assert "✓ proved" in text and "✗ refuted" in text
    assert "counterexample" in text and "forgot the inner derivative" in text
    assert "first error on line 4" in text


def test_the_html_of_a_report_is_a_table_of_mathml_equations_with_verdict_marks():
    report = derive.check(SEED)
    page = report._repr_html_()
    assert page.count("<math") == len(report.steps)
    assert page.count("<tr>") == len(report.steps)
    assert "✓" in page and "✗" in page
