"""Geocoding: the offline geopy geocoder, the in-context resolver and editorial corrections."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from mapapp.errors import ConfigError
from mapapp.geoparsing import Geoparser
from mapapp.recognition.corrections import Corrections, load_corrections
from mapapp.recognition.gazetteer import Gazetteer
from mapapp.records import Toponym
from mapapp.resolution.geocoder import OfflineGeocoder
from mapapp.resolution.names import head_name
from mapapp.resolution.resolver import Resolver
from mapapp.text import camel_words

pytest_plugins = ["geo_fixtures"]

UNKNOWN = "Qxzvbn Wharf"


# --- the geopy contract ----------------------------------------------------------


class GeocoderContract:
    """What mapapp needs of any geopy geocoder; subclasses provide a ``geocoder`` fixture."""

    known = "Damascus"

    def test_is_a_geopy_geocoder(self, geocoder: Geocoder) -> None:
        assert isinstance(geocoder, Geocoder)

    def test_options_are_keyword_only(self, geocoder: Geocoder) -> None:
        params = inspect.signature(geocoder.geocode).parameters
        assert params["exactly_one"].kind is inspect.Parameter.KEYWORD_ONLY
        assert params["timeout"].kind is inspect.Parameter.KEYWORD_ONLY

    def test_geocode_returns_a_location(self, geocoder: Geocoder) -> None:
        found = geocoder.geocode(self.known)
        assert isinstance(found, Location)
        assert found.raw and found.address
        assert -90 <= found.latitude <= 90 and -180 <= found.longitude <= 180

    def test_unknown_name_is_none(self, geocoder: Geocoder) -> None:
        assert geocoder.geocode(UNKNOWN) is None

    def test_many_is_a_list_led_by_the_single_answer(self, geocoder: Geocoder) -> None:
        many = geocoder.geocode(self.known, exactly_one=False)
        assert isinstance(many, list) and len(many) > 1
        assert all(isinstance(loc, Location) for loc in many)
        assert many[0] == geocoder.geocode(self.known)


class TestOfflineGeocoderContract(GeocoderContract):
    @pytest.fixture
    def geocoder(self, gazetteer: Gazetteer) -> OfflineGeocoder:
        return OfflineGeocoder(gazetteer)


# --- the offline geocoder ----------------------------------------------------------


@pytest.fixture(scope="module")
def geocoder(gazetteer: Gazetteer) -> OfflineGeocoder:
    return OfflineGeocoder(gazetteer)


@pytest.mark.parametrize(
    ("query", "options", "geonameid", "country", "admin1"),
    [
        ("Damascus", {}, 170654, "SY", "13"),
        pytest.param("Damascus, Ore.", {}, 5722088, "US", "OR"),
        pytest.param("Paris, Texas", {}, 4717560, "US", "TX"),
        ("Paris", {}, 2988507, "FR", "11"),
        pytest.param("Damascus", {"country_bias": "US"}, None, "US", None),
        ("Damascus", {"country_bias": "sy"}, 170654, "SY", "13"),
    ],
)
def test_geocode_picks_the_expected_entry(
    geocoder: OfflineGeocoder,
    query: str,
    options: dict,
    geonameid: int | None,
    country: str,
    admin1: str | None,
) -> None:
    found = geocoder.geocode(query, **options)
    assert found.raw["country_code"] == country
    if geonameid is not None:
        assert found.raw["geonameid"] == geonameid
    if admin1 is not None:
        assert found.raw["admin1_code"] == admin1
    assert (found.latitude, found.longitude) == (found.raw["latitude"], found.raw["longitude"])


def test_geocode_many_is_ordered_by_score(geocoder: OfflineGeocoder) -> None:
    many = geocoder.geocode("Damascus", exactly_one=False)
    scores = [loc.raw["score"] for loc in many]
    assert scores == sorted(scores, reverse=True)
    assert many[0].raw["geonameid"] == 170654
    assert {loc.raw["country_code"] for loc in many[1:]} == {"US"}
    assert len(geocoder.geocode("Damascus", exactly_one=False, limit=2)) == 2


@pytest.mark.parametrize("query", [(33.51, 36.29), "33.51, 36.29"])
def test_reverse_finds_the_nearest_town(geocoder: OfflineGeocoder, query: object) -> None:
    found = geocoder.reverse(query)
    assert isinstance(found, Location)
    assert found.raw["geonameid"] == 170654
    nearby = geocoder.reverse(query, exactly_one=False)
    assert nearby[0] == found and all(loc.raw["feature_class"] == "P" for loc in nearby)


# --- the resolver, in context --------------------------------------------------------


def mentions(text: str, *names: str | tuple[str, dict]) -> list[Toponym]:
    """Toponyms for ``names`` found left to right in ``text`` (a tuple adds Toponym fields)."""
    out, cursor = [], 0
    for entry in names:
        name, fields = entry if isinstance(entry, tuple) else (entry, {})
        start = text.index(name, cursor)
        cursor = start + len(name)
        out.append(Toponym(name=name, start=start, end=cursor, source="given", **fields))
    return out


CONTEXT_CASES = [
    pytest.param(
        "Shelling hit Damascus while convoys moved between Homs and Aleppo.",
        ("Damascus", "Homs", "Aleppo"),
        0,
        170654,
        "SY",
        id="damascus-syria",
    ),
    pytest.param(
        "Delegates from Syria met in Geneva for talks on the war in Syria.",
        ("Syria", "Geneva", "Syria"),
        1,
        2660646,
        "CH",
        id="geneva-syria-talks",
    ),
    pytest.param(
        "The county fair in Paris, Texas, drew ranchers from the whole state.",
        (("Paris", {"qualifier": "Texas"}), ("Texas", {"role": "qualifier"})),
        0,
        4717560,
        "US",
        id="paris-texas",
    ),
    pytest.param(
        "Gunmen clashed in Tripoli, north of Beirut, as Lebanon braced for more.",
        ("Tripoli", "Beirut", "Lebanon"),
        0,
        266826,
        "LB",
        id="tripoli-lebanon",
    ),
    pytest.param(
        "Militias in Tripoli and Benghazi fought as Libya's rival governments argued.",
        ("Tripoli", "Benghazi", "Libya"),
        0,
        2210247,
        "LY",
        id="tripoli-libya",
    ),
    pytest.param(
        "Protesters in Tbilisi urged Georgia to seek closer ties with the West.",
        ("Tbilisi", "Georgia"),
        1,
        614540,
        "GE",
        id="georgia-country",
    ),
    pytest.param(
        "Storms moved across Georgia, flooding streets in Atlanta and Savannah.",
        ("Georgia", "Atlanta", "Savannah"),
        0,
        4197000,
        "US",
        id="georgia-state",
    ),
    pytest.param(
        "Commuters from Alexandria and Arlington crowded trains in northern Virginia.",
        ("Alexandria", "Arlington", "Virginia"),
        0,
        4744091,
        "US",
        id="alexandria-va",
    ),
    pytest.param(
        "The overnight train from Cairo reached Alexandria late on Sunday.",
        ("Cairo", "Alexandria"),
        1,
        361058,
        "EG",
        id="alexandria-egypt",
    ),
    pytest.param(
        "Researchers in Cambridge and Boston said Massachusetts would fund the lab.",
        ("Cambridge", "Boston", "Massachusetts"),
        0,
        4931972,
        "US",
        id="cambridge-ma",
    ),
    pytest.param(
        "Rowers raced between Cambridge, Oxford and London over the weekend.",
        ("Cambridge", "Oxford", "London"),
        0,
        2653941,
        "GB",
        id="cambridge-england",
    ),
]


@pytest.mark.parametrize(("text", "names", "target", "geonameid", "country"), CONTEXT_CASES)
def test_resolver_uses_the_other_places(
    gazetteer: Gazetteer, text: str, names: tuple, target: int, geonameid: int, country: str
) -> None:
    resolutions = Resolver(gazetteer).resolve(mentions(text, *names))
    place = resolutions[target].place
    assert place is not None, resolutions[target].reason
    assert (place.country_code, place.geonameid) == (country, geonameid)


def test_every_toponym_gets_a_resolution(gazetteer: Gazetteer) -> None:
    text = f"Boats left {UNKNOWN} for Beirut."
    tops = mentions(text, UNKNOWN, "Beirut")
    resolutions = Resolver(gazetteer).resolve(tops)
    assert [r.toponym for r in resolutions] == tops
    assert resolutions[0].place is None and resolutions[0].reason
    assert resolutions[1].place.geonameid == 276781
    assert 0.0 < resolutions[1].score <= 1.0


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("Oaxaca State", "Oaxaca"),
        ("Kelso District", "Kelso"),
        ("Cavan Institute", "Cavan"),
        ("West Surrey", "Surrey"),
        ("Northern Kelso Province", "Kelso"),
        ("Kelso", None),  # nothing to take away
        ("State", None),
        ("West", None),
        ("University of Kelso", None),  # only last words that say what, first words which part
        ("East Coast", None),  # what is left is a word for a kind of place
        ("Fargo city", "Fargo"),  # the resolver sets "this Ontario city" aside (a state's name)
        ("Gujarat state", "Gujarat"),  # but "Gujarat state" is the state
    ],
)
def test_head_name_takes_away_what_and_which_part(name: str, head: str | None) -> None:
    assert head_name(name) == head


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("HongKong", "Hong Kong"),
        ("SanFrancisco", "San Francisco"),
        ("NewYorkCity", "New York City"),
        ("Karachi", None),  # one word already
        ("iPhone", None),  # not a run of capitalised words
        ("NYC", None),
        ("McAllen", None),  # "Mc" is no word alone
    ],
)
def test_camel_words_splits_a_run_together_name(name: str, words: str | None) -> None:
    assert camel_words(name) == words


def test_a_long_name_the_gazetteer_lacks_is_placed_by_its_head(gazetteer: Gazetteer) -> None:
    text = "Rain flooded roads across Oaxaca State on Tuesday."
    [resolution] = Resolver(gazetteer).resolve(mentions(text, "Oaxaca State"))
    assert resolution.place is not None, resolution.reason
    assert resolution.place.country_code == "MX"
    [unknown] = Resolver(gazetteer).resolve(
        mentions(f"Rain fell on {UNKNOWN} State.", f"{UNKNOWN} State")
    )
    assert unknown.place is None and unknown.reason == "not in the gazetteer"


def test_a_unit_named_with_its_designator_is_no_evidence_for_the_bare_name(
    gazetteer: Gazetteer,
) -> None:
    """ "X Province" beside a plain "X": the writer told them apart, so the province's
    mention does not vote for the plain name being the province too."""
    text = "Buses left Buenos Aires on Monday for farm towns across Buenos Aires Province."
    city, province = Resolver(gazetteer).resolve(
        mentions(text, "Buenos Aires", "Buenos Aires Province")
    )
    assert (city.place.feature_code, province.place.feature_code) == ("PPLC", "ADM1")


# --- corrections ------------------------------------------------------------------


def corrections_file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "corrections.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def geoparse(gazetteer: Gazetteer, text: str, corrections: Corrections | None = None) -> dict:
    """Name -> geonameid of what the gazetteer-only geoparser finds in ``text``."""
    found = Geoparser(gazetteer, None, corrections).geoparse_many([(text, None)])[0]
    return {d["name"]: d["geonameid"] for d in found}


def test_pin_overrides_the_context(gazetteer: Gazetteer, tmp_path: Path) -> None:
    text = "Protesters in Tbilisi urged Georgia to seek closer ties with the West."
    assert geoparse(gazetteer, text)["Georgia"] == 614540
    pinned = load_corrections(corrections_file(tmp_path, {"pins": {"Georgia": 4197000}}))
    assert geoparse(gazetteer, text, pinned)["Georgia"] == 4197000


def test_deny_removes_a_recognised_name(gazetteer: Gazetteer, tmp_path: Path) -> None:
    text = "Convoys reached Homs and Aleppo by nightfall."
    assert set(geoparse(gazetteer, text)) == {"Homs", "Aleppo"}
    denied = load_corrections(corrections_file(tmp_path, {"deny": ["HOMS"]}))
    assert set(geoparse(gazetteer, text, denied)) == {"Aleppo"}


def test_alias_adds_a_name(gazetteer: Gazetteer, tmp_path: Path) -> None:
    text = "Commuters poured back into Old Smoke after the holiday."
    assert geoparse(gazetteer, text) == {}
    aliased = load_corrections(corrections_file(tmp_path, {"aliases": {"Old Smoke": 2643743}}))
    assert geoparse(gazetteer, text, aliased) == {"Old Smoke": 2643743}


def test_no_corrections_file_means_none() -> None:
    assert load_corrections("") == Corrections()
    assert load_corrections(None) == Corrections()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read corrections"),
        ([1, 2], "expected a JSON object"),
        ({"pins": ["Georgia"]}, "'pins' must be an object"),
        ({"aliases": {"Old Smoke": "London"}}, "needs an integer GeoNames id"),
        ({"deny": "Homs"}, "'deny' must be a list"),
    ],
)
def test_bad_corrections_file_names_its_path(tmp_path: Path, content: object, message: str) -> None:
    path = corrections_file(tmp_path, content)
    with pytest.raises(ConfigError, match=message) as info:
        load_corrections(path)
    assert str(path) in str(info.value)


def test_missing_corrections_file_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ConfigError, match="cannot read corrections") as info:
        load_corrections(path)
    assert str(path) in str(info.value)
