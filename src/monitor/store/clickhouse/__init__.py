"""The ClickHouse store: a server or cluster (`clickhouse://user:pass@host:8123/db`,
`clickhouses://...` or `?secure=1` for HTTPS), or chDB embedded in the process
(`chdb:///path/to/dir`). All SQL for ClickHouse lives in this package.

One `clickhouse-connect` client per store, opened at the first call and kept across
sessions: a dashboard runs every page in its own `session()`, and opening chDB costs
0.1-0.2 s where a statement costs milliseconds. On a server the client lives as long as the
store (until `close()`). On chDB the directory is let go `HOLD` seconds after the last
session ends (another process may want it, as with DuckDB's file), at once when another store
of this process opens another directory, and at exit. chDB allows one directory per process
(and one process per directory), so on chDB several writers are threads of one process; this
store serialises their statements on its one client. On a server, processes on any machine may
write at once: no statement depends on another writer's (see `write` for what a killed
writer leaves and `schema` for why nothing is counted twice).
"""

from __future__ import annotations

import atexit
import functools
import re
import threading
import uuid
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from monitor.errors import StoreError, one_line
from monitor.models import FeedState, Filters, Subscription, Table
from monitor.store import storyrows
from monitor.store.base import (
    TABLES,
    ArticleText,
    EngineInfo,
    FeedUpdate,
    SaveCounts,
    SavedQuery,
    TermRow,
    TermsRebuild,
    TermVectors,
)
from monitor.store.clickhouse import query
from monitor.store.clickhouse.schema import (
    COMPACT,
    MIGRATIONS,
    REBUILD_ROLLUP,
    SCHEMA_VERSION,
    cluster_ddl,
    column_types,
)
from monitor.store.clickhouse.sql import WORDS_READY, Params, utc_naive
from monitor.store.clickhouse.write import (
    ARTICLE_COLUMNS,
    CHILD_COLUMNS,
    LINK_COLUMNS,
    Writer,
    versions,
    words_of_row,
)
from monitor.store.entries import noted, rebuild_mark

__all__ = ["SCHEMA_VERSION", "ClickHouseStore", "cluster_ddl"]

# Every read: an outer join's missing side is NULL, as in SQL (ClickHouse's default fills in
# zeros and ''); a `WITH name AS MATERIALIZED (...)` is computed once for all the places that
# read it (by default ClickHouse inlines a CTE where it is used: the tag counts of `tags`
# and the authors' rows of `authors` were computed twice; 25-40% of those queries).
READ_SETTINGS = {"join_use_nulls": 1, "enable_materialized_cte": 1}

# Every read sees the newest version of each row and no tombstones: FINAL after each of the
# versioned tables (not after `term_daily`, which every query sums anyway: FINAL there made
# a year's cloud 8x slower). Added here, so the queries read as plain SQL.
_VERSIONED = re.compile(
    r"\b(FROM|JOIN)\s+(feeds|articles|article_feeds|article_authors|article_tags|"
    r"article_terms|article_words|stopwords|meta|pending|article_stories|story_bands|"
    r"saved_queries)\b"
    r"(?:\s+(?:AS\s+)?(?!(?:ON|WHERE|GROUP|ORDER|LIMIT|JOIN|"
    r"LEFT|INNER|UNION|SETTINGS|FINAL|AS|PREWHERE|HAVING)\b)([A-Za-z_][A-Za-z0-9_]*))?",
)


def with_final(sql: str) -> str:
    """`sql` with FINAL after every versioned table it reads."""

    def final(match: re.Match[str]) -> str:
        keyword, table, alias = match.group(1), match.group(2), match.group(3)
        return f"{keyword} {table} AS {alias} FINAL" if alias else f"{keyword} {table} FINAL"

    return _VERSIONED.sub(final, sql)


