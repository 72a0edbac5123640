"""Feed text in a real Chromium: no chart element made from feed content is a link or bold,
nothing in a chart is reversed by a bidi control, and at phone width the tables show their
key columns first and the sparkline answers a tap with a date and a count.

A store full of markup (`<a href=...>`, `<b>`, `javascript:` links) and bidi controls is
built through the real ingest (tests/test_chart_safety.py's feed), `streamlit run app.py`
serves it on 127.0.0.1 (tests/live_server.py), and Debian's chromium opens the Overview,
Publishing frequency, Hashtag trends, Topic clouds and Authors pages, hovering over every
chart so that hover labels are drawn too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from live_server import LiveServer, live_server, run_cli
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from test_browser import APP_IDLE, CHROMIUM, CHROMIUM_ARGS, LOAD_TIMEOUT
from test_chart_safety import STORED_AUTHOR, hostile_feed

from monitor import analyze
from monitor.store import DuckDBStore

pytestmark = pytest.mark.browser

PLOT = "[data-testid=stPlotlyChart] .js-plotly-plot"
PAGES = [
    ("overview", ""),
    ("frequency", "split=author"),
    ("frequency", "split=feed"),
    ("tags", ""),
    ("clouds", ""),
    ("authors", "who=" + STORED_AUTHOR),
]


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread until it stops (see tests/test_browser.py).
@pytest.fixture(scope="module")
def playwright_run() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_run: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    launched = playwright_run.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("hostile-charts")
    feed = root / "hostile.xml"
    feed.write_bytes(hostile_feed())
    db = root / "hostile.duckdb"
    run_cli(db, "ingest", str(feed))
    assert STORED_AUTHOR in analyze.options(DuckDBStore(db))["authors"]
    with live_server(db, root / "streamlit.log") as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("demo-phone")
    db = root / "demo.duckdb"
    run_cli(db, "demo")
    with live_server(db, root / "streamlit.log") as server:
        yield server


def _context_page(browser: Browser, **options: Any) -> Iterator[Page]:
    context = browser.new_context(timezone_id="UTC", locale="en-GB", **options)
    context.set_default_timeout(LOAD_TIMEOUT)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    assert dialogs == [], dialogs
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    yield from _context_page(browser, viewport={"width": 1440, "height": 1000})


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _context_page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )


def _open(page: Page, server: LiveServer, path: str, params: str) -> None:
    """The app's root first (a server's first visit), then the page itself; until its first
    chart is drawn and the script run finished, with no exception box."""
    page.goto(f"{server.url}/", wait_until="domcontentloaded")
    page.wait_for_selector(APP_IDLE)
    target = "" if path == "overview" else path  # the default page lives at /
    page.goto(f"{server.url}/{target}?{params}", wait_until="domcontentloaded")
    page.locator(f"{PLOT} .main-svg").first.wait_for(state="visible")
    page.wait_for_timeout(500)  # a rerun may follow the first draw
    page.wait_for_selector(APP_IDLE)
    exceptions = page.get_by_test_id("stException")
    assert not exceptions.count(), exceptions.first.inner_text()


def _hover_everywhere(page: Page) -> list[str]:
    """Move the mouse across every chart's plot area; the hover texts seen on the way."""
    seen: list[str] = []
    charts = page.locator(f"{PLOT} .nsewdrag")
    for index in range(charts.count()):
        area = charts.nth(index)
        area.scroll_into_view_if_needed()
        box = area.bounding_box()
        if box is None:
            continue
        for step in range(1, 12):
            for height in (0.25, 0.5, 0.75):
                page.mouse.move(
                    box["x"] + box["width"] * step / 12, box["y"] + box["height"] * height
                )
                seen.extend(_hover_texts(page))
                assert _links_in_charts(page) == [], "a link in a hover label"
    return seen


def _hover_texts(page: Page) -> list[str]:
    texts: list[str] = page.evaluate(
        f"""() => [...document.querySelectorAll('{PLOT} .hoverlayer')]
                 .map(e => e.textContent).filter(t => t)"""
    )
    return texts


def _links_in_charts(page: Page) -> list[str]:
    """Every link element inside a chart (SVG `a` with href or xlink:href, HTML `a[href]`)."""
    found: list[str] = page.evaluate(
        f"""() => [...document.querySelectorAll('{PLOT} a')]
            .filter(a => a.hasAttribute('href') || a.hasAttributeNS(
                'http://www.w3.org/1999/xlink', 'href'))
            .map(a => (a.getAttribute('href') || a.getAttributeNS(
                'http://www.w3.org/1999/xlink', 'href')) + ' ' + a.textContent)"""
    )
    return found


