"""Events per story: triggers, type, counts, actors, date and places.

`EventExtractor` parses each text with the full spaCy pipeline (tags, lemmas,
dependencies) and takes its candidate places from the geoparser's own
resolutions, so the events' places are the places the map already knows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from mapapp.events.counts import counts_for
from mapapp.events.dates import resolve_date
from mapapp.events.places import (
    LOCATIVE,
    PHRASE,
    PLACE_NOUNS,
    Candidate,
    PlaceModel,
    choose_places,
    modifies,
)
from mapapp.events.triggers import find_triggers, trigger_at, trigger_type
from mapapp.records import MAP_ROLES, Event, EventPlace

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

    from mapapp.geoparsing import Geoparser

Span = tuple[int, int]
Item = tuple[str, date | None, Span | None]  # (text, publication date, given trigger)
SUBJECT_DEPS = ("nsubj", "nsubjpass", "agent")
OBJECT_DEPS = ("dobj", "obj")
ENTITY_PLACES = ("GPE", "LOC", "FAC")
#: Roles of resolved toponyms that are no marker of their own but can lend their point to a
#: name the syntax places: "Ghouta" inside "the Ghouta region", read as part of a longer name.
LENDING_ROLES = frozenset({"embedded"})
NOT_NAMES = frozenset(
    "DATE TIME CARDINAL ORDINAL MONEY PERCENT QUANTITY LANGUAGE NORP EVENT".split()
)  # entity labels that never name a place, even after "in" ("in the 1967 war")
WRITTEN = "mapapp_written"  # Doc.user_data key: the text as written, when the parse read a copy
NAME_PARTS = ("compound", "flat", "conj", "appos")
#: The last word of a body's name, not a place's: "the Revolutionary Guards", "the Health Ministry".
ORGANISATION_HEADS = frozenset(
    "army guards forces force ministry party group front brigade brigades division council "
    "police agency units unit movement committee court series league union coalition militia "
    "battalion regiment corps government organisation organization network".split()
)
#: Verbs whose object is a place, whatever the small model calls the name: "shelled Fuah",
#: "Mhardeh was retaken".  Not "capture" or "seize" (a man, a title: half the names
#: captured in news copy are people), nor "attack" or "target" (a unit), nor "encircle".
TAKEN_PLACES = frozenset(
    "recapture retake storm overrun shell bombard besiege liberate enter patrol raze".split()
)
NAMED_PLACE_NOUNS = PLACE_NOUNS - {"state", "camp", "capital", "border"}  # "X district", not
# "the Islamic State", "the Clinton camp"


class EventExtractor:
    """Find the events of texts and their places; build once (model, geoparser), use often."""

    def __init__(self, geoparser: Geoparser, nlp: Language, model: PlaceModel | None = None):
        self.geoparser = geoparser
        self.nlp = nlp
        self.model = model or PlaceModel.load()

    @classmethod
    def from_geoparser(cls, geoparser: Geoparser, model_name: str) -> EventExtractor:
        """An extractor that parses with the full spaCy pipeline ``model_name``."""
        import spacy

        return cls(geoparser, spacy.load(model_name))

    def parse_many(self, texts: Sequence[str], batch_size: int = 32) -> list[Doc]:
        """The full parse of each text, read with case restored as the recogniser reads it."""
        readable = self.geoparser.recognizer.readable
        docs = list(self.nlp.pipe((readable(t) for t in texts), batch_size=batch_size))
        return [as_written(doc, text) for doc, text in zip(docs, texts, strict=True)]

    def candidates_many(self, texts: Sequence[str]) -> list[list[Candidate]]:
        """The geoparser's map places of each text as event-place candidates."""
        found = self.geoparser.geoparse_many([(text, None) for text in texts])
        return [[candidate(t) for t in places if is_candidate(t)] for places in found]

    def extract_many(self, items: Sequence[Item], batch_size: int = 32) -> list[list[Event]]:
        """The events of each (text, published, trigger) item; with a trigger, that one only."""
        texts = [text for text, _, _ in items]
        docs = self.parse_many(texts, batch_size)
        out = []
        for (_, published, given), doc, places in zip(
            items, docs, self.candidates_many(texts), strict=True
        ):
            out.append(self.events_of(doc, with_entities(doc, places), published, given))
        return out

    def events_of(
        self, doc: Doc, places: list[Candidate], published: date | None, given: Span | None
    ) -> list[Event]:
        """The events of one parsed text, given its candidate places."""
        if given is not None:
            token = trigger_at(doc, *given)
            triggers = [] if token is None else [token]
        else:
            triggers = find_triggers(doc)
        dateline = next((c for c in places if c.role == "dateline"), None)
        events: list[Event] = []
        carried: tuple[EventPlace, ...] = ()  # the last event's own places, its sentence
        carried_from = carried_at = 0  # and its trigger
        for trigger in triggers:
            sentence = trigger.sent
            if "\n" in doc.text[carried_at : trigger.idx]:
                carried = ()  # a new paragraph (or line): nothing carries over
            earlier = carried if carried_from < sentence.start_char else ()
            event = self._event(doc, trigger, places, published, dateline, given, earlier)
            if event.places and _own_places(event, sentence):
                carried, carried_from, carried_at = event.places, sentence.start_char, trigger.idx
            events.append(event)
        return events

    def _event(
        self,
        doc: Doc,
        trigger: Token,
        places: list[Candidate],
        published: date | None,
        dateline: Candidate | None,
        given: Span | None,
        carried: tuple[EventPlace, ...] = (),
    ) -> Event:
        sentence = trigger.sent
        kind_of, kind = trigger_type(trigger)
        start, end = given or (trigger.idx, trigger.idx + len(trigger.text))
        when = resolve_date(sentence.text, published, near=trigger.idx - sentence.start_char)
        counts = counts_for(trigger)
        chosen = choose_places(doc, trigger, places, self.model, dateline, carried)
        written = doc.user_data.get(WRITTEN, doc.text)  # cut what is shown from the text as written
        return Event(
            start=sentence.start_char,
            end=sentence.end_char,
            trigger=written[start:end],
            trigger_start=start,
            trigger_end=end,
            type=kind_of,
            kind=kind,
            date=when.date,
            date_start=when.start,
            date_end=when.end,
            date_text=when.text,
            date_is_publication=when.is_publication,
            subject=_argument(trigger, SUBJECT_DEPS, written),
            object=_argument(trigger, OBJECT_DEPS, written),
            places=chosen,
            score=max((p.score for p in chosen), default=0.0),
            **counts,
        )


