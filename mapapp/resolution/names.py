"""What a longer place name is named for: "Oaxaca State" is Oaxaca, "West Surrey" Surrey.

The resolver places a name the gazetteer lacks by its head, and the article's
context counts a name and its head as one name (a mention of "Buenos Aires
Province" is no evidence about what a plain "Buenos Aires" is).
"""

from __future__ import annotations

import functools

from mapapp.recognition.gazetteer import MATCH_ALTERNATE, Candidate, Gazetteer, name_key
from mapapp.recognition.place_words import GENERIC_WORDS

PART_OF_CITY = 100_000  # "South Kelso" is a part of the city Kelso when it is this big
#: Last words that name what a place is, not which place: "Oaxaca State", "Nenagh Port".
DESIGNATORS = frozenset(
    "state province district county region governorate prefecture municipality city town "
    "village township port harbour harbor airport station cathedral institute university "
    "college hospital market complex stadium".split()
)
#: The GeoNames feature class a designator asks for: "Oaxaca State" is the state, not its city.
DESIGNATED_CLASS = {
    **dict.fromkeys(
        "state province district county governorate prefecture municipality".split(), "A"
    ),
    **dict.fromkeys("city town village township".split(), "P"),
}
#: Settlement words that, in lower case after a state's or country's name, make the name an
#: adjective: "this Ontario city" is a city in Ontario ("Fargo city" is Fargo).
LOWER_SETTLEMENTS = frozenset("city town village township".split())
#: First words that name a part of an area: "West Surrey", "Northern Kelso".
COMPASS_WORDS = frozenset(
    "north south east west northern southern eastern western central upper lower".split()
)
#: First words that name a part of a place: those, and "Greater Kelso", "downtown Kelso".
DIRECTIONS = COMPASS_WORDS | {"greater", "downtown"}


@functools.lru_cache(maxsize=1 << 14)  # asked again for every mention in every round
def head_name(name: str) -> str | None:
    """The place a longer name is named for, when it only adds what or which part the place
    is ("Oaxaca State", "Cavan Institute", "West Surrey": Oaxaca, Cavan, Surrey); else None."""
    words = name.split()
    while len(words) > 1 and words[-1].lower().strip(".") in DESIGNATORS:
        words = words[:-1]
    while len(words) > 1 and words[0].lower() in DIRECTIONS:
        words = words[1:]
    head = " ".join(words)
    if head == name or len(head) < 3 or not head[:1].isupper():
        return None
    return None if name_key(head) in GENERIC_WORDS else head  # "East Coast" is no "Coast"


def head_candidates(gaz: Gazetteer, name: str) -> list[Candidate]:
    """The gazetteer entries a longer name the gazetteer lacks is named for, as alternate
    matches (so the score says so): of the class its designator asks for, never a continent,
    and for a part ("South ...") an area or a big city, never a village."""
    head = head_name(name)
    if head is None:
        return []
    found = [
        Candidate(c.index, MATCH_ALTERNATE)
        for c in gaz.candidates(head, fuzzy=False)
        if gaz.fcode[c.index] != "CONT"  # "Central Asia" is no point in Tibet
    ]
    last = name.split()[-1]
    if last in LOWER_SETTLEMENTS and any(gaz.fcode[c.index] in ("ADM1", "PCLI") for c in found):
        return []  # "this Ontario city": some city in Ontario, not one named Ontario
    wanted = DESIGNATED_CLASS.get(last.lower())
    found = [c for c in found if gaz.fclass[c.index] == wanted] or found  # "Oaxaca State"
    if wanted is None and name.split()[0].lower() in COMPASS_WORDS:
        found = [  # "Southern Asia" is no village "Asia"; "South Los Angeles" is Los Angeles
            c
            for c in found
            if gaz.fclass[c.index] != "P" or gaz.population[c.index] >= PART_OF_CITY
        ]
    return found