def _feed_links_anywhere(page: Page) -> list[str]:
    """Links anywhere on the page whose target came from the hostile feed."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('a, [href]')].map(
            a => a.getAttribute('href') || a.getAttributeNS(
                'http://www.w3.org/1999/xlink', 'href') || '')
            .filter(h => /evil\\.example|^\\s*javascript:/i.test(h))"""
    )
    return found


def _bold_feed_text(page: Page) -> list[str]:
    """Chart text that plotly drew in bold although it is feed text (`<b>bold</b>`)."""
    found: list[str] = page.evaluate(
        f"""() => [...document.querySelectorAll('{PLOT} tspan, {PLOT} text')]
            .filter(e => /bold/i.test(e.getAttribute('style') || '')
                         || e.getAttribute('font-weight') === 'bold')
            .map(e => e.textContent)"""
    )
    return found


def _chart_texts(page: Page) -> list[str]:
    texts: list[str] = page.evaluate(
        f"""() => [...document.querySelectorAll('{PLOT} text')].map(e => e.textContent)"""
    )
    return texts


BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_feed_text_in_charts_is_never_a_link_nor_bold_nor_reversed(
    desktop: Page, hostile_server: LiveServer, path: str, params: str
) -> None:
    _open(desktop, hostile_server, path, params)
    assert desktop.locator(PLOT).count(), "no chart on the page"
    hovered = _hover_everywhere(desktop)
    desktop.wait_for_timeout(300)
    assert _links_in_charts(desktop) == []
    assert _feed_links_anywhere(desktop) == []
    assert _bold_feed_text(desktop) == []
    texts = _chart_texts(desktop) + hovered
    reversed_ = [t for t in texts if BIDI.search(t)]
    assert reversed_ == [], reversed_
    if path in ("overview", "tags"):
        # The hostile tags are there, as the literal text the feed sent.
        assert any('<a href="https://evil.example">x</a>' in t for t in texts), texts
        assert any("<b>bold</b>" in t for t in texts), texts
    if path != "clouds":
        assert hovered, "no hover label was drawn"


def _headers(page: Page) -> list[list[str]]:
    """The column headers each table shows (the grid draws only the visible columns)."""
    heads: list[list[str]] = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].map(
            d => [...d.querySelectorAll('[role=columnheader]')].map(h => h.textContent.trim()))"""
    )
    return heads


def test_at_phone_width_tables_show_status_and_significance_first(
    phone: Page, demo_server: LiveServer
) -> None:
    _open(phone, demo_server, "frequency", "")
    (cadence,) = _headers(phone)
    assert cadence[0] == "Feed status", cadence
    _open(phone, demo_server, "tags", "range=7+days")
    trends = _headers(phone)
    assert trends and all(h[:2] == ["Tag", "Significance (z)"] for h in trends), trends


def test_at_phone_width_a_tap_on_the_sparkline_shows_date_and_count(
    phone: Page, demo_server: LiveServer
) -> None:
    _open(phone, demo_server, "overview", "")
    line = phone.locator(f"{PLOT} .nsewdrag").first
    line.scroll_into_view_if_needed()
    box = line.bounding_box()
    assert box is not None
    seen: list[str] = []
    for share in (0.3, 0.6, 0.9):
        phone.touchscreen.tap(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)
        phone.wait_for_function(
            f"""() => [...document.querySelectorAll('{PLOT} .hoverlayer')]
                     .some(e => e.textContent)"""
        )
        seen.extend(_hover_texts(phone))
    labels = [t for t in seen if re.search(r"\d{4}-\d{2}-\d{2}: [\d,]+ articles", t)]
    assert len(labels) >= 2, seen
    # Swiping across it scrolls the page; it does not zoom the line.
    assert phone.evaluate(f"() => document.querySelector('{PLOT}')._fullLayout.dragmode") is False


def test_a_click_on_a_top_tag_bar_filters_by_that_tag(
    desktop: Page, demo_server: LiveServer
) -> None:
    # Bars carry their row number (no feed text travels through the browser and back).
    _open(desktop, demo_server, "tags", "")
    bars = desktop.locator(PLOT).nth(1)  # the top-tags bars, after the trend lines
    labels: list[str] = desktop.evaluate(
        f"() => [...document.querySelectorAll('{PLOT}')[1].data[0].y]"
    )
    third = bars.locator(".bars path").nth(2)
    third.scroll_into_view_if_needed()
    third.click(force=True)  # plotly's drag layer is on top; it finds the bar under the click
    desktop.wait_for_url(re.compile(r"[?&]tag="))
    desktop.wait_for_timeout(500)
    desktop.wait_for_selector(APP_IDLE)
    assert query_tags(desktop.url) == [labels[2]], (desktop.url, labels)
    chosen = desktop.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    assert labels[2] in chosen.filter(has_text="Tags").inner_text()


def query_tags(url: str) -> list[str]:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query).get("tag", [])
