"""Hygiene for untrusted text wherever it is shown or written: bidi controls, spreadsheet formulas.

Story text comes from anywhere.  Two things in it can act on a reader rather
than be read: Unicode bidi controls, which reorder the text that follows them
on a page or in a spreadsheet, and cells that a spreadsheet runs as formulas.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): they reorder what
#: follows.  The plain marks LRM/RLM/ALM only set a direction at one point and stay.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: What a spreadsheet takes as the start of a formula (the OWASP CSV-injection rule).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SAFE_URL_SCHEMES = ("http://", "https://")


def strip_bidi(text: str) -> str:
    """The text without bidi embedding/override/isolate controls, so it cannot reorder a page."""
    return BIDI_CONTROLS.sub("", text) if text else text


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets a ``'`` first."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def web_url(url: str | None) -> str | None:
    """The URL if it is http(s), else None: ``javascript:``/``data:`` links never leave us."""
    if not isinstance(url, str):
        return None
    cleaned = url.strip()
    return cleaned if cleaned.lower().startswith(SAFE_URL_SCHEMES) else None


_SPACE = re.compile(r"\s+")
_INITIALS = re.compile(r"\b(?:[a-z] ){1,}[a-z]\b")


@functools.lru_cache(maxsize=1 << 16)  # the same few names, over and over, when resolving
def name_key(name: str) -> str:
    """Fold a place name for lookup: accents, case, dots and dashes do not count.

    ``"U.S."``, ``"U. S."`` and ``"US"`` share the key ``"us"``; ``"Sant Julià"``
    and ``"Sant Julia"`` share theirs.
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("’", "'").replace("'", "")
    text = re.sub(r"[.\-‐–—_/,()]", " ", text)
    text = _SPACE.sub(" ", text).strip()
    return _INITIALS.sub(lambda m: m.group(0).replace(" ", ""), text)


_CAMEL_PART = re.compile(r"[A-Z][a-z]{2,}")  # "Mc", "De", "St" are no words alone


def camel_words(name: str) -> str | None:
    """A run-together name as words ("NewYork", "HongKong": hashtag spellings); else None."""
    parts = _CAMEL_PART.findall(name)
    return " ".join(parts) if len(parts) > 1 and "".join(parts) == name else None
