"""Online geocoders against a Nominatim look-alike on 127.0.0.1, with time patched, never slept.

geopy's own `Nominatim` class talks HTTP to `FakeNominatim`, a real server
in a thread that answers in Nominatim's JSON format, logs every request with
the (fake) time it arrived, and fails on cue (429 with Retry-After, 500, 403).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from geopy.location import Location

from mapapp.cli import cli
from mapapp.errors import ConfigError
from mapapp.geoparsing import Geoparser
from mapapp.ingest.pipeline import ingest
from mapapp.records import Article, Place, Resolution, Toponym
from mapapp.resolution.online import factory
from mapapp.resolution.online.answers import to_place
from mapapp.resolution.online.cache import CACHE_FILE, GeocodeCache
from mapapp.resolution.online.context import ArticleContext, pick_answer
from mapapp.resolution.online.factory import make_fallback, make_geocoder
from mapapp.resolution.online.fallback import OnlineFallback
from mapapp.resolution.online.retry import OnlineLookupError, PoliteRateLimiter
from mapapp.settings import load_settings

pytest_plugins = ["geo_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
USER_AGENT = "mapapp-tests/1.0 (tests@example.org)"
HOMS_STORY = (
    "Clinic reopens in Homs\n\nHOMS, Syria -- A clinic in Homs reopened on Wednesday. "
    "Doctors came from Damascus and from Aleppo.\n"
)
DAMASCUS_STORY = (
    "Bread prices rise in Damascus\n\nDAMASCUS -- Bread prices rose in Damascus "
    "on Monday, traders in Homs said.\n"
)
# Datelines the gazetteer does not know: these two mentions, and only these, go online.
SOUK_STORY = (
    "Market reopens\n\nQUWATLI SOUK -- A market reopened near Homs on Sunday, "
    "traders from Aleppo said.\n"
)
MIDAN_STORY = (
    "Bakeries reopen in old quarter\n\nMIDAN QUARTER -- Bakeries reopened on Tuesday "
    "in the quarter south of the old city of Damascus.\n"
)


def nominatim_row(
    osm_id: int,
    name: str,
    lat: float,
    lon: float,
    country: str,
    state: str = "",
    kind: str = "city",
) -> dict[str, Any]:
    """One search result as Nominatim's format=json with addressdetails=1 gives it."""
    return {
        "place_id": osm_id + 1,
        "osm_type": "relation",
        "osm_id": osm_id,
        "lat": str(lat),
        "lon": str(lon),
        "class": "place",
        "type": kind,
        "addresstype": kind,
        "name": name,
        "importance": 0.6,
        "display_name": ", ".join(p for p in (name, state, country.upper()) if p),
        "address": {"city": name, "state": state, "country_code": country.lower()},
    }


ANSWERS = {
    "homs": [nominatim_row(1001, "Homs", 34.7324, 36.7137, "sy", "Homs Governorate")],
    "damascus": [
        nominatim_row(1002, "Damascus", 45.4176, -122.4587, "us", "Oregon"),
        nominatim_row(1003, "Damascus", 33.5130, 36.2920, "sy", "Damascus Governorate"),
    ],
    "aleppo": [nominatim_row(1004, "Aleppo", 36.2021, 37.1343, "sy", "Aleppo Governorate")],
    "geneva": [nominatim_row(1005, "Geneva", 46.2044, 6.1432, "ch", "Geneva")],
    "lagos": [nominatim_row(1006, "Lagos", 6.4550, 3.3941, "ng", "Lagos")],
    "quwatli souk": [nominatim_row(1007, "Souk al-Quwatli", 34.7290, 36.7150, "sy", "Homs")],
    "midan quarter": [
        nominatim_row(1008, "Midan", 30.0444, 31.2357, "eg", "Cairo", kind="quarter"),
        nominatim_row(1009, "Midan", 33.4960, 36.2990, "sy", "Damascus", kind="quarter"),
    ],
}


