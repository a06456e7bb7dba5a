"""Geocoding: the offline GeoNames geocoder and the in-context resolver.

`OfflineGeocoder` is a real geopy ``Geocoder``: ``geocode("Damascus, Ore.")``
returns `geopy.location.Location` objects whose ``raw`` is the gazetteer row,
so any geopy geocoder can stand in for it.

`Resolver` decides between candidates *in context*: every mention of an
article is resolved together.  Each candidate gets features (population,
feature type, how its name matched, agreement with the countries and
provinces the rest of the article points at, distance to the other places,
"X, Y" containment) and a log-linear model turns them into probabilities,
with an explicit "none of these".  The weights live in
``mapapp/data/resolver_weights.json`` and are fitted by
``benchmarks/fit_resolver.py`` on a documented split of the gold corpora.
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from mapapp.geo import EARTH_RADIUS_KM, NATURAL_AREA_CLASSES, haversine_km
from mapapp.settings import PACKAGE_DATA
from mapapp.recognition.corrections import Corrections
from mapapp.recognition.gazetteer import MATCH_ALIAS, MATCH_ALTERNATE, Candidate, Gazetteer, name_key
from mapapp.records import Place, Resolution, Toponym

name_key = functools.lru_cache(maxsize=1 << 16)(name_key)  # the same few names, over and over

WEIGHTS_FILE = PACKAGE_DATA / "resolver_weights.json"
MAX_CANDIDATES = 40
COUNTRY_CODES = {"PCLI", "PCLD", "PCLF", "PCLS", "PCL", "PCLIX", "TERR"}
SEAT_CODES = {"PPLA", "PPLA2", "PPLG"}
FEATURES = (
    "log_population", "is_country", "is_admin1", "is_admin2", "is_region",
    "is_capital", "is_seat", "alternate_name", "alias_name", "top_population",
    "context_country", "context_admin1", "dateline_country", "nearness",
    "qualifier_inside", "acronym_to_town", "exact_case", "namesake_town",
)
DEFAULT_WEIGHTS = {
    "log_population": 3.0, "is_country": 2.0, "is_admin1": 1.5, "is_admin2": -0.5,
    "is_region": 1.5, "is_capital": 1.5, "is_seat": 0.5, "alternate_name": -1.5,
    "alias_name": 0.5, "top_population": 0.5, "context_country": 3.0,
    "context_admin1": 2.0, "dateline_country": 1.0, "nearness": 2.0,
    "qualifier_inside": 5.0, "acronym_to_town": -3.0, "exact_case": 0.5,
    "namesake_town": -2.0,
    "none_of_these": -1.0,
}


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    """Fitted weights when the file exists, else the hand-set defaults."""
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return {**DEFAULT_WEIGHTS, **data["weights"]}
    return dict(DEFAULT_WEIGHTS)


def split_query(query: str) -> tuple[str, str]:
    """ "Paris, Texas" -> ("Paris", "Texas"); a bare name has no qualifier."""
    name, _, qualifier = query.partition(",")
    return name.strip(), qualifier.strip()


def place_label(place: Place) -> str:
    """A human address for a place: name, admin-1, country code."""
    parts = [place.name]
    if place.admin1_name and place.admin1_name != place.name:
        parts.append(place.admin1_name)
    if place.country_code and place.feature_code not in COUNTRY_CODES:
        parts.append(place.country_code)
    return ", ".join(parts)


# -- candidates and features -------------------------------------------------

@dataclass
class _Mention:
    """Working state of one toponym while its article is being resolved."""

    toponym: Toponym
    rows: list[int]
    static: np.ndarray  # features that do not depend on context
    probs: np.ndarray | None = None
    pinned: int | None = None


class Resolver:
    """Resolve all toponyms of an article jointly against the gazetteer."""

    def __init__(self, gazetteer: Gazetteer, weights: dict[str, float] | None = None,
                 corrections: Corrections | None = None, iterations: int = 2) -> None:
        self.gazetteer = gazetteer
        self.weights = weights or load_weights()
        self.vector = np.array([self.weights.get(f, 0.0) for f in FEATURES])
        self.corrections = corrections or Corrections()
        self.iterations = iterations
        # candidates and static features of a (name, role, qualifier): the same in every article
        self._static = functools.lru_cache(maxsize=8192)(self._static_features)

    # -- public ---------------------------------------------------------
    def resolve(self, toponyms: Sequence[Toponym]) -> list[Resolution]:
        """One `Resolution` per toponym, in the same order."""
        mentions = self._run(toponyms)
        return [self._decide(m) for m in mentions]

    def candidate_features(self, toponyms: Sequence[Toponym]) -> list[tuple[list[int], np.ndarray]]:
        """Per toponym: candidate gazetteer rows and their final feature matrix (for fitting)."""
        mentions = self._run(toponyms)
        context = _Context.build(self.gazetteer, mentions)
        out = []
        for index, mention in enumerate(mentions):
            feats = mention.static.copy()
            if mention.rows:
                context.fill(self.gazetteer, index, mention, feats)
            out.append((mention.rows, feats))
        return out

    def _run(self, toponyms: Sequence[Toponym]) -> list[_Mention]:
        mentions = [self._prepare(t) for t in toponyms]
        for _ in range(self.iterations):
            self._score(mentions)
        self._score(mentions)
        return mentions

    def candidates(self, toponym: Toponym) -> list[Candidate]:
        """Gazetteer candidates for a mention, filtered by its qualifier."""
        gaz = self.gazetteer
        key = name_key(toponym.name)
        if toponym.role == "demonym" and key in gaz.demonyms:
            return [Candidate(gaz.demonyms[key], MATCH_ALIAS)]
        found = gaz.candidates(toponym.name, fuzzy=False)
        if not found and key in gaz.demonyms:
            return [Candidate(gaz.demonyms[key], MATCH_ALIAS)]
        if not found:
            found = gaz.candidates(toponym.name)  # transliteration variants
        if key in self.corrections.aliases:
            row = gaz.by_geonameid.get(self.corrections.aliases[key])
            if row is not None:
                found = [Candidate(row, MATCH_ALIAS)] + found
        if key in gaz.qualifiers and (toponym.name.endswith(".") or toponym.name.isupper()
                                      or toponym.role == "qualifier"):
            found = [Candidate(row, MATCH_ALIAS) for row in gaz.qualifiers[key]] + found
        found.sort(key=lambda c: (c.match, -gaz.population[c.index]))
        found = _dedupe(found)
        inside = self._qualifier_rows(toponym.qualifier)
        if inside:  # "Paris, Texas": only the Parises in Texas, when there are any
            kept = [c for c in found if self._contains(inside, c.index)]
            found = kept or found
        return found[:MAX_CANDIDATES]

    def features(self, toponym: Toponym, rows: Sequence[Candidate]) -> np.ndarray:
        """Context-free features of each candidate (context columns left at 0)."""
        gaz = self.gazetteer
        out = np.zeros((len(rows), len(FEATURES)))
        pops = [gaz.population[c.index] for c in rows]
        top = max(pops) if pops else 0
        inside = self._qualifier_rows(toponym.qualifier)
        acronym = toponym.name.replace(".", "").isupper() and len(toponym.name) <= 5
        for i, cand in enumerate(rows):
            r = cand.index
            code, fclass = gaz.fcode[r], gaz.fclass[r]
            out[i, 0] = math.log10(1 + gaz.population[r]) / 8
            out[i, 1] = code in COUNTRY_CODES
            out[i, 2] = code == "ADM1"
            out[i, 3] = code == "ADM2"
            out[i, 4] = fclass in NATURAL_AREA_CLASSES
            out[i, 5] = code == "PPLC"
            out[i, 6] = code in SEAT_CODES
            out[i, 7] = cand.match == MATCH_ALTERNATE
            out[i, 8] = cand.match == MATCH_ALIAS
            out[i, 9] = gaz.population[r] == top and top > 0
            out[i, 14] = bool(inside) and self._contains(inside, r)
            out[i, 15] = acronym and fclass == "P"
            out[i, 16] = gaz.name[r] == toponym.name
        towns = [(gaz.lat[c.index], gaz.lon[c.index]) for c in rows if gaz.fclass[c.index] == "P"]
        for i, cand in enumerate(rows):  # an admin unit named after its seat: the seat is meant
            r = cand.index
            if gaz.fcode[r] in {"ADM1", "ADM2"} and towns:
                out[i, 17] = any(haversine_km(gaz.lat[r], gaz.lon[r], la, lo) < 40 for la, lo in towns)
        return out

    # -- steps ----------------------------------------------------------
    def _prepare(self, toponym: Toponym) -> _Mention:
        rows, static = self._static(toponym.name, toponym.role, toponym.qualifier)
        mention = _Mention(toponym, list(rows), static)
        pin = self.corrections.pins.get(name_key(toponym.name))
        if pin is not None and pin in self.gazetteer.by_geonameid:
            mention.pinned = self.gazetteer.by_geonameid[pin]
        return mention

    def _static_features(self, name: str, role: str, qualifier: str
                         ) -> tuple[tuple[int, ...], np.ndarray]:
        """Candidate rows and their context-free features (read-only: they are shared)."""
        toponym = Toponym(name=name, start=0, end=len(name), role=role, qualifier=qualifier)
        cands = self.candidates(toponym)
        static = self.features(toponym, cands)
        static.flags.writeable = False
        return tuple(c.index for c in cands), static

    def _score(self, mentions: list[_Mention]) -> None:
        """One round: context from the current beliefs, then new probabilities."""
        context = _Context.build(self.gazetteer, mentions)
        for index, mention in enumerate(mentions):
            if not mention.rows:
                continue
            feats = mention.static.copy()
            context.fill(self.gazetteer, index, mention, feats)
            logits = feats @ self.vector
            mention.probs = _softmax_with_null(logits, self.weights["none_of_these"])

    def _decide(self, mention: _Mention) -> Resolution:
        top = mention.toponym
        if mention.pinned is not None:
            return Resolution(top, self.gazetteer.place(mention.pinned), 1.0)
        if not mention.rows or mention.probs is None:
            return Resolution(top, None, 0.0, reason="not in the gazetteer")
        probs = mention.probs[:-1]
        mass = self._cluster_mass(mention.rows, probs)
        towns = np.array([self.gazetteer.fclass[r] == "P" for r in mention.rows])
        best = int(np.argmax(mass + 1e-4 * towns + 1e-6 * probs))  # in a cluster, the town
        if mention.probs[-1] > mass[best]:
            return Resolution(top, None, float(mention.probs[-1]),
                              reason="no candidate fits the context")
        order = [i for i in np.argsort(-probs) if i != best][:3]
        return Resolution(top, self.gazetteer.place(mention.rows[best]), float(min(1.0, mass[best])),
                          alternatives=tuple(self.gazetteer.geonameid[mention.rows[i]] or 0 for i in order))

    def _cluster_mass(self, rows: list[int], probs: np.ndarray) -> np.ndarray:
        """Probability of each candidate plus that of candidates within 50 km of it.

        Geneva the canton, the district and the city are one answer to
        "which Geneva?"; together they outweigh a lone namesake elsewhere.
        """
        gaz = self.gazetteer
        lat = np.radians([gaz.lat[r] for r in rows])
        lon = np.radians([gaz.lon[r] for r in rows])
        a = (np.sin((lat[:, None] - lat[None, :]) / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :])
             * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2)
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        mass = (km < 50) @ probs
        return mass

    # -- "X, Y" containment ---------------------------------------------
    def _qualifier_rows(self, qualifier: str) -> list[int]:
        if not qualifier:
            return []
        gaz = self.gazetteer
        rows = list(gaz.qualifiers.get(name_key(qualifier), []))
        rows += [c.index for c in gaz.candidates(qualifier, fuzzy=False)
                 if gaz.fcode[c.index] in COUNTRY_CODES | {"ADM1", "ADM2"}]
        return rows

    def _contains(self, containers: list[int], row: int) -> bool:
        gaz = self.gazetteer
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


@dataclass
class _Context:
    """Where the article's mentions currently point: countries, provinces, points."""

    country: dict[str, float]
    admin1: dict[tuple[str, str], float]
    by_mention: list[tuple[str, float, dict[str, float], dict[tuple[str, str], float]]]
    points: list[tuple[str, float, float, bool] | None]
    total: float
    dateline_country: str
    left_out: dict[str, tuple] = field(default_factory=dict)  # per name, see `_leave_out`

    @classmethod
    def build(cls, gaz: Gazetteer, mentions: list[_Mention]) -> "_Context":
        country: dict[str, float] = defaultdict(float)
        admin1: dict[tuple[str, str], float] = defaultdict(float)
        by_mention, points, total, dateline_country = [], [], 0.0, ""
        for m in mentions:
            weight = 2.0 if m.toponym.role == "dateline" else 0.5 if m.toponym.role == "demonym" else 1.0
            own_c: dict[str, float] = defaultdict(float)
            own_a: dict[tuple[str, str], float] = defaultdict(float)
            probs = _current_probs(m)
            for row, p in zip(m.rows, probs):
                if p < 0.01 or not gaz.country[row]:
                    continue
                own_c[gaz.country[row]] += weight * p
                if gaz.fcode[row] not in COUNTRY_CODES and gaz.admin1[row]:
                    own_a[(gaz.country[row], gaz.admin1[row])] += weight * p
            for k, v in own_c.items():
                country[k] += v
            for k, v in own_a.items():
                admin1[k] += v
            weight = weight if m.rows else 0.0
            total += weight
            by_mention.append((name_key(m.toponym.name), weight, own_c, own_a))
            points.append(_best_point(gaz, m, probs))
            if m.toponym.role == "dateline" and m.rows:
                dateline_country = gaz.country[m.rows[int(np.argmax(probs))]]
        return cls(country, admin1, by_mention, points, total, dateline_country)

    def fill(self, gaz: Gazetteer, index: int, mention: _Mention, feats: np.ndarray) -> None:
        """Set the context columns of ``feats`` for mention ``index`` (leave-one-name-out)."""
        key = self.by_mention[index][0]
        if key not in self.left_out:
            self.left_out[key] = self._leave_out(key)
        country, admin1, total, others = self.left_out[key]
        for j, row in enumerate(mention.rows):
            cc = gaz.country[row]
            feats[j, 10] = min(1.0, max(0.0, country.get(cc, 0.0)) / total) if cc else 0.0
            feats[j, 11] = min(1.0, max(0.0, admin1.get((cc, gaz.admin1[row]), 0.0)) / total)
            feats[j, 12] = bool(cc) and cc == self.dateline_country and mention.toponym.role != "dateline"
            feats[j, 13] = others.nearness(gaz.lat[row], gaz.lon[row])

    def _leave_out(self, key: str) -> tuple[dict, dict, float, "_Others"]:
        """Countries, provinces, total weight and places of the article without name ``key``."""
        same = [i for i, entry in enumerate(self.by_mention) if entry[0] == key]
        country = dict(self.country)
        admin1 = dict(self.admin1)
        total = self.total
        for i in same:
            _, weight, own_c, own_a = self.by_mention[i]
            for k, v in own_c.items():
                country[k] = country.get(k, 0.0) - v
            for k, v in own_a.items():
                admin1[k] = admin1.get(k, 0.0) - v
            total -= weight
        total = max(total, 1.0)
        others = _others(tuple(p for i, p in enumerate(self.points) if i not in same and p is not None))
        return country, admin1, total, others


