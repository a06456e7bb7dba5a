"""Tests for mapapp.articles: story files in, Article records out."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from mapapp.articles import content_id, iter_articles, parse_file, parse_text
from mapapp.errors import ArticleParseError
from mapapp.records import Article

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
FIXTURES = Path(__file__).resolve().parent / "data"
SEEDS = REPO.parent / "shared" / "seeds"
EVAL = REPO.parent / "shared" / "eval"

ROME = "ROME -- Body."
BODY = "Officials said the work would take two weeks.\n\nResidents were told to boil water."


def story(first_paragraph: str, *, head: str = "Headline here", tail: str = "") -> str:
    """Build a small plain-text story around a dateline paragraph."""
    return f"{head}\n\n{first_paragraph}\n\n{BODY}\n{tail}"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def jsonl(*records: object) -> str:
    return "".join(
        (record if isinstance(record, str) else json.dumps(record)) + "\n" for record in records
    )


# --- datelines -------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("BEIRUT -- The port reopened.", "Beirut"),
        ("NEW YORK -- The port reopened.", "New York"),
        ("WASHINGTON, D.C. -- The port reopened.", "Washington, D.C."),
        ("TRIPOLI, Lebanon -- The port reopened.", "Tripoli, Lebanon"),
        ("PARIS, Texas \u2014 The port reopened.", "Paris, Texas"),
        ("LIMA, Peru \u2013 The port reopened.", "Lima, Peru"),
        ("GENEVA\u2014The port reopened.", "Geneva"),
        ("KYIV, UKRAINE -- The port reopened.", "Kyiv, Ukraine"),
        ("PORTLAND, Ore. -- The port reopened.", "Portland, Ore."),
        ("PORT-AU-PRINCE, Haiti -- The port reopened.", "Port-au-Prince, Haiti"),
        ("RIO DE JANEIRO -- The port reopened.", "Rio de Janeiro"),
        ("DAR ES SALAAM -- The port reopened.", "Dar es Salaam"),
        ("ST. LOUIS -- The port reopened.", "St. Louis"),
        ("N'DJAMENA, Chad -- The port reopened.", "N'Djamena, Chad"),
        ("S\u00c3O PAULO -- The port reopened.", "S\u00e3o Paulo"),
        ("HONG KONG (Reuters) - The port reopened.", "Hong Kong"),
        ("BEIRUT (AP) \u2014 The port reopened.", "Beirut"),
        ("MEXICO CITY (AP) The port reopened.", "Mexico City"),
        ("The port reopened -- after a long wait.", None),
        ("NATO, the alliance -- said the port reopened.", None),
        ("COVID-19 -- The port reopened.", None),
    ],
)
def test_dateline_is_read_and_title_cased(paragraph: str, expected: str | None) -> None:
    article = parse_text(story(paragraph), source="s.txt")
    assert article.dateline == expected
    assert article.text.startswith(paragraph)


def test_dateline_paragraph_opens_text_as_written() -> None:
    article = parse_text(story("BEIRUT -- The port reopened on Sunday."))
    assert article.text[0:6] == "BEIRUT"
    assert article.text == "BEIRUT -- The port reopened on Sunday.\n\n" + BODY


@pytest.mark.parametrize(
    ("raw", "deck"),
    [
        ("Head\n\nA short deck line\n\nCAIRO -- Body.", "A short deck line"),
        ("Head\n\nDeck one\n\nDeck two\n\nCAIRO -- Body.", "Deck one Deck two"),
        ("Head\n\nCAIRO -- Body.\n\nMore body.", None),
        ("Head\n\nNo dateline at all here.\n\nMore body.", None),
    ],
)
def test_deck_is_what_precedes_the_dateline(raw: str, deck: str | None) -> None:
    article = parse_text(raw)
    assert article.headline == "Head"
    assert article.deck == deck
    if deck:  # the deck is read like body text: it opens the text the geoparser reads
        assert article.text == f"{deck}\n\nCAIRO -- Body."
        assert article.article_id == parse_text("Head\n\nCAIRO -- Body.").article_id


def test_record_deck_opens_the_text_and_keeps_the_id(tmp_path: Path) -> None:
    fields = {"headline": "Head", "text": "LYON -- Rain fell.", "deck": "Storms in the south"}
    feed = tmp_path / "x.jsonl"
    feed.write_text(json.dumps(fields) + "\n" + json.dumps({**fields, "deck": ""}) + "\n")
    with_deck, without = parse_file(feed)
    assert with_deck.text == "Storms in the south\n\nLYON -- Rain fell."
    assert with_deck.article_id == without.article_id


def test_story_without_dateline_keeps_every_paragraph() -> None:
    article = parse_text("Head\n\nFirst paragraph.\n\nSecond paragraph.\n")
    assert article.dateline is None
    assert article.text == "First paragraph.\n\nSecond paragraph."


def test_long_paragraph_before_a_dateline_is_body_not_deck() -> None:
    long = "An opening paragraph that runs on. " * 12
    article = parse_text(f"Head\n\n{long}\n\nCAIRO -- Later paragraph.")
    assert article.deck is None and article.dateline is None
    assert article.text.startswith("An opening paragraph")


# --- dates, footer and editorial lines --------------------------------------


@pytest.mark.parametrize(
    ("tail", "published"),
    [
        ("\nA Section on 11/20/2017\n", date(2017, 11, 20)),
        ("\nB Section on 9/3/2026\n", date(2026, 9, 3)),
        ("\nWorld Section on 10/07/2026\n\nUpcoming Events\nConcert | Fair", date(2026, 10, 7)),
        ("\nPublished 2017-11-20\n", date(2017, 11, 20)),
        ("\nUpdated: Nov. 20, 2017\n", date(2017, 11, 20)),
        ("\nNovember 20, 2017\n", date(2017, 11, 20)),
        ("\n20 November 2017\n", date(2017, 11, 20)),
        ("", None),
        ("\nThe end.\n", None),
    ],
)
def test_published_date(tail: str, published: date | None) -> None:
    article = parse_text(story("CAIRO -- Body.", tail=tail))
    assert article.published == published
    for word in ("Section", "Published", "Updated", "November", "Upcoming", "Concert"):
        assert word not in article.text


def test_date_line_before_the_dateline_is_not_a_deck() -> None:
    article = parse_text("Head\n\nPublished 2026-10-05\n\nCAIRO -- Body.")
    assert (article.deck, article.dateline, article.published) == (None, "Cairo", date(2026, 10, 5))


def test_footer_ends_the_story_and_drops_trailing_junk() -> None:
    raw = story("CAIRO -- Body.", tail="\nA Section on 11/20/2017\n\nUpcoming Events\nBook fair")
    article = parse_text(raw)
    assert article.text.endswith("Residents were told to boil water.")
    assert "Upcoming" not in article.text and "Book fair" not in article.text


def test_bracketed_editorial_line_is_dropped() -> None:
    raw = "Head\n\nCAIRO -- Body.\n\n[THE METRO: Timeline of the line]\n\nMore body."
    assert parse_text(raw).text == "CAIRO -- Body.\n\nMore body."


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeffHead\r\n\r\nCAIRO -- Body.\r\n\r\nMore body.\r\nA Section on 01/02/2026\r\n",
        "Head\r\rCAIRO -- Body.\r\rMore body.\rA Section on 01/02/2026",
        "\n\n  Head  \n\n  CAIRO -- Body.  \n\n\n\nMore body.\nA Section on 01/02/2026\n\n",
    ],
)
def test_line_ends_bom_and_blank_lines_are_normalised(raw: str) -> None:
    plain = parse_text("Head\n\nCAIRO -- Body.\n\nMore body.\n\nA Section on 01/02/2026")
    article = parse_text(raw)
    assert article == plain
    assert "\r" not in article.text and "\ufeff" not in article.headline


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Head\nCAIRO -- One.\nTwo.\nThree.", "CAIRO -- One.\n\nTwo.\n\nThree."),
        ("Head\n\nCAIRO -- One wrapped\nline.\n\nTwo.", "CAIRO -- One wrapped line.\n\nTwo."),
    ],
)
def test_paragraph_layouts(raw: str, text: str) -> None:
    assert parse_text(raw).text == text


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty story"),
        ("   \n\n", "empty story"),
        ("Only a headline\n", "no body text"),
        ("Headline\n\nA Section on 11/20/2017\n\nUpcoming Events", "no body text"),
        ("Headline\n\n[EDITOR: a bracketed note]\n", "no body text"),
    ],
)
def test_story_without_body_is_an_error_naming_the_source(raw: str, fragment: str) -> None:
    with pytest.raises(ArticleParseError, match=fragment) as info:
        parse_text(raw, source="inbox/story.txt")
    assert str(info.value).startswith("inbox/story.txt: ")


# --- identity ---------------------------------------------------------------


def test_content_id_is_a_short_sha256_of_headline_and_text() -> None:
    expected = hashlib.sha256(b"Head\nBody").hexdigest()[:16]
    assert content_id("Head", "Body") == expected
    assert content_id("Head", "Body!") != expected


def test_reingesting_a_story_gives_the_same_record(tmp_path: Path) -> None:
    raw = story("CAIRO -- Body.", tail="\nA Section on 11/20/2017\n")
    path = write(tmp_path, "a.txt", raw)
    first, second = parse_file(path), parse_file(path)
    assert first == second
    assert first[0].article_id == content_id(first[0].headline, first[0].text)
    assert first[0].url is None and first[0].source == str(path)


def test_same_story_in_a_feed_gets_the_same_id(tmp_path: Path) -> None:
    from_txt = parse_text("Head\n\nCAIRO -- Body.\n\nMore body.")
    feed = write(tmp_path, "f.jsonl", jsonl({"title": "Head", "text": from_txt.text}))
    assert parse_file(feed)[0].article_id == from_txt.article_id


# --- JSON Lines and CSV -----------------------------------------------------


@pytest.mark.parametrize(
    ("record", "headline", "published", "url"),
    [
        ({"headline": "H", "text": ROME, "date": "2026-09-14"}, "H", date(2026, 9, 14), None),
        ({"title": "H", "body": ROME, "published": "09/14/2026"}, "H", date(2026, 9, 14), None),
        ({"Title": "H", "Text": ROME, "URL": "https://x.test/a"}, "H", None, "https://x.test/a"),
        ({"id": "a-1", "title": " H ", "text": ROME, "date": None}, "H", None, None),
        ({"text": ROME + "\nSecond line.", "date": ""}, ROME, None, None),
    ],
)
def test_jsonl_field_aliases(
    tmp_path: Path, record: dict, headline: str, published: date | None, url: str | None
) -> None:
    (article,) = parse_file(write(tmp_path, "feed.jsonl", jsonl(record)))
    assert (article.headline, article.published, article.url) == (headline, published, url)
    assert article.dateline == "Rome"
    assert article.text == (record.get("text") or record.get("Text") or record.get("body"))
    assert article.source == f"{tmp_path / 'feed.jsonl'}:1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-11-20", date(2017, 11, 20)),
        ("2017-11-20 10:15:00", date(2017, 11, 20)),
        ("2017-11-20T10:15:00Z", date(2017, 11, 20)),
        ("2009-03-20 12:24:52.002364-05", date(2009, 3, 20)),
        ("11/20/2017", date(2017, 11, 20)),
        ("Mon, 20 Nov 2017 10:15:00 +0000", date(2017, 11, 20)),
        ("November 20, 2017", date(2017, 11, 20)),
        ("Sept. 3, 2026", date(2026, 9, 3)),
    ],
)
def test_feed_date_formats(tmp_path: Path, value: str, expected: date) -> None:
    feed = write(tmp_path, "f.jsonl", jsonl({"title": "H", "text": "Body.", "date": value}))
    assert parse_file(feed)[0].published == expected


def test_feed_text_is_kept_verbatim(tmp_path: Path) -> None:
    text = "  BEIRUT (AP) \ufffd A story\r\nwith odd bytes kept.  "
    (article,) = parse_file(write(tmp_path, "f.jsonl", jsonl({"text": text})))
    assert article.text == text and article.dateline == "Beirut"


def test_csv_aliases_quoted_newlines_and_row_lines(tmp_path: Path) -> None:
    content = (
        "\ufeffURL, Title ,Body,Published\r\n"
        'https://x.test/1,First,"OSLO -- One.\r\n\r\nTwo.",2026-11-03\r\n'
        "\r\n"
        "https://x.test/2,Second,RABAT -- Three.,08/24/2026\r\n"
    )
    path = write(tmp_path, "feed.csv", content)
    first, second = parse_file(path)
    assert (first.headline, first.dateline, first.url) == ("First", "Oslo", "https://x.test/1")
    assert first.text == "OSLO -- One.\r\n\r\nTwo." and first.published == date(2026, 11, 3)
    assert (second.dateline, second.published) == ("Rabat", date(2026, 8, 24))
    assert (first.source, second.source) == (f"{path}:2", f"{path}:6")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('{"title": "H", "text": "Body."', "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"title": "H"}', "no 'text' or 'body' field"),
        ('{"title": "H", "text": "   "}', "text is empty"),
        ('{"title": 7, "text": "Body."}', "'title' should be a string"),
        ('{"text": "Body.", "date": "soon"}', "date 'soon' not recognised"),
        ('{"text": "Body.", "date": "02/30/2026"}', "not recognised"),
    ],
)
def test_bad_jsonl_line_is_reported_and_the_rest_land(
    tmp_path: Path, line: str, fragment: str
) -> None:
    good = {"title": "Good", "text": "ROME -- Fine."}
    path = write(tmp_path, "feed.jsonl", jsonl(good, "", line, {**good, "title": "Also good"}))
    items = list(iter_articles([path]))
    assert [type(item) for item in items] == [Article, ArticleParseError, Article]
    message = str(items[1])
    assert message.startswith(f"{path} line 3: ") and fragment in message
    assert "\n" not in message
    with pytest.raises(ArticleParseError, match="line 3"):
        parse_file(path)


def test_csv_without_text_column_names_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "feed.csv", "title,date\nH,2026-01-01\n")
    with pytest.raises(ArticleParseError, match=r"no 'text' or 'body' column .*title, date"):
        parse_file(path)


def test_bad_csv_row_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "feed.csv", "title,text,date\nA,OSLO -- One.,\nB,,\nC,Two.,bad\n")
    items = list(iter_articles([path]))
    assert [type(item) for item in items] == [Article, ArticleParseError, ArticleParseError]
    assert str(items[1]).startswith(f"{path} line 3: ")
    assert str(items[2]).startswith(f"{path} line 4: date 'bad'")


# --- files that cannot be read ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("story.doc", "Head\n\nCAIRO -- Body.", "unknown format '.doc' (expected one of .txt,"),
        ("story", "Head\n\nCAIRO -- Body.", "unknown format"),
        ("story.txt", b"Head\n\nCAIRO \xff\xfe -- Body.", "line 3: not valid UTF-8"),
        ("feed.jsonl", b'{"text": "ok"}\n{"text": "\xc3("}\n', "line 2: not valid UTF-8"),
        ("feed.csv", b"text\n\x89PNG\r\n", "not valid UTF-8"),
        ("story.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("story.txt", "", "empty file"),
        ("feed.jsonl", "\n\n", "empty file"),
        ("feed.csv", "", "empty file"),
    ],
)
def test_unreadable_file_is_an_error_naming_it(
    tmp_path: Path, name: str, content: str | bytes, fragment: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(ArticleParseError) as info:
        parse_file(path)
    assert str(info.value).startswith(str(path)) and fragment in str(info.value)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    (error,) = iter_articles([tmp_path / "nope.txt"])
    assert isinstance(error, ArticleParseError) and "no such file" in str(error)


# --- folders ----------------------------------------------------------------


def test_folder_expansion_is_sorted_recursive_and_skips_others(tmp_path: Path) -> None:
    good = "Head {}\n\nCAIRO -- Body {}."
    write(tmp_path, "b.txt", good.format("b", "b"))
    write(tmp_path, "a/z.txt", good.format("z", "z"))
    write(tmp_path, "a/feed.jsonl", jsonl({"title": "j", "text": "ROME -- J."}))
    write(tmp_path, "c.csv", "title,text\nc,OSLO -- C.\n")
    write(tmp_path, "README.txt", "Not a story")
    write(tmp_path, ".hidden.txt", good.format("h", "h"))
    write(tmp_path, ".git/x.txt", good.format("g", "g"))
    write(tmp_path, "notes.md", "# notes")
    write(tmp_path, "broken.txt", b"\xff\xfe\x00")
    items = list(iter_articles([tmp_path]))
    headlines = [getattr(item, "headline", None) for item in items]
    assert headlines == ["j", "Head z", "Head b", None, "c", None]
    assert isinstance(items[3], ArticleParseError) and "broken.txt" in str(items[3])
    # a file of another type is not read, but it is named (hidden files and READMEs are not)
    assert str(items[5]) == (
        f"{tmp_path / 'notes.md'}: unknown format '.md' (expected one of "
        ".txt, .jsonl, .csv, .rss, .atom, .xml, .html, .htm, .json, .docx, .pdf); skipped"
    )


def test_explicit_files_and_folders_mix(tmp_path: Path) -> None:
    one = write(tmp_path, "x/one.txt", "One\n\nCAIRO -- Body.")
    odd = write(tmp_path, "odd.md", "# not a story")
    items = list(iter_articles([odd, tmp_path / "x", one]))
    assert isinstance(items[0], ArticleParseError)
    assert [item.headline for item in items[1:]] == ["One", "One"]


def test_fixture_articles_parse() -> None:
    items = list(iter_articles([FIXTURES]))
    assert items and all(isinstance(item, Article) for item in items), items
    by_line = {item.dateline for item in items}
    assert {"Homs, Syria", "Paris, Texas", "Geneva", "Tbilisi, Georgia", "Cairo"} <= by_line


# --- the sample articles in data/ -------------------------------------------


def test_every_sample_article_parses_with_dateline_and_body() -> None:
    items = list(iter_articles([DATA]))
    errors = [str(item) for item in items if isinstance(item, ArticleParseError)]
    assert not errors
    for article in items:
        assert article.dateline, article.source
        place = article.dateline.split(",")[0].upper()
        body = article.text.removeprefix(f"{article.deck}\n\n") if article.deck else article.text
        assert body.upper().startswith(place), article.source
        assert len(article.text.split("\n\n")) >= 2, article.source
        assert 120 <= len(article.text.split()) <= 450, article.source


def test_sample_articles_cover_enough_stories_and_months() -> None:
    stories = [parse_file(path)[0] for path in sorted(DATA.glob("*.txt"))]
    months = {(a.published.year, a.published.month) for a in stories if a.published}
    assert len(stories) >= 30
    assert len(months) >= 3
    assert any(a.published is None for a in stories)
    assert len({a.article_id for a in stories}) == len(stories)


@pytest.mark.parametrize(
    "dateline",
    [
        "Paris",
        "Paris, Texas",
        "Tripoli",
        "Tripoli, Lebanon",
        "Tbilisi, Georgia",
        "Atlanta",
        "Alexandria, Va.",
        "Alexandria, Egypt",
        "Cambridge, Mass.",
        "Cambridge, England",
        "Damascus, Syria",
        "Geneva",
        "Springfield, Ill.",
        "Portland, Ore.",
        "Portland, Maine",
        "London",
        "London, Ontario",
    ],
)
def test_sample_articles_include_ambiguous_places(dateline: str) -> None:
    datelines = {parse_file(path)[0].dateline for path in DATA.glob("*.txt")}
    assert dateline in datelines


# --- shared corpora (skipped when absent) ------------------------------------


def test_seed_article() -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    if not seeds:
        pytest.skip(f"no seed articles in {SEEDS}")
    (article,) = parse_file(seeds[0])
    assert article.headline == "ISIS stronghold in Syrian hands"
    assert article.deck and article.deck.startswith("Clashes between government")
    assert article.dateline == "Beirut"
    assert article.published == date(2017, 11, 20)
    assert article.text.startswith(f"{article.deck}\n\nBEIRUT -- ")
    assert "Section on" not in article.text and "Upcoming Events" not in article.text
    assert "[THE ISLAMIC STATE" not in article.text


def test_eval_feed_text_stays_offset_exact() -> None:
    path = EVAL / "geowebnews.jsonl"
    if not path.exists():
        pytest.skip(f"evaluation corpus not present at {path}")
    originals = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    articles = parse_file(path)
    assert [a.text for a in articles] == originals
