"""IPTC NewsML-G2 news items (XML), parsed by defusedxml: no DTD, entity or external fetch.

A file holds one ``newsItem`` or a ``newsMessage`` of several.  Read: the ``guid`` (the
id), ``contentMeta``'s ``headline``, ``dateline`` or ``located``, ``by``/``creator``,
``contentCreated`` and ``itemMeta/versionCreated``, and the body from ``contentSet``:
``inlineXML`` holding NITF (``body.content``) or XHTML (``body``), else ``inlineData``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mapapp.articles.html import html_to_text, text_of
from mapapp.articles.sourced import build, date_of
from mapapp.articles.xmlsafe import parse_xml
from mapapp.errors import ArticleParseError
from mapapp.records import Article


def newsml_articles(data: bytes, *, where: str) -> Iterator[Article | ArticleParseError]:
    """The stories of a NewsML-G2 document; hostile XML is one refusal for the whole file."""
    try:
        root = parse_xml(data, where=where)
    except ArticleParseError as err:
        yield err
        return
    tag = _local(root)
    if tag == "newsitem":
        items = [root]
    elif tag in ("newsmessage", "packageitem"):
        items = [e for e in root.iter() if _local(e) == "newsitem"]
    else:
        yield ArticleParseError(f"{where}: root element <{tag}> is not a NewsML-G2 newsItem")
        return
    if not items:
        yield ArticleParseError(f"{where}: no newsItem in this NewsML-G2 {tag}")
    for number, item in enumerate(items, start=1):
        label = where if len(items) == 1 else f"{where} item {number}"
        try:
            yield newsml_article(item, where=label)
        except ArticleParseError as err:
            yield err


def newsml_article(item: Any, *, where: str) -> Article:
    """One ``newsItem`` element as an Article.

    :raise ArticleParseError: no ``guid`` or no body text.
    """
    identifier = (item.get("guid") or "").strip()
    if not identifier:
        raise ArticleParseError(f"{where}: the newsItem has no 'guid' attribute")
    meta = _child(item, "contentmeta")
    text = _body(_child(item, "contentset"))
    if not text:
        raise ArticleParseError(
            f"{where}: no body text (expected contentSet/inlineXML with NITF or XHTML, "
            "or inlineData)"
        )
    item_meta = _child(item, "itemmeta")
    return build(
        where=where,
        identifier=identifier,
        headline=_text(_child(meta, "headline")),
        text=text,
        published=date_of(_text(_child(meta, "contentcreated")))
        or date_of(_text(_child(item_meta, "versioncreated"))),
        dateline=_dateline(meta),
        byline=_text(_child(meta, "by")) or _text(_child(_child(meta, "creator"), "name")),
    )


def _local(element: Any) -> str:
    """An element's local name in lower case ('{ns}newsItem' -> 'newsitem')."""
    tag = element.tag if element is not None else ""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child(element: Any, name: str) -> Any:
    """The first child of ``element`` named ``name`` (any namespace), or None."""
    if element is None:
        return None
    return next((c for c in element if _local(c) == name), None)


def _text(element: Any) -> str:
    """All the text inside ``element``, on one line; '' for None."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _dateline(meta: Any) -> str:
    """The ``dateline`` text, else the ``located`` place's name."""
    if dateline := _text(_child(meta, "dateline")):
        return dateline.rstrip(" -\u2014")
    located = _child(meta, "located")
    return _text(_child(located, "name")) if located is not None else ""


def _body(content_set: Any) -> str:
    """The story text of a ``contentSet``: NITF or XHTML in inlineXML, else inlineData."""
    if content_set is None:
        return ""
    for inline in content_set:
        kind = _local(inline)
        if kind == "inlinexml":
            for root in inline:
                if text := _markup_text(root):
                    return text
        elif kind == "inlinedata":
            data = "".join(inline.itertext()).strip()
            if "html" in (inline.get("contenttype") or ""):
                return html_to_text(data)
            return data
    return ""


def _markup_text(root: Any) -> str:
    """The text of a NITF document's ``body.content``, or of an XHTML ``body``."""
    if _local(root) == "nitf":
        body = _child(root, "body")
        content = _child(body, "body.content")
        return text_of(content) if content is not None else ""
    if _local(root) == "html":
        body = _child(root, "body")
        return text_of(body) if body is not None else ""
    return text_of(root)
