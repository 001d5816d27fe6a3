"""The corpus: derivations as people write them, every step's verdict (and diagnosis) as annotated."""

from __future__ import annotations

from functools import cache

import pytest
import sympy
from derivations.corpus import (
    Derivation,
    concretize,
    differ,
    load_all,
    meaning,
    steps_of,
    value_at,
)

from derive.check import check
from derive.report import Report
from derive.verify import Verdict

CORPUS = load_all()
IDS = [d.name for d in CORPUS]


@cache
def report_for(name: str) -> Report:
    derivation = next(d for d in CORPUS if d.name == name)
    return check(derivation.text, latex=derivation.latex)


def test_the_corpus_has_forty_derivations_in_plain_text_and_latex_with_align_blocks():
    assert len(CORPUS) >= 40
    assert sum(d.latex for d in CORPUS) >= 10
    assert any(r"\begin{align" in d.text for d in CORPUS)
    assert all(d.expected for d in CORPUS)


@pytest.mark.parametrize("derivation", CORPUS, ids=IDS)
def test_every_step_gets_the_annotated_verdict(derivation: Derivation):
    report = report_for(derivation.name)
    got = {(s.line, s.k): s.verdict.value for s in report.steps}
    want = {key: e.verdict for key, e in derivation.expected.items()}
    assert got == want


@pytest.mark.parametrize("derivation", CORPUS, ids=IDS)
def test_every_wrong_step_gets_the_annotated_diagnosis_or_none(derivation: Derivation):
    report = report_for(derivation.name)
    for step in report.steps:
        if step.verdict is Verdict.REFUTED:
            assert step.diagnosis == derivation.expected[(step.line, step.k)].diagnosis, (step.line, step.k)
            assert step.expected is not None
        else:
            assert step.diagnosis is None and step.expected is None and step.counterexample is None


@pytest.mark.parametrize("derivation", CORPUS, ids=IDS)
def test_the_report_points_at_the_first_wrong_step(derivation: Derivation):
    report = report_for(derivation.name)
    wrong = [key for key, e in sorted(derivation.expected.items()) if e.verdict in ("refuted", "unknown")]
    first = report.first_error
    assert (None if first is None else (first.line, first.k)) == (wrong[0] if wrong else None)
    assert report.ok is (not wrong)


def _refutations() -> list[tuple[Derivation, tuple[int, int]]]:
    return [(d, key) for d in CORPUS for key, e in sorted(d.expected.items()) if e.verdict == "refuted"]


@pytest.mark.parametrize(
    ("derivation", "key"), _refutations(), ids=[f"{d.name}:{line}.{k}" for d, (line, k) in _refutations()]
)
def test_each_counterexample_really_tells_the_two_sides_apart(derivation: Derivation, key: tuple[int, int]):
    step = next(s for s in report_for(derivation.name).steps if (s.line, s.k) == key)
    source = next(s for s in steps_of(derivation) if (s.line, s.k) == key)
    point: dict[str, sympy.Expr] = {}
    functions: dict[str, sympy.Lambda] = {}
    for name, value in step.counterexample.items():
        if value.startswith("Lambda("):
            # the text comes from the verifier, not from a user: sympify is the way to read it back
            functions[name] = sympy.sympify(value)
        else:
            point[name] = sympy.Rational(value)
    left = value_at(concretize(meaning(source.lhs, source.defs), functions), point)
    right = value_at(concretize(meaning(source.rhs, source.defs), functions), point)
    assert left is not None and right is not None
    assert differ(left, right)
    # the values shown in the report are those values
    assert abs(float(step.lhs_value) - float(left)) <= 1e-9 * max(1, abs(float(left)))
    assert abs(float(step.rhs_value) - float(right)) <= 1e-9 * max(1, abs(float(right)))
