"""The resolver's log-linear model: the features of a candidate place and their weights.

Each candidate of a mention gets one row of `Feature` columns.  The
context-free ones (population, feature type, how its name matched, "X, Y"
containment) are worked out here; the context columns (agreement with the
rest of the article, nearness) are filled by `mapapp.resolution.context`.
The weights are keyed by feature name in ``mapapp/data/resolver_weights.json``
and fitted by ``benchmarks/fit_resolver.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path

import numpy as np

from mapapp.geo import NATURAL_AREA_CLASSES, haversine_km
from mapapp.recognition.gazetteer import (
    MATCH_ALIAS,
    MATCH_ALTERNATE,
    Candidate,
    Gazetteer,
    name_key,
)
from mapapp.records import Toponym
from mapapp.settings import PACKAGE_DATA

WEIGHTS_FILE = PACKAGE_DATA / "resolver_weights.json"
COUNTRY_CODES = {"PCLI", "PCLD", "PCLF", "PCLS", "PCL", "PCLIX", "TERR"}
SEAT_CODES = {"PPLA", "PPLA2", "PPLG"}
ADMIN_CODES = {"ADM1", "ADM2"}
SEAT_KM = 40  # an admin unit this close to a town of its name is named after its seat


class Feature(IntEnum):
    """The columns of a candidate's feature row, in the order of the weight vector."""

    LOG_POPULATION = 0
    IS_COUNTRY = 1
    IS_ADMIN1 = 2
    IS_ADMIN2 = 3
    IS_REGION = 4
    IS_CAPITAL = 5
    IS_SEAT = 6
    ALTERNATE_NAME = 7
    ALIAS_NAME = 8
    TOP_POPULATION = 9
    CONTEXT_COUNTRY = 10
    CONTEXT_ADMIN1 = 11
    DATELINE_COUNTRY = 12
    NEARNESS = 13
    QUALIFIER_INSIDE = 14
    ACRONYM_TO_TOWN = 15
    EXACT_CASE = 16
    NAMESAKE_TOWN = 17


#: The feature names, as the weights file spells them ("log_population", ...).
FEATURES = tuple(feature.name.lower() for feature in Feature)
#: The weight of the "none of these" option every mention also has.
NONE_OF_THESE = "none_of_these"
DEFAULT_WEIGHTS = {
    "log_population": 3.0,
    "is_country": 2.0,
    "is_admin1": 1.5,
    "is_admin2": -0.5,
    "is_region": 1.5,
    "is_capital": 1.5,
    "is_seat": 0.5,
    "alternate_name": -1.5,
    "alias_name": 0.5,
    "top_population": 0.5,
    "context_country": 3.0,
    "context_admin1": 2.0,
    "dateline_country": 1.0,
    "nearness": 2.0,
    "qualifier_inside": 5.0,
    "acronym_to_town": -3.0,
    "exact_case": 0.5,
    "namesake_town": -2.0,
    NONE_OF_THESE: -1.0,
}


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    """Fitted weights when the file exists, else the hand-set defaults."""
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return {**DEFAULT_WEIGHTS, **data["weights"]}
    return dict(DEFAULT_WEIGHTS)


def weight_vector(weights: dict[str, float]) -> np.ndarray:
    """The weights of the feature columns, in column order (a missing one weighs 0)."""
    return np.array([weights.get(f, 0.0) for f in FEATURES])


def softmax_with_null(logits: np.ndarray, null_logit: float) -> np.ndarray:
    """Probabilities of the candidates and, last, of "none of these"."""
    z = np.empty(len(logits) + 1)
    z[:-1] = logits
    z[-1] = null_logit
    z = np.exp(z - z.max())
    return z / z.sum()


# -- "X, Y" containment ---------------------------------------------------------


def qualifier_rows(gaz: Gazetteer, qualifier: str) -> list[int]:
    """The countries and admin units a qualifier ("Texas", "Ore.") may name."""
    if not qualifier:
        return []
    rows = list(gaz.qualifiers.get(name_key(qualifier), []))
    rows += [
        c.index
        for c in gaz.candidates(qualifier, fuzzy=False)
        if gaz.fcode[c.index] in COUNTRY_CODES | ADMIN_CODES
    ]
    return rows


def contains(gaz: Gazetteer, containers: list[int], row: int) -> bool:
    """Does one of the ``containers`` (countries, admin units) hold entry ``row``?"""
    for c in containers:
        if gaz.country[c] != gaz.country[row] or c == row:
            continue
        code = gaz.fcode[c]
        if code in COUNTRY_CODES:
            return True
        if code == "ADM1" and gaz.admin1[c] == gaz.admin1[row]:
            return True
        if code == "ADM2" and gaz.admin1[c] == gaz.admin1[row] and gaz.admin2[c] == gaz.admin2[row]:
            return True
    return False


# -- the context-free columns ------------------------------------------------------


def static_features(gaz: Gazetteer, toponym: Toponym, rows: Sequence[Candidate]) -> np.ndarray:
    """Context-free features of each candidate (the context columns left at 0)."""
    out = np.zeros((len(rows), len(Feature)))
    pops = [gaz.population[c.index] for c in rows]
    top = max(pops) if pops else 0
    inside = qualifier_rows(gaz, toponym.qualifier)
    acronym = toponym.name.replace(".", "").isupper() and len(toponym.name) <= 5
    for feats, cand in zip(out, rows, strict=True):
        r = cand.index
        code, fclass = gaz.fcode[r], gaz.fclass[r]
        feats[Feature.LOG_POPULATION] = math.log10(1 + gaz.population[r]) / 8
        feats[Feature.IS_COUNTRY] = code in COUNTRY_CODES
        feats[Feature.IS_ADMIN1] = code == "ADM1"
        feats[Feature.IS_ADMIN2] = code == "ADM2"
        feats[Feature.IS_REGION] = fclass in NATURAL_AREA_CLASSES
        feats[Feature.IS_CAPITAL] = code == "PPLC"
        feats[Feature.IS_SEAT] = code in SEAT_CODES
        feats[Feature.ALTERNATE_NAME] = cand.match == MATCH_ALTERNATE
        feats[Feature.ALIAS_NAME] = cand.match == MATCH_ALIAS
        feats[Feature.TOP_POPULATION] = gaz.population[r] == top and top > 0
        feats[Feature.QUALIFIER_INSIDE] = bool(inside) and contains(gaz, inside, r)
        feats[Feature.ACRONYM_TO_TOWN] = acronym and fclass == "P"
        feats[Feature.EXACT_CASE] = gaz.name[r] == toponym.name
    towns = [(gaz.lat[c.index], gaz.lon[c.index]) for c in rows if gaz.fclass[c.index] == "P"]
    # an admin unit named after its seat: the seat is meant
    for feats, cand in zip(out, rows, strict=True):
        r = cand.index
        if gaz.fcode[r] in ADMIN_CODES and towns:
            feats[Feature.NAMESAKE_TOWN] = any(
                haversine_km(gaz.lat[r], gaz.lon[r], la, lo) < SEAT_KM for la, lo in towns
            )
    return out