def _own_places(event: Event, sentence: Any) -> bool:
    """Are the event's places named in its own sentence (not carried, not the dateline)?"""
    return all(sentence.start_char <= p.start and p.end <= sentence.end_char for p in event.places)


def as_written(doc: Doc, text: str) -> Doc:
    """The parse of a case-restored copy, noting the text as written (the trigger is cut
    from it); the same document when the copy is the text."""
    if doc.text != text:
        doc.user_data[WRITTEN] = text
    return doc


def is_candidate(toponym: dict[str, Any]) -> bool:
    """A map place, or a resolved toponym that may lend its point (see LENDING_ROLES)."""
    role = toponym["role"]
    return role in MAP_ROLES or (role in LENDING_ROLES and toponym["lat"] is not None)


def with_entities(doc: Doc, places: list[Candidate]) -> list[Candidate]:
    """The geoparser's places plus the parse's GPE/LOC/FAC entities it left out.

    The geoparser drops names it cannot place on the map; an event may still be there.
    Such a name is unresolved unless a resolved toponym inside it lends it its point.
    """
    lenders = [c for c in places if c.role in LENDING_ROLES]
    places = [c for c in places if c.role not in LENDING_ROLES]
    extra = [
        lent(Candidate(e.start_char, e.end_char, e.text), lenders)
        for e in doc.ents
        if e.label_ in ENTITY_PLACES
        and not any(e.start_char < c.end and c.start < e.end_char for c in places)
    ]
    return with_phrases(doc, sorted(places + extra, key=lambda c: c.start), lenders)


def lent(name: Candidate, lenders: Sequence[Candidate]) -> Candidate:
    """``name`` with the point of the resolved toponym it holds, if there is one."""
    inner = next((c for c in lenders if name.start <= c.start and c.end <= name.end), None)
    if inner is None:
        return name
    return replace(
        name,
        lat=inner.lat,
        lon=inner.lon,
        geonameid=inner.geonameid,
        country_code=inner.country_code,
        feature_code=inner.feature_code,
    )


