"""The self-contained HTML page of a derivation in a real browser: the math is laid out as MathML (elements
present and with a size), not shown as raw TeX, and nothing is fetched from the network."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

MATH_BOXES = """
return [...document.querySelectorAll("math")].map((m) => {
  const r = m.getBoundingClientRect();
  return [r.width, r.height];
});
"""


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1100,900"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.mark.parametrize(
    ("name", "expr", "wrt", "where"),
    [("product", "x^2*sin(x)", "x", ()), ("seed", "1/2*(a - y)^2", "z", ("y = sigmoid(z)",))],
    ids=["product", "seed"],
)
def test_the_html_page_shows_every_step_as_laid_out_mathml(browser, tmp_path, name, expr, wrt, where):
    derivation = derive.differentiate(expr, wrt, where=where)
    page = tmp_path / f"{name}.html"
    html = derivation.to_html()
    assert "http://" not in html and "https://" not in html.replace("https://www.w3.org", "")
    page.write_text(html, encoding="utf-8")
    browser.get(page.as_uri())
    boxes = browser.execute_script(MATH_BOXES)
    assert len(boxes) >= len(derivation.steps)
    assert all(width > 10 and height > 5 for width, height in boxes), boxes
    visible = browser.find_element("tag name", "body").text
    assert "\\frac" not in visible and "\\left" not in visible
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"html-{name}.png"))
