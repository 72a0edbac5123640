"""The engines the conformance suite runs on, and a store of each in a test's tmp_path.

`any_store` is one fixture parametrised by engine (ids `duckdb` and `chdb`): a DuckDB file, or
a chDB directory opened through `monitor.store.open_store("chdb:///...")`, exactly as
`MONITOR_DB` would name it. Without chdb installed the chdb cases skip with the reason (CI
installs the dev extra, which has it).

chDB opens ONE directory per process at a time (a second path raises "EmbeddedServer already
initialized with path ..."; after `close()` another opens). So every chDB store a test makes
goes through `exclusive()`, which closes whichever other chDB store this process has open
(a ClickHouseStore opens its client again on its next call), and every fixture closes its
stores at teardown.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import open_store
from monitor.store.base import Storage


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules (None)
        return False


HAVE_CHDB = all(_installed(m) for m in ("chdb", "clickhouse_connect"))
NO_CHDB = "chdb is not installed (pip install -e '.[dev]' brings it)"

ENGINES = (
    pytest.param("duckdb", id="duckdb"),
    pytest.param("chdb", id="chdb", marks=pytest.mark.skipif(not HAVE_CHDB, reason=NO_CHDB)),
)

_open_chdb: list[Any] = []


def location(engine: str, where: Path) -> str:
    """The MONITOR_DB value of a fresh store of `engine` under the folder `where`."""
    if engine == "duckdb":
        return str(where / "monitor.duckdb")
    if engine == "chdb":
        return f"chdb://{where / 'chdb'}"
    raise ValueError(f"unknown engine {engine!r}")


def exclusive(store: Storage) -> Storage:
    """Make `store` the one chDB store this process has open (a DuckDB store is left alone)."""
    if engine_of(store) != "chdb":
        return store
    for other in list(_open_chdb):
        if other is not store:
            close(other)
    if not any(s is store for s in _open_chdb):
        _open_chdb.append(store)
    return store


def close(store: Storage) -> None:
    """Let go of a store (a chDB directory, for the next one)."""
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()
    for i, other in enumerate(_open_chdb):
        if other is store:
            del _open_chdb[i]
            break


def engine_of(store: Storage) -> str:
    """ "duckdb" or "chdb" (ClickHouse embedded) or "clickhouse" (a server)."""
    name = type(store).__name__
    if name == "DuckDBStore":
        return "duckdb"
    text = str(getattr(getattr(store, "location", None), "shown", "")) or repr(store)
    return "chdb" if "chdb" in text else "clickhouse"


def make_store(engine: str, where: Path, *, read_only: bool = False) -> Storage:
    """A store of `engine` under `where` (created on first use), the only chDB one open."""
    where.mkdir(parents=True, exist_ok=True)
    return exclusive(open_store(location(engine, where), read_only=read_only))


@pytest.fixture(params=ENGINES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """An empty store of each engine; closed at teardown."""
    store = make_store(request.param, tmp_path / request.param)
    try:
        yield store
    finally:
        close(store)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine's name, for tests that open (and close) their stores themselves."""
    return str(request.param)
