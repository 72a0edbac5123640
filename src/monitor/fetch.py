"""The HTTP layer: fetch feeds and pages concurrently, politely and within hard limits.

Every fetch ends in a FetchResult; nothing here raises for a bad URL, a bad server or a bad
network. Limits: `concurrency` requests at once overall, `per_host` at once per host:port,
`total_timeout` for a whole response (a trickling server is cut off), `max_bytes` of decoded
body (a gzip bomb is stopped there, with memory bounded by the cap).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

import monitor
from monitor.errors import one_line
from monitor.models import FetchRequest, FetchResult

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
MAX_BACKOFF = timedelta(hours=24)
# A hostile or broken Retry-After must not silence a feed for years.
MAX_RETRY_AFTER = 7 * 24 * 3600.0


@dataclass(frozen=True)
class FetchSettings:
    """Limits and manners for fetching."""

    connect_timeout: float = 10.0
    total_timeout: float = 30.0  # whole response, including a slow body
    max_bytes: int = 10_000_000  # decoded body cap: abort larger and record why
    max_redirects: int = 5
    concurrency: int = 16
    per_host: int = 2
    allow_private: bool = True  # False: refuse URLs resolving to loopback/private/link-local
    user_agent: str = monitor.USER_AGENT


DEFAULT_SETTINGS = FetchSettings()

# (host, port) -> addresses. A seam so tests can pretend a host is public.
Resolver = Callable[[str, int], Awaitable[list[str]]]
SyncResolver = Callable[[str, int], list[str]]
# (host, addresses) -> reason they are forbidden, or None. A seam for the pinning test.
AddressCheck = Callable[[str, list[str]], str | None]
OnResult = Callable[[FetchResult], None]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


async def fetch_all(
    requests: Sequence[FetchRequest],
    settings: FetchSettings = DEFAULT_SETTINGS,
    on_result: OnResult | None = None,
) -> list[FetchResult]:
    """Fetch all `requests` concurrently; results come back in the order of `requests`.

    `on_result` is called with each result as soon as it is complete (e.g. for a progress bar);
    an exception it raises cancels the remaining fetches and propagates. Fetch errors never
    raise: each result carries a one-line `error` instead. At most `settings.per_host` requests
    go to one host:port at a time.
    """
    return await _fetch_all(requests, settings, on_result, _system_resolve, _addresses_problem)


def fetch_many(
    requests: Sequence[FetchRequest],
    settings: FetchSettings = DEFAULT_SETTINGS,
    on_result: OnResult | None = None,
) -> list[FetchResult]:
    """Synchronous `fetch_all` (for the CLI).

    Inside a running event loop (a notebook, say) it runs on a worker thread with its own loop;
    `on_result` is then called on that thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fetch_all(requests, settings, on_result))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(fetch_all(requests, settings, on_result))).result()


def fetch_one(
    request: FetchRequest | str, settings: FetchSettings = DEFAULT_SETTINGS
) -> FetchResult:
    """Fetch one URL (or FetchRequest) synchronously."""
    if isinstance(request, str):
        request = FetchRequest(url=request)
    return fetch_many([request], settings)[0]


def check_public_url(url: str, *, resolve: SyncResolver | None = None) -> str | None:
    """Return a one-line reason why `url` must not be fetched from a public service, else None.

    Refused: schemes other than http/https, and hosts with any address (IPv4 or IPv6) that is
    loopback, private, link-local, site-local, unspecified, multicast, reserved, shared
    (carrier-grade NAT) or otherwise not globally routable; an IPv4 address carried inside an
    IPv6 one (IPv4-mapped, 6to4, NAT64) is judged as itself. A host that does not resolve is
    refused too. `resolve` (host, port) -> addresses replaces the system's resolver.
    """
    target = _parse_target(url)
    if isinstance(target, str):
        return target
    host, port = target
    if _is_ip_literal(host):
        return _addresses_problem(host, [host])
    try:
        addresses = (resolve or _system_resolve_sync)(host, port)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve {host}: {one_line(exc, 300)}"
    return _addresses_problem(host, addresses)


def next_due(
    now: datetime, error_count: int, retry_after: float | None, interval: timedelta
) -> datetime:
    """When to fetch a source next.

    After a success (`error_count` 0): `now + interval`. After `n` consecutive errors:
    `now + interval * 2**(n-1)`, capped at 24 h (or at `interval` if that is longer).
    Never earlier than `retry_after` seconds from now, when the server sent one.
    """
    if error_count <= 0:
        delay = interval
    else:
        cap = max(MAX_BACKOFF, interval)
        # 2**30 intervals exceed any cap; a bounded exponent keeps timedelta from overflowing.
        delay = min(interval * 2 ** min(error_count - 1, 30), cap)
    due = now + delay
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        due = max(due, now + timedelta(seconds=min(retry_after, MAX_RETRY_AFTER)))
    return due


