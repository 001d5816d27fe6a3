"""Soundness and completeness of the checker, measured against an independent numeric oracle.

Soundness: no step that the oracle shows wrong is ever proved or confirmed, across the corpus and a
sweep of classic mutations of its correct steps (each of which must be refuted). Completeness: at
least 98% of the correct steps, and of equivalent rewrites of them, are proved or confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
import sympy
from derivations.corpus import CorpusStep, load_all, meaning, oracle, steps_of

from derive.check import check_step
from derive.functions import sigmoid, to_elementary
from derive.verify import Verdict

CORPUS = load_all()
GOOD = (Verdict.PROVED, Verdict.CONFIRMED)
COMPLETENESS = 0.98


@cache
def corpus_steps() -> tuple[tuple[CorpusStep, str], ...]:
    """Every corpus step with the oracle's opinion of it."""
    out = []
    for derivation in CORPUS:
        for step in steps_of(derivation):
            out.append((step, oracle(meaning(step.lhs, step.defs), meaning(step.rhs, step.defs))))
    return tuple(out)


def correct_steps() -> list[CorpusStep]:
    return [step for step, opinion in corpus_steps() if opinion == "equal"]


def test_the_oracle_and_the_annotations_agree_on_which_corpus_steps_are_wrong():
    annotated = {
        (d.name, line, k): e.verdict for d in CORPUS for (line, k), e in d.expected.items()
    }
    for step, opinion in corpus_steps():
        verdict = annotated[(step.derivation, step.line, step.k)]
        if opinion == "different":
            assert verdict == "refuted", step.id
        if verdict in ("proved", "confirmed"):
            assert opinion == "equal", step.id


def test_no_wrong_corpus_step_is_proved_or_confirmed():
    # With the test above, test_check_corpus (every step gets its annotated verdict) makes this hold for
    # the checker itself; here: the corpus has plenty of wrong steps, and none is annotated as holding.
    wrong = [s for s, opinion in corpus_steps() if opinion == "different"]
    assert len(wrong) >= 40
    annotated = {(d.name, line, k): e.verdict for d in CORPUS for (line, k), e in d.expected.items()}
    assert all(annotated[(s.derivation, s.line, s.k)] == "refuted" for s in wrong)


# --- the mutation sweep --------------------------------------------------------------------------


def _first_integer_power(e: sympy.Expr) -> sympy.Expr | None:
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Pow) and node.exp.is_Integer:
            return node.func(node.base, node.exp + 1)
    return None


def _bump_exponent(e: sympy.Expr) -> sympy.Expr | None:
    """x^n -> x^(n+1) at the first integer power."""
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Pow) and node.exp.is_Integer:
            return e.xreplace({node: node.func(node.base, node.exp + 1)})
    return None


def _drop_factor(e: sympy.Expr) -> sympy.Expr | None:
    """One factor of a product left out."""
    if isinstance(e, sympy.Mul):
        factors = [f for f in e.args if not f.is_number]
        if len(factors) >= 2:
            return e.func(*(f for f in e.args if f is not factors[-1]))
    return None


def _flip_first_term(e: sympy.Expr) -> sympy.Expr | None:
    if isinstance(e, sympy.Add):
        first, *rest = e.args
        return sympy.Add(-first, *rest)
    return None


MUTATIONS: dict[str, Callable[[sympy.Expr], sympy.Expr | None]] = {
    "negated": lambda e: -e if e != 0 else None,
    "plus one": lambda e: e + 1,
    "doubled": lambda e: 2 * e,
    "sin for cos": lambda e: e.replace(sympy.cos, sympy.sin) if e.has(sympy.cos) else None,
    "exponent raised": _bump_exponent,
    "factor dropped": _drop_factor,
    "term sign flipped": _flip_first_term,
    "sigmoid complemented": lambda e: e.replace(sigmoid, lambda u: 1 - sigmoid(u)) if e.has(sigmoid) else None,
}


@cache
def mutants() -> tuple[tuple[CorpusStep, str, sympy.Expr], ...]:
    """Mutated right sides that the oracle shows to be wrong."""
    out = []
    for step in correct_steps():
        lhs_meaning = meaning(step.lhs, step.defs)
        for name, mutate in MUTATIONS.items():
            wrong = mutate(step.rhs)
            if wrong is None or wrong == step.rhs:
                continue
            if oracle(lhs_meaning, meaning(wrong, step.defs), points=4) == "different":
                out.append((step, name, wrong))
    return tuple(out)


def test_the_mutation_sweep_is_large():
    assert len(mutants()) >= 300


def test_every_classic_mutation_of_a_correct_step_is_refuted():
    survivors = []
    for step, name, wrong in mutants():
        result = check_step(step.lhs, wrong, step.defs, line=step.line, k=step.k, explain=False)
        assert result.verdict not in GOOD, (step.id, name, str(wrong))
        if result.verdict is not Verdict.REFUTED:
            survivors.append((step.id, name, str(wrong), result.verdict.value, result.note))
    assert survivors == []


# --- completeness --------------------------------------------------------------------------------


def _variants(step: CorpusStep) -> list[sympy.Expr]:
    """The right side as written, and rewritten by sympy's identities (so each is as right as the step)."""
    rhs = meaning(step.rhs, step.defs)
    out = [step.rhs]
    for rewrite in (sympy.expand, sympy.factor, to_elementary):
        try:
            variant = rewrite(rhs)
        except (TypeError, ValueError, NotImplementedError, sympy.PolynomialError):
            continue
        if all(variant != v for v in out):
            out.append(variant)
    return out


@pytest.fixture(scope="module")
def completeness() -> tuple[int, int, list[str]]:
    total = good = 0
    misses = []
    for step in correct_steps():
        for variant in _variants(step):
            total += 1
            result = check_step(step.lhs, variant, step.defs, explain=False)
            if result.verdict in GOOD:
                good += 1
            else:
                misses.append(f"{step.id}: {variant} -> {result.verdict.value} ({result.note})")
    return good, total, misses


def test_at_least_98_percent_of_correct_steps_are_proved_or_confirmed(completeness: tuple[int, int, list[str]]):
    good, total, misses = completeness
    assert total >= 300
    ratio = good / total
    assert ratio >= COMPLETENESS, f"{good}/{total} = {ratio:.3f}; missed: {misses}"


def test_no_correct_step_is_ever_refuted(completeness: tuple[int, int, list[str]]):
    _, _, misses = completeness
    assert [m for m in misses if "-> refuted" in m] == []