@dataclass
class FakeTime:
    """The rate limiter's clock: it moves only when the limiter sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeNominatim:
    """What the server answers and what it was asked (query, fake time, User-Agent, params)."""

    time: FakeTime
    port: int = 0
    always: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)

    def queries(self) -> list[str]:
        return [entry["q"] for entry in self.log]

    def respond(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        key = params["q"].split(",")[0].strip().casefold()
        if key in self.always:
            return (*self.always[key], {"error": "scripted"})
        if self.script.get(key):
            return (*self.script[key].pop(0), {"error": "scripted"})
        return 200, {}, ANSWERS.get(key, [])

    def config(self, tmp_path: Path, **extra: Any) -> dict[str, Any]:
        """Settings pointing geopy's Nominatim at this server, the store in tmp_path."""
        return load_settings(
            {
                "STORE": str(tmp_path / "store" / "mapapp.gpkg"),
                "GEOCODER": "nominatim",
                "GEOCODER_OPTIONS": f"domain=127.0.0.1:{self.port} scheme=http",
                "USER_AGENT": USER_AGENT,
                **extra,
            },
            environ={},
        )


def handler_for(fake: FakeNominatim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.log.append(
                {
                    "q": params.get("q", ""),
                    "at": fake.time.now,
                    "params": params,
                    "agent": self.headers.get("User-Agent", ""),
                    "path": url.path,
                }
            )
            status, headers, body = fake.respond(params) if url.path == "/search" else (404, {}, {})
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Patch the rate limiter's clock and sleep (geopy's own seams): nothing really sleeps."""
    fake = FakeTime()
    monkeypatch.setattr(PoliteRateLimiter, "_clock", lambda self: fake.now)
    monkeypatch.setattr(PoliteRateLimiter, "_sleep", lambda self, seconds: fake.sleep(seconds))
    return fake


@pytest.fixture
def nominatim(fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNominatim]:
    """A Nominatim look-alike on a free loopback port."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    fake = FakeNominatim(fake_time)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    fake.port = server.server_port
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="fake-nominatim",
        daemon=True,
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def stories(tmp_path: Path) -> Path:
    """Four Syrian stories, two of them datelined where the gazetteer has no entry."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in {
        "homs": HOMS_STORY,
        "damascus": DAMASCUS_STORY,
        "souk": SOUK_STORY,
        "midan": MIDAN_STORY,
    }.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def quick_geoparser(gazetteer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest builds its Geoparser on the session's gazetteer, recognising with it alone."""
    monkeypatch.setattr(
        Geoparser,
        "from_settings",
        classmethod(lambda cls, config, fallback=None: cls(gazetteer, None, fallback=fallback)),
    )


def stored_mentions(store: str | Path) -> dict[str, dict[str, Any]]:
    """Name as written -> its stored row (the last one of that name)."""
    from mapapp.stores import open_store

    frame = open_store(store).mentions(include_undated=True, resolved_only=False)
    return {row["name"]: row for row in frame.to_dict("records")}


# -- offline stays the default ------------------------------------------------------


def test_offline_is_the_default_and_builds_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an online geocoder was built for the offline default")

    monkeypatch.setattr(factory, "get_geocoder_for_service", forbidden)
    monkeypatch.setattr(factory, "GeocodeCache", forbidden)
    config = load_settings({"STORE": str(tmp_path / "s.gpkg")}, environ={})
    assert config.geocoder == "offline"
    assert make_fallback(config) is None
    assert not (tmp_path / CACHE_FILE).exists()


def test_unknown_geocoder_and_bad_options_are_config_errors(tmp_path: Path) -> None:
    base = {"STORE": str(tmp_path / "s.gpkg"), "USER_AGENT": USER_AGENT}
    with pytest.raises(ConfigError, match="unknown geocoder 'nominatimm'.*nominatim"):
        make_geocoder(load_settings({**base, "GEOCODER": "nominatimm"}, environ={}))
    with pytest.raises(ConfigError, match="no option 'colour'"):
        make_geocoder(
            load_settings(
                {**base, "GEOCODER": "nominatim", "GEOCODER_OPTIONS": "colour=red"}, environ={}
            )
        )


