"""Hostile input (tests/hostile/): a clear DeriveError or a correct answer, within a bound, nothing written.

The corpus runs in a subprocess (tests/hostile/run_corpus.py) with a watchdog per call, in an empty
working directory with its own TMPDIR, so that a hang, a crash or a file written anywhere shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CORPUS = Path(__file__).parent / "hostile"
# Generous: a guard against hangs, not a speed target (the watchdog inside allows 20 s per call).
WHOLE_RUN_SECONDS = 600


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    work = tmp_path_factory.mktemp("hostile")
    cwd, tmp = work / "cwd", work / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    corpus_before = sorted(p.name for p in CORPUS.iterdir())
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(CORPUS / "run_corpus.py")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=WHOLE_RUN_SECONDS, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records[-1] == {"done": True}, "the corpus run ended early"
    assert sorted(os.listdir(cwd)) == [], "something was written to the working directory"
    assert sorted(os.listdir(tmp)) == [], "something was written to the temporary directory"
    assert sorted(p.name for p in CORPUS.iterdir()) == corpus_before
    return {(r["case"], r["api"]): r for r in records[:-1]}


def cases_of(outcomes: dict[tuple[str, str], dict], prefix: str) -> list[dict]:
    found = [r for (case, _), r in outcomes.items() if case.startswith(prefix)]
    assert found, f"no corpus case starts with {prefix!r}"
    return found


def test_no_input_crashes_with_anything_but_a_derive_error(outcomes: dict) -> None:
    crashes = [r for r in outcomes.values() if r["outcome"] == "crash"]
    assert crashes == []


@pytest.mark.parametrize(
    "prefix", ["inject_", "latex_", "python_statements", "null_byte", "invalid_utf8", "rtl_mark", "emoji"]
)
def test_code_injection_and_odd_characters_are_refused_with_a_parse_error(outcomes: dict, prefix: str) -> None:
    for record in cases_of(outcomes, prefix):
        assert (record["outcome"], record["error_type"]) == ("error", "ParseError"), record


@pytest.mark.parametrize(
    "prefix",
    ["power_", "sqrt_power", "exp_log_power", "parens_100k", "braces_100k", "one_megabyte", "many_lines",
     "ten_thousand_digits", "many_distinct_terms"],
)
def test_huge_or_deep_input_is_refused_with_a_limit_error(outcomes: dict, prefix: str) -> None:
    for record in cases_of(outcomes, prefix):
        assert (record["outcome"], record["error_type"]) == ("error", "LimitError"), record


@pytest.mark.parametrize("prefix", ["cyclic_self", "cyclic_pair", "cyclic_function"])
def test_cyclic_definitions_are_refused_with_a_definition_error(outcomes: dict, prefix: str) -> None:
    for record in cases_of(outcomes, prefix):
        assert (record["outcome"], record["error_type"]) == ("error", "DefinitionError"), record
        assert "itself" in record["message"] or "cyclic" in record["message"]


@pytest.mark.parametrize(
    ("case", "verdicts"),
    [
        ("control_correct", ["proved"]),
        ("byte_order_mark", ["proved"]),  # a leading BOM is ignored
        ("fullwidth_digits", ["proved"]),  # ２x is 2x
        ("huge_exponent_claim", ["refuted"]),  # x^(10^10) is refused as a number, but claimed here wrongly
        ("unknown_variables", ["refuted"]),  # d/dq of an expression without q is 0
        ("wrt_number_latex", ["refuted"]),
        # too large to compute, or to order as sympy prints a sum (an OverflowError, exit 2, before)
        ("tower_of_exponentials", ["unknown", "unknown", "unknown"]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_inputs_that_read_as_math_get_a_correct_verdict(outcomes: dict, case: str, verdicts: list[str]) -> None:
    assert outcomes[(case, "check")]["value"] == verdicts


@pytest.mark.parametrize("case", ["float_exponent", "float_exponent_claim"])
def test_scientific_notation_is_a_parse_error(outcomes: dict, case: str) -> None:
    # read as written, 1e99999999 would be 1 times a name e99999999, and 1e-3 would be e - 3
    for record in cases_of(outcomes, case):
        assert (record["outcome"], record["error_type"]) == ("error", "ParseError"), record
        assert "scientific notation" in record["message"]


def test_a_derivative_with_respect_to_a_number_in_the_text_is_a_parse_error(outcomes: dict) -> None:
    record = outcomes[("wrt_number", "check")]
    assert (record["outcome"], record["error_type"]) == ("error", "ParseError"), record
    assert "not a number" in record["message"]


@pytest.mark.parametrize("wrt", ["2", "x.__class__", "__import__('os')"])
def test_a_derivative_with_respect_to_a_number_or_code_is_an_error(outcomes: dict, wrt: str) -> None:
    record = outcomes[(f"wrt {wrt}", "differentiate")]
    assert record["outcome"] == "error" and "variable name" in record["message"]


def test_the_command_line_answers_hostile_files_with_an_exit_code_and_no_traceback(tmp_path: Path) -> None:
    names = ["inject_import", "latex_write18", "invalid_utf8", "null_byte", "cyclic_pair", "power_tower_claim"]
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for name in names:
        done = subprocess.run(
            [sys.executable, "-m", "derive", "check", str(CORPUS / f"{name}.txt")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.strip(), name
    assert os.listdir(tmp_path) == []
