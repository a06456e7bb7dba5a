"""Regression tables for the failure classes of issue 13, on sentences written for these tests.

Each row is a short story, a name in it, and what the map must show for that
name: a place (country and GeoNames feature code) or no marker at all
(unplaced with a reason, or kept as context only).
"""

from __future__ import annotations

import pytest

from mapapp.geoparsing import Geoparser
from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.recognition.sentences import sentence_at
from mapapp.records import MAP_ROLES

pytest_plugins = ["geo_fixtures"]

NO_MARKER = None


@pytest.fixture(scope="module")
def parse(gazetteer: Gazetteer, nlp):
    """Geoparse one text with the spaCy model, as `mapapp geoparse` does."""
    geoparser = Geoparser(gazetteer, nlp)
    return lambda text: geoparser.geoparse_many([(text, None)])[0]


def check(found: list[dict], name: str, expected: tuple[str, set[str]] | None) -> None:
    """Every mention of ``name`` is the expected kind of place, or none is a marker."""
    mine = [t for t in found if name_key(t["name"]) == name_key(name)]
    if expected is NO_MARKER:
        markers = [t for t in mine if t["lat"] is not None and t["role"] in MAP_ROLES]
        assert not markers, markers
        return
    assert mine, f"{name} was not found in {[t['name'] for t in found]}"
    country, codes = expected
    got = {(t["country_code"], t["feature_code"]) for t in mine}
    assert all(cc == country and code in codes for cc, code in got), got


ABBREVIATIONS = [  # an AP abbreviation after a city qualifies it; it is never a town
    (
        "EUGENE, Ore. -- Crews closed two bridges on Tuesday after a barge struck a pier.",
        "Ore.",
        ("US", {"ADM1"}),
    ),
    (
        "EUGENE, Ore. -- Crews closed two bridges on Tuesday after a barge struck a pier.",
        "Ore",
        NO_MARKER,
    ),
    (
        "EUGENE, Ore. -- Crews closed two bridges on Tuesday after a barge struck a pier.",
        "EUGENE",
        ("US", {"PPLA2", "PPL", "PPLA"}),
    ),
    ("A barge from Astoria, Ore., struck a pier on the Columbia on Tuesday.", "Ore", NO_MARKER),
]

ONE_SENSE = [  # a name keeps one sense in a story; the dateline's country decides
    (
        "SIDON, Lebanon -- Fishermen stayed ashore. Boats from Tyre waited, and the harbor "
        "master in Sidon said the storm would pass.",
        "Sidon",
        ("LB", {"PPLA", "PPL"}),
    ),
    (
        "BEIRUT -- Traders in Tripoli, in northern Lebanon, closed early on Monday as "
        "protesters blocked roads.",
        "Tripoli",
        ("LB", {"PPLA"}),
    ),
    (
        "TRIPOLI, Lebanon -- The port authority said on Monday that ships bound for Tripoli "
        "would be unloaded at night.",
        "Tripoli",
        ("LB", {"PPLA"}),
    ),
]

ADMIN_UNITS = [  # the name of a state or country is the unit, not its capital or a village
    (
        "Farmers near Enid, Oklahoma, said the harvest was poor, and lawmakers across Oklahoma "
        "promised relief.",
        "Oklahoma",
        ("US", {"ADM1"}),
    ),
    (
        "Rain spread from Scotland into Wales overnight, and roads in Kent were flooded.",
        "Wales",
        ("GB", {"ADM1"}),
    ),
    (
        "ATLANTA -- Voters in the state of Georgia head to the polls, with turnout high in "
        "Savannah and Macon.",
        "Georgia",
        ("US", {"ADM1"}),
    ),
    # a republic the gazetteer files as "Dagestan, Respublika"
    ("MOSCOW -- Gunmen attacked a police post in Dagestan on Friday.", "Dagestan",
     ("RU", {"ADM1"})),
]  # fmt: skip

DISTRICTS = [  # a part of the story's city is never a namesake abroad
    (
        "LONDON -- Joggers in Hyde Park and walkers along the river in Greenwich complained "
        "of the heat, while rain fell in Kent and Surrey.",
        "Hyde Park",
        NO_MARKER,
    ),
    (
        "LONDON -- Joggers in Hyde Park and walkers along the river in Greenwich complained "
        "of the heat, while rain fell in Kent and Surrey.",
        "Greenwich",
        NO_MARKER,
    ),
    (
        "PARIS -- Commuters at the Gare du Nord waited for hours as trains to Lille and Lyon "
        "were cancelled.",
        "Nord",
        NO_MARKER,
    ),
    (
        "ALEXANDRIA, Va. -- Shops in Old Town stayed shut after the river rose.",
        "Old Town",
        NO_MARKER,
    ),
    (
        "OSLO -- A new ferry pier opened at Aker Brygge, and boats to Drammen resumed.",
        "Brygge",
        NO_MARKER,
    ),
    (
        "DAMASCUS, Syria -- Bakeries in the Midan district ran out of flour, and queues formed "
        "in Homs and Aleppo.",
        "Midan",
        NO_MARKER,
    ),
]

