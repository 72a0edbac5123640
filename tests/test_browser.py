"""The dashboard in a real Chromium (Debian's /usr/bin/chromium driven by Playwright).

A demo store is built with the `monitor` CLI, `streamlit run app.py` serves it on 127.0.0.1,
and the tests open shared links, switch pages, screenshot every page to
test-artifacts/screenshots/, and load a store full of hostile names to check nothing runs.
The page list and the URL parameters are read from app.py and pages/_ui/view.py, not repeated
here.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from live_server import REPO, LiveServer, live_server, run_cli
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from monitor import analyze
from monitor.models import Filters
from monitor.store import DuckDBStore
from monitor.text import tag_key

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
# Saved in the demo store (the Attention page's tests).
SAVED_QUERIES = {"ukraine": "Ukraine", "politik": "Politik", "wirtschaft": "Wirtschaft"}
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot .main-svg"
APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
LOAD_TIMEOUT = 90_000  # ms: first run of a page on a busy two-core CI machine


def app_pages() -> list[tuple[str, str, Path]]:
    """(url_path, title, script) for every page in app.py's menu, in menu order. The default
    page is served at "/"; its own path is the hidden page of the same script, if any."""
    source = (REPO / "app.py").read_text(encoding="utf-8")
    constants = dict(re.findall(r'^([A-Z_]+) = "(pages/[^"]+\.py)"$', source, flags=re.M))
    found, hidden = [], {}
    for call in re.findall(r"st\.Page\((.*?)\)", source, flags=re.S):
        script = re.search(r'"(pages/[^"]+\.py)"', call) or re.match(r"\s*([A-Z_]+)\s*,", call)
        url = re.search(r'url_path="([^"]*)"', call)
        title = re.search(r'title="([^"]+)"', call)
        if not (script and url and title):
            continue
        path = REPO / constants.get(script.group(1), script.group(1))
        if 'visibility="hidden"' in call:
            hidden[path] = url.group(1)
        else:
            found.append((url.group(1), title.group(1), path))
    return [(url or hidden.get(path, url), title, path) for url, title, path in found]


def range_value(days: int) -> str:
    """The app's URL value for a date range of `days` days (the keys of `_ui.RANGES`)."""
    tree = ast.parse((REPO / "pages" / "_ui" / "view.py").read_text(encoding="utf-8"))
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
    raise AssertionError("pages/_ui/view.py has no RANGES")


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
    """A demo store built by the CLI, and a tag (its display form, which links carry) that
    has articles in the last 90 days (but not all of them, so filtering by it must shrink the
    count)."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    run_cli(db, "demo")
    for name, text in SAVED_QUERIES.items():  # for the Attention page
        run_cli(db, "queries", "add", name, text)
    since = datetime.now(UTC) - timedelta(days=90)
    tags = analyze.tags(DuckDBStore(db), Filters(since=since), limit=5)
    assert len(tags) >= 2, "the demo store has no tags"
    return db, str(tags["tag"][1])


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


@contextmanager
def two_visitors(chromium: Browser) -> Iterator[tuple[Session, Session]]:
    """Two browser contexts that share nothing (cookies, storage, session), as two people
    opening the same link."""
    contexts = [
        chromium.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-GB") for _ in range(2)
    ]
    try:
        for c in contexts:
            c.set_default_timeout(LOAD_TIMEOUT)
        first, second = (Session(c.new_page()) for c in contexts)
        yield first, second
    finally:
        for c in contexts:
            c.close()


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


def test_a_page_switch_keeps_the_sidebar(chromium: Browser, demo_server: LiveServer) -> None:
    """A new visitor's first page switch: the sidebar's widgets still show the link's range
    and zone, and the next rerun (a click on another page) keeps them. The browser sometimes
    drew them at their first choice ("24 hours", "Africa/Abidjan") after the switch, and the
    next rerun sent that back as the user's choice (about half of the switches to Stories)."""
    zone = "Europe/Berlin"
    for url_path, _title, _script in PAGES[1:]:
        context = chromium.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-GB")
        context.set_default_timeout(LOAD_TIMEOUT)
        page = context.new_page()
        try:
            visit(
                page,
                demo_server.url,
                url_path,
                f"range={Q_RANGE}&tz={quote(zone)}",
                "x",
                expect_charts=False,
            )
            sidebar = page.get_by_test_id("stSidebar")
            shown = (
                sidebar.get_by_role("combobox", name="Date range").input_value(),
                sidebar.get_by_role("combobox", name="Display time zone").input_value(),
            )
            assert shown == (RANGE, zone), (url_path, shown, page.url)
            switch_page(page, PAGES[0][0], "x", charts=False)
            params = query(page.url)
            assert (params.get("range"), params.get("tz")) == ([RANGE], [zone]), (
                url_path,
                page.url,
            )
        finally:
            context.close()
    TIMINGS.pop("x", None)
    TIMINGS.pop("x-start", None)


