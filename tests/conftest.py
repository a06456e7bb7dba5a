"""Shared fixtures: hand-made stories, a store filled from them, the app and a live server.

The stories need no geocoder: each carries its Resolutions, with offsets
computed from the text, so the store, the pages and the map can be tested on
their own.  Two stories carry script-injection payloads in every field a
reader sees (headline, deck, body, place names as written and as resolved).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.register_assert_rewrite("helpers")  # its asserts explain themselves, as in a test

from helpers import installed_outlines, serving, skip_or_fail  # noqa: E402 - after the rewrite hook
from pg_fixtures import postgis_url, postgres_server  # noqa: E402, F401 - fixtures for every module

from mapapp.records import MAP_ROLES, Article, Place, Resolution, Toponym  # noqa: E402

STORE_BACKENDS = ("gpkg", "postgis")

IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
TEMPLATE_PAYLOAD = "${alert(1)}"
SCRIPT_PAYLOAD = "</script><script>alert(2)</script>"
SENTINEL_PAYLOAD = "<img src=x onerror=window.__pwned=1>"

DAMASCUS = Place(
    170654, "Damascus", 33.5102, 36.29128, "P", "PPLC", "SY", "13", "Dimashq", 1_569_394
)
SYRIA = Place(163843, "Syria", 35.0, 38.0, "A", "PCLI", "SY", "00", "", 22_198_110)
ALEPPO = Place(170063, "Aleppo", 36.20124, 37.16117, "P", "PPLA", "SY", "09", "Aleppo", 1_602_264)
GENEVA = Place(2660646, "Geneva", 46.20222, 6.14569, "P", "PPLA", "CH", "GE", "Geneva", 183_981)
LAGOS = Place(2332459, "Lagos", 6.45407, 3.39467, "P", "PPLA2", "NG", "05", "Lagos", 9_000_000)
QUITO = Place(
    3652462,
    f"Quito {TEMPLATE_PAYLOAD} {SENTINEL_PAYLOAD}",
    -0.22985,
    -78.52495,
    "P",
    "PPLC",
    "EC",
    "18",
    f"Pichincha{SCRIPT_PAYLOAD}",
    1_399_814,
)
TOKYO = Place(1850147, "Tokyo", 35.6895, 139.69171, "P", "PPLC", "JP", "40", "Tokyo", 8_336_599)
PARIS = Place(
    2988507, "Paris", 48.85341, 2.3488, "P", "PPLC", "FR", "11", "Île-de-France", 2_138_551
)
FRANCE = Place(3017382, "France", 46.0, 2.0, "A", "PCLI", "FR", "00", "", 66_987_244)

Mention = tuple[str, "Place | None", str]  # (name as written, place, role)


def make_story(
    article_id: str,
    published: date | None,
    headline: str,
    text: str,
    mentions: list[Mention],
    **fields: str,
) -> tuple[Article, list[Resolution]]:
    """An Article and one Resolution per mention, found in order in ``text``."""
    resolutions, cursor = [], 0
    for written, place, role in mentions:
        start = text.index(written, cursor)
        cursor = start + len(written)
        sentence_start = text.rfind(".", 0, start) + 1
        toponym = Toponym(
            written,
            start,
            cursor,
            role=role,
            sentence=text[sentence_start : text.find(".", cursor) + 1].strip(),
            source="gazetteer",
        )
        resolutions.append(
            Resolution(
                toponym,
                place,
                score=0.9 if place else 0.0,
                reason=None if place else "no gazetteer candidate",
            )
        )
    return Article(article_id, headline, text, published, **fields), resolutions


def story_records() -> list[tuple[Article, list[Resolution]]]:
    """Six stories in five countries: March, April (both payloads), May, and one undated."""
    return [
        make_story(
            "syria-0301",
            date(2024, 3, 1),
            "Talks open in Damascus",
            "DAMASCUS -- Talks opened in Damascus on Friday as Syria's neighbours met.\n\n"
            "Aid convoys later left Aleppo for the north, passing Nowhere Junction. "
            "Officials in Damascus said more talks would follow.",
            [
                ("DAMASCUS", DAMASCUS, "dateline"),
                ("Damascus", DAMASCUS, "focus"),
                ("Syria", SYRIA, "mention"),
                ("Aleppo", ALEPPO, "mention"),
                ("Nowhere Junction", None, "mention"),
                ("Damascus", DAMASCUS, "mention"),
            ],
            dateline="DAMASCUS",
            deck="Neighbours meet as convoys move north",
            url="https://news.example/syria-0301",
            source="wire",
        ),
        make_story(
            "geneva-0315",
            date(2024, 3, 15),
            "Envoys meet in Geneva",
            "GENEVA -- Envoys met in Geneva to discuss Syria.",
            [
                ("GENEVA", GENEVA, "dateline"),
                ("Geneva", GENEVA, "focus"),
                ("Syria", SYRIA, "mention"),
            ],
            dateline="GENEVA",
            source="wire",
        ),
        make_story(
            "lagos-0410",
            date(2024, 4, 10),
            IMG_PAYLOAD,
            "LAGOS -- Flooding hit Lagos overnight.",
            [("LAGOS", LAGOS, "dateline"), ("Lagos", LAGOS, "focus")],
            dateline="LAGOS",
            source="wire",
        ),
        make_story(
            "xss-0420",
            date(2024, 4, 20),
            f"{TEMPLATE_PAYLOAD} {SCRIPT_PAYLOAD}",
            f"QUITO -- Protesters gathered in Quito{SCRIPT_PAYLOAD} as banners read "
            f"{TEMPLATE_PAYLOAD} and {SENTINEL_PAYLOAD} near the square.",
            [("QUITO", QUITO, "dateline"), (f"Quito{SCRIPT_PAYLOAD}", QUITO, "focus")],
            dateline="QUITO",
            deck=SENTINEL_PAYLOAD,
            url="javascript:alert(1)",
            source="wire",
        ),
        make_story(
            "tokyo-0502",
            date(2024, 5, 2),
            "Markets rally in Tokyo",
            "TOKYO -- Markets in Tokyo rallied on Thursday.",
            [("TOKYO", TOKYO, "dateline"), ("Tokyo", TOKYO, "focus")],
            dateline="TOKYO",
            source="wire",
        ),
        make_story(
            "paris-undated",
            None,
            "A retrospective on Paris",
            "PARIS -- A look back at Paris and at France.",
            [
                ("PARIS", PARIS, "dateline"),
                ("Paris", PARIS, "focus"),
                ("France", FRANCE, "mention"),
            ],
            dateline="PARIS",
            source="feature",
        ),
    ]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium against a live server (needs chromium)"
    )


@pytest.fixture
def payloads() -> SimpleNamespace:
    """The script-injection strings the stories carry (all must stay inert)."""
    return SimpleNamespace(
        img=IMG_PAYLOAD, template=TEMPLATE_PAYLOAD, script=SCRIPT_PAYLOAD, sentinel=SENTINEL_PAYLOAD
    )


@pytest.fixture
def articles_records() -> list[tuple[Article, list[Resolution]]]:
    """The hand-made stories, each with its Resolutions."""
    return story_records()


@pytest.fixture(params=STORE_BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's location, once per backend: a GeoPackage file in tmp_path, and a
    fresh PostGIS database.  A test that is about one backend's files parametrises this
    indirectly with just that backend."""
    if request.param == "gpkg":
        return str(tmp_path / "store" / "mapapp.gpkg")
    return request.getfixturevalue("postgis_url")


