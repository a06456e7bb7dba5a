"""Find the words that report events in a spaCy parse, and type them.

A trigger is a verb or an event noun whose lemma is in the taxonomy's
lexicon ("killed", "shelling", "the flood"); reporting verbs are not events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapapp.events.taxonomy import NOT_EVENTS, TRIGGER_TYPES, disaster_kind, event_type

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

TRIGGER_POS = frozenset({"VERB", "NOUN"})
FIRE_VERBS = frozenset({"open", "exchange", "return", "come"})  # "opened fire": gunfire


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
    return not (token.pos_ == "VERB" and token.dep_ == "amod")  # "a wounded soldier"


def trigger_at(doc: Doc, start: int, end: int) -> Token | None:
    """The token that heads the characters ``[start, end)`` (a caller-given trigger)."""
    span: Span | None = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return None
    return span.root


def trigger_type(token: Token) -> tuple[str, str | None]:
    """(type, disaster kind or None) of a trigger token, read with its head and objects."""
    lemma = token.lemma_.lower()
    noun = token.pos_ in ("NOUN", "PROPN")
    if lemma == "fire" and token.head.lemma_.lower() in FIRE_VERBS:
        return "shelling", None
    kind = disaster_kind(lemma)
    if kind is None:  # "a flood hit", "struck by an earthquake": the kind sits beside the verb
        for near in (*token.children, token.head):
            kind = kind or (disaster_kind(near.lemma_) if near.pos_ == "NOUN" else None)
    if kind is not None:
        return "disaster", kind
    return event_type(lemma, noun=noun), None
