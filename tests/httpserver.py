"""A small real HTTP server on 127.0.0.1 for tests (no mocks, never the internet).

Usage::

    from httpserver import Reply, Request, TestServer

    with TestServer() as server:                       # or use the `http_server` fixture
        server.route("/feed.xml", body=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
        server.route("/slow", body=b"x" * 100, chunk_size=10, chunk_delay=0.2)  # trickles
        server.route("/dyn", handler=lambda req: Reply(304) if req.header("if-none-match")
                     else Reply(200, b"body", {"ETag": '"v1"'}))
        url = server.url("/feed.xml")                  # "http://127.0.0.1:<port>/feed.xml"
        ...
        server.requests_for("/feed.xml")[0].header("user-agent")
        server.max_concurrent_for("/slow")             # most requests in flight at once

Unknown paths answer 404. The server speaks HTTP/1.1 with keep-alive, runs one thread per
connection (ThreadingHTTPServer) and binds a free port chosen by the OS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Request:
    """One request as the server saw it. Header names are lower-cased."""

    method: str
    path: str  # path with query string, as sent
    headers: Mapping[str, str]

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    """What to send back. `delay` waits before the status line; `chunk_size` > 0 sends the body
    in pieces with `chunk_delay` seconds between them (a slow, trickling server).
    `send_length=False` omits Content-Length and closes the connection after the body."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_size: int = 0
    chunk_delay: float = 0.0
    send_length: bool = True


Handler = Callable[[Request], Reply]


class TestServer:
    """A real HTTP server in a background thread; configure answers per path with `route`."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._log: list[Request] = []
        self._in_flight: dict[str, int] = {}
        self._max_in_flight: dict[str, int] = {}
        self._total_in_flight = 0
        self._max_total_in_flight = 0
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # do not wait for handlers still trickling a body
        # A short poll interval keeps close() (shutdown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- configuration -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of `path` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def route(
        self,
        path: str,
        status: int = 200,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        chunk_size: int = 0,
        chunk_delay: float = 0.0,
        send_length: bool = True,
        handler: Handler | None = None,
    ) -> None:
        """Answer requests for `path` (matched without the query string).

        With `handler`, it is called per request and its Reply is sent; the other arguments
        are then ignored."""
        if handler is None:
            fixed = Reply(status, body, dict(headers or {}), delay, chunk_size, chunk_delay,
                          send_length)  # fmt: skip

            def handler(_request: Request) -> Reply:
                return fixed

        with self._lock:
            self._routes[path] = handler

    # -- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in arrival order."""
        with self._lock:
            return list(self._log)

    def requests_for(self, path: str) -> list[Request]:
        """Requests whose path (without query) is `path`."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def max_concurrent_for(self, path: str) -> int:
        """The most requests for `path` that were being answered at the same time."""
        with self._lock:
            return self._max_in_flight.get(path, 0)

    @property
    def max_concurrent(self) -> int:
        """The most requests (any path) that were being answered at the same time."""
        with self._lock:
            return self._max_total_in_flight

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving; handlers still sending give up at their next chunk."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TestServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- used by the request handler -----------------------------------------------------------

    def _begin(self, request: Request) -> Handler | None:
        path = request.path.split("?", 1)[0]
        with self._lock:
            self._log.append(request)
            self._in_flight[path] = self._in_flight.get(path, 0) + 1
            self._max_in_flight[path] = max(self._max_in_flight.get(path, 0), self._in_flight[path])
            self._total_in_flight += 1
            self._max_total_in_flight = max(self._max_total_in_flight, self._total_in_flight)
            return self._routes.get(path)

    def _end(self, request: Request) -> None:
        path = request.path.split("?", 1)[0]
        with self._lock:
            self._in_flight[path] -= 1
            self._total_in_flight -= 1


def _make_handler(server: TestServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            request = Request(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            handler = server._begin(request)
            try:
                reply = handler(request) if handler else Reply(404, b"not found")
                self._send(reply, send_body)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                self.close_connection = True  # the client gave up (e.g. it timed out)
            finally:
                server._end(request)

        def _send(self, reply: Reply, send_body: bool) -> None:
            body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            if reply.delay and server._stopping.wait(reply.delay):
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.send_length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not send_body or reply.status == 304:
                return
            if reply.chunk_size <= 0:
                self.wfile.write(body)
                return
            self.wfile.flush()
            for start in range(0, len(body), reply.chunk_size):
                if start and server._stopping.wait(reply.chunk_delay):
                    self.close_connection = True
                    return
                self.wfile.write(body[start : start + reply.chunk_size])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return _Handler