# The columns `read_rows` gives and `write_rows` takes, per table: the DuckDB engine's.
COPY_COLUMNS: dict[str, tuple[str, ...]] = {
    "feeds": query.FEED_COLUMNS,
    "articles": ARTICLE_COLUMNS,
    "article_feeds": LINK_COLUMNS,
    "article_authors": CHILD_COLUMNS["article_authors"],
    "article_tags": CHILD_COLUMNS["article_tags"],
    "article_terms": ("article_id", "term", "n", "published", "display"),
    "stopwords": ("language", "word", "removed"),
    "article_stories": storyrows.STORY_COLUMNS,
    "story_bands": storyrows.BAND_COLUMNS,
    "saved_queries": ("name", "text", "query_version", "edited"),
}


class _Location:
    """What a location names: chDB's directory, or a server's address and database."""

    def __init__(self, location: str) -> None:
        self.raw = location
        parts = urlsplit(location)
        scheme = parts.scheme.lower()
        self.embedded = scheme == "chdb"
        query_args = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if self.embedded:
            self.path = unquote(location[len("chdb://") :].split("?", 1)[0])
            if not self.path:
                raise StoreError(f"{location}: give a directory, as in chdb:///path/to/dir")
            self.database = query_args.get("database", "monitor")
            self.shown = f"chdb://{self.path}"
            return
        if scheme not in ("clickhouse", "clickhouses"):
            raise StoreError(
                f"{location}: not a ClickHouse location; use clickhouse://user:pass@host:8123/db "
                "or chdb:///path/to/dir"
            )
        self.secure = scheme == "clickhouses" or query_args.get("secure", "") in ("1", "true")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (8443 if self.secure else 8123)
        self.username = unquote(parts.username) if parts.username else "default"
        self.password = unquote(parts.password) if parts.password else ""
        self.database = parts.path.strip("/") or "default"
        user = f"{self.username}@" if parts.username else ""
        self.shown = f"{scheme}://{user}{self.host}:{self.port}/{self.database}"
        if not self.database.replace("_", "").isalnum():
            raise StoreError(f"{self.shown}: database name: letters, digits and '_' only")


# The stores of this process that hold a chDB directory open (at most one at a time).
_EMBEDDED: weakref.WeakSet[ClickHouseStore] = weakref.WeakSet()


@atexit.register
def _close_embedded() -> None:
    for store in list(_EMBEDDED):
        store.close()


