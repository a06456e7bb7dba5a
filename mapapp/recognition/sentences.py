"""Sentences around a mention, for the evidence a popup shows.

A full stop ends a sentence unless it ends an abbreviation: a title ("Gen."),
an initial, or an AP abbreviation of a state or province ("PORTLAND, Ore.").
"""

from __future__ import annotations

import functools
import re

from mapapp.settings import PACKAGE_DATA

TITLE_ABBREVIATIONS = {
    "Gen",
    "Brig",
    "Lt",
    "Col",
    "Maj",
    "Capt",
    "Sgt",
    "Adm",
    "Gov",
    "Sen",
    "Rep",
    "Rev",
    "Dr",
    "Mr",
    "Mrs",
    "Ms",
    "Prof",
    "Sr",
    "Jr",
    "Pres",
    "Supt",
    "Cmdr",
    "Cpl",
    "Pvt",
    "Insp",
}


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]`` (for evidence in popups).

    A full stop after an abbreviation ("Ore.", "Gen.", an initial) does not end it.
    """
    left = max(_stop_before(text, start), text.rfind("\n", 0, start))
    right_candidates = [i for i in (_stop_after(text, end), text.find("\n", end)) if i != -1]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    return text[left + 1 if left >= 0 else 0 : right].strip()[:600]


def _ends_abbreviation(text: str, dot: int) -> bool:
    """Is the full stop at ``dot`` the end of an abbreviation rather than of a sentence?"""
    word = re.search(r"[A-Za-z]+$", text[max(0, dot - 6) : dot])
    return bool(word) and (
        len(word.group(0)) == 1
        and word.group(0).isupper()
        or word.group(0) + "." in _abbreviations()
    )


def _stop_before(text: str, start: int) -> int:
    dot = text.rfind(". ", 0, start)
    while dot > 0 and _ends_abbreviation(text, dot):
        dot = text.rfind(". ", 0, dot)
    return dot


def _stop_after(text: str, end: int) -> int:
    dot = text.find(". ", end)
    while dot != -1 and _ends_abbreviation(text, dot):
        dot = text.find(". ", dot + 1)
    return dot


@functools.cache
def _abbreviations() -> frozenset[str]:
    """Titles and the AP abbreviations of states and provinces, each with its full stop."""
    rows = (PACKAGE_DATA / "abbreviations.csv").read_text(encoding="utf-8").splitlines()
    found = {line.split(",", 1)[0] for line in rows if line and not line.startswith("#")}
    return frozenset(found | {t + "." for t in TITLE_ABBREVIATIONS} | {"St.", "Mt.", "Ft."})