# --------------------------------------------------------------------------------------------
# URL checks
# --------------------------------------------------------------------------------------------


def _parse_target(url: str) -> tuple[str, int] | str:
    """(host, port) of an http(s) URL, or a one-line reason it is not one."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        return f"invalid URL {_short(url)}: {one_line(exc, 300)}"
    if parsed.scheme not in ("http", "https"):
        if not parsed.scheme:
            return f"not an absolute http(s) URL: {_short(url)}"
        return f"unsupported URL scheme {parsed.scheme!r}: {_short(url)}"
    host = parsed.raw_host.decode("ascii", "replace")  # IDNA-encoded already
    if not host:
        return f"URL has no host: {_short(url)}"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return host, port


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _addresses_problem(host: str, addresses: list[str]) -> str | None:
    if not addresses:
        return f"cannot resolve {host}: no addresses"
    for address in addresses:
        problem = _address_problem(address)
        if problem:
            return problem if address == host else f"{host} resolves to {problem}"
    return None


# Ranges that are not public but that Python's `ipaddress` (3.11) does not flag, each with
# the name a refusal gives it. fec0::/10 is deprecated (RFC 3879) yet still routed inside
# sites that use it; 3fff::/20 is for documentation (RFC 9637).
_NOT_PUBLIC: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("fec0::/10"), "site-local"),
    (ipaddress.ip_network("3fff::/20"), "documentation"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "NAT64 local-use"),  # RFC 8215: any embedding
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 address reaches through a translator or tunnel, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _address_problem(address: str) -> str | None:
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]  # drop an IPv6 zone ("fe80::1%eth0")
        )
    except ValueError:
        return f"{address}, not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried in IPv6 reaches the IPv4 host: judge that one.
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = _address_problem(str(embedded))
            return f"{address} (embeds {problem})" if problem else None
    for network, label in _NOT_PUBLIC:
        if ip.version == network.version and ip in network:
            return f"{address}, a {label} address"
    for attribute, label in (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attribute):
            return f"{address}, a {label} address"
    if not ip.is_global:
        return f"{address}, not a public address"
    return None


def _system_resolve_sync(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _vet(
    url: str, resolve: Resolver, addresses_problem: AddressCheck
) -> tuple[str | None, str | None]:
    """For allow_private=False: (error, None) if the URL is forbidden, else (None, address).

    `address` is the checked IP to connect to (None for an IP literal). Connecting there,
    instead of letting the HTTP client resolve the name again, means a DNS answer that changes
    between check and connect (DNS rebinding) cannot slip a private address through.
    """
    target = _parse_target(url)
    if isinstance(target, str):
        return target, None
    host, port = target
    if _is_ip_literal(host):
        problem = addresses_problem(host, [host])
        return (f"refused: {problem}" if problem else None), None
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return f"cannot connect: cannot resolve {host}: {one_line(exc, 300)}", None
    problem = addresses_problem(host, addresses)
    if problem:
        return f"refused: {problem}", None
    return None, addresses[0].split("%", 1)[0]


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


class _Abort(Exception):
    """Internal: stop this fetch with a one-line reason (and the HTTP status, if one came)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class _Hop:
    status: int
    headers: httpx.Headers
    content: bytes | None


class _Slots:
    """`concurrency` slots overall and `per_host` slots per host:port."""

    def __init__(self, concurrency: int, per_host: int) -> None:
        self.total = asyncio.Semaphore(concurrency)
        self._per_host_size = per_host
        self._per_host: dict[str, asyncio.Semaphore] = {}

    def host(self, url: str) -> asyncio.Semaphore:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        key = f"{parsed.raw_host.decode('ascii', 'replace')}:{port}"
        if key not in self._per_host:
            self._per_host[key] = asyncio.Semaphore(self._per_host_size)
        return self._per_host[key]


async def _fetch_all(
    requests: Sequence[FetchRequest],
    settings: FetchSettings,
    on_result: OnResult | None,
    resolve: Resolver,
    addresses_problem: AddressCheck = _addresses_problem,
) -> list[FetchResult]:
    if not requests:
        return []
    concurrency = max(1, settings.concurrency)
    slots = _Slots(concurrency, max(1, settings.per_host))
    results: list[FetchResult | None] = [None] * len(requests)
    async with httpx.AsyncClient(
        follow_redirects=False,  # we follow them ourselves, checking and counting every hop
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip",  # we decode it ourselves, under the size cap
        },
    ) as client:

        async def run(index: int, request: FetchRequest) -> None:
            result = await _fetch(client, request, settings, slots, resolve, addresses_problem)
            results[index] = result
            if on_result is not None:
                on_result(result)

        try:
            async with asyncio.TaskGroup() as group:
                for index, request in enumerate(requests):
                    group.create_task(run(index, request))
        except BaseExceptionGroup as group_error:
            # Only on_result can raise here (fetches never do): hand its exception back as is.
            raise group_error.exceptions[0] from None
    return [result for result in results if result is not None]


