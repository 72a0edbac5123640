"""Property tests (hypothesis): what must hold for every input, not only the ones we thought of.

canonical_url, tag_key, html_to_text, split_authors, parse_date and normalize_entry: they
never raise; canonical URLs and tag keys are fixed points; no markup is left in text; no
author is lost; a parsed date is always aware UTC and formatted dates come back unchanged.
Modest sizes and no deadline, so a loaded machine never fails them.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor import normalize, text
from monitor.normalize import (
    TRACKING_PARAMS,
    canonical_url,
    normalize_entry,
    parse_date,
    parse_relative_date,
    split_authors,
)
from monitor.store.duckdb import write

# No deadline (a loaded machine must not fail a test), no example database in the work tree.
modest = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)

ANCHOR = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

# --- canonical_url ----------------------------------------------------------------------------

label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
hosts = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(["de", "com", "org", "io", "co.uk", "example"]),
)
path_chars = string.ascii_letters + string.digits + "-._~/%:@!$&'()*+,;= äöü#?"
param_names = st.one_of(
    st.text(string.ascii_lowercase + "_", min_size=1, max_size=8),
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.builds(lambda s: "utm_" + s, st.text(string.ascii_lowercase, max_size=6)),
    st.builds(lambda s: "UTM_" + s, st.text(string.ascii_uppercase, max_size=6)),
)
param_values = st.text(string.ascii_letters + string.digits + "-._", max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = draw(st.text(path_chars, max_size=20)).replace("#", "").replace("?", "")
    params = draw(st.lists(st.tuples(param_names, param_values), max_size=5))
    query = "&".join(f"{n}={v}" for n, v in params)
    fragment = draw(st.sampled_from(["", "#top", "#post-2", "#:~:text=x", "#xtor=RSS-3", "#"]))
    return f"{scheme}://{host}{port}/{path.lstrip('/')}" + (f"?{query}" if query else "") + fragment


url_soup = st.lists(
    st.sampled_from(
        ["http://", "https://", "//", "www.", "example.github.io", "a.de", ":8080", "/", "?",
         "#", "&", "=", "utm_source", "x", "%", "%2", "@", ":", "[::1]", " ", "readme.md",
         "..", "./", "ä", "#:~:text=", "top"]
    ),
    max_size=10,
).map("".join)  # fmt: skip


@modest
@given(st.one_of(st.text(max_size=80), url_soup), st.one_of(st.none(), url_soup, urls()))
def test_canonical_url_never_raises_and_is_a_fixed_point(raw: str, base: str | None) -> None:
    for keep in (False, True):
        result = canonical_url(raw, base, keep_fragment=keep)
        if result is None:
            continue
        assert result.startswith(("http://", "https://"))
        assert not any(c.isspace() for c in result)
        assert canonical_url(result, keep_fragment=keep) == result
        assert canonical_url(result, base, keep_fragment=keep) == result


@modest
@given(urls(), st.one_of(st.none(), urls()))
def test_canonical_url_of_real_urls(url: str, base: str | None) -> None:
    result = canonical_url(url, base)
    assert result is not None
    assert canonical_url(result) == result
    assert "#" not in result
    query = urlsplit(result).query
    names = [name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)]
    assert not [n for n in names if n.startswith("utm_") or n in TRACKING_PARAMS]
    # Every other parameter is kept, in order.
    wanted = [
        name.lower()
        for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        if not (name.lower().startswith("utm_") or name.lower() in TRACKING_PARAMS)
    ]
    assert names == wanted
    with_fragment = canonical_url(url, base, keep_fragment=True)
    assert with_fragment is not None and with_fragment.split("#")[0] == result


@modest
@given(hosts, st.text(string.ascii_lowercase + "/-", max_size=12))
def test_scheme_less_links_to_a_host_are_https_there(host: str, path: str) -> None:
    assume(not host.endswith(".example"))
    link = f"{host}/{path}"
    assert canonical_url(link, "http://feed.example/x/feed.xml") == canonical_url(f"https://{link}")


# --- tag_key ----------------------------------------------------------------------------------


@modest
@given(st.text(max_size=40))
def test_tag_key_never_raises_and_is_a_fixed_point(display: str) -> None:
    key = text.tag_key(display)
    assert text.tag_key(key) == key
    assert "\n" not in key
    assert key == key.strip()
    assert text.tag_key(display.casefold()) == key  # one key whatever the case


# --- html_to_text -----------------------------------------------------------------------------

words = st.text(string.ascii_letters + "äöüßÄÖÜ0123456789", min_size=1, max_size=8)


@st.composite
def html_trees(draw: st.DrawFn, depth: int = 3) -> tuple[str, list[str]]:
    """A fragment of HTML and the words a reader sees in it."""
    parts: list[str] = []
    seen: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["text", "tag", "tag", "void", "hidden", "comment", "entity"]))
        if kind == "text" or depth == 0:
            chunk = draw(st.lists(words, min_size=1, max_size=4))
            parts.append(" " + " ".join(chunk) + " ")
            seen.extend(chunk)
        elif kind == "tag":
            name = draw(st.sampled_from(["p", "div", "b", "i", "span", "a", "li", "h2", "em"]))
            attrs = draw(st.sampled_from(["", ' class="x"', " href='https://x.example/?a=1&b=2'"]))
            inner, inner_seen = draw(html_trees(depth - 1))
            parts.append(f"<{name}{attrs}>{inner}</{name}>")
            seen.extend(inner_seen)
        elif kind == "void":
            parts.append(draw(st.sampled_from(["<br>", "<br/>", "<hr />", "<img src='x.png'>"])))
        elif kind == "hidden":
            name = draw(st.sampled_from(["script", "style", "noscript"]))
            parts.append(f"<{name}>var x = '<b>' + 1 < 2;</{name}>")
        elif kind == "comment":
            parts.append("<!-- <p>versteckt</p> -->")
        else:
            entity, char = draw(st.sampled_from([("&amp;", "&"), ("&lt;", "<"), ("&#228;", "ä")]))
            parts.append(f" {entity} ")
            seen.append(char)
    return "".join(parts), seen


@modest
@given(html_trees())
def test_html_to_text_leaves_no_markup_and_keeps_the_words(tree: tuple[str, list[str]]) -> None:
    html, seen = tree
    result = text.html_to_text(html)
    visible = result.replace("<", "").replace("&", "")
    assert ">" not in visible and "/" not in visible.replace("https://", "")
    assert "versteckt" not in result and "var x" not in result
    for word in seen:
        assert word in result


@modest
@given(st.text(max_size=200))
def test_html_to_text_never_raises_and_plain_output_is_a_fixed_point(raw: str) -> None:
    result = text.html_to_text(raw)
    assert isinstance(result, str)
    if "<" not in result and "&" not in result:
        assert text.html_to_text(result) == result


# --- split_authors ----------------------------------------------------------------------------

name_word = st.text(string.ascii_lowercase + "äöüé", min_size=2, max_size=8).map(str.capitalize)
names = (
    st.lists(name_word, min_size=1, max_size=3)
    .map(" ".join)
    .filter(
        lambda n: (
            not any(
                w.lower() in {"and", "und", "et", "y", "e", "en", "von", "by", "text", "autor"}
                for w in n.split()
            )
        )
    )
)
emails = st.builds(
    lambda user, host: f"{user}@{host}.org",
    st.text(string.ascii_lowercase + ".", min_size=1, max_size=6).filter(
        lambda u: u.strip(".") == u and ".." not in u
    ),
    st.text(string.ascii_lowercase, min_size=1, max_size=6),
)
forms = st.sampled_from(
    ["{n}", "{n} ({e})", "{e} ({n})", "{n} <{e}>", "{n} &lt;{e}&gt;", "{n} (mailto:{e})", "{n}"]
)
separators = st.sampled_from([", ", "; ", " und ", " and ", " & ", " | ", "\n", " et "])


@st.composite
def bylines(draw: st.DrawFn) -> tuple[str, list[str]]:
    people = draw(st.lists(names, min_size=1, max_size=4))
    parts = [draw(forms).format(n=person, e=draw(emails)) for person in people]
    joined = parts[0]
    for part in parts[1:]:
        joined += draw(separators) + part
    prefix = draw(st.sampled_from(["", "Von ", "By ", "Text: "]))
    return prefix + joined, people


@modest
@given(bylines())
def test_split_authors_loses_no_author(byline: tuple[str, list[str]]) -> None:
    value, people = byline
    result = split_authors([value])
    folded = [name.casefold() for name in result]
    for person in people:
        assert person.casefold() in folded, (value, result)
    assert not any("@" in name for name in result)
    assert split_authors(result) == result


# Bylines from the pieces that make splitting hard: markup, entities escaped once and twice,
# brackets, addresses, separators and byline words.
byline_soup = st.lists(
    st.sampled_from(
        ["Anna", "Bernd Meier", "a@b.de", "(", ")", "<", ">", "[", "]", "<b>", "</b>", "&amp;",
         "&lt;", "&gt;", "&amp;lt;", "&amp;amp;", "mailto:", " und ", " and ", ", ", "; ", " | ",
         " & ", "Von ", "By ", "\n", " ", "'", '"', "-", ".", "é"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@modest
@given(st.lists(st.one_of(st.text(max_size=60), byline_soup), max_size=4))
def test_split_authors_never_raises_and_is_idempotent(values: list[str]) -> None:
    result = split_authors(values)
    assert all(name and name == name.strip() for name in result)
    assert split_authors(result) == result


@modest
@given(st.lists(emails, min_size=1, max_size=3))
def test_an_address_alone_is_kept(addresses: list[str]) -> None:
    result = split_authors([", ".join(f"<{a}>" for a in addresses)])
    assert [a.casefold() for a in result] == list(dict.fromkeys(a.casefold() for a in addresses))


# --- dates ------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@modest
@given(st.text(max_size=120))
def test_parse_date_never_raises_and_is_aware_utc(raw: str) -> None:
    result = parse_date(raw)
    if result is not None:
        when, assumed = result
        assert when.tzinfo is not None and when.utcoffset() == timedelta(0)
        assert isinstance(assumed, bool)


@modest
@given(moments, offsets)
def test_formatted_dates_come_back_unchanged(moment: datetime, zone: timezone) -> None:
    local = moment.astimezone(zone)
    seconds = moment.replace(microsecond=0)
    assert parse_date(format_datetime(local.replace(microsecond=0))) == (seconds, False)
    assert parse_date(local.isoformat()) == (moment, False)
    assert parse_date(local.strftime("%Y-%m-%dT%H:%M:%S%z")) == (seconds, False)
    assert parse_date(moment.strftime("%Y-%m-%dT%H:%M:%SZ")) == (seconds, False)


LOCAL_MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
    "novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
}


@modest
@given(moments, offsets, st.sampled_from(sorted(LOCAL_MONTHS)), st.booleans())
def test_dates_with_local_month_names_come_back(
    moment: datetime, zone: timezone, language: str, short: bool
) -> None:
    local = moment.astimezone(zone).replace(microsecond=0)
    month = LOCAL_MONTHS[language].split()[local.month - 1]
    if short:
        month = month[:3] + "."
    offset = local.strftime("%z")
    raw = f"{local.day} {month} {local.year} {local:%H:%M:%S} {offset}"
    if short and month[:3].lower() in ("jui",):  # "jui." is juin or juillet: not a month
        assert parse_date(raw) is None or parse_date(raw) == (moment.replace(microsecond=0), False)
        return
    assert parse_date(raw) == (moment.replace(microsecond=0), False)


@modest
@given(st.text(max_size=70))
def test_relative_dates_never_raise_and_never_lie_ahead(raw: str) -> None:
    result = parse_relative_date(raw, ANCHOR)
    if result is not None:
        assert result[0] <= ANCHOR + timedelta(days=2)
        assert result[0].tzinfo is not None


# --- a whole entry ----------------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(["NaN", "3000000000", "-5", "²", "12.0", "1e3", "inf", "9" * 5000]),
)


@modest
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "id": junk,
            "link": st.one_of(junk, urls()),
            "title": junk,
            "summary": junk,
            "author": junk,
            "published": st.one_of(junk, st.sampled_from(["Seg, 24 Set 2018 19:42:40 ET"])),
            "created": junk,
            "updated": junk,
            "slash_comments": junk,
            "thr_total": junk,
            "tags": st.lists(st.fixed_dictionaries({"term": junk}), max_size=3),
        },
    )
)
def test_any_entry_normalises_to_a_row_the_store_can_hold(entry: dict[str, object]) -> None:
    """A bad field costs that field: whatever an entry holds, it becomes an article that the
    store accepts (values in range, text that is Unicode), and the date is aware UTC."""
    article = normalize_entry(
        entry,
        feed_url="https://prop.example/feed",
        feed_language=None,
        feed_authors=(),
        fetched_at=ANCHOR,
    )
    assert write._unstorable(article) is None, write._unstorable(article)
    assert article.published.utcoffset() == timedelta(0)
    assert article.comments is None or 0 <= article.comments <= normalize.MAX_COUNT
