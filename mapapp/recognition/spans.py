"""Rules on candidate spans: trimming, capitalised runs, common words, overlaps."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mapapp.recognition.place_words import EMBEDDING_WORDS
from mapapp.records import Toponym

_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


_PLACE_NOUNS = (
    r"(?:town|city|village|municipality|county|province|district|borough|township|"
    r"hamlet|commune|parish|suburb|neighbou?rhood|community|settlement|port|capital|"
    r"state|region|island|census-designated place|unincorporated community)"
)
_NAME = r"(?P<name>[A-Z][\w'’\-]+(?:[ \t][A-Z][\w'’\-]+){0,3})"
IS_A_PLACE = re.compile(
    _NAME + r",?[ \t](?:is|was)[ \t](?:an?|the)[ \t](?:[\w\-]+[ \t]){0,3}?" + _PLACE_NOUNS + r"\b"
)
PLACE_OF = re.compile(r"\b(?:the|a)[ \t]" + _PLACE_NOUNS + r"[ \t]of[ \t]" + _NAME)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a leading "the" and a trailing possessive or punctuation from a span."""
    span = text[start:end]
    lead = _LEADING_ARTICLE.match(span)
    if lead:
        start += lead.end()
    span = text[start:end]
    poss = _POSSESSIVE.search(span)
    if poss and len(span) > 3:
        end -= len(poss.group(0))
    while end > start and text[end - 1] in ',;:-–—"“”(':
        end -= 1
    if (
        end > start
        and text[end - 1] == "."
        and not re.search(r"\b[A-Z]\.[A-Z]?\.?$", text[start:end])
    ):
        end -= 1
    return start, end


_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][a-z]{0,2}\.|[A-Z][\w'’\-]*)"  # U.S. | St. | Kenya
CONNECTOR_INSIDE = re.compile(r"[ \t](?:(?P<of>of)|de|del|la|le|du|sur)[ \t]")


def inside_longer_name(run_start: int, start: int, end: int, joiner: re.Match) -> bool:
    """Is the match at [start, end) only a piece of "X of Y" / "X du Y" (run from run_start)?

    The head before the connector always is ("Gulf" of "Gulf of Tonkin"); the tail
    after a Romance connector is too ("Nord" of "Gare du Nord"), but not after
    "of", where it is still the place meant ("Maine" in "Gulf of Maine").
    """
    cut, resume = run_start + joiner.start(), run_start + joiner.end()
    if end <= cut:
        return start == run_start
    return start >= resume and joiner.group("of") is None


_CAP_RUN = re.compile(
    _WORD + r"(?:[ \t]+(?:(?:of|de|del|la|le|du|upon|on|am|sur|al|el)[ \t]+)?" + _WORD + r")*"
)


def proper_name_runs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of runs of capitalised words ("Gulf of Tonkin"): where gazetteer names may be."""
    for match in _CAP_RUN.finditer(text):
        yield match.span()


def after_embedding_word(text: str, org_start: int, start: int) -> bool:
    """True for "University of Ohio"-like names: a place after of/for/in inside an ORG."""
    before = text[org_start:start].split()
    return bool(before) and before[-1].lower() in EMBEDDING_WORDS


def sentence_initial(text: str, start: int) -> bool:
    """Does ``start`` open a sentence (where any word is capitalised)?"""
    before = text[max(0, start - 3) : start].strip()
    return start == 0 or before == "" or before[-1:] in {".", "!", "?", '"', "“", "\n"}


COMMON_WORD_ZIPF = 3.5  # wordfreq Zipf scale: 3.5 is about 3 per million words


@functools.lru_cache(maxsize=65536)
def word_zipf(word: str) -> float:
    """How common a word is in English, on wordfreq's Zipf scale (3 is once per million)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en")


def is_common_word(name: str) -> bool:
    """A single word that is also an ordinary English word ("Mobile", "Split")."""
    return " " not in name.strip() and word_zipf(name) >= COMMON_WORD_ZIPF


def drop_overlaps(toponyms: list[Toponym]) -> list[Toponym]:
    """Keep the longer of two overlapping mentions."""
    kept: list[Toponym] = []
    for top in sorted(toponyms, key=lambda t: (t.start, -(t.end - t.start))):
        if kept and top.start < kept[-1].end:
            if (top.end - top.start) > (kept[-1].end - kept[-1].start):
                kept[-1] = top
            continue
        kept.append(top)
    return kept
