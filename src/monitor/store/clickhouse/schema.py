"""The ClickHouse schema, as numbered migrations, and the same tables for a cluster.

Designed for ClickHouse rather than translated from DuckDB:

- Every table is a `ReplacingMergeTree(version, is_deleted)`: a row is never updated in place;
  a change inserts a newer version of the row under the same sorting key, a removal inserts
  a tombstone (`is_deleted = 1`). Reads see the newest version of each key and no tombstones
  (`FINAL`, applied to every read by the `final` setting). So an insert retried after a lost
  answer, or a document ingested twice, leaves one row per key: nothing is counted twice.
- The sorting keys start with `published` where the dashboard filters by time (articles and
  every per-article table), so a time window reads a contiguous range of granules. A story
  whose time changes gets a tombstone under its old key and a row under its new one.
- `term_daily` (terms per UTC day and language, what the clouds read over months) is a
  `SummingMergeTree` filled by a materialized view on `article_terms`: a term row adds
  (n, 1), a tombstone of it adds (-n, -1). A writer tombstones an article's stored terms
  before it writes new ones, so the rollup always sums to the current terms; keys that fall
  to zero vanish at the next merge.
- `meta` holds `schema_version` (the number of migrations applied).

Feed ids: ClickHouse has no sequences, and several writers (processes on several machines)
may register feeds at once. A feed's id is a 31-bit hash of its URL at creation (blake2b,
positive, within DuckDB's INTEGER so `monitor copy` goes both ways), so two writers
registering the same URL at the same moment produce the same id and one row (the newer
version wins), never two feeds. A renamed feed keeps its id; a new
feed whose hash is taken by another URL takes the hash of "url#1", "url#2", ...
`created` (a nanosecond version) keeps the order in which feeds were added.
"""

from __future__ import annotations

_RMT = "ReplacingMergeTree(version, is_deleted)"

