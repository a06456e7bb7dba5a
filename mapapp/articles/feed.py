"""The fields of a feed record: which names mean what, and their text made storable."""

from __future__ import annotations

import re

from mapapp.errors import ArticleParseError
from mapapp.text import strip_bidi

HEADLINE_MAX_CHARS = 120  # for feed records that have text but no headline


def field(fields: dict, names: tuple[str, ...], where: str) -> str | None:
    """Return the first present field among ``names``; it must be a string."""
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ArticleParseError(
                f"{where}: '{name}' should be a string, not {type(value).__name__}"
            )
        return plain_text(value)
    return None


def plain_text(value: str) -> str:
    """A JSON string as text every store can hold: NUL characters (``\\u0000``) dropped,
    halves of surrogate pairs that lost their other half (``\\ud800``) shown as U+FFFD,
    bidi controls dropped."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return strip_bidi(_LONE_SURROGATE.sub("\ufffd", value))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def headline_from(text: str) -> str:
    """Stand in for a missing headline with the start of the text's first line."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= HEADLINE_MAX_CHARS:
        return first
    return first[:HEADLINE_MAX_CHARS].rsplit(" ", 1)[0] + "\u2026"
