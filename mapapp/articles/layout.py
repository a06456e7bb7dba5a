"""The plain newspaper layout of a .txt story: footer, paragraphs, deck, dateline, title case."""

from __future__ import annotations

import re
from datetime import date

from mapapp.articles.dates import parse_date
from mapapp.text import strip_bidi

_DECK_MAX_CHARS = 300  # a paragraph longer than this before the dateline is body
_MAX_DECK_PARAGRAPHS = 2

# ``PLACE[, Region] [(Agency)] -- `` at the very start of a paragraph.  The
# place must be ALL CAPS; that is checked in find_dateline, because ``re``
# has no class for upper-case letters beyond ASCII ("SÃO PAULO").
_DATELINE = re.compile(
    r"\s*(?P<place>[^\W\d_][^\n,()]{1,40}?)"
    r"(?:,\s*(?P<region>[^\W\d_][^\n()]{0,30}?))?"
    r"\s*(?:\([A-Z][\w&.'-]*(?:\s[A-Z][\w&.'-]*){0,3}\)\s*)?"  # (AP), (Reuters)
    r"(?:--|[\u2014\u2013\ufffd]|\s-(?=\s)|(?<=\))\s)"  # 'PLACE (AP) The' needs no dash
)
_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ ,.'\u2019-]+[^\W\d_]+)*\.?")
_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)+")  # D.C., U.S.
_SMALL_WORDS = frozenset(
    "al an au aux da das de del den der des di do dos du el en es la las le "
    "les los of on sur the upon van von y".split()
)

_FOOTER = re.compile(r"(?:[A-Z][\w&'\u2019. -]{0,40}?\s+)?[Ss]ection,?\s+on\s+(?P<date>\S.{0,40})")
_DATE_LINE = re.compile(
    r"(?:(?:published|updated|posted|filed|dated|date)\b:?\s*(?:on\s+)?)?(?P<date>.{6,40})",
    re.I,
)


def normalise(raw: str) -> str:
    """Drop a byte-order mark and bidi controls; turn CRLF/CR line ends into LF."""
    return strip_bidi(raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


def cut_footer(lines: list[str]) -> tuple[list[str], date | None]:
    """Cut the lines at an 'A Section on MM/DD/YYYY' footer; return its date."""
    for index, line in enumerate(lines):
        match = _FOOTER.fullmatch(line.strip())
        published = parse_date(match["date"]) if match else None
        if published is not None:
            return lines[:index], published
    return lines, None


def split_paragraphs(lines: list[str]) -> list[str]:
    """Group lines into paragraphs at blank lines, unwrapping hard-wrapped lines.

    A story with no blank line at all is taken to have one paragraph per line.
    """
    stripped = [line.strip() for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    while stripped and not stripped[0]:
        stripped.pop(0)
    if "" not in stripped:
        return stripped
    paragraphs: list[str] = []
    current: list[str] = []
    for line in stripped + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def clean_paragraphs(paragraphs: list[str]) -> tuple[list[str], date | None]:
    """Drop bracketed editorial notes and date lines; return the first such date."""
    kept: list[str] = []
    found: date | None = None
    for paragraph in paragraphs:
        if paragraph.startswith("[") and paragraph.endswith("]"):
            continue
        line_date = _date_line(paragraph)
        if line_date is not None:
            found = found or line_date
            continue
        kept.append(paragraph)
    return kept, found


def _date_line(paragraph: str) -> date | None:
    """Return the date of a line like 'Published 2017-11-20', else None."""
    match = _DATE_LINE.fullmatch(paragraph)
    return parse_date(match["date"]) if match else None


def split_deck(paragraphs: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Split paragraphs into (deck, dateline place, body) around the dateline paragraph."""
    for index, paragraph in enumerate(paragraphs[: _MAX_DECK_PARAGRAPHS + 1]):
        place = find_dateline(paragraph)
        if place:
            deck = " ".join(paragraphs[:index]) or None
            return deck, place, paragraphs[index:]
        if len(paragraph) > _DECK_MAX_CHARS:
            break
    return None, None, paragraphs


def find_dateline(text: str) -> str | None:
    """Return the dateline place ('BEIRUT -- ...' -> 'Beirut') opening ``text``, if any."""
    match = _DATELINE.match(text)
    if not match:
        return None
    place, region = match["place"].strip(), (match["region"] or "").strip()
    if not (place.isupper() and _NAME_CHARS.fullmatch(place)):
        return None
    if region and not (region[0].isupper() and _NAME_CHARS.fullmatch(region)):
        return None
    name = _title_case(place)
    if region:
        keep = not region.isupper() or (len(region) == 2 and region.isalpha())
        name += ", " + (region if keep else _title_case(region))
    return name


def _title_case(name: str) -> str:
    """Title-case an ALL-CAPS place name: 'PORT-AU-PRINCE' -> 'Port-au-Prince'."""
    words = []
    for w, word in enumerate(name.split()):
        pieces = [_title_piece(p, first=w == 0 and i == 0) for i, p in enumerate(word.split("-"))]
        words.append("-".join(pieces))
    return " ".join(words)


def _title_piece(piece: str, *, first: bool) -> str:
    """Title-case one word: abbreviations stay upper, particles go lower."""
    if _ABBREVIATION.fullmatch(piece):
        return piece.upper()
    low = piece.lower()
    if not first and low.rstrip(",") in _SMALL_WORDS:
        return low
    if len(low) > 3 and low.startswith("mc"):
        return "Mc" + low[2:].capitalize()
    match = re.fullmatch(r"([^\W\d_])(['\u2019])(.+)", low)
    if match:  # N'DJAMENA -> N'Djamena, COTE D'IVOIRE -> Cote d'Ivoire
        head = match[1] if not first and match[1] in "dl" else match[1].upper()
        return head + match[2] + match[3].capitalize()
    return low.capitalize()