def _current_probs(m: _Mention) -> np.ndarray:
    if m.probs is not None:
        return m.probs[:-1]
    if not m.rows:
        return np.zeros(0)
    prior = m.static[:, 0] + 0.3 * m.static[:, 1] + 0.2 * m.static[:, 2]
    return _softmax_with_null(prior * 8, -50.0)[:-1]


def _best_point(gaz: Gazetteer, m: _Mention, probs: np.ndarray) -> tuple[str, float, float, bool] | None:
    """The mention's current best point, when it is confident and a point-like place."""
    if not m.rows:
        return None
    best = int(np.argmax(probs))
    row = m.rows[best]
    if probs[best] < 0.5 or gaz.fcode[row] in COUNTRY_CODES or gaz.fclass[row] in NATURAL_AREA_CLASSES:
        return None
    return (gaz.country[row], gaz.lat[row], gaz.lon[row], m.toponym.role == "dateline")


class _Others:
    """The other confident places of an article, for the nearness feature.

    `nearness` is ``haversine_km`` to the nearest of them, bit for bit, with
    each place's radians and cosine worked out once instead of per candidate,
    one ``asin`` per candidate (it rises with ``a``, so the nearest place has
    the smallest ``a``), and each candidate's answer remembered: the same
    places come back in every round and for every mention of a name.
    """

    def __init__(self, points: tuple[tuple[str, float, float, bool], ...]) -> None:
        self.points = [(p2, math.cos(p2), lon) for p2, lon in
                       ((math.radians(p[1]), p[2]) for p in points)]
        self.known: dict[tuple[float, float], float] = {}

    def nearness(self, lat: float, lon: float) -> float:
        """1 at 0 km from the nearest other confident place, 0 at the antipode."""
        if not self.points:
            return 0.0
        found = self.known.get((lat, lon))
        if found is None:
            found = self.known[(lat, lon)] = self._nearness(lat, lon)
        return found

    def _nearness(self, lat: float, lon: float) -> float:
        p1 = math.radians(lat)
        cos_p1, sin = math.cos(p1), math.sin
        a = min(sin((p2 - p1) / 2) ** 2 + cos_p1 * cos_p2 * sin(math.radians(lon2 - lon) / 2) ** 2
                for p2, cos_p2, lon2 in self.points)
        km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
        return 1.0 - math.log1p(km) / math.log1p(20039.0)


