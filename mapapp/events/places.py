"""Which of a sentence's places an event happened at, with a calibrated score.

Each (trigger, place) pair is described by its dependency path: does the
trigger govern the place through "in/near/outside/at", or does the place hang
off an actor ("backed by Russia"), a possessor ("Iran's minister") or another
clause ("talks in Geneva", reported beside a killing)?  A logistic model over
these features, fitted by ``benchmarks/fit_events.py`` on the fit half of the
event-location corpus and stored in ``mapapp/data/event_places.json``, turns
them into a probability.  The dateline serves only when the sentence names no
place the model accepts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mapapp.events.triggers import is_trigger
from mapapp.records import EventPlace
from mapapp.settings import PACKAGE_DATA

if TYPE_CHECKING:
    from collections.abc import Callable

    from spacy.tokens import Doc, Token

MODEL_FILE = PACKAGE_DATA / "event_places.json"
LOCATIVE = frozenset(
    "in at near outside inside on across throughout around into within along between "
    "over through towards toward onto off beyond".split()
)
AGENTIVE = frozenset("by with for against from to of about than like as".split())
REPORTING = frozenset("say tell report add claim announce state quote accuse urge".split())
PLACE_NOUNS = frozenset(
    "city town village province district region area capital neighborhood neighbourhood "
    "suburb camp state county governorate port island border outskirts municipality "
    "prefecture taluk tehsil subdistrict oblast canton parish borough".split()
)
#: Place nouns of a settlement: in "the Ruritanian town of Ashford" the name after "of" is
#: the town; in "the Tarnak neighbourhood of Kelso" the one before it is the neighbourhood.
SETTLEMENT_NOUNS = frozenset("city town village hamlet port camp capital".split())
ACTOR_DEPS = frozenset({"nsubj", "nsubjpass", "dobj", "agent", "poss", "amod", "attr"})
LINKS = frozenset({"compound", "flat", "conj", "appos", "cc"})  # a name's parts and lists
PREP_FEATURES = ("in", "at", "near", "outside", "on", "from", "to", "of", "by", "across", "into")
DEP_FEATURES = ("pobj", "nsubj", "nsubjpass", "dobj", "compound", "poss", "amod", "appos", "conj",
                "npadvmod")  # fmt: skip
DATELINE_SCORE = 0.35  # the dateline as the place when the sentence names none the model takes
CARRIED_SCORE = 0.35  # at most this for a place carried from the paragraph's earlier event
TRIGGER_DEPS = ("ROOT", "conj", "xcomp", "advcl", "relcl", "ccomp", "pcomp", "pobj", "dobj",
                "nsubj", "nsubjpass", "acl", "amod", "compound")  # fmt: skip
PHRASE = "phrase"  # a candidate read off the parse, not a recognised place (see with_phrases)
COUNTRY_CODES = frozenset({"PCLI", "PCLD", "PCLF", "PCLS", "PCL", "PCLIX", "TERR"})


@dataclass(frozen=True)
class Candidate:
    """A recognised (and, if possible, resolved) place the event may have happened at."""

    start: int
    end: int
    name: str
    role: str = "mention"
    lat: float | None = None
    lon: float | None = None
    geonameid: int | None = None
    country_code: str | None = None
    feature_code: str | None = None

    def as_event_place(self, score: float) -> EventPlace:
        """This candidate as the event's place, with the model's probability."""
        return EventPlace(
            self.start,
            self.end,
            self.name,
            self.lat,
            self.lon,
            self.geonameid,
            self.country_code,
            round(score, 4),
        )


@dataclass(frozen=True)
class PlaceModel:
    """Logistic weights over named pair features, and the probability a place must reach."""

    weights: dict[str, float]
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> PlaceModel:
        """The fitted model, or a hand-set one (locative governance only) before fitting."""
        if not path.exists():
            return cls({"bias": -2.0, "locative_path": 3.0, "direct": 1.0, "actor": -2.0})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(dict(data["weights"]), float(data.get("threshold", 0.5)))

    def probability(self, features: dict[str, float]) -> float:
        """P(event happened at the place | the pair's features)."""
        z = sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def place_token(doc: Doc, candidate: Candidate) -> Token | None:
    """The syntactic head of the candidate's characters in the parse."""
    span = doc.char_span(candidate.start, candidate.end, alignment_mode="expand")
    return span.root if span is not None and len(span) else None


def pair_features(
    trigger: Token, place: Token, candidate: Candidate, others: int
) -> dict[str, float]:
    """The features of one (trigger, place) pair: the dependency path, the place's kind."""
    up = _climb(place)
    trigger_line = [trigger, *trigger.ancestors]
    line_ids = [t.i for t in trigger_line]
    common = next((t for t in up if t.i in line_ids), None)
    below = up[: up.index(common)] if common is not None else up
    down = trigger_line[: trigger_line.index(common)] if common is not None else trigger_line
    preps = [t.lower_ for t in below if _is_prep(t)]
    verbs = [t for t in below + down[1:] if t.pos_ in ("VERB", "AUX") and t.i != trigger.i]
    attach = _attachment(place)
    head = attach.head
    features = {
        "bias": 1.0,
        "locative_path": float(bool(preps) and preps[0] in LOCATIVE),
        "agentive_path": float(bool(preps) and preps[0] in AGENTIVE),
        "of_place_noun": float(
            attach.dep_ == "pobj"
            and head.lower_ == "of"
            and head.head.lemma_.lower() in PLACE_NOUNS
        ),  # fmt: skip
        "modifies_place_noun": float(
            attach.dep_ in ("compound", "amod", "nmod", "poss")
            and attach.head.lemma_.lower() in PLACE_NOUNS
        ),  # fmt: skip
        "direct": float(common == trigger and len(below) <= 3),
        "under_trigger": float(common == trigger),
        "trigger_under_place": float(common == place),
        "no_common": float(common is None),
        "actor": float(attach.dep_ in ACTOR_DEPS),
        "possessive": float(attach.dep_ == "poss" or attach.dep_ == "amod"),
        "verbs_between": min(len(verbs), 3) / 3,
        "reporting_between": float(any(v.lemma_.lower() in REPORTING for v in verbs)),
        "path_length": min(len(below) + len(down), 10) / 10,
        "before_trigger": float(place.i < trigger.i),
        "distance": min(abs(place.i - trigger.i), 30) / 30,
        "sentence_initial": float(bool(preps) and below[-1].i <= 2 and preps[0] in LOCATIVE),
        "only_place": float(others == 0),
        "many_places": min(others, 4) / 4,
        "country": float(candidate.feature_code in COUNTRY_CODES),
        "unresolved": float(candidate.lat is None),
        "noun_trigger": float(trigger.pos_ == "NOUN"),
    }
    first = preps[0] if preps else "none"
    for word in PREP_FEATURES:
        features["prep_" + word] = float(first == word)
    dep = attach.dep_ if attach.dep_ in DEP_FEATURES else "other"
    for name in (*DEP_FEATURES, "other"):
        features["dep_" + name] = float(dep == name)
    others_on_path = [t for t in below[1:] if t.i != trigger.i and is_trigger(t)]
    features["other_event_between"] = float(bool(others_on_path))  # "talks in Geneva"
    features["head_is_trigger"] = float(attach.head.i == trigger.i or head.head.i == trigger.i)
    features.update(_attachment_features(trigger, place, attach))
    features["phrase"] = float(candidate.role == PHRASE)
    return features


def _is_prep(token: Token) -> bool:
    """Is the token a preposition on the path, past "the city of" (where the city is the place)?"""
    if token.dep_ != "prep" and token.pos_ != "ADP":
        return False
    return not (token.lower_ == "of" and token.head.lemma_.lower() in PLACE_NOUNS)


def _attachment_features(trigger: Token, place: Token, attach: Token) -> dict[str, float]:
    """How the place's phrase hangs in the sentence: the trigger's clause, the place's head."""
    head = attach.head
    clause = trigger.dep_ if trigger.dep_ in TRIGGER_DEPS else "other"
    features = {"tdep_" + dep: float(clause == dep) for dep in (*TRIGGER_DEPS, "other")}
    doc = trigger.doc
    pobj = attach.dep_ == "pobj"
    features.update(
        head_is_verb=float(head.pos_ in ("VERB", "AUX")),
        prep_head_is_trigger=float(pobj and head.head.i == trigger.i),
        prep_head_is_noun=float(pobj and head.head.pos_ in ("NOUN", "PROPN")),
        prep_head_is_place=float(pobj and head.head.ent_type_ in ("GPE", "LOC", "FAC")),
        trig_is_head_of_head=float(head.head.i == trigger.i or head.i == trigger.i),
        comma_between=float(
            any(t.text in ",;" for t in doc[min(place.i, trigger.i) : max(place.i, trigger.i)])
        ),
        paren=float(any(t.text in "()" for t in doc[max(0, place.i - 2) : place.i + 2])),
        place_pos_propn=float(place.pos_ == "PROPN"),
        ent_gpe=float(place.ent_type_ == "GPE"),
        ent_loc=float(place.ent_type_ in ("LOC", "FAC")),
        ent_other=float(place.ent_type_ not in ("GPE", "LOC", "FAC", "")),
    )
    return features


def sentence_features(pairs: list[tuple[Candidate, Token, dict[str, float]]]) -> None:
    """Add what each pair's place is beside the sentence's other places: the nearest to the
    trigger, the only locative one, or the wider area a finer place sits in ("the town of X
    in Y": Y is context)."""
    if not pairs:
        return
    shortest = min(f["path_length"] for _, _, f in pairs)
    locatives = sum(f["locative_path"] for _, _, f in pairs)
    for candidate, token, f in pairs:
        others = [(c, t) for c, t, _ in pairs if c is not candidate]
        f["shortest"] = float(f["path_length"] == shortest)
        f["locatives"] = min(locatives, 3) / 3
        f["sole_locative"] = float(locatives == 1 and f["locative_path"] == 1)
        resolved = candidate.lat is not None
        f["under_other_place"] = float(_hangs_off(token, others, resolved))
        f["over_other_place"] = float(
            any(_hangs_off(t, [(candidate, token)], c.lat is not None) for c, t in others)
        )
        f["country_beside_finer"] = float(
            f["country"] == 1 and any(c.feature_code not in COUNTRY_CODES for c, _ in others)
        )


def _hangs_off(place: Token, others: list[tuple[Candidate, Token]], resolved: bool) -> bool:
    """Does the place's phrase qualify another candidate, so names the wider area it sits
    in ("the town of Kelso in Ruritania", "Warangal district of Andhra Pradesh", "Dunmore,
    a village near Kelso", "in Mosul, in northern Iraq": the second is context)?  Whether
    the place has a point settles "the A suburb of B" (see `_of_names_the_place`)."""

    def owner(token: Token) -> Candidate | None:
        return next((c for c, _ in others if c.start <= token.idx < c.end), None)

    def other(token: Token) -> bool:
        return owner(token) is not None

    def names_other(noun: Token) -> bool:  # "Warangal district", "the town of Kelso"
        return any(
            other(child)
            or (child.dep_ == "prep" and child.lower_ == "of" and any(map(other, child.children)))
            for child in noun.children
            if child.dep_ in ("compound", "prep")
            or (child.dep_ == "amod" and child.pos_ == "PROPN")
        )

    noun = place.head
    if modifies(place) and noun.lemma_.lower() in PLACE_NOUNS:  # "the A suburb of B", at A
        named = _named_after_of(noun, owner)
        if named is not None:
            return _of_names_the_place(noun, resolved, named.lat is not None)
    token = _unit(place)
    if _after_place_comma(token, other):
        return True
    for _ in range(6):
        if token.dep_ == "pobj" and (token.head.lower_ in LOCATIVE or token.head.lower_ == "of"):
            head = token.head.head
        elif token.dep_ == "appos":
            head = token.head
        else:
            return False
        if head.i == token.i:
            return False
        if other(head):
            return True
        if head.lemma_.lower() not in PLACE_NOUNS:
            return False
        if token.head.lower_ == "of" and token.lemma_.lower() not in PLACE_NOUNS:
            modifier = next((owner(c) for c in head.children if modifies(c) and other(c)), None)
            if modifier is not None:  # "the A suburb of B", at B
                return not _of_names_the_place(head, modifier.lat is not None, resolved)
        if names_other(head):
            return True
        token = head
    return False


def _named_after_of(noun: Token, owner: Callable[[Token], Candidate | None]) -> Candidate | None:
    """The candidate named after the place noun's "of" ("the Kelso suburb of Dunmore")."""
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            for grandchild in child.children:
                if grandchild.lemma_.lower() not in PLACE_NOUNS and owner(grandchild):
                    return owner(grandchild)
    return None


def _of_names_the_place(noun: Token, modifier_resolved: bool, named_resolved: bool) -> bool:
    """In "the A <noun> of B", is B the place the noun is, and A the wider area around it?

    English has both: "the Ruritanian town of Ashford" (B), "the Tarnak neighbourhood of
    Kelso" (A), and "the Kelso suburb of Dunmore" beside "the Dunmore suburb of Kelso".  When
    the gazetteer placed one name and not the other, the unplaced one is the small place;
    else a town or village is the name after "of", a district or neighbourhood the one before
    ("Warangal district of Andhra Pradesh").
    """
    if modifier_resolved != named_resolved:
        return modifier_resolved
    return noun.lemma_.lower() in SETTLEMENT_NOUNS


def modifies(token: Token) -> bool:
    """Is the token a name put before a noun ("the Amil neighbourhood"; the small parser
    often calls a proper noun there an adjective: "the Ghouta region")?"""
    return token.dep_ == "compound" or (
        token.dep_ == "amod" and (token.pos_ == "PROPN" or bool(token.ent_type_))
    )


def _after_place_comma(place: Token, other: Callable[[Token], bool]) -> bool:
    """Is the place's "in/near..." phrase set off by a comma right after another candidate?"""
    if place.dep_ != "pobj":
        return False
    prep = place.head
    doc = place.doc
    return prep.i >= 2 and doc[prep.i - 1].text == "," and other(doc[prep.i - 2])


def _unit(token: Token) -> Token:
    """The phrase a name heads or names ("Kelso provinces", "the Tarnak region": the noun)."""
    while modifies(token) and token.head.lemma_.lower() in PLACE_NOUNS and token.head != token:
        token = token.head
    return token


def _list_head(token: Token) -> tuple[Token, bool]:
    """The first item of the list the name's phrase is in, and whether it is in one."""
    token, listed = _unit(token), False
    while token.dep_ == "conj" and token.head != token:
        token, listed = _unit(token.head), True
    return token, listed or any(child.dep_ == "conj" for child in token.children)


def _listed_with(one: Token, other: Token) -> bool:
    """Are the two names items of one list ("Dunmore and Ashford", "Kelso and Tarnak")?"""
    (a, listed_a), (b, listed_b) = _list_head(one), _list_head(other)
    return one.i != other.i and listed_a and listed_b and a.i == b.i


def _climb(place: Token) -> list[Token]:
    """The place token and its ancestors, a name's parts and lists passed over as one."""
    return [place, *place.ancestors]


def _attachment(place: Token) -> Token:
    """The token that links the place's phrase to the rest ("Aleppo and Homs": Aleppo)."""
    while place.dep_ in LINKS and place.head.i != place.i:
        place = place.head
    return place


def names_a_source(place: Token, trigger: Token) -> bool:
    """Is the place part of who reports ("Iran's news agency reported", "the Britain-based
    monitor said"), not of what happened?  Its phrase is the subject of a reporting verb
    (or hangs off the object of "according to") that does not govern through the trigger."""
    for token in (place, *place.ancestors):
        if token.i == trigger.i:
            return False
        head = token.head
        if token.dep_ in ("nsubj", "nsubjpass") and head.lemma_.lower() in REPORTING:
            return trigger.i not in {t.i for t in head.subtree} or trigger.i not in {
                t.i for t in token.subtree
            }
        if token.dep_ == "pobj" and head.lower_ == "to" and head.head.lower_ == "according":
            return True
    return False


def pair_table(
    doc: Doc, trigger: Token, candidates: list[Candidate]
) -> list[tuple[Candidate, Token, dict[str, float]]]:
    """(candidate, its token, features) for each candidate in the trigger's sentence that
    does not name a source; what the model scores and what ``fit_events.py`` fits on."""
    sentence = trigger.sent
    inside = [
        c for c in candidates if sentence.start_char <= c.start and c.end <= sentence.end_char
    ]
    pairs = []
    for candidate in inside:
        token = place_token(doc, candidate)
        if token is None or names_a_source(token, trigger):
            continue
        pairs.append((candidate, token, pair_features(trigger, token, candidate, len(inside) - 1)))
    sentence_features(pairs)
    return pairs


def choose_places(
    doc: Doc,
    trigger: Token,
    candidates: list[Candidate],
    model: PlaceModel,
    dateline: Candidate | None = None,
    carried: Sequence[EventPlace] = (),
) -> tuple[EventPlace, ...]:
    """The event's places among the trigger's sentence's candidates.

    When the sentence names no place: the places ``carried`` over from the paragraph's
    earlier event ("Crowds marched in Multan. The protest ended at dusk."), else the
    dateline, which serves only the body after it (a headline's event is not the filing
    city's).
    """
    pairs = [
        (c, token, model.probability(f))
        for c, token, f in pair_table(doc, trigger, candidates)
        if not (c.role == "dateline" and trigger.idx < c.start)
    ]  # a headline's event did not happen where the story was filed
    taken = {id(c): p for c, _, p in pairs if p >= model.threshold}
    for c, token, _ in pairs:  # "in Kelso and Tarnak provinces": a list shares its lead's
        lead = max(
            (taken.get(id(o), 0.0) for o, t, _ in pairs if _listed_with(t, token)), default=0
        )
        if id(c) not in taken and lead:
            taken[id(c)] = lead
    kept = [(c, token) for c, token, _ in pairs if id(c) in taken]
    chosen = [
        c.as_event_place(taken[id(c)])
        for c, token in kept
        if not _hangs_off(token, [(o, t) for o, t in kept if o is not c], c.lat is not None)
    ]  # "in Tarnak district of Kelso province": the wider area is context
    sentence = trigger.sent
    inside = any(
        sentence.start_char <= c.start
        and c.end <= sentence.end_char
        and (c.role != PHRASE or c.lat is not None)
        for c in candidates
    )  # a place the sentence names (a phrase only with a point) is closer than the dateline
    if chosen or inside:
        return tuple(chosen)
    if carried:
        return tuple(replace(p, score=min(p.score, CARRIED_SCORE)) for p in carried)
    if dateline is not None and dateline.start <= trigger.idx:
        return (dateline.as_event_place(DATELINE_SCORE),)
    return ()
