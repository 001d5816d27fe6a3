"""The JSON documents (contract section 4) validate against the JSON Schemas in tests/schema/."""

from __future__ import annotations

import copy
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

from derive.check import check  # noqa: E402 - after the skip: without jsonschema there is nothing to test
from derive.cli import main  # noqa: E402
from derive.rewrite import differentiate  # noqa: E402

SCHEMAS = Path(__file__).parent / "schema"
NAMES = ("derivation", "report", "files")


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def registry() -> Any:
    resources = [(schema(name)["$id"], referencing.Resource.from_contents(schema(name))) for name in NAMES]
    return referencing.Registry().with_resources(resources)


def errors(name: str, document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema(name), registry=registry())
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


def cli_json(*argv: str, stdin: str = "") -> Any:
    out = io.StringIO()
    main([*argv, "--format", "json"], stdout=out, stderr=io.StringIO(), stdin=io.StringIO(stdin), environ={})
    return json.loads(out.getvalue())


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))
    assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- derive diff --format json ---------------------------------------------------------------------

DERIVATIONS = [
    ("x^2*sin(x)", "x", ()),
    ("log(1 + exp(w*x))", "w", ()),
    ("1/2*(a - y)^2", "z", ("y = sigmoid(z)",)),
    ("sigmoid(w*x + b)", "w", ()),
    (r"\tanh^2(z)", "z", ()),
]
DERIVATION_IDS = ["product", "softplus-like", "leibniz", "sigmoid", "latex"]


@pytest.mark.parametrize(("expr", "wrt", "where"), DERIVATIONS, ids=DERIVATION_IDS)
def test_derivation_to_dict_validates(expr: str, wrt: str, where: tuple[str, ...]) -> None:
    assert errors("derivation", differentiate(expr, wrt, where=where).to_dict()) == []


def test_derive_diff_json_validates() -> None:
    assert errors("derivation", cli_json("diff", "x^3*exp(x)", "--wrt", "x")) == []


# --- derive check --format json --------------------------------------------------------------------

REPORTS = [
    "d/dx(x^3) = 3x^2",
    "d/dx(x^2) = 2x = x + x = 3x",
    "y = sigmoid(z)\nE = 1/2*(a - y)^2\ndE/dz = dE/dy * dy/dz = -(a - y) y (1 - y)\ndE/dz = (a - y) y (1 - y)",
    "d/dx(f(g(x))) = f'(x) g'(x)",
    "d/dx(abs(x)) = x/abs(x)",
]
REPORT_IDS = ["proved", "refuted-in-a-chain", "leibniz-sign-error", "abstract-functions", "undefined-at-a-point"]


@pytest.mark.parametrize("text", REPORTS, ids=REPORT_IDS)
def test_report_to_dict_validates(text: str) -> None:
    assert errors("report", check(text).to_dict()) == []


def test_derive_check_json_validates() -> None:
    assert errors("report", cli_json("check", stdin=REPORTS[1])) == []


def test_the_several_files_document_validates(tmp_path: Path) -> None:
    paths = []
    for number, text in enumerate(REPORTS[:2]):
        path = tmp_path / f"d{number}.txt"
        path.write_text(text)
        paths.append(str(path))
    missing = str(tmp_path / "missing.txt")
    document = cli_json("check", *paths, missing)
    assert [entry["path"] for entry in document["files"]] == [*paths, missing]
    assert errors("files", document) == []


# --- the schemas reject what the contract does not allow ---------------------------------------------


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


@cache
def refuted() -> dict[str, Any]:
    return check(REPORTS[1]).to_dict()


def _mutated(change: str) -> dict[str, Any]:
    document = copy.deepcopy(refuted())
    step = document["steps"][-1]
    if change == "unknown-verdict":
        step["verdict"] = "maybe"
    elif change == "line-zero":
        step["line"] = 0
    elif change == "number-in-counterexample":
        step["counterexample"] = {"x": 1}
    elif change == "first-error-without-k":
        document["first_error"] = {"line": 1}
    elif change == "missing-ok":
        document = _without(document, "ok")
    elif change == "unexpected-key":
        document["path"] = "a.txt"
    return document


@pytest.mark.parametrize(
    "change",
    ["unknown-verdict", "line-zero", "number-in-counterexample", "first-error-without-k", "missing-ok",
     "unexpected-key"],
)
def test_the_report_schema_rejects_documents_outside_the_contract(change: str) -> None:
    assert errors("report", refuted()) == []
    assert errors("report", _mutated(change)) != []


def test_the_files_schema_rejects_a_file_entry_without_its_path() -> None:
    good = {"ok": False, "files": [{"path": "a.txt", **refuted()}]}
    assert errors("files", good) == []
    assert errors("files", {"ok": False, "files": [refuted()]}) != []


def test_the_derivation_schema_rejects_an_unknown_style() -> None:
    document = differentiate("x^2", "x").to_dict()
    assert errors("derivation", document) == []
    assert errors("derivation", {**document, "style": "fancy"}) != []
