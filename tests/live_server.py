"""A real `streamlit run app.py` on a free 127.0.0.1 port, for the browser tests.

Only loopback: the server binds 127.0.0.1, sends no usage statistics, watches no files. The
process is stopped by its own handle (terminate, then kill); nothing is killed by name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEALTH_TIMEOUT = 60.0
# The demo store takes about 15 s on two cores; generous for a slow CI machine.
CLI_TIMEOUT = 300.0

# urllib without any proxy from the environment: the server is on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class LiveServer:
    """A running streamlit server: its base URL (no trailing slash), process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """The server's output so far (for failure messages)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli(db: Path, *args: str, timeout: float = CLI_TIMEOUT) -> str:
    """`monitor --db DB ARGS...` in a subprocess (the console script's own entry point);
    its output, or AssertionError with that output when it fails."""
    command = [sys.executable, "-c", "from monitor.cli import main; main()", "--db", str(db)]
    done = subprocess.run(
        [*command, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"monitor {' '.join(args)} failed ({done.returncode}):\n{output}")
    return output


def _healthy(url: str) -> bool:
    try:
        with _OPENER.open(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200 and response.read().strip() == b"ok")
    except (urllib.error.URLError, OSError):
        return False


def stop(server: LiveServer) -> None:
    """Stop the server process by its handle: terminate, wait, then kill if needed."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start(
    db: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = HEALTH_TIMEOUT,
) -> LiveServer:
    """Start `streamlit run app.py` against the store `db`; return once /_stcore/health says
    ok. Fails with the server log if it does not within `timeout` seconds."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = dict(os.environ)
    environment.update(env or {})
    environment["MONITOR_DB"] = str(db)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    handle = log.open("wb")
    try:
        process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=handle, stderr=subprocess.STDOUT
        )
    finally:
        handle.close()  # the child keeps its own copy of the descriptor
    server = LiveServer(url=url, process=process, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"streamlit exited with {process.returncode} before it was healthy:\n"
                + server.log_text()
            )
        if _healthy(url):
            return server
        time.sleep(0.2)
    stop(server)
    raise AssertionError(
        f"streamlit was not healthy at {url} after {timeout:.0f} s:\n" + server.log_text()
    )


@contextmanager
def live_server(
    db: Path, log: Path, *, env: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    """`start` as a context manager that always stops the server."""
    server = start(db, log, env=env)
    try:
        yield server
    finally:
        stop(server)
