"""HTML bodies as plain text: paragraph breaks kept, scripts, styles and markup dropped."""

from __future__ import annotations

import re

from mapapp.articles.feed import plain_text

# Elements whose content is never story text.
_DROPPED = frozenset(
    "script style noscript template iframe object embed svg math head title nav footer "
    "aside form button select".split()
)
# Elements that end a paragraph.
_BLOCKS = frozenset(
    "p div section article header blockquote pre li ul ol dl dt dd table tr h1 h2 h3 h4 h5 "
    "h6 figure figcaption hr address main br body block hl1 hl2".split()
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_to_text(markup: str | bytes) -> str:
    """The text of an HTML fragment or page, one paragraph per block, blank lines between."""
    import lxml.etree
    import lxml.html

    if isinstance(markup, bytes):
        markup = markup.decode("utf-8", "replace")
    if not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return ""
    return text_of(root)


def text_of(root: object) -> str:
    """The paragraphs of an lxml element tree (HTML or XHTML, any namespace) as plain text."""
    pieces: list[str] = []
    _walk(root, pieces)
    paragraphs = []
    for block in "".join(pieces).split("\n"):
        line = _SPACES.sub(" ", block).strip()
        if line:
            paragraphs.append(line)
    return plain_text("\n\n".join(paragraphs))


def _local(tag: object) -> str:
    """An element's tag without its namespace ('{ns}p' -> 'p'); '' for comments."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _walk(element: object, pieces: list[str]) -> None:
    """Append the text of ``element`` and its children, a newline around each block."""
    tag = _local(element.tag)  # type: ignore[attr-defined]
    if tag in _DROPPED:
        pieces.append(element.tail or "")  # type: ignore[attr-defined]
        return
    block = tag in _BLOCKS
    if block:
        pieces.append("\n")
    if tag:
        pieces.append((element.text or "").replace("\n", " "))  # type: ignore[attr-defined]
        for child in element:  # type: ignore[attr-defined]
            _walk(child, pieces)
    if block:
        pieces.append("\n")
    pieces.append((element.tail or "").replace("\n", " "))  # type: ignore[attr-defined]
