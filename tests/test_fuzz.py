"""Hostile and broken input: every reader and every route, fed what a CMS might export.

Three kinds of test:

* property tests (hypothesis) over the plain-text parser, the file readers
  (.txt, .jsonl, .csv from arbitrary bytes), the geoparse request reader and
  the geoparser's offsets: anything goes in; out comes an article or an
  ``ArticleParseError`` whose message is one line naming the input;
* a table of named cases run through ``mapapp ingest`` itself (empty, binary,
  invalid UTF-8, BOM, CRLF, a long story, a thousand one-line stories,
  missing and extra CSV columns, years 0001 and 9999, no places, a place list
  1,000 long): each ends in stored articles or one ``skipped:`` line naming the
  file, never a traceback, and nothing stored before is lost;
* the HTTP side: every route with fuzzed paths, query strings (as text and as
  raw bytes) and methods never answers 500; refusals carry a sentence, and
  oversized queries and bodies are refused (414, 413).

Hypothesis runs derandomised here, so CI sees the same cases on every run;
``stress/fuzz.py`` runs the same properties with fresh seeds and far more
examples (and the 50 MB story, 100,000 one-line stories and a 10,000-place list).
"""

from __future__ import annotations

import io
import json
import os
import re
import string
import sys
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip(
        "hypothesis is not installed (pip install -r requirements.txt)", allow_module_level=True
    )

from mapapp.articles import MAX_ARTICLE_CHARS, content_id, iter_articles, parse_text
from mapapp.errors import ArticleParseError
from mapapp.records import Article
from mapapp.stores import Store, open_store

