"""The dashboard in a real Chromium (Debian's /usr/bin/chromium driven by Playwright).

A demo store is built with the `monitor` CLI, `streamlit run app.py` serves it on 127.0.0.1,
and the tests open shared links, switch pages, screenshot every page to
test-artifacts/screenshots/, and load a store full of hostile names to check nothing runs.
The page list and the URL parameters are read from app.py and pages/_ui.py, not repeated here.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from live_server import REPO, LiveServer, live_server, run_cli
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from monitor import analyze
from monitor.models import Filters
from monitor.store import Store

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORT = {"width": 1440, "height": 1000}
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot .main-svg"
APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
LOAD_TIMEOUT = 90_000  # ms: first run of a page on a busy two-core CI machine


def app_pages() -> list[tuple[str, str, Path]]:
    """(url_path, title, script) for every st.Page in app.py, in menu order."""
    source = (REPO / "app.py").read_text(encoding="utf-8")
    found = []
    for call in re.findall(r"st\.Page\((.*?)\)", source, flags=re.S):
        script = re.search(r'"(pages/[^"]+\.py)"', call)
        url = re.search(r'url_path="([^"]+)"', call)
        title = re.search(r'title="([^"]+)"', call)
        if script and url and title:
            found.append((url.group(1), title.group(1), REPO / script.group(1)))
    return found


def range_value(days: int) -> str:
    """The app's URL value for a date range of `days` days (the keys of `_ui.RANGES`)."""
    tree = ast.parse((REPO / "pages" / "_ui.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "RANGES":
            value = getattr(node, "value", None)
            assert isinstance(value, ast.Dict), "RANGES is not a dict literal"
            keys = [k.value for k in value.keys if isinstance(k, ast.Constant)]
            for key in keys:
                if re.fullmatch(rf"(last )?{days} ?d(ays)?", str(key)):
                    return str(key)
            raise AssertionError(f"no {days}-day range among {keys}")
    raise AssertionError("pages/_ui.py has no RANGES")


PAGES = app_pages()
RANGE = range_value(90)
Q_RANGE = quote(RANGE)
TIMINGS: dict[str, float] = {}


def draws_charts(script: Path) -> bool:
    source = script.read_text(encoding="utf-8")
    return "_ui.chart(" in source or "st.plotly_chart(" in source


def draws_images(script: Path) -> bool:
    return "st.image(" in script.read_text(encoding="utf-8")


# -- fixtures -------------------------------------------------------------------------------


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread until it stops, and later test modules (fetch) call asyncio.run().
@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run the README's test command, which installs Debian's "
            "chromium (apt-get install -y chromium); never `playwright install`."
        )
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo store built by the CLI, and a tag key that has articles in the last 90 days
    (but not all of them, so filtering by it must shrink the count)."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    run_cli(db, "demo")
    since = datetime.now(UTC) - timedelta(days=90)
    tags = analyze.tags(Store(db), Filters(since=since), limit=5)
    assert len(tags) >= 2, "the demo store has no tags"
    return db, str(tags["key"][1])


@pytest.fixture(scope="module")
def demo_server(
    demo_db: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("demo-log") / "streamlit.log"
    with live_server(demo_db[0], log) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def write_timings() -> Iterator[None]:
    yield
    if TIMINGS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


class Session:
    """A page plus what it saw: dialogs opened and console errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


@pytest.fixture
def session(chromium: Browser) -> Iterator[Session]:
    context = chromium.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-GB")
    context.set_default_timeout(LOAD_TIMEOUT)
    page = context.new_page()
    watched = Session(page)
    yield watched
    context.close()


# -- helpers --------------------------------------------------------------------------------


def wait_for_app(page: Page) -> None:
    """Until the script run finished and no exception box is shown."""
    page.wait_for_selector(APP_IDLE, timeout=LOAD_TIMEOUT)
    exceptions = page.get_by_test_id("stException")
    if exceptions.count():
        raise AssertionError(f"the page shows an exception:\n{exceptions.first.inner_text()}")


def wait_for_charts(page: Page) -> int:
    """Every plotly chart on the page has drawn its SVG; returns how many there are."""
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first).to_be_visible(timeout=LOAD_TIMEOUT)
    count = charts.count()
    for index in range(count):
        expect(charts.nth(index).locator(".js-plotly-plot .main-svg").first).to_be_attached()
    return count


def open_page(page: Page, url: str, key: str, *, charts: bool) -> float:
    """page.goto, then wait for the first chart (or the finished run): seconds taken."""
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    if charts:
        page.locator(CHART).first.wait_for(state="visible", timeout=LOAD_TIMEOUT)
    seconds = time.perf_counter() - start
    wait_for_app(page)
    TIMINGS[key] = round(seconds, 2)
    return seconds


def switch_page(page: Page, url_path: str, key: str, *, charts: bool) -> float:
    """Click the page's entry in the sidebar nav; wait for its URL, first chart, finished run."""
    title = {p[0]: p[1] for p in PAGES}[url_path]
    start = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    # The default page may live at "/" as well as at its own path.
    optional = "?" if url_path == PAGES[0][0] else ""
    page.wait_for_url(re.compile(rf":\d+/({re.escape(url_path)}){optional}(\?|$)"))
    if charts:
        page.locator(CHART).first.wait_for(state="visible", timeout=LOAD_TIMEOUT)
    seconds = time.perf_counter() - start
    page.wait_for_timeout(300)  # the new run may not have started when the URL changes
    wait_for_app(page)
    TIMINGS[key] = round(seconds, 2)
    return seconds


def visit(
    page: Page, base: str, url_path: str, params: str, key: str, *, expect_charts: bool = True
) -> bool:
    """Open the app at its root with `params`, then go to `url_path` through the sidebar nav
    (as a user does). Returns whether the page is expected to draw plotly charts (its script
    draws some and `expect_charts`)."""
    charts = expect_charts and draws_charts({p[0]: p[2] for p in PAGES}[url_path])
    if url_path == PAGES[0][0]:
        open_page(page, f"{base}/?{params}", key, charts=charts)
    else:
        open_page(page, f"{base}/?{params}", f"{key}-start", charts=False)
        switch_page(page, url_path, key, charts=charts)
    return charts


def nav_titles(page: Page) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    # Each link's text starts with its icon's ligature name ("dashboard"); the title is last.
    return [text.strip().splitlines()[-1].strip() for text in links.all_inner_texts()]


def articles_metric(page: Page) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text="Articles")
    text = metric.get_by_test_id("stMetricValue").first.inner_text()
    return int(re.sub(r"\D", "", text))


def sidebar_widget(page: Page, testid: str, label: str) -> Any:
    return page.get_by_test_id("stSidebar").get_by_test_id(testid).filter(has_text=label)


def expect_filters_shown(page: Page, tag: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Date range")).to_have_value(re.compile(RANGE))
    expect(sidebar_widget(page, "stMultiSelect", "Tags")).to_contain_text(tag)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG. Streamlit scrolls inside its own container, so the viewport is made
    as tall as the content first (capped) and the charts get a moment to re-lay out."""
    height = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll(
            '[data-testid=stMain], [data-testid=stMainBlockContainer], '
            + '[data-testid=stSidebarContent]'
        )].map(e => e.scrollHeight), document.body.scrollHeight)"""
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 80, 9000)})
    page.wait_for_timeout(600)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


