"""The ``mapapp`` command line, driven the way users and other tools drive it.

Most commands run in-process through click's ``CliRunner`` against stores in
temp folders.  Loading the gazetteer index and the spaCy model takes seconds,
so the module-scoped ``runner`` hands every invocation the session's
gazetteer and one memoised model; everything else (config, store, parsing,
output) is the code users run.  The entry points themselves (``python -m
mapapp``, the ``mapapp`` script, ``run.py``) and one real ``geoparse`` run in
subprocesses.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import geopandas
import pandas
import pytest
from click.testing import CliRunner, Result
from helpers import AMBIENT, ROOT, assert_one_line_failure, run_main, run_mapapp, subprocess_env

from mapapp import geoparsing
from mapapp.articles import iter_articles
from mapapp.cli import cli
from mapapp.recognition import toponyms
from mapapp.records import Article
from mapapp.stores import open_store

pytest_plugins = ["geo_fixtures"]

DATA = ROOT / "tests" / "data"
HOMS_FILE = DATA / "2026-09-02-homs-clinic.txt"

SUMMARY = re.compile(
    r"(?P<new>\d+) new articles, (?P<places>\d+) places resolved, "
    r"(?P<unresolved>\d+) unresolved, (?P<already>\d+) already stored, "
    r"(?P<errors>\d+) errors -> (?P<store>.+)"
)
TOPONYM_KEYS = {
    "start",
    "end",
    "name",
    "lat",
    "lon",
    "geonameid",
    "country_code",
    "feature_code",
    "score",
}


# ------------------------------------------------------------------ helpers


def summary_of(result: Result) -> dict[str, str]:
    """The numbers of ingest's summary line (fails the test when it is missing)."""
    match = SUMMARY.search(result.stdout)
    assert match, result.output
    return match.groupdict()


def json_lines(text: str) -> list[dict]:
    """Every non-blank line of ``text`` parsed as JSON."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def request_lines(*requests: dict | str) -> str:
    """JSON lines for geoparse; strings are written as they are (malformed input)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)


def parsed_articles(*paths: Path) -> list[Article]:
    """The articles mapapp.articles reads from ``paths`` (errors left out)."""
    return [item for item in iter_articles(list(paths)) if isinstance(item, Article)]