# Column types shared by the statements below and by the cluster plan.
_TABLES: dict[str, tuple[str, str, str]] = {
    # name: (columns, engine arguments / sorting, extra settings)
    "meta": (
        "key String, value String, version UInt64, is_deleted UInt8 DEFAULT 0",
        "ORDER BY key",
        "",
    ),
    "feeds": (
        """id Int64,
            created Int64,
            url String,
            name Nullable(String),
            title Nullable(String),
            site_url Nullable(String),
            language Nullable(String),
            kind String,
            subscribed Bool,
            full_text Bool DEFAULT false,
            restricted Bool DEFAULT false,
            pages_restricted Nullable(Bool),
            added_at DateTime64(6, 'UTC'),
            etag Nullable(String),
            last_modified Nullable(String),
            body_hash Nullable(String),
            last_fetch_at Nullable(DateTime64(6, 'UTC')),
            last_status Nullable(Int32),
            last_ok_at Nullable(DateTime64(6, 'UTC')),
            error_count Int32 DEFAULT 0,
            last_error Nullable(String),
            warning Nullable(String),
            next_due_at Nullable(DateTime64(6, 'UTC')),
            disabled Bool DEFAULT false,
            disabled_reason Nullable(String),
            version UInt64,
            is_deleted UInt8 DEFAULT 0""",
        "ORDER BY id",
        "",
    ),
    "articles": (
        """id String,
            url Nullable(String),
            title String,
            summary String,
            text String,
            published DateTime64(6, 'UTC'),
            date_source LowCardinality(String),
            date_assumed_utc Bool,
            language LowCardinality(Nullable(String)),
            word_count Int32,
            reading_minutes Int32,
            comments Nullable(Int32),
            fulltext_error Nullable(String),
            first_seen DateTime64(6, 'UTC'),
            updated_at DateTime64(6, 'UTC'),
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX id_bloom id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, id)",
        "",
    ),
    "article_feeds": (
        """feed_id Int64,
            entry_key String,
            article_id String,
            entry_hash String,
            first_seen DateTime64(6, 'UTC'),
            published DateTime64(6, 'UTC'),
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX feed_set feed_id TYPE set(100) GRANULARITY 1,
            INDEX article_bloom article_id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, feed_id, entry_key)",
        "",
    ),
    "article_authors": (
        """article_id String,
            position Int32,
            author String,
            published DateTime64(6, 'UTC'),
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX article_bloom article_id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, article_id, position)",
        "",
    ),
    "article_tags": (
        """article_id String,
            key String,
            display String,
            source LowCardinality(String),
            published DateTime64(6, 'UTC'),
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX article_bloom article_id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, article_id, key)",
        "",
    ),
    "article_terms": (
        """article_id String,
            term String,
            n Int32,
            published DateTime64(6, 'UTC'),
            language LowCardinality(String),
            display String DEFAULT '',
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX article_bloom article_id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, article_id, term)",
        "",
    ),
    "stopwords": (
        "language String, word String, removed Bool DEFAULT false, version UInt64, "
        "is_deleted UInt8 DEFAULT 0",
        "ORDER BY (language, word)",
        "",
    ),
    # The articles a writer is writing (new ones) or removing: while an article is named
    # here, its per-article rows are invisible to a view narrowed by time only
    # (`sql.child_where`). A writer names an article before its first row and tombstones
    # the name after its last; a killed writer's names stay, and keep what it left
    # invisible until the next write of that article clears them. (Migration 4.)
    "pending": (
        "article_id String, version UInt64, is_deleted UInt8 DEFAULT 0, "
        "aid UInt64 MATERIALIZED cityHash64(article_id)",
        "ORDER BY article_id",
        "",
    ),
    # Stories (monitor.store.storyrows): each article's story and MinHash signature (base64),
    # sorted by time like the other per-article rows; its LSH band hashes sorted by band, so
    # a new article's candidates are a primary-key look-up.
    "article_stories": (
        """article_id String,
            story_id String,
            language LowCardinality(String),
            published DateTime64(6, 'UTC'),
            signature String,
            version UInt64,
            is_deleted UInt8 DEFAULT 0,
            INDEX article_bloom article_id TYPE bloom_filter GRANULARITY 4""",
        "ORDER BY (published, article_id)",
        "",
    ),
    # Saved queries (issue 11, migration 7): `query_version` counts the edits (1 when added).
    "saved_queries": (
        "name String, text String, query_version Int32, edited DateTime64(6, 'UTC'), "
        "version UInt64, is_deleted UInt8 DEFAULT 0",
        "ORDER BY name",
        "",
    ),
    # The word index (issue 11): one row per article, field (1 title, 2 text) and folded word
    # (`text.index_words`) with the word's positions in the field, for phrases. Sorted by
    # the word, so a query reads the granules of its words only; a prefix (`klima*`) is a
    # range of the same key.
    "article_words": (
        """article_id String,
            published DateTime64(6, 'UTC'),
            field UInt8,
            word String,
            positions Array(UInt32),
            version UInt64,
            is_deleted UInt8 DEFAULT 0""",
        "ORDER BY (word, article_id, field)",
        "",
    ),
    "story_bands": (
        """band Int64,
            article_id String,
            published DateTime64(6, 'UTC'),
            version UInt64,
            is_deleted UInt8 DEFAULT 0""",
        "ORDER BY (band, article_id)",
        "",
    ),
}


def column_types() -> dict[str, dict[str, str]]:
    """Each table's columns and their ClickHouse types (the current schema, as written)."""
    out: dict[str, dict[str, str]] = {}
    for name, (columns, _, _) in _TABLES.items():
        types: dict[str, str] = {}
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(columns):
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                parts.append(columns[start:i])
                start = i + 1
        parts.append(columns[start:])
        for part in parts:
            words = part.split()
            if not words or words[0] == "INDEX":
                continue
            kind = " ".join(words[1:]).split(" DEFAULT ")[0].split(" MATERIALIZED ")[0]
            types[words[0]] = kind.strip()
        out[name] = types
    return out


_TERM_DAILY_COLUMNS = (
    "day Date, language LowCardinality(String), term String, n Int64, articles Int64"
)
_TERM_DAILY_SELECT = """
    SELECT toDate(published) AS day, language, term,
           if(is_deleted = 1, -toInt64(n), toInt64(n)) AS n,
           if(is_deleted = 1, toInt64(-1), toInt64(1)) AS articles
    FROM {source}"""

# A term row adds one use of its display form, its tombstone takes it back; rows stored
# before forms were ('') add nothing.
_TERM_FORMS_SELECT = """
    SELECT term, display, if(is_deleted = 1, toInt64(-1), toInt64(1)) AS uses
    FROM {source} WHERE display != ''"""

_TAG_DISPLAYS_SELECT = """
    SELECT key, display, if(is_deleted = 1, toInt64(-1), toInt64(1)) AS uses FROM {source}"""


def _create(name: str) -> str:
    columns, order, _ = _TABLES[name]
    return (
        f"CREATE TABLE IF NOT EXISTS {name} ({columns}) ENGINE = {_RMT} {order} "
        # A retried insert of the same block (same token) is dropped, and so is what the
        # materialized view would derive from it.
        "SETTINGS non_replicated_deduplication_window = 1000"
    )


# The tables of migration 1 (later ones add theirs).
_FIRST_TABLES = (
    "meta",
    "feeds",
    "articles",
    "article_feeds",
    "article_authors",
    "article_tags",
    "article_terms",
    "stopwords",
)

MIGRATIONS: list[list[str]] = [
    # 1: everything: feeds, articles and their per-article rows, stopwords, the term rollup.
    [
        *(_create(name) for name in _FIRST_TABLES),
        f"""CREATE TABLE IF NOT EXISTS term_daily ({_TERM_DAILY_COLUMNS})
            ENGINE = SummingMergeTree((n, articles)) ORDER BY (day, language, term)""",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS term_daily_mv TO term_daily AS "
        + _TERM_DAILY_SELECT.format(source="article_terms"),
    ],
]

MIGRATIONS.append(
    # 2: how often each display form of each tag is used, kept by a materialized view like
    # term_daily: every page that shows a tag picks its form from here (`query.tag_forms`)
    # instead of grouping all of article_tags (the DuckDB engine caches the same choice per
    # read-only connection). Filled from the stored tags; run it with no writer at work.
    [
        """CREATE TABLE IF NOT EXISTS tag_displays (key String, display String, uses Int64)
            ENGINE = SummingMergeTree(uses) ORDER BY (key, display)""",
        "INSERT INTO tag_displays SELECT key, display, toInt64(count()) FROM article_tags FINAL "
        "GROUP BY key, display",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS tag_displays_mv TO tag_displays AS "
        + _TAG_DISPLAYS_SELECT.format(source="article_tags"),
    ]
)

MIGRATIONS.append(
    # 3: a 64-bit hash of the article id on the articles and their per-article rows: the
    # IN (the view's articles) semi-joins build and probe sets of integers instead of hex
    # strings (2-3x faster on 100k articles). A collision (about 1 in 10^7 at 1M articles)
    # would at worst let one article's rows count for another's view.
    [
        "ALTER TABLE articles ADD COLUMN IF NOT EXISTS aid UInt64 MATERIALIZED cityHash64(id)",
        "ALTER TABLE articles MATERIALIZE COLUMN aid SETTINGS mutations_sync = 1",
        *(
            statement
            for table in ("article_feeds", "article_authors", "article_tags", "article_terms")
            for statement in (
                f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS aid UInt64 "
                "MATERIALIZED cityHash64(article_id)",
                f"ALTER TABLE {table} MATERIALIZE COLUMN aid SETTINGS mutations_sync = 1",
            )
        ),
    ]
)

MIGRATIONS.append(
    # 4: the pending articles, so a view narrowed by time only reads its per-article rows
    # without joining each to the stored articles (25-35% of the all-time pages' queries).
    # What a killed writer left before this migration (rows of an article that has no row)
    # is named pending here, so it stays invisible.
    [
        _create("pending"),
        *(
            "INSERT INTO pending (article_id, version) SELECT DISTINCT x.article_id, 1 "
            f"FROM {table} AS x FINAL "
            "WHERE x.aid NOT IN (SELECT a.aid FROM articles AS a FINAL)"
            for table in ("article_feeds", "article_authors", "article_tags", "article_terms")
        ),
    ]
)

MIGRATIONS.append(
    # 5 (stories): each article's story and signature, and its LSH band hashes. Articles
    # stored before have no story until `monitor stories --rebuild` (each its own story).
    [_create("article_stories"), _create("story_bands")]
)

MIGRATIONS.append(
    # 6 (terms): lemmatised terms with display forms (issue 10). Each article term keeps the
    # form its article used most; `term_forms` counts the uses of each form per term, kept
    # by a materialized view like tag_displays, so a cloud shows "Zölle", "USA". A store with
    # articles is marked for `monitor migrate` to rebuild its terms from the stored texts
    # (`store.rebuild`; version 1, so the rebuild's own writes of the mark always win).
    [
        "ALTER TABLE article_terms ADD COLUMN IF NOT EXISTS display String DEFAULT ''",
        """CREATE TABLE IF NOT EXISTS term_forms (term String, display String, uses Int64)
            ENGINE = SummingMergeTree(uses) ORDER BY (term, display)""",
        # The forms already stored count too (rows a writer left that the view never saw).
        "INSERT INTO term_forms SELECT term, display, toInt64(count()) FROM article_terms FINAL "
        "WHERE display != '' GROUP BY term, display",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS term_forms_mv TO term_forms AS "
        + _TERM_FORMS_SELECT.format(source="article_terms"),
        "INSERT INTO meta (key, value, version) SELECT 'terms_rebuild', '', 1 "
        "WHERE (SELECT count() FROM articles) > 0",
    ]
)

MIGRATIONS.append(
    # 7 (saved queries, issue 11): a named query's text, version and when it was edited.
    [_create("saved_queries")]
)

MIGRATIONS.append(
    # 8 (the word index, issue 11): `article_words`, with the article id's hash as on the
    # other per-article tables. A store with articles is marked for `monitor migrate`, whose
    # term rebuild fills the index from the stored texts (until then queries scan the texts).
    [
        _create("article_words"),
        "ALTER TABLE article_words ADD COLUMN IF NOT EXISTS aid UInt64 "
        "MATERIALIZED cityHash64(article_id)",
        # A rebuild under way starts over (a newer version of the mark), as its articles
        # so far have terms but no words.
        "INSERT INTO meta (key, value, version) SELECT 'terms_rebuild', '', "
        "toUInt64(toUnixTimestamp64Nano(now64(9))) WHERE (SELECT count() FROM articles) > 0",
    ]
)

SCHEMA_VERSION = len(MIGRATIONS)

# What `finish_copy` runs: the rollup rebuilt from the current terms.
REBUILD_ROLLUP = [
    "TRUNCATE TABLE tag_displays",
    "INSERT INTO tag_displays SELECT key, display, toInt64(count()) FROM article_tags FINAL "
    "GROUP BY key, display",
    "TRUNCATE TABLE term_daily",
    "INSERT INTO term_daily SELECT toDate(published) AS day, language, term, "
    "sum(toInt64(n)) AS n, toInt64(count()) AS articles FROM article_terms FINAL "
    "GROUP BY day, language, term",
    "TRUNCATE TABLE term_forms",
    "INSERT INTO term_forms SELECT term, display, toInt64(count()) FROM article_terms FINAL "
    "WHERE display != '' GROUP BY term, display",
]

# Then every table merged into one part per partition: a read's FINAL over one part costs
# next to nothing (article_terms of 100k articles: 25 ms instead of 0.9 s over the copy's
# five parts), where over overlapping parts it merges them on every read.
COMPACT = [
    f"OPTIMIZE TABLE {name} FINAL"
    for name in (*_TABLES, "term_daily", "tag_displays", "term_forms")
]

# Sharding keys on a cluster: an article and every row that hangs off it live on the same
# shard (the hash of the article id), so the per-article joins and IN subqueries stay local
# (`distributed_product_mode = 'local'`); feeds, stopwords and meta are small and read by
# every query: one copy per shard (replicated to all, sharded by nothing).
_SHARDING: dict[str, str | None] = {
    "meta": None,
    "feeds": None,
    "stopwords": None,
    "pending": None,
    "saved_queries": None,
    "articles": "cityHash64(id)",
    "article_feeds": "cityHash64(article_id)",
    "article_authors": "cityHash64(article_id)",
    "article_tags": "cityHash64(article_id)",
    "article_terms": "cityHash64(article_id)",
    "article_stories": "cityHash64(article_id)",
    "story_bands": "cityHash64(article_id)",
    "article_words": "cityHash64(article_id)",
}


def cluster_ddl(cluster: str, database: str = "monitor") -> list[str]:
    """The ON CLUSTER DDL `monitor migrate --cluster NAME` runs, for the schema this
    monitor writes (every migration folded in).

    Sharded by article: `articles` by `cityHash64(id)`, its feed links, authors, tags and
    terms by `cityHash64(article_id)`, the same value, so an article and every row that hangs
    off it live on one shard and the per-article IN subqueries stay on the shard
    (`distributed_product_mode = 'local'`). Each such table is a `{name}_local`
    ReplicatedReplacingMergeTree on every replica of every shard, with a Distributed table
    under the name the queries use. The rollups (`term_daily`, `tag_displays`, `term_forms`)
    are local per
    shard, filled by their views from the shard's own rows, and read through Distributed
    tables: every query sums them anyway.

    Small tables (feeds, stopwords, meta, pending) are not sharded: one replicated table
    under its own name whose replicas are every node of the cluster (one ZooKeeper path for
    all), so every node reads them locally and a write on any node reaches all.
    """
    if not cluster.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"cluster name {cluster!r}: letters, digits, '-' and '_' only")
    on = f"ON CLUSTER '{cluster}'"
    db = database
    statements = [f"CREATE DATABASE IF NOT EXISTS {db} {on}"]
    for name, (columns, order, _) in _TABLES.items():
        key = _SHARDING[name]
        if key is None:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {db}.{name} {on} ({columns}) ENGINE = "
                f"ReplicatedReplacingMergeTree('/clickhouse/tables/all/{db}/{name}', "
                f"'{{replica}}', version, is_deleted) {order}"
            )
            continue
        source = "id" if name == "articles" else "article_id"
        statements += [
            f"CREATE TABLE IF NOT EXISTS {db}.{name}_local {on} ({columns}, "
            f"aid UInt64 MATERIALIZED cityHash64({source})) ENGINE = "
            f"ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{db}/{name}', "
            f"'{{replica}}', version, is_deleted) {order}",
            f"CREATE TABLE IF NOT EXISTS {db}.{name} {on} AS {db}.{name}_local "
            f"ENGINE = Distributed('{cluster}', '{db}', '{name}_local', {key})",
        ]
    statements += [
        f"""CREATE TABLE IF NOT EXISTS {db}.term_daily_local {on} ({_TERM_DAILY_COLUMNS})
            ENGINE = ReplicatedSummingMergeTree(
                '/clickhouse/tables/{{shard}}/{db}/term_daily', '{{replica}}', (n, articles))
            ORDER BY (day, language, term)""",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.term_daily_mv {on} "
        f"TO {db}.term_daily_local AS "
        + _TERM_DAILY_SELECT.format(source=f"{db}.article_terms_local"),
        f"CREATE TABLE IF NOT EXISTS {db}.term_daily {on} AS {db}.term_daily_local "
        f"ENGINE = Distributed('{cluster}', '{db}', 'term_daily_local', rand())",
        f"""CREATE TABLE IF NOT EXISTS {db}.tag_displays_local {on}
            (key String, display String, uses Int64)
            ENGINE = ReplicatedSummingMergeTree(
                '/clickhouse/tables/{{shard}}/{db}/tag_displays', '{{replica}}', uses)
            ORDER BY (key, display)""",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.tag_displays_mv {on} "
        f"TO {db}.tag_displays_local AS "
        + _TAG_DISPLAYS_SELECT.format(source=f"{db}.article_tags_local"),
        f"CREATE TABLE IF NOT EXISTS {db}.tag_displays {on} AS {db}.tag_displays_local "
        f"ENGINE = Distributed('{cluster}', '{db}', 'tag_displays_local', rand())",
        f"""CREATE TABLE IF NOT EXISTS {db}.term_forms_local {on}
            (term String, display String, uses Int64)
            ENGINE = ReplicatedSummingMergeTree(
                '/clickhouse/tables/{{shard}}/{db}/term_forms', '{{replica}}', uses)
            ORDER BY (term, display)""",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.term_forms_mv {on} "
        f"TO {db}.term_forms_local AS "
        + _TERM_FORMS_SELECT.format(source=f"{db}.article_terms_local"),
        f"CREATE TABLE IF NOT EXISTS {db}.term_forms {on} AS {db}.term_forms_local "
        f"ENGINE = Distributed('{cluster}', '{db}', 'term_forms_local', rand())",
    ]
    return statements
