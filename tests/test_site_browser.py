"""The example project's site in a real browser: headless Chromium driven by Playwright.

The browser is Debian's /usr/bin/chromium (tests/setup-system.sh installs it when it is
missing); Playwright never downloads one of its own (`playwright install` is never run).
A missing browser fails these tests: they are never skipped.

The site of the example project (specs/, as of 2026-11-22) is built once, served by a
local http.server on 127.0.0.1 and also opened from file://. Which KPIs and scorecards it
has is read from the results document (``kpispec.evaluate``), never assumed: the example
is rewritten from time to time. Every page opened must log no console error or warning,
fail no request, get no response of status 400 or more, and request nothing outside
127.0.0.1 (or file://). Full-page screenshots go to test-artifacts/ (git-ignored), named
after the page, for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import evaluate_doc

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
AS_OF = "2026-11-22"
KPISPEC = Path(sys.executable).parent / "kpispec"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATUSES = ["missed", "at_risk", "no_data", "met", "no_target"]


# ------------------------------------------------------------------ fixtures


@dataclass
class Example:
    doc: dict[str, Any]
    site: Path
    kpi: dict[str, Any]  #: a KPI with a target and breakdowns
    card: dict[str, Any]  #: its scorecard
    other_card: dict[str, Any]  #: a scorecard in another locale, if there is one, else `card`


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    site = tmp_path_factory.mktemp("example") / "site"
    result = subprocess.run(
        [str(KPISPEC), "build", str(SPECS), "-o", str(site), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    doc = evaluate_doc(SPECS, as_of=AS_OF)
    pairs = [(card, kpi) for card in doc["scorecards"] for kpi in card["kpis"]]
    assert pairs, "the example project has no KPI"
    card, kpi = next(
        ((c, k) for c, k in pairs if k["bound"] and k["breakdowns"]),
        pairs[0],
    )
    other = next(
        (c for c in doc["scorecards"] if c["locale"] != doc["project"]["locale"]),
        card,
    )
    return Example(doc, site, kpi, card, other)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(example: Example) -> Iterator[str]:
    """The example site served on a free port of 127.0.0.1."""
    handler = functools.partial(_Quiet, directory=str(example.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: run tests/setup-system.sh as root (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module", autouse=True)
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# ------------------------------------------------------------------ helpers


@dataclass
class Visit:
    """What a page did: its console messages, its requests and what went wrong."""

    allowed: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and not _favicon(message.location.get("url")):
            self.problems.append(f"console {message.type}: {message.text} ({message.location})")

    def _failed(self, request: Any) -> None:
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not _favicon(response.url):
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request: Any) -> None:
        self.requests.append(request.url)
        if not request.url.startswith(self.allowed):
            self.problems.append(f"request outside the site: {request.url}")

    def check(self) -> None:
        assert self.problems == []
        assert self.requests, "no request was seen"


def _favicon(url: str | None) -> bool:
    """Chromium asks an http server for /favicon.ico by itself when a page declares no
    icon. The pages declare an icon of the site, so nothing is requested that the site lacks."""
    return bool(url) and urlsplit(url).path == "/favicon.ico"


def open_page(context: Any, url: str, allowed: tuple[str, ...]) -> tuple[Any, Visit]:
    page = context.new_page()
    visit = Visit(allowed)
    visit.attach(page)
    response = page.goto(url, wait_until="load")
    if url.startswith("http"):
        assert response is not None and response.status == 200, url
    page.wait_for_load_state("networkidle")
    return page, visit


def screenshot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def status_counts(doc: dict[str, Any]) -> dict[str, int]:
    return {s: doc["summary"][s] for s in STATUSES}


def column_values(page: Any, index: int, attribute: str | None = None) -> list[str]:
    """The cells of column ``index`` (0-based) of the KPI table, in the order shown."""
    script = (
        "(rows, [i, attr]) => rows.map(r => attr ? r.cells[i].getAttribute(attr)"
        " : r.cells[i].textContent.trim())"
    )
    return page.eval_on_selector_all("table.kpis tbody tr", script, [index, attribute])


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# ------------------------------------------------------------------ tests


def test_index_over_http_shows_the_status_counts_and_every_kpi(
    example: Example, base_url: str, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, visit = open_page(context, base_url + "index.html", (base_url,))
        assert page.title() == example.doc["project"]["title"]
        for status, n in status_counts(example.doc).items():
            count = page.locator(f".counts a.count.{status}")
            assert count.is_visible(), status
            assert count.locator("strong").inner_text() == str(n), status
        rows = page.locator("table.kpis tbody tr")
        assert rows.count() == example.doc["summary"]["kpis"]
        assert rows.first.is_visible()
        cards = page.locator("ul.cards li a")
        assert cards.all_inner_texts() == [c["title"] for c in example.doc["scorecards"]]
        for badge in page.locator("img.badge").all():  # the badges loaded and have a size
            assert badge.evaluate("img => img.complete && img.naturalWidth > 0")
        screenshot(page, "site-index")
        visit.check()
        assert any(u.endswith("assets/style.css") for u in visit.requests)
        assert any(u.endswith("assets/enhance.js") for u in visit.requests)
    finally:
        context.close()


def test_clicking_a_heading_sorts_the_kpi_table(
    example: Example, base_url: str, browser: Any
) -> None:
    context = browser.new_context()
    try:
        page, visit = open_page(context, base_url + "index.html", (base_url,))
        statuses = column_values(page, 5, "data-value")
        assert statuses == sorted(statuses, key=STATUSES.index)  # sorted by status at first
        before = column_values(page, 0)

        value = page.locator("table.kpis th[data-sort=number]")
        value.click()
        assert value.get_attribute("aria-sort") == "ascending"
        numbers = [float(v) if v else float("-inf") for v in column_values(page, 3, "data-value")]
        assert numbers == sorted(numbers)
        value.click()
        assert value.get_attribute("aria-sort") == "descending"
        numbers = [float(v) if v else float("-inf") for v in column_values(page, 3, "data-value")]
        assert numbers == sorted(numbers, reverse=True)

        name = page.locator("table.kpis th[data-sort=text]").first
        name.click()
        names = column_values(page, 0)
        assert names == sorted(names, key=str.lower)
        assert sorted(names) == sorted(before)  # the same rows, reordered
        assert value.get_attribute("aria-sort") is None
        name.focus()  # the keyboard sorts too
        page.keyboard.press("Enter")
        assert column_values(page, 0) == sorted(names, key=str.lower, reverse=True)
        visit.check()
    finally:
        context.close()


def test_kpi_page_over_http(example: Example, base_url: str, browser: Any) -> None:
    kpi = example.kpi
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, visit = open_page(context, base_url + f"kpi/{kpi['id']}.html", (base_url,))
        assert page.locator("h1").inner_text() == kpi["name"]
        chart = page.locator("figure svg.chart")
        assert chart.is_visible()
        assert kpi["name"] in chart.get_attribute("aria-label")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("table.series tbody tr").count() == len(kpi["series"])
        assert page.locator("table.breakdown").count() == len(kpi["breakdowns"])
        status = page.locator(".headline .status")
        assert status.is_visible() and status.inner_text().strip()
        assert f"{kpi['file']}:{kpi['line']}" in page.locator("dl.definition").inner_text()
        screenshot(page, f"site-kpi-{kpi['id']}")
        visit.check()
    finally:
        context.close()


def test_scorecard_page_on_a_phone(example: Example, base_url: str, browser: Any) -> None:
    card = example.card
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page, visit = open_page(context, base_url + f"scorecard/{card['id']}.html", (base_url,))
        assert page.locator("h1").inner_text() == card["title"]
        tiles = page.locator("article.tile")
        assert tiles.count() == len(card["kpis"])
        for tile in tiles.all():  # one column: every tile within the screen's width
            box = tile.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5
        assert overflow(page) <= 0, "the scorecard page scrolls sideways on a phone"
        screenshot(page, f"site-scorecard-{card['id']}-phone")
        visit.check()
    finally:
        context.close()


def test_index_on_a_phone_does_not_scroll_sideways(
    example: Example, base_url: str, browser: Any
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page, visit = open_page(context, base_url + "index.html", (base_url,))
        screenshot(page, "site-index-phone")
        visit.check()
        assert overflow(page) <= 0, f"the index is {overflow(page)} px wider than a phone"
    finally:
        context.close()


def test_dark_colour_scheme(example: Example, base_url: str, browser: Any) -> None:
    card = example.other_card
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    try:
        page, visit = open_page(context, base_url + f"scorecard/{card['id']}.html", (base_url,))
        colours = page.evaluate(
            """() => {
              const s = getComputedStyle(document.body);
              return [s.backgroundColor, s.color];
            }"""
        )
        background, text = (luminance(c) for c in colours)
        assert background < 0.1, colours  # a dark page ...
        assert text > 0.5, colours  # ... with light text
        assert contrast(background, text) >= 7
        lang = page.locator("html").get_attribute("lang")
        assert lang == card["locale"].replace("_", "-").split("-")[0] or card["locale"] == "en"
        screenshot(page, f"site-scorecard-{card['id']}-dark")
        kpi = card["kpis"][0]
        page2, visit2 = open_page(context, base_url + f"kpi/{kpi['id']}.html", (base_url,))
        screenshot(page2, f"site-kpi-{kpi['id']}-dark")
        visit.check()
        visit2.check()
    finally:
        context.close()


def test_the_table_works_without_javascript(example: Example, base_url: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page, visit = open_page(context, base_url + "index.html", (base_url,))
        rows = page.locator("table.kpis tbody tr")
        assert rows.count() == example.doc["summary"]["kpis"]
        assert rows.first.is_visible() and rows.last.is_visible()
        statuses = column_values_static(page)
        assert statuses == sorted(statuses, key=STATUSES.index)
        # the enhancement did not run: headings are not focusable, clicking does nothing
        heading = page.locator("table.kpis th[data-sort=number]")
        assert heading.get_attribute("tabindex") is None
        order = page.locator("table.kpis tbody tr td:first-child").all_inner_texts()
        heading.click()
        assert page.locator("table.kpis tbody tr td:first-child").all_inner_texts() == order
        # the filters are plain links to pages that exist
        page.locator("nav.filters a").first.click()
        page.wait_for_load_state("load")
        assert page.locator("table.kpis tbody tr").count() >= 1
        shown = Path(urlsplit(page.url).path)
        assert shown.parent.name == "status"
        screenshot(page, f"site-status-{shown.stem}-nojs")
        visit.check()
    finally:
        context.close()


def column_values_static(page: Any) -> list[str]:
    """The status column read without JavaScript in the page (Playwright reads the DOM)."""
    return [
        cell.get_attribute("data-value") or ""
        for cell in page.locator("table.kpis tbody tr td:nth-child(6)").all()
    ]


def test_the_site_works_from_file_urls(example: Example, browser: Any) -> None:
    context = browser.new_context()
    try:
        index = (example.site / "index.html").as_uri()
        page, visit = open_page(context, index, ("file://",))
        for status, n in status_counts(example.doc).items():
            assert page.locator(f".counts a.count.{status} strong").inner_text() == str(n)
        assert page.evaluate("document.styleSheets.length") >= 1
        assert page.evaluate(  # the stylesheet applied: the table has no cell spacing
            "getComputedStyle(document.querySelector('table.kpis')).borderCollapse"
        ) == ("collapse")
        # follow a link to a KPI page and one to a scorecard page
        kpi = example.kpi
        page.locator(f"table.kpis a[href='kpi/{kpi['id']}.html']").click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"kpi/{kpi['id']}.html")
        assert page.locator("h1").inner_text() == kpi["name"]
        page.locator(".crumbs a").nth(1).click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"scorecard/{example.card['id']}.html")
        assert page.locator("article.tile").count() == len(example.card["kpis"])
        visit.check()
    finally:
        context.close()


# ------------------------------------------------------------------ colour


def luminance(css: str) -> float:
    """The relative luminance (WCAG) of a CSS `rgb(...)`/`rgba(...)` colour."""
    parts = css[css.index("(") + 1 : css.index(")")].replace("/", ",").split(",")
    channels = [float(p) / 255 for p in parts[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: float, b: float) -> float:
    high, low = max(a, b), min(a, b)
    return (high + 0.05) / (low + 0.05)


def test_pages_declare_an_icon_so_the_browser_requests_nothing_missing(
    example: Example, base_url: str, browser: Any
) -> None:
    context = browser.new_context()
    try:
        page, _ = open_page(context, base_url + "index.html", (base_url,))
        icons = page.locator("link[rel~='icon']")
        assert icons.count() >= 1
        href = icons.first.get_attribute("href") or ""
        assert href.startswith("data:") or (example.site / href).is_file()
    finally:
        context.close()
