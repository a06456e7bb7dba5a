"""Pick among a service's answers with the article's context, as the resolver does offline.

The rest of the article votes for countries and gives confident points; an
answer in the article's country and near its other places wins, and no answer
in a country that clearly dominates the article is "none of these".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geopy.location import Location

from mapapp.geo import haversine_km
from mapapp.records import Resolution
from mapapp.resolution.context import nearness_from_km
from mapapp.resolution.online.answers import country_of
from mapapp.resolution.online.cache import normalize_query

RANK_WEIGHT, COUNTRY_WEIGHT, NEAR_WEIGHT = 1.0, 3.0, 2.0
DOMINANT_SHARE = 0.75  # a country this much of the article points at rules out the others


@dataclass(frozen=True)
class ArticleContext:
    """Where the rest of an article points: shares of countries, and confident points."""

    countries: Mapping[str, float]
    points: tuple[tuple[float, float], ...] = ()

    @property
    def dominant(self) -> str | None:
        """The country most of the article is about, when one clearly is."""
        if not self.countries:
            return None
        code, share = max(self.countries.items(), key=lambda kv: kv[1])
        return code if share >= DOMINANT_SHARE else None


def article_context(resolutions: Sequence[Resolution], leave_out: str) -> ArticleContext:
    """Context from the article's placed mentions other than those named ``leave_out``."""
    weights: dict[str, float] = defaultdict(float)
    points = []
    for r in resolutions:
        place = r.place
        if place is None or normalize_query(r.toponym.name) == normalize_query(leave_out):
            continue
        weight = (2.0 if r.toponym.role == "dateline" else 1.0) * max(r.score, 0.05)
        if place.country_code:
            weights[place.country_code] += weight
        if place.feature_class in ("P", "S") and r.score >= 0.5:
            points.append((place.latitude, place.longitude))
    total = sum(weights.values())
    shares = {k: v / total for k, v in weights.items()} if total else {}
    return ArticleContext(shares, tuple(points))


def nearness(lat: float, lon: float, points: Sequence[tuple[float, float]]) -> float:
    """1 on top of the nearest context point, 0 at the antipode (0 without points)."""
    if not points:
        return 0.0
    km = min(haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points)
    return nearness_from_km(km)


def pick_answer(answers: Sequence[Location], context: ArticleContext) -> tuple[int, float] | str:
    """(index, confidence) of the answer that fits the article best, or why none does."""
    countries = [country_of(a.raw) for a in answers]
    dominant = context.dominant
    if dominant and any(countries) and dominant not in countries:
        return f"no answer in {dominant}, where the rest of the article is"
    logits = [
        RANK_WEIGHT / (1 + rank)
        + COUNTRY_WEIGHT * context.countries.get(cc, 0.0)
        + NEAR_WEIGHT * nearness(a.latitude, a.longitude, context.points)
        for rank, (a, cc) in enumerate(zip(answers, countries, strict=True))
    ]
    top = max(logits)
    probs = [math.exp(z - top) for z in logits]
    best = max(range(len(answers)), key=logits.__getitem__)
    return best, probs[best] / sum(probs)