LANDMARKS = [  # a building, square or airport news names is where it stands, not a town
    ("WASHINGTON -- Marchers gathered outside the White House on Sunday.", "White House",
     ("US", {"BLDG"})),  # not White House, Tennessee, nor Casablanca
    ("Fog grounded flights at Heathrow for a second morning.", "Heathrow", ("GB", {"AIRP"})),
    ("Thousands returned to Tahrir Square on Friday to mark the anniversary.", "Tahrir Square",
     ("EG", {"SQR"})),
    ("Talks were held at the Kremlin on Tuesday.", "Kremlin", ("RU", {"BLDG"})),
    # a building that stands for the people in it is context, not a marker
    ("WASHINGTON -- The White House said on Monday that the talks would resume in spring.",
     "White House", NO_MARKER),
    ("Kremlin officials rejected the proposal within hours.", "Kremlin", NO_MARKER),
    ("Wall Street cheered the figures.", "Wall Street", NO_MARKER),
]  # fmt: skip

WATER_AND_REGIONS = [  # a water body or region of the story is not a county abroad
    (
        "HANOI, Vietnam -- Ferries on the Gulf of Tonkin were halted, and the Red River rose "
        "near Hanoi and Haiphong.",
        "Red River",
        NO_MARKER,
    ),
    (
        "HANOI, Vietnam -- Ferries on the Gulf of Tonkin were halted, and the Red River rose "
        "near Hanoi and Haiphong.",
        "Gulf",
        NO_MARKER,
    ),
    (
        "HANOI, Vietnam -- Hotels near West Lake filled up as visitors arrived from Da Nang "
        "and Hue.",
        "West Lake",
        NO_MARKER,
    ),
]

CONTEXT_NOT_MARKERS = [  # adjectives and organisations are context, not markers
    (
        "BOSTON -- Lobster boats along the Atlantic coast stayed in port on Friday.",
        "Atlantic",
        NO_MARKER,
    ),
    ("Exporters in Gdansk said the Baltic states buy much of the catch.", "Baltic", NO_MARKER),
    (
        "Ministers in Tbilisi said the European Union would send observers.",
        "European Union",
        NO_MARKER,
    ),
    (
        "LIMA, Peru -- A fire swept the hills above this Pacific port city on Sunday.",
        "Pacific",
        NO_MARKER,
    ),
]

GENERIC_WORDS = [  # a common word that is also a small town far away is not a marker
    (
        "CAIRO -- Farmland around Tanta and Zagazig dried out, officials in Giza said.",
        "Farmland",
        NO_MARKER,
    ),
    # a country's name is frequent because it is a country, not an ordinary word
    ("Nigeria rejected the plan on Monday, two officials said.", "Nigeria", ("NG", {"PCLI"})),
    ("Kenya and Uganda signed the pipeline deal on Friday.", "Kenya", ("KE", {"PCLI"})),
]

NER_LABELS = [  # the small model's PERSON/ORG/WORK_OF_ART on a well-known place is no veto
    ("Convoys wait outside Aleppo for a third day", "Aleppo", ("SY", {"PPLA"})),
    ("Rain returns over Karachi for a week", "Karachi", ("PK", {"PPLA"})),
    ("Aid reaches Goma for the first time", "Goma", ("CD", {"PPLA"})),
    ("Tanks roll toward Kherson from the east", "Kherson", ("UA", {"PPLA"})),
    (
        "LONDON -- Trains between Oxford and Bicester were cancelled after the storm.",
        "Bicester",
        ("GB", {"PPL"}),
    ),
    (
        "MEXICO CITY -- Water trucks reached Puebla on Monday as wells ran dry.",
        "Puebla",
        ("MX", {"PPLA"}),
    ),
    ("TOKYO -- Ferries to Okinawa were halted as the typhoon neared.", "Okinawa", ("JP", {"ADM1"})),
    # a surname that is also a town stays a person
    ("Police said Baker ran from the car and was caught an hour later.", "Baker", NO_MARKER),
    ("Mayor Bell said the city office would reopen on Monday.", "Bell", NO_MARKER),
]

HEAD_NAMES = [  # a longer name the gazetteer lacks is placed by the place it is named for
    ("MEXICO CITY -- Teachers in Oaxaca State marched on Monday.", "Oaxaca State",
     ("MX", {"ADM1"})),  # the state, not its capital
    ("LONDON -- Snow closed roads across West Surrey overnight.", "West Surrey",
     ("GB", {"ADM2"})),
    ("LAGOS -- Gunmen raided villages across Northern Nigeria.", "Northern Nigeria",
     ("NG", {"PCLI"})),
    ("Shots were fired in South Los Angeles overnight.", "South Los Angeles",
     ("US", {"PPLA2"})),  # a part of a big city is in the city
    # a part of an area is never a village of the head's name ("Asia" in the Philippines)
    ("Storms battered the East Coast on Monday.", "East Coast", NO_MARKER),
    ("Trade slowed across Southern Asia last year.", "Southern Asia", NO_MARKER),
    # "this Ontario city" is a city in Ontario, never Ontario, California
    ("LONDON, Ontario -- A battery plant opened at the edge of this Ontario city on Monday.",
     "Ontario city", NO_MARKER),
]  # fmt: skip

