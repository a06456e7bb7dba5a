"""Exports a colleague can open safely: no spreadsheet formulas, no script URLs, no bidi tricks,
RFC 7946 GeoJSON.  Checked through both doors: ``mapapp export`` and ``GET /export.<fmt>``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LAGOS, make_story

from mapapp.cli import cli
from mapapp.stores import open_store
from mapapp.web import create_app

FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1+1",
    "-2+3",
    "\t=1",
    "\r=1",
]
BAD_URLS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", " JavaScript:x"]
RLO = "\u202e"


@pytest.fixture
def hostile_exports(tmp_path: Path) -> Path:
    """A store whose headlines start with formulas and whose URLs are not web links."""
    stories = []
    for i, formula in enumerate(FORMULAS):
        url = BAD_URLS[i % len(BAD_URLS)] if i < len(BAD_URLS) else "https://news.example/ok"
        stories.append(
            make_story(
                f"formula-{i}",
                date(2024, 4, 1 + i),
                formula + f" {RLO}gnp.exe",
                "LAGOS -- Flooding hit Lagos overnight.",
                [("LAGOS", LAGOS, "dateline"), ("Lagos", LAGOS, "focus")],
                dateline="LAGOS",
                source=formula,
                url=url,
            )
        )
    path = tmp_path / "hostile.gpkg"
    open_store(path).add(stories)
    return path


def exported(store: Path, tmp_path: Path, fmt: str, *extra: str) -> bytes:
    out = tmp_path / f"out.{fmt}"
    done = CliRunner().invoke(cli, ["export", "--store", str(store), "-o", str(out), *extra])
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def downloaded(store: Path, tmp_path: Path, fmt: str) -> bytes:
    client = create_app(
        {"TESTING": True, "STORE": str(store), "CACHE_DIR": str(tmp_path / "cache")}
    ).test_client()
    response = client.get(f"/export.{fmt}")
    assert response.status_code == 200
    return response.data


@pytest.fixture(params=["cli", "web"])
def export(request, hostile_exports: Path, tmp_path: Path):
    door = exported if request.param == "cli" else downloaded
    return lambda fmt: door(hostile_exports, tmp_path, fmt)


def test_csv_cells_never_start_a_formula(export) -> None:
    rows = list(csv.DictReader(io.StringIO(export("csv").decode("utf-8"), newline="")))
    assert len(rows) == 2 * len(FORMULAS)
    for row in rows:
        for name, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    headlines = {row["headline"] for row in rows}
    assert {"'" + f + " gnp.exe" for f in FORMULAS} == headlines  # neutralised, not dropped
    assert all(float(row["lat"]) > 0 and float(row["lon"]) > 0 for row in rows)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_only_web_links_are_exported_as_urls(export, fmt: str, tmp_path: Path) -> None:
    urls = urls_in(export(fmt), fmt, tmp_path)
    assert len(urls) == 2 * len(FORMULAS)
    assert {u for u in urls if u} == {"https://news.example/ok"}, urls  # the rest are empty


def urls_in(data: bytes, fmt: str, tmp_path: Path) -> list:
    if fmt == "csv":
        return [r["url"] for r in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))]
    if fmt == "geojson":
        return [f["properties"].get("url") for f in json.loads(data)["features"]]
    path = tmp_path / "read.gpkg"
    path.write_bytes(data)
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT url FROM mentions")]


def test_geojson_keeps_raw_text_but_no_crs_member_and_six_decimals(export) -> None:
    collection = json.loads(export("geojson"))
    assert "crs" not in collection
    headlines = {f["properties"]["headline"] for f in collection["features"]}
    assert headlines == {f + " gnp.exe" for f in FORMULAS}  # raw (nothing evaluates GeoJSON)
    for feature in collection["features"]:
        for value in feature["geometry"]["coordinates"]:
            assert len(repr(value).split(".")[-1]) <= 6, value


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_exports_carry_no_bidi_controls(export, fmt: str) -> None:
    assert RLO not in export(fmt).decode("utf-8")
