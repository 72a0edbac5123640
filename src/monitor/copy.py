"""`monitor copy SOURCE TARGET`: move a whole store between engines (a DuckDB file to
ClickHouse and back), through the storage interface only.

Table by table (`base.TABLES`), in key order, `size` rows at a time. The target skips rows it
already holds, so a copy that was stopped is resumed by running it again; a table whose rows
are all there already is not read again. At the end the target rebuilds what derives from the
rows (the per-day term rollup, its id sequence) and every table's count is compared: a copy
that does not add up raises `CopyMismatch` naming the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from monitor.errors import MonitorError
from monitor.models import Table
from monitor.store.base import TABLES, CopyProgress, Storage


class CopyMismatch(MonitorError):
    """The target does not hold what the source holds after a copy."""


class CopyRefused(MonitorError):
    """The target holds another store's data."""


class SameStore(MonitorError):
    """SOURCE and TARGET are the same store."""

    exit_code = 2


@dataclass(frozen=True)
class CopyReport:
    """Rows per table: in the source, in the target at the start, and copied now."""

    source: dict[str, int]
    before: dict[str, int]
    copied: dict[str, int]
    after: dict[str, int]

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            table: {
                "source": self.source[table],
                "target_before": self.before[table],
                "copied": self.copied[table],
                "target_after": self.after[table],
            }
            for table in self.source
        }


def copy_store(
    source: Storage,
    target: Storage,
    *,
    size: int = 20_000,
    progress: Callable[[CopyProgress], None] | None = None,
) -> CopyReport:
    """Copy every table of `source` into `target`; see the module docstring."""
    if source.info().location == target.info().location:
        raise SameStore(f"{source.info().location}: source and target are the same store")
    if target.read_only:
        raise MonitorError(f"{target.info().location}: the target is read-only")
    source.ensure_schema()
    target.ensure_schema()
    counts = {table: source.count_rows(table) for table in TABLES}
    before = {table: target.count_rows(table) for table in TABLES}
    if any(before.values()):
        _check_resumable(source, target)
    copied = dict.fromkeys(TABLES, 0)
    for table, keys in TABLES.items():
        total = counts[table]
        if before[table] >= total:
            if progress is not None:
                progress(CopyProgress(table, total, total))
            continue
        done = 0
        for batch in _batches(source, table, keys, size):
            target.write_rows(table, batch)
            done += len(batch)
            copied[table] += len(batch)
            if progress is not None:
                progress(CopyProgress(table, min(done, total), total))
    target.finish_copy()
    after = {table: target.count_rows(table) for table in TABLES}
    wrong = [t for t in TABLES if after[t] != counts[t]]
    if wrong:
        detail = ", ".join(f"{t} {after[t]:,} of {counts[t]:,}" for t in wrong)
        raise CopyMismatch(
            f"{target.info().location}: the copy does not add up ({detail}); run it again "
            "to resume, or copy into an empty store"
        )
    return CopyReport(counts, before, copied, after)


def _feeds(store: Storage) -> dict[object, object]:
    """Feed id -> URL (the feeds table is small: thousands of rows, not millions)."""
    found: dict[object, object] = {}
    for batch in _batches(store, "feeds", TABLES["feeds"], 20_000):
        for row in batch.records():
            found[row["id"]] = row["url"]
    return found


def _check_resumable(source: Storage, target: Storage) -> None:
    """A target that holds rows must be a part-done copy of this source: every feed it has is
    the source's feed of the same id and URL. Anything else is another store's data, which a
    copy would mix with this one's (a feed id taken by another feed keeps the wrong feed)."""
    theirs = _feeds(source)
    for feed_id, url in _feeds(target).items():
        if theirs.get(feed_id) != url:
            raise CopyRefused(
                f"{target.info().location}: holds feeds that are not "
                f"{source.info().location}'s (feed {feed_id}: {url}); copy into an empty "
                "store, or into an earlier copy of this one to resume it"
            )


def _batches(source: Storage, table: str, keys: tuple[str, ...], size: int) -> Iterator[Table]:
    after = None
    while True:
        batch = source.read_rows(table, after=after, size=size)
        if batch.empty:
            return
        yield batch
        last = batch.rows[-1]
        after = tuple(last[batch.columns.index(k)] for k in keys)
        if len(batch) < size:
            return
