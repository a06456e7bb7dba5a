"""Event triggers, types, counts and places read from a spaCy parse (sentences written here)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from geo_fixtures import NER_MODEL

from mapapp.events.counts import counts_for, parse_quantity
from mapapp.events.extract import (
    EventExtractor,
    as_written,
    name_parts,
    with_entities,
    with_phrases,
)
from mapapp.events.places import (
    CARRIED_SCORE,
    PHRASE,
    Candidate,
    PlaceModel,
    choose_places,
    pair_table,
)
from mapapp.events.taxonomy import EVENT_TYPES, TRIGGER_TYPES
from mapapp.events.triggers import find_triggers, trigger_at, trigger_type
from mapapp.records import EventPlace


@pytest.fixture(scope="module")
def parse():
    """The full spaCy pipeline (tags, lemmas, dependencies) as a text -> Doc function."""
    spacy = pytest.importorskip("spacy")
    try:
        return spacy.load(NER_MODEL)
    except OSError:
        pytest.skip(f"spaCy model {NER_MODEL!r} is not installed")


def _token(doc, word: str):
    start = doc.text.index(word)
    return trigger_at(doc, start, start + len(word))


def test_every_lexicon_type_is_in_the_taxonomy() -> None:
    assert set(TRIGGER_TYPES.values()) <= set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("at least 17", 17),
        ("more than two dozen civilians", 24),
        ("eight people", 8),
        ("about 1,200 residents", 1200),
        ("twenty-five", 25),
        ("dozens of", 24),
        ("hundreds of families", 200),
        ("the villagers", None),
    ],
)
def test_quantities(phrase: str, value: int | None) -> None:
    assert parse_quantity(phrase) == value


@pytest.mark.parametrize(
    ("sentence", "trigger", "expected"),
    [
        ("At least 17 people were killed when the depot blew up.", "killed", {"killed": 17}),
        ("More than two dozen villagers were killed in the night.", "killed", {"killed": 24}),
        ("The shelling killed eight people and wounded about 20.", "killed",
         {"killed": 8, "injured": 20}),
        ("Gunmen shot dead three guards at the gate.", "shot", {"killed": 3}),
        ("Police arrested 35 students after the rally.", "arrested", {"arrested": 35}),
        ("The flood displaced thousands of families.", "flood", {"displaced": 2000}),
        ("Eleven miners died after the tunnel gave way.", "died", {"killed": 11}),
        ("Farmers marched to the square.", "marched", {}),
    ],
)  # fmt: skip
def test_counts(parse, sentence: str, trigger: str, expected: dict) -> None:
    found = counts_for(_token(parse(sentence), trigger))
    assert {k: v for k, v in found.items() if v is not None} == expected


@pytest.mark.parametrize(
    ("sentence", "trigger", "kind"),
    [
        ("Jets bombed the bridge at dawn.", "bombed", ("attack", None)),
        ("Artillery shelled the old quarter.", "shelled", ("shelling", None)),
        ("Nurses protested outside the hospital.", "protested", ("protest", None)),
        ("Looters rioted after the match.", "rioted", ("riot", None)),
        ("The river flooded the valley.", "flooded", ("disaster", "flood")),
        ("A strong earthquake struck the coast.", "earthquake", ("disaster", "earthquake")),
        ("Two buses collided on the highway.", "collided", ("accident", None)),
        ("The ministers met to discuss the border.", "met", ("diplomacy", None)),
        ("Voters elected a new council.", "elected", ("election", None)),
        ("Police arrested the treasurer.", "arrested", ("crime_justice", None)),
        ("Rebels captured the airport.", "captured", ("armed_clash", None)),
        ("Soldiers opened fire on the crowd.", "fire", ("shelling", None)),
        ("Soldiers patrolled the market.", "patrolled", ("other", None)),
        ("Police fired tear gas at the marchers.", "fired", ("protest", None)),
        ("Troops fired rockets at the base.", "fired", ("shelling", None)),
        ("A missile hit a clinic near the port.", "hit", ("attack", None)),
        ("Raiders hacked two farmers to death.", "hacked", ("violence_against_civilians", None)),
        ("Farmers staged a dharna outside the district office.", "dharna", ("protest", None)),
        ("Traders observed a bandh against the new tax.", "bandh", ("protest", None)),
        ("Students gheraoed the vice-chancellor.", "gheraoed", ("protest", None)),
        ("The agitation spread to three more towns.", "agitation", ("protest", None)),
    ],
)
def test_types(parse, sentence: str, trigger: str, kind: tuple) -> None:
    assert trigger_type(_token(parse(sentence), trigger)) == kind


@pytest.mark.parametrize(
    ("read", "written", "subject", "object"),
    [
        (  # the phrase as the story spaces it, not its tokens joined
            "Syria's army shelled two villages near the border.",
            None,
            "Syria's army",
            "two villages",
        ),
        (  # the parse read a case-restored copy: the actors are the story's own words
            "Rebels shelled the old market on Monday.",
            "REBELS SHELLED THE OLD MARKET ON MONDAY.",
            "REBELS",
            "THE OLD MARKET",
        ),
    ],
)
def test_actors_are_cut_from_the_text_as_written(parse, read, written, subject, object) -> None:
    doc = parse(read) if written is None else as_written(parse(read), written)
    [event] = EventExtractor(None, parse).events_of(doc, [], None, None)
    assert (event.subject, event.object) == (subject, object)


def test_reporting_verbs_are_not_triggers(parse) -> None:
    words = [t.text for t in find_triggers(parse("Officials said gunmen attacked a convoy."))]
    assert words == ["attacked"]


@pytest.mark.parametrize(
    ("sentence", "triggers"),
    [
        ("A mortar round hit the school on Monday.", ["hit"]),
        ("Their truck hit a landmine outside the town.", ["hit"]),
        ("Prices hit a record high in March.", []),  # no weapon, no vehicle: no event
        ("The storm hit the coast overnight.", ["storm"]),  # the storm is the event, once
    ],
)
def test_hit_is_an_event_only_with_a_weapon_or_vehicle(parse, sentence, triggers) -> None:
    assert [t.text for t in find_triggers(parse(sentence))] == triggers


def _places(doc, names: list[str]) -> list[Candidate]:
    out = []
    for name in names:
        start = doc.text.index(name)
        out.append(Candidate(start, start + len(name), name))
    return out


@pytest.mark.parametrize(
    ("sentence", "trigger", "names", "event_places"),
    [
        ("Militants backed by Russia shelled a market in Dunmore, killing four.", "shelled",
         ["Russia", "Dunmore"], ["Dunmore"]),
        pytest.param(
            "Five guards were killed near Ashford while talks in Geneva went on.", "killed",
            ["Ashford", "Geneva"], ["Ashford"],
            marks=pytest.mark.xfail(strict=True, reason="a place under another event's clause "
                                    "is still taken; the hand rule for it cost 1.8 F1 points "
                                    "on the fit half"),
        ),
        ("Iran's foreign minister condemned the bombing of a school in Kelso.", "bombing",
         ["Iran", "Kelso"], ["Kelso"]),
        ("Hundreds of teachers marched through Bristol on Friday.", "marched",
         ["Bristol"], ["Bristol"]),
        ("Two soldiers were killed in the clashes, an officer said.", "killed", [], []),
        ("Militiamen killed six farmers in the Kelso towns of Dunmore and Ashford.", "killed",
         ["Kelso", "Dunmore", "Ashford"], ["Dunmore", "Ashford"]),
    ],
)  # fmt: skip
def test_event_places_not_context_places(parse, sentence, trigger, names, event_places) -> None:
    doc = parse(sentence)
    chosen = choose_places(doc, _token(doc, trigger), _places(doc, names), PlaceModel.load())
    assert [p.name for p in chosen] == event_places
    assert all(0.0 < p.score <= 1.0 for p in chosen)


def test_dateline_only_when_the_sentence_names_no_place(parse) -> None:
    doc = parse("Gunmen killed two guards overnight. Talks in Rome resumed.")
    dateline = Candidate(0, 5, "ZAGREB", role="dateline")
    trigger = _token(doc, "killed")
    chosen = choose_places(doc, trigger, [], PlaceModel.load(), dateline)
    assert [p.name for p in chosen] == ["ZAGREB"]
    elsewhere = _places(doc, ["Rome"])  # in another sentence: no reason to drop the dateline
    assert [p.name for p in choose_places(doc, trigger, elsewhere, PlaceModel.load(), dateline)]


def test_a_place_carries_over_within_a_paragraph_before_the_dateline(parse) -> None:
    """A sentence naming no place takes the paragraph's earlier event place, scored no
    higher than the dateline would be; a sentence that names a place keeps its own."""
    doc = parse("ZAGREB -- Crowds marched in Split. The rally ended at dusk.")
    dateline = Candidate(0, 6, "ZAGREB", role="dateline")
    split = EventPlace(28, 33, "Split", 43.5, 16.4, 3190261, "HR", 0.9)
    trigger = _token(doc, "rally")
    [carried] = choose_places(doc, trigger, [], PlaceModel.load(), dateline, (split,))
    assert (carried.name, carried.score) == ("Split", CARRIED_SCORE)
    assert [p.name for p in choose_places(doc, trigger, [], PlaceModel.load(), dateline)] == [
        "ZAGREB"
    ]


def test_the_dateline_never_places_a_headline_event(parse) -> None:
    doc = parse("Storm floods coastal towns\n\nZAGREB -- Rain fell all week.")
    at = doc.text.index("ZAGREB")
    dateline = Candidate(at, at + 6, "ZAGREB", role="dateline")
    trigger = _token(doc, "floods")
    assert choose_places(doc, trigger, [dateline], PlaceModel.load(), dateline) == ()


@pytest.mark.parametrize(
    ("sentence", "phrases"),
    [
        ("Shells fell near Bab Amr as residents fled.", ["Bab Amr"]),  # read as PERSON
        ("The convoy was ambushed outside Zarqawiya.", ["Zarqawiya"]),  # read as PERSON
        ("Gunmen opened fire on a checkpoint in Kuweires on Sunday.", ["Kuweires"]),  # ORG
        ("Troops clashed with rebels near Tal Abyad Military Airport.",
         ["Tal Abyad Military Airport"]),  # ORG, and it heads a place noun
        ("Protesters gathered in March outside parliament.", []),  # a date after "in"
        ("Ahmed Hassan said the market was shelled.", []),  # a person, after no locative
        ("Fighting flared again in Qaryatain overnight.", []),  # a GPE: already a candidate
        ("Troops stormed the village of Tal Bizam at first light.", ["Tal Bizam"]),
        ("Militias raided the villages of Dunmore and Ashford in the Kelso district.",
         ["Dunmore", "Ashford", "Kelso"]),  # a list after "the villages of"; a district
        ("Workers were killed in the Amil neighbourhood of western Baghdad.", ["Amil"]),
        ("Egypt lost the territory during the 1967 Mideast war.", []),  # an EVENT
        ("A gunman attacked a bakery in the Shi'ite quarter of Kadhimiya.", []),  # NORP
        ("Aides in the Clinton camp said little.", []),  # "camp" names no place here
        ("Rebels shelled Kafr Tarnak and Dunmore overnight.", ["Kafr Tarnak", "Dunmore"]),
        ("Kafr Tarnak was retaken by the army on Friday.", ["Kafr Tarnak"]),  # PERSON
        ("Police captured Ahmed Hassan in a dawn raid.", []),  # one captures people too
        ("The army attacked Kafr Tarnak at dawn.", []),  # and attacks units
    ],
)  # fmt: skip
def test_mislabelled_names_after_a_locative_become_phrase_candidates(
    parse, sentence: str, phrases: list[str]
) -> None:
    found = with_phrases(parse(sentence), [])
    assert [c.name for c in found] == phrases
    assert all(c.role == PHRASE and c.lat is None for c in found)


@pytest.mark.parametrize(
    ("phrase", "names"),
    [
        ("Tal Kesra, Umm Rafa,", ["Tal Kesra", "Umm Rafa"]),  # a list read as one run
        ("#Kelso", ["Kelso"]),
        ("Kelso's", ["Kelso"]),
        ("St. Anne's Cross", ["St. Anne's Cross"]),
        ("the Northern Lions Brigade’s", []),  # a body, not a place
        ("the Revolutionary Guards", []),
        ("the Health Ministry", []),
        ("GMT", []),  # an acronym the parse took for a name
        ("Governorate", []),  # the place noun, not its name
        ("Al-Raqqa", ["Al-Raqqa"]),
    ],
)
def test_name_parts_of_a_phrase(phrase: str, names: list[str]) -> None:
    text = f"It happened in {phrase} on Monday."
    start = text.index(phrase)
    parts = name_parts(text, start, start + len(phrase))
    assert [text[s:e] for s, e in parts] == names


def test_a_bare_proper_noun_after_a_locative_is_a_phrase_candidate(parse) -> None:
    doc = parse("Police arrested six men in Kelso after the match.")
    doc.ents = []  # as if the model had missed the name
    assert [c.name for c in with_phrases(doc, [])] == ["Kelso"]
    recognised = _places(doc, ["Kelso"])
    assert with_phrases(doc, recognised) == recognised  # never a second candidate


@pytest.mark.parametrize(
    ("sentence", "inner"),
    [
        ("Jets bombed the Eastern Ghouta region on Monday.", "Eastern Ghouta"),
        ("Shells fell on the Kelso district overnight.", "Kelso"),
    ],
)
def test_a_name_the_syntax_places_borrows_the_point_of_a_toponym_inside_it(
    parse, sentence: str, inner: str
) -> None:
    """A resolved toponym read as part of a longer name ("embedded") is no candidate itself,
    but the longer name the event is placed at gets its point instead of none."""
    doc = parse(sentence)
    start = sentence.index(inner)
    lender = Candidate(start, start + len(inner), inner, "embedded", 33.5, 36.4, 7, "SY", "RGN")
    found = with_entities(doc, [lender])
    assert "embedded" not in {c.role for c in found}
    [holder] = [c for c in found if c.start <= start < c.end]
    assert inner in holder.name
    assert (holder.lat, holder.lon, holder.geonameid) == (33.5, 36.4, 7)
    alone = with_entities(doc, [])  # without the lender the same name stays unresolved
    assert [c.lat for c in alone if c.start <= start < c.end] == [None]


@pytest.mark.parametrize(
    ("sentence", "trigger", "names", "under"),
    [
        ("Rebels attacked the town of Kelso in Ruritania on Monday.", "attacked",
         ["Kelso", "Ruritania"], ["Ruritania"]),
        ("Police fired on protesters in Warangal district of Andhra Pradesh.", "fired",
         ["Warangal", "Andhra Pradesh"], ["Andhra Pradesh"]),
        ("A bomb exploded in Mosul, in northern Iraq, killing six.", "exploded",
         ["Mosul", "Iraq"], ["Iraq"]),
        ("Floods hit Dunmore, a village near Kelso, on Friday.", "Floods",
         ["Dunmore", "Kelso"], ["Kelso"]),
        ("Fighting spread from Aleppo to Homs.", "Fighting", ["Aleppo", "Homs"], []),
        ("Strikes hit Aleppo and Homs overnight.", "Strikes", ["Aleppo", "Homs"], []),
        ("A bus overturned in the Ruritanian town of Dunmore on Friday.", "overturned",
         ["Ruritanian", "Dunmore"], ["Ruritanian"]),  # a town named after "of"
        ("Gunmen raided the Ruritanian villages of Dunmore and Ashford.", "raided",
         ["Ruritanian", "Dunmore", "Ashford"], ["Ruritanian"]),
        ("A rocket struck a house in Tarnak district of Kelso province, killing two children.",
         "struck", ["Tarnak", "Kelso"], ["Kelso"]),  # the district's name, then "of"
        ("A rocket struck a house in Tarnak District of Kelso Province, killing two children.",
         "struck", ["Tarnak", "Kelso"], ["Kelso"]),
    ],
)  # fmt: skip
def test_the_wider_area_a_finer_place_sits_in_is_marked(
    parse, sentence: str, trigger: str, names: list[str], under: list[str]
) -> None:
    doc = parse(sentence)
    table = pair_table(doc, _token(doc, trigger), _places(doc, names))
    assert [c.name for c, _, f in table if f["under_other_place"]] == under
    finer = [c.name for c, _, f in table if f["over_other_place"]]
    assert bool(finer) == bool(under)


@pytest.mark.parametrize(
    ("sentence", "trigger", "names", "chosen", "lifted"),
    [
        ("The frigate will patrol the Coral Sea, the Tasman Sea and the Java Sea for a month.",
         "patrol", ["Coral Sea", "Tasman Sea", "Java Sea"],
         ["Coral Sea", "Tasman Sea", "Java Sea"], "Java Sea"),
        ("Militias raided the villages of Dunmore and Ashford in the Kelso district.", "raided",
         ["Dunmore", "Ashford", "Kelso"], ["Dunmore", "Ashford"], None),
    ],
)  # fmt: skip
def test_the_items_of_a_list_share_their_leads_place(
    parse, sentence: str, trigger: str, names: list[str], chosen: list[str], lifted: str | None
) -> None:
    """A list's later items sit further from the trigger in the parse: one the model leaves
    below its threshold takes the score of the list's best item; the district stays context."""
    doc = parse(sentence)
    model = PlaceModel.load()
    token, candidates = _token(doc, trigger), _places(doc, names)
    alone = {c.name: model.probability(f) for c, _, f in pair_table(doc, token, candidates)}
    places = {p.name: p.score for p in choose_places(doc, token, candidates, model)}
    assert list(places) == chosen
    for name, score in places.items():
        expected = max(places.values()) if name == lifted else alone[name]
        assert score == pytest.approx(expected, abs=1e-4)  # scores are kept to four places
    if lifted is not None:
        assert alone[lifted] < model.threshold