async def _fetch(
    client: httpx.AsyncClient,
    request: FetchRequest,
    settings: FetchSettings,
    slots: _Slots,
    resolve: Resolver,
    addresses_problem: AddressCheck,
) -> FetchResult:
    url = request.url.strip() if isinstance(request.url, str) else ""
    failed = FetchResult(url=request.url, final_url=url, status=None)
    budget = settings.total_timeout  # shared by all hops; waiting for a slot does not count
    all_permanent = True
    redirects = 0
    hop: _Hop | None = None
    try:
        while True:
            problem = _parse_target(url)
            if isinstance(problem, str):
                return replace(failed, final_url=url, error=problem)
            connect_to = None
            if not settings.allow_private:
                refusal, connect_to = await _vet(url, resolve, addresses_problem)
                if refusal:
                    return replace(failed, final_url=url, error=refusal)
            async with slots.host(url), slots.total:
                started = time.monotonic()
                try:
                    async with asyncio.timeout(max(budget, 0.0)):
                        hop = await _one_hop(client, url, connect_to, request, settings, budget)
                except TimeoutError:
                    raise _Abort(f"timed out after {settings.total_timeout:g} s") from None
                finally:
                    budget -= time.monotonic() - started
            if hop.status not in REDIRECT_STATUSES:
                break
            location = hop.headers.get("location", "").strip()
            if not location:
                raise _Abort(f"HTTP {hop.status} redirect without a Location header", hop.status)
            if redirects >= settings.max_redirects:
                raise _Abort(f"too many redirects (more than {settings.max_redirects})", hop.status)
            redirects += 1
            all_permanent = all_permanent and hop.status in PERMANENT_REDIRECTS
            try:
                url = str(httpx.URL(url).join(location))
            except (httpx.InvalidURL, TypeError, ValueError) as exc:
                reason = f"bad redirect Location {_short(location)}: {one_line(exc, 300)}"
                raise _Abort(reason, hop.status) from None
    except _Abort as abort:
        return replace(
            failed,
            final_url=url,
            status=abort.status,
            error=str(abort),
            elapsed=settings.total_timeout - budget,
        )
    except httpx.HTTPError as exc:
        return replace(
            failed,
            final_url=url,
            error=_transport_error(exc, settings),
            elapsed=settings.total_timeout - budget,
        )
    except Exception as exc:  # a fetch never raises; say what happened in one line
        return replace(
            failed,
            final_url=url,
            error=f"unexpected {type(exc).__name__}: {one_line(exc, 300)}",
            elapsed=settings.total_timeout - budget,
        )
    return _result(request, url, hop, redirects > 0 and all_permanent, settings, budget)


def _result(
    request: FetchRequest,
    final_url: str,
    hop: _Hop,
    permanent: bool,
    settings: FetchSettings,
    budget: float,
) -> FetchResult:
    headers = dict(hop.headers.items())  # lower-cased names; repeated headers joined by ", "
    if hop.content is not None and headers.get("content-encoding", "identity") != "identity":
        # The content is decoded: the encoding headers no longer describe it.
        headers.pop("content-encoding", None)
        headers.pop("content-length", None)
    result = FetchResult(
        url=request.url,
        final_url=final_url,
        status=hop.status,
        headers=headers,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        elapsed=settings.total_timeout - budget,
    )
    status = hop.status
    if 200 <= status < 300:
        return replace(result, content=hop.content, permanent_url=final_url if permanent else None)
    if status == 304:
        # Servers may omit the validators on 304; the ones we sent are still current.
        return replace(
            result,
            not_modified=True,
            etag=result.etag or request.etag,
            last_modified=result.last_modified or request.last_modified,
            permanent_url=final_url if permanent else None,
        )
    error = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    if status == 410:
        return replace(result, gone=True, error=error)
    if status in (429, 503):
        retry_after = _parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
        if retry_after is not None:
            error += f" (retry after {retry_after:.0f} s)"
        return replace(result, retry_after=retry_after, error=error)
    return replace(result, error=error)