_others = functools.lru_cache(maxsize=256)(_Others)


def _softmax_with_null(logits: np.ndarray, null_logit: float) -> np.ndarray:
    z = np.empty(len(logits) + 1)
    z[:-1] = logits
    z[-1] = null_logit
    z = np.exp(z - z.max())
    return z / z.sum()


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    seen: set[int] = set()
    out = []
    for c in cands:
        if c.index not in seen:
            seen.add(c.index)
            out.append(c)
    return out


def drop_unconfirmed(resolutions: list[Resolution], min_population: int = 50_000) -> list[Resolution]:
    """Drop gazetteer-scan guesses that nothing else in the article supports.

    A capitalised word that matched only a small town ("Olaopa", "Wedbush")
    is kept when the model tagged it, when the town is notable, or when it
    lies in a country the article's model-found places point at.
    """
    countries = {r.place.country_code for r in resolutions
                 if r.place is not None and r.toponym.source in {"ner", "dateline"}}
    kept = []
    for r in resolutions:
        place = r.place
        if r.toponym.source == "gazetteer" and r.toponym.role != "demonym" and (
                place is None or (place.feature_class == "P" and place.population < min_population
                                  and place.country_code not in countries)):
            continue
        kept.append(r)
    return kept


# -- the geopy geocoder -----------------------------------------------------