def test_a_chosen_place_inside_another_chosen_place_drops_the_wider_one(parse) -> None:
    """Even a model that takes every candidate maps the district, not its province."""
    sentence = "A rocket struck a house in Tarnak district of Kelso province, killing two children."
    doc = parse(sentence)
    candidates = _places(doc, ["Tarnak", "Kelso"])
    accept_all = PlaceModel({"bias": 5.0})
    assert [p.name for p in choose_places(doc, _token(doc, "struck"), candidates, accept_all)] == [
        "Tarnak"
    ]
    apart = parse("A rocket struck Tarnak and Kelso.")  # a list: neither is inside the other
    both = choose_places(
        apart, _token(apart, "struck"), _places(apart, ["Tarnak", "Kelso"]), accept_all
    )
    assert [p.name for p in both] == ["Tarnak", "Kelso"]


def test_a_resolved_phrase_in_the_sentence_is_closer_than_the_dateline(parse) -> None:
    """A name only the syntax found still outranks the filing city once it has a point."""
    doc = parse(
        "ZAGREB -- Families who had sheltered in Bab Amr said the shelling lasted all night."
    )
    dateline = Candidate(0, 6, "ZAGREB", role="dateline")
    at = doc.text.index("Bab Amr")
    unresolved = Candidate(at, at + 7, "Bab Amr", role=PHRASE)
    resolved = Candidate(at, at + 7, "Bab Amr", PHRASE, 34.7, 36.7, 9, "SY", "PPL")
    trigger = _token(doc, "shelling")
    model = PlaceModel.load()
    assert [p.name for p in choose_places(doc, trigger, [unresolved], model, dateline)] == [
        "ZAGREB"
    ]
    assert choose_places(doc, trigger, [resolved], model, dateline) == ()