class ClickHouseStore:
    """A monitor store in ClickHouse (see the module docstring)."""

    # chDB: seconds the directory stays open after the last session (0: closed at once).
    HOLD = 5.0

    def __init__(
        self,
        location: str,
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        salvage: bool = False,
    ) -> None:
        # `lock_timeout` and `salvage` are the DuckDB engine's (a file lock, a damaged file):
        # ClickHouse has neither, so they are taken and ignored.
        del lock_timeout, salvage
        self.location = _Location(location)
        self.read_only = read_only
        self._client: Any = None
        self._lock = threading.RLock()
        self._ready = False
        self._words_complete = False
        self._sessions = 0
        self._timer: threading.Timer | None = None
        self._version = 0
        self._interrupted = False
        self._tag = f"monitor-{uuid.uuid4().hex[:12]}"
        self._server_version = ""
        self._copy_max: dict[str, tuple[Any, ...] | None] = {}
        # Through a lambda: the writer always inserts through this store's `_insert`.
        self._writer = Writer(self._run, lambda *args: self._insert(*args))

    def __repr__(self) -> str:
        return f"ClickHouseStore({self.location.shown!r})"

    # -- the client --------------------------------------------------------------------

    def _connect(self) -> Any:
        import clickhouse_connect

        where = self.location
        if where.embedded:
            # chDB opens one directory per process: a store that only holds its directory
            # between sessions lets go of it for this one.
            for other in list(_EMBEDDED):
                if other is not self and other._sessions == 0:
                    other.close()
        try:
            if where.embedded:
                client = clickhouse_connect.get_client(dsn=f"chdb://{where.path}")
            else:
                client = clickhouse_connect.get_client(
                    host=where.host,
                    port=where.port,
                    username=where.username,
                    password=where.password,
                    secure=where.secure,
                    autogenerate_session_id=False,
                )
            if not self.read_only:
                client.command(f"CREATE DATABASE IF NOT EXISTS {where.database}")
            elif not client.query(
                "SELECT count() FROM system.databases WHERE name = {db:String}",
                parameters={"db": where.database},
            ).result_rows[0][0]:
                client.close()
                raise StoreError(
                    f"{where.shown}: no monitor store here, and a read-only dashboard does not "
                    "create one; set MONITOR_DB to an existing store"
                )
            client.database = where.database
            self._server_version = str(client.server_version)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{where.shown}: cannot connect: {one_line(exc)}") from None
        return client

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
                if self.location.embedded:
                    _EMBEDDED.add(self)
            return self._client

    def close(self) -> None:
        """Let go of the client (on chDB: the directory, for another store or process)."""
        with self._lock:
            self._stop_timer()
            _EMBEDDED.discard(self)
            if self._client is not None:
                client, self._client = self._client, None
                client.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _let_go_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._sessions == 0:
                self.close()

    @contextmanager
    def _session(self) -> Iterator[None]:
        with self._lock:
            self._sessions += 1
            self._stop_timer()
        try:
            yield
        finally:
            with self._lock:
                self._sessions -= 1
                if self._sessions == 0 and self.location.embedded and self._client is not None:
                    if self.HOLD > 0:
                        self._timer = threading.Timer(self.HOLD, self._let_go_if_idle)
                        self._timer.daemon = True
                        self._timer.start()
                    else:
                        self.close()

    def session(self) -> AbstractContextManager[None]:
        return self._session()

    def interrupt(self) -> None:
        """Stop this store's statements soon: the next statement raises KeyboardInterrupt,
        and on a server the running ones are killed (chDB cannot cancel one midway)."""
        self._interrupted = True
        client = self._client
        if client is not None and not self.location.embedded:
            try:
                client.command(
                    f"KILL QUERY WHERE query_id LIKE '{self._tag}-%' ASYNC",
                )
            except Exception:  # noqa: BLE001 - best effort from a signal handler
                pass

    def _check_interrupt(self) -> None:
        if self._interrupted:
            self._interrupted = False
            raise KeyboardInterrupt

    def _settings(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        settings = dict(extra or {})
        if not self.location.embedded:
            settings["query_id"] = f"{self._tag}-{uuid.uuid4().hex}"
        return settings

    def _run(self, sql: str, p: Params) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        self.ensure_schema()
        return self._raw(with_final(sql), p)

    def _reads(self) -> query.Run:
        """`_run` for a read whose SQL is built next: the query language's words come from
        the word index when this store's is complete (`sql.WORDS_READY`)."""
        WORDS_READY.set(self._words_ready)
        return self._run

    def _words_ready(self) -> bool:
        """Whether the word index is complete: schema 8 and no term rebuild pending (the
        rebuild fills it). Asked again on every read until it is (and after this process
        writes a rebuild's mark); a rebuild started by another process afterwards is not
        seen until this one restarts."""
        if not self._words_complete:
            self.ensure_schema()
            self._words_complete = query.terms_rebuild(self._run) is None
        return self._words_complete

    def _raw(
        self, sql: str, p: Params | None = None, *, settings: dict[str, Any] | None = None
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        self._check_interrupt()
        with self._lock:
            client = self.client()
            try:
                result = client.query(
                    sql,
                    parameters=dict(p or {}),
                    settings=self._settings(READ_SETTINGS if settings is None else settings),
                )
            except Exception as exc:
                raise self._error(exc) from None
        self._check_interrupt()
        return tuple(result.column_names), [tuple(r) for r in result.result_rows]

    def _command(self, sql: str) -> None:
        self._check_interrupt()
        with self._lock:
            try:
                self.client().command(sql, settings=self._settings())
            except Exception as exc:
                raise self._error(exc) from None

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if self.read_only:
            raise StoreError(f"{self.location.shown}: opened read-only; nothing is written to it")
        self._check_interrupt()
        # Column by column into Arrow (C loops), one Arrow stream per insert: 5-10x less
        # Python per row than the client's own row encoding. Naive datetimes are UTC, aware
        # ones are converted to UTC by Arrow.
        block = _arrow_block(table, columns, rows)
        with self._lock:
            try:
                self.client().insert_arrow(table, block, settings=self._settings())
            except Exception as exc:
                raise self._error(exc) from None

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(f"{self.location.shown}: {one_line(exc, 300)}")

    # -- lifecycle ---------------------------------------------------------------------

    def info(self) -> EngineInfo:
        self.ensure_schema()
        return EngineInfo(
            name="clickhouse",
            location=self.location.shown,
            version=self._server_version,
            schema_version=self._version,
            read_only=self.read_only,
            extra={"database": self.location.database, "embedded": self.location.embedded},
        )

    def ensure_schema(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            database = self.location.database
            p = Params()
            _, rows = self._raw(
                f"SELECT name FROM system.tables WHERE database = {p.add(database, 'String')}",
                p,
                settings={},
            )
            tables = {str(r[0]) for r in rows}
            version = 0
            if "meta" in tables:
                _, rows = self._raw(
                    with_final("SELECT value FROM meta WHERE key = 'schema_version'"),
                    settings=READ_SETTINGS,
                )
                version = int(rows[0][0]) if rows else 0
            elif tables:
                raise StoreError(
                    f"{self.location.shown}: database {database} holds tables but no monitor "
                    "schema; give another database"
                )
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.location.shown}: schema version {version} is newer than this "
                    f"monitor understands ({SCHEMA_VERSION}); upgrade monitor"
                )
            if self.read_only:
                if version < SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.location.shown}: no monitor store of schema {SCHEMA_VERSION} "
                        "here, and a read-only dashboard does not create or upgrade one"
                    )
            else:
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[number - 1]:
                        self._command(statement)
                    self._ready = True  # the writer below checks the schema again
                    self._writer.put("meta", ("key", "value"), [("schema_version", str(number))])
            self._version = SCHEMA_VERSION
            self._ready = True

    def data_version(self) -> tuple[Any, ...]:
        """The newest version of the `data_version` row in `meta`, which every write of this
        engine bumps at its end (one small read: the dashboard asks before each cached
        call). A writer killed before its bump leaves the old value until the next write."""
        self.ensure_schema()
        _, rows = self._raw("SELECT max(version) FROM meta", settings={})
        return (int(rows[0][0] or 0),)

    def _bump(self) -> None:
        self._writer.put("meta", ("key", "value"), [("data_version", "")])

    # -- reads -------------------------------------------------------------------------

    def stats(self, f: Filters) -> dict[str, Any]:
        return query.stats(self._reads(), f)

    def article_count(self, f: Filters, *, with_tag: str | None = None) -> int:
        return query.article_count(self._reads(), f, with_tag=with_tag)

    def frequency(
        self, f: Filters, *, by: str, timezone: str = "UTC", split: str | None = None, top: int = 8
    ) -> Table:
        return query.frequency(self._reads(), f, by=by, timezone=timezone, split=split, top=top)

    def tags(self, f: Filters, *, limit: int = 50) -> Table:
        return query.tags(self._reads(), f, limit=limit)

    def tag_windows(self, f: Filters, before: Filters) -> Table:
        return query.tag_windows(self._reads(), f, before)

    def cooccurring_tags(self, f: Filters, key: str, *, limit: int) -> Table:
        return query.cooccurring_tags(self._reads(), f, key, limit=limit)

    def tag_displays(self, keys: Sequence[str]) -> dict[str, str]:
        return query.tag_displays(self._run, keys)

    def terms(self, f: Filters, *, limit: int = 100, rollup: bool = True) -> Table:
        return query.terms(self._reads(), f, limit=limit, rollup=rollup)

    def term_counts(self, f: Filters, *, limit: int) -> Table:
        return query.term_counts(self._reads(), f, limit=limit)

    def term_background(self, terms: Sequence[str], *, languages: Sequence[str] = ()) -> Table:
        return query.term_background(self._run, terms, languages=languages)

    def language_counts(self, f: Filters) -> Table:
        return query.language_counts(self._reads(), f)

    def term_vectors(self, f: Filters, terms: Sequence[str], *, sample: int) -> TermVectors:
        return query.term_vectors(self._reads(), f, terms, sample=sample)

    def authors(self, f: Filters, *, limit: int | None = None, top_tags: int = 3) -> Table:
        return query.authors(self._reads(), f, limit=limit, top_tags=top_tags)

    def heatmap(self, f: Filters, *, timezone: str) -> Table:
        return query.heatmap(self._reads(), f, timezone=timezone)

    def cadence(self, f: Filters) -> Table:
        return query.cadence(self._reads(), f)

    def stories(self, f: Filters, *, limit: int = 50) -> Table:
        return query.stories(self._reads(), f, limit=limit)

    def story_articles(self, f: Filters, story_id: str) -> Table:
        return query.story_articles(self._reads(), f, story_id)

    def story_sources(self, after: tuple[datetime, str] | None, size: int) -> Table:
        return query.story_sources(self._run, after, size)

    def save_stories(self, placed: Sequence[storyrows.Placed], *, clear: bool = False) -> None:
        self._refuse_writes()
        try:
            if clear:
                for table in ("article_stories", "story_bands"):
                    self._run(f"TRUNCATE TABLE {table}", Params())
            self._writer.save_stories(placed)
        finally:
            self._bump()

    def articles_page(
        self, f: Filters, *, sort: str, descending: bool, limit: int, offset: int
    ) -> tuple[Table, int]:
        return query.articles_page(
            self._reads(), f, sort=sort, descending=descending, limit=limit, offset=offset
        )

    def export_batches(self, f: Filters, *, size: int = 5000) -> Iterator[Table]:
        return query.export_batches(self._reads(), f, size=size)

    def options(self, *, limit: int) -> dict[str, list[str]]:
        return query.options(self._run, limit=limit)

    def feeds(self) -> Table:
        return query.feeds(self._run)

    def user_stopwords(self) -> Table:
        return query.user_stopwords(self._run)

    def due_feeds(self, now: datetime, *, all_feeds: bool) -> list[FeedState]:
        return query.due_feeds(self._run, now, all_feeds=all_feeds)

    def subscriptions(self) -> list[Subscription]:
        return query.subscriptions(self._run)

    def feed_state(self, url: str) -> dict[str, Any] | None:
        return query.feed_state(self._run, url)

    def body_hashes(self) -> dict[str, str]:
        return query.body_hashes(self._run)

    def entry_hashes(self, feed_id: int) -> dict[str, str]:
        return query.entry_hashes(self._run, feed_id)

    # -- writes ------------------------------------------------------------------------

    def _refuse_writes(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location.shown}: opened read-only; nothing is written to it")
        self.ensure_schema()

    def save_feeds(self, updates: Sequence[FeedUpdate]) -> list[SaveCounts]:
        """Each feed's turn: its articles (children, articles, links), then its feed row
        (byte hash, fetch state) last. A feed named twice is stored in two rounds."""
        self._refuse_writes()
        results: list[SaveCounts] = []
        start = 0
        while start < len(updates):
            group: list[FeedUpdate] = []
            seen: set[Any] = set()
            for update in updates[start:]:
                name = update.feed_id if update.feed_id is not None else update.url
                if name in seen:
                    break
                seen.add(name)
                group.append(update)
            results += self._save_group(group)
            start += len(group)
        return results

    def _save_group(self, group: Sequence[FeedUpdate]) -> list[SaveCounts]:
        w = self._writer
        moments = [utc_naive(u.now) if u.now is not None else _utc_now() for u in group]
        named = [(u, m) for u, m in zip(group, moments, strict=True) if u.feed_id is None]
        by_url = [(str(u.url), u.kind, u.subscribed) for u, _ in named if u.url]
        earliest = min((m for _, m in named), default=_utc_now())
        ids_for_urls = iter(w.ensure_feeds(by_url, now=earliest) if by_url else [])
        ids: list[int] = []
        for u in group:
            if u.feed_id is not None:
                ids.append(int(u.feed_id))
            elif u.url:
                ids.append(next(ids_for_urls))
            else:
                raise ValueError("FeedUpdate names no feed (feed_id or url)")
        if len(set(ids)) != len(ids):
            # Two URLs of one feed in a group: one at a time.
            return [c for u in group for c in self._save_group([u])] if len(group) > 1 else []
        saving = [(fid, u) for fid, u in zip(ids, group, strict=True) if u.parsed is not None]
        counts: dict[int, SaveCounts] = {}
        if saving:
            # One call per moment keeps each feed's own `now` (ingest gives one for all).
            by_moment: dict[datetime, list[tuple[int, FeedUpdate]]] = {}
            for (fid, u), moment in zip(
                saving, [m for m, u in zip(moments, group, strict=True) if u.parsed], strict=True
            ):
                by_moment.setdefault(moment, []).append((fid, u))
            for moment, docs in by_moment.items():
                got = w.save_many(
                    [(fid, u.parsed.articles) for fid, u in docs if u.parsed is not None],
                    now=moment,
                )
                counts.update({fid: c for (fid, _), c in zip(docs, got, strict=True)})
        rows = w.feeds_by_id(ids)
        changed = []
        for fid, u, moment in zip(ids, group, moments, strict=True):
            row = rows.get(fid)
            if row is None:
                raise StoreError(f"{self.location.shown}: no feed with id {fid}")
            if u.fetch is not None and u.fetch.permanent_url and u.fetch.error is None:
                if u.fetch.permanent_url != row["url"]:
                    w.rename(row, u.fetch.permanent_url)
            if u.parsed is not None:
                w.record_parse(row, noted(u.parsed, counts[fid]), u.body_hash)
            if u.fetch is not None:
                w.record_fetch(row, u.fetch, moment)
            changed.append(row)
        w.put_feeds(changed)
        self._bump()
        return [counts.get(fid, SaveCounts()) for fid in ids]

    def add_feed(
        self,
        url: str,
        *,
        now: datetime,
        kind: str = "http",
        subscribed: bool = True,
        name: str | None = None,
        full_text: bool | None = None,
        restricted: bool = False,
    ) -> tuple[int, bool]:
        self._refuse_writes()
        try:
            return self._writer.add_feed(
                url,
                now=now,
                kind=kind,
                subscribed=subscribed,
                name=name,
                full_text=full_text,
                restricted=restricted,
            )
        finally:
            self._bump()

    def remove_feed(self, url: str) -> int | None:
        self._refuse_writes()
        try:
            return self._writer.remove_feed(url)
        finally:
            self._bump()

    def set_feed_enabled(self, url: str, enabled: bool) -> bool:
        self._refuse_writes()
        row = self._writer.feed_by_url(url)
        if row is None:
            return False
        row["disabled"] = not enabled
        row["disabled_reason"] = None if enabled else "disabled by hand"
        if enabled:
            row["error_count"] = 0
        self._writer.put_feeds([row])
        self._bump()
        return True

    def make_due(self, url: str) -> bool | None:
        self._refuse_writes()
        row = self._writer.feed_by_url(url)
        if row is None:
            return None
        if row["disabled"]:
            return True  # nothing changes: enable it first
        row["next_due_at"] = None
        self._writer.put_feeds([row])
        self._bump()
        return False

    def add_stopwords(self, language: str, words: Sequence[str]) -> int:
        self._refuse_writes()
        try:
            return self._writer.stopwords(language, list(words), add=True)
        finally:
            self._bump()

    def remove_stopwords(self, language: str, words: Sequence[str]) -> int:
        self._refuse_writes()
        try:
            return self._writer.stopwords(language, list(words), add=False)
        finally:
            self._bump()

    # -- saved queries -----------------------------------------------------------------

    def saved_queries(self) -> list[SavedQuery]:
        return self._saved("true", Params())

    def saved_query(self, name: str) -> SavedQuery | None:
        p = Params()
        found = self._saved(f"name = {p.add(name, 'String')}", p)
        return found[0] if found else None

    def _saved(self, where: str, p: Params) -> list[SavedQuery]:
        _, rows = self._run(
            "SELECT name, text, query_version, edited FROM saved_queries "
            f"WHERE {where} ORDER BY name",
            p,
        )
        return [SavedQuery(str(n), str(t), int(v), utc_naive(e)) for n, t, v, e in rows]

    def save_query(self, name: str, text: str, *, now: datetime | None = None) -> SavedQuery:
        self._refuse_writes()
        moment = utc_naive(now) if now is not None else _utc_now()
        old = self.saved_query(name)
        if old is not None and old.text == text:
            return old
        version = 1 if old is None else old.version + 1
        try:
            self._writer.put(
                "saved_queries",
                ("name", "text", "query_version", "edited"),
                [(name, text, version, moment)],
            )
        finally:
            self._bump()
        return SavedQuery(name, text, version, moment)

    def remove_query(self, name: str) -> bool:
        self._refuse_writes()
        old = self.saved_query(name)
        if old is None:
            return False
        try:
            self._writer.put(
                "saved_queries",
                ("name", "text", "query_version", "edited"),
                [],
                tombstones=[(old.name, old.text, old.version, old.edited)],
            )
        finally:
            self._bump()
        return True

    # -- whole-store copy --------------------------------------------------------------

    def _copy_table(self, table: str) -> tuple[str, ...]:
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; use one of {', '.join(TABLES)}")
        return COPY_COLUMNS[table]

    def count_rows(self, table: str) -> int:
        self._copy_table(table)
        _, rows = self._run(f"SELECT count() FROM {table}", Params())
        return int(rows[0][0])

    def read_rows(self, table: str, *, after: tuple[Any, ...] | None, size: int) -> Table:
        columns = self._copy_table(table)
        keys = TABLES[table]
        p = Params()
        where = "true"
        if after is not None:
            types = [_key_type(table, k) for k in keys]
            values = ", ".join(p.add(v, t) for v, t in zip(after, types, strict=True))
            where = f"({', '.join(keys)}) > ({values})"
        _, rows = self._run(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {where} "
            f"ORDER BY {', '.join(keys)} LIMIT {int(size)}",
            p,
        )
        return Table(columns, rows)

    def write_rows(self, table: str, rows: Table) -> None:
        self._refuse_writes()
        columns = self._copy_table(table)
        if rows.empty:
            return
        keys = TABLES[table]
        data: list[tuple[Any, ...]] = rows.rows
        if tuple(rows.columns) != columns:
            pick = itemgetter(*(rows.columns.index(c) for c in columns))
            data = [pick(row) for row in data]
        key_index = [columns.index(k) for k in keys]
        key_of = itemgetter(*key_index) if len(keys) > 1 else lambda row: (row[key_index[0]],)
        # Rows come in key order; the target's largest key is read once per table: rows
        # beyond it are new (a copy resumed where it stopped), the others are looked up.
        if table not in self._copy_max:
            _, top = self._run(
                f"SELECT {', '.join(keys)} FROM {table} "
                f"ORDER BY {', '.join(f'{k} DESC' for k in keys)} LIMIT 1",
                Params(),
            )
            self._copy_max[table] = tuple(top[0]) if top else None
        largest = self._copy_max[table]
        maybe = [] if largest is None else [row for row in data if key_of(row) <= largest]
        if maybe:
            p = Params()
            first_values = sorted({row[key_index[0]] for row in maybe})
            kind = _key_type(table, keys[0])
            _, there = self._run(
                f"SELECT {', '.join(keys)} FROM {table} "
                f"WHERE {keys[0]} IN {p.add(first_values, f'Array({kind})')}",
                p,
            )
            present = {tuple(r) for r in there}
            data = [row for row in data if key_of(row) not in present]
        if not data:
            return
        newest = max(map(key_of, data))
        out_columns = list(columns)
        if table == "feeds":
            out_columns.append("created")
            data = [(*row, int(row[0])) for row in data]
        elif table == "article_terms":
            q = Params()
            ids = sorted({row[0] for row in data})
            _, langs = self._run(f"SELECT id, language FROM articles WHERE id IN {q.texts(ids)}", q)
            language = {str(i): lang or "" for i, lang in langs}
            out_columns.append("language")
            # A term stored before display forms were has none: '' here.
            data = [(*row[:-1], row[-1] or "", language.get(row[0], "")) for row in data]
        self._writer.put(table, out_columns, data)
        if table == "articles":  # the word index is derived from them, not copied
            self._writer.put_words([words_of_row(row, out_columns) for row in data])
        self._copy_max[table] = newest if largest is None else max(largest, newest)
        self._bump()

    def finish_copy(self) -> None:
        self._refuse_writes()
        for statement in (*REBUILD_ROLLUP, *COMPACT):
            self._command(statement)
        self._copy_max.clear()
        self._bump()
        versions()  # nothing to renumber: feed ids are kept, new ones are hashes

    def terms_rebuild(self) -> TermsRebuild | None:
        self.ensure_schema()
        return query.terms_rebuild(self._run)

    def article_texts(self, after: tuple[datetime, str] | None, limit: int) -> list[ArticleText]:
        self.ensure_schema()
        return query.article_texts(self._run, after, limit)

    def replace_terms(
        self,
        rows: Sequence[tuple[ArticleText, Sequence[TermRow]]],
        after: tuple[datetime, str] | None,
    ) -> None:
        self._refuse_writes()
        self.ensure_schema()
        try:
            self._writer.replace_terms(rows, None if after is None else rebuild_mark(after))
        finally:
            self._words_complete = False  # asked again at the next read
            self._bump()