CASELESS = [  # text written all in lower case or all in capitals is read for its places too
    ("police fired tear gas at marchers in karachi on friday.", "karachi", ("PK", {"PPLA"})),
    ("shelling hit two villages outside aleppo, residents said.", "aleppo", ("SY", {"PPLA"})),
    ("crowds gathered in paris and lyon to oppose the pension law.", "lyon", ("FR", {"PPLA"})),
    ("the strike spread from lahore to islamabad by tuesday night.", "islamabad", ("PK", {"PPLC"})),
    ("FLOODWATERS CUT OFF THREE TOWNS NEAR DHAKA ON MONDAY.", "DHAKA", ("BD", {"PPLC"})),
    ("we had a nice time reading by the sea and nothing else happened.", "nice", NO_MARKER),
    ("we had a nice time reading by the sea and nothing else happened.", "reading", NO_MARKER),
]

SOCIAL = [  # social-media spellings: a hashtag, a run-together hashtag, a state code
    ("Flooding hit #Karachi and #Lahore overnight, residents posted.", "Lahore",
     ("PK", {"PPLA"})),  # the model calls the tagged name a person: no veto
    ("Power is out across #Houston after the storm", "Houston", ("US", {"PPLA2"})),
    ("Rain again in #HongKong tonight, ferries stopped", "HongKong", ("HK", {"PPLC"})),
    ("Marchers filled the streets of Austin, TX on Saturday.", "Austin", ("US", {"PPLA"})),
    ("Such a #Nice day for a picnic by the river", "Nice", NO_MARKER),  # a word, tagged
    ("Thanks #Jordan for the assist last night", "Jordan", NO_MARKER),  # a player's name
]  # fmt: skip

CASES = [
    pytest.param(*row, id=f"{group}-{i}")
    for group, rows in (
        ("abbreviation", ABBREVIATIONS),
        ("one-sense", ONE_SENSE),
        ("admin-unit", ADMIN_UNITS),
        ("district", DISTRICTS),
        ("landmark", LANDMARKS),
        ("water-region", WATER_AND_REGIONS),
        ("context", CONTEXT_NOT_MARKERS),
        ("generic", GENERIC_WORDS),
        ("ner-label", NER_LABELS),
        ("head-name", HEAD_NAMES),
        ("caseless", CASELESS),
        ("social", SOCIAL),
    )
    for i, row in enumerate(rows)
]


@pytest.mark.parametrize(("text", "name", "expected"), CASES)
def test_failure_classes(
    parse, text: str, name: str, expected: tuple[str, set[str]] | None
) -> None:
    check(parse(text), name, expected)


@pytest.mark.parametrize("text", [row[0] for row in CASELESS[:5]])
def test_caseless_names_are_kept_as_written(parse, text: str) -> None:
    """The case-restored copy is only read: names and sentences are the story's own text."""
    found = parse(text)
    assert found
    assert all(t["name"] == text[t["start"] : t["end"]] for t in found)


@pytest.mark.parametrize(
    ("text", "name", "sentence"),
    [
        (
            "PORTLAND, Ore. -- Smoke hung over the city. Schools stayed shut.",
            "PORTLAND",
            "PORTLAND, Ore. -- Smoke hung over the city.",
        ),
        ("Gen. Lee toured Richmond. Crowds cheered.", "Richmond", "Gen. Lee toured Richmond."),
    ],
)
def test_sentence_does_not_end_at_an_abbreviation(text: str, name: str, sentence: str) -> None:
    start = text.index(name)
    assert sentence_at(text, start, start + len(name)) == sentence


@pytest.mark.parametrize(
    ("text", "name", "why"),
    [
        ("Reading the forecast, officials in Leeds closed two schools.", "Reading", "English word"),
        ("Mayor Bell said the city office would reopen on Monday.", "Bell", "person"),
        ("Kremlin officials rejected the proposal.", "Kremlin", "people who work there"),
        ("Smoke rose over Montevideo, BUENOS AIRES officials said.", "UN", None),
    ],
)
def test_names_set_aside_are_listed_with_a_reason(parse, text: str, name: str, why) -> None:
    """Nothing dropped without a word: a gazetteer name that is not mapped says why."""
    mine = [t for t in parse(text) if t["name"] == name]
    if why is None:
        assert not mine
        return
    [found] = mine
    assert (found["role"], found["lat"], found["lon"]) == ("considered", None, None)
    assert why in found["reason"], found["reason"]
