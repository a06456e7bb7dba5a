"""The fixed event taxonomy and a small reviewed lexicon of trigger lemmas.

Types are the ones the README lists; a trigger's lemma (a verb or an event
noun) maps to one type.  Words outside the lexicon can still be given as a
trigger (``mapapp events`` with ``"trigger"``): their type is ``other``.
"""

from __future__ import annotations

EVENT_TYPES = (
    "armed_clash",
    "attack",
    "shelling",
    "violence_against_civilians",
    "protest",
    "riot",
    "disaster",
    "accident",
    "diplomacy",
    "election",
    "crime_justice",
    "health",
    "economy",
    "other",
)

_BY_TYPE: dict[str, str] = {  # type -> its trigger lemmas (verbs and event nouns)
    "armed_clash": "clash fight battle capture recapture retake seize storm overrun advance "
    "ambush engage encircle besiege siege invade occupy liberate repel repulse skirmish combat "
    "offensive fighting retreat withdraw raid",
    "attack": "attack bomb bombing detonate explode explosion blast blow target assault strike "
    "ram hijack hit",
    "shelling": "shell shelling airstrike bombard bombardment pound rocket mortar fire launch",
    "violence_against_civilians": "kill murder massacre execute execution behead slaughter "
    "shoot shooting stab torture abduct kidnap kidnapping wound injure gun lynch rape burn "
    "torch destroy die death hack",
    "protest": "protest demonstrate demonstration march rally picket boycott sit-in chant "
    "walkout vigil petition agitation agitate dharna bandh hartal gherao gheraoe",
    # the last five are South Asian English ("staged a dharna", "gheraoed the office");
    # not "blockade" (a navy's too) nor "shutdown" (a government's too)
    "riot": "riot loot vandalize unrest rampage",
    "disaster": "flood earthquake quake hurricane typhoon cyclone tornado wildfire blaze "
    "drought eruption erupt landslide tsunami avalanche inundate",
    "accident": "crash collide collision derail sink capsize accident",
    "diplomacy": "meet meeting talk negotiate negotiation visit sign agree summit accord "
    "ceasefire truce mediate host",
    "election": "vote elect election ballot poll referendum",
    "crime_justice": "arrest detain charge convict sentence jail imprison trial indict rob "
    "robbery steal smuggle prosecute acquit",
    "health": "outbreak infect epidemic vaccinate cholera hospitalize",
    "economy": "invest trade export inflation layoff bankrupt",
    "other": "patrol enter occur happen deploy flee displace evacuate",
}
#: A noun reads differently from its verb: "the storm" is weather, "they stormed" an assault.
NOUN_TYPES = {"storm": "disaster", "fire": "disaster", "strike": "protest"}

#: lemma -> event type (the first type that lists a lemma wins).
TRIGGER_TYPES: dict[str, str] = {}
for _type, _lemmas in _BY_TYPE.items():
    for _lemma in _lemmas.split():
        TRIGGER_TYPES.setdefault(_lemma, _type)

#: lemma -> kind of disaster, for triggers of type ``disaster`` (and nouns beside a trigger).
DISASTER_KINDS: dict[str, str] = {  # fmt: skip
    "flood": "flood",
    "inundate": "flood",
    "flooding": "flood",
    "tsunami": "flood",
    "earthquake": "earthquake",
    "quake": "earthquake",
    "tremor": "earthquake",
    "storm": "storm",
    "hurricane": "storm",
    "typhoon": "storm",
    "cyclone": "storm",
    "tornado": "storm",
    "wildfire": "wildfire",
    "blaze": "wildfire",
    "bushfire": "wildfire",
    "drought": "drought",
    "eruption": "eruption",
    "erupt": "eruption",
    "volcano": "eruption",
    "landslide": "flood",
    "avalanche": "storm",
}

#: Reporting and auxiliary verbs: never an event of their own when found, only when given.
NOT_EVENTS = frozenset(
    {"say", "tell", "report", "add", "claim", "announce", "confirm", "be", "have", "do"}
)


def event_type(lemma: str, noun: bool = False) -> str:
    """The taxonomy type of a trigger lemma (``other`` for words outside the lexicon)."""
    lemma = lemma.lower()
    if noun and lemma in NOUN_TYPES:
        return NOUN_TYPES[lemma]
    return TRIGGER_TYPES.get(lemma, "other")


def disaster_kind(lemma: str) -> str | None:
    """The kind of disaster a lemma names (flood, earthquake, ...), or None."""
    return DISASTER_KINDS.get(lemma.lower())
