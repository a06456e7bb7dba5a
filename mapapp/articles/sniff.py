"""What a fetched or found document is: a feed, a NewsML-G2 item, ninjs, a page, a PDF, a .docx."""

from __future__ import annotations

import json
import re

FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
NEWSML_ROOTS = frozenset({"newsitem", "newsmessage", "packageitem"})
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")

# The first element's name after the XML prolog, comments, processing instructions and DTD.
_ROOT = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
    rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)",
    re.S,
)


def xml_root(data: bytes) -> str | None:
    """The local name of an XML document's root element (lower case), or None if not XML."""
    match = _ROOT.match(data[:65536])
    return match[1].decode("ascii").lower() if match else None


def kind_of(data: bytes, content_type: str = "") -> str:
    """'feed', 'newsml', 'ninjs', 'pdf', 'docx' or 'page' (the default: HTML)."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    if data.startswith(b"%PDF-") or ctype == "application/pdf":
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    root = xml_root(data)
    if root in NEWSML_ROOTS:
        return "newsml"
    if root in FEED_ROOTS or ctype in FEED_TYPES:
        return "feed"
    if ctype.endswith("json") or data.lstrip()[:1] in (b"{", b"["):
        try:
            json.loads(data)
        except ValueError:
            return "page"
        return "ninjs"
    return "page"
