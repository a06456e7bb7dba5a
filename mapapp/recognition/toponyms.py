"""Find place mentions in article text, with code-point offsets.

Recognition combines spaCy's named entities (GPE, LOC, FAC) with a gazetteer
scan for proper names the model misses or mislabels ("Eastern Ghouta" tagged
as an organisation).  A filter keeps common words out ("Mobile", "Reading").
Demonyms ("Syrian") become mentions with role ``demonym``: context for the
article's country, not markers.  "Paris, Texas" yields "Paris" with the
qualifier "Texas" attached, plus "Texas" itself with role ``qualifier``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from mapapp.recognition.casing import restore_case
from mapapp.recognition.datelines import find_dateline
from mapapp.recognition.gazetteer import MATCH_ALTERNATE, MATCH_NAME, Gazetteer, name_key
from mapapp.recognition.place_words import (
    ADJECTIVAL_NEXT,
    BLOCKING_LABELS,
    GENERIC_NAMES,
    GENERIC_WORDS,
    INSTITUTION_WORDS,
    LOCATIVE_WORDS,
    MAJOR_CODES,
    PLACE_LABELS,
)
from mapapp.recognition.qualifiers import attach_qualifiers, qualifier_after
from mapapp.recognition.sentences import TITLE_ABBREVIATIONS, sentence_at
from mapapp.recognition.spans import (
    COMMON_WORD_ZIPF,
    CONNECTOR_INSIDE,
    IS_A_PLACE,
    PLACE_OF,
    after_embedding_word,
    drop_overlaps,
    inside_longer_name,
    is_common_word,
    proper_name_runs,
    sentence_initial,
    trim_span,
    word_zipf,
)
from mapapp.records import CONSIDERED, Article, Toponym
from mapapp.text import camel_words

#: Country names that are also ordinary words or first names.
WORDS_AND_COUNTRIES = frozenset({"turkey", "chad", "jordan", "guinea", "china", "japan"})
CITY_WORD_ZIPF = 4.5  # a division or capital with a name commoner than this needs the town rule
TOWN_FLOORS = (  # the commoner the word, the bigger the town must be to capitalise it unasked:
    (COMMON_WORD_ZIPF, 20_000),  # "homs"
    (CITY_WORD_ZIPF, 200_000),  # "aleppo", "phoenix" (words about as common as "kettle")
    (5.3, 500_000),  # "chicago", "paris" but not "nice" or "reading"
)

LABEL_WORDS = {  # spaCy's labels, as a reader says them
    "PERSON": "a person",
    "ORG": "an organisation",
    "WORK_OF_ART": "a title",
    "PRODUCT": "a product",
    "EVENT": "an event",
    "LAW": "a law",
    "LANGUAGE": "a language",
}

CITY_AFTER_LOCATIVE = 100_000  # "toward Goma": a "person" there is a city this big
#: Feature classes of buildings, squares and streets (only the reviewed table has them).
LANDMARK_CLASSES = frozenset("SR")
#: Landmarks whose name stands for those who work there: a building, a palace, a street.
SEATS_OF_POWER = frozenset({"BLDG", "PAL", "ST"})
#: Words before such a name ("the" aside) that put something there: "outside", "on", "of".
SEAT_PLACED_BY = frozenset(LOCATIVE_WORDS | {"on", "of"})
BIG_CITY = 100_000  # a city this big named alone is rarely an organisation or a person


def after_locative_word(text: str, start: int) -> bool:
    """The word before ``start`` says a place follows ("in", "toward", "reached")."""
    before = text[max(0, start - 20) : start].split()
    return bool(before) and before[-1].lower() in LOCATIVE_WORDS


_LIST_JOINER = re.compile(r"\s*(?:,\s*and|,|and|or|&)\s*")  # "Puebla and X", "Oxford, X"


_SPEECH_AFTER = re.compile(r"\s*(?:,\s*)?(?:said|says|told|added|wrote|asked|who)\b")


def placed_by_context(text: str, start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Does the text itself say a place stands here: "toward X", "Oxford and X", "X, Y"?

    "in Sidon said" is a place; "Bell said", "Oxford and Bell said" a person.
    """
    if after_locative_word(text, start):
        return True
    if _SPEECH_AFTER.match(text, end):
        return False
    for s, e in spans:
        gap = text[e:start] if e <= start else text[end:s] if s >= end else None
        if gap is not None and _LIST_JOINER.fullmatch(gap):
            return True
    return False


