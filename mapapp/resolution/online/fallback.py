"""The online fallback the geoparser calls on the mentions the gazetteer left unsure.

`OnlineFallback` re-asks the service about unresolved or low-scoring
map-worthy mentions, picks among its answers in context and records a failed
lookup on its mention as a ``reason``; after a fatal error it asks no more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from geopy.location import Location

from mapapp.records import MAP_ROLES, Article, Resolution
from mapapp.resolution.online.answers import query_for, to_place
from mapapp.resolution.online.context import article_context, pick_answer
from mapapp.resolution.online.retry import DEFAULT_MIN_DELAY, OnlineLookupError, OnlineStats


class OnlineFallback:
    """Re-ask an online geocoder about the mentions the gazetteer left unplaced or unsure."""

    def __init__(
        self,
        geocoder: Callable[[str], list[Location]],
        *,
        service: str,
        min_score: float,
        stats: OnlineStats | None = None,
    ) -> None:
        self.geocoder = geocoder
        self.service = service
        self.min_score = min_score
        self.stats = stats or OnlineStats(service, DEFAULT_MIN_DELAY)
        self.gave_up: str | None = None  # set by a fatal error: no more requests this run

    def wants(self, resolution: Resolution) -> bool:
        """Map-worthy mentions that are unresolved or scored below ``min_score``."""
        return resolution.toponym.role in MAP_ROLES and (
            resolution.place is None or resolution.score < self.min_score
        )

    def __call__(self, article: Article, resolutions: list[Resolution]) -> list[Resolution]:
        """The article's resolutions, with the unsure ones re-asked online."""
        self.stats.articles += 1
        return [self.revisit(r, resolutions) if self.wants(r) else r for r in resolutions]

    def revisit(self, resolution: Resolution, resolutions: Sequence[Resolution]) -> Resolution:
        """One mention asked online: a new place, the old answer kept, or the failure recorded."""
        try:
            answers = self.lookup(query_for(resolution.toponym))
        except OnlineLookupError as err:
            self.stats.failures += 1
            return self.failed(resolution, str(err))
        picked = (
            pick_answer(answers, article_context(resolutions, resolution.toponym.name))
            if answers
            else "not found"
        )
        if isinstance(picked, str):
            return self.not_placed(resolution, f"{self.service}: {picked}")
        index, confidence = picked
        return Resolution(
            resolution.toponym,
            to_place(answers[index]),
            round(confidence, 4),
            provider=self.service,
        )

    def lookup(self, query: str) -> list[Location]:
        """The service's answers (from the cache when known); fails fast once it gave up."""
        if self.gave_up is not None:
            raise OnlineLookupError(f"{self.gave_up} (no more requests this run)")
        try:
            return self.geocoder(query)
        except OnlineLookupError as err:
            if err.fatal:
                self.gave_up = str(err)
            raise

    def failed(self, resolution: Resolution, why: str) -> Resolution:
        """Keep the gazetteer's unsure answer if any; record the failure either way."""
        if resolution.place is not None:
            return replace(resolution, reason=f"kept the gazetteer's answer; {why}")
        return replace(resolution, reason=why, provider=self.service)

    def not_placed(self, resolution: Resolution, why: str) -> Resolution:
        """The service had no fitting answer: the gazetteer's answer, or both reasons."""
        if resolution.place is not None:
            return resolution
        reason = f"{resolution.reason}; {why}" if resolution.reason else why
        return replace(resolution, reason=reason)

    def close(self) -> None:
        """Release the geocoder's cache file."""
        close = getattr(self.geocoder, "close", None)
        if close is not None:
            close()
