"""What a longer place name is named for: "Oaxaca State" is Oaxaca, "West Surrey" Surrey.

The resolver places a name the gazetteer lacks by its head, and the article's
context counts a name and its head as one name (a mention of "Buenos Aires
Province" is no evidence about what a plain "Buenos Aires" is).
"""

from __future__ import annotations

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
#: First words that name a part of a place: "West Surrey", "northern Kelso".
DIRECTIONS = frozenset(
    "north south east west northern southern eastern western central upper lower greater "
    "downtown".split()
)


def head_name(name: str) -> str | None:
    """The place a longer name is named for, when it only adds what or which part the place
    is ("Oaxaca State", "Cavan Institute", "West Surrey": Oaxaca, Cavan, Surrey); else None."""
    words = name.split()
    while len(words) > 1 and words[-1].lower().strip(".") in DESIGNATORS:
        words = words[:-1]
    while len(words) > 1 and words[0].lower() in DIRECTIONS:
        words = words[1:]
    head = " ".join(words)
    return head if head != name and len(head) >= 3 and head[:1].isupper() else None