async def _one_hop(
    client: httpx.AsyncClient,
    url: str,
    connect_to: str | None,
    request: FetchRequest,
    settings: FetchSettings,
    budget: float,
) -> _Hop:
    """One GET of `url`; with `connect_to`, on a connection to that IP address (see _vet)."""
    headers: dict[str, str] = {}
    extensions: dict[str, str] = {}
    target = httpx.URL(url)
    if connect_to is not None:
        headers["Host"] = target.netloc.decode("ascii")
        # A pooled connection would carry one name's TLS session over to another name
        # on the same address: use each pinned connection once.
        headers["Connection"] = "close"
        if target.scheme == "https":
            extensions["sni_hostname"] = target.raw_host.decode("ascii")  # SNI and cert check
        target = target.copy_with(host=connect_to)
    if request.etag and _header_safe(request.etag):
        headers["If-None-Match"] = request.etag
    if request.last_modified and _header_safe(request.last_modified):
        headers["If-Modified-Since"] = request.last_modified
    timeout = httpx.Timeout(
        connect=min(settings.connect_timeout, max(budget, 0.001)),
        read=max(budget, 0.001),
        write=max(budget, 0.001),
        pool=max(budget, 0.001),
    )
    async with client.stream(
        "GET", target, headers=headers, timeout=timeout, extensions=extensions
    ) as response:
        status = response.status_code
        if not 200 <= status < 300:
            return _Hop(status, response.headers, None)  # the body of an error is not read
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > settings.max_bytes:
            raise _Abort(_too_large(settings.max_bytes), status)
        try:
            body = _Body(response.headers.get("content-encoding", ""), settings.max_bytes)
            async for chunk in response.aiter_raw():
                body.feed(chunk)
        except _Abort as abort:
            raise _Abort(str(abort), status) from None
        return _Hop(status, response.headers, body.finish())


class _Body:
    """Decodes a body (identity, gzip, deflate) incrementally, never beyond `limit` bytes.

    zlib's max_length bounds each step's output, so a small compressed chunk that would expand
    to gigabytes is stopped at the cap instead of being inflated in one piece.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self._encoding = encoding.strip().lower() or "identity"
        self._limit = max(0, limit)
        self._buffer = bytearray()
        self._members_done = 0
        self._raw_deflate_tried = False
        self._z: zlib._Decompress | None
        if self._encoding == "identity":
            self._z = None
        elif self._encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise _Abort(f"unsupported Content-Encoding {_short(encoding)}")

    def feed(self, data: bytes) -> None:
        if self._z is None:
            self._append(data)
            return
        while data:
            if self._z.eof:
                if self._encoding == "deflate":
                    return  # trailing bytes after a deflate stream
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)  # concatenated gzip member
            try:
                out = self._z.decompress(data, self._limit - len(self._buffer) + 1)
            except zlib.error as exc:
                if self._members_done:
                    return  # trailing garbage after a complete gzip stream: ignore it
                if self._encoding == "deflate" and not self._raw_deflate_tried:
                    # "deflate" is sometimes sent as a raw stream without the zlib header.
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise _Abort(f"cannot decode {self._encoding} body: {one_line(exc, 300)}") from None
            self._raw_deflate_tried = True
            self._append(out)
            if self._z.eof:
                self._members_done += 1
                data = self._z.unused_data
            else:
                data = self._z.unconsumed_tail

    def finish(self) -> bytes:
        if self._z is not None and not self._z.eof:
            self._append(self._z.flush())
        return bytes(self._buffer)

    def _append(self, data: bytes) -> None:
        if len(self._buffer) + len(data) > self._limit:
            raise _Abort(_too_large(self._limit))
        self._buffer += data


def _transport_error(exc: httpx.HTTPError, settings: FetchSettings) -> str:
    message = one_line(exc, 300)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect: timed out after {settings.connect_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {settings.total_timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {message}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid URL: {message}"
    if isinstance(exc, httpx.ProtocolError):
        return f"protocol error: {message}"
    if isinstance(exc, httpx.NetworkError):
        return f"connection failed: {message}"
    return f"HTTP error: {message}"


def _parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from Retry-After (delta-seconds or an HTTP date), capped; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - now).total_seconds())
    return min(seconds, MAX_RETRY_AFTER)


def _too_large(limit: int) -> str:
    return f"response larger than {_human_bytes(limit)}, aborted"


def _human_bytes(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1_000:
        return f"{count / 1_000:g} kB"
    return f"{count} bytes"


def _header_safe(value: object) -> bool:
    # A stored validator came from an untrusted server: never let it break the request line.
    # Only text is sent; anything else a caller hands over (NaN from a DataFrame) is none.
    return isinstance(value, str) and value.isascii() and not any(ch in value for ch in "\r\n\0")


def _short(text: str, limit: int = 120) -> str:
    return one_line(text, limit)
