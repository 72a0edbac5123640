"""The store's schema, as numbered migrations.

Each migration is a list of statements run in one transaction; `meta.schema_version` records
the last one applied. The SQL stays close to standard (no DuckDB list columns, no macros) so a
server-backed store can follow: lists such as authors live in their own tables.

Why `published` is copied into the per-article tables: the big aggregates (tags, terms, authors
over a time window) then filter one table by a range instead of joining millions of rows first.
"""

from __future__ import annotations

# The word index's table (migration 8); `write.sort_words` makes a sorted copy of it.
WORDS_TABLE = """CREATE TABLE IF NOT EXISTS {name} (
    article_id VARCHAR NOT NULL,
    published TIMESTAMP NOT NULL,
    field UTINYINT NOT NULL,
    word BIGINT NOT NULL,
    positions UINTEGER[] NOT NULL,
    gen BIGINT NOT NULL
)"""

MIGRATIONS: list[list[str]] = [
    # 1: feeds, articles and what hangs off them.
    [
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        "CREATE SEQUENCE feed_ids START 1",
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY DEFAULT nextval('feed_ids'),
            url VARCHAR NOT NULL UNIQUE,
            name VARCHAR,
            title VARCHAR,
            site_url VARCHAR,
            language VARCHAR,
            kind VARCHAR NOT NULL,
            subscribed BOOLEAN NOT NULL,
            full_text BOOLEAN NOT NULL DEFAULT FALSE,
            restricted BOOLEAN NOT NULL DEFAULT FALSE,
            added_at TIMESTAMP NOT NULL,
            etag VARCHAR,
            last_modified VARCHAR,
            body_hash VARCHAR,
            last_fetch_at TIMESTAMP,
            last_status INTEGER,
            last_ok_at TIMESTAMP,
            error_count INTEGER NOT NULL DEFAULT 0,
            last_error VARCHAR,
            warning VARCHAR,
            next_due_at TIMESTAMP,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            disabled_reason VARCHAR
        )""",
        """CREATE TABLE articles (
            id VARCHAR PRIMARY KEY,
            url VARCHAR,
            title VARCHAR NOT NULL,
            summary VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL,
            date_source VARCHAR NOT NULL,
            date_assumed_utc BOOLEAN NOT NULL,
            language VARCHAR,
            word_count INTEGER NOT NULL,
            reading_minutes INTEGER NOT NULL,
            comments INTEGER,
            fulltext_error VARCHAR,
            first_seen TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE article_feeds (
            feed_id INTEGER NOT NULL,
            entry_key VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            entry_hash VARCHAR NOT NULL,
            first_seen TIMESTAMP NOT NULL,
            published TIMESTAMP NOT NULL,
            PRIMARY KEY (feed_id, entry_key)
        )""",
        """CREATE TABLE article_authors (
            article_id VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            author VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE article_tags (
            article_id VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            display VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE article_terms (
            article_id VARCHAR NOT NULL,
            term VARCHAR NOT NULL,
            n INTEGER NOT NULL,
            published TIMESTAMP NOT NULL
        )""",
        # Stopwords the user added (or took back) on top of the built-in lists;
        # language '*' means every language.
        """CREATE TABLE stopwords (
            language VARCHAR NOT NULL,
            word VARCHAR NOT NULL,
            removed BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (language, word)
        )""",
        "CREATE INDEX article_feeds_article ON article_feeds (article_id)",
    ],
    # 2: terms per UTC day and language, kept up to date at ingest, so a cloud over months
    # reads thousands of rows a day instead of 150 per article. Unknown language is ''.
    [
        """CREATE TABLE term_daily (
            day DATE NOT NULL,
            language VARCHAR NOT NULL,
            term VARCHAR NOT NULL,
            n BIGINT NOT NULL,
            articles BIGINT NOT NULL
        )""",
        """INSERT INTO term_daily
           SELECT CAST(t.published AS DATE), coalesce(a.language, ''), t.term,
                  sum(t.n), count(*)
           FROM article_terms t JOIN articles a ON a.id = t.article_id
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
    ],
    # 3: no ART indexes on the big tables. DuckDB's joins scan rather than use them, yet every
    # connection that writes loads them and every checkpoint writes them out: on a million
    # articles that made ingest 0.6x as fast as into an empty store (1.0x without). Keys stay
    # unique because the one writer checks them (write.save_many) before it inserts.
    [
        """CREATE TABLE articles_v3 (
            id VARCHAR NOT NULL,
            url VARCHAR,
            title VARCHAR NOT NULL,
            summary VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL,
            date_source VARCHAR NOT NULL,
            date_assumed_utc BOOLEAN NOT NULL,
            language VARCHAR,
            word_count INTEGER NOT NULL,
            reading_minutes INTEGER NOT NULL,
            comments INTEGER,
            fulltext_error VARCHAR,
            first_seen TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        "INSERT INTO articles_v3 SELECT * FROM articles",
        "DROP TABLE articles",
        "ALTER TABLE articles_v3 RENAME TO articles",
        """CREATE TABLE article_feeds_v3 (
            feed_id INTEGER NOT NULL,
            entry_key VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            entry_hash VARCHAR NOT NULL,
            first_seen TIMESTAMP NOT NULL,
            published TIMESTAMP NOT NULL
        )""",
        "INSERT INTO article_feeds_v3 SELECT * FROM article_feeds",
        "DROP INDEX IF EXISTS article_feeds_article",
        "DROP TABLE article_feeds",
        "ALTER TABLE article_feeds_v3 RENAME TO article_feeds",
    ],
    # 4: article pages vetted although the feed itself is not: full text was switched on
    # from the web page for a feed the operator added (a web change never widens its reach).
    # NULL reads as FALSE (DuckDB refuses NOT NULL together with IF NOT EXISTS).
    ["ALTER TABLE feeds ADD COLUMN IF NOT EXISTS pages_restricted BOOLEAN DEFAULT FALSE"],
    # 5 (stories): each article's story and MinHash signature, and its LSH band hashes, by
    # which a new article finds the stored ones it may be a copy of (monitor.store.storyrows).
    # Articles stored before this have no story until `monitor stories --rebuild`; until then
    # each counts as a story of its own.
    [
        """CREATE TABLE IF NOT EXISTS article_stories (
            article_id VARCHAR NOT NULL,
            story_id VARCHAR NOT NULL,
            language VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL,
            signature VARCHAR NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS story_bands (
            band BIGINT NOT NULL,
            article_id VARCHAR NOT NULL,
            published TIMESTAMP NOT NULL
        )""",
    ],
    # 6 (terms): lemmatised terms with display forms (issue 10). Each article term keeps the
    # form its article used most; `term_forms` counts, per term and form, the article terms
    # that use it (kept at ingest like term_daily), so a cloud shows "Zölle", "USA" without
    # reading article_terms. A store with articles is marked for `monitor migrate` to
    # rebuild its terms from the stored texts (`store.rebuild`): the rows stored so far are
    # lower-cased words with no form.
    [
        "ALTER TABLE article_terms ADD COLUMN IF NOT EXISTS display VARCHAR",
        """CREATE TABLE IF NOT EXISTS term_forms (
            term VARCHAR NOT NULL,
            display VARCHAR NOT NULL,
            uses BIGINT NOT NULL
        )""",
        "INSERT INTO meta (key, value) SELECT 'terms_rebuild', '' "
        "WHERE EXISTS (SELECT 1 FROM articles) ON CONFLICT (key) DO NOTHING",
    ],
    # 7 (saved queries, issue 11): a named query's text, how many times it was edited
    # (query_version, 1 when added) and when last (edited, naive UTC).
    [
        """CREATE TABLE IF NOT EXISTS saved_queries (
            name VARCHAR NOT NULL PRIMARY KEY,
            text VARCHAR NOT NULL,
            query_version INTEGER NOT NULL,
            edited TIMESTAMP NOT NULL
        )""",
    ],
    # 8 (the word index, issue 11): every article's folded words (`text.index_words`), one
    # row per article, field (1 title, 2 text) and word, the word as its 64-bit hash
    # (`text.word_hash`), its positions in the field (for phrases) and the generation of the
    # write that indexed it (see `article_gen`). The query language
    # looks words up here instead of scanning the texts; `word_vocabulary` maps hashes to
    # the words, for prefixes (`klima*`). The one list column in this schema: a phrase's
    # positions are read together with its words. A store with articles is marked for
    # `monitor migrate`, whose terms rebuild fills the index from the stored texts.
    [
        WORDS_TABLE.format(name="article_words"),
        # Rows are never deleted from article_words but by its sort (deleting a few
        # articles' rows from a table sorted by word reads all of it: 7-12 s at 1M): each
        # write's rows carry a generation, and an article re-indexed (edited, rebuilt) or
        # removed since the last sort names its current one here (-1: none), so its older
        # rows do not count. The sort drops them and empties this table.
        "CREATE SEQUENCE IF NOT EXISTS word_gens START 1",
        """CREATE TABLE IF NOT EXISTS article_gen (
            article_id VARCHAR PRIMARY KEY,
            gen BIGINT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS word_vocabulary (
            hash BIGINT NOT NULL,
            word VARCHAR NOT NULL
        )""",
        # A rebuild under way starts over: its articles so far have terms but no words.
        "INSERT INTO meta (key, value) SELECT 'terms_rebuild', '' "
        "WHERE EXISTS (SELECT 1 FROM articles) ON CONFLICT (key) DO UPDATE SET value = ''",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

# The oldest schema a read-only Store (a read-only dashboard) reads without migrating it:
# 1 lacks term_daily, which the clouds read; 3 only dropped indexes; 6 (terms) added the
# term display forms the clouds read. A migration that adds something the queries read
# raises this to its own number.
READABLE_FROM = 6
