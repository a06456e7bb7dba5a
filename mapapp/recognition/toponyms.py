"""Find place mentions in article text, with code-point offsets.

Recognition combines spaCy's named entities (GPE, LOC, FAC) with a gazetteer
scan for proper names the model misses or mislabels ("Eastern Ghouta" tagged
as an organisation).  A filter keeps common words out ("Mobile", "Reading").
Demonyms ("Syrian") become mentions with role ``demonym``: context for the
article's country, not markers.  "Paris, Texas" yields "Paris" with the
qualifier "Texas" attached, plus "Texas" itself with role ``qualifier``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from mapapp.recognition.gazetteer import MATCH_ALTERNATE, MATCH_NAME, Gazetteer, name_key
from mapapp.recognition.sentences import TITLE_ABBREVIATIONS, sentence_at
from mapapp.records import Article, Toponym

PLACE_LABELS = {"GPE", "LOC", "FAC"}
GENERIC_WORDS = {  # on their own, directions and words for kinds of place are not places
    "north",
    "south",
    "east",
    "west",
    "central",
    "northern",
    "southern",
    "eastern",
    "western",
    "metro",
    "downtown",
    "uptown",
    "midtown",
    "city",
    "county",
    "state",
    "union",
    "coast",
    "valley",
    "river",
    "bay",
    "harbor",
    "harbour",
    "island",
    "islands",
    "capital",
    "region",
    "centre",
    "center",
    "states",
}
INSTITUTION_WORDS = {
    "police",
    "department",
    "dept",
    "county",
    "city",
    "state",
    "university",
    "college",
    "school",
    "schools",
    "hospital",
    "council",
    "board",
    "court",
    "sheriff",
    "sheriff's",
    "fire",
    "public",
    "utilities",
    "commission",
    "legislature",
    "house",
    "senate",
    "government",
    "museum",
    "library",
    "airport",
    "zoo",
    "chamber",
    "attorney",
    "district",
    "parks",
    "health",
    "water",
    "housing",
    "transit",
    "port",
    "army",
    "navy",
    "national",
}
GENERIC_NAMES = {  # names every city has for a part of itself: never a place on their own
    "old town",
    "old city",
    "new town",
    "city centre",
    "city center",
    "town centre",
    "town center",
    "city hall",
    "downtown",
    "waterfront",
    "old quarter",
}
# A name before one of these words is used as an adjective ("the Atlantic coast", "Gulf
# states", "this Pacific port city"): context for the story, not a marker.
ADJECTIVAL_NEXT = {
    "coast",
    "coasts",
    "coastline",
    "seaboard",
    "port",
    "ports",
    "rim",
    "states",
    "nations",
    "countries",
    "lenders",
    "region",
}
MAJOR_CODES = {"PCLI", "ADM1", "CONT", "RGN", "PPLC", "SEA", "OCN", "PEN"}
BLOCKING_LABELS = {"PERSON", "ORG", "WORK_OF_ART", "PRODUCT", "EVENT", "LAW", "LANGUAGE"}
CONNECTORS = {"of", "de", "del", "la", "le", "du", "upon", "on", "am", "sur", "al", "el", "and"}
EMBEDDING_WORDS = {"of", "for", "in", "at"}
_DATELINE = (
    re.compile(  # "BEIRUT --", "COLUMBUS, Ohio (AP) —", "BEIRUT:" at a line or sentence start
        r"(?:^|\n|(?<=[.!?]) )[ \t]*([A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]+)*)"
        r"(?:,[ \t]*([A-Z][\w.' ]+?))?[ \t]*(?:\((?:AP|Reuters|AFP|UPI|CNN|Bloomberg)\)[ \t]*)?"
        r"(?:--|—|–|:)"
    )
)
DATELINE_WINDOW = 400
_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


class NerModel(Protocol):
    """The part of a spaCy ``Language`` that recognition uses."""

    def pipe(self, texts: Iterable[str], batch_size: int = ...) -> Iterator[Any]: ...


# Recognition reads doc.ents only, so the components that tag words are not loaded.  The
# parser stays: the entity recogniser keeps entities inside the sentences it finds (without
# it 12 of 863 news texts come out with different entities).
UNUSED_COMPONENTS = ("tagger", "attribute_ruler", "lemmatizer", "senter")


def load_ner(name: str) -> NerModel | None:
    """Load the spaCy pipeline ``name``; None (gazetteer-only) when absent or 'none'."""
    if not name or name.lower() == "none":
        return None
    try:
        import spacy

        return spacy.load(name, exclude=list(UNUSED_COMPONENTS))
    except (ImportError, OSError):
        return None


def find_dateline(text: str, known: Any = None) -> Toponym | None:
    """The dateline place near the top of ``text`` ("BEIRUT --") as a mention.

    A classic "CITY --" opening the text is always a dateline; further down
    (after a headline) or in the "CITY:" form, ``known(name) -> bool`` must
    accept the place, so that a heading such as "UPDATE:" is not taken for one.
    """
    for match in _DATELINE.finditer(text[:DATELINE_WINDOW]):
        start, end = match.span(1)
        name = text[start:end].strip()
        at_top = not text[:start].strip() and not match.group(0).endswith(":")
        if len(name) < 3 or (known is not None and not at_top and not known(name)):
            continue  # further down, or "NAME:", it must be a known place (not "UPDATE:")
        return Toponym(
            name=name,
            start=start,
            end=start + len(name),
            role="dateline",
            sentence=sentence_at(text, start, end),
            source="dateline",
            qualifier=(match.group(2) or "").strip(),
        )
    return None


class Recognizer:
    """Recognise toponyms in texts with an optional spaCy model plus the gazetteer."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        nlp: NerModel | None = None,
        *,
        deny: Iterable[str] = (),
        aliases: Iterable[str] = (),
    ) -> None:
        self.gazetteer = gazetteer
        self.nlp = nlp
        self.deny = {name_key(n) for n in deny}
        self.extra_names = {name_key(n) for n in aliases}

    # -- public ---------------------------------------------------------
    def recognize_many(self, texts: Sequence[str], batch_size: int = 32) -> list[list[Toponym]]:
        """Toponyms of each text, in text order (spaCy runs batched)."""
        if self.nlp is None:
            return [self._from_doc(text, None) for text in texts]
        docs = self.nlp.pipe(texts, batch_size=batch_size)
        return [self._from_doc(text, doc) for text, doc in zip(texts, docs, strict=False)]

    def recognize(self, article: Article) -> list[Toponym]:
        """Toponyms of one article, the dateline first."""
        return self.recognize_articles([article])[0]

    def recognize_articles(
        self, articles: Sequence[Article], batch_size: int = 32
    ) -> list[list[Toponym]]:
        """Toponyms of each article, in text order (the dateline among them)."""
        return self.recognize_many([a.text for a in articles], batch_size)

    def _with_dateline(self, text: str, toponyms: list[Toponym]) -> list[Toponym]:
        dateline = find_dateline(text, self._known_dateline)
        if dateline is None:
            return toponyms
        rest = [t for t in toponyms if t.end <= dateline.start or t.start >= dateline.end]
        if dateline.qualifier:  # "PORTLAND, Ore. --": "Ore." is Oregon, never a town
            q_start = text.find(dateline.qualifier, dateline.end)
            q_end = q_start + len(dateline.qualifier)
            rest = [t for t in rest if t.end <= q_start or t.start >= q_end]
            if q_start >= 0 and self._known(dateline.qualifier):
                rest.append(
                    Toponym(
                        name=dateline.qualifier,
                        start=q_start,
                        end=q_end,
                        role="qualifier",
                        sentence=dateline.sentence,
                        source="dateline",
                    )
                )
        return sorted([dateline, *rest], key=lambda t: t.start)

    def _known_dateline(self, name: str) -> bool:
        key = name_key(name)
        return key not in self.deny and key in self.gazetteer.names

    # -- per document ---------------------------------------------------
    def _from_doc(self, text: str, doc: Any) -> list[Toponym]:
        spans: dict[tuple[int, int], Toponym] = {}
        blocked: list[tuple[int, int, str]] = []
        ents = list(doc.ents) if doc is not None else []
        for ent in ents:
            self._take_entity(text, ent, spans, blocked)
        people = self._one_sense_per_discourse(text, spans, blocked)
        for toponym in self._scan_gazetteer(text, spans, blocked, people):
            spans.setdefault((toponym.start, toponym.end), toponym)
        toponyms = sorted(spans.values(), key=lambda t: t.start)
        toponyms = [self._adjectival(text, t) for t in toponyms]
        return self._with_dateline(text, self._attach_qualifiers(text, _drop_overlaps(toponyms)))

    def _adjectival(self, text: str, toponym: Toponym) -> Toponym:
        """ "Atlantic coast", "Gulf states": the name as an adjective is context, not a marker.

        A country or first-order division keeps its marker ("the Georgia coast").
        """
        if toponym.role != "mention":
            return toponym
        following = re.match(r"[ \t]+([a-z]+)", text[toponym.end : toponym.end + 20])
        if not following or following.group(1) not in ADJECTIVAL_NEXT:
            return toponym
        gaz = self.gazetteer
        cands = gaz.candidates(toponym.name, fuzzy=False)
        if cands:
            top = max(cands, key=lambda c: gaz.population[c.index])
            if gaz.fcode[top.index] in {"PCLI", "ADM1"} and top.match < MATCH_ALTERNATE:
                return toponym
        return replace(toponym, role="embedded")

    def _defined_places(self, text: str) -> set[str]:
        """Names the text itself calls a place: "Lee is a town in ...", "the village of Lee"."""
        found = set()
        for pattern in (_IS_A_PLACE, _PLACE_OF):
            for match in pattern.finditer(text):
                name = match.group("name")
                if self._known(name):
                    found.add(name_key(name))
        return found

    def _one_sense_per_discourse(self, text: str, spans: dict, blocked: list) -> set[str]:
        """A one-word name the model calls a place once is a place everywhere in the text.

        ("Alexandria woman charged" tags Alexandria as a person; the body says
        "in Alexandria".)  Conversely a name only ever tagged as a person
        blocks gazetteer hits of the same word elsewhere ("Ripley said").
        """
        places = {name_key(t.name) for t in spans.values() if t.role == "mention"}
        places |= self._defined_places(text)
        keep = []
        for start, end, label in blocked:
            start, end = _trim(text, start, end)
            name = text[start:end]
            if (
                label in {"PERSON", "ORG", "PRODUCT", "WORK_OF_ART"}
                and name_key(name) in places
                and (" " not in name or label != "PERSON" or self._known(name))
            ):
                spans[(start, end)] = self._toponym(text, name, start, end, "gazetteer")
            else:
                keep.append((start, end, label))
        blocked[:] = keep
        people: set[str] = set()
        for start, end, label in keep:
            if label == "PERSON":
                words = text[start:end].split()
                people.update(w for w in words[-1:] if not self._notable(w))  # surname
        return {name_key(w) for w in people} - places

    def _take_entity(self, text: str, ent: Any, spans: dict, blocked: list) -> None:
        start, end = _trim(text, ent.start_char, ent.end_char)
        if start >= end:
            return
        name = text[start:end]
        key = name_key(name)
        if (
            key in self.deny
            or (" " not in name and key in GENERIC_WORDS)
            or not name[:1].isupper()
            or key in GENERIC_NAMES
        ):
            return
        if ent.label_ in PLACE_LABELS:
            if ent.label_ == "FAC" and not self.gazetteer.candidates(name, fuzzy=False):
                return
            spans[(start, end)] = self._toponym(text, name, start, end, "ner")
        elif ent.label_ == "NORP" and key in self.gazetteer.demonyms:
            spans[(start, end)] = self._toponym(text, name, start, end, "ner", role="demonym")
        elif ent.label_ in {"ORG", "PERSON"} and self._is_area_name(name, ent.label_):
            # an organisation named only by an alias of a place ("European Union"): context
            role = (
                "embedded"
                if ent.label_ == "ORG"
                and " " in name
                and all(c.match != MATCH_NAME for c in self.gazetteer.candidates(name, fuzzy=False))
                else "mention"
            )
            spans[(start, end)] = self._toponym(text, name, start, end, "gazetteer", role=role)
        elif ent.label_ in {"ORG", "FAC", "PRODUCT", "EVENT"} and self._leading_place(
            text, start, end, spans
        ):
            blocked.append((ent.start_char, ent.end_char, ent.label_))
        elif ent.label_ in BLOCKING_LABELS:
            blocked.append((ent.start_char, ent.end_char, ent.label_))

    def _is_area_name(self, name: str, label: str) -> bool:
        """An entity the model calls an organisation or person that is wholly a place name.

        One word must be a major place ("Homs"); several words must name a
        country, province or region exactly ("Tamil Nadu", "the Eastern Ghouta").
        """
        if " " not in name:
            return label == "ORG" and self._strong_entry(name, major=True)
        gaz = self.gazetteer
        return any(
            c.match < MATCH_ALTERNATE and gaz.fcode[c.index] in MAJOR_CODES
            for c in gaz.candidates(name, fuzzy=False)
        )

    def _leading_place(self, text: str, start: int, end: int, spans: dict) -> bool:
        """A place opening a longer name: "Gainesville Police", "The Washington Post".

        Followed by a word for a public body it is where things happen (role
        mention); otherwise it is only part of a name (role embedded: context,
        not a marker).
        """
        words = text[start:end].split()
        for n in range(min(3, len(words) - 1), 0, -1):
            name = " ".join(words[:n])
            if not self._known(name) or name_key(name) in GENERIC_WORDS:
                continue
            public = words[n].strip(".,").lower() in INSTITUTION_WORDS
            if public and self._strong_entry(name) or self._notable(name):
                role = "mention" if public else "embedded"
                if name_key(name) in self.gazetteer.demonyms:
                    role = "demonym"  # "Syrian Observatory": context for Syria
                spans[(start, start + len(name))] = self._toponym(
                    text, name, start, start + len(name), "gazetteer", role=role
                )
                return True
        return False

    def _toponym(
        self, text: str, name: str, start: int, end: int, source: str, role: str = "mention"
    ) -> Toponym:
        return Toponym(
            name=name,
            start=start,
            end=end,
            role=role,
            sentence=sentence_at(text, start, end),
            source=source,
        )

    # -- gazetteer scan ---------------------------------------------------
    def _scan_gazetteer(
        self, text: str, spans: dict, blocked: list, people: set[str]
    ) -> Iterator[Toponym]:
        taken = [(s, e) for s, e in spans]
        for start, end in _proper_name_runs(text):
            joiner = _CONNECTOR_INSIDE.search(text[start:end])
            for s, e in self._longest_matches(text, start, end):
                if any(s < te and ts < e for ts, te in taken):
                    continue
                if name_key(text[s:e]) in people or not self._acceptable(text, s, e, blocked):
                    continue
                taken.append((s, e))
                name = text[s:e]
                role = "demonym" if name_key(name) in self.gazetteer.demonyms else "mention"
                if role == "mention" and joiner and _inside_longer_name(start, s, e, joiner):
                    role = "embedded"  # part of a longer name: "Gare du Nord", "Gulf of Tonkin"
                elif (
                    role == "mention"
                    and (s, e) != (start, end)
                    and all(
                        c.match == MATCH_ALTERNATE
                        for c in self.gazetteer.candidates(name, fuzzy=False)
                    )
                ):
                    role = "embedded"  # "Brygge" of "Aker Brygge": another place's other name
                yield self._toponym(text, name, s, e, "gazetteer", role=role)

    def _longest_matches(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Longest gazetteer names inside one run of capitalised words."""
        words = [
            (m.start() + start, m.end() + start)
            for m in re.finditer(r"[\w'’.\-]+", text[start:end])
        ]
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + 5), i, -1):
                s, e = words[i][0], words[j - 1][1]
                s, e = _trim(text, s, e)
                if e > s and self._known(text[s:e]):
                    yield s, e
                    i = j
                    break
            else:
                i += 1

    def _known(self, name: str) -> bool:
        key = name_key(name)
        if key in self.deny:
            return False
        gaz = self.gazetteer
        if key in gaz.names or key in gaz.demonyms or key in self.extra_names:
            return True
        if name.endswith(".") and key in gaz.qualifiers:
            return True
        return len(name) >= 6 and any(  # transliteration variant of a notable place
            gaz.population[c.index] >= 20_000 for c in gaz.candidates(name)
        )

    def _acceptable(self, text: str, start: int, end: int, blocked: list) -> bool:
        """Filter gazetteer hits: common words, people's names, organisations."""
        name = text[start:end]
        if not name[:1].isupper() or name.isupper() and len(name) <= 2:
            return False
        key = name_key(name)
        if " " not in name and key in GENERIC_WORDS or key in GENERIC_NAMES:
            return False
        if text[end : end + 1] == "." and name in TITLE_ABBREVIATIONS:
            return False
        for bs, be, label in blocked:
            if bs <= start and end <= be:
                if label == "ORG" and _after_embedding_word(text, bs, start):
                    continue
                return False
            if start < be and bs < end:
                return False
        key = name_key(name)
        if key in self.extra_names or key in self.gazetteer.demonyms:
            return True
        if _is_common_word(name):
            if _sentence_initial(text, start) or re.search(rf"\b{re.escape(name.lower())}\b", text):
                return False
            return self._strong_entry(name, major=True)
        return self._strong_entry(name)

    def _notable(self, name: str) -> bool:
        """A place big enough that a person of that name does not make it doubtful."""
        gaz = self.gazetteer
        return any(
            gaz.fclass[c.index] != "P" or gaz.population[c.index] >= 50_000
            for c in gaz.candidates(name)
        )

    def _strong_entry(self, name: str, *, major: bool = False) -> bool:
        """Is some entry for ``name`` notable enough to accept without the model?"""
        gaz = self.gazetteer
        for cand in gaz.candidates(name):
            row = cand.index
            if cand.match == MATCH_ALTERNATE and len(name) < 5:
                continue
            if major:
                if gaz.fcode[row] in MAJOR_CODES or gaz.population[row] >= 500_000:
                    return True
            elif gaz.fclass[row] != "P" or gaz.population[row] >= 5000:
                return True
        return False

    # -- "Paris, Texas" ---------------------------------------------------
    def _attach_qualifiers(self, text: str, toponyms: list[Toponym]) -> list[Toponym]:
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
            qual = self.qualifier_after(text, top.end, head=top.name)
            out.append(replace(top, qualifier=qual) if qual and top.role == "mention" else top)
        return out

    def qualifier_after(self, text: str, end: int, head: str = "") -> str:
        """The "Texas" of "Paris, Texas": a province or country holding a place named ``head``."""
        match = re.match(
            r",\s*(?:in\s+(?:the\s+)?(?:[a-z]+ern\s+|central\s+)?)?"
            r"([A-Z][A-Za-z.]*(?:\s[A-Z][A-Za-z.]*){0,2})",
            text[end : end + 60],
        )
        if not match:
            return ""
        words = match.group(1)
        gaz = self.gazetteer
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


_PLACE_NOUNS = (
    r"(?:town|city|village|municipality|county|province|district|borough|township|"
    r"hamlet|commune|parish|suburb|neighbou?rhood|community|settlement|port|capital|"
    r"state|region|island|census-designated place|unincorporated community)"
)
_NAME = r"(?P<name>[A-Z][\w'’\-]+(?:[ \t][A-Z][\w'’\-]+){0,3})"
_IS_A_PLACE = re.compile(
    _NAME + r",?[ \t](?:is|was)[ \t](?:an?|the)[ \t](?:[\w\-]+[ \t]){0,3}?" + _PLACE_NOUNS + r"\b"
)
_PLACE_OF = re.compile(r"\b(?:the|a)[ \t]" + _PLACE_NOUNS + r"[ \t]of[ \t]" + _NAME)


def _gap(text: str, end: int) -> int:
    match = re.match(r",(\s*)", text[end:])
    return len(match.group(1)) - 1 if match else 0


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
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
_CONNECTOR_INSIDE = re.compile(r"[ \t](?:(?P<of>of)|de|del|la|le|du|sur)[ \t]")


def _inside_longer_name(run_start: int, start: int, end: int, joiner: re.Match) -> bool:
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


def _proper_name_runs(text: str) -> Iterator[tuple[int, int]]:
    for match in _CAP_RUN.finditer(text):
        yield match.span()


def _after_embedding_word(text: str, org_start: int, start: int) -> bool:
    """True for "University of Ohio"-like names: a place after of/for/in inside an ORG."""
    before = text[org_start:start].split()
    return bool(before) and before[-1].lower() in EMBEDDING_WORDS


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start].strip()
    return start == 0 or before == "" or before[-1:] in {".", "!", "?", '"', "“", "\n"}


COMMON_WORD_ZIPF = 3.5  # wordfreq Zipf scale: 3.5 is about 3 per million words


@functools.lru_cache(maxsize=65536)
def _is_common_word(name: str) -> bool:
    """A single word that is also an ordinary English word ("Mobile", "Split")."""
    if " " in name.strip():
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(name.lower(), "en") >= COMMON_WORD_ZIPF


def _drop_overlaps(toponyms: list[Toponym]) -> list[Toponym]:
    """Keep the longer of two overlapping mentions."""
    kept: list[Toponym] = []
    for top in sorted(toponyms, key=lambda t: (t.start, -(t.end - t.start))):
        if kept and top.start < kept[-1].end:
            if (top.end - top.start) > (kept[-1].end - kept[-1].start):
                kept[-1] = top
            continue
        kept.append(top)
    return kept
