"""RSS and Atom feeds by feedparser: one entry per story, full text from content:encoded.

An entry without its full text (a teaser in ``description`` only) has ``text`` None: the
ingest layer then fetches the entry's link and reads the page (`webpages`).  XML that
declares entities is refused before feedparser sees it (`xmlsafe`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from mapapp.articles.html import html_to_text
from mapapp.articles.sourced import build
from mapapp.articles.xmlsafe import refuse_hostile
from mapapp.errors import ArticleParseError
from mapapp.records import Article


@dataclass(frozen=True)
class FeedEntry:
    """One feed entry: its identifier (guid/id, else link), link, fields, and text if full."""

    identifier: str
    link: str | None
    title: str
    published: date | None
    byline: str | None
    text: str | None  # None: the feed has only a teaser; follow ``link``
    summary: str


def parse_feed(
    data: bytes, *, where: str, base: str | None = None, content_type: str = ""
) -> list[FeedEntry]:
    """The entries of an RSS/Atom document, in feed order; relative links are resolved
    against ``base`` (the feed's URL), the charset read from ``content_type`` if given.

    :raise ArticleParseError: not a feed, or hostile XML (entities, external references).
    """
    import feedparser

    refuse_hostile(data, where=where)
    headers = {"content-location": base or "", "content-type": content_type}
    parsed = feedparser.parse(
        data,
        sanitize_html=True,
        resolve_relative_uris=True,
        response_headers={k: v for k, v in headers.items() if v},
    )
    if not parsed.version and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None)
        detail = f" ({str(reason).splitlines()[0]})" if reason else ""
        raise ArticleParseError(f"{where}: not an RSS or Atom feed{detail}")
    return [entry for entry in map(_entry, parsed.entries) if entry is not None]


def _entry(raw: dict) -> FeedEntry | None:
    """A FeedEntry from one feedparser entry, or None when it has neither id nor link."""
    link = (raw.get("link") or "").strip() or None
    identifier = (raw.get("id") or "").strip() or link
    if not identifier:
        return None
    content = " ".join(part.get("value", "") for part in raw.get("content") or [])
    text = html_to_text(content) if content.strip() else ""
    summary = html_to_text(raw.get("summary") or "")
    return FeedEntry(
        identifier=identifier,
        link=link,
        title=html_to_text(raw.get("title") or "").replace("\n\n", " "),
        published=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
        byline=(raw.get("author") or "").strip() or None,
        text=text or None,  # content:encoded / Atom content is the story; summary a teaser
        summary=summary,
    )


def _date(parsed: object) -> date | None:
    """A feedparser time tuple (UTC) as a date."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).date()  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def entry_article(
    entry: FeedEntry, *, where: str, text: str | None = None, fallback: Article | None = None
) -> Article:
    """The Article of an entry, from its own full text or ``text`` read from its link
    (``fallback``, the linked page's story, fills the fields the entry lacks)."""
    body = text if text is not None else entry.text
    if body is None:
        raise ArticleParseError(f"{where}: the entry has no full text and no link to follow")
    return build(
        where=where,
        identifier=entry.identifier,
        headline=entry.title or (fallback.headline if fallback else ""),
        text=body,
        published=entry.published or (fallback.published if fallback else None),
        byline=entry.byline or (fallback.byline if fallback else None),
        url=entry.link,
    )


def file_articles(data: bytes, *, where: str) -> Iterator[Article | ArticleParseError]:
    """The stories of a feed saved as a file: entries without full text are reported
    (their links are followed only when the feed is ingested by URL)."""
    try:
        entries = parse_feed(data, where=where)
    except ArticleParseError as err:
        yield err
        return
    if not entries:
        yield ArticleParseError(f"{where}: a feed with no entries")
    for number, entry in enumerate(entries, start=1):
        label = f"{where} entry {number}"
        if entry.text is None:
            yield ArticleParseError(
                f"{label}: only a teaser in the feed (ingest the feed by its URL to "
                "follow the entry's link); skipped"
            )
            continue
        try:
            yield entry_article(entry, where=label)
        except ArticleParseError as err:
            yield err
