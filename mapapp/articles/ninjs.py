"""IPTC ninjs (News in JSON), versions 1.x and 2.x: one item, or a list of items, per file.

1.x names ``uri``/``guid``, ``headline``, ``body_text``/``body_html``, ``byline``,
``located`` and ``place``; 2.x has ``headlines`` and ``bodies`` (lists with a role and a
content type), ``by`` and ``places``.  Both have ``versioncreated`` and ``firstcreated``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from mapapp.articles.html import html_to_text
from mapapp.articles.sourced import build, date_of
from mapapp.errors import ArticleParseError
from mapapp.records import Article


def ninjs_articles(data: bytes, *, where: str) -> Iterator[Article | ArticleParseError]:
    """The stories of a ninjs document; an error for each item that has none."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        yield ArticleParseError(f"{where}: not UTF-8 text (expected ninjs JSON)")
        return
    except (ValueError, RecursionError) as err:
        yield ArticleParseError(f"{where}: not valid JSON ({str(err)[:80]}; expected ninjs)")
        return
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        label = where if len(items) == 1 else f"{where} item {number}"
        try:
            yield ninjs_article(item, where=label)
        except ArticleParseError as err:
            yield err


def ninjs_article(item: object, *, where: str) -> Article:
    """One ninjs item as an Article.

    :raise ArticleParseError: not an object, no ``uri``/``guid``, or no body.
    """
    if not isinstance(item, dict):
        raise ArticleParseError(f"{where}: expected a ninjs object, got {type(item).__name__}")
    identifier = _string(item.get("uri")) or _string(item.get("guid"))
    if not identifier:
        raise ArticleParseError(f"{where}: no 'uri' (or 'guid'): not a ninjs item")
    text = _body(item)
    if not text:
        raise ArticleParseError(
            f"{where}: no body ('body_text', 'body_html' or 'bodies'); nothing to geoparse"
        )
    return build(
        where=where,
        identifier=identifier,
        headline=_headline(item),
        text=text,
        published=date_of(item.get("versioncreated")) or date_of(item.get("firstcreated")),
        dateline=_string(item.get("located")) or _first_place(item),
        byline=_string(item.get("byline")) or _string(item.get("by")),
        url=identifier if identifier.startswith(("http://", "https://")) else None,
    )


def _string(value: object) -> str:
    """``value`` if it is a non-empty string, else ''."""
    return value.strip() if isinstance(value, str) else ""


def _headline(item: dict) -> str:
    """1.x ``headline``, else 2.x ``headlines`` (the main one first)."""
    if headline := _string(item.get("headline")):
        return headline
    headlines = [h for h in item.get("headlines") or [] if isinstance(h, dict)]
    headlines.sort(key=lambda h: h.get("role") not in (None, "main", "default"))
    for entry in headlines:
        if value := _string(entry.get("value")):
            return html_to_text(value) if "html" in str(entry.get("contenttype")) else value
    return ""


def _body(item: dict) -> str:
    """1.x ``body_text`` or ``body_html``, else 2.x ``bodies`` (plain text preferred)."""
    if text := _string(item.get("body_text")):
        return text
    if html := _string(item.get("body_html")):
        return html_to_text(html)
    bodies = [
        b for b in item.get("bodies") or [] if isinstance(b, dict) and _string(b.get("value"))
    ]
    bodies.sort(key=lambda b: (b.get("role") not in (None, "main", "default"), _is_html(b)))
    for body in bodies:
        value = _string(body.get("value"))
        return html_to_text(value) if _is_html(body) else value
    return ""


def _is_html(body: dict) -> bool:
    """Whether a 2.x body's content type is HTML."""
    return "html" in str(body.get("contenttype") or body.get("contentType") or "").lower()


def _first_place(item: dict) -> str:
    """The name of the first of 1.x ``place`` / 2.x ``places``, if any."""
    for key in ("places", "place"):
        for place in item.get(key) or []:
            if isinstance(place, dict) and (name := _string(place.get("name"))):
                return name
    return ""