# -- shared links and navigation -------------------------------------------------------------


def test_app_lists_its_pages() -> None:
    assert [p[0] for p in PAGES][:2] == ["overview", "frequency"], PAGES
    assert all(script.exists() for _, _, script in PAGES)


def test_shared_link_applies_the_filters(
    session: Session, demo_server: LiveServer, demo_db: tuple[Path, str]
) -> None:
    page = session.page
    tag = demo_db[1]
    open_page(page, f"{demo_server.url}/?range={Q_RANGE}", "overview-unfiltered", charts=True)
    everything = articles_metric(page)
    assert everything > 0

    open_page(
        page, f"{demo_server.url}/?range={Q_RANGE}&tag={quote(tag)}", "overview-link", charts=True
    )
    wait_for_charts(page)
    expect_filters_shown(page, tag)
    filtered = articles_metric(page)
    assert 0 < filtered < everything, (filtered, everything)
    params = query(page.url)
    assert params.get("range") == [RANGE] and params.get("tag") == [tag], page.url
    assert not session.dialogs


def test_switching_pages_keeps_the_filters(
    session: Session, demo_server: LiveServer, demo_db: tuple[Path, str]
) -> None:
    page = session.page
    tag = demo_db[1]
    open_page(page, f"{demo_server.url}/?range={Q_RANGE}&tag={quote(tag)}", "nav", charts=True)
    for url_path, _title, _script in [*PAGES[1:], PAGES[0]]:
        switch_page(page, url_path, f"nav-{url_path}", charts=False)
        assert nav_titles(page) == [p[1] for p in PAGES]
        # The browser rewrites the URL from the bound widgets after the run; on a loaded
        # machine that lands a moment after the run ends, so wait for it (up to 15 s).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
            query(page.url).get("range") == [RANGE] and query(page.url).get("tag") == [tag]
        ):
            page.wait_for_timeout(200)
        params = query(page.url)
        assert params.get("range") == [RANGE], (url_path, page.url)
        assert params.get("tag") == [tag], (url_path, page.url)
        expect_filters_shown(page, tag)
        if page.get_by_test_id("stPlotlyChart").count():
            wait_for_charts(page)
    assert not session.dialogs


