"""The "Texas" of "Paris, Texas": a province or country named right after a place."""

from __future__ import annotations

import re
from dataclasses import replace

from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.records import Toponym


def attach_qualifiers(gaz: Gazetteer, text: str, toponyms: list[Toponym]) -> list[Toponym]:
    """Give a mention its "Texas" and mark the "Texas" right after it as the qualifier."""
    out: list[Toponym] = []
    by_start = {t.start: t for t in toponyms}
    for top in toponyms:
        if (
            out
            and out[-1].qualifier
            and by_start.get(top.start) is top
            and top.start == out[-1].end + 2 + _gap(text, out[-1].end)
        ):
            out.append(replace(top, role="qualifier"))
            continue
        qual = qualifier_after(gaz, text, top.end, head=top.name)
        out.append(replace(top, qualifier=qual) if qual and top.role == "mention" else top)
    return out


def qualifier_after(gaz: Gazetteer, text: str, end: int, head: str = "") -> str:
    """The "Texas" of "Paris, Texas": a province or country holding a place named ``head``."""
    match = re.match(
        r",\s*(?:in\s+(?:the\s+)?(?:[a-z]+ern\s+|central\s+)?)?"
        r"([A-Z][A-Za-z.]*(?:\s[A-Z][A-Za-z.]*){0,2})",
        text[end : end + 60],
    )
    if not match:
        return ""
    words = match.group(1)
    heads = (
        [
            c.index
            for c in gaz.candidates(head, fuzzy=False)
            if gaz.fcode[c.index] not in {"PCLI", "ADM1", "CONT"}
        ]
        if head
        else []
    )
    while words:
        key = name_key(words)
        units = list(gaz.qualifiers.get(key, [])) + [
            c.index
            for c in gaz.candidates(words, fuzzy=False)
            if gaz.fcode[c.index] in {"ADM1", "PCLI"}
        ]
        if units and (not head or any(_inside(gaz, h, u) for h in heads for u in units)):
            return words
        words = words.rsplit(" ", 1)[0] if " " in words else ""
    return ""


def _inside(gaz: Gazetteer, row: int, unit: int) -> bool:
    """Is entry ``row`` within the country or admin-1 unit ``unit``?"""
    if gaz.country[row] != gaz.country[unit] or row == unit:
        return False
    return gaz.fcode[unit] == "PCLI" or gaz.admin1[row] == gaz.admin1[unit]


def _gap(text: str, end: int) -> int:
    match = re.match(r",(\s*)", text[end:])
    return len(match.group(1)) - 1 if match else 0