@pytest.mark.parametrize(
    ("sentence", "trigger", "place"),
    [
        ("Farmers staged a dharna outside the collectorate in Nashik on Monday.", "dharna",
         "Nashik"),
        ("Traders observed a bandh in Kelso against the new tax.", "bandh", "Kelso"),
        ("Students gheraoed the vice-chancellor at the campus in Dunmore.", "gheraoed",
         "Dunmore"),
    ],
)  # fmt: skip
def test_protest_words_of_south_asian_news_are_events_with_places(
    parse, sentence: str, trigger: str, place: str
) -> None:
    doc = parse(sentence)
    assert [t.text for t in find_triggers(doc)] == [trigger]
    chosen = choose_places(doc, _token(doc, trigger), _places(doc, [place]), PlaceModel.load())
    assert [p.name for p in chosen] == [place]


@pytest.mark.parametrize(
    ("sentence", "names", "placed", "under"),
    [
        # both placed: a neighbourhood or suburb is the name before the noun, a city the one after
        ("A bomb exploded in the Tarnak neighbourhood of Kelso.", ["Tarnak", "Kelso"],
         {"Tarnak", "Kelso"}, ["Kelso"]),
        ("A bus overturned in the Kelso suburb of Dunmore.", ["Kelso", "Dunmore"],
         {"Kelso", "Dunmore"}, ["Dunmore"]),
        ("Police broke up a rally in the West Kelso city of Ashford.", ["West Kelso", "Ashford"],
         {"West Kelso", "Ashford"}, ["West Kelso"]),
        # one placed: the name the gazetteer does not know is the small place
        ("A bus overturned in the Kelso suburb of Dunmore.", ["Kelso", "Dunmore"], {"Kelso"},
         ["Kelso"]),
        ("A bomb exploded in the Tarnak neighbourhood of Kelso.", ["Tarnak", "Kelso"],
         {"Tarnak"}, ["Tarnak"]),
    ],
)  # fmt: skip
def test_the_a_noun_of_b_reads_which_is_the_wider_area(
    parse, sentence: str, names: list[str], placed: set[str], under: list[str]
) -> None:
    """ "The A suburb of B" is said both ways round; the noun and the gazetteer decide."""
    doc = parse(sentence)
    candidates = [
        replace(c, lat=1.0, lon=1.0) if c.name in placed else c for c in _places(doc, names)
    ]
    trigger = next(t for t in doc if t.pos_ == "VERB")
    table = pair_table(doc, trigger, candidates)
    assert [c.name for c, _, f in table if f["under_other_place"]] == under