pytest_plugins = ["geo_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
# MAPAPP_FUZZ_SCALE multiplies the examples and draws fresh random cases (stress/fuzz.py).
SCALE = int(os.environ.get("MAPAPP_FUZZ_SCALE", "0") or 0)
FAST = settings(
    max_examples=150 * max(SCALE, 1),
    deadline=None,
    derandomize=not SCALE,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
HTTP = settings(FAST, max_examples=120 * max(SCALE, 1))

# Text that looks like news often enough to reach the deep branches of the parser.
CITIES = [
    "BEIRUT",
    "SÃO PAULO",
    "PORT-AU-PRINCE",
    "N'DJAMENA",
    "COLUMBUS, Ohio",
    "WASHINGTON",
    "Lagos",
    "X",
    "",
    "BEIRUT (AP)",
    "GENEVA (Reuters)",
]
DASHES = [" -- ", " \u2014 ", " - ", ": ", " (AP) ", "--", " \ufffd "]
DATES = [
    "2017-11-20",
    "11/20/2017",
    "November 20, 2017",
    "Nov. 20, 2017",
    "0001-01-01",
    "9999-12-31",
    "0000-01-01",
    "2026-02-30",
    "13/45/2020",
    "Mon, 20 Nov 2017 10:00:00 +0000",
    "20 November 2017",
    "Sept. 31, 2020",
    "2017-11-20T25:61:00Z",
]
WEIRD = [
    "\ufeff",
    "\r\n",
    "\r",
    "\u2028",
    "\u2029",
    "\x00",
    "\u202e",
    "\u200b",
    "\x85",
    "\t",
    "\U0001f30d",
    "\ud7ff",
    "<script>alert(1)</script>",
    "${alert(1)}",
    "[Editor's note]",
]

text_chars = st.characters(blacklist_categories=("Cs",))
any_text = st.text(text_chars, max_size=300)
newsy_piece = st.one_of(
    any_text,
    st.sampled_from(WEIRD),
    st.sampled_from(DATES),
    st.sampled_from(CITIES),
    st.text(string.printable, max_size=120),
)


@st.composite
def stories(draw) -> str:
    """A plain-text story: headline, optional deck, dateline, body, optional footer."""
    parts = [draw(newsy_piece)]
    if draw(st.booleans()):
        parts.append(draw(newsy_piece))
    parts.append(draw(st.sampled_from(CITIES)) + draw(st.sampled_from(DASHES)) + draw(newsy_piece))
    parts.extend(draw(st.lists(newsy_piece, max_size=4)))
    if draw(st.booleans()):
        parts.append(
            draw(st.sampled_from(["A Section on ", "Published ", "Updated: ", ""]))
            + draw(st.sampled_from(DATES))
        )
    joiner = draw(st.sampled_from(["\n\n", "\n", "\r\n\r\n", "\r\r", "\n \n"]))
    return draw(st.sampled_from(["", "\ufeff", "\n\n"])) + joiner.join(parts)


def one_line(message: str) -> bool:
    return "\n" not in message and "\r" not in message and message.strip() == message


def assert_error_names(error: ArticleParseError, label: str) -> None:
    message = str(error)
    assert one_line(message), message
    assert message.startswith(label), (label, message)


# ------------------------------------------------------------------ the parser


@FAST
@given(raw=st.one_of(stories(), any_text))
def test_parse_text_gives_an_article_or_a_one_line_error(raw):
    try:
        article = parse_text(raw, source="feed/item.txt")
    except ArticleParseError as err:
        assert_error_names(err, "feed/item.txt")
        return
    assert article.text.strip() and len(article.text) <= MAX_ARTICLE_CHARS
    assert "\n" not in article.headline and "\r" not in article.text
    body = article.text.removeprefix(f"{article.deck}\n\n") if article.deck else article.text
    assert article.article_id == content_id(article.headline, body)  # the deck is not in the id
    assert parse_text(raw, source="feed/item.txt") == article  # deterministic
    if "\r" not in raw:  # saved with Windows line ends and a byte-order mark: the same story
        windows = "\ufeff" + raw.removeprefix("\ufeff").replace("\n", "\r\n")
        assert parse_text(windows, source="feed/item.txt") == article


@st.composite
def jsonl_files(draw) -> bytes:
    """JSON Lines with well-formed, mistyped and malformed records."""
    value = st.one_of(
        any_text,
        st.sampled_from(DATES),
        st.integers(),
        st.floats(),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
    )
    keys = st.sampled_from(
        [
            "text",
            "body",
            "headline",
            "title",
            "date",
            "published",
            "url",
            "deck",
            "id",
            " Text ",
            "TITLE",
            "extra",
        ]
    )
    record = st.dictionaries(keys, value, max_size=6)
    line = st.one_of(
        record.map(json.dumps),
        any_text,
        st.sampled_from(
            ["[", "[" * 5000 + "]" * 5000, "null", "[1, 2]", '"text"', '{"text": "x"', "\ufeff{}"]
        ),
    )
    lines = draw(st.lists(line, max_size=6))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines).encode("utf-8")


@st.composite
def csv_files(draw) -> bytes:
    """CSV with missing, extra, repeated and unnamed columns, short and long rows."""
    columns = draw(
        st.lists(
            st.sampled_from(
                ["text", "body", "headline", "date", "url", "extra", "", "Text", "text"]
            ),
            max_size=5,
        )
    )
    cell = st.one_of(
        any_text, st.sampled_from(DATES), st.just('a "quoted" cell'), st.just("line one\nline two")
    )
    rows = draw(st.lists(st.lists(cell, max_size=len(columns) + 2), max_size=5))
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


file_bytes = st.one_of(
    st.binary(max_size=400),
    stories().map(lambda s: s.encode("utf-8")),
    stories().map(lambda s: s.encode("utf-8") + b"\xff\xfe" + s.encode("utf-8")),
    stories().map(lambda s: s.encode("utf-16")),
    jsonl_files(),
    csv_files(),
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


@FAST
@given(data=file_bytes, suffix=st.sampled_from([".txt", ".jsonl", ".csv", ".TXT", ".md"]))
def test_any_file_gives_articles_or_one_line_errors_naming_it(scratch, data, suffix):
    path = scratch / f"input{suffix}"
    path.write_bytes(data)
    items = list(iter_articles([path]))
    assert items, "every file gives at least an article or an error"
    for item in items:
        if isinstance(item, ArticleParseError):
            assert_error_names(item, str(path))
        else:
            assert isinstance(item, Article) and item.text.strip()
            assert item.source.startswith(str(path))


@FAST
@given(data=st.one_of(jsonl_files(), st.binary(max_size=300)))
def test_geoparse_request_lines_are_answered_or_refused_one_by_one(data):
    from mapapp.geoparsing import BadLine, read_requests

    lines = io.BytesIO(data).readlines()
    answered = list(read_requests(io.BytesIO(data)))
    numbers = [number for number, _ in answered]
    assert numbers == sorted(set(numbers)) and all(1 <= n <= len(lines) for n in numbers)
    assert {n for n, line in enumerate(lines, start=1) if b"{" in line} <= set(numbers)
    for number, request in answered:
        if isinstance(request, BadLine):
            assert one_line(request.message) and request.message.startswith(f"line {number}:")
        else:
            assert isinstance(request["text"], str)


@pytest.fixture(scope="module")
def geoparser(gazetteer):
    from mapapp.geoparsing import Geoparser

    return Geoparser(gazetteer, None)


@settings(FAST, max_examples=60 * max(SCALE, 1))
@given(
    text=st.one_of(stories(), any_text),
    spans=st.none() | st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), max_size=4),
)
def test_geoparser_offsets_always_point_at_the_name(geoparser, text, spans):
    spans = [[s, e] for s, e in spans or [] if 0 <= s < e <= len(text)] or None
    [toponyms] = geoparser.geoparse_many([(text, spans)])
    for toponym in toponyms:
        assert text[toponym["start"] : toponym["end"]] == toponym["name"]
        if toponym["lat"] is not None:
            assert -90 <= toponym["lat"] <= 90 and -180 <= toponym["lon"] <= 180
    if spans:
        assert sorted([t["start"], t["end"]] for t in toponyms) <= sorted(spans)
    json.dumps(toponyms, allow_nan=False)  # always valid JSON out