def choose_first(page: Page, label: str) -> None:
    """Pick the first option of the main-area selectbox labelled `label`."""
    box = page.get_by_test_id("stMain").get_by_role("combobox", name=label)
    expect(box).to_be_visible()
    box.click()
    page.get_by_role("option").first.click()
    page.wait_for_timeout(300)
    wait_for_app(page)


# Pages whose charts appear only after a choice on the page (read from pages/*.py).
PAGE_ACTIONS = {"authors": lambda page: choose_first(page, "Show one author")}


@pytest.mark.parametrize("url_path", [p[0] for p in PAGES])
def test_every_page_renders_and_is_screenshotted(
    session: Session, demo_server: LiveServer, url_path: str
) -> None:
    page = session.page
    script = {p[0]: p[2] for p in PAGES}[url_path]
    action = PAGE_ACTIONS.get(url_path)
    charts = visit(
        page, demo_server.url, url_path, f"range={Q_RANGE}", url_path, expect_charts=not action
    )
    expect(page.get_by_test_id("stHeading").first).to_be_visible()
    if action is not None:
        action(page)
        charts = draws_charts(script)
    if charts:
        drawn = wait_for_charts(page)
        assert drawn >= 1
        # An empty chart would still have an SVG: check the plotted area has marks.
        marks = page.locator(
            "[data-testid=stPlotlyChart] .js-plotly-plot :is(.point, .trace, .hm, image)"
        )
        assert marks.count() > 0, f"{url_path}: charts drew no data"
    if draws_images(script):
        image = page.get_by_test_id("stImage").locator("img").first
        expect(image).to_be_visible()
        loaded = image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, f"{url_path}: the image did not load"
    path = screenshot(page, url_path)
    assert path.stat().st_size > 10_000
    assert not session.dialogs


@pytest.mark.parametrize("url_path", [p[0] for p in PAGES])
def test_a_deep_link_runs_the_router(
    session: Session, demo_server: LiveServer, url_path: str
) -> None:
    """/<page>?... must run app.py (its nav, layout and sidebar), not pages/<page>.py alone:
    a pages/ folder beside app.py is also Streamlit's old auto-discovered page folder."""
    page = session.page
    charts = url_path not in PAGE_ACTIONS and draws_charts({p[0]: p[2] for p in PAGES}[url_path])
    open_page(
        page, f"{demo_server.url}/{url_path}?range={Q_RANGE}", f"deep-{url_path}", charts=charts
    )
    assert nav_titles(page) == [p[1] for p in PAGES], page.url
    assert query(page.url).get("range") == [RANGE], page.url


# -- hostile data -------------------------------------------------------------------------------

# Each payload sets window.__pwned and opens a dialog if it ever runs. The feed is
# double-escaped on purpose: the parser strips real markup, so this is how markup-looking
# text survives into titles, authors, tags and feed names.
PWN = "alert(window.__pwned=1)"  # no "," or ";": authors are split on them
HOSTILE_TITLE = f'<script>{PWN}</script><img src=x onerror="{PWN}"> [md](javascript:{PWN}) Wahl'
HOSTILE_AUTHOR = f'<a href="javascript:{PWN}">Mallory</a>'
HOSTILE_TAG = f'<a href="javascript:{PWN}">click</a>'
HOSTILE_FEED = f'<a href="javascript:{PWN}">Evil feed</a>'
HOSTILE_NAME = f'<img src=x onerror="{PWN}">Bad name'
# Visible proof that the hostile tag shows as literal text in a chart.
LITERAL = 'href="javascript:'