def all_mentions(store_path: Path) -> geopandas.GeoDataFrame:
    """Every stored mention, resolved or not, dated or not."""
    return open_store(store_path).mentions(resolved_only=False)


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def runner(gazetteer, gazetteer_cache: Path) -> CliRunner:
    """A CliRunner whose geoparser reuses the session's gazetteer and one spaCy load.

    The ambient mapapp settings (`helpers.AMBIENT`) are unset for every invocation."""
    load_ner = functools.cache(toponyms.load_ner)
    env = {name: None for name in AMBIENT} | {"MAPAPP_CACHE_DIR": str(gazetteer_cache)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(geoparsing, "load_gazetteer", lambda packages, cache: gazetteer)
        patch.setattr(geoparsing, "load_ner", load_ner)
        yield CliRunner(env=env)


@pytest.fixture(scope="module")
def ingested(runner: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The fixture articles of tests/data ingested once into a fresh store."""
    store = tmp_path_factory.mktemp("cli-store") / "mapapp.gpkg"
    result = runner.invoke(cli, ["ingest", str(DATA), "--store", str(store), "--quiet"])
    return SimpleNamespace(store=store, result=result)


@pytest.fixture(scope="module")
def stored(ingested: SimpleNamespace) -> SimpleNamespace:
    """What the shared store holds, read back with the Store API."""
    assert ingested.result.exit_code == 0, ingested.result.output
    store = open_store(ingested.store)
    return SimpleNamespace(
        path=ingested.store,
        articles=store.articles(),
        mentions=all_mentions(ingested.store),
        resolved=store.mentions(),
    )


# ------------------------------------------------------------------ ingest


def test_ingest_summary_counts_what_landed(ingested, stored):
    result = ingested.result
    assert result.exit_code == 0, result.output
    summary = summary_of(result)
    expected = parsed_articles(DATA)
    assert int(summary["new"]) == len(expected) == len(stored.articles)
    assert set(stored.articles["article_id"]) == {a.article_id for a in expected}
    assert int(summary["places"]) == len(stored.resolved)
    assert int(summary["places"]) + int(summary["unresolved"]) == len(stored.mentions)
    assert (summary["already"], summary["errors"]) == ("0", "0")
    assert summary["store"] == str(stored.path)


def test_reingest_adds_nothing(runner, stored):
    before = open_store(stored.path).stats()
    result = runner.invoke(cli, ["ingest", str(DATA), "--store", str(stored.path), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = summary_of(result)
    assert summary["new"] == "0"
    assert int(summary["already"]) == len(stored.articles)
    assert open_store(stored.path).stats() == before


BAD_FILES = {
    "invalid-utf8-txt": ("broken.txt", b"Headline\n\nBEIRUT -- caf\xe9 \xff\xfe\n", False),
    "bad-jsonl-line": ("broken.jsonl", b'{"id": "x", "text": \n', False),
    "unknown-suffix": ("notes.docx", b"PK\x03\x04 not a story", True),
}


@pytest.mark.parametrize("name,content,explicit", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_ingest_skips_a_bad_file_and_keeps_the_rest(runner, tmp_path, name, content, explicit):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(HOMS_FILE, folder)
    shutil.copy(DATA / "feed.jsonl", folder)
    bad = (tmp_path if explicit else folder) / name
    bad.write_bytes(content)
    store = tmp_path / "store.gpkg"
    paths = [str(folder), *([str(bad)] if explicit else [])]

    result = runner.invoke(cli, ["ingest", *paths, "--store", str(store), "--quiet"])

    assert result.exit_code == 2, result.output
    named = [line for line in result.stderr.splitlines() if name in line]
    assert len(named) == 1, result.stderr
    summary = summary_of(result)
    good = parsed_articles(folder / HOMS_FILE.name, folder / "feed.jsonl")
    assert (int(summary["new"]), summary["errors"]) == (len(good), "1")
    assert set(open_store(store).articles()["article_id"]) == {a.article_id for a in good}


@pytest.mark.parametrize("how", ["option", "env"])
def test_store_from_option_or_environment(runner, tmp_path, how):
    store = tmp_path / "elsewhere" / "mapapp.gpkg"
    if how == "option":
        args, env = ["--store", str(store)], {}
    else:
        args, env = [], {"MAPAPP_STORE": str(store)}

    result = runner.invoke(cli, ["ingest", str(HOMS_FILE), "--quiet", *args], env=env)
    assert result.exit_code == 0, result.output
    assert summary_of(result)["store"] == str(store)
    assert len(open_store(store).articles()) == 1

    stats = runner.invoke(cli, ["stats", "--json", *args], env=env)
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["articles"] == 1


# ------------------------------------------------------------------ stats


def test_stats_json_matches_the_store(runner, stored):
    result = runner.invoke(cli, ["stats", "--json", "--store", str(stored.path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["articles"] == len(stored.articles)
    assert data["mentions"] == len(stored.mentions)
    assert data["unresolved"] == len(stored.mentions) - len(stored.resolved)
    dates = sorted(stored.articles["published"].dropna())
    assert (data["first_date"], data["last_date"]) == (dates[0], dates[-1])


def test_stats_plain_is_readable(runner, stored):
    result = runner.invoke(cli, ["stats", "--store", str(stored.path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"articles:   {len(stored.articles)} ")
    assert lines[1].startswith(f"mentions:   {len(stored.mentions)} ")
    assert lines[2].startswith("date range: 2026-")
    assert "Damascus (SY)" in result.stdout
    assert "{" not in result.stdout


# ------------------------------------------------------------------ geoparse

TEXTS = {
    "syria": "Aid convoys left Damascus for Homs on Monday, officials in Syria said.",
    "nothing": "The committee met again and agreed on nothing at all.",
    "geneva": "Envoys gathered in Geneva before flying on to Nairobi.",
}


def check_toponyms(text: str, found: list[dict]) -> None:
    """Each toponym has the contract's keys and offsets that cut out its name."""
    for toponym in found:
        assert TOPONYM_KEYS <= toponym.keys(), toponym
        assert text[toponym["start"] : toponym["end"]] == toponym["name"], toponym
        assert (toponym["lat"] is None) == (toponym["lon"] is None), toponym


@pytest.fixture(scope="module")
def geoparsed(runner: CliRunner, tmp_path_factory) -> Result:
    """The TEXTS through geoparse on stdin, in order."""
    store = tmp_path_factory.mktemp("geoparse") / "mapapp.gpkg"
    requests = request_lines(*({"id": key, "text": text} for key, text in TEXTS.items()))
    return runner.invoke(cli, ["geoparse", "--store", str(store)], input=requests)


def test_geoparse_answers_every_line_in_order(geoparsed):
    assert geoparsed.exit_code == 0, geoparsed.output
    answers = json_lines(geoparsed.stdout)
    assert [a["id"] for a in answers] == list(TEXTS)
    for answer, text in zip(answers, TEXTS.values(), strict=False):
        check_toponyms(text, answer["toponyms"])
    by_name = {t["name"]: t for t in answers[0]["toponyms"]}
    assert by_name["Damascus"]["geonameid"] == 170654
    assert {by_name[n]["country_code"] for n in ("Damascus", "Homs", "Syria")} == {"SY"}
    assert answers[1]["toponyms"] == []
    assert {t["name"] for t in answers[2]["toponyms"]} >= {"Geneva", "Nairobi"}


def test_geoparse_reads_a_file_argument(runner, geoparsed, tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        request_lines(*({"id": k, "text": t} for k, t in TEXTS.items())), encoding="utf-8"
    )
    result = runner.invoke(cli, ["geoparse", str(requests), "--store", str(tmp_path / "s.gpkg")])
    assert result.exit_code == 0, result.output
    assert json_lines(result.stdout) == json_lines(geoparsed.stdout)


SPAN_TEXT = "Rain fell on Paris and on Zqxvbnm overnight, then over Lyon."


@pytest.mark.parametrize(
    "names",
    [[], ["Paris"], ["Lyon", "Paris"], ["Zqxvbnm"]],
    ids=["none", "one", "two", "unknown-word"],
)
def test_geoparse_resolves_exactly_the_given_spans(runner, tmp_path, names):
    spans = sorted([SPAN_TEXT.index(n), SPAN_TEXT.index(n) + len(n)] for n in names)
    result = runner.invoke(
        cli,
        ["geoparse", "--store", str(tmp_path / "s.gpkg")],
        input=request_lines({"id": 7, "text": SPAN_TEXT, "spans": spans}),
    )
    assert result.exit_code == 0, result.output
    [answer] = json_lines(result.stdout)
    check_toponyms(SPAN_TEXT, answer["toponyms"])
    assert sorted([t["start"], t["end"]] for t in answer["toponyms"]) == spans
    for toponym in answer["toponyms"]:
        if toponym["name"] == "Zqxvbnm":
            assert (toponym["lat"], toponym["lon"], toponym["geonameid"]) == (None, None, None)
        else:
            assert toponym["country_code"] == "FR", toponym


MALFORMED = {
    "not-json": "{this is not json",
    "not-an-object": "[1, 2, 3]",
    "missing-text": {"id": "m"},
    "text-not-a-string": {"id": "m", "text": 42},
    "span-past-the-end": {"id": "m", "text": "Rain in Paris.", "spans": [[8, 99]]},
    "span-reversed": {"id": "m", "text": "Rain in Paris.", "spans": [[13, 8]]},
    "span-not-a-pair": {"id": "m", "text": "Rain in Paris.", "spans": [[8]]},
}


@pytest.mark.parametrize("bad", MALFORMED.values(), ids=MALFORMED.keys())
def test_geoparse_reports_a_malformed_line_and_answers_the_rest(runner, tmp_path, bad):
    requests = request_lines(
        {"id": "first", "text": "Flooding hit Lagos."},
        bad,
        {"id": "third", "text": "Markets rallied in Tokyo."},
    )
    result = runner.invoke(cli, ["geoparse", "--store", str(tmp_path / "s.gpkg")], input=requests)
    assert result.exit_code == 2, result.output
    first, error, third = json_lines(result.stdout)
    assert (first["id"], third["id"]) == ("first", "third")
    assert [t["name"] for t in first["toponyms"]] == ["Lagos"]
    assert [t["name"] for t in third["toponyms"]] == ["Tokyo"]
    assert "toponyms" not in error and error["line"] == 2 and error["error"]
    assert [line for line in result.stderr.splitlines() if "line 2" in line], result.stderr


def test_geoparse_machine_interface_in_a_subprocess(gazetteer, gazetteer_cache, tmp_path):
    """The real entry point (index loaded from the session's cache): only JSON lines on stdout."""
    text = "Talks in Geneva turned to the siege of Homs."
    requests = request_lines({"id": 1, "text": text}, {"id": 2, "text": "No places."})
    env = subprocess_env(
        MAPAPP_CACHE_DIR=str(gazetteer_cache), MAPAPP_STORE=str(tmp_path / "s.gpkg")
    )
    done = run_mapapp("geoparse", input=requests, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    first, second = json_lines(done.stdout)
    assert (first["id"], second) == (1, {"id": 2, "toponyms": []})
    check_toponyms(text, first["toponyms"])
    assert {t["name"]: t["country_code"] for t in first["toponyms"]} == {
        "Geneva": "CH",
        "Homs": "SY",
    }


# ------------------------------------------------------------------ export


def read_export(path: Path, fmt: str) -> pandas.DataFrame:
    """An export read back: a GeoDataFrame (geojson, gpkg) or a DataFrame (csv)."""
    if fmt == "csv":
        return pandas.read_csv(path)
    frame = geopandas.read_file(path)
    assert frame.crs.to_epsg() == 4326
    return frame


def coordinates(frame: pandas.DataFrame) -> list[tuple[float, float]]:
    """(lat, lon) of every row, from the geometry or the csv columns."""
    if isinstance(frame, geopandas.GeoDataFrame):
        return [(round(p.y, 4), round(p.x, 4)) for p in frame.geometry]
    return [
        (round(lat, 4), round(lon, 4)) for lat, lon in zip(frame["lat"], frame["lon"], strict=False)
    ]


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_writes_every_resolved_place(runner, stored, tmp_path, fmt):
    out = tmp_path / f"places.{fmt}"
    result = runner.invoke(
        cli, ["export", "--store", str(stored.path), "--format", fmt, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    frame = read_export(out, fmt)
    assert len(frame) == len(stored.resolved)
    assert {"article_id", "name", "geonameid", "country_code", "published"} <= set(frame.columns)
    by_key = dict(
        zip(
            zip(stored.resolved["article_id"], stored.resolved["start"], strict=False),
            coordinates(stored.resolved),
            strict=False,
        )
    )
    exported = dict(
        zip(
            zip(frame["article_id"], frame["start"], strict=False), coordinates(frame), strict=False
        )
    )
    assert exported == by_key


@pytest.mark.parametrize(
    "start,end",
    [
        ("2026-09-01", "2026-09-30"),
        ("2026-10-01", None),
        (None, "2026-09-15"),
        ("2027-01-01", None),
    ],
)
def test_export_filters_by_date(runner, stored, tmp_path, start, end):
    out = tmp_path / "places.csv"
    bounds = [*(["--start", start] if start else []), *(["--end", end] if end else [])]
    result = runner.invoke(
        cli, ["export", "--store", str(stored.path), "--format", "csv", "-o", str(out), *bounds]
    )
    assert result.exit_code == 0, result.output
    frame = read_export(out, "csv")
    published = stored.resolved["published"]
    keep = published.notna()
    if start:
        keep &= published >= start
    if end:
        keep &= published <= end
    expected = stored.resolved[keep]
    assert sorted(zip(frame["article_id"], frame["start"], strict=False)) == sorted(
        zip(expected["article_id"], expected["start"], strict=False)
    )
    assert all((start or "0") <= day <= (end or "9") for day in frame["published"])


def test_export_rejects_an_unknown_format(runner, stored, tmp_path):
    result = runner.invoke(
        cli,
        ["export", "--store", str(stored.path), "--format", "kml", "-o", str(tmp_path / "x.kml")],
    )
    assert result.exit_code == 2, result.output
    assert "kml" in result.stderr and not (tmp_path / "x.kml").exists()


# ------------------------------------------------------------------ bad stores


def make_bad_store(kind: str, folder: Path) -> Path:
    """A store path that is not a usable mapapp store."""
    path = folder / "bad.gpkg"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"this is not a GeoPackage\x00\x01" * 50)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign-sqlite":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
        conn.close()
    return path


BAD_STORE_KINDS = ["directory", "garbage", "empty", "foreign-sqlite"]
COMMANDS = {
    "stats": lambda tmp: ["stats"],
    "stats-json": lambda tmp: ["stats", "--json"],
    "export": lambda tmp: ["export", "-o", str(tmp / "out.geojson")],
    "ingest": lambda tmp: ["ingest", str(HOMS_FILE), "--quiet"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("kind", BAD_STORE_KINDS)
def test_a_bad_store_fails_with_one_line(monkeypatch, capsys, tmp_path, kind, command):
    store = make_bad_store(kind, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_main(monkeypatch, capsys, *command(tmp_path), "--store", str(store))
    assert_one_line_failure(result.exit_code, result.stderr, naming=str(store))
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written beside it


def test_export_to_a_missing_folder_fails_with_one_line(monkeypatch, capsys, stored, tmp_path):
    out = tmp_path / "no" / "such" / "folder" / "places.geojson"
    result = run_main(monkeypatch, capsys, "export", "--store", str(stored.path), "-o", str(out))
    assert_one_line_failure(result.exit_code, result.stderr, naming=str(out))


def test_a_bad_store_in_a_subprocess_has_no_traceback(tmp_path):
    store = make_bad_store("garbage", tmp_path)
    done = run_mapapp("stats", "--store", str(store), env=subprocess_env())
    assert_one_line_failure(done.returncode, done.stderr, naming=str(store))


# ------------------------------------------------------------------ evaluate

EVAL_ARTICLES = [
    (
        "cli-1",
        "Doctors in Damascus said supplies had arrived from Geneva by road.",
        [("Damascus", 33.5102, 36.29128, 170654), ("Geneva", 46.20222, 6.14569, 2660646)],
    ),
    (
        "cli-2",
        "A ferry linked Tripoli with Benghazi again after months of delay.",
        [("Tripoli", 32.88743, 13.18733, 2210247), ("Benghazi", 32.11486, 20.06859, 88319)],
    ),
]


def write_corpus(path: Path) -> None:
    """A two-article gold corpus in the shared/eval JSON Lines format."""
    with path.open("w", encoding="utf-8") as handle:
        for article_id, text, gold in EVAL_ARTICLES:
            toponyms = [
                {
                    "start": text.index(name),
                    "end": text.index(name) + len(name),
                    "name": name,
                    "lat": lat,
                    "lon": lon,
                    "geonameid": geonameid,
                }
                for name, lat, lon, geonameid in gold
            ]
            handle.write(
                json.dumps(
                    {
                        "id": article_id,
                        "corpus": "clitest",
                        "text": text,
                        "toponyms": toponyms,
                        "ignore_spans": [],
                    }
                )
                + "\n"
            )


def test_evaluate_writes_recognition_and_resolution(runner, tmp_path):
    corpus, report = tmp_path / "clitest.jsonl", tmp_path / "out.json"
    write_corpus(corpus)
    result = runner.invoke(
        cli,
        [
            "evaluate",
            str(corpus),
            "--limit",
            "1",
            "--json",
            str(report),
            "--store",
            str(tmp_path / "s.gpkg"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert str(report) in result.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["n_articles"], data["n_gold"]) == (1, len(EVAL_ARTICLES[0][2]))
    end_to_end, gold_spans = data["settings"]["end_to_end"], data["settings"]["gold_spans"]
    recognition = end_to_end["recognition"]["overlap"]
    assert {"precision", "recall", "f1", "tp", "fp", "fn"} <= recognition.keys()
    assert recognition["recall"] == 1.0
    for block in (end_to_end, gold_spans):
        assert {"acc161", "mean_km", "median_km", "auc"} <= block["resolution"].keys()
    assert gold_spans["resolution"]["n"] == 2
    assert gold_spans["resolution"]["acc161"] == 1.0


def test_evaluate_refuses_a_malformed_corpus(monkeypatch, capsys, tmp_path):
    corpus = tmp_path / "broken.jsonl"
    corpus.write_text('{"id": "x", "text": "no toponyms key"}\n', encoding="utf-8")
    result = run_main(
        monkeypatch, capsys, "evaluate", str(corpus), "--store", str(tmp_path / "s.gpkg")
    )
    assert_one_line_failure(result.exit_code, result.stderr, naming=str(corpus))


# ------------------------------------------------------------------ entry points


def test_serve_help_shows_host_and_port():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--store", "127.0.0.1", "5000"):
        assert option in result.output


@pytest.mark.parametrize("command", ["ingest", "serve", "geoparse", "export", "stats", "evaluate"])
def test_every_command_takes_store(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--store" in result.output and "MAPAPP_STORE" in result.output


def test_python_m_mapapp_help():
    done = run_mapapp("--help", env=subprocess_env())
    assert done.returncode == 0, done.stderr
    for command in ("ingest", "serve", "geoparse", "export", "stats", "evaluate"):
        assert command in done.stdout


def test_console_script_help():
    script = shutil.which("mapapp") or shutil.which("mapapp", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the mapapp console script is not installed (pip install -e .)")
    done = subprocess.run(
        [script, "--help"], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "geoparse" in done.stdout


def test_version_without_traceback():
    done = run_mapapp("--version", env=subprocess_env())
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("mapapp ")


def test_run_py_help():
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--store", "--host", "--port", "--data"):
        assert option in done.stdout


def test_geoparse_error_lines_keep_the_id_and_refuse_boolean_offsets(runner):
    lines = '{"id": 3}\n{"id": "b", "text": "Rome", "spans": [[true, 3]]}\n'
    result = runner.invoke(cli, ["geoparse"], input=lines)
    assert result.exit_code == 2
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == [3, "b"]
    assert all("error" in a for a in answers)


def test_export_and_stats_refuse_a_store_that_does_not_exist(runner, tmp_path):
    missing = str(tmp_path / "typo.gpkg")
    for args in (
        ["stats", "--store", missing],
        ["export", "--store", missing, "-o", str(tmp_path / "out.csv")],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code != 0
        assert "no store at" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_export_format_follows_the_file_suffix(runner, stored, tmp_path):
    out = tmp_path / "places.csv"
    result = runner.invoke(cli, ["export", "--store", str(stored.path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0].count(",") > 3  # a CSV header


def test_export_view_writes_what_the_map_shows(runner, stored, tmp_path):
    out = tmp_path / "view.geojson"
    result = runner.invoke(
        cli, ["export", "--store", str(stored.path), "-o", str(out), "--view", "role=dateline"]
    )
    assert result.exit_code == 0, result.output
    frame = geopandas.read_file(out)
    assert len(frame) > 0 and set(frame["role"]) == {"dateline"}
    bad = runner.invoke(
        cli, ["export", "--store", str(stored.path), "-o", str(out), "--view", "start=banana"]
    )
    assert bad.exit_code != 0 and "banana" in bad.output
