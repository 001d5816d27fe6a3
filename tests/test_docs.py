"""The documentation site: `mkdocs build --strict` passes, serves its own MathJax, and a wrong derivation
in a ```derive or ```derivation fence fails the build naming the page and the line."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import markdown
import pytest

import derive
from derive import mkdocs_ext
from derive.derivation import Derivation, Step
from derive.mkdocs_ext import DerivationFenceError, Location, fence, locate, read_derive_spec
from derive.verify import Verdict

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("index", "seed", "gallery", "checking", "verification", "cli", "api", "notation", "limits", "fence")
THREE_LINES = """\
markdown_extensions:
  - pymdownx.superfences
  - pymdownx.arithmatex: {generic: true}
  - derive.mkdocs_ext
"""
CUSTOM_FENCES = """\
markdown_extensions:
  - pymdownx.arithmatex: {generic: true}
  - pymdownx.superfences:
      custom_fences:
        - name: derive
          class: derive
          format: !!python/name:derive.mkdocs_ext.fence
          validator: !!python/name:derive.mkdocs_ext.validate
        - name: derivation
          class: derivation
          format: !!python/name:derive.mkdocs_ext.fence
          validator: !!python/name:derive.mkdocs_ext.validate
"""


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def _tiny_site(tmp_path: Path, page: str, extensions: str = THREE_LINES) -> subprocess.CompletedProcess[str]:
    """A one-page site with the default theme, built by `mkdocs build --strict`."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "docs" / "wrong.md").write_text(textwrap.dedent(page))
    (tmp_path / "mkdocs.yml").write_text(f"site_name: tiny\nstrict: true\ntheme: mkdocs\n{extensions}")
    return _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site")


# --- the site itself -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    built = _mkdocs(ROOT / "mkdocs.yml", target)
    assert built.returncode == 0, built.stdout + built.stderr
    return target


def _page(site: Path, name: str) -> str:
    return (site / ("index.html" if name == "index" else f"{name}/index.html")).read_text(encoding="utf-8")


def test_the_site_builds_in_strict_mode_with_every_page(site: Path) -> None:
    for name in PAGES:
        assert "<h1" in _page(site, name), name


