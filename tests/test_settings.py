"""Typed settings: defaults, MAPAPP_* variables and overrides, each checked with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.errors import ConfigError
from mapapp.settings import DEFAULTS, SETTINGS, Settings, load_settings


def test_defaults_have_their_declared_types() -> None:
    settings = load_settings(environ={})
    assert settings.port == 5000 and isinstance(settings.port, int)
    assert settings.geocoder_min_score == 0.3 and settings.geocoder_options == ()
    assert {s.name.lower() for s in SETTINGS} == set(Settings.__dataclass_fields__)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("PORT", "8080", 8080),
        ("GEOCODER_MAX_RETRIES", "0", 0),
        ("GEOCODER_MIN_SCORE", "0.5", 0.5),
        ("GEOCODE_CACHE_DAYS", "7", 7.0),
        (
            "GEOCODER_OPTIONS",
            "domain=geo.example.org  language=en",
            ("domain=geo.example.org", "language=en"),
        ),
        ("STORE", "/tmp/x.gpkg", "/tmp/x.gpkg"),
    ],
)
def test_environment_strings_take_the_setting_type(name: str, raw: str, expected) -> None:
    settings = load_settings(environ={f"MAPAPP_{name}": raw})
    assert getattr(settings, name.lower()) == expected


def test_options_from_the_environment_and_the_cli_are_one_shape() -> None:
    from_env = load_settings(environ={"MAPAPP_GEOCODER_OPTIONS": "a=1 b=2"})
    from_cli = load_settings({"GEOCODER_OPTIONS": ("a=1", "b=2")}, environ={})
    assert from_env.geocoder_options == from_cli.geocoder_options == ("a=1", "b=2")


@pytest.mark.parametrize(
    ("overrides", "environ", "words"),
    [
        ({"PROT": 80}, {}, "unknown setting 'PROT'"),
        ({}, {"MAPAPP_PORT": "eighty"}, "MAPAPP_PORT expects a whole number, got 'eighty'"),
        ({"PORT": 80.5}, {}, "MAPAPP_PORT expects a whole number"),
        ({"GEOCODER_MIN_SCORE": "high"}, {}, "MAPAPP_GEOCODER_MIN_SCORE expects a number"),
        ({"GEOCODER_MIN_DELAY": -1}, {}, "expects a number of zero or more"),
        ({"GEOCODER_OPTIONS": 3}, {}, "MAPAPP_GEOCODER_OPTIONS expects key=value pairs"),
        ({"STORE": 42}, {}, "MAPAPP_STORE expects text"),
    ],
)
def test_bad_names_and_values_stop_with_a_sentence(overrides, environ, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings(overrides, environ=environ)


def test_overrides_beat_the_environment_and_none_means_unset() -> None:
    env = {"MAPAPP_PORT": "6000", "MAPAPP_HOST": "0.0.0.0"}
    settings = load_settings({"PORT": 7000, "HOST": None}, environ=env)
    assert (settings.port, settings.host) == (7000, "0.0.0.0")


def test_replace_validates_and_keeps_the_rest(tmp_path: Path) -> None:
    settings = load_settings({"STORE": str(tmp_path / "a.gpkg")}, environ={})
    moved = settings.replace(STORE=str(tmp_path / "b.gpkg"))
    assert moved.store.endswith("b.gpkg") and moved.port == settings.port
    with pytest.raises(ConfigError, match="unknown setting"):
        settings.replace(STOER="x")


def test_companion_folders_follow_the_store(tmp_path: Path) -> None:
    settings = load_settings({"STORE": str(tmp_path / "s" / "m.gpkg")}, environ={})
    assert settings.store_folder == (tmp_path / "s").resolve()
    assert settings.cache_folder == (tmp_path / "s").resolve() / "cache"
    assert load_settings({"CACHE_DIR": str(tmp_path)}, environ={}).cache_folder == tmp_path
    db = load_settings({"STORE": "postgresql://u@h/db"}, environ={})
    assert db.store_folder.name == "instance"


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
    assert set(DEFAULTS) == {s.name for s in SETTINGS}
