"""The built site in a real browser: every formula typeset by MathJax served from the site, nothing fetched
from elsewhere, and screenshots of the home page and the seed question's page in test-artifacts/."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGES = ("", "seed/", "gallery/", "checking/", "verification/", "fence/", "cli/", "api/", "notation/", "limits/",
         "robustness/")
# Pages whose derivations are typeset: each must have formulas, all of them rendered.
MATH_PAGES = ("", "seed/", "gallery/", "checking/", "verification/", "fence/")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const started = Date.now();
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done("ready"), (error) => done("failed: " + error));
  } else if (Date.now() - started > 20000) {
    done("MathJax never started");
  } else {
    setTimeout(wait, 50);
  }
})();
"""

# What a reader sees outside code blocks and typeset formulas: no TeX may be left there.
VISIBLE_TEXT = """
const page = document.querySelector("article").cloneNode(true);
page.querySelectorAll("pre, code, mjx-container, script, style, .highlight").forEach((e) => e.remove());
return page.textContent;
"""

UNTYPESET = """
return [...document.querySelectorAll(".arithmatex")].filter((e) => !e.querySelector("mjx-container"))
  .map((e) => e.textContent.slice(0, 80));
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and records every request with its status."""

    requests: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return target


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    requests: list[tuple[str, int]] = []
    handler = functools.partial(type("Handler", (_Handler,), {"requests": requests}), directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--window-size=1280,1000", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: object, url: str) -> None:
    browser.get(url)  # type: ignore[attr-defined]
    status = browser.execute_async_script(WAIT_FOR_MATHJAX)  # type: ignore[attr-defined]
    assert status == "ready", f"{url}: {status}"


@pytest.mark.parametrize("page", PAGES, ids=[p.strip("/") or "home" for p in PAGES])
def test_every_formula_is_typeset_without_errors(browser: object, server: tuple[str, list], page: str) -> None:
    base, _requests = server
    _open(browser, base + page)
    assert browser.execute_script(UNTYPESET) == []  # type: ignore[attr-defined]
    errors = browser.execute_script(  # type: ignore[attr-defined]
        "return document.querySelectorAll('mjx-merror, [data-mjx-error], .katex-error').length"
    )
    assert errors == 0
    text = browser.execute_script(VISIBLE_TEXT)  # type: ignore[attr-defined]
    for tex in ("\\frac", "\\left", "\\[", "\\(", "\\sigma", "$$"):
        assert tex not in text, f"raw TeX {tex!r} visible on {page or 'the home page'}"
    if page in MATH_PAGES:
        typeset = browser.execute_script("return document.querySelectorAll('mjx-container').length")  # type: ignore[attr-defined]
        assert typeset > 0


@pytest.mark.parametrize("page", MATH_PAGES, ids=[p.strip("/") or "home" for p in MATH_PAGES])
def test_pages_load_nothing_from_outside_the_site(browser: object, server: tuple[str, list], page: str) -> None:
    base, requests = server
    _open(browser, base + page)
    resources = browser.execute_script(  # type: ignore[attr-defined]
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert any("/assets/mathjax/tex-chtml.js" in url for url in resources)
    assert any("/assets/mathjax/output/chtml/fonts/" in url for url in resources)  # the fonts too
    assert [url for url in resources if not url.startswith(base)] == []
    assert [(path, code) for path, code in requests if code >= 400] == []


def test_verdict_marks_and_the_graph_are_visible_on_the_seed_page(browser: object, server: tuple[str, list]) -> None:
    base, _requests = server
    _open(browser, base + "seed/")
    marks = browser.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('.derive-mark')].map((e) => e.textContent)"
    )
    assert "✓" in marks and "✗" in marks
    graphs = browser.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('svg.derive-graph')].map((e) => e.getBoundingClientRect().width)"
    )
    assert len(graphs) == 2 and all(width > 100 for width in graphs)


@pytest.mark.parametrize(("page", "name"), [("", "home"), ("seed/", "seed")], ids=["home", "seed"])
def test_screenshots_of_the_home_and_seed_pages(browser: object, server: tuple[str, list], page: str,
                                                name: str) -> None:
    base, _requests = server
    _open(browser, base + page)
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    browser.set_window_size(1280, min(int(height) + 40, 16000))  # type: ignore[attr-defined]
    _open(browser, base + page)
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000
    # the part of the page a reader sees first, at a size that is easy to look at
    first = ARTIFACTS / f"{name}-top.png"
    browser.set_window_size(1280, 1000)  # type: ignore[attr-defined]
    _open(browser, base + page)
    assert browser.save_screenshot(str(first))  # type: ignore[attr-defined]