def test_the_site_serves_mathjax_and_its_fonts_itself(site: Path) -> None:
    assert (site / "assets" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    fonts = list((site / "assets" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10
    assert (site / "assets" / "mathjax" / "LICENSE").exists()
    assert 'src="assets/mathjax/tex-chtml.js"' in _page(site, "index")


@pytest.mark.parametrize("name", PAGES)
def test_no_page_loads_a_script_a_stylesheet_or_a_font_from_another_server(site: Path, name: str) -> None:
    text = _page(site, name)
    assert "polyfill.io" not in text
    loaded = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', text)
    assert loaded
    assert [url for url in loaded if re.match(r"(https?:)?//", url)] == []


def test_the_seed_page_shows_verified_steps_refuted_ones_and_two_graphs(site: Path) -> None:
    text = _page(site, "seed")
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="derive-graph"') == 2
    assert 'data-verdict="proved"' in text and 'data-verdict="refuted"' in text
    assert "forgot the inner derivative (chain rule)" in text
    assert '<div class="arithmatex">\\[' in text


def test_the_two_layer_network_in_the_gallery_has_its_graph(site: Path) -> None:
    text = _page(site, "gallery")
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="derive-graph"') == 1
    assert 'data-source="w1" data-target="h"' in text


def test_the_catalogue_shows_every_named_mistake(site: Path) -> None:
    from derive.diagnose import CATALOGUE

    text = _page(site, "checking")
    for mistake in CATALOGUE:
        assert f'<dd class="derive-diagnosis">{html.escape(mistake)}</dd>' in text, mistake


def test_the_cli_reference_carries_the_programs_own_help(site: Path) -> None:
    text = _page(site, "cli")
    assert "<!-- derive-help" not in text
    for option in ("--wrt", "--where", "--style", "--format", "--jobs"):
        assert option in text


def test_example_sessions_are_run_when_the_site_is_built(site: Path) -> None:
    for name in ("index", "checking"):
        text = re.sub(r"<[^>]+>", "", _page(site, name))
        assert "derive-check seed.txt" not in text
        assert "seed.txt:4: ✗ dE/dz = dE/dy" in html.unescape(text)


def test_the_api_reference_documents_the_public_functions(site: Path) -> None:
    text = _page(site, "api")
    for name in ("differentiate", "check", "parse", "Derivation", "Report", "StepCheck", "Verdict"):
        assert f'id="derive.{name}' in text or f'id="derive.check.{name}' in text or f'id="derive.parse.{name}' in text


# --- builds that must fail -------------------------------------------------------------------------


def test_a_derive_fence_that_cannot_be_read_fails_the_build_naming_page_and_line(tmp_path: Path) -> None:
    built = _tiny_site(tmp_path, """\
        # Wrong

        Some text.

        ```derive
        expr: 1/2*(a - y
        wrt: z
        ```
        """)
    assert built.returncode != 0
    assert "wrong.md:6" in built.stdout + built.stderr  # the expr line of the fence
    assert "Traceback" not in built.stdout + built.stderr


def test_a_wrong_derivation_fence_fails_the_build_naming_page_and_line(tmp_path: Path) -> None:
    built = _tiny_site(tmp_path, """\
        # Wrong

        ```derivation
        E = 1/2*(a - y)^2
        y = cos(z)
        dE/dz = dy/dz * dE/dy
        dE/dz = dE/dy(z)
        ```
        """)
    output = built.stdout + built.stderr
    assert built.returncode != 0
    assert "wrong.md:7" in output  # the wrong step's line in the Markdown file
    assert "refuted" in output and "forgot the inner derivative (chain rule)" in output


def test_a_wrong_derivation_marked_expect_errors_builds(tmp_path: Path) -> None:
    built = _tiny_site(tmp_path, """\
        # On purpose

        ```derivation expect="errors"
        d/dx sin(3x) = 3 cos(x)
        ```
        """)
    assert built.returncode == 0, built.stdout + built.stderr
    page = (tmp_path / "site" / "wrong" / "index.html").read_text(encoding="utf-8")
    assert "derivative evaluated at the wrong argument" in page


def test_the_custom_fences_configuration_works_as_well(tmp_path: Path) -> None:
    built = _tiny_site(tmp_path, """\
        # Right

        ```derive
        expr: x^2
        wrt: x
        ```

        ```derivation
        d/dx x^3 = 3x^2
        ```

        ```derivation
        d/dx x^3 = 3x
        ```
        """, extensions=CUSTOM_FENCES)
    assert built.returncode != 0
    assert "wrong.md:13" in built.stdout + built.stderr


def test_a_refuted_step_in_a_derive_fence_fails_the_mkdocs_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort

    monkeypatch.setattr(mkdocs_ext, "differentiate", _refuted_derivation)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n```derive\nexpr: x^2\nwrt: x\n```\n")
    (tmp_path / "mkdocs.yml").write_text(f"site_name: tiny\nstrict: true\ntheme: mkdocs\n{THREE_LINES}")
    config = load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    with pytest.raises(Abort):
        build(config)
    assert re.search(r"index\.md:3: step 1 of d/dx x\^2 is refuted", caplog.text)


# --- the fence function itself ---------------------------------------------------------------------


def _md() -> markdown.Markdown:
    return markdown.Markdown(extensions=["pymdownx.superfences", "pymdownx.arithmatex", "derive.mkdocs_ext"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})


def _tree(html: str) -> ET.Element:
    return ET.fromstring(f"<root>{html}</root>")  # the fence's HTML is well-formed


def _refuted_derivation(expr: str, wrt: str, *, where: tuple = (), style: str | None = None) -> Derivation:
    real = derive.differentiate(expr, wrt, where=where, style=style)
    first = real.steps[0]
    wrong = Step(first.rule, first.explanation, first.before, first.after + 1, Verdict.REFUTED)
    return Derivation((wrong, *real.steps[1:]), real.result, real.input, real.wrt, real.where, real.style)


SEED_FENCE = "expr: 1/2*(a - y)^2\nwrt: z\nwhere: y = sigmoid(z)\n"


def test_the_derive_fence_renders_every_step_with_its_rule_and_verdict_mark() -> None:
    oracle = derive.differentiate("1/2*(a - y)^2", "z", where=["y = sigmoid(z)"])
    root = _tree(fence(SEED_FENCE, "derive", "derive", {}, _md()))
    steps = [li for li in root.iter("li") if "derive-step" in li.get("class", "")]
    assert [li.find(".//code").text for li in steps] == [s.rule for s in oracle.steps]
    assert [li.get("data-verdict") for li in steps] == [s.verdict.value for s in oracle.steps]
    marks = [li.find(".//span[@title]").text for li in steps]
    assert marks == ["✓" if s.verdict is Verdict.PROVED else "≈" for s in oracle.steps]
    equations = [li.find(".//div[@class='arithmatex']").text for li in steps]
    assert all(eq.startswith("\\[") and eq.endswith("\\]") for eq in equations)
    assert "\\frac{dE}{dz}" in equations[0]
    assert "sigmoid" in [s.rule for s in oracle.steps]


def test_the_derive_fence_draws_the_graph_when_asked() -> None:
    html = fence(SEED_FENCE + "graph: true\n", "derive", "derive", {}, _md())
    assert _tree(html).find(".//{http://www.w3.org/2000/svg}svg") is not None
    plain = fence(SEED_FENCE, "derive", "derive", {}, _md())
    assert _tree(plain).find(".//{http://www.w3.org/2000/svg}svg") is None


def test_the_derivation_fence_renders_each_line_with_its_verdict() -> None:
    text = "E = 1/2*(a - y)^2\ny = cos(z)\ndE/dz = dy/dz * dE/dy\ndE/dz = dE/dy(z)\n"
    oracle = derive.check(text)
    root = _tree(fence(text, "derivation", "derivation", {"expect": "errors"}, _md()))
    steps = [li for li in root.iter("li") if "derive-step" in li.get("class", "")]
    assert [(int(li.get("value")), li.get("data-verdict")) for li in steps] == [
        (s.line, s.verdict.value) for s in oracle.steps
    ]
    assert [li.find(".//span[@title]").text for li in steps] == ["✓", "✗"]
    evidence = "".join(steps[1].find(".//dl").itertext())
    assert "a = 0, z = 1" in evidence and "forgot the inner derivative (chain rule)" in evidence
    definitions = [li for li in root.iter("li") if "derive-definition" in li.get("class", "")]
    assert [li.get("value") for li in definitions] == ["1", "2"]


@pytest.mark.parametrize(
    ("language", "body", "options", "message"),
    [
        ("derivation", "d/dx x^2 = x\n", {}, r"^the Markdown text:4: d/dx\(x\^2\) = x is refuted"),
        ("derivation", "d/dx x^2 = 2x\n", {"expect": "errors"}, r":3: .*expect=\"errors\", but every step holds"),
        ("derivation", "d/dx x^2 = 2x\n", {"expect": "nothing"}, r":3: unknown option expect="),
        ("derivation", "y = sin(x)\n", {}, r":3: the derivation fence has no step to check"),
        ("derivation", "x = = 1\n", {}, r":4: "),
        ("derive", "expr: x^2\nwrt: x\ncolour: red\n", {}, r":6: expected `key: value`"),
        ("derive", "expr: x^2\n", {}, r":3: the derive fence needs a line `wrt: ...`"),
        ("derive", "wrt: x\nexpr: (x\n", {}, r":5: "),
        ("derive", "expr: E\nwrt: z\nwhere: y = sigmoid(z\nwhere: E = y^2\n", {}, r":6: missing closing parenthesis"),
        ("derive", "expr: x^2\nwrt: 2\n", {}, r":5: wrt must be a variable name"),
        ("derive", "expr: x^2\nwrt: x\ngraph: maybe\n", {}, r":6: `graph:` is true or false"),
    ],
    ids=["wrong_step", "expect_errors_without_error", "unknown_option", "nothing_to_check", "parse_error",
         "unknown_key", "missing_wrt", "unbalanced_expr", "unbalanced_where", "number_as_variable", "bad_graph_value"],
)
def test_a_fence_that_does_not_hold_raises_with_the_line(language: str, body: str, options: dict,
                                                         message: str) -> None:
    opening = f'```{language}' + "".join(f' {k}="{v}"' for k, v in options.items())
    text = f"# Page\n\n{opening}\n{body}```\n"
    with pytest.raises(DerivationFenceError, match=message):
        _md().convert(text)


def test_the_line_is_found_past_examples_inside_other_fences() -> None:
    text = (
        "# Page\n\n````markdown\n```derivation\nd/dx x^2 = x\n```\n````\n\n"
        '```derivation expect="errors"\nd/dx x^2 = x\n```\n\n```derivation\nd/dx x^2 = x\n```\n'
    )
    with pytest.raises(DerivationFenceError, match=r"^the Markdown text:14: "):
        _md().convert(text)


@pytest.mark.parametrize(
    "extensions",
    [
        ["pymdownx.superfences", "derive.mkdocs_ext"],
        ["derive.mkdocs_ext", "pymdownx.superfences"],
        ["derive.mkdocs_ext"],
    ],
    ids=["after_superfences", "before_superfences", "alone"],
)
def test_the_fences_work_whatever_the_order_of_the_extensions(extensions: list[str]) -> None:
    html = markdown.markdown("```derivation\nd/dx x^2 = 2x\n```\n", extensions=extensions)
    assert 'class="derive derive-check"' in html


def test_without_superfences_the_fence_says_what_is_missing() -> None:
    with pytest.raises(DerivationFenceError, match=r"needs pymdownx\.superfences"):
        markdown.markdown("```derivation\nd/dx x^2 = 2x\n```\n", extensions=["fenced_code", "derive.mkdocs_ext"])


def test_locate_without_a_conversion_names_the_page_only() -> None:
    assert locate(markdown.Markdown(), "derive", "expr: x") == Location("the Markdown text", None)


def test_read_derive_spec_reads_repeated_definitions_and_comments() -> None:
    spec = read_derive_spec("# a comment\nexpr: E\nwrt: w\nwhere: h = w*x\nwhere: E = h^2\nstyle: leibniz\n",
                            Location("page.md", 10))
    assert (spec.expr, spec.wrt, spec.where, spec.style, spec.graph) == ("E", "w", ("h = w*x", "E = h^2"),
                                                                          "leibniz", False)
    assert spec.lines["where"] == 4
