"""Every story format read by its library: feeds, pages, ninjs, NewsML-G2, .docx, .pdf.

Fixture documents are written here (`format_samples`); feeds and pages are served from a
local HTTP server on 127.0.0.1 (`feed_server`), and `mapapp ingest URL` runs end to end.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from feed_server import serving_site
from format_samples import (
    BILLION_LAUGHS,
    BRIDGE_TEXT,
    EXTERNAL_ENTITY,
    FLOOD_TEXT,
    HOSTILE_FEED,
    MARKET_TEXT,
    NEWSML_MESSAGE,
    NEWSML_NITF,
    NINJS_1,
    NINJS_2,
    PORT_TEXT,
    article_page,
    atom_feed,
    docx_bytes,
    pdf_bytes,
    rss_feed,
)
from helpers import AMBIENT

from mapapp import geoparsing
from mapapp.articles import iter_articles, read_document
from mapapp.articles.html import html_to_text
from mapapp.articles.sniff import kind_of
from mapapp.articles.sourced import identified_id
from mapapp.cli import cli
from mapapp.errors import ArticleParseError
from mapapp.ingest.fetch import Fetcher, user_agent
from mapapp.records import Article
from mapapp.settings import load_settings
from mapapp.stores import open_store

pytest_plugins = ["geo_fixtures"]


def read(
    data: str | bytes, where: str = "sample", **kind: str
) -> list[Article | ArticleParseError]:
    """What mapapp reads from one document."""
    raw = data.encode() if isinstance(data, str) else data
    return list(read_document(raw, where=where, **kind))


def only_article(items: list) -> Article:
    """The one article of ``items`` (fails showing the errors when there is not exactly one)."""
    articles = [i for i in items if isinstance(i, Article)]
    assert len(articles) == 1, items
    return articles[0]


def one_line_error(items: list) -> str:
    """The message of the one error among ``items``; it fits on one line."""
    errors = [str(i) for i in items if isinstance(i, ArticleParseError)]
    assert len(errors) == 1, items
    assert "\n" not in errors[0]
    return errors[0]


# ------------------------------------------------------------------ HTML to text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One <b>bold</b>\nword.</p><p>Two</p>", "One bold word.\n\nTwo"),
        ("<div>A<br>B</div>", "A\n\nB"),
        ("<p>x</p><script>var a = '<p>no</p>';</script><style>p {}</style><p>y</p>", "x\n\ny"),
        ("<ul><li>first</li><li>second</li></ul>", "first\n\nsecond"),
        ("Caf&eacute; &amp; bar <!-- hidden -->open", "Café & bar open"),
        ("", ""),
    ],
)
def test_html_bodies_become_paragraphs_without_scripts(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("data", "content_type", "kind"),
    [
        (b'<?xml version="1.0"?><rss version="2.0"/>', "text/xml", "feed"),
        (b"<!-- c --><feed xmlns='http://www.w3.org/2005/Atom'/>", "", "feed"),
        (b"<rdf:RDF xmlns:rdf='x'/>", "application/xml", "feed"),
        (b"<newsItem/>", "application/xml", "newsml"),
        (b"<nar:newsMessage xmlns:nar='x'/>", "", "newsml"),
        (b"<html><body>x</body></html>", "application/rss+xml", "feed"),
        (b'{"uri": "x"}', "application/json", "ninjs"),
        (b"%PDF-1.4 ...", "", "pdf"),
        (b"PK\x03\x04...", "application/octet-stream", "docx"),
        (b"<!DOCTYPE html><html></html>", "text/html", "page"),
    ],
)
def test_documents_are_told_apart(data: bytes, content_type: str, kind: str) -> None:
    assert kind_of(data, content_type) == kind


# ------------------------------------------------------------------ each format


def test_rss_entry_full_text_from_content_encoded() -> None:
    items = read(rss_feed("http://news.test"), kind="feed")
    story = only_article(items)
    assert story.headline == "Floods close the road to Damascus"
    assert story.text == "\n\n".join(FLOOD_TEXT)  # the script is gone, paragraphs kept
    assert story.published == date(2026, 9, 2)
    assert story.byline == "Rana Haddad"
    assert story.dateline == "Homs, Syria"
    assert story.url == "http://news.test/stories/flood"
    assert story.article_id == identified_id("courier-2026-0902-flood")
    # the teaser-only entry needs its link fetched: from a file it is reported, not guessed
    assert "only a teaser" in one_line_error(items) and "skipped" in one_line_error(items)


def test_relative_entry_links_resolve_against_the_feed_url() -> None:
    from mapapp.articles.feeds import parse_feed

    feed = rss_feed("").replace("<link>/stories/", "<link>stories/").encode()
    entries = parse_feed(feed, where="feed", base="http://news.test/region/feed.xml")
    assert [e.link for e in entries] == [
        "http://news.test/region/stories/flood",
        "http://news.test/region/stories/port",
    ]


def test_atom_entry() -> None:
    story = only_article(read(atom_feed("http://wire.test"), kind="feed"))
    assert (story.headline, story.byline) == ("Mosul bridge reopens", "Omar Aziz")
    assert story.text == "\n\n".join(BRIDGE_TEXT)
    assert story.published == date(2026, 9, 3)
    assert story.article_id == identified_id("urn:tigris-wire:2026:bridge")


def test_article_page_main_text_without_boilerplate() -> None:
    page = article_page("Floods close the road", FLOOD_TEXT, author="Rana Haddad", day="2026-09-02")
    story = only_article(read(page, where="http://news.test/flood", url="http://news.test/flood"))
    assert story.headline == "Floods close the road"
    assert story.text == "\n\n".join(FLOOD_TEXT)
    for boilerplate in ("Subscribe", "Copyright", "Home", "tracker", "color"):
        assert boilerplate not in story.text
    assert story.published == date(2026, 9, 2)
    assert story.byline == "Rana Haddad"
    assert story.article_id == identified_id("http://news.test/flood")


def test_a_page_without_an_article_is_skipped() -> None:
    message = one_line_error(read("<html><body><nav>Home</nav></body></html>", kind="page"))
    assert message.startswith("sample: no article text found")


@pytest.mark.parametrize(
    ("item", "headline", "text", "published", "dateline", "byline"),
    [
        (NINJS_1, NINJS_1["headline"], MARKET_TEXT, date(2026, 9, 6), "Aleppo", "Lina Saleh"),
        (
            NINJS_2,
            "Mosul's old bridge reopens after two years",
            BRIDGE_TEXT,
            date(2026, 9, 3),
            "Mosul",
            "Omar Aziz",
        ),
    ],
    ids=["ninjs-1.x", "ninjs-2.x"],
)
def test_ninjs(item, headline, text, published, dateline, byline) -> None:
    story = only_article(read(json.dumps(item), kind="ninjs"))
    assert story.headline == headline
    assert story.text == "\n\n".join(text)
    assert (story.published, story.dateline, story.byline) == (published, dateline, byline)
    assert story.article_id == identified_id(item["uri"])


def test_ninjs_guid_and_lists_and_bad_items() -> None:
    items = read(
        json.dumps(
            [
                {"guid": "urn:old:1", "headline": "Old", "body_text": "\n\n".join(PORT_TEXT)},
                {"uri": "urn:x", "headline": "No body"},
                ["not", "an", "object"],
            ]
        ),
        where="wire.json",
        kind="ninjs",
    )
    assert only_article(items).article_id == identified_id("urn:old:1")
    errors = [str(i) for i in items if isinstance(i, ArticleParseError)]
    assert errors == [
        "wire.json item 2: no body ('body_text', 'body_html' or 'bodies'); nothing to geoparse",
        "wire.json item 3: expected a ninjs object, got list",
    ]


def test_newsml_g2_with_nitf_body() -> None:
    story = only_article(read(NEWSML_NITF, kind="newsml"))
    assert story.headline == "Gales shut Latakia port for a third day"
    assert story.text == "\n\n".join(PORT_TEXT)  # hedline and tagline left out
    assert story.published == date(2026, 8, 31)  # contentCreated before versionCreated
    assert story.dateline == "LATAKIA, Syria"
    assert story.byline == "Samir Khoury"
    assert story.article_id == identified_id("urn:newsml:example.org:20260831:port")


def test_newsml_message_with_xhtml_body_and_an_empty_item() -> None:
    items = read(NEWSML_MESSAGE, where="message.xml", kind="newsml")
    story = only_article(items)
    assert story.headline == "Market section reopens in Aleppo"
    assert story.text == "\n\n".join(MARKET_TEXT)  # the XHTML <title> is not body
    assert (story.published, story.dateline, story.byline) == (
        date(2026, 9, 6),
        "Aleppo",
        "Lina Saleh",
    )
    assert one_line_error(items).startswith("message.xml item 2: no body text")


@pytest.mark.parametrize(
    ("document", "kind", "says"),
    [
        (BILLION_LAUGHS, "newsml", "refused: the XML declares a DTD"),
        (EXTERNAL_ENTITY, "newsml", "refused: the XML declares a DTD"),
        (HOSTILE_FEED, "feed", "refused: the XML declares an entity ('secret')"),
        (BILLION_LAUGHS.replace("newsItem", "rss"), "feed", "refused: the XML declares an entity"),
        ("<newsItem guid='x'><unclosed></newsItem>", "newsml", "not well-formed XML"),
    ],
    ids=["billion-laughs", "external-entity", "feed-external-entity", "feed-laughs", "broken"],
)
def test_hostile_xml_is_refused_in_one_line(document: str, kind: str, says: str) -> None:
    items = read(document, where="hostile.xml", kind=kind)
    assert not [i for i in items if isinstance(i, Article)]
    message = one_line_error(items)
    assert message.startswith("hostile.xml: ") and says in message, message
    assert "root:" not in message  # nothing of /etc/passwd


def test_docx_title_body_and_created_date() -> None:
    for title_style in (True, False):
        story = only_article(read(docx_bytes(title_style=title_style), kind="docx"))
        assert story.headline == "Floods close the road to Damascus"
        assert story.text == "\n\n".join(FLOOD_TEXT)
        assert story.published == date(2026, 9, 2)
        assert story.dateline == "Homs, Syria"


def test_pdf_text_layer() -> None:
    story = only_article(read(pdf_bytes(), kind="pdf"))
    assert story.headline == "Mosul bridge reopens"
    assert story.text == "\n\n".join(BRIDGE_TEXT)
    assert story.published == date(2026, 9, 3)


@pytest.mark.parametrize(
    ("layer", "paragraphs"),
    [
        ("One line\nwraps here.\nNext one.", ["One line wraps here.", "Next one."]),
        ("A word recon-\nstructed.", ["A word reconstructed."]),
        ("Keeps a dash -\nApart", ["Keeps a dash - Apart"]),
        ("First\n\nSecond\nstill", ["First", "Second still"]),
        ('He said "yes."\nThen', ['He said "yes."', "Then"]),
    ],
)
def test_pdf_lines_become_paragraphs(layer: str, paragraphs: list[str]) -> None:
    from mapapp.articles.documents import pdf_paragraphs

    assert pdf_paragraphs(layer) == paragraphs


@pytest.mark.parametrize(
    ("data", "kind", "says"),
    [
        (pdf_bytes(text=False), "pdf", "no text layer in this PDF"),
        (b"%PDF-1.4 truncated", "pdf", "not a readable PDF"),
        (b"PK\x03\x04 not really a zip", "docx", "not a Word .docx document"),
    ],
    ids=["pdf-without-text", "broken-pdf", "broken-docx"],
)
def test_unreadable_documents_say_why(data: bytes, kind: str, says: str) -> None:
    assert says in one_line_error(read(data, where="doc", kind=kind))


def test_files_of_every_format_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "wire.xml").write_text(NEWSML_NITF, encoding="utf-8")
    (tmp_path / "feed.rss").write_text(atom_feed("http://wire.test"), encoding="utf-8")
    (tmp_path / "market.json").write_text(json.dumps(NINJS_1), encoding="utf-8")
    (tmp_path / "flood.docx").write_bytes(docx_bytes())
    (tmp_path / "bridge.pdf").write_bytes(pdf_bytes())
    (tmp_path / "scan.pdf").write_bytes(pdf_bytes(text=False))
    (tmp_path / "page.html").write_text(
        article_page("Market reopens", MARKET_TEXT, author="L. Saleh", day="2026-09-06"),
        encoding="utf-8",
    )
    (tmp_path / "other.xml").write_text("<svg/>", encoding="utf-8")
    items = list(iter_articles([tmp_path]))
    headlines = sorted(i.headline for i in items if isinstance(i, Article))
    assert headlines == [
        "Aleppo's covered market reopens a section",
        "Floods close the road to Damascus",
        "Gales shut Latakia port for a third day",
        "Market reopens",
        "Mosul bridge reopens",
        "Mosul bridge reopens",
    ]
    errors = sorted(str(i) for i in items if isinstance(i, ArticleParseError))
    assert [e.split(": ", 1)[0] for e in errors] == [
        str(tmp_path / "other.xml"),
        str(tmp_path / "scan.pdf"),
    ]
    # a saved page has a content id: the same page saved twice is the same story
    page = [i for i in items if isinstance(i, Article) and i.headline == "Market reopens"][0]
    assert page.url is None and page.article_id != identified_id(str(tmp_path / "page.html"))


# ------------------------------------------------------------------ fetching


def fetch_settings(**extra: object):
    """Settings for fetching from the local server: no delay unless asked."""
    return load_settings({"FETCH_MIN_DELAY": 0, **extra}, environ={})


def test_fetcher_sends_user_agent_and_validators_and_reads_304() -> None:
    fetcher = Fetcher(fetch_settings(FETCH_CONTACT="desk@example.org"))
    with serving_site() as site:
        url = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        first = fetcher.get(url)
        again = fetcher.get(url, first.validators)
    assert first.status == 200 and first.validators.etag == '"feed.xml-v1"'
    assert again.not_modified and again.body == b"" and again.validators == first.validators
    sent = site.requested("/feed.xml")
    assert [h.get("user-agent") for h in sent] == [user_agent("desk@example.org")] * 2
    assert user_agent("desk@example.org").startswith(
        "mapapp/"
    ) and "(+desk@example.org)" in user_agent("desk@example.org")
    assert "if-none-match" not in sent[0]
    assert sent[1]["if-none-match"] == '"feed.xml-v1"'
    assert sent[1]["if-modified-since"] == first.validators.last_modified


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "only http:// and https:// URLs"),
        ("ftp://example.org/x", "only http:// and https:// URLs"),
        ("/missing", "the server answered 404"),
        ("/big", "more than MAPAPP_FETCH_MAX_BYTES"),
        ("/sneaky", "Redirection to url .file:///etc/passwd. is not allowed"),
    ],
)
def test_fetch_failures_are_one_line(url: str, says: str) -> None:
    fetcher = Fetcher(fetch_settings(FETCH_MAX_BYTES=1000))
    with serving_site() as site:
        site.put("/big", "x" * 5000, "text/html")
        site.redirects["/sneaky"] = "file:///etc/passwd"
        with pytest.raises(ArticleParseError, match=says) as caught:
            fetcher.get(site.base + url if url.startswith("/") else url)
    assert "\n" not in str(caught.value)


def test_requests_to_one_host_are_spaced() -> None:
    fetcher = Fetcher(fetch_settings(FETCH_MIN_DELAY=2))
    now = [100.0]
    slept: list[float] = []
    fetcher._clock = lambda: now[0]  # type: ignore[method-assign]
    fetcher._sleep = lambda s: (slept.append(s), now.__setitem__(0, now[0] + s))  # type: ignore[method-assign]
    with serving_site() as site:
        url = site.put("/a", "x", "text/plain")
        fetcher.get(url)
        now[0] += 0.5
        fetcher.get(url)
        now[0] += 5
        fetcher.get(url)
    assert slept == [1.5]


# ------------------------------------------------------------------ mapapp ingest URL


@pytest.fixture(scope="module")
def runner(gazetteer, gazetteer_cache: Path):
    """A CliRunner whose geoparser reuses the session's gazetteer (no spaCy: faster)."""
    env = {name: None for name in AMBIENT} | {
        "MAPAPP_CACHE_DIR": str(gazetteer_cache),
        "MAPAPP_NER_MODEL": "none",
        "MAPAPP_FETCH_MIN_DELAY": "0",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(geoparsing, "load_gazetteer", functools.partial(lambda *a: gazetteer))
        yield CliRunner(env=env)


def test_ingest_urls_and_files_end_to_end(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "news.gpkg"
    docx_file = tmp_path / "flood.docx"
    docx_file.write_bytes(docx_bytes())
    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml; charset=utf-8")
        site.put(
            "/stories/port",
            article_page("Gales shut port", PORT_TEXT, author="Samir Khoury", day="2026-08-31"),
            "text/html",
        )
        atom = site.put("/atom", atom_feed(site.base), "application/xml")
        newsml = site.put("/wire/port.xml", NEWSML_NITF, "application/vnd.iptc.g2.newsitem+xml")
        ninjs = site.put("/wire/market.json", json.dumps(NINJS_1), "application/json")
        page = site.put(
            "/opinion/market",
            article_page(
                "Why the market matters", MARKET_TEXT, author="L. Saleh", day="2026-09-07"
            ),
            "text/html; charset=utf-8",
        )
        args = ["ingest", feed, atom, newsml, ninjs, page, str(docx_file), "--store", str(store)]
        first = runner.invoke(cli, [*args, "--quiet"])
        assert first.exit_code == 0, first.output
        assert "7 new articles" in first.stdout, first.output
        stored = open_store(store).articles().set_index("headline")
        # the teaser entry's link was followed; its feed fields win over the page's
        port = stored.loc["Gales shut Latakia port"]
        assert port["url"] == site.base + "/stories/port"
        assert "Fishermen in Jableh" in open_store(store).article(port["article_id"])["text"]
        assert stored.loc["Why the market matters", "url"] == page
        assert len(open_store(store).mentions()) > 0

        feed_fetches = len(site.requested("/feed.xml"))
        second = runner.invoke(cli, [*args, "--quiet"])
        assert second.exit_code == 0, second.output
        # the two feeds answer 304 (said in a note); the other four are already stored
        assert "0 new articles" in second.stdout and "4 already stored" in second.stdout
        assert second.stderr.count("not modified since it was last read") == 2
        # the feed was asked conditionally and answered 304; the linked page not fetched again
        conditional = site.requested("/feed.xml")[feed_fetches:]
        assert conditional and conditional[0]["if-none-match"] == '"feed.xml-v1"'
        assert len(site.requested("/stories/port")) == 1
        assert len(site.requested("/opinion/market")) == 1  # a stored page is not fetched
    assert len(open_store(store).articles()) == 7


def test_ingest_url_that_fails_is_skipped_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "news.gpkg"
    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        # /stories/port is missing: that entry is skipped, the other lands
        result = runner.invoke(
            cli, ["ingest", feed, site.base + "/gone", "--store", str(store), "--quiet"]
        )
    assert result.exit_code == 2, result.output
    assert "1 new articles" in result.stdout
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 2, result.stderr
    assert any("/stories/port: the server answered 404" in line for line in skipped)
    assert any("/gone: the server answered 404" in line for line in skipped)


def test_ingest_one_feed_twice(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "news.gpkg"
    with serving_site() as site:
        feed = site.put("/atom", atom_feed(site.base), "application/atom+xml")
        first = runner.invoke(cli, ["ingest", feed, "--store", str(store), "--quiet"])
        assert first.exit_code == 0 and "1 new articles" in first.stdout, first.output
        second = runner.invoke(cli, ["ingest", feed, "--store", str(store), "--quiet"])
    # the 304 is not "no story found": the feed has nothing new, and that is said
    assert second.exit_code == 0, second.output
    assert "0 new articles" in second.stdout
    assert f"note: {feed}: not modified since it was last read (nothing new)" in second.stderr


def test_ingest_refuses_hostile_xml_files_in_one_line_each(
    runner: CliRunner, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "laughs.xml").write_text(BILLION_LAUGHS, encoding="utf-8")
    (inbox / "xxe.xml").write_text(EXTERNAL_ENTITY, encoding="utf-8")
    (inbox / "port.xml").write_text(NEWSML_NITF, encoding="utf-8")
    result = runner.invoke(
        cli, ["ingest", str(inbox), "--store", str(tmp_path / "s.gpkg"), "--quiet"]
    )
    assert result.exit_code == 2, result.output
    assert "1 new articles" in result.stdout and "2 errors" in result.stdout
    skipped = sorted(line for line in result.stderr.splitlines() if line.startswith("skipped:"))
    assert skipped == [
        f"skipped: {inbox / name}: refused: the XML declares a DTD (newsItem), which mapapp "
        "does not read (entity expansion, external fetches)"
        for name in ("laughs.xml", "xxe.xml")
    ]
