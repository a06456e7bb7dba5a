"""Read news stories from files into :class:`~mapapp.records.Article` records.

Three formats are accepted:

* ``.txt``: one story in the plain newspaper layout: a headline line, an
  optional deck, a dateline paragraph that opens with an ALL-CAPS place and a
  dash (``BEIRUT -- ...``), the body, and a footer such as
  ``A Section on 11/20/2017`` that gives the date and ends the story.
* ``.jsonl``: one JSON object per line.
* ``.csv``: a header row, then one story per row.

and, each read by a registry library made for it (one module per family):

* ``.rss``/``.atom`` and ``.xml`` feeds (`feeds`, feedparser), ``.html`` pages
  (`webpages`, trafilatura), ``.json`` IPTC ninjs (`ninjs`), ``.xml`` NewsML-G2
  (`newsml`, defusedxml), ``.docx`` and text-layer ``.pdf`` (`documents`,
  python-docx and pypdf).  An ``.xml`` file is a feed or NewsML-G2 by its root.
  Formats that carry an identifier (a guid, a uri, a URL) take their id from it.

Feed records name their fields ``text``/``body``, ``headline``/``title``,
``date``/``published`` and ``url``.  Their text is kept verbatim, so offsets
that come with a feed stay valid.  Every article's id is a hash of its
content, so ingesting the same story twice gives the same record.

``files`` finds and reads the files, ``layout`` takes a .txt story apart,
``feed`` reads a record's fields and ``dates`` the dates of both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mapapp.articles.dates import DATE_FORMATS, parse_date
from mapapp.articles.feed import field, headline_from
from mapapp.articles.files import (
    FeedRecord,
    expand,
    file_kind,
    read_csv,
    read_jsonl,
    read_text,
    shown,
)
from mapapp.articles.layout import (
    clean_paragraphs,
    cut_footer,
    find_dateline,
    normalise,
    split_deck,
    split_paragraphs,
)
from mapapp.errors import ArticleParseError
from mapapp.records import Article

SUFFIXES = (".txt", ".jsonl", ".csv")
#: The formats read from bytes by a library (feeds, pages, ninjs, NewsML-G2, Word, PDF).
BINARY_SUFFIXES = (".rss", ".atom", ".xml", ".html", ".htm", ".json", ".docx", ".pdf")
ALL_SUFFIXES = SUFFIXES + BINARY_SUFFIXES

# The longest story accepted.  Real ones run to tens of thousands of characters; a
# bigger "story" is a mis-export (a whole feed in one field), and geoparsing time grows
# faster than its length, so it is refused with a message instead of stalling a batch.
MAX_ARTICLE_CHARS = 500_000


def content_id(headline: str, text: str) -> str:
    """Return the story's stable id (a content hash), so re-ingesting is idempotent."""
    digest = hashlib.sha256(f"{headline}\n{text}".encode())
    return digest.hexdigest()[:16]


def parse_text(raw: str, *, source: str = "") -> Article:
    """Parse one plain-text story (headline, deck, dateline, body, footer) into an Article."""
    label = source or "<text>"
    lines = normalise(raw).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ArticleParseError(f"{label}: empty story (expected a headline line, then the story)")
    headline = lines[0].strip()
    body_lines, published = cut_footer(lines[1:])
    paragraphs, line_date = clean_paragraphs(split_paragraphs(body_lines))
    deck, dateline, body = split_deck(paragraphs)
    if not body:
        raise ArticleParseError(
            f"{label}: no body text (expected paragraphs after the headline, "
            "starting with a 'CITY -- ' dateline)"
        )
    text = with_deck(deck, "\n\n".join(body))
    _check_length(text, label)
    return Article(
        article_id=content_id(headline, "\n\n".join(body)),
        headline=headline,
        text=text,
        published=published or line_date,
        dateline=dateline,
        deck=deck,
        url=None,
        source=source,
    )


def parse_file(path: Path) -> list[Article]:
    """Read every story in a .txt, .jsonl or .csv file; raise on the first bad one."""
    articles = []
    for item in _read_file(Path(path)):
        if isinstance(item, ArticleParseError):
            raise item
        articles.append(item)
    return articles


def iter_articles(paths: Iterable[Path]) -> Iterator[Article | ArticleParseError]:
    """Yield the stories in files and folders, and an error per bad file or record.

    Errors are yielded, not raised, so one bad input does not stop a batch.
    """
    for path in expand(paths, ALL_SUFFIXES):
        if isinstance(path, ArticleParseError):
            yield path
        else:
            yield from _read_file(path)


# --- files -----------------------------------------------------------------


