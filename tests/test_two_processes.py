"""The dashboard and a fetching process at the same time, as two real processes.

`monitor fetch --every 1s` runs in its own process against a local server whose feed grows
every second; this process renders the dashboard (AppTest) again and again meanwhile. Neither
may fail, and the page shows the new articles on its next run without a restart.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedgen import Item, rss
from httpserver import Reply, Request, TestServer
from streamlit.testing.v1 import AppTest

from monitor import subscriptions
from monitor.store import DuckDBStore

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def growing_feed(server: TestServer) -> Iterator[str]:
    """A feed that has one more article every 0.5 s (the newest dated now)."""
    started = time.monotonic()
    lock = threading.Lock()

    def handler(_: Request) -> Reply:
        with lock:
            count = 1 + int((time.monotonic() - started) / 0.5)
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        items = [
            Item(f"Meldung {n}", link=f"https://grow.example/{n}", date=now, author="Anna Berg")
            for n in range(count)
        ]
        return Reply(200, rss(items), {"Content-Type": "application/rss+xml"})

    server.route("/grow.xml", handler=handler)
    yield server.url("/grow.xml")


def _articles_metric(at: AppTest) -> int:
    for metric in at.metric:
        if metric.label == "Articles":
            return int(str(metric.value).replace(",", ""))
    raise AssertionError("no Articles metric on the Overview page")


def test_dashboard_and_fetcher_processes_run_side_by_side(
    tmp_path: Path, growing_feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "live.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [growing_feed])
    monkeypatch.setenv("MONITOR_DB", str(db))
    fetcher = subprocess.Popen(
        [sys.executable, "-c", "from monitor.cli import main; main()", "--db", str(db),
         "fetch", "--every", "1s", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (len(seen) < 6 or len(set(seen)) < 3):
            # No cache clearing: the app's own cache key must notice the other process's writes.
            at = AppTest.from_file(APP, default_timeout=60)
            at.query_params["range"] = "24 hours"
            at.run()
            assert not at.exception, at.exception
            seen.append(_articles_metric(at))
            time.sleep(0.3)
    finally:
        fetcher.send_signal(signal.SIGINT)
        out, err = fetcher.communicate(timeout=60)
    assert fetcher.returncode == 130, err  # stopped by Ctrl-C (SIGINT)
    assert "Traceback" not in err
    runs = [line for line in out.splitlines() if line.startswith("{")]
    assert runs and all('"failed": 0' in line for line in runs), out
    # The page saw the store grow while the other process kept writing.
    assert seen == sorted(seen), seen
    assert len(set(seen)) >= 3, seen
