"""The HTTP layer against a real server on 127.0.0.1 (tests/httpserver.py)."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from httpserver import Reply, Request, TestServer

import monitor
from monitor.fetch import (
    FetchSettings,
    _addresses_problem,
    _fetch_all,
    check_public_url,
    fetch_all,
    fetch_many,
    fetch_one,
    next_due,
)
from monitor.models import FetchRequest, FetchResult

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
FAST = FetchSettings(connect_timeout=2.0, total_timeout=5.0)


@pytest.fixture
def http_server() -> Iterator[TestServer]:
    with TestServer() as server:
        yield server


def fetch(url: str, settings: FetchSettings = FAST, **request: str) -> FetchResult:
    return fetch_one(FetchRequest(url, **request), settings)


# -- success, headers, conditional GET ----------------------------------------------------------


def test_200_returns_body_headers_and_validators(http_server: TestServer) -> None:
    http_server.route(
        "/feed.xml",
        body=RSS,
        headers={
            "Content-Type": "application/rss+xml; charset=utf-8",
            "ETag": '"abc"',
            "Last-Modified": "Mon, 02 Jun 2025 10:00:00 GMT",
        },
    )
    url = http_server.url("/feed.xml")
    result = fetch(url)
    assert result.error is None and result.ok
    assert (result.status, result.content) == (200, RSS)
    assert (result.url, result.final_url, result.permanent_url) == (url, url, None)
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert all(name == name.lower() for name in result.headers)
    assert result.etag == '"abc"'
    assert result.last_modified == "Mon, 02 Jun 2025 10:00:00 GMT"
    assert not result.not_modified and not result.gone and result.retry_after is None
    assert 0 < result.elapsed < 5


def test_sends_user_agent_accept_and_gzip(http_server: TestServer) -> None:
    http_server.route("/feed.xml", body=RSS)
    fetch(http_server.url("/feed.xml"))
    fetch(http_server.url("/feed.xml"), FetchSettings(user_agent="custom-agent/1"))
    first, second = http_server.requests_for("/feed.xml")
    assert first.header("user-agent") == monitor.USER_AGENT
    assert second.header("user-agent") == "custom-agent/1"
    assert first.header("accept") == (
        "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
        "text/xml;q=0.9, */*;q=0.8"
    )
    assert "gzip" in (first.header("accept-encoding") or "")
    # No validators were given, so none are sent.
    assert first.header("if-none-match") is None and first.header("if-modified-since") is None


def test_gzip_body_is_decoded_and_encoding_headers_dropped(http_server: TestServer) -> None:
    body = RSS * 50
    http_server.route(
        "/gz",
        body=gzip.compress(body),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/xml"},
    )
    result = fetch(http_server.url("/gz"))
    assert result.error is None
    assert result.content == body
    assert "content-encoding" not in result.headers
    assert "content-length" not in result.headers  # it described the compressed body
    assert result.headers["content-type"] == "application/xml"


@pytest.mark.parametrize("raw", [False, True], ids=["zlib-deflate", "raw-deflate"])
def test_deflate_body_is_decoded(http_server: TestServer, raw: bool) -> None:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    http_server.route(
        "/deflate",
        body=compressor.compress(RSS) + compressor.flush(),
        headers={"Content-Encoding": "deflate"},
    )
    assert fetch(http_server.url("/deflate")).content == RSS


def test_unsupported_content_encoding_is_an_error(http_server: TestServer) -> None:
    http_server.route("/br", body=b"\x00\x01garbage", headers={"Content-Encoding": "br"})
    result = fetch(http_server.url("/br"))
    assert result.error == "unsupported Content-Encoding br"
    assert result.status == 200 and result.content is None


def test_304_through_etag(http_server: TestServer) -> None:
    def handler(request: Request) -> Reply:
        if request.header("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, RSS, {"ETag": '"v1"'})

    http_server.route("/feed", handler=handler)
    first = fetch(http_server.url("/feed"))
    assert (first.status, first.content, first.etag) == (200, RSS, '"v1"')

    again = fetch(http_server.url("/feed"), etag=first.etag or "")
    assert again.status == 304 and again.not_modified
    assert again.content is None and again.error is None and again.ok
    assert again.etag == '"v1"'
    assert http_server.requests_for("/feed")[1].header("if-none-match") == '"v1"'


def test_304_through_last_modified_keeps_the_validator_sent(http_server: TestServer) -> None:
    stamp = "Mon, 02 Jun 2025 10:00:00 GMT"

    def handler(request: Request) -> Reply:
        if request.header("if-modified-since") == stamp:
            return Reply(304)  # no validators repeated, as many servers do
        return Reply(200, RSS, {"Last-Modified": stamp})

    http_server.route("/feed", handler=handler)
    assert fetch(http_server.url("/feed")).status == 200
    result = fetch(http_server.url("/feed"), last_modified=stamp, etag='"old"')
    assert result.not_modified and result.error is None and result.content is None
    assert (result.last_modified, result.etag) == (stamp, '"old"')
    sent = http_server.requests_for("/feed")[1]
    assert sent.header("if-modified-since") == stamp
    assert sent.header("if-none-match") == '"old"'


def test_validator_with_control_characters_is_not_sent(http_server: TestServer) -> None:
    http_server.route("/feed", body=RSS)
    result = fetch(http_server.url("/feed"), etag='"a"\r\nX-Injected: 1')
    assert result.content == RSS
    sent = http_server.requests_for("/feed")[0]
    assert sent.header("if-none-match") is None and sent.header("x-injected") is None


# -- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent"), [(301, True), (308, True), (302, False), (303, False), (307, False)]
)
def test_redirect_is_followed(http_server: TestServer, status: int, permanent: bool) -> None:
    http_server.route("/old", status=status, headers={"Location": "/new?x=1"})
    http_server.route("/new", body=RSS)
    result = fetch(http_server.url("/old"))
    assert result.error is None and result.content == RSS
    assert result.url == http_server.url("/old")
    assert result.final_url == http_server.url("/new?x=1")
    assert result.permanent_url == (http_server.url("/new?x=1") if permanent else None)


@pytest.mark.parametrize(
    ("chain", "permanent"), [((301, 308, 301), True), ((301, 302, 308), False)]
)
def test_permanent_url_only_when_every_hop_is_permanent(
    http_server: TestServer, chain: tuple[int, ...], permanent: bool
) -> None:
    for hop, status in enumerate(chain):
        http_server.route(
            f"/{hop}", status=status, headers={"Location": http_server.url(f"/{hop + 1}")}
        )
    http_server.route(f"/{len(chain)}", body=RSS)
    result = fetch(http_server.url("/0"))
    assert result.content == RSS
    assert result.final_url == http_server.url(f"/{len(chain)}")
    assert result.permanent_url == (result.final_url if permanent else None)


def test_permanent_redirect_to_an_error_sets_no_permanent_url(http_server: TestServer) -> None:
    http_server.route("/old", status=301, headers={"Location": "/missing"})
    result = fetch(http_server.url("/old"))
    assert result.error == "HTTP 404 Not Found"
    assert result.permanent_url is None and result.final_url == http_server.url("/missing")


def test_redirect_loop_stops_after_max_redirects(http_server: TestServer) -> None:
    http_server.route("/a", status=302, headers={"Location": "/b"})
    http_server.route("/b", status=302, headers={"Location": "/a"})
    result = fetch(http_server.url("/a"))
    assert result.error == "too many redirects (more than 5)"
    assert result.status == 302 and result.content is None
    assert len(http_server.requests) == 6  # the first request and 5 redirects, no more


def test_five_redirects_are_allowed_six_are_not(http_server: TestServer) -> None:
    for hop in range(6):
        http_server.route(f"/{hop}", status=301, headers={"Location": f"/{hop + 1}"})
    http_server.route("/6", body=RSS)
    assert fetch(http_server.url("/1")).content == RSS  # 5 hops
    assert fetch(http_server.url("/0")).error == "too many redirects (more than 5)"
    two = FetchSettings(max_redirects=2, total_timeout=5.0)
    assert fetch(http_server.url("/3"), two).error == "too many redirects (more than 2)"


def test_redirect_without_location_is_an_error(http_server: TestServer) -> None:
    http_server.route("/r", status=301)
    result = fetch(http_server.url("/r"))
    assert result.error == "HTTP 301 redirect without a Location header"


def test_redirect_to_another_scheme_is_refused(http_server: TestServer) -> None:
    http_server.route("/r", status=302, headers={"Location": "file:///etc/passwd"})
    result = fetch(http_server.url("/r"))
    assert result.error is not None and result.error.startswith("unsupported URL scheme 'file'")


# -- HTTP errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, "HTTP 404 Not Found"),
        (500, "HTTP 500 Internal Server Error"),
        (403, "HTTP 403 Forbidden"),
    ],
)
def test_http_errors_are_one_line(http_server: TestServer, status: int, error: str) -> None:
    http_server.route("/x", status=status, body=b"<html>oops</html>")
    result = fetch(http_server.url("/x"))
    assert (result.status, result.error, result.content) == (status, error, None)
    assert not result.gone and result.retry_after is None


def test_410_is_gone(http_server: TestServer) -> None:
    http_server.route("/x", status=410)
    result = fetch(http_server.url("/x"))
    assert result.gone and result.status == 410
    assert result.error == "HTTP 410 Gone"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds(http_server: TestServer, status: int) -> None:
    http_server.route("/x", status=status, headers={"Retry-After": "120"})
    result = fetch(http_server.url("/x"))
    assert result.retry_after == 120.0
    assert result.error is not None and result.error.startswith(f"HTTP {status} ")
    assert "retry after 120 s" in result.error


def test_retry_after_as_http_date(http_server: TestServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=600)
    http_server.route("/x", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    result = fetch(http_server.url("/x"))
    assert result.retry_after is not None and 540 < result.retry_after <= 600


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("soon", None),
        ("-5", None),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("99999999999", 604800.0),
    ],
)
def test_unusable_retry_after(http_server: TestServer, header: str, expected: float | None) -> None:
    http_server.route("/x", status=503, headers={"Retry-After": header})
    result = fetch(http_server.url("/x"))
    assert result.retry_after == expected
    assert result.error is not None and result.error.startswith("HTTP 503 Service Unavailable")


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/feed")
    assert result.status is None and result.content is None
    assert result.error is not None and result.error.startswith("cannot connect: ")
    assert "\n" not in result.error


def test_unresolvable_host_is_cannot_connect() -> None:
    # The resolver is injected (as for vetted fetches): the system's would make the test
    # depend on this machine's DNS, and a slow one on its timeouts.
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    settings = FetchSettings(allow_private=False, total_timeout=5.0)
    requests = [FetchRequest("http://no-such-host.invalid/feed")]
    result = asyncio.run(_fetch_all(requests, settings, None, no_such_host))[0]
    assert result.status is None and result.content is None
    assert result.error == (
        "cannot connect: cannot resolve no-such-host.invalid: [Errno -2] Name or service not known"
    )


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("not a url", "not an absolute http(s) URL"),
        ("ftp://example.com/feed", "unsupported URL scheme 'ftp'"),
        ("", "not an absolute http(s) URL"),
        ("http:///feed", "URL has no host"),
    ],
)
def test_bad_urls_give_a_reason(url: str, start: str) -> None:
    result = fetch(url)
    assert result.status is None and result.error is not None
    assert result.error.startswith(start)


# -- limits: time, size, concurrency --------------------------------------------------------------


def test_slow_headers_time_out(http_server: TestServer) -> None:
    http_server.route("/slow", body=RSS, delay=5.0)
    began = time.monotonic()
    result = fetch(http_server.url("/slow"), FetchSettings(total_timeout=0.5))
    assert result.error == "timed out after 0.5 s"
    assert result.status is None and result.content is None
    assert time.monotonic() - began < 4  # generous: it must not wait for the server


def test_trickling_body_is_cut_off_at_total_timeout(http_server: TestServer) -> None:
    # Every chunk arrives well within any read timeout; only the total deadline stops it.
    http_server.route("/trickle", body=b"x" * 100, chunk_size=2, chunk_delay=0.1)
    began = time.monotonic()
    result = fetch(http_server.url("/trickle"), FetchSettings(total_timeout=1.0))
    assert result.error == "timed out after 1 s"
    assert result.content is None
    assert time.monotonic() - began < 4  # the full body would take 5 s


def test_timeout_budget_covers_all_redirect_hops(http_server: TestServer) -> None:
    for hop in range(3):
        http_server.route(f"/{hop}", status=302, headers={"Location": f"/{hop + 1}"}, delay=0.4)
    http_server.route("/3", body=RSS)
    result = fetch(http_server.url("/0"), FetchSettings(total_timeout=1.0))
    assert result.error == "timed out after 1 s"


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_oversized_body_is_aborted(http_server: TestServer, send_length: bool) -> None:
    http_server.route("/big", body=b"x" * 5000, send_length=send_length)
    http_server.route("/fits", body=b"x" * 1000, send_length=send_length)
    small = FetchSettings(max_bytes=1000, total_timeout=5.0)
    result = fetch(http_server.url("/big"), small)
    assert result.error == "response larger than 1 kB, aborted"
    assert result.content is None and result.status == 200
    assert fetch(http_server.url("/fits"), small).content == b"x" * 1000


def test_declared_oversize_is_aborted_before_reading(http_server: TestServer) -> None:
    # The body would trickle for minutes; the declared length alone must end the fetch.
    http_server.route(
        "/huge",
        body=b"x" * 100,
        headers={"Content-Length": "20000000"},
        send_length=False,
        chunk_size=10,
        chunk_delay=1.0,
    )
    result = fetch(http_server.url("/huge"), FetchSettings(total_timeout=2.0))
    assert result.error == "response larger than 10 MB, aborted"


def test_default_size_message() -> None:
    from monitor.fetch import _too_large

    assert _too_large(FetchSettings().max_bytes) == "response larger than 10 MB, aborted"


def _gzip_bomb(decoded_size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1_000_000)
    parts = [compressor.compress(block) for _ in range(decoded_size // len(block))]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_is_stopped_at_the_cap_with_bounded_memory(http_server: TestServer) -> None:
    bomb = _gzip_bomb(200_000_000)  # ~200 kB on the wire, 200 MB decoded
    assert len(bomb) < 300_000
    http_server.route("/bomb", body=bomb, headers={"Content-Encoding": "gzip"}, send_length=False)
    settings = FetchSettings(max_bytes=1_000_000, total_timeout=10.0)
    tracemalloc.start()
    try:
        result = fetch(http_server.url("/bomb"), settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error == "response larger than 1 MB, aborted"
    assert result.content is None
    # Inflating even one 64 kB network chunk of this bomb at once would take ~64 MB.
    assert peak < 16_000_000


def test_wrong_content_type_is_still_returned(http_server: TestServer) -> None:
    http_server.route(
        "/page", body=b"<html><body>hi</body></html>", headers={"Content-Type": "text/html"}
    )
    result = fetch(http_server.url("/page"))
    assert result.error is None and result.content == b"<html><body>hi</body></html>"
    assert result.headers["content-type"] == "text/html"


def test_per_host_limit_holds(http_server: TestServer) -> None:
    http_server.route("/slow", body=RSS, delay=0.2)
    requests = [FetchRequest(http_server.url(f"/slow?n={n}")) for n in range(8)]
    results = fetch_many(requests, FetchSettings(concurrency=16, per_host=2, total_timeout=10.0))
    assert all(r.content == RSS for r in results)
    assert len(http_server.requests_for("/slow")) == 8
    assert http_server.max_concurrent_for("/slow") == 2  # never more, and it did run in parallel


def test_overall_limit_holds(http_server: TestServer) -> None:
    http_server.route("/slow", body=RSS, delay=0.2)
    requests = [FetchRequest(http_server.url(f"/slow?n={n}")) for n in range(9)]
    results = fetch_many(requests, FetchSettings(concurrency=3, per_host=16, total_timeout=10.0))
    assert all(r.ok for r in results)
    assert http_server.max_concurrent == 3


def test_hosts_are_fetched_in_parallel() -> None:
    # Each server answers only once both requests are in flight at the same time.
    both_in_flight = threading.Barrier(2, timeout=3.0)

    def handler(request: Request) -> Reply:
        try:
            both_in_flight.wait()
        except threading.BrokenBarrierError:
            return Reply(500)
        return Reply(200, RSS)

    with TestServer() as one, TestServer() as two:
        for server in (one, two):
            server.route("/feed", handler=handler)
        requests = [FetchRequest(s.url("/feed")) for s in (one, two)]
        results = fetch_many(requests, FetchSettings(per_host=1, total_timeout=5.0))
        assert [r.content for r in results] == [RSS, RSS]


def test_same_host_waits_for_its_slot() -> None:
    # The converse: with per_host=1 the second request to one host never overlaps the first.
    barrier = threading.Barrier(2, timeout=0.5)

    def handler(request: Request) -> Reply:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(200, b"alone")
        return Reply(200, b"together")

    with TestServer() as server:
        server.route("/feed", handler=handler)
        requests = [FetchRequest(server.url(f"/feed?n={n}")) for n in range(2)]
        results = fetch_many(requests, FetchSettings(per_host=1, total_timeout=5.0))
        assert [r.content for r in results] == [b"alone", b"alone"]


def test_on_result_exception_propagates(http_server: TestServer) -> None:
    http_server.route("/feed", body=RSS)

    def explode(result: FetchResult) -> None:
        raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        fetch_many([FetchRequest(http_server.url("/feed"))], FAST, on_result=explode)


def test_results_in_request_order_and_on_result_as_completed(http_server: TestServer) -> None:
    http_server.route("/slow", body=b"slow", delay=0.5)
    http_server.route("/fast", body=b"fast")
    requests = [FetchRequest(http_server.url("/slow")), FetchRequest(http_server.url("/fast"))]
    seen: list[bytes | None] = []
    results = fetch_many(requests, FAST, on_result=lambda r: seen.append(r.content))
    assert [r.content for r in results] == [b"slow", b"fast"]
    assert seen == [b"fast", b"slow"]


def test_fetch_all_is_awaitable_and_fetch_many_works_inside_a_loop(http_server: TestServer) -> None:
    http_server.route("/feed", body=RSS)

    async def main() -> tuple[list[FetchResult], list[FetchResult]]:
        awaited = await fetch_all([FetchRequest(http_server.url("/feed"))], FAST)
        nested = fetch_many([FetchRequest(http_server.url("/feed"))], FAST)
        return awaited, nested

    awaited, nested = asyncio.run(main())
    assert awaited[0].content == RSS and nested[0].content == RSS
    assert fetch_many([]) == []


def test_fetch_one_takes_a_plain_url(http_server: TestServer) -> None:
    http_server.route("/feed", body=RSS)
    assert fetch_one(http_server.url("/feed")).content == RSS


# -- private addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("http://127.0.0.1/feed", "loopback"),
        ("http://127.8.9.10:8080/", "loopback"),
        ("http://[::1]/feed", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("http://100.64.0.1/", "not a public address"),  # carrier-grade NAT
        ("http://100.127.255.254/", "not a public address"),
        ("http://localhost:8080/", "loopback"),  # via /etc/hosts, no network needed
        ("http://[fec0::1]/", "site-local"),  # deprecated, still routed inside sites
        ("http://[feff:ffff::1]/", "site-local"),  # the top of fec0::/10
        ("http://0.1.2.3/", "private"),  # 0.0.0.0/8, "this network"
        ("http://[::ffff:0.0.0.0]/", "unspecified"),
        ("http://[::ffff:100.64.0.1]/", "not a public address"),  # mapped CGNAT
        ("http://[::ffff:169.254.169.254]/", "link-local"),  # mapped metadata service
        ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 wrapping 169.254.169.254
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 well-known prefix, 127.0.0.1
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
        ("http://[64:ff9b:1::a00:1]/", "NAT64 local-use"),
        ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated)
        ("http://[::ffff:0:7f00:1]/", "reserved"),  # IPv4-translated
        ("http://[2001::1]/", "private"),  # Teredo
        ("http://[2001:db8::1]/", "private"),  # documentation
        ("http://[3fff::1]/", "documentation"),
        ("http://[ff05::1]/", "multicast"),
        ("http://239.255.255.250/", "multicast"),
        ("http://255.255.255.255/", "reserved"),  # broadcast
        ("http://[fe80::1%25eth0]/", "link-local"),  # with a zone
    ],
)
def test_check_public_url_refuses(url: str, label: str) -> None:
    reason = check_public_url(url)
    assert reason is not None and label in reason and "\n" not in reason


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("ftp://93.184.215.14/", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("//example.com/feed", "not an absolute http(s) URL"),
    ],
)
def test_check_public_url_refuses_other_urls(url: str, start: str) -> None:
    reason = check_public_url(url)
    assert reason is not None and reason.startswith(start)


def _no_such_host(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_check_public_url_refuses_a_host_that_does_not_resolve() -> None:
    # An injected resolver: the system's would make the test depend on this machine's DNS.
    reason = check_public_url("http://no-such-host.invalid/", resolve=_no_such_host)
    assert reason == "cannot resolve no-such-host.invalid: [Errno -2] Name or service not known"


@pytest.mark.parametrize(
    ("addresses", "label"),
    [
        (["93.184.215.14", "10.0.0.7"], "private"),  # one bad address refuses the host
        (["2606:4700::1111", "fec0::7"], "site-local"),
        (["64:ff9b::a9fe:a9fe"], "link-local"),
    ],
)
def test_check_public_url_judges_every_address_a_name_resolves_to(
    addresses: list[str], label: str
) -> None:
    reason = check_public_url("http://feeds.example.org/", resolve=lambda h, p: addresses)
    assert reason is not None and reason.startswith("feeds.example.org resolves to ")
    assert label in reason


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/feed",
        "https://8.8.8.8:8443/x",
        "https://[2606:4700::1111]/",
        "http://[::ffff:8.8.8.8]/",  # mapped, public
        "http://[2002:808:808::1]/",  # 6to4 of a public address
        "http://[64:ff9b::808:808]/",  # NAT64 of a public address (IPv6-only networks)
    ],
)
def test_check_public_url_accepts_public_addresses(url: str) -> None:
    assert check_public_url(url) is None


def test_private_target_refused_before_any_request(http_server: TestServer) -> None:
    http_server.route("/feed", body=RSS)
    result = fetch(http_server.url("/feed"), FetchSettings(allow_private=False))
    assert result.error == "refused: 127.0.0.1, a loopback address"
    assert result.status is None and result.content is None
    assert http_server.requests == []


# The seam: a name the system cannot resolve ("feeds.invalid") that the test resolver maps to
# 127.0.0.1 and the test check lets through. Everything else gets the real check.
TEST_NAME = "feeds.invalid"


async def _resolve_test_name(host: str, port: int) -> list[str]:
    assert host == TEST_NAME
    return ["127.0.0.1"]


def _test_name_is_public(host: str, addresses: list[str]) -> str | None:
    return None if host == TEST_NAME else _addresses_problem(host, addresses)


def _fetch_with_seam(url: str) -> FetchResult:
    settings = FetchSettings(allow_private=False, total_timeout=5.0)
    requests = [FetchRequest(url)]
    return asyncio.run(
        _fetch_all(requests, settings, None, _resolve_test_name, _test_name_is_public)
    )[0]


def test_connection_goes_to_the_vetted_address(http_server: TestServer) -> None:
    # The name never resolves on this system: the fetch can only succeed by connecting to
    # the address that was checked, not by resolving again (which DNS rebinding would exploit).
    http_server.route("/direct", body=RSS)
    url = f"http://{TEST_NAME}:{http_server.port}/direct"
    result = _fetch_with_seam(url)
    assert result.error is None and result.content == RSS
    assert result.final_url == url
    assert http_server.requests[0].header("host") == f"{TEST_NAME}:{http_server.port}"


@pytest.mark.parametrize("address", ["fec0::1", "64:ff9b::a00:1", "::ffff:192.168.0.1"])
def test_vetted_fetch_refuses_a_name_resolving_to_a_hidden_private_address(
    http_server: TestServer, address: str
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    settings = FetchSettings(allow_private=False, total_timeout=5.0)
    url = f"http://{TEST_NAME}:{http_server.port}/feed"
    result = asyncio.run(_fetch_all([FetchRequest(url)], settings, None, resolve))[0]
    assert result.error is not None
    assert result.error.startswith(f"refused: {TEST_NAME} resolves to {address}")
    assert http_server.requests == []


def test_redirect_into_loopback_is_refused(http_server: TestServer) -> None:
    http_server.route("/start", status=302, headers={"Location": http_server.url("/secret")})
    http_server.route("/secret", body=b"internal")
    result = _fetch_with_seam(f"http://{TEST_NAME}:{http_server.port}/start")
    assert result.error == "refused: 127.0.0.1, a loopback address"
    assert result.final_url == http_server.url("/secret") and result.content is None
    assert [r.path for r in http_server.requests] == ["/start"]


# -- scheduling --------------------------------------------------------------------------------

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("errors", "expected"),
    [(0, HOUR), (1, HOUR), (2, 2 * HOUR), (3, 4 * HOUR), (5, 16 * HOUR), (6, 24 * HOUR)],
)
def test_next_due_backs_off_exponentially(errors: int, expected: timedelta) -> None:
    assert next_due(NOW, errors, None, HOUR) == NOW + expected


def test_next_due_caps_and_never_overflows() -> None:
    assert next_due(NOW, 10_000, None, HOUR) == NOW + timedelta(hours=24)
    week = timedelta(days=7)  # an interval longer than the cap is not shortened by errors
    assert next_due(NOW, 3, None, week) == NOW + week


def test_next_due_respects_retry_after() -> None:
    assert next_due(NOW, 1, 7200.0, HOUR) == NOW + timedelta(seconds=7200)
    assert next_due(NOW, 3, 60.0, HOUR) == NOW + 4 * HOUR  # backoff is already later
    assert next_due(NOW, 0, 90_000.0, HOUR) == NOW + timedelta(seconds=90_000)
    assert next_due(NOW, 1, float("inf"), HOUR) == NOW + HOUR  # nonsense is ignored


# -- hand-off to the parser --------------------------------------------------------------------

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "feeds"


@pytest.mark.parametrize(
    ("name", "content_type", "encoding", "entries"),
    [
        ("golem-de-1item-2017.iso8859-1.rss.xml", "application/rss+xml; charset=ISO-8859-1",
         "iso-8859-1", 1),
        ("oren-ru-yandex-2014.windows-1251.rss.xml", "text/xml; charset=windows-1251",
         "windows-1251", 10),
        ("heise-developer-2016.atom.xml", "application/atom+xml", "utf-8", 15),
    ],
)  # fmt: skip
def test_real_feed_gzipped_reaches_feedparser_intact(
    http_server: TestServer, name: str, content_type: str, encoding: str, entries: int
) -> None:
    raw = (FEEDS / name).read_bytes()
    http_server.route(
        "/feed",
        body=gzip.compress(raw),
        headers={"Content-Type": content_type, "Content-Encoding": "gzip"},
    )
    result = fetch(http_server.url("/feed"))
    assert result.content == raw
    parsed = feedparser.parse(result.content, response_headers=dict(result.headers))
    assert (parsed.encoding.lower(), len(parsed.entries), parsed.bozo) == (encoding, entries, 0)