def _xml_text(text: str) -> str:
    """Escaped twice: feedparser and the HTML-to-text step each undo one level."""
    once = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return once.replace("&", "&amp;")


def hostile_feed(now: datetime) -> str:
    items = []
    for index in range(8):
        items.append(
            f"""<item>
<title>{_xml_text(HOSTILE_TITLE)} {index}</title>
<link>javascript:{PWN}</link>
<guid isPermaLink="false">hostile-{index}</guid>
<dc:creator>{_xml_text(HOSTILE_AUTHOR)}</dc:creator>
<category>{_xml_text(HOSTILE_TAG)}</category>
<category>Zölle</category>
<description>Über Zölle und Friedensgespräche #Friedensgespräche {_xml_text(HOSTILE_TITLE)}
</description>
<pubDate>{format_datetime(now - timedelta(days=index, hours=2))}</pubDate>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>{_xml_text(HOSTILE_FEED)}</title>
<link>javascript:{PWN}</link>
<description>hostile test feed</description>
{"".join(items)}
</channel></rss>
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("hostile")
    feed = root / "hostile.xml"
    feed.write_text(hostile_feed(datetime.now(UTC)), encoding="utf-8")
    db = root / "hostile.duckdb"
    run_cli(db, "ingest", str(feed))
    # A subscribed feed with a hostile display name; never fetched (nothing runs `fetch`).
    run_cli(db, "feeds", "add", "http://127.0.0.1:9/never-fetched.xml", "--name", HOSTILE_NAME)
    options = analyze.options(Store(db))
    assert HOSTILE_AUTHOR in options["authors"], options  # the payload survived ingestion
    with live_server(db, root / "streamlit.log") as server:
        yield server


def injected(page: Page) -> list[str]:
    """Signs that hostile text became markup: javascript: URLs, our <img>/<script>, the flag."""
    found: list[str] = page.evaluate(
        """() => {
            const bad = [];
            for (const el of document.querySelectorAll('*')) {
                for (const attr of el.attributes) {
                    const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
                    if (/(href|src|action)$/i.test(attr.name) && value.startsWith('javascript:')) {
                        bad.push(`${el.tagName} ${attr.name}=${attr.value}`);
                    }
                }
            }
            for (const img of document.querySelectorAll('img[src="x"]')) bad.push('img src=x');
            for (const s of document.scripts) {
                if (s.textContent.includes('__pwned')) bad.push('script element');
            }
            if (window.__pwned !== undefined) bad.push('window.__pwned set');
            return bad;
        }"""
    )
    return found


@pytest.mark.parametrize("url_path", [p[0] for p in PAGES])
def test_hostile_names_stay_text(
    session: Session, hostile_server: LiveServer, url_path: str
) -> None:
    page = session.page
    # Charts are not required here: a page may show its empty state for this tiny store.
    visit(page, hostile_server.url, url_path, "", f"hostile-{url_path}", expect_charts=False)
    if page.get_by_test_id("stPlotlyChart").count():
        wait_for_charts(page)
    page.wait_for_timeout(500)  # let any onerror/handler fire before looking
    assert injected(page) == []
    assert session.dialogs == []
    if url_path == "overview":
        # The hostile tag is in the top-tags chart as literal text, not dropped.
        labels = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot text")
        expect(labels.filter(has_text=LITERAL).first).to_be_attached()
    screenshot(page, f"hostile-{url_path}")


def test_hostile_url_parameters_stay_text(session: Session, hostile_server: LiveServer) -> None:
    page = session.page
    payload = f'<img src=x onerror="{PWN}">'
    url = (
        f"{hostile_server.url}/?q=%3Cscript%3E{PWN}%3C/script%3E"
        f"&tag={payload}&%3Cb%3Ebad%3C/b%3E=1&tz={payload}"
    )
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)
    page.wait_for_timeout(500)
    assert injected(page) == []
    assert session.dialogs == []
    # The app says what it dropped (as text).
    expect(page.get_by_test_id("stAlert").first).to_be_visible()