def choose_first(page: Page, label: str) -> None:
    """Pick the first option of the main-area selectbox labelled `label`."""
    box = page.get_by_test_id("stMain").get_by_role("combobox", name=label)
    expect(box).to_be_visible()
    box.click()
    page.get_by_role("option").first.click()
    page.wait_for_timeout(300)
    wait_for_app(page)


def choose_in_sidebar(page: Page, label: str, choice: str) -> None:
    """Pick `choice` in the sidebar's selectbox `label`. The list opens on a click; a rerun
    that lands at that moment (the address bar being written) can close it again, so the
    click is repeated until the option shows."""
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name=label)
    option = page.get_by_role("option").filter(has_text=re.compile(rf"^\s*{re.escape(choice)}\s*$"))
    for _ in range(10):
        wait_for_app(page)
        expect(box).to_be_visible()
        box.click()
        try:
            option.first.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        option.first.click()
        break
    else:
        raise AssertionError(f"the sidebar's {label!r} never offered {choice!r}")
    expect(box).to_have_value(choice)
    wait_for_app(page)


def type_query(page: Page, label: str, text: str) -> None:
    """Type `text` into the main-area text box labelled `label` and press Enter."""
    box = page.get_by_test_id("stMain").get_by_role("textbox", name=label)
    expect(box).to_be_visible()
    box.fill(text)
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_for_app(page)


# Pages whose charts appear only after a choice on the page (read from pages/*.py).
PAGE_ACTIONS = {
    "authors": lambda page: choose_first(page, "Show one author"),
    "stories": lambda page: choose_first(page, "Show one story"),
    "attention": lambda page: type_query(page, "Query 1", "@ukraine"),
}


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
    # The page asked for, at its own path (the Overview's /overview said "Page not found").
    title = {p[0]: p[1] for p in PAGES}[url_path]
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stHeading").first).to_have_text(title)
    assert urlsplit(page.url).path == f"/{url_path}", page.url
    page.wait_for_timeout(500)  # the not-found box opens a moment after the run
    assert not page.get_by_text(NO_PAGE).count(), page.url


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
    options = analyze.options(DuckDBStore(db))
    # The payloads survived ingestion, but for the byline's markup, which normalising removes.
    assert "Mallory" in options["authors"] and HOSTILE_AUTHOR not in options["authors"], options
    assert any("__pwned" in tag for tag in options["tags"]), options
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
    if url_path == "attention":  # feed content shows once there is a query (every item has it)
        type_query(page, "Query 1", "Zölle")
    if page.get_by_test_id("stPlotlyChart").count():
        wait_for_charts(page)
    page.wait_for_timeout(500)  # let any onerror/handler fire before looking
    assert injected(page) == []
    assert session.dialogs == []
    # The hostile names are on the page, as text: the checks above looked at them. A busy
    # machine draws charts and tables late, so look until they are there (or LOAD_TIMEOUT).
    markers = ("mallory", "evil feed", "bad name", "wahl", "click", LITERAL.casefold())
    if url_path == "topics":
        # Three hostile articles share too few terms for a topic model: the page says so and
        # shows no feed text at all (its hostile titles are tested in tests/test_topics.py).
        expect(page.get_by_text("too few shared terms")).to_be_visible()
        screenshot(page, f"hostile-{url_path}")
        return
    deadline = time.monotonic() + LOAD_TIMEOUT / 1000
    while True:
        table_cells(page)
        text = page.evaluate(
            """() => [document.querySelector('[data-testid=stMain]').innerText,
                      ...[...document.querySelectorAll('[role=gridcell], svg text')]
                          .map(e => e.textContent)].join(' ')"""
        ).casefold()
        if any(marker in text for marker in markers) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert any(marker in text for marker in markers), (url_path, text[:500])
    assert injected(page) == []  # and still none once everything is drawn
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