# -- polite: rate limit, retries, user agent ----------------------------------------------


def test_requests_are_at_least_a_second_apart(nominatim: FakeNominatim, tmp_path: Path) -> None:
    geocode = make_geocoder(nominatim.config(tmp_path))
    for query in ("Homs", "Damascus", "Aleppo", "Geneva"):
        assert geocode(query)
    times = [entry["at"] for entry in nominatim.log]
    assert len(times) == 4
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False)), times
    assert {e["agent"] for e in nominatim.log} == {USER_AGENT}
    assert nominatim.log[0]["params"]["addressdetails"] == "1"


def test_429_with_retry_after_is_retried_then_succeeds(
    nominatim: FakeNominatim, tmp_path: Path
) -> None:
    nominatim.script["homs"] = [(429, {"Retry-After": "7"})]
    geocode = make_geocoder(nominatim.config(tmp_path))
    [homs] = geocode("Homs")
    assert homs.raw["osm_id"] == 1001
    first, second = nominatim.log
    assert second["at"] - first["at"] >= 7.0
    assert 7.0 in nominatim.time.sleeps
    assert geocode.stats.requests == 2 and geocode.stats.failures == 0


def test_a_403_stops_all_further_requests(nominatim: FakeNominatim, tmp_path: Path) -> None:
    nominatim.always["homs"] = (403, {})
    fallback = make_fallback(nominatim.config(tmp_path))
    mentions = [
        Resolution(Toponym(name, 0, len(name)), None, reason="not in the gazetteer")
        for name in ("Homs", "Aleppo")
    ]
    out = fallback(Article("a", "h", "t"), mentions)
    assert [r.reason for r in out] == [
        "nominatim: HTTP 403",
        "nominatim: HTTP 403 (no more requests this run)",
    ]
    assert nominatim.queries() == ["Homs"]