_KEY_TYPES = {
    "id": "String",
    "feed_id": "Int64",
    "entry_key": "String",
    "article_id": "String",
    "position": "Int32",
    "key": "String",
    "term": "String",
    "language": "String",
    "word": "String",
    "band": "Int64",
    "name": "String",
}


def _key_type(table: str, column: str) -> str:
    return "Int64" if (table, column) == ("feeds", "id") else _KEY_TYPES[column]


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    inner = kind
    for wrapper in ("LowCardinality(", "Nullable("):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper) : -1]
    if inner.startswith("DateTime64"):
        return pa.timestamp("us")
    return {
        "String": pa.string(),
        "Bool": pa.bool_(),
        "UInt8": pa.uint8(),
        "Int32": pa.int32(),
        "Int64": pa.int64(),
        "UInt64": pa.uint64(),
        "Array(UInt32)": pa.list_(pa.uint32()),
    }[inner]


@functools.cache
def _arrow_types(table: str) -> dict[str, Any]:
    """`table`'s columns as Arrow types (made at the first insert: a process that only
    reads never imports pyarrow, 0.1 s of every command)."""
    return {column: _arrow_type(kind) for column, kind in column_types()[table].items()}


def _arrow_block(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> Any:
    """These rows of `table` as an Arrow table of its column types."""
    import pyarrow as pa

    types = _arrow_types(table)
    arrays = []
    for name, values in zip(columns, zip(*rows, strict=True), strict=True):
        kind = types[name]
        try:
            arrays.append(pa.array(values, type=kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # A value of another Python type (an int for a Bool): converted one by one.
            cast = bool if kind == pa.bool_() else int if pa.types.is_integer(kind) else str
            arrays.append(pa.array([None if v is None else cast(v) for v in values], type=kind))
    return pa.Table.from_arrays(arrays, names=list(columns))


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