# ------------------------------------------------------------------ named cases through ingest

STORY = "Rain in Lagos\n\nLAGOS -- Heavy rain flooded Lagos and Ibadan on Monday.\n"
PLACES = [
    "Lagos",
    "Ibadan",
    "Accra",
    "Nairobi",
    "Kampala",
    "Dakar",
    "Abuja",
    "Kano",
    "Lome",
    "Cotonou",
]


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")


def feed(n: int) -> bytes:
    return jsonl(
        *(
            {
                "headline": f"Flood {i}",
                "text": f"Rain hit {PLACES[i % 10]} again.",
                "date": f"2026-{i % 12 + 1:02d}-01",
            }
            for i in range(n)
        )
    )


# name -> (file name, bytes, articles stored, files skipped)
CASES = {
    "empty": ("empty.txt", b"", 0, 1),
    "blank": ("blank.txt", b" \n\r\n\t\n", 0, 1),
    "binary": ("binary.txt", bytes(range(256)) * 4, 0, 1),
    "png-named-jsonl": ("photo.jsonl", b"\x89PNG\r\n\x1a\n" + bytes(300), 0, 1),
    "latin-1": ("latin1.txt", STORY.replace("Monday", "lundi \xe9t\xe9").encode("latin-1"), 0, 1),
    "utf-16": ("utf16.txt", STORY.encode("utf-16"), 0, 1),
    "bom": ("bom.txt", b"\xef\xbb\xbf" + STORY.replace("Monday", "Tuesday").encode(), 1, 0),
    "crlf": ("crlf.txt", STORY.replace("Monday", "Wednesday").replace("\n", "\r\n").encode(), 1, 0),
    "bare-cr": ("cr.txt", STORY.replace("Monday", "Thursday").replace("\n", "\r").encode(), 1, 0),
    "bom-crlf-csv": (
        "bom.csv",
        b"\xef\xbb\xbfheadline,text,date\r\nSnow,Snow fell on Oslo.,2026-01-05\r\n",
        1,
        0,
    ),
    "csv-no-text-column": ("notext.csv", b"headline,date\nSnow,2026-01-05\n", 0, 1),
    "csv-extra-columns": (
        "extra.csv",
        b"id,text,headline,x,y,z\n1,Fog over Lima.,Fog,a,b,c\n",
        1,
        0,
    ),
    "csv-ragged-rows": (
        "ragged.csv",
        b"headline,text,date\nShort row\nToo,many,2026-01-01,"
        b"cells,here\nOk,Hail in Quito.,2026-01-02\n",
        2,
        1,
    ),
    # an unclosed quote is named by the line its field starts on, not read into the next rows
    "csv-unclosed-quote": ("quote.csv", b'headline,text\nA,"Rain in Dakar.\n', 0, 1),
    "jsonl-mixed": (
        "mixed.jsonl",
        b'{"text": "Wind in Kano."}\n[1]\n{"text": 5}\n{bad\n' + b"[" * 50000 + b"\n",
        1,
        4,
    ),
    "year-0001": (
        "ancient.jsonl",
        jsonl({"text": "Rome was founded near Rome.", "date": "0001-01-01"}),
        1,
        0,
    ),
    "year-9999": (
        "future.jsonl",
        jsonl({"text": "A colony on Mars, seen from Houston.", "date": "9999-12-31"}),
        1,
        0,
    ),
    "year-0000": ("year0.jsonl", jsonl({"text": "Before time.", "date": "0000-01-01"}), 0, 1),
    "feb-30": ("feb30.jsonl", jsonl({"text": "A day that never was.", "date": "2026-02-30"}), 0, 1),
    "no-places": ("noplaces.txt", b"Markets\n\nShares rose on Monday as traders bought.\n", 1, 0),
    "place-list-1000": (
        "list.txt",
        (
            "Places\n\nLAGOS -- Flooded: " + ", ".join(PLACES[i % 10] for i in range(1000)) + ".\n"
        ).encode(),
        1,
        0,
    ),
    "long-story-450k": (
        "long.txt",
        ("Long read\n\nLAGOS -- " + "The river rose again. " * 20000).encode(),
        1,
        0,
    ),
    "three-mb-story": ("big.txt", ("Big\n\nLAGOS -- " + "Rain. " * 500_000).encode(), 0, 1),
    "three-mb-csv-cell": (
        "big.csv",
        b"headline,text\nBig," + b"x" * 3_000_000 + b"\nOk,Rain in Lagos.\n",
        1,
        1,
    ),
    "too-long-story": ("huge.jsonl", jsonl({"text": "x" * (MAX_ARTICLE_CHARS + 1)}), 0, 1),
    "thousand-one-liners": ("feed.jsonl", feed(1000), 1000, 0),
    "script-in-every-field": (
        "xss.jsonl",
        jsonl(
            {
                "headline": "<script>alert(1)</script>",
                "text": "LAGOS -- <img src=x onerror=alert(1)> in Lagos ${alert(1)}",
                "url": "javascript:alert(1)",
                "deck": "</script><svg onload=x>",
            }
        ),
        1,
        0,
    ),
}