# -- one link, one view: in any zone, at its own path, nothing from elsewhere ------------------

ZONES = ("Asia/Tokyo", "America/Los_Angeles")
NO_PAGE = "Page not found"


@pytest.fixture
def zoned(chromium: Browser) -> Iterator[dict[str, Session]]:
    """One browser context per zone in ZONES (timezone_id), each with a page."""
    contexts = [
        chromium.new_context(viewport=VIEWPORT, timezone_id=zone, locale="en-GB") for zone in ZONES
    ]
    sessions = {}
    for zone, context in zip(ZONES, contexts, strict=True):
        context.set_default_timeout(LOAD_TIMEOUT)
        sessions[zone] = Session(context.new_page())
    yield sessions
    for context in contexts:
        context.close()


def settle(page: Page) -> None:
    """Until the run finished, its charts are drawn and the app has written the view into the
    address bar (a moment after the run, as the browser applies it)."""
    wait_for_app(page)
    if page.get_by_test_id("stPlotlyChart").count():
        wait_for_charts(page)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "tz" not in query(page.url):
        page.wait_for_timeout(200)
    # Widgets fill in their values a moment after they appear: wait until what the page
    # shows stops changing (two looks a second apart agree).
    last: dict[str, Any] | None = None
    deadline = time.monotonic() + LOAD_TIMEOUT / 1000
    while time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        wait_for_app(page)
        now = {"url": page.url, **shown(page)}
        if now == last:
            break
        last = now
    assert not page.get_by_text(NO_PAGE).count(), page.url


def table_cells(page: Page) -> list[list[str]]:
    """The cells each visible table shows when scrolled into view. The grid draws on a canvas; its
    accessible copy (rows in view only, hidden from get_by_role) carries the same text."""
    found = []
    grids = page.get_by_test_id("stMain").get_by_test_id("stDataFrame")
    for index in range(grids.count()):
        grid = grids.nth(index)
        if not grid.is_visible():  # inside a closed expander
            continue
        grid.scroll_into_view_if_needed()
        expect(grid.locator("[role=row]").first).to_be_attached(timeout=LOAD_TIMEOUT)
        page.wait_for_timeout(300)
        found.append(grid.locator("[role=gridcell]").all_inner_texts())
    return found


def shown(page: Page) -> dict[str, Any]:
    """What a reader takes from the page: headings, numbers, captions, notes, texts, the
    sidebar's values, every chart's data (names, x, y, z) and which images it shows."""
    found: dict[str, Any] = page.evaluate(
        """() => {
            const text = s => [...document.querySelectorAll(s)].map(e => e.innerText.trim());
            const values = s => [...document.querySelectorAll(s)].map(e => e.value);
            return {
                headings: text('[data-testid=stMain] [data-testid=stHeading]'),
                metrics: text('[data-testid=stMain] [data-testid=stMetric]'),
                captions: text('[data-testid=stMain] [data-testid=stCaptionContainer]'),
                notes: text('[data-testid=stMain] [data-testid=stAlert]'),
                inputs: values('[data-testid=stSidebar] input'),
                texts: text('[data-testid=stMain] [data-testid=stText]'),
                // A media URL is a hash of the image's bytes: the same cloud, the same URL.
                images: [...document.querySelectorAll('[data-testid=stMain] img')]
                    .map(i => i.getAttribute('src')),
                charts: [...document.querySelectorAll('.js-plotly-plot')].map(
                    p => JSON.stringify((p.data || []).map(t => [t.name, t.x, t.y, t.z]))),
            };
        }"""
    )
    return found


