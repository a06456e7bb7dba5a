"""Casualty and arrest counts read from a trigger's syntax.

"At least 17 people were killed" -> killed 17; "killing eight people and
wounding about 20" -> killed 8, injured 20; "more than two dozen civilians"
-> at least 24.  A count is the lower bound the text states, or None.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Token

COUNT_FIELDS = ("killed", "injured", "displaced", "arrested")
#: The verbs (and nouns) whose patient is counted, by the field it fills.
COUNT_LEMMAS: dict[str, str] = {
    **dict.fromkeys("kill murder massacre execute behead slaughter assassinate".split(), "killed"),
    **dict.fromkeys("wound injure hurt maim".split(), "injured"),
    **dict.fromkeys("displace uproot evacuate".split(), "displaced"),
    **dict.fromkeys("arrest detain apprehend jail imprison".split(), "arrested"),
}
#: Verbs whose subject is the counted people ("eight people died", "200 fled").
SUBJECT_LEMMAS: dict[str, str] = {"die": "killed", "perish": "killed", "flee": "displaced"}

_UNITS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"dozen": 12, "score": 20, "hundred": 100, "thousand": 1000, "million": 1_000_000}
#: Plural vague quantities as the least they can mean ("dozens" is at least two dozen).
_VAGUE = {"dozens": 24, "scores": 40, "hundreds": 200, "thousands": 2000, "several": 3}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")


def parse_quantity(text: str) -> int | None:
    """The number a phrase states ("at least 17", "more than two dozen", "1,200") or None."""
    words = re.findall(r"\d[\d,]*(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)?", text.lower())
    value: int | None = None
    current = 0
    for word in words:
        if _NUMBER.fullmatch(word):
            current += int(float(word.replace(",", "")))
        elif word in _VAGUE and not current:
            return _VAGUE[word]
        elif word in _SCALES and (current or word == "dozen"):
            current = (current or 1) * _SCALES[word]
        elif "-" in word and all(part in _UNITS for part in word.split("-")):
            current += sum(_UNITS[part] for part in word.split("-"))  # "twenty-five"
        elif word in _UNITS and (word not in ("a", "an") or not current):
            current += _UNITS[word]
        elif current:
            break
        if current:
            value = current
    return value


def counts_for(trigger: Token) -> dict[str, int | None]:
    """killed/injured/displaced/arrested for the event of ``trigger`` (None where unstated)."""
    found: dict[str, int | None] = dict.fromkeys(COUNT_FIELDS)
    for verb in _family(trigger):
        lemma = verb.lemma_.lower()
        field = _field(verb)
        if field is None or found[field] is not None:
            continue
        found[field] = _patient_count(verb, subject=lemma in SUBJECT_LEMMAS)
    return found


def _family(trigger: Token) -> list[Token]:
    """The trigger, the words above it up to its clause's root, and verbs joined to them.

    "killing 8 and wounding 20", "an attack killed 17", "17 were killed in the shelling".
    """
    line = [trigger]
    while line[-1].head.i != line[-1].i and len(line) < 4:
        line.append(line[-1].head)
    out = list(line)
    for token in line:
        out.extend(c for c in token.children if c.dep_ in ("conj", "advcl", "xcomp", "relcl"))
    return out


def _field(verb: Token) -> str | None:
    """The count a verb reports: "killed", or "shot dead" / "gunned down" as killed too."""
    lemma = verb.lemma_.lower()
    if lemma in ("shoot", "gun", "cut") and any(
        c.lower_ in ("dead", "down") for c in verb.children
    ):
        return "killed"
    return COUNT_LEMMAS.get(lemma) or SUBJECT_LEMMAS.get(lemma)


def _patient_count(verb: Token, subject: bool) -> int | None:
    """The count of the people a verb acts on (its object, passive or intransitive subject)."""
    roles = ("nsubj", "nsubjpass") if subject else ("dobj", "nsubjpass", "obj")
    for child in verb.children:
        if child.dep_ in roles:
            return _phrase_count(child)
    if verb.dep_ in ("acl", "relcl") and not subject:  # "17 people killed in the blast"
        return _phrase_count(verb.head)
    return None


def _phrase_count(noun: Token) -> int | None:
    """The number in a noun phrase: "at least 17 people", "17", "a soldier" (1)."""
    left = [t for t in noun.subtree if t.i <= noun.i]
    text = " ".join(t.text for t in left)
    value = parse_quantity(text)
    if value is None and noun.tag_ == "NN" and any(c.lower_ in ("a", "an") for c in noun.lefts):
        return 1
    return value
