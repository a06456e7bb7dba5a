"""Articles from formats that carry their own identifier (a feed entry's id, a page's URL,
a ninjs ``uri``, a NewsML-G2 ``guid``): the id is a hash of that identifier, so a story
fetched again, or re-delivered with a new timestamp, is the same record."""

from __future__ import annotations

import hashlib
from datetime import date

from mapapp.articles.dates import parse_date
from mapapp.articles.feed import headline_from, plain_text
from mapapp.articles.layout import find_dateline
from mapapp.errors import ArticleParseError
from mapapp.records import Article

MAX_ARTICLE_CHARS = 500_000  # as for files: a bigger "story" is a mis-export


def identified_id(identifier: str) -> str:
    """The stable article id of a story known by ``identifier`` (a URL, guid or uri)."""
    return hashlib.sha256(f"source-id\n{identifier.strip()}".encode()).hexdigest()[:16]


def date_of(value: object) -> date | None:
    """A date from an ISO/RFC 2822 string (the formats' timestamps), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return parse_date(value) or parse_date(value[:10])


def build(
    *,
    where: str,
    identifier: str | None,
    headline: str | None,
    text: str,
    published: date | None = None,
    dateline: str | None = None,
    byline: str | None = None,
    url: str | None = None,
    content_id: str | None = None,
) -> Article:
    """An Article from a format's fields; its id from ``identifier``, else ``content_id``.

    :raise ArticleParseError: the text is empty or too long (naming ``where``).
    """
    text = plain_text(text).strip()
    if not text:
        raise ArticleParseError(f"{where}: no story text (the body is empty)")
    if len(text) > MAX_ARTICLE_CHARS:
        raise ArticleParseError(
            f"{where}: the story is {len(text):,} characters long; mapapp takes at most "
            f"{MAX_ARTICLE_CHARS:,} (is it several stories in one? split them)"
        )
    headline = " ".join(plain_text(headline or "").split()) or headline_from(text)
    if identifier:
        article_id = identified_id(identifier)
    elif content_id:
        article_id = content_id
    else:
        digest = hashlib.sha256(f"{headline}\n{text}".encode())
        article_id = digest.hexdigest()[:16]
    return Article(
        article_id=article_id,
        headline=headline,
        text=text,
        published=published,
        dateline=_clean(dateline) or find_dateline(text),
        url=url or None,
        source=where,
        byline=_clean(byline),
    )


def _clean(value: str | None) -> str | None:
    """One-line text of an optional field, or None when empty."""
    if not value:
        return None
    flat = " ".join(plain_text(value).split())
    return flat or None