@pytest.fixture(scope="module")
def page_links(demo_db: tuple[Path, str]) -> dict[str, str]:
    """A link per page: custom dates (the start is what the date picker offers by default
    in Los Angeles today, which used to drop it from the URL), no zone, page choices."""
    db, tag = demo_db
    start = datetime.now(ZoneInfo("America/Los_Angeles")).date() - timedelta(days=30)
    end = start + timedelta(days=19)
    window = Filters(since=datetime.combine(start, datetime.min.time(), UTC))
    author = str(analyze.authors(DuckDBStore(db), window, limit=1)["author"][0])
    dates = f"range=custom&from={start}&to={end}"
    own = {
        "frequency": "by=week&split=feed&top=3",
        "tags": f"with={quote(tag)}",
        "clouds": "compare=true&side=tags",
        "authors": f"who={quote(author)}",
        "articles": "sort=title&asc=true&page=2",
        "attention": "aq1=%40ukraine&aq2=Wirtschaft&by=month",
    }
    return {
        url_path: f"/{url_path if url_path != PAGES[0][0] else ''}?{dates}"
        + (f"&{own[url_path]}" if url_path in own else "")
        for url_path, _title, _script in PAGES
    }


@pytest.mark.parametrize("url_path", [p[0] for p in PAGES])
def test_one_link_shows_the_same_in_tokyo_and_los_angeles(
    zoned: dict[str, Session], demo_server: LiveServer, page_links: dict[str, str], url_path: str
) -> None:
    link = page_links[url_path]
    seen: dict[str, dict[str, Any]] = {}
    left: dict[str, dict[str, list[str]]] = {}
    for zone, session in zoned.items():
        page = session.page
        page.goto(demo_server.url + link, wait_until="domcontentloaded")
        settle(page)
        seen[zone] = {**shown(page), "tables": table_cells(page)}
        left[zone] = query(page.url)
        assert urlsplit(page.url).path == urlsplit(link).path, page.url
    tokyo, los_angeles = (seen[z] for z in ZONES)
    assert tokyo == los_angeles
    # The address bar keeps the link's dates and choices, and adds the zone and defaults.
    asked = query(link)
    for zone in ZONES:
        for key, values in asked.items():
            assert left[zone].get(key) == values, (zone, key, page_links[url_path], left[zone])
        assert left[zone]["tz"] == ["UTC"], left[zone]
    assert left[ZONES[0]] == left[ZONES[1]]
    # (and there was something to compare: numbers, a table or a chart)
    assert any(tokyo[kind] for kind in ("metrics", "tables", "charts", "images")), tokyo
    assert not any(s.dialogs for s in zoned.values())


def test_the_zone_is_part_of_every_link(
    zoned: dict[str, Session], demo_server: LiveServer, page_links: dict[str, str]
) -> None:
    tokyo, los_angeles = zoned[ZONES[0]].page, zoned[ZONES[1]].page
    # A bare visit shows the browser's own zone and writes it into the address bar.
    for zone, page in ((ZONES[0], tokyo), (ZONES[1], los_angeles)):
        page.goto(demo_server.url + "/", wait_until="domcontentloaded")
        settle(page)
        assert query(page.url).get("tz") == [zone], page.url
        assert query(page.url).get("range") == [range_value(30)], page.url
    # A link that names Tokyo's zone is Tokyo's view in Los Angeles too (the dates are
    # Tokyo's days; the zone picker says so).
    link = demo_server.url + page_links["overview"] + "&tz=" + quote(ZONES[0], safe="")
    for page in (tokyo, los_angeles):
        page.goto(link, wait_until="domcontentloaded")
        settle(page)
        assert query(page.url).get("tz") == [ZONES[0]], page.url
        expect(
            page.get_by_test_id("stSidebar").get_by_role("combobox", name="Display time zone")
        ).to_have_value(ZONES[0])
    assert shown(los_angeles) == shown(tokyo)
    assert not any(s.dialogs for s in zoned.values())


