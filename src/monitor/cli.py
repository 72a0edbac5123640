"""The `monitor` command line. Thin: it parses options, calls ingest/analyze, prints.

Every query command prints a table by default and JSON with `--json`; the JSON keys are a
contract documented in the README (and checked against src/monitor/schemas/). Exit codes:
0 done, 1 a source, a file or the store failed or refused (one line each on standard error),
2 usage errors and input that cannot be right; `exit_code` is the one place that decides which
(a `monitor.errors.MonitorError` carries its own).
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from monitor import LazyModule, __version__, analyze, savedqueries
from monitor import settings as monitor_settings
from monitor.errors import InputError, MonitorError, NotFound, one_line
from monitor.models import UNITS, Filters, Table
from monitor.store import StoreError, open_store
from monitor.store.base import CopyProgress, Storage

if TYPE_CHECKING:
    import pandas as pd

    from monitor import fetch as fetching
    from monitor import ingest, opml, subscriptions
    from monitor.query import Query
else:
    # The query commands must start fast (a whole `monitor tags --json` in under a second on
    # a big store); fetching, parsing, OPML and pandas are imported when first used.
    fetching = LazyModule("monitor.fetch")
    ingest = LazyModule("monitor.ingest")
    opml = LazyModule("monitor.opml")
    subscriptions = LazyModule("monitor.subscriptions")
    pd = LazyModule("pandas")

F = TypeVar("F", bound=Callable[..., Any])

# -- parsing helpers ------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w|y)", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str) -> timedelta:
    """'15m', '1h30m', '7d', '90s' -> timedelta; ValueError with a reason otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _DURATION.sub("", cleaned):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 1h, 7d)")
    seconds = sum(float(n) * _SECONDS[u.lower()] for n, u in _DURATION.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"duration too long: {text!r}") from None


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """A date, a date-time (ISO 8601; no zone means UTC) or an age like '7d' (before now)."""
    raw = text.strip()
    now = now or datetime.now(UTC)
    if raw.lower() == "now":
        return now
    compact = raw.lower().replace(" ", "")
    if compact and not _DURATION.sub("", compact):
        try:
            return now - parse_duration(raw)
        except OverflowError:
            raise ValueError(f"not a date: {text!r} (an age before the year 1)") from None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a date: {text!r} (use 2026-11-01, 2026-11-01T08:00, or an age like 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_iso = analyze.json_ready
records = analyze.records


def _local_iso(value: Any) -> Any:
    """Local (naive) bucket times keep no Z: they are in the asked-for time zone."""
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


def emit_json(data: Any) -> None:
    # allow_nan=False: a NaN that got this far is a bug to see, not `NaN` in the output.
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False))


def emit_table(result: Table | pd.DataFrame) -> None:
    table: pd.DataFrame = result.to_pandas() if isinstance(result, Table) else result
    if table.empty:
        click.echo("(nothing in this view)")
        return
    with pd.option_context(
        "display.max_rows", 200, "display.width", 160, "display.max_colwidth", 60
    ):
        click.echo(table.to_string(index=False))


def _counted(table: Table, f: Filters) -> Table:
    """A printed table's `articles` column named for what it counts (the JSON keeps its
    keys, a contract: with --count stories they count stories)."""
    if not f.stories:
        return table
    columns = tuple("stories" if c == "articles" else c for c in table.columns)
    return Table(columns, table.rows, table.attrs)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"monitor: {message}", err=True)
    sys.exit(code)


def exit_code(exc: BaseException) -> int | None:
    """The exit code for a refusal the command line reports in one line (None: a bug).

    A MonitorError carries its own: 2 for an InputError (what was typed cannot be right: not
    a URL, a setting that is neither on nor off, a page with several feeds), 1 for the rest
    (no such feed, a store that is locked, damaged or read-only, an OPML file that is not
    OPML). 1 for a file that cannot be read or written (missing, a folder, no permission).
    Click's usage errors (a bad option, date, duration or zone) are 2, in `_Commands`.
    """
    if isinstance(exc, BrokenPipeError):
        return None  # the reader went away (`| head`): main() ends quietly
    if isinstance(exc, MonitorError):
        return exc.exit_code
    if isinstance(exc, StoreError | OSError):  # StoreError: until it is a MonitorError too
        return 1
    return None


class _Commands(click.Group):
    """The command group: every command's refusals become one line and `exit_code`'s code."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `monitor` alone: the help, as click shows it
        except click.UsageError as exc:  # an option of the group itself (`--db` with no path)
            fail(_usage_line(exc), exc.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `monitor feeds` alone: its help
        except click.UsageError as exc:
            fail(_usage_line(exc), exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - exit_code decides; anything else goes on
            code = exit_code(exc)
            if code is None:
                raise
            fail(one_line(exc), code)


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error in one line, naming the command and its help, instead of click's
    four (usage, hint, blank, error)."""
    command = " ".join(exc.ctx.command_path.split()[1:]) if exc.ctx else ""
    where = f"monitor {command} --help" if command else "monitor --help"
    message = one_line(exc.format_message()).rstrip(".")
    return f"{command}: {message} (see {where})" if command else f"{message} (see {where})"