def test_missing_user_agent_refuses_with_a_clear_message(
    nominatim: FakeNominatim, stories: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAPAPP_USER_AGENT", raising=False)
    store = tmp_path / "store" / "mapapp.gpkg"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(stories),
            "--store",
            str(store),
            "--geocoder",
            "nominatim",
            "--geocoder-option",
            f"domain=127.0.0.1:{nominatim.port}",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "nominatim requires a User-Agent" in result.output
    assert "MAPAPP_USER_AGENT" in result.output and "--user-agent" in result.output
    assert not store.exists() and nominatim.log == []


def test_api_keys_are_refused_on_the_command_line(stories: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(stories),
            "--store",
            str(tmp_path / "s.gpkg"),
            "--geocoder",
            "opencage",
            "--geocoder-option",
            "api_key=s3cret",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "MAPAPP_GEOCODER_API_KEY" in result.output


# -- a batch with a failure, then the cache ---------------------------------------------


def test_a_500_is_recorded_on_its_mention_while_the_batch_lands(
    nominatim: FakeNominatim, stories: Path, tmp_path: Path, quick_geoparser: None
) -> None:
    nominatim.always["quwatli souk"] = (500, {})
    store = tmp_path / "store" / "mapapp.gpkg"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(stories),
            "--store",
            str(store),
            "--quiet",
            "--geocoder",
            "nominatim",
            "--geocoder-option",
            f"domain=127.0.0.1:{nominatim.port}",
            "--geocoder-option",
            "scheme=http",
            "--user-agent",
            USER_AGENT,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 new articles" in result.output
    assert "nominatim: 4 requests, 0 from cache, 1 failed" in result.output
    assert sorted(nominatim.queries()) == ["MIDAN QUARTER"] + ["QUWATLI SOUK"] * 3  # 2 retries
    rows = stored_mentions(store)
    souk = rows["QUWATLI SOUK"]
    assert souk["reason"] == "nominatim: HTTP 500 after 3 tries"
    assert souk["provider"] == "nominatim" and souk["geometry"] is None
    midan = rows["MIDAN QUARTER"]  # Midan in Damascus, not Cairo's: the article is in Syria
    assert (midan["provider"], midan["country_code"], midan["admin1_name"]) == (
        "nominatim",
        "SY",
        "Damascus",
    )
    assert midan["geonameid"] is None or str(midan["geonameid"]) == "<NA>"
    assert midan["geometry"].y == pytest.approx(33.4960)
    assert (rows["Aleppo"]["provider"], rows["Aleppo"]["geonameid"]) == ("offline", 170063)


def test_second_run_is_served_from_the_cache(
    nominatim: FakeNominatim, stories: Path, tmp_path: Path, quick_geoparser: None
) -> None:
    first = nominatim.config(tmp_path)
    summary = ingest([stories], first)
    assert summary.online.requests == len(nominatim.log) == 2
    assert summary.failures == 0 and summary.unresolved == 0
    second = first.replace(STORE=str(tmp_path / "store" / "again.gpkg"))  # same cache file
    again = ingest([stories], second)
    assert len(nominatim.log) == 2
    assert (again.online.requests, again.online.cache_hits) == (0, 2)
    assert again.places == summary.places

    def places(store: str) -> dict[str, tuple[str, str, str]]:
        return {
            n: (r["provider"], r["country_code"], r["resolved_name"])
            for n, r in stored_mentions(store).items()
        }

    assert places(first.store) == places(second.store)
    assert places(first.store)["QUWATLI SOUK"] == ("nominatim", "SY", "Souk al-Quwatli")


def test_not_found_is_cached_too(nominatim: FakeNominatim, tmp_path: Path) -> None:
    geocode = make_geocoder(nominatim.config(tmp_path))
    assert geocode("Nowhere Junction") == []
    assert geocode("nowhere  junction") == []  # same query, spelled differently
    assert nominatim.queries() == ["Nowhere Junction"]


def test_cache_key_includes_options(nominatim: FakeNominatim, tmp_path: Path) -> None:
    options = f"domain=127.0.0.1:{nominatim.port} scheme=http"
    for language in ("de", "fr", "de"):
        make_geocoder(
            nominatim.config(tmp_path, GEOCODER_OPTIONS=f"{options} language={language}")
        )("Homs")
    assert [e["params"]["accept-language"] for e in nominatim.log] == ["de", "fr"]
    cache = GeocodeCache(tmp_path / "store" / CACHE_FILE)
    assert cache.stats().entries == 2


def test_cached_answers_expire(tmp_path: Path) -> None:
    now = [0.0]
    forever = GeocodeCache(tmp_path / "c.sqlite", clock=lambda: now[0])
    week = GeocodeCache(tmp_path / "c.sqlite", max_age_days=7, clock=lambda: now[0])
    answer = [Location("Homs, Syria", (34.73, 36.71), {"osm_id": 1})]
    forever.put("nominatim", "Homs", "{}", answer)
    now[0] = 6 * 86400.0
    assert week.get("nominatim", "homs", "{}") == answer
    now[0] = 8 * 86400.0
    assert week.get("nominatim", "Homs", "{}") is None
    assert forever.get("nominatim", "Homs", "{}") == answer
    assert week.stats().expired == 1 and week.clear(expired_only=True) == 1
    assert forever.stats().entries == 0


CRASHING_RUN = """
import os, signal, sys
from mapapp.settings import load_settings
from mapapp.resolution.online.factory import make_geocoder
from mapapp.resolution.online.retry import PoliteRateLimiter
PoliteRateLimiter._sleep = lambda self, seconds: None
geocode = make_geocoder(load_settings(dict(STORE=sys.argv[1], GEOCODER="nominatim",
    GEOCODER_OPTIONS=sys.argv[2], USER_AGENT="crash-test/1.0"), environ={}))
for query in ("Homs", "Damascus"):
    geocode(query)
os.kill(os.getpid(), signal.SIGKILL)  # no close(), no clean exit
"""


def test_cache_survives_a_crash_mid_run(nominatim: FakeNominatim, tmp_path: Path) -> None:
    config = nominatim.config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, config.store, " ".join(config.geocoder_options)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -9, done.stderr
    assert nominatim.queries() == ["Homs", "Damascus"]
    geocode = make_geocoder(config)
    assert [a.raw["osm_id"] for a in geocode("Damascus")] == [1002, 1003]
    assert geocode("Homs")[0].latitude == pytest.approx(34.7324)
    assert len(nominatim.log) == 2 and geocode.stats.cache_hits == 2


def test_cache_commands(nominatim: FakeNominatim, tmp_path: Path) -> None:
    config = nominatim.config(tmp_path)
    make_geocoder(config)("Homs")
    runner, store = CliRunner(), ["--store", config.store]
    result = runner.invoke(cli, ["cache", "stats", *store, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["by_service"] == {"nominatim": 1}
    result = runner.invoke(cli, ["cache", "clear", *store])
    assert result.exit_code == 0 and "removed 1 cached answers" in result.output
    missing = runner.invoke(cli, ["cache", "stats", "--store", str(tmp_path / "x" / "s.gpkg")])
    assert missing.exit_code == 1 and "no geocode cache" in missing.output


# -- the same contract as offline ----------------------------------------------------------


def test_an_answer_becomes_a_place_with_the_providers_id() -> None:
    raw = ANSWERS["homs"][0]
    place = to_place(Location(raw["display_name"], (34.7324, 36.7137), raw))
    assert place == Place(
        None,
        "Homs",
        34.7324,
        36.7137,
        "P",
        "PPL",
        "SY",
        admin1_name="Homs Governorate",
        provider_id="relation/1001",
    )


def located(key: str) -> list[Location]:
    return [
        Location(r["display_name"], (float(r["lat"]), float(r["lon"])), r) for r in ANSWERS[key]
    ]


HOMS = Place(169577, "Homs", 34.72682, 36.72339, "P", "PPLA", "SY", "11", "Homs", 775_404)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ([Resolution(Toponym("HOMS", 0, 4, role="dateline"), HOMS, 1.0)], "SY"),
        ([], "US"),  # no context: the service's first answer
    ],
)
def test_answers_are_picked_with_the_articles_context(
    context: list[Resolution], expected: str
) -> None:
    asked = Resolution(Toponym("Damascus", 10, 18), None, reason="not in the gazetteer")
    fallback = OnlineFallback(lambda query: located("damascus"), service="nominatim", min_score=0.3)
    out = fallback(Article("a", "h", "t"), [*context, asked])[-1]
    assert out.place is not None and out.place.country_code == expected
    assert out.provider == "nominatim" and out.place.geonameid is None and 0 < out.score <= 1


def test_no_answer_in_the_articles_country_is_none_of_these() -> None:
    context = ArticleContext({"CH": 1.0})
    assert pick_answer(located("damascus"), context) == (
        "no answer in CH, where the rest of the article is"
    )


def test_confident_offline_answers_are_not_asked_again() -> None:
    def refuse(query: str) -> list[Location]:
        raise OnlineLookupError("nominatim: unreachable after 3 tries")

    sure = Resolution(Toponym("Homs", 0, 4), HOMS, 0.9)
    unsure = Resolution(Toponym("Homs", 10, 14), HOMS, 0.2)
    fallback = OnlineFallback(refuse, service="nominatim", min_score=0.3)
    kept, failed = fallback(Article("a", "h", "t"), [sure, unsure])
    assert kept is sure
    assert failed.place == HOMS and failed.provider == "offline"
    assert failed.reason == "kept the gazetteer's answer; nominatim: unreachable after 3 tries"
    assert fallback.stats.failures == 1