def test_copy_link_offers_the_rolling_window_or_pinned_dates(
    zoned: dict[str, Session], demo_server: LiveServer, demo_db: tuple[Path, str]
) -> None:
    sender, receiver = zoned[ZONES[1]].page, zoned[ZONES[0]].page
    url = f"{demo_server.url}/frequency?range={quote(range_value(7))}&tag={quote(demo_db[1])}"
    sender.goto(url + "&tz=Europe/Berlin", wait_until="domcontentloaded")
    settle(sender)
    sidebar = sender.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Copy link").click()
    box = sender.get_by_test_id("stCode").first
    expect(box).to_be_visible()
    assert box.inner_text().strip() == sender.url
    sender.get_by_text("fixed (whole days").click()
    wait_for_app(sender)
    expect(box).to_contain_text("range=custom")
    pinned = box.inner_text().strip().replace("\n", "")
    asked = query(pinned)
    assert asked["range"] == ["custom"] and asked["tag"] == [demo_db[1]], pinned
    assert asked["tz"] == ["Europe/Berlin"] and {"from", "to", "by", "split", "top"} <= set(asked)
    # Opened elsewhere, the pinned link is its own address: nothing added, nothing lost.
    receiver.goto(pinned, wait_until="domcontentloaded")
    settle(receiver)
    assert query(receiver.url) == asked


def test_the_overview_has_its_own_path(zoned: dict[str, Session], demo_server: LiveServer) -> None:
    """/overview (the default page's own path) is the Overview, for every session, not only
    the server's first (later sessions were told "Page not found")."""
    for session in zoned.values():
        page = session.page
        page.goto(f"{demo_server.url}/overview?range={Q_RANGE}", wait_until="domcontentloaded")
        settle(page)
        assert urlsplit(page.url).path == "/overview", page.url
        expect(page.get_by_test_id("stMain").get_by_test_id("stHeading").first).to_have_text(
            "Overview"
        )
        assert articles_metric(page) > 0
        page.wait_for_timeout(500)  # the not-found box opens a moment after the run
        assert not page.get_by_text(NO_PAGE).count()
        assert not page.get_by_role("dialog").count()


@pytest.mark.parametrize("url_path", [p[0] for p in PAGES])
def test_no_request_leaves_the_dashboard(
    session: Session, demo_server: LiveServer, url_path: str
) -> None:
    """Every request the browser makes, on every page, goes to the dashboard's own address
    (the favicon used to come from fonts.gstatic.com)."""
    page = session.page
    requests: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    action = PAGE_ACTIONS.get(url_path)
    visit(
        page,
        demo_server.url,
        url_path,
        f"range={Q_RANGE}",
        f"requests-{url_path}",
        expect_charts=action is None,
    )
    if action is not None:
        action(page)
    settle(page)
    if draws_images({p[0]: p[2] for p in PAGES}[url_path]):
        expect(page.get_by_test_id("stImage").locator("img").first).to_be_visible()
    page.wait_for_timeout(1000)  # late requests: favicon, fonts, images
    own = demo_server.url + "/"
    elsewhere = [u for u in requests if not u.startswith(own) and not u.startswith("data:")]
    assert requests and not elsewhere, elsewhere
    socket_base = own.replace("http://", "ws://")
    assert sockets and all(u.startswith(socket_base) for u in sockets), sockets


def test_downloads_are_named_after_the_view(
    session: Session, demo_server: LiveServer, page_links: dict[str, str], demo_db: tuple[Path, str]
) -> None:
    page = session.page
    tag = demo_db[1]
    asked = query(page_links["articles"])
    start, end = asked["from"][0], asked["to"][0]
    page.goto(f"{demo_server.url}/articles?range=custom&from={start}&to={end}&tag={quote(tag)}")
    settle(page)
    with page.expect_download() as csv:
        page.get_by_role("button", name=re.compile(r"Download all \d+ as CSV")).click()
    safe_tag = re.sub(r"[^\w+-]+", "-", tag_key(tag))  # the filter holds the key
    assert csv.value.suggested_filename == f"articles_{start}_{end}_tag-{safe_tag}.csv"
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Publishing frequency").click()
    page.wait_for_url(re.compile(r"/frequency\?"))
    settle(page)
    with page.expect_download() as chart:
        page.get_by_role("button", name="Download data (CSV)").first.click()
    assert chart.value.suggested_filename == f"frequency_{start}_{end}_tag-{safe_tag}.csv"