@pytest.fixture
def store(store_location: str, articles_records):
    """A Store holding every story in ``articles_records`` (on each backend in turn)."""
    from mapapp.stores import open_store

    filled = open_store(store_location)
    result = filled.add(articles_records)
    assert result.added == len(articles_records), result
    return filled


@pytest.fixture
def app(store, tmp_path: Path):
    """The app in testing mode, reading ``store``, caching into tmp_path."""
    from mapapp.web import create_app

    return create_app(
        {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "cache")}
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def counts(store) -> Callable[..., tuple[int, int]]:
    """(places, stories) the store holds for a date range, as the map should show them."""

    def _counts(start: date | None = None, end: date | None = None) -> tuple[int, int]:
        frame = store.mentions(start, end, include_undated=start is None and end is None)
        frame = frame[frame["role"].isin(MAP_ROLES)]
        return int(frame["geonameid"].nunique()), int(frame["article_id"].nunique())

    return _counts


@pytest.fixture
def outlines() -> Path:
    """The world-atlas countries file the basemap is drawn from (skips when not installed,
    fails under CI)."""
    from mapapp.settings import load_settings

    return installed_outlines(load_settings().data_packages)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by werkzeug on a free loopback port; yields its base URL."""
    with serving(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole session, shared by every browser test.

    Skips without chromium or playwright, except under CI (CI=true), where it fails.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None if executable else "no chromium on PATH (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = problem or "the playwright package is not installed"
    if problem:
        skip_or_fail(problem, needed_by="the browser tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