class OfflineGeocoder(Geocoder):
    """A geopy geocoder over the local GeoNames gazetteer; never touches the network."""

    def __init__(self, gazetteer: Gazetteer, *, resolver: Resolver | None = None,
                 user_agent: str = "mapapp-offline") -> None:
        super().__init__(user_agent=user_agent)
        self.gazetteer = gazetteer
        self.resolver = resolver or Resolver(gazetteer)

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: object = DEFAULT_SENTINEL,
                country_bias: str | None = None, limit: int | None = None
                ) -> Location | list[Location] | None:
        """Places named ``query`` ("Damascus" or "Damascus, Ore."), best first.

        ``country_bias`` (ISO code) prefers that country's entries, as the
        article's country would.  Returns None when nothing matches.
        """
        name, qualifier = split_query(str(query))
        if not name:
            return None
        toponym = Toponym(name=name, start=0, end=len(name), qualifier=qualifier, source="given")
        cands = self.resolver.candidates(toponym)
        if not cands:
            return None
        feats = self.resolver.features(toponym, cands)
        logits = feats @ self.resolver.vector
        if country_bias:  # as strong as an explicit "X, Country"
            logits = logits + 5.0 * np.array(
                [self.gazetteer.country[c.index] == country_bias.upper() for c in cands])
        probs = _softmax_with_null(logits, -50.0)[:-1]
        order = np.argsort(-probs)[: (1 if exactly_one else (limit or len(cands)))]
        found = [self._to_location(cands[i].index, float(probs[i])) for i in order]
        return found[0] if exactly_one else found

    def reverse(self, query: object, *, exactly_one: bool = True,
                timeout: object = DEFAULT_SENTINEL) -> Location | list[Location] | None:
        """Nearest populated place to a (lat, lon) point."""
        from geopy.point import Point

        point = Point(query)
        gaz = self.gazetteer
        lat = np.asarray(gaz.lat)
        lon = np.asarray(gaz.lon)
        d2 = (lat - point.latitude) ** 2 + ((lon - point.longitude) * np.cos(np.radians(point.latitude))) ** 2
        d2[np.asarray(gaz.fclass) != "P"] = np.inf
        order = np.argsort(d2)[: 1 if exactly_one else 10]
        found = [self._to_location(int(i), 1.0) for i in order]
        return found[0] if exactly_one else found

    def _to_location(self, row: int, score: float) -> Location:
        place = self.gazetteer.place(row)
        raw = asdict(place) | {"score": score}
        return Location(place_label(place), (place.latitude, place.longitude), raw)