def with_phrases(
    doc: Doc, places: list[Candidate], lenders: Sequence[Candidate] = ()
) -> list[Candidate]:
    """The candidates plus names the small model mislabels or misses but the syntax places:
    an entity of another label ("in Palmyra" as PERSON, "Kuweires Military Airport" as ORG)
    or a run of bare proper nouns, in a place's slot: the object of "in/near/at...", the
    name of a place noun ("the city of Kut", "the Amil neighbourhood"), or a place noun
    itself.  They stay unresolved and carry the role ``phrase``, which the event model weighs.
    """
    found: list[Candidate] = []

    def add(start: int, end: int) -> None:
        for s, e in name_parts(doc.text, start, end):
            if not any(s < c.end and c.start < e for c in (*places, *found)):
                found.append(lent(Candidate(s, e, doc.text[s:e], role=PHRASE), lenders))

    for ent in doc.ents:
        if ent.label_ in NOT_NAMES or ent.label_ in ENTITY_PLACES:
            continue
        if in_place_slot(ent.root) or ent.root.lemma_.lower() in PLACE_NOUNS:
            add(ent.start_char, ent.end_char)
    run: list[Token] = []
    for token in (*doc, None):
        if token is not None and token.pos_ == "PROPN" and not token.ent_type_:
            run.append(token)
            continue
        if run:
            inside = {t.i for t in run}
            root = next((t for t in run if t.head.i not in inside), run[-1])
            if in_place_slot(root):
                add(run[0].idx, run[-1].idx + len(run[-1].text))
            run = []
    return sorted(places + found, key=lambda c: c.start)


def name_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The names in a phrase read off the parse: split at commas ("Qandil, Basyan"), without
    a possessive or "#", and never an acronym ("GMT", "ISIS"), a lone place noun
    ("Governorate") or a name of a body ("the Syrian Arab Army's", "the Revolutionary Guards")."""
    parts = []
    for piece in re.finditer(r"[^,;]+", text[start:end]):
        name = piece.group()
        lead = len(name) - len(name.lstrip(" #"))
        name = name.strip(" #")
        name = re.sub(r"(?:['’]s?|[^\w.)]+)$", "", name)  # "Army's", "Basyan ."
        words = name.split()
        if not words or len(name) < 3 or name.isupper() and len(name) <= 5:
            continue
        last = words[-1].lower()
        if len(words) == 1 and last in PLACE_NOUNS or last in ORGANISATION_HEADS:
            continue
        s = start + piece.start() + lead
        parts.append((s, s + len(name)))
    return parts


def in_place_slot(token: Token) -> bool:
    """Does the name headed by this token stand where a place stands: after "in/near/at...",
    after "the city of", before "district" (through a list: "the villages of X and Y"), or
    as what is retaken or shelled ("shelled X", "X was retaken": a town, not a man)?"""
    while token.dep_ in NAME_PARTS and token.dep_ != "compound" and token.head.i != token.i:
        token = token.head
    head = token.head
    if token.dep_ in ("dobj", "nsubjpass") and head.pos_ == "VERB":
        return head.lemma_.lower() in TAKEN_PLACES
    if token.dep_ == "pobj":
        return head.lower_ in LOCATIVE or (
            head.lower_ == "of" and head.head.lemma_.lower() in PLACE_NOUNS
        )
    return modifies(token) and head.lemma_.lower() in NAMED_PLACE_NOUNS


def candidate(toponym: dict[str, Any]) -> Candidate:
    """A candidate place from one of the geoparser's toponym dicts."""
    return Candidate(
        start=toponym["start"],
        end=toponym["end"],
        name=toponym["name"],
        role=toponym["role"],
        lat=toponym["lat"],
        lon=toponym["lon"],
        geonameid=toponym["geonameid"],
        country_code=toponym["country_code"],
        feature_code=toponym["feature_code"],
    )


def _argument(trigger: Token, deps: tuple[str, ...], text: str) -> str | None:
    """The trigger's subject or object phrase as ``text`` writes it, when the parse has one."""
    for child in trigger.children:
        if child.dep_ in deps:
            phrase = child if child.dep_ != "agent" else next(iter(child.children), child)
            first, last = phrase.left_edge, phrase.right_edge
            return text[first.idx : last.idx + len(last.text)][:120]
    return None