# -- shared options -------------------------------------------------------------------


def view_options(func: F) -> F:
    """The filters of the view without the query (`monitor attention` takes several)."""
    options = [
        click.option("--since", help="From this date, date-time (UTC) or age (7d, 24h)."),
        click.option("--until", help="Before this date, date-time (UTC) or age."),
        click.option("--feed", "feeds", multiple=True, help="Feed URL or name (repeatable)."),
        click.option("--author", "authors", multiple=True, help="Author (repeatable)."),
        click.option("--tag", "tags", multiple=True, help="Tag, any case, # optional."),
        click.option("--lang", "languages", multiple=True, help="Language code: de, en, ..."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def filter_options(func: F) -> F:
    """The filters every query command takes: the view's, and one query."""
    options = [
        click.option(
            "--query",
            "-q",
            help='A query: words, "phrases", AND OR NOT -word ( ) klima* title: text: '
            "author: feed: tag: #tag lang: @saved (see the README).",
        ),
        click.option("--search", hidden=True, help="Deprecated: the same as --query."),
    ]
    for option in reversed(options):
        func = option(func)
    return view_options(func)


def count_option(func: F) -> F:
    """`--count articles|stories` for the commands that count (frequency, tags, authors,
    attention; `stats` gives both): with `stories`, every copy of a story in a group counts
    once."""
    return click.option(
        "--count",
        "count",
        type=click.Choice(UNITS),
        default="articles",
        show_default=True,
        help="What the counts count: articles, or stories (each story once per bucket, "
        "series or row, however many copies it has).",
    )(func)


def make_filters(
    since: str | None,
    until: str | None,
    feeds: tuple[str, ...],
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    languages: tuple[str, ...],
    search: str | None,
    query: str | None = None,
    count: str = "articles",
) -> Filters:
    moments: dict[str, datetime | None] = {}
    for hint, text in (("--since", since), ("--until", until)):
        try:
            moments[hint] = parse_moment(text) if text else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    start, end = moments["--since"], moments["--until"]
    return Filters(
        since=start,
        until=end,
        feeds=feeds,
        authors=authors,
        tags=tags,
        languages=tuple(lang.lower() for lang in languages),
        query=_parse_query(query or search),
        unit=count,
    )


def _parse_query(text: str | None) -> Query | None:
    """``--query`` parsed; ``@NAME`` is looked up in the command's store."""
    if text is None or not text.strip():
        return None
    resolve = None
    if "@" in text:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and isinstance((ctx.find_root().obj or {}).get("store"), Storage):
            resolve = savedqueries.resolver(ctx.find_root().obj["store"])
    return savedqueries.parse(text, resolve)


def _store(ctx: click.Context) -> Storage:
    store = ctx.obj["store"]
    assert isinstance(store, Storage)
    return store


# -- the command group ----------------------------------------------------------------


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    # No checks here: the store says in one line what is wrong with a path (a folder, a file
    # it may not read, one that is not a store), the same for --db and MONITOR_DB.
    # A string, not a click.Path: a DSN such as chdb:///dir is not a path.
    help="The store: a DuckDB file, clickhouse://user:pass@host:8123/db or chdb:///dir "
    "(default: $MONITOR_DB, else data/monitor.duckdb).",
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Pull RSS/Atom feeds into a DuckDB store and query what they publish.

    Example: monitor demo && monitor tags --since 30d --json
    """
    ctx.ensure_object(dict)
    ctx.obj["location"] = db or None
    ctx.obj["store"] = open_store(db or None)


@cli.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.pass_context
def ingest_command(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Read feed files, folders of them (recursive) or URLs (fetched once) into the store.

    Prints a line per source. Exit 0 when every source was read, 1 when any failed (the others
    are stored).

    Example: monitor ingest ../shared/feeds https://example.org/feed.xml
    """
    store = _store(ctx)
    stop = ingest.Stop()
    received: list[int] = []
    with _stop_on_signals(stop, received):
        try:
            with stop.watching(store):
                reports = ingest.ingest_sources(
                    store, sources, on_report=lambda r: click.echo(r.line(), err=r.failed)
                )
        except BaseException:
            if not stop.requested:
                raise
            _exit_stopped(stop, received[0] if received else signal.SIGINT, "ingested")
    totals = ingest.summarize(reports)
    click.echo(
        f"{totals['sources']} sources, {totals['failed']} failed: {totals['new']} new, "
        f"{totals['updated']} updated, {totals['unchanged']} unchanged articles"
    )
    if totals["failed"]:
        sys.exit(1)


# -- feeds ------------------------------------------------------------------------------


@cli.group("feeds")
def feeds_group() -> None:
    """Manage subscribed feeds."""


@feeds_group.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.option("--full-text", is_flag=True, help="Also fetch each new article's page.")
@click.option("--name", help="A display name (only with one URL).")
@click.pass_context
def feeds_add(ctx: click.Context, urls: tuple[str, ...], full_text: bool, name: str | None) -> None:
    """Subscribe to feeds; `monitor fetch` reads them.

    Each new URL is fetched once to check it (https:// is assumed when no scheme is given). A
    web page is searched for the feeds it names: its one feed is added; several are listed
    and nothing is added (exit 2). A feed that cannot be reached now is added with a note
    (not when https:// was assumed: that guess failed).

    Example: monitor feeds add https://www.tagesschau.de/index~rss2.xml --name Tagesschau
    """
    for line in subscriptions.add_feeds(
        _store(ctx), list(urls), name=name, full_text=full_text, check=True
    ):
        click.echo(line)


@feeds_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def feeds_list(ctx: click.Context, as_json: bool) -> None:
    """Every feed with its health: failing and disabled feeds included.

    Example: monitor feeds list --json
    """
    # Plain rows with None for missing (never pandas' NaT or NaN): the JSON and the lines.
    rows = records(_store(ctx).feeds())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no feeds yet: monitor feeds add URL, or monitor demo")
        return
    for row in rows:
        state = "disabled" if row["disabled"] else ("failing" if row["error_count"] else "ok")
        name = row["name"] or row["title"] or ""
        line = f"[{state}] {row['url']}"
        if name:
            line += f"  {name}"
        line += f"  ({row['articles']} articles"
        if row["last_fetch_at"] is not None:
            line += f", last fetch {row['last_fetch_at']}"
        line += ")"
        if row["disabled"]:
            line += f"  disabled: {row['disabled_reason']}"
        elif row["error_count"]:
            line += f"  {row['error_count']} errors, last: {row['last_error']}"
        click.echo(line)


@feeds_group.command("remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx: click.Context, url: str) -> None:
    """Remove a feed and the articles that only it carried.

    Example: monitor feeds remove https://example.org/feed.xml
    """
    click.echo(subscriptions.remove_feed(_store(ctx), url))


@feeds_group.command("enable")
@click.argument("url")
@click.pass_context
def feeds_enable(ctx: click.Context, url: str) -> None:
    """Fetch a disabled feed again (one a 410 Gone disabled); its error count starts over.

    Example: monitor feeds enable https://example.org/feed.xml
    """
    click.echo(subscriptions.enable_feed(_store(ctx), url))


@feeds_group.command("retry")
@click.argument("url")
@click.pass_context
def feeds_retry(ctx: click.Context, url: str) -> None:
    """End a failing feed's backoff: the next `monitor fetch` reads it.

    Example: monitor feeds retry https://example.org/feed.xml && monitor fetch
    """
    click.echo(subscriptions.retry_feed(_store(ctx), url))


@feeds_group.command("import")
# No dir_okay=False: a folder is a file that cannot be read (exit 1, one line), as everywhere.
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def feeds_import(ctx: click.Context, file: Path) -> None:
    """Subscribe to every feed in an OPML file.

    Example: monitor feeds import subscriptions.opml
    """
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(file)) from None
    try:
        lines = subscriptions.import_opml(_store(ctx), content)
    except opml.OpmlError as exc:
        raise opml.OpmlError(f"{file}: {exc}") from None
    click.echo(f"{file}: {lines[0]}")
    for line in lines[1:]:
        click.echo(line, err=True)


@feeds_group.command("export")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_context
def feeds_export(ctx: click.Context, file: Path | None) -> None:
    """Write the subscribed feeds as OPML 2.0 (to FILE, else standard output).

    Example: monitor feeds export subscriptions.opml
    """
    document = subscriptions.export_opml(_store(ctx))
    if file is None:
        sys.stdout.buffer.write(document)
    else:
        file.write_bytes(document)
        click.echo(f"wrote {document.count(b'<outline ')} feeds to {file}", err=True)


# -- fetch ------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal's standard error; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, report: ingest.SourceReport, done: int, total: int) -> None:
        if report.failed:
            self.clear()
            click.echo(report.line(), err=True)
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        click.echo(f"\r[{bar}] {done}/{total} feeds", err=True, nl=False)
        if done == total:
            self.clear()

    def clear(self) -> None:
        if self.enabled:
            click.echo("\r" + " " * 60 + "\r", err=True, nl=False)


@cli.command("fetch")
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--every", help="Keep fetching on this schedule (e.g. 15m) until stopped.")
@click.option("--all", "all_feeds", is_flag=True, help="Fetch every feed, even in backoff.")
@click.option("--connect-timeout", default=10.0, show_default=True, type=float)
@click.option(
    "--timeout", default=30.0, show_default=True, type=float, help="Seconds for a whole response."
)
@click.option("--json", "as_json", is_flag=True, help="Print each run's summary as JSON.")
@click.option(
    "--shard",
    help="K/N: fetch only the feeds of worker K of N (by feed id), e.g. 2/4. N workers, "
    "on one machine or several, fetch every feed once between them.",
)
@click.pass_context
def fetch_command(
    ctx: click.Context,
    concurrency: int,
    every: str | None,
    all_feeds: bool,
    connect_timeout: float,
    timeout: float,
    as_json: bool,
    shard: str | None,
) -> None:
    """Fetch the subscribed feeds that are due, and store what is new.

    Ctrl-C (SIGINT) or SIGTERM stops it at once, whatever it is doing: a feed it is
    writing is rolled back, everything stored before stays. Exit code 130 after SIGINT,
    143 after SIGTERM.

    Example: monitor fetch --every 15m --shard 2/4
    """
    try:
        interval = parse_duration(every) if every else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    try:
        worker = ingest.parse_shard(shard) if shard is not None else None
    except ValueError as exc:
        error = InputError(f"--shard: {exc}")
        fail(one_line(error), error.exit_code)
    settings = fetching.FetchSettings(
        connect_timeout=connect_timeout, total_timeout=timeout, concurrency=concurrency
    )
    store = _store(ctx)
    stop = ingest.Stop()
    received: list[int] = []
    any_failed = False
    with _stop_on_signals(stop, received):
        try:
            while True:
                # One moment for the sleep below and for the feeds' schedule: each feed is due
                # again one interval after it, when the next run starts.
                started, run_at = time.monotonic(), datetime.now(UTC)
                reports = ingest.fetch_feeds(
                    store,
                    settings=settings,
                    all_feeds=all_feeds,
                    interval=interval or ingest.DEFAULT_INTERVAL,
                    on_report=Progress(),
                    now=run_at,
                    stop=stop,
                    shard=worker,
                )
                summary = ingest.summarize(reports)
                summary["at"] = _iso(datetime.now(UTC))
                any_failed = any_failed or bool(summary["failed"])
                if as_json:
                    click.echo(json.dumps(summary))
                else:
                    click.echo(
                        f"{summary['sources']} feeds fetched: {summary['new']} new, "
                        f"{summary['updated']} updated, {summary['unchanged']} unchanged "
                        f"articles, {summary['failed']} feeds failed"
                    )
                if interval is None:
                    break
                stop.check()
                time.sleep(max(0.0, interval.total_seconds() - (time.monotonic() - started)))
        except BaseException:
            # Whatever a stop interrupted (a wait, a statement, a parse) may surface as its
            # own error; with a stop requested, the stop is what happened.
            if not stop.requested:
                raise
            _exit_stopped(stop, received[0] if received else signal.SIGINT)
    if any_failed:
        sys.exit(1)


_SIGNAL_NAMES = {signal.SIGINT: "SIGINT (Ctrl-C)", signal.SIGTERM: "SIGTERM"}


@contextmanager
def _stop_on_signals(stop: ingest.Stop, received: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM request `stop` and raise ingest.Stopped in the main thread.

    The handler first interrupts the DuckDB statement in progress and cancels the fetches:
    raising alone inside a statement takes effect only when the statement ends, and DuckDB
    then reports it as an ordinary error. A second signal ends the process at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, _frame: object) -> None:
        if stop.requested:  # asked twice: do not wait for anything
            os.write(2, b"monitor: stopped at once (second signal)\n")
            os._exit(128 + signum)
        received.append(signum)
        stop.request(_SIGNAL_NAMES.get(signal.Signals(signum), f"signal {signum}"))
        raise ingest.Stopped(stop.reason)

    previous = {sig: signal.signal(sig, handler) for sig in _SIGNAL_NAMES}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _exit_stopped(stop: ingest.Stop, signum: int, again: str = "fetched") -> NoReturn:
    """One line, then exit 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
    code = 128 + signum
    Progress().clear()
    click.echo(
        f"monitor: stopped by {stop.reason}; everything stored until then is kept "
        f"(a feed it was writing is rolled back and {again} again next time)",
        err=True,
    )
    # The fetch threads were cancelled; give them a moment to close their connections. A
    # DNS lookup cannot be cancelled, and the interpreter would wait for it at exit.
    deadline = time.monotonic() + 2.0
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.name == "monitor-fetch":
            thread.join(max(0.0, deadline - time.monotonic()))
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


# -- queries ----------------------------------------------------------------------------


@cli.command("stats")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats_command(ctx: click.Context, /, as_json: bool, **filters: Any) -> None:
    """Counts in the view: feeds, articles, authors, tags, first and last published.

    Example: monitor stats --since 30d --json
    """
    store = _store(ctx)
    # Its stories too (distinct stories; `--count stories` elsewhere counts these).
    result = analyze.stats(store, replace(make_filters(**filters), unit="stories"))
    data: dict[str, Any] = {k: _iso(v) for k, v in result.items()}
    info = store.info()
    engine = {
        "name": info.name,
        "location": info.location,
        "version": info.version,
        "schema_version": info.schema_version,
    }
    if as_json:
        emit_json({**data, "engine": engine})
    else:
        for key, value in data.items():
            click.echo(f"{key:16} {value}")
        click.echo(f"{'engine':16} {info.name} {info.version} ({info.location})")


@cli.command("frequency")
@filter_options
@count_option
@click.option("--by", type=click.Choice(analyze.BUCKETS), default="day", show_default=True)
@click.option("--split", type=click.Choice(["feed", "author", "tag"]))
@click.option(
    "--top",
    default=8,
    show_default=True,
    type=click.IntRange(1, 100),
    help="With --split: series kept by name; the rest are 'other'.",
)
@click.option(
    "--tz",
    "timezone",
    default="UTC",
    show_default=True,
    help="Time zone of the buckets (IANA name).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def frequency_command(
    ctx: click.Context,
    /,
    by: str,
    split: str | None,
    top: int,
    timezone: str,
    as_json: bool,
    **filters: Any,
) -> None:
    """Articles per hour, day, week or month, optionally split by feed, author or tag.

    Example: monitor frequency --by week --split feed --since 90d --json
    """
    try:
        analyze.check_timezone(timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    table = analyze.frequency(
        _store(ctx), make_filters(**filters), by=by, split=split, timezone=timezone, top=top
    )
    if as_json:
        emit_json(
            [
                {"bucket": _local_iso(r["bucket"]), "series": r["series"], "count": int(r["count"])}
                for r in table.records()
            ]
        )
    else:
        emit_table(table)


@cli.command("tags")
@filter_options
@count_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tags_command(ctx: click.Context, /, limit: int, as_json: bool, **filters: Any) -> None:
    """Top tags (feed categories and #hashtags) by number of articles.

    Example: monitor tags --lang de --limit 20 --json
    """
    f = make_filters(**filters)
    table = analyze.tags(_store(ctx), f, limit=limit)
    emit_json(records(table)) if as_json else emit_table(_counted(table, f))


@cli.command("terms")
@filter_options
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--weight",
    type=click.Choice(analyze.WEIGHTS),
    default="frequency",
    show_default=True,
    help="frequency: times used (term, count, articles, weight); keyness: what is distinctive "
    "of the view against the store's background and general language (the dashboard's "
    "default; adds display, reference, general_per_million, g2, score).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def terms_command(
    ctx: click.Context, /, limit: int, weight: str, as_json: bool, **filters: Any
) -> None:
    """Top terms for topic clouds (stopwords removed): term, count, articles, display, weight.

    A term is a lemma ("zoll" for "Zölle", "Zöllen") or a two-word phrase ("donald trump");
    display is the form the texts use most ("Zölle", "Donald Trump").

    Example: monitor terms --tag UkraineKonflikt --json
    Example: monitor terms --since 30d --lang de --weight keyness --json
    """
    store, f = _store(ctx), make_filters(**filters)
    if weight == "keyness":
        table = analyze.keyness(store, f, limit=limit)
        if not as_json and table.attrs.get("note"):
            click.echo(f"note: {table.attrs['note']}", err=True)
    else:
        table = analyze.terms(store, f, limit=limit)
    emit_json(records(table)) if as_json else emit_table(table)


@cli.command("topics")
@filter_options
@click.option(
    "-k",
    "--topics",
    "k",
    default=analyze.TOPICS_K,
    show_default=True,
    type=click.IntRange(2, analyze.TOPICS_MAX),
    help="How many topics to find.",
)
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Days of the series.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def topics_command(
    ctx: click.Context, /, k: int, timezone: str, as_json: bool, **filters: Any
) -> None:
    """Topics discovered in the view (NMF over its articles' terms), largest first: each
    with its top terms, share, language, articles and share per day. The same view gives
    the same topics on every run.

    Example: monitor topics --since 30d -k 8 --json
    """
    try:
        analyze.check_timezone(timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    model = analyze.topics(_store(ctx), make_filters(**filters), k=k, timezone=timezone)
    if as_json:
        emit_json(model.to_json())
        return
    if model.note:
        click.echo(f"note: {model.note}", err=True)
    rows = [
        (t.id, f"{t.share:.1%}", t.language or "", t.label, len(t.articles), t.articles[0].title)
        for t in model.topics
        if t.articles
    ]
    emit_table(Table(("topic", "share", "language", "label", "shown", "top article"), rows))


@cli.command("authors")
@filter_options
@count_option
@click.option(
    "--limit",
    default=200,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Most prolific authors to list (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def authors_command(ctx: click.Context, /, limit: int, as_json: bool, **filters: Any) -> None:
    """Authors, busiest first: articles, feeds, first and last article, mean reading time,
    top tags.

    Example: monitor authors --since 30d --limit 20 --json
    """
    f = make_filters(**filters)
    table = analyze.authors(_store(ctx), f, limit=limit or None)
    emit_json(records(table)) if as_json else emit_table(_counted(table, f))


@cli.command("stories")
@filter_options
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--story", "story_id", metavar="ID", help="List this story's articles instead.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Place every stored article in a story again, in time order (a store from before "
    "stories, or after changing MONITOR_STORY_*).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stories_command(
    ctx: click.Context,
    /,
    limit: int,
    story_id: str | None,
    rebuild: bool,
    as_json: bool,
    **filters: Any,
) -> None:
    """The most covered stories: the same story in several outlets (agency copy, rewrites,
    updates) found at ingest; outlets, articles, first outlet and time, last time.

    Example: monitor stories --since 7d --limit 20 --json
    """
    store = _store(ctx)
    if rebuild:
        _rebuild_stories(store)
        return
    f = make_filters(**filters)
    if story_id is not None:
        table = analyze.story_articles(store, f, story_id)
        if table.empty:
            raise NotFound(f"no story {story_id!r} in the view (see monitor stories)")
    else:
        table = analyze.stories(store, f, limit=limit)
    emit_json(records(table)) if as_json else emit_table(table)


def _rebuild_stories(store: Storage) -> None:
    """`monitor stories --rebuild`: every article placed again, with a progress line."""
    from monitor.store import storyrows  # noqa: PLC0415 - only this command needs it

    store.ensure_schema()
    total = store.count_rows("articles")
    started = time.monotonic()
    first = True

    def write(placed: list[storyrows.Placed]) -> None:
        nonlocal first
        store.save_stories(placed, clear=first)
        first = False

    done = 0
    with store.session():
        for progress in storyrows.rebuild(store.story_sources, write, total):
            done = progress.done
            if sys.stderr.isatty():
                rate = done / max(time.monotonic() - started, 1e-9)
                click.echo(
                    f"\rstories {done:>11,} / {total:,} articles ({rate:,.0f}/s)",
                    err=True,
                    nl=False,
                )
        if first:
            store.save_stories([], clear=True)
    if sys.stderr.isatty():
        click.echo("", err=True)
    stories = store.stories(Filters(), limit=1)
    top = f"; most covered: {stories.rows[0][2]} outlets" if stories.rows else ""
    click.echo(
        f"{store.info().location}: {done:,} articles placed in stories in "
        f"{time.monotonic() - started:.1f} s{top}"
    )


# -- export -----------------------------------------------------------------------------


@cli.command("export")
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write here instead of standard output.",
)
@click.pass_context
def export_command(ctx: click.Context, /, fmt: str, out: Path | None, **filters: Any) -> None:
    """One row per article: id, url, feed_urls, title, authors, published, date_source,
    language, tags, word_count, reading_minutes, comments, text.

    Example: monitor export --format csv --since 30d --out articles.csv
    """
    # Export only reads: on a damaged store it saves what can still be read (and exits 1),
    # writing nothing to the store.
    store = open_store(ctx.obj["location"], salvage=True)
    store.ensure_schema()
    # Only a DuckDB file can be damaged yet readable in part (`salvage`); it says why.
    damaged = getattr(store, "damaged", None)
    if damaged:
        click.echo(f"monitor: {damaged}", err=True)
        click.echo("monitor: exporting what can still be read", err=True)
    _export(store, make_filters(**filters), fmt, out)
    if damaged:
        sys.exit(1)


def _export(store: Storage, f: Filters, fmt: str, out: Path | None) -> None:
    if fmt == "parquet":
        if out is not None:
            _writable(out)
        target = out or Path(tempfile.mkdtemp()) / "export.parquet"
        analyze.export_parquet(store, f, target)
        if out is None:
            sys.stdout.buffer.write(target.read_bytes())
            target.unlink()
        return
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    rows = (analyze.json_ready(row) for row in analyze.export_rows(store, f))
    try:
        if fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        else:
            analyze.write_csv(handle, rows)
    finally:
        if out:
            handle.close()


def _writable(out: Path) -> None:
    """The OSError naming `out` if it cannot be a file here, as opening it would raise
    (DuckDB's COPY would name the store instead, as an IO error of the store)."""
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(out))
    if not out.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(out))


# -- demo -------------------------------------------------------------------------------


@cli.command("copy")
@click.argument("source")
@click.argument("target")
@click.option(
    "--batch",
    default=20_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows read and written at a time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts per table as JSON.")
def copy_command(source: str, target: str, batch: int, as_json: bool) -> None:
    """Copy a whole store into another, on any engine (a DuckDB file to ClickHouse and back).

    In batches, with a progress line per table on standard error; run it again to resume a
    copy that was stopped (rows already in TARGET are skipped). Verified by counting every
    table at the end: a copy that does not add up exits 1 naming the tables.

    Example: monitor copy data/monitor.duckdb chdb:///srv/monitor/ch
    """
    from monitor.copy import copy_store  # noqa: PLC0415 - only this command needs it

    origin = open_store(source, read_only=True)
    destination = open_store(target)
    finished: set[str] = set()

    def progress(p: CopyProgress) -> None:
        # One line per table, rewritten in place on a terminal; the last state only otherwise.
        if p.table in finished:
            return
        done = p.done >= p.total
        if sys.stderr.isatty():
            click.echo(f"\r{p.table:16} {p.done:>13,} / {p.total:,}", err=True, nl=done)
        elif done:
            click.echo(f"{p.table:16} {p.total:>13,} rows", err=True)
        if done:
            finished.add(p.table)

    report = copy_store(origin, destination, size=batch, progress=progress)
    if as_json:
        emit_json(report.as_dict())
        return
    copied = sum(report.copied.values())
    click.echo(
        f"{destination.info().location}: {copied:,} rows copied, every table's count matches "
        f"{origin.info().location} ({report.after['articles']:,} articles)"
    )


@cli.command("migrate")
@click.option(
    "--cluster",
    metavar="NAME",
    help="Print the ON CLUSTER DDL for a ClickHouse cluster of this name instead.",
)
@click.pass_context
def migrate_command(ctx: click.Context, cluster: str | None) -> None:
    """Bring the store's schema up to date (every command also does this when it writes).

    When an upgrade changed how terms are made (lemmas, display forms, phrases), this also
    rebuilds every article's terms from its stored text, with a progress line; killed, it
    resumes where it stopped the next time.

    With --cluster NAME: print the DDL that creates the schema on a ClickHouse cluster
    (replicated local tables sharded by article, Distributed tables under the names the
    queries use); run it with clickhouse-client against one node. It is printed, not run:
    monitor has not been tested against a cluster yet.

    Example: monitor migrate --cluster newsroom > schema.sql
    """
    if cluster is not None:
        from monitor.store.clickhouse.schema import cluster_ddl  # noqa: PLC0415

        if not cluster.replace("_", "").isalnum():
            raise InputError(f"--cluster: not a cluster name: {cluster!r}")
        for statement in cluster_ddl(cluster):
            click.echo(statement.strip() + ";\n")
        return
    store = _store(ctx)
    store.ensure_schema()
    info = store.info()
    click.echo(f"{info.location}: {info.name} store at schema version {info.schema_version}")
    from monitor.store.rebuild import rebuild_terms  # noqa: PLC0415

    tty = sys.stderr.isatty()
    shown = [0]  # the last tenth printed when not on a terminal

    def progress(done: int, total: int, seconds: float) -> None:
        line = (
            f"rebuilding terms: {done:,} of {total:,} articles ({done / max(seconds, 1e-9):,.0f}/s)"
        )
        if tty:
            click.echo("\r" + line, err=True, nl=False)
        elif total and done * 10 // total > shown[0]:
            shown[0] = done * 10 // total
            click.echo(line, err=True)

    report = rebuild_terms(store, progress=progress)
    if report is not None:
        if tty:
            click.echo("", err=True)
        resumed = f", resumed after {report.resumed_at:,}" if report.resumed_at else ""
        click.echo(
            f"terms rebuilt for {report.articles:,} articles in {report.seconds:.1f} s{resumed}"
        )


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the store has no articles yet.")
@click.pass_context
def demo_command(ctx: click.Context, if_empty: bool) -> None:
    """Fill the store from the demo feeds (German and English, 120 days up to today).

    Example: monitor --db /tmp/demo.duckdb demo
    """
    from monitor import demo  # noqa: PLC0415 - only this command needs the generator

    store = _store(ctx)
    if if_empty and analyze.stats(store, Filters())["articles"]:
        click.echo(f"{store.info().location}: already has articles; demo not loaded")
        return
    now = datetime.now(UTC)
    documents = [
        ingest.Document(name, demo.DEMO_FEED_URLS[name], "demo", content)
        for name, content in demo.demo_feeds(now).items()
    ]
    reports = ingest.ingest_documents(
        store,
        documents,
        now=now,
        workers=ingest.parse_workers(len(documents)),
        on_report=lambda r: click.echo(r.line(), err=r.failed),
    )
    totals = ingest.summarize(reports)
    click.echo(f"{store.info().location}: demo store with {totals['new']} new articles")
    if totals["failed"]:
        sys.exit(1)


def main() -> None:
    """Console entry point: one-line errors, never a traceback."""
    try:
        debug = monitor_settings.debug()
    except MonitorError as exc:
        fail(one_line(exc), exc.exit_code)
    try:
        cli(standalone_mode=True)
    except (MonitorError, StoreError) as exc:
        fail(one_line(exc), exit_code(exc) or 1)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (MONITOR_DEBUG=1 shows where)")


# -- saved queries and attention (issue 11) ---------------------------------------------


@cli.group("queries")
def queries_group() -> None:
    """Saved queries: named queries kept in the store, used as @NAME.

    Example: monitor queries add eu 'EU OR "Europäische Union"'
    """


@queries_group.command("add")
@click.argument("name")
@click.argument("query")
@click.pass_context
def queries_add_command(ctx: click.Context, /, name: str, query: str) -> None:
    """Save a query under NAME (letters, digits, - and _), or edit it (its version + 1).

    Example: monitor queries add klima 'klima* OR #klimawandel'
    """
    saved = savedqueries.add(_store(ctx), name, query)
    click.echo(f"@{saved.name}: version {saved.version}, edited {saved.edited:%Y-%m-%d %H:%M} UTC")


@queries_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def queries_list_command(ctx: click.Context, /, as_json: bool) -> None:
    """The saved queries: name, query, version, edited (UTC).

    Example: monitor queries list --json
    """
    saved = _store(ctx).saved_queries()
    table = Table(
        ("name", "query", "version", "edited"),
        [(s.name, s.text, s.version, s.edited) for s in saved],
    )
    emit_json(records(table)) if as_json else emit_table(table)


@queries_group.command("remove")
@click.argument("name")
@click.pass_context
def queries_remove_command(ctx: click.Context, /, name: str) -> None:
    """Remove a saved query.

    Example: monitor queries remove klima
    """
    savedqueries.remove(_store(ctx), name)
    click.echo(f"@{savedqueries.check_name(name)}: removed")


def attention_queries(store: Storage, texts: Sequence[str]) -> tuple[list[Any], list[str]]:
    """The parsed queries and their labels ("@eu, version 3, edited 2026-12-01")."""
    resolve = savedqueries.resolver(store)
    parsed = [savedqueries.parse(text, resolve) for text in texts]
    labels = [savedqueries.label(q, store.saved_query(q.name) if q.name else None) for q in parsed]
    return parsed, labels


@cli.command("attention")
@click.option(
    "--query",
    "texts",
    multiple=True,
    required=True,
    help=f"A query or @NAME (repeatable, up to {analyze.ATTENTION_MAX_QUERIES}).",
)
@click.option("--by", type=click.Choice(["day", "week", "month"]), default="day", show_default=True)
@click.option(
    "--tz", "timezone", default="UTC", show_default=True, help="Time zone of the buckets."
)
@view_options
@count_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def attention_command(
    ctx: click.Context,
    /,
    texts: tuple[str, ...],
    by: str,
    timezone: str,
    since: str | None,
    until: str | None,
    feeds: tuple[str, ...],
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    languages: tuple[str, ...],
    count: str,
    as_json: bool,
) -> None:
    """Attention: each query's articles per bucket and its share of all articles in the
    same bucket and filters; share of voice between the queries. An article matching two
    queries counts for both (the note says how many do).

    Example: monitor attention --query @eu --query 'klima*' --by week --since 90d --json
    """
    if len(texts) > analyze.ATTENTION_MAX_QUERIES:
        raise click.BadParameter(
            f"at most {analyze.ATTENTION_MAX_QUERIES} queries, not {len(texts)}",
            param_hint="--query",
        )
    try:
        analyze.check_timezone(timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    store = _store(ctx)
    f = make_filters(since, until, feeds, authors, tags, languages, None, None, count)
    parsed, labels = attention_queries(store, texts)
    result = analyze.attention(store, f, parsed, by=by, timezone=timezone, labels=labels)
    if not as_json:
        emit_table(result.series)
        click.echo("")
        emit_table(result.voice)
        click.echo(result.note())
        return
    emit_json(attention_json(result, parsed))


def attention_json(result: analyze.Attention, parsed: Sequence[Any]) -> dict[str, Any]:
    """`monitor attention --json` (schemas/attention.schema.json)."""
    return {
        "by": result.by,
        "tz": result.timezone,
        "count": result.unit,
        "queries": [
            {"query": label, "text": q.text, "name": q.name, "version": q.version}
            for label, q in zip(result.labels, parsed, strict=True)
        ],
        "rows": [
            {
                "bucket": _local_iso(b),
                "query": name,
                "count": int(n),
                "total": int(t),
                "share": float(s),
            }
            for b, name, n, t, s in result.series.rows
        ],
        "share_of_voice": [
            {"query": name, "count": int(n), "share": float(s)} for name, n, s in result.voice.rows
        ],
        "articles": result.total,
        "matching_any": result.union,
        "matching_several": result.overlap,
        "note": result.note(),
        "details": [
            {
                "query": d.query,
                "count": d.count,
                "feeds": records(d.feeds),
                "tags": records(d.tags),
                "terms": records(d.terms),
                "newest": [_iso(r) for r in d.newest.records()],
            }
            for d in result.details
        ],
    }