def body_start(article: Article) -> int:
    """Where ``article``'s body begins: after its deck when the deck opens the text."""
    deck = article.deck
    if deck and article.text.startswith(deck):
        return len(article.text) - len(article.text[len(deck) :].lstrip())
    return 0


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


def _as_written(text: str, toponyms: list[Toponym]) -> list[Toponym]:
    """Toponyms found in the case-restored copy, with names and sentences as ``text`` has them."""
    return [
        replace(t, name=text[t.start : t.end], sentence=sentence_at(text, t.start, t.end))
        for t in toponyms
    ]


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
    def recognize_many(
        self, texts: Sequence[str], batch_size: int = 32, *, body_starts: Sequence[int] = ()
    ) -> list[list[Toponym]]:
        """Toponyms of each text, in text order (spaCy runs batched).

        ``body_starts`` gives, per text, where the body (and so the dateline)
        begins after a deck read as the text's first paragraph.
        """
        starts = list(body_starts) or [0] * len(texts)
        readable = [self.readable(t) for t in texts]
        docs = (
            self.nlp.pipe(readable, batch_size=batch_size)
            if self.nlp is not None
            else (None for _ in texts)
        )
        return [
            _as_written(text, self._from_doc(seen, doc, start))
            if seen != text
            else self._from_doc(text, doc, start)
            for text, seen, doc, start in zip(texts, readable, docs, starts, strict=True)
        ]

    def readable(self, text: str) -> str:
        """The text as recognition reads it: case restored where a sentence has none."""
        return restore_case(text, self._notable_name)

    def recognize(self, article: Article) -> list[Toponym]:
        """Toponyms of one article, the dateline first."""
        return self.recognize_articles([article])[0]

    def recognize_articles(
        self, articles: Sequence[Article], batch_size: int = 32
    ) -> list[list[Toponym]]:
        """Toponyms of each article, in text order (the dateline among them)."""
        return self.recognize_many(
            [a.text for a in articles], batch_size, body_starts=[body_start(a) for a in articles]
        )

    def _with_dateline(self, text: str, toponyms: list[Toponym], body: int = 0) -> list[Toponym]:
        dateline = find_dateline(text, self._known_dateline, start=body)
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
    def _from_doc(self, text: str, doc: Any, body: int = 0) -> list[Toponym]:
        spans: dict[tuple[int, int], Toponym] = {}
        blocked: list[tuple[int, int, str]] = []
        ents = list(doc.ents) if doc is not None else []
        for ent in ents:
            self._take_entity(text, ent, spans, blocked)
        people = self._one_sense_per_discourse(text, spans, blocked)
        set_aside: list[Toponym] = []
        for toponym in self._scan_gazetteer(text, spans, blocked, people, set_aside):
            spans.setdefault((toponym.start, toponym.end), toponym)
        toponyms = sorted(spans.values(), key=lambda t: t.start)
        toponyms = [self._adjectival(text, t) for t in toponyms]
        qualified = attach_qualifiers(self.gazetteer, text, drop_overlaps(toponyms))
        found = [self._seat_of_power(text, t) for t in self._with_dateline(text, qualified, body)]
        considered = [
            t for t in set_aside if not any(t.start < f.end and f.start < t.end for f in found)
        ]
        return sorted([*found, *considered], key=lambda t: t.start) if considered else found

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

    def _seat_of_power(self, text: str, toponym: Toponym) -> Toponym:
        """ "The White House said", "Kremlin officials": a building (or Downing Street) that
        stands for the people in it is no place, unless the text puts something there
        ("outside the White House", "at the Kremlin")."""
        if toponym.role != "mention":
            return toponym
        gaz = self.gazetteer
        cands = [c for c in gaz.candidates(toponym.name, fuzzy=False) if c.match < MATCH_ALTERNATE]
        top = max(cands, key=lambda c: gaz.population[c.index], default=None)
        if top is None or gaz.fcode[top.index] not in SEATS_OF_POWER:
            return toponym
        before = text[max(0, toponym.start - 30) : toponym.start].split()
        if before and before[-1].lower() == "the":
            before = before[:-1]
        if before and before[-1].lower() in SEAT_PLACED_BY:
            return toponym
        return replace(toponym, role=CONSIDERED, note="read as the people who work there")

    def _defined_places(self, text: str) -> set[str]:
        """Names the text itself calls a place: "Lee is a town in ...", "the village of Lee"."""
        found = set()
        for pattern in (IS_A_PLACE, PLACE_OF):
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
            start, end = trim_span(text, start, end)
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
        start, end = trim_span(text, ent.start_char, ent.end_char)
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
        elif ent.label_ in {"ORG", "PERSON"} and self._is_area_name(text, start, name, ent.label_):
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
        elif ent.label_ in BLOCKING_LABELS and not self._stray_words_around_place(name):
            blocked.append((ent.start_char, ent.end_char, ent.label_))

    def _stray_words_around_place(self, name: str) -> bool:
        """An entity that is one known place plus lower-case words ("Aleppo for"): a bad span.

        The small model reads a line without a full stop (a deck, a caption) as
        a title and labels "Aleppo for" WORK_OF_ART; a real title or name has a
        second capitalised word ("Letters from Aleppo").  Such a label must not
        veto the place: the gazetteer scan then judges it like any other name.
        """
        words = name.split()
        capitalised = [w for w in words if w[:1].isupper()]
        if len(words) < 2 or len(capitalised) != 1:
            return False
        lower = [w for w in words if not w[:1].isupper()]
        return all(w.isalpha() and w.islower() for w in lower) and self._notable(capitalised[0])

    def _is_area_name(self, text: str, start: int, name: str, label: str) -> bool:
        """An entity the model calls an organisation or person that is wholly a place name.

        One word must be a major place ("Homs"), and a "person" must stand
        where a place does ("toward Kherson"); several words must name a
        country, province, region or reviewed landmark exactly ("Tamil Nadu", "the
        Eastern Ghouta", "The White House").
        """
        if " " not in name:
            if label == "ORG":
                return self._strong_entry(name, major=True)
            return after_locative_word(text, start) and (
                self._strong_entry(name, major=True) or self._city(name, CITY_AFTER_LOCATIVE)
            )
        gaz = self.gazetteer
        return any(  # or a landmark of the reviewed table: "The White House", "the Pentagon"
            c.match < MATCH_ALTERNATE
            and (gaz.fcode[c.index] in MAJOR_CODES or gaz.fclass[c.index] in LANDMARK_CLASSES)
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
        self, text: str, spans: dict, blocked: list, people: set[str], set_aside: list
    ) -> Iterator[Toponym]:
        """Gazetteer names in runs of capitalised words; those refused go to ``set_aside``."""
        taken = [(s, e) for s, e in spans]
        for start, end in proper_name_runs(text):
            joiner = CONNECTOR_INSIDE.search(text[start:end])
            for s, e in self._longest_matches(text, start, end):
                if any(s < te and ts < e for ts, te in taken):
                    continue
                person = name_key(text[s:e]) in people
                refusal = "a person's name in this story" if person else None
                refusal = refusal or self._refusal(text, s, e, blocked)
                if refusal is not None:
                    if refusal and self._strong_entry(text[s:e]):
                        label = None if person else self._whole_entity(s, e, blocked)
                        others = [*spans, *((t.start, t.end) for t in set_aside)]
                        source = self._label_source(text, s, e, label, others)
                        considered = self._toponym(text, text[s:e], s, e, source, CONSIDERED)
                        set_aside.append(replace(considered, note=refusal))
                    continue
                taken.append((s, e))
                name = text[s:e]
                role = "demonym" if name_key(name) in self.gazetteer.demonyms else "mention"
                if role == "mention" and joiner and inside_longer_name(start, s, e, joiner):
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
                s, e = trim_span(text, s, e)
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
        if key not in self.gazetteer.names and (words := camel_words(name)):
            return self._notable_name(words.lower())  # "#HongKong": a well-known place only
        gaz = self.gazetteer
        if key in gaz.names or key in gaz.demonyms or key in self.extra_names:
            return True
        if name.endswith(".") and key in gaz.qualifiers:
            return True
        return len(name) >= 6 and any(  # transliteration variant of a notable place
            gaz.population[c.index] >= 20_000 for c in gaz.candidates(name)
        )

    @staticmethod
    def _whole_entity(start: int, end: int, blocked: list) -> str | None:
        """The label of an entity that is exactly [start, end) and no place ("Oxford": ORG)."""
        return next((label for bs, be, label in blocked if (bs, be) == (start, end)), None)

    def _label_source(
        self, text: str, start: int, end: int, label: str | None, others: list
    ) -> str:
        """ "label" for a whole entity worth trying as a place despite its label, else "gazetteer".

        The text must place it ("in Sidon", "Oxford and Bicester"), or it must be
        too big a place to be a name, and not be the subject of "said".
        """
        if not label:
            return "gazetteer"
        if placed_by_context(text, start, end, others) or (
            not _SPEECH_AFTER.match(text, end)
            and self._too_big_to_be_a_name(text[start:end], label)
        ):
            return "label"
        return "gazetteer"

    def _too_big_to_be_a_name(self, name: str, label: str) -> bool:
        """A place so large that the model's label on it is more likely wrong than right.

        A one-word "person" must be a province, country or island ("Okinawa"):
        surnames are towns everywhere ("Bell", "Baker").  Anything else must be a
        city of BIG_CITY people or an admin unit, island or region ("Puebla").
        """
        gaz = self.gazetteer
        for c in gaz.candidates(name, fuzzy=False):
            if c.match != MATCH_NAME:
                continue
            row = c.index
            if label == "PERSON" and " " not in name:
                if gaz.fcode[row] in MAJOR_CODES or gaz.fcode[row] == "ISL":
                    return True
            elif gaz.fclass[row] == "P" and gaz.population[row] >= BIG_CITY:
                return True
            elif gaz.fclass[row] in ("A", "T", "L") and gaz.fcode[row] != "ADM2":
                return True
        return False

    def _refusal(self, text: str, start: int, end: int, blocked: list) -> str | None:
        """Why a gazetteer hit is no toponym (common word, person, organisation); None if it is.

        An empty reason means the hit is not worth a word (lower case, a title).
        """
        name = text[start:end]
        if not name[:1].isupper():
            return ""
        if name.isupper() and len(name) <= 2:
            return "a two-letter code with no place around it"
        key = name_key(name)
        if " " not in name and key in GENERIC_WORDS or key in GENERIC_NAMES:
            return ""  # "City", "Western": not a name at all, not worth a word
        if text[end : end + 1] == "." and name in TITLE_ABBREVIATIONS:
            return ""
        if text[start - 1 : start] == "#" and name.lower() not in WORDS_AND_COUNTRIES:
            # the test a lower-case name passes: "#Lahore" and "#HongKong" yes, "#Nice" no
            if self._notable_name((camel_words(name) or name).lower()):
                return None  # "#Lahore": a tag on a well-known place, whatever the model says
        for bs, be, label in blocked:
            if bs <= start and end <= be:
                if label == "ORG" and after_embedding_word(text, bs, start):
                    continue
                return f"part of {text[bs:be].strip()!r}, read as {LABEL_WORDS.get(label, label)}"
            if start < be and bs < end:
                return f"overlaps {text[bs:be].strip()!r}, read as {LABEL_WORDS.get(label, label)}"
        if key in self.extra_names or key in self.gazetteer.demonyms:
            return None
        if is_common_word(name):
            if self._country_name(name):
                return None  # "Nigeria rejected the plan": frequent because it is a country
            worth_a_word = self._notable(name)  # "Reading" yes, "We" and "Farmers" no
            if sentence_initial(text, start) or re.search(rf"\b{re.escape(name.lower())}\b", text):
                return "an ordinary English word here" if worth_a_word else ""
            if self._strong_entry(name, major=True):
                return None
            return "an ordinary English word" if worth_a_word else ""
        return None if self._strong_entry(name) else "only a small place has this name"

    def _notable_name(self, phrase: str) -> bool:
        """Does a lower-case phrase name a place notable enough to capitalise it?

        A country or division, a town of 20,000 whose name is no English word (bigger
        the commoner the word), a longer name of 5,000 or a named feature.
        """
        key = name_key(phrase)
        gaz = self.gazetteer
        if key in self.deny:
            return False
        if key in gaz.demonyms:
            return True
        if key not in gaz.names:
            return False
        single = " " not in phrase
        zipf = word_zipf(phrase) if single else 0.0
        common = zipf >= COMMON_WORD_ZIPF
        floor = next((f for z, f in TOWN_FLOORS if zipf < z), None) if single else 5_000
        for c in gaz.candidates(phrase, fuzzy=False):
            row = c.index
            if gaz.fcode[row] in MAJOR_CODES and c.match == MATCH_NAME:
                if zipf < CITY_WORD_ZIPF or gaz.fcode[row] == "PCLI":  # "turkey", never "west"
                    return True
            town = gaz.fclass[row] == "P" and gaz.name[row].lower() == phrase
            if zipf >= CITY_WORD_ZIPF:  # "paris" and "boston" are seats; "sale" is a suburb
                town = town and gaz.fcode[row] != "PPL"
            if floor is None or (common and not town):
                continue  # "bath" is a word before it is a district
            if c.match != MATCH_NAME and len(phrase) < 5:
                continue
            if gaz.population[row] >= floor:
                return True
            if not single and gaz.fclass[row] != "P":
                return True
        return False

    def _notable(self, name: str) -> bool:
        """A place big enough that a person of that name does not make it doubtful."""
        gaz = self.gazetteer
        return any(
            gaz.fclass[c.index] != "P" or gaz.population[c.index] >= 50_000
            for c in gaz.candidates(name)
        )

    def _city(self, name: str, population: int) -> bool:
        """Is some populated place of that very name at least ``population`` strong?"""
        gaz = self.gazetteer
        return any(
            c.match == MATCH_NAME
            and gaz.fclass[c.index] == "P"
            and gaz.population[c.index] >= population
            for c in gaz.candidates(name, fuzzy=False)
        )

    def _country_name(self, name: str) -> bool:
        """Is ``name`` a country's own name (not "Turkey", "Chad" or "Jordan": words and
        first names too, left to the model and the ordinary-word rule)?"""
        if name.lower() in WORDS_AND_COUNTRIES:
            return False
        gaz = self.gazetteer
        return any(
            c.match == MATCH_NAME and gaz.fcode[c.index] == "PCLI"
            for c in gaz.candidates(name, fuzzy=False)
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
    def qualifier_after(self, text: str, end: int, head: str = "") -> str:
        """The "Texas" of "Paris, Texas" after ``end``, by this recognizer's gazetteer."""
        return qualifier_after(self.gazetteer, text, end, head)