def _read_file(path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield the articles of one file, or errors for it or its bad records."""
    reader = _READERS.get(path.suffix.lower())
    kind = file_kind(path)
    if kind is not None:
        yield ArticleParseError(f"{path}: {kind}")
    elif path.suffix.lower() in BINARY_SUFFIXES:
        yield from _read_binary(path)
    elif reader is None:
        yield ArticleParseError(
            f"{path}: unknown format '{path.suffix}' (expected one of {', '.join(ALL_SUFFIXES)})"
        )
    else:
        try:
            text = read_text(path)
        except ArticleParseError as err:
            yield err
            return
        yield from reader(text, path)


def _read_binary(path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield the stories of a feed, page, ninjs, NewsML-G2, .docx or .pdf file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        yield ArticleParseError(f"{path}: cannot read ({err.strerror or err})")
        return
    if not data.strip():
        yield ArticleParseError(f"{path}: empty file (expected at least one story)")
        return
    from mapapp.articles.sniff import kind_of

    kind = _SUFFIX_KINDS.get(path.suffix.lower()) or kind_of(data)
    if path.suffix.lower() == ".xml" and kind not in ("feed", "newsml"):
        yield ArticleParseError(
            f"{path}: an XML file that is neither an RSS/Atom feed nor NewsML-G2; skipped"
        )
        return
    yield from read_document(data, where=str(path), kind=kind, by_content=True)


_SUFFIX_KINDS = {
    ".rss": "feed",
    ".atom": "feed",
    ".json": "ninjs",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "page",
    ".htm": "page",
}


def read_document(
    data: bytes,
    *,
    where: str,
    kind: str | None = None,
    content_type: str = "",
    url: str | None = None,
    by_content: bool = False,
) -> Iterator[Article | ArticleParseError]:
    """Yield the stories of one document of any library-read format (sniffed unless
    ``kind`` says); ``url`` is where a page was fetched, ``by_content`` ids a page by text."""
    from mapapp.articles import documents, feeds, newsml, ninjs, webpages
    from mapapp.articles.sniff import kind_of

    kind = kind or kind_of(data, content_type)
    if kind == "feed":
        yield from feeds.file_articles(data, where=where)
    elif kind == "newsml":
        yield from newsml.newsml_articles(data, where=where)
    elif kind == "ninjs":
        yield from ninjs.ninjs_articles(data, where=where)
    elif kind == "docx":
        yield from documents.docx_articles(data, where=where)
    elif kind == "pdf":
        yield from documents.pdf_articles(data, where=where)
    else:
        try:
            yield webpages.parse_page(data, url=url or where, by_content=by_content)
        except ArticleParseError as err:
            yield err


def _read_txt(text: str, path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield the one story of a plain-text file, or its error."""
    try:
        yield parse_text(text, source=str(path))
    except ArticleParseError as err:
        yield err


def _read_feed(
    read: Callable[[str, Path], Iterator[FeedRecord | ArticleParseError]],
) -> Callable[[str, Path], Iterator[Article | ArticleParseError]]:
    """A reader of one feed format that yields articles: each record built, errors passed on."""

    def articles(text: str, path: Path) -> Iterator[Article | ArticleParseError]:
        """The file's articles, and an error for each bad record, in file order."""
        for item in read(text, path):
            if isinstance(item, ArticleParseError):
                yield item
            else:
                yield _try_record(item.fields, where=item.where, source=item.source)

    return articles


_READERS: dict[str, Callable[[str, Path], Iterator[Article | ArticleParseError]]] = {
    ".txt": _read_txt,
    ".jsonl": _read_feed(read_jsonl),
    ".csv": _read_feed(read_csv),
}


# --- feed records ----------------------------------------------------------


def _try_record(record: dict, *, where: str, source: str) -> Article | ArticleParseError:
    """Return the record's article, or the error that explains why there is none."""
    try:
        return _article_from_record(record, where=where, source=source)
    except ArticleParseError as err:
        return err


def _article_from_record(record: dict, *, where: str, source: str) -> Article:
    """Build an article from a JSONL object or CSV row, keeping its text verbatim."""
    fields = {str(key).strip().lower(): value for key, value in record.items()}
    text = field(fields, ("text", "body"), where)
    if text is None:
        raise ArticleParseError(f"{where}: no 'text' or 'body' field (expected the story's text)")
    if not text.strip():
        raise ArticleParseError(f"{where}: the story's text is empty")
    _check_length(text, where)
    headline = (field(fields, ("headline", "title"), where) or "").strip()
    raw_date = (field(fields, ("date", "published"), where) or "").strip()
    published = parse_date(raw_date) if raw_date else None
    if raw_date and published is None:
        raise ArticleParseError(
            f"{where}: date '{shown(raw_date)}' not recognised (expected {DATE_FORMATS})"
        )
    headline = headline or headline_from(text)
    deck = (field(fields, ("deck",), where) or "").strip() or None
    return Article(
        article_id=content_id(headline, text),
        headline=headline,
        text=with_deck(deck, text),
        published=published,
        dateline=find_dateline(text),
        deck=deck,
        url=(field(fields, ("url",), where) or "").strip() or None,
        source=source,
    )


def with_deck(deck: str | None, body: str) -> str:
    """The text the geoparser reads: the deck as its first paragraph, then the body.

    The article id stays a hash of the body, so a store made before decks
    were read keeps its ids and re-ingesting adds nothing.
    """
    return f"{deck}\n\n{body}" if deck else body


def _check_length(text: str, where: str) -> None:
    """Refuse a story longer than MAX_ARTICLE_CHARS, saying how long it is."""
    if len(text) > MAX_ARTICLE_CHARS:
        raise ArticleParseError(
            f"{where}: the story is {len(text):,} characters long; mapapp takes at most "
            f"{MAX_ARTICLE_CHARS:,} (is it several stories in one? split them)"
        )
