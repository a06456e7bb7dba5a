"""The dateline that opens a news story ("BEIRUT --", "COLUMBUS, Ohio (AP) —")."""

from __future__ import annotations

import re
from typing import Any

from mapapp.recognition.sentences import sentence_at
from mapapp.records import Toponym

_DATELINE = (
    re.compile(  # "BEIRUT --", "COLUMBUS, Ohio (AP) —", "BEIRUT:" at a line or sentence start
        r"(?:^|(?<=\n)|(?<=[.!?]) )[ \t]*([A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]+)*)"
        r"(?:,[ \t]*([A-Z][\w.' ]+?))?[ \t]*(?:\((?:AP|Reuters|AFP|UPI|CNN|Bloomberg)\)[ \t]*)?"
        r"(?:--|—|–|:)"
    )
)
DATELINE_WINDOW = 400


def find_dateline(text: str, known: Any = None, *, start: int = 0) -> Toponym | None:
    """The dateline place near the top of ``text`` ("BEIRUT --") as a mention.

    A classic "CITY --" opening the text (or its body, from ``start``, after a
    deck) is always a dateline; further down or in the "CITY:" form,
    ``known(name) -> bool`` must accept the place, so that a heading such as
    "UPDATE:" is not taken for one.
    """
    for match in _DATELINE.finditer(text, start, start + DATELINE_WINDOW):
        begin, end = match.span(1)
        name = text[begin:end].strip()
        at_top = not text[start:begin].strip() and not match.group(0).endswith(":")
        if len(name) < 3 or (known is not None and not at_top and not known(name)):
            continue  # further down, or "NAME:", it must be a known place (not "UPDATE:")
        return Toponym(
            name=name,
            start=begin,
            end=begin + len(name),
            role="dateline",
            sentence=sentence_at(text, begin, end),
            source="dateline",
            qualifier=(match.group(2) or "").strip(),
        )
    return None
