"""Find the words that report events in a spaCy parse, and type them.

A trigger is a verb or an event noun whose lemma is in the taxonomy's
lexicon ("killed", "shelling", "the flood"); reporting verbs are not events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapapp.events.taxonomy import (
    NOT_EVENTS,
    NOUN_TYPES,
    TRIGGER_TYPES,
    disaster_kind,
    event_type,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

TRIGGER_POS = frozenset({"VERB", "NOUN"})
FIRE_VERBS = frozenset({"open", "exchange", "return", "come", "trade"})  # "opened fire": gunfire
#: Verbs that report an event only with a weapon or a vehicle as their subject.
NEEDS_A_CAUSE = frozenset({"hit"})
CAUSES = frozenset(
    "bomb missile shell rocket mortar strike airstrike raid blast explosion explosive mine "
    "landmine drone grenade artillery fire gunfire bullet car truck bus train plane vehicle "
    "boat ship tanker".split()
)
#: "fired tear gas", "used water cannon": police dispersing a crowd, a protest not a shelling.
CROWD_CONTROL = frozenset({"tear", "teargas", "rubber", "cannon", "pepper", "stun", "baton"})
#: "rocket fire", "artillery fire": fire from weapons, not a blaze.
WEAPONS = frozenset(
    "rocket mortar artillery gun tank sniper machine-gun machinegun cannon missile "
    "small-arms heavy automatic".split()
)


def find_triggers(doc: Doc) -> list[Token]:
    """The event triggers of ``doc`` in text order: lexicon verbs and event nouns."""
    return [token for token in doc if is_trigger(token)]


def is_trigger(token: Token) -> bool:
    """Does ``token`` report an event (a lexicon verb or event noun, not a reporting verb)?"""
    lemma = token.lemma_.lower()
    if token.pos_ not in TRIGGER_POS or lemma in NOT_EVENTS or lemma not in TRIGGER_TYPES:
        return False
    if token.pos_ == "NOUN" and token.dep_ == "compound":
        return False  # "protest leaders" names people, "bomb squad" a unit
    following = token.doc[token.i + 1] if token.i + 1 < len(token.doc) else None
    if token.lower_ == "according" and following is not None and following.lower_ == "to":
        return False  # "according to the monitor" attributes, it reports nothing
    if lemma in NEEDS_A_CAUSE and not _has_a_cause(token):
        return False  # "prices hit a record" reports no attack; "a missile hit the school" does
    if lemma in FIRE_VERBS and any(
        c.dep_ in ("dobj", "obj") and c.lemma_.lower() == "fire" for c in token.children
    ):
        return False  # "traded fire": the fire is the event, the verb only its manner
    return not (token.pos_ == "VERB" and token.dep_ == "amod")  # "a wounded soldier"


def _has_a_cause(token: Token) -> bool:
    """Is a weapon or a vehicle the subject of this verb ("a shell hit", "their car hit a
    mine")?  In "the storm hit" the storm is the event already."""
    subjects = (c for c in token.children if c.dep_ in ("nsubj", "nsubjpass", "agent"))
    return any(w.lemma_.lower() in CAUSES for s in subjects for w in s.subtree if w.pos_ == "NOUN")


def trigger_at(doc: Doc, start: int, end: int) -> Token | None:
    """The token that heads the characters ``[start, end)`` (a caller-given trigger)."""
    span: Span | None = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return None
    return span.root


def _against_a_crowd(token: Token) -> bool:
    """Does the verb fire or use tear gas, rubber bullets or water cannon ("fired tear gas")?"""
    objects = (c for c in token.children if c.dep_ in ("dobj", "obj"))
    return any(w.lemma_.lower() in CROWD_CONTROL for obj in objects for w in obj.subtree)


def trigger_type(token: Token) -> tuple[str, str | None]:
    """(type, disaster kind or None) of a trigger token, read with its head and objects."""
    lemma = token.lemma_.lower()
    noun = token.pos_ in ("NOUN", "PROPN")
    if not noun and _against_a_crowd(token):
        return "protest", None
    if lemma == "fire" and (
        token.head.lemma_.lower() in FIRE_VERBS
        or any(
            c.lemma_.lower() in WEAPONS for c in token.children if c.dep_ in ("compound", "amod")
        )
    ):
        return "shelling", None
    own = not noun and lemma in NOUN_TYPES  # "they stormed the base": an assault, no storm
    kind = None if own else disaster_kind(lemma)
    if kind is None:  # "a flood hit", "struck by an earthquake": the kind sits beside the verb
        for near in (*token.children, token.head):
            kind = kind or (disaster_kind(near.lemma_) if near.pos_ == "NOUN" else None)
    if kind is not None:
        return "disaster", kind
    return event_type(lemma, noun=noun), None