# -- the Attention page (issue 11) ------------------------------------------------------------


def test_attention_with_three_saved_queries_reproduces_from_a_shared_link(
    chromium: Browser, demo_server: LiveServer, demo_db: tuple[Path, str]
) -> None:
    """Three saved queries typed into the Attention page; the address it leaves, opened in a
    second browser context (no shared state), shows the same charts, tables and captions,
    and the charts' counts are `analyze.attention`'s (what `monitor attention` prints)."""
    from monitor import savedqueries  # noqa: PLC0415

    with two_visitors(chromium) as (first, second):
        page = first.page
        open_page(
            page, f"{demo_server.url}/attention?range=all%20time", "attention-1", charts=False
        )
        for index, name in enumerate(SAVED_QUERIES, start=1):
            type_query(page, f"Query {index}", f"@{name}")
        settle(page)
        assert wait_for_charts(page) == 3
        seen = {**shown(page), "tables": table_cells(page)}
        link = page.url
        assert query(link)["aq1"] == ["@ukraine"] and query(link)["aq3"] == ["@wirtschaft"]
        screenshot(page, "attention-saved-queries")

        other = second.page
        other.goto(link, wait_until="domcontentloaded")
        settle(other)
        again = {**shown(other), "tables": table_cells(other)}
        assert again == seen
        assert query(other.url) == query(link)

        # The numbers are the library's (the CLI prints the same function's answer).
        db = demo_db[0]
        store = DuckDBStore(db, read_only=True)
        resolve = savedqueries.resolver(store)
        parsed = [savedqueries.parse(f"@{n}", resolve) for n in SAVED_QUERIES]
        labels = [savedqueries.label(q, store.saved_query(q.name or "")) for q in parsed]
        expected = analyze.attention(
            store, Filters(), parsed, by="week", timezone="UTC", labels=labels
        )
        counts = json.loads(seen["charts"][0])
        assert [trace[0] for trace in counts] == labels
        for trace in counts:
            mine = [r[2] for r in expected.series.rows if r[1] == trace[0]]
            assert sum(trace[2]) == sum(mine), trace[0]
        assert all(" version 1, edited " in label for label in labels)
        assert not first.dialogs and not second.dialogs


# -- counting stories (issue 10) ------------------------------------------------------------


def test_counting_stories_is_in_the_link_and_reproduces(
    chromium: Browser, demo_server: LiveServer, demo_db: tuple[Path, str]
) -> None:
    """Choosing Count: stories in the sidebar turns the Publishing frequency chart into story
    counts (the library's, fewer than the articles on the demo store); the address it leaves
    carries `count=stories` and shows the same in a second browser context."""
    with two_visitors(chromium) as (first, second):
        page = first.page
        open_page(page, f"{demo_server.url}/frequency?range=all%20time", "count-1", charts=True)
        settle(page)
        articles = shown(page)
        choose_in_sidebar(page, "Count", "stories")
        settle(page)
        seen = shown(page)
        link = page.url
        assert query(link)["count"] == ["stories"]
        assert seen["charts"] != articles["charts"]
        assert any("counting stories" in c for c in seen["captions"]), seen["captions"]
        screenshot(page, "frequency-counting-stories")

        store = DuckDBStore(demo_db[0], read_only=True)
        by = query(link)["by"][0]
        want = analyze.frequency(store, Filters(unit="stories"), by=by, timezone="UTC")
        every = analyze.frequency(store, Filters(), by=by, timezone="UTC")
        drawn = json.loads(seen["charts"][0])
        total = sum(sum(y for y in trace[2] if y) for trace in drawn)
        assert total == sum(want["count"]) < sum(every["count"])

        other = second.page
        other.goto(link, wait_until="domcontentloaded")
        settle(other)
        assert shown(other) == seen
        assert query(other.url) == query(link)
        assert not first.dialogs and not second.dialogs