@pytest.fixture(scope="module")
def fuzz_cli(gazetteer):
    """``mapapp`` run in-process, with the session's gazetteer and no spaCy model."""
    from mapapp import geoparsing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(geoparsing, "load_gazetteer", lambda packages, cache: gazetteer)
        for name in ("MAPAPP_STORE", "MAPAPP_GEOCODER", "MAPAPP_CORRECTIONS"):
            patch.delenv(name, raising=False)
        patch.setenv("MAPAPP_NER_MODEL", "none")
        yield


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory, fuzz_cli) -> Store:
    """A store already holding the sample articles (none may be lost)."""
    from mapapp.ingest.pipeline import ingest
    from mapapp.settings import load_settings

    store = open_store(tmp_path_factory.mktemp("fuzz-store") / "mapapp.gpkg")
    ingest([ROOT / "data"], load_settings({"STORE": str(store.path)}))
    return store


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from mapapp.cli import main

    monkeypatch.setattr(sys, "argv", ["mapapp", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES.keys())
def test_every_bad_input_is_stored_or_named_in_one_line(
    case, fuzz_store, tmp_path, monkeypatch, capsys
):
    name, data, stored, skipped = CASES[case]
    path = tmp_path / name
    path.write_bytes(data)
    before = fuzz_store.known_ids()
    code, out, err = run_cli(
        monkeypatch, capsys, "ingest", str(path), "--store", str(fuzz_store.path), "--quiet"
    )

    assert "Traceback" not in err and code == (2 if skipped else 0), err
    lines = [line for line in err.splitlines() if line.strip()]
    if not stored and lines and lines[-1].startswith("Error: found no story to ingest in "):
        assert lines.pop() == f"Error: found no story to ingest in {path} (nothing was stored)"
    assert all(line.startswith(("skipped: ", "note: ")) for line in lines), err
    skips = [line for line in lines if line.startswith("skipped: ")]
    assert len(skips) == skipped and all(str(path) in line for line in skips), err
    assert re.search(rf"^{stored} new articles, ", out, re.M), out
    after = fuzz_store.known_ids()
    assert before <= after and len(after - before) == stored  # nothing stored before is lost


def test_a_crlf_or_bom_copy_is_the_same_article(fuzz_store, tmp_path, monkeypatch, capsys):
    (tmp_path / "lf.txt").write_bytes(STORY.encode())
    (tmp_path / "crlf-bom.txt").write_bytes(b"\xef\xbb\xbf" + STORY.replace("\n", "\r\n").encode())
    code, out, err = run_cli(
        monkeypatch, capsys, "ingest", str(tmp_path), "--store", str(fuzz_store.path), "--quiet"
    )
    assert code == 0, err
    assert re.search(r"^1 new articles, .* 1 already stored", out, re.M), out


@pytest.fixture
def extreme_app(store_location, tmp_path):
    """The app on a store with stories dated 0001-01-01, 2024-05-01 and 9999-12-31
    (on each backend)."""
    from datetime import date

    from conftest import LAGOS, make_story

    from mapapp.web import create_app

    store = open_store(store_location)
    store.add(
        [
            make_story(
                f"day-{day}",
                day,
                f"Rain on {day}",
                "LAGOS -- Rain.",
                [("LAGOS", LAGOS, "dateline")],
            )
            for day in (date(1, 1, 1), date(2024, 5, 1), date(9999, 12, 31))
        ]
    )
    return create_app({"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path)})


def test_extreme_dates_reach_the_map_data(extreme_app):
    client = extreme_app.test_client()
    stats = client.get("/api/stats").get_json()
    assert stats["first_date"] == "0001-01-01" and stats["last_date"] == "9999-12-31"
    assert client.get("/?start=0001-01-01&end=9999-12-31").status_code == 200
    assert client.get("/api/points").status_code == 200


@pytest.mark.browser
def test_extreme_dates_draw_a_usable_map(browser, extreme_app):
    """Years 0001 and 9999 once made the timeline build a bar per month (and read year 1 as
    1901); now the page is ready at once, with at most 200 bars, and year 1 is year 1."""
    from conftest import serving

    with serving(extreme_app) as base:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(base + "/?start=0001-01-01&end=0001-12-31")
            page.wait_for_selector(
                ".mapapp-filters[data-state=ready]", state="attached", timeout=15_000
            )
            assert page.locator(".mapapp-count").inner_text().startswith("1 place in 1 story")
            assert page.input_value("input[name=start]") == "0001-01-01"
            assert page.locator(".mapapp-timeline").get_attribute("data-unit") == "year"
            assert page.locator(".mapapp-timeline rect.mapapp-bar").count() <= 200
            assert errors == []
        finally:
            page.close()


# ------------------------------------------------------------------ the HTTP side

PARAMS = [
    "start",
    "end",
    "undated",
    "q",
    "country",
    "role",
    "min_score",
    "areas",
    "lat",
    "lon",
    "zoom",
    "v",
    "m",
    "format",
    "page",
    "",
]
ROUTES = [
    "/",
    "/api/points",
    "/api/evidence",
    "/api/places.geojson",
    "/api/stats",
    "/export.geojson",
    "/export.csv",
    "/export.gpkg",
    "/basemap/countries.geojson",
    "/stories/syria-0301",
    "/stories/xss-0420",
]
FAIL_STATUSES = {400, 403, 404, 405, 409, 413, 414}  # 403: a write without the CSRF token

param_value = st.one_of(
    any_text,
    st.sampled_from(DATES),
    st.sampled_from(WEIRD),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(
        [
            "1",
            "0",
            "true",
            "off",
            "SY",
            "sy",
            "ÅÄ",
            "dateline,focus",
            "mention",
            "nan",
            "inf",
            "-0",
            "1e309",
            "0x10",
            "٣",
            "1,2,3",
            "-1",
            "99999999999",
        ]
    ),
    st.text(string.digits + ",-", max_size=40),
)


def assert_refusal_has_a_sentence(response, path: str) -> None:
    assert response.status_code < 500, (path, response.status_code)
    if response.status_code not in FAIL_STATUSES:
        assert response.status_code in (200, 304, 308), (path, response.status_code)
        return
    if path.startswith("/api/"):
        message = response.get_json()["error"]
    else:
        found = re.search(
            r'<p class="error-description">(.*?)</p>', response.get_data(as_text=True), re.S
        )
        assert found, response.get_data(as_text=True)[:300]
        message = found.group(1)
    assert len(message.split()) >= 3, (path, message)


@HTTP
@given(
    route=st.sampled_from(ROUTES),
    params=st.lists(st.tuples(st.sampled_from(PARAMS) | any_text, param_value), max_size=6),
)
def test_fuzzed_query_parameters_never_give_500(client, route, params):
    response = client.get(route, query_string=params)
    assert_refusal_has_a_sentence(response, route)


@HTTP
@given(route=st.sampled_from(ROUTES), raw=st.binary(max_size=200))
def test_raw_query_bytes_never_give_500(client, route, raw):
    response = client.get(route + "?" + quote_from_bytes(raw, safe="=&%+;"))
    assert_refusal_has_a_sentence(response, route)


path_piece = st.one_of(
    any_text,
    st.sampled_from(
        [
            "..",
            "../..",
            "%2e%2e",
            "..%2f..%2fetc%2fpasswd",
            "%00",
            "/etc/passwd",
            "C:\\Windows\\win.ini",
            "~root",
            ".",
            "%c0%af",
            "leaflet.js%00.png",
            "a" * 300,
        ]
    ),
)


@HTTP
@given(
    prefix=st.sampled_from(
        [
            "/stories/",
            "/vendor/leaflet/",
            "/vendor/",
            "/static/",
            "/export.",
            "/api/",
            "/basemap/",
            "/",
        ]
    ),
    pieces=st.lists(path_piece, min_size=1, max_size=3),
)
def test_fuzzed_paths_never_give_500_or_leave_their_folder(client, prefix, pieces):
    path = "/" + (prefix + "/".join(quote(p, safe="%./\\~:") for p in pieces)).lstrip("/")
    response = client.get(path)
    assert_refusal_has_a_sentence(response, path)
    body = response.get_data()
    assert b"root:x:0:0" not in body and b"[fonts]" not in body  # nothing outside the app


@HTTP
@given(
    method=st.sampled_from(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]),
    route=st.sampled_from(ROUTES),
    body=st.binary(max_size=2000),
)
def test_other_methods_are_refused_not_crashed(client, method, route, body):
    response = client.open(route, method=method, data=body)
    if method == "OPTIONS":
        assert response.status_code == 200
    else:
        # a write without the session's CSRF token is refused before routing (403), else 405
        assert response.status_code in (403, 405), (method, route, response.status_code)
        assert_refusal_has_a_sentence(response, route)


def test_a_huge_query_string_is_refused_with_414(client):
    for route in ("/", "/api/points", "/export.csv", "/stories/syria-0301"):
        response = client.get(route + "?q=" + "a" * 100_000)
        assert response.status_code == 414, route
        assert_refusal_has_a_sentence(response, route)
    assert client.get("/stories/" + "a" * 5000).status_code == 414


def test_a_body_bigger_than_the_limit_is_refused_with_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.get("/api/stats", data=b"x" * (limit + 1))
    assert response.status_code == 413
    assert "at most" in response.get_json()["error"]
    assert client.get("/api/stats", data=b"x" * 100).status_code == 200
    assert client.post("/", data=b"x" * 10_000_000).status_code in (403, 405, 413)
