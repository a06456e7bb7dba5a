"""Where the rest of an article points, as the resolver's context features.

While an article is resolved, each `Mention` holds its candidates and current
probabilities.  `ArticleBeliefs` sums them into the countries, provinces and
confident points the article is about and fills each candidate's context
columns from the *other* names of the article (leave-one-name-out), so that a
name cannot vote for itself.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mapapp.geo import EARTH_RADIUS_KM, NATURAL_AREA_CLASSES
from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.records import Toponym
from mapapp.resolution.features import COUNTRY_CODES, Feature, softmax_with_null
from mapapp.resolution.names import head_name

HALF_CIRCUMFERENCE_KM = 20039.0  # the farthest two places can be: nearness 0
MIN_SHARE = 0.01  # candidates less likely than this do not vote for their country
CONFIDENT = 0.5  # a mention this sure of its best candidate is a point of the article
ROLE_WEIGHTS = {"dateline": 2.0, "demonym": 0.5}  # every other role weighs 1

#: A confident place of an article: country code, latitude, longitude, is it the dateline.
Point = tuple[str, float, float, bool]


def nearness_from_km(km: float) -> float:
    """1 at 0 km, falling with the log of the distance to 0 at the antipode."""
    return 1.0 - math.log1p(km) / math.log1p(HALF_CIRCUMFERENCE_KM)


@dataclass
class Mention:
    """Working state of one toponym while its article is being resolved."""

    toponym: Toponym
    rows: list[int]
    static: np.ndarray  # features that do not depend on context
    probs: np.ndarray | None = None
    pinned: int | None = None
    veto: str = ""  # why every candidate was ruled out (see `mapapp.resolution.plausibility`)

    def current_probs(self) -> np.ndarray:
        """The candidates' probabilities so far; before any round, a prior from the static ones."""
        if self.probs is not None:
            return self.probs[:-1]
        if not self.rows:
            return np.zeros(0)
        static = self.static
        prior = (
            static[:, Feature.LOG_POPULATION]
            + 0.3 * static[:, Feature.IS_COUNTRY]
            + 0.2 * static[:, Feature.IS_ADMIN1]
        )
        return softmax_with_null(prior * 8, -50.0)[:-1]


class OtherPlaces:
    """The other confident places of an article, for the nearness feature.

    `nearness` is ``haversine_km`` to the nearest of them, bit for bit, with
    each place's radians and cosine worked out once instead of per candidate,
    one ``asin`` per candidate (it rises with ``a``, so the nearest place has
    the smallest ``a``), and each candidate's answer remembered: the same
    places come back in every round and for every mention of a name.
    """

    def __init__(self, points: tuple[Point, ...]) -> None:
        self.points = [
            (p2, math.cos(p2), lon) for p2, lon in ((math.radians(p[1]), p[2]) for p in points)
        ]
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
        a = min(
            sin((p2 - p1) / 2) ** 2 + cos_p1 * cos_p2 * sin(math.radians(lon2 - lon) / 2) ** 2
            for p2, cos_p2, lon2 in self.points
        )
        km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
        return nearness_from_km(km)


#: Builds (or recalls) the `OtherPlaces` of a tuple of points.
OtherPlacesOf = Callable[[tuple[Point, ...]], OtherPlaces]
#: One mention's part of the context: its folded name, weight, country and province votes.
MentionVotes = tuple[str, float, dict[str, float], dict[tuple[str, str], float]]
#: The context without one name: countries, provinces, total weight, other places.
LeftOut = tuple[dict[str, float], dict[tuple[str, str], float], float, OtherPlaces]


@dataclass
class ArticleBeliefs:
    """Where the article's mentions currently point: countries, provinces, points."""

    country: dict[str, float]
    admin1: dict[tuple[str, str], float]
    by_mention: list[MentionVotes]
    points: list[Point | None]
    total: float
    dateline_country: str
    others_of: OtherPlacesOf = OtherPlaces
    left_out: dict[str, LeftOut] = field(default_factory=dict)  # per name, see `_leave_out`

    @classmethod
    def build(
        cls, gaz: Gazetteer, mentions: list[Mention], others_of: OtherPlacesOf = OtherPlaces
    ) -> ArticleBeliefs:
        """Sum the mentions' current beliefs (``others_of`` may cache `OtherPlaces`)."""
        country: dict[str, float] = defaultdict(float)
        admin1: dict[tuple[str, str], float] = defaultdict(float)
        by_mention, points, total, dateline_country = [], [], 0.0, ""
        for m in mentions:
            weight = ROLE_WEIGHTS.get(m.toponym.role, 1.0)
            own_c: dict[str, float] = defaultdict(float)
            own_a: dict[tuple[str, str], float] = defaultdict(float)
            probs = m.current_probs()
            for row, p in zip(m.rows, probs, strict=True):
                if p < MIN_SHARE or not gaz.country[row]:
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
            name = m.toponym.name
            by_mention.append((name_key(head_name(name) or name), weight, own_c, own_a))
            points.append(_best_point(gaz, m, probs))
            if m.toponym.role == "dateline" and m.rows:
                dateline_country = gaz.country[m.rows[int(np.argmax(probs))]]
        return cls(country, admin1, by_mention, points, total, dateline_country, others_of)

    def fill(self, gaz: Gazetteer, index: int, mention: Mention, feats: np.ndarray) -> None:
        """Set the context columns of ``feats`` for mention ``index`` (leave-one-name-out)."""
        key = self.by_mention[index][0]
        if key not in self.left_out:
            self.left_out[key] = self._leave_out(key)
        country, admin1, total, others = self.left_out[key]
        for row_feats, row in zip(feats, mention.rows, strict=True):
            cc = gaz.country[row]
            row_feats[Feature.CONTEXT_COUNTRY] = (
                min(1.0, max(0.0, country.get(cc, 0.0)) / total) if cc else 0.0
            )
            row_feats[Feature.CONTEXT_ADMIN1] = min(
                1.0, max(0.0, admin1.get((cc, gaz.admin1[row]), 0.0)) / total
            )
            row_feats[Feature.DATELINE_COUNTRY] = (
                bool(cc) and cc == self.dateline_country and mention.toponym.role != "dateline"
            )
            row_feats[Feature.NEARNESS] = others.nearness(gaz.lat[row], gaz.lon[row])

    def _leave_out(self, key: str) -> LeftOut:
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
        others = self.others_of(
            tuple(p for i, p in enumerate(self.points) if i not in same and p is not None)
        )
        return country, admin1, total, others


def _best_point(gaz: Gazetteer, m: Mention, probs: np.ndarray) -> Point | None:
    """The mention's current best point, when it is confident and a point-like place."""
    if not m.rows:
        return None
    best = int(np.argmax(probs))
    row = m.rows[best]
    if (
        probs[best] < CONFIDENT
        or gaz.fcode[row] in COUNTRY_CODES
        or gaz.fclass[row] in NATURAL_AREA_CLASSES
    ):
        return None
    return (gaz.country[row], gaz.lat[row], gaz.lon[row], m.toponym.role == "dateline")
