"""The in-context resolver: which gazetteer entry each mention of an article means.

Every mention of an article is resolved together.  `Resolver` gathers the
candidates of each mention, gives each candidate features
(`mapapp.resolution.features`), adds what the rest of the article points at
(`mapapp.resolution.context`) over a few rounds, and lets a log-linear model
choose, with an explicit "none of these".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from mapapp.geo import EARTH_RADIUS_KM
from mapapp.recognition.corrections import Corrections
from mapapp.recognition.gazetteer import MATCH_ALIAS, Candidate, Gazetteer, name_key
from mapapp.records import CONSIDERED, Resolution, Toponym, WeighedPlace
from mapapp.resolution.calibration import Calibration, place_kind
from mapapp.resolution.context import ArticleBeliefs, Mention, OtherPlaces
from mapapp.resolution.features import (
    NONE_OF_THESE,
    contains,
    load_weights,
    qualifier_rows,
    softmax_with_null,
    static_features,
    weight_vector,
)
from mapapp.resolution.names import head_candidates
from mapapp.resolution.plausibility import Vetoes, one_sense_per_name
from mapapp.text import camel_words

MAX_CANDIDATES = 40
CLUSTER_KM = 50  # candidates this close are one answer ("Geneva" the canton and the city)
MAX_ALTERNATIVES = 3
MAX_WEIGHED = 9  # candidates kept with a mention for a reviewer (keys 1-9 pick one)


class Resolver:
    """Resolve all toponyms of an article jointly against the gazetteer."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        weights: dict[str, float] | None = None,
        corrections: Corrections | None = None,
        iterations: int = 2,
        calibration: Calibration | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.calibration = Calibration.load() if calibration is None else calibration
        self.weights = weights or load_weights()
        self.vector = weight_vector(self.weights)
        self.corrections = corrections or Corrections()
        self.iterations = iterations
        # candidates and static features of a (name, role, qualifier): the same in every article
        self._static = functools.lru_cache(maxsize=8192)(self._static_features)
        # the other places of an article come back in every round and for every mention
        self._others = functools.lru_cache(maxsize=256)(OtherPlaces)

    # -- public ---------------------------------------------------------
    def resolve(self, toponyms: Sequence[Toponym]) -> list[Resolution]:
        """One `Resolution` per toponym, in the same order."""
        mentions = self._run(toponyms)
        if Vetoes(self.gazetteer, mentions).apply():
            # a place now ruled out no longer vouches for its country: two wrong namesakes
            # ("West Lake" in Ohio, "Red River" in Texas, in a Hanoi story) must not
            # shelter each other, so the story's points are taken again and judged once more
            Vetoes(self.gazetteer, mentions).apply()
        one_sense_per_name(self.gazetteer, mentions)
        return [self._decide(m) for m in mentions]

    def candidate_features(self, toponyms: Sequence[Toponym]) -> list[tuple[list[int], np.ndarray]]:
        """Per toponym: candidate gazetteer rows and their final feature matrix (for fitting)."""
        mentions = self._run(toponyms)
        context = ArticleBeliefs.build(self.gazetteer, mentions, self._others)
        out = []
        for index, mention in enumerate(mentions):
            feats = mention.static.copy()
            if mention.rows:
                context.fill(self.gazetteer, index, mention, feats)
            out.append((mention.rows, feats))
        return out

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
        if not found and (words := camel_words(toponym.name)):
            found = gaz.candidates(words, fuzzy=False)  # "#HongKong": the name run together
        if not found:  # "Oaxaca State", "Cavan Institute": the place it is named for
            found = head_candidates(gaz, toponym.name)
        if key in self.corrections.aliases:
            row = gaz.by_geonameid.get(self.corrections.aliases[key])
            if row is not None:
                found = [Candidate(row, MATCH_ALIAS)] + found
        if key in gaz.qualifiers and (
            toponym.name.endswith(".") or toponym.name.isupper() or toponym.role == "qualifier"
        ):
            found = [Candidate(row, MATCH_ALIAS) for row in gaz.qualifiers[key]] + found
        found.sort(key=lambda c: (c.match, -gaz.population[c.index]))
        found = _dedupe(found)
        inside = qualifier_rows(gaz, toponym.qualifier)
        if inside:  # "Paris, Texas": only the Parises in Texas, when there are any
            kept = [c for c in found if contains(gaz, inside, c.index)]
            found = kept or found
        return found[:MAX_CANDIDATES]

    def features(self, toponym: Toponym, rows: Sequence[Candidate]) -> np.ndarray:
        """Context-free features of each candidate (context columns left at 0)."""
        return static_features(self.gazetteer, toponym, rows)

    # -- steps ----------------------------------------------------------
    def _run(self, toponyms: Sequence[Toponym]) -> list[Mention]:
        mentions = [self._prepare(t) for t in toponyms]
        for _ in range(self.iterations):
            self._score(mentions)
        self._score(mentions)
        return mentions

    def _prepare(self, toponym: Toponym) -> Mention:
        rows, static = self._static(toponym.name, toponym.role, toponym.qualifier)
        mention = Mention(toponym, list(rows), static)
        pin = self.corrections.pins.get(name_key(toponym.name))
        if pin is not None and pin in self.gazetteer.by_geonameid:
            mention.pinned = self.gazetteer.by_geonameid[pin]
        return mention

    def _static_features(
        self, name: str, role: str, qualifier: str
    ) -> tuple[tuple[int, ...], np.ndarray]:
        """Candidate rows and their context-free features (read-only: they are shared)."""
        toponym = Toponym(name=name, start=0, end=len(name), role=role, qualifier=qualifier)
        cands = self.candidates(toponym)
        static = self.features(toponym, cands)
        static.flags.writeable = False
        return tuple(c.index for c in cands), static

    def _score(self, mentions: list[Mention]) -> None:
        """One round: context from the current beliefs, then new probabilities."""
        context = ArticleBeliefs.build(self.gazetteer, mentions, self._others)
        for index, mention in enumerate(mentions):
            if not mention.rows:
                continue
            feats = mention.static.copy()
            context.fill(self.gazetteer, index, mention, feats)
            logits = feats @ self.vector
            mention.probs = softmax_with_null(logits, self.weights[NONE_OF_THESE])

    def _decide(self, mention: Mention) -> Resolution:
        """The mention's resolution, with the candidates it was chosen from."""
        return replace(self._choose(mention), candidates=self._weighed(mention))

    def _weighed(self, mention: Mention) -> tuple[WeighedPlace, ...]:
        """The most probable candidates of a mention (at most `MAX_WEIGHED`), best first."""
        if not mention.rows:
            return ()
        gaz = self.gazetteer
        if mention.probs is None:
            probs = np.zeros(len(mention.rows))
        else:
            probs = mention.probs[:-1]
        order = np.argsort(-probs, kind="stable")[:MAX_WEIGHED]
        out = []
        for i in order:
            place = gaz.place(mention.rows[int(i)])
            out.append(
                WeighedPlace(
                    geonameid=place.geonameid,
                    name=place.name,
                    latitude=float(place.latitude),
                    longitude=float(place.longitude),
                    country_code=place.country_code,
                    admin1_name=place.admin1_name,
                    feature_class=place.feature_class,
                    feature_code=place.feature_code,
                    population=int(place.population),
                    score=round(float(probs[int(i)]), 4),
                )
            )
        return tuple(out)

    def _choose(self, mention: Mention) -> Resolution:
        top = mention.toponym
        if mention.pinned is not None:
            return Resolution(top, self.gazetteer.place(mention.pinned), 1.0)
        if not mention.rows or mention.probs is None:
            return Resolution(top, None, 0.0, reason="not in the gazetteer")
        probs = mention.probs[:-1]
        mass = np.where(probs > 0, self._cluster_mass(mention.rows, probs), 0.0)  # not vetoed
        towns = np.array([self.gazetteer.fclass[r] == "P" for r in mention.rows])
        best = int(np.argmax(mass + 1e-4 * towns + 1e-6 * probs))  # in a cluster, the town
        if mention.probs[-1] >= mass[best]:  # unplaced: no chance of being within 161 km
            reason = mention.veto or "no candidate fits the context"
            return Resolution(top, None, 0.0, reason=reason)
        order = [i for i in np.argsort(-probs) if i != best][:MAX_ALTERNATIVES]
        gaz = self.gazetteer
        row = mention.rows[best]
        score = self.calibration(
            float(min(1.0, mass[best])), place_kind(gaz.fclass[row], gaz.fcode[row])
        )
        return Resolution(
            top,
            gaz.place(row),
            score,
            alternatives=tuple(gaz.geonameid[mention.rows[i]] or 0 for i in order),
        )

    def _cluster_mass(self, rows: list[int], probs: np.ndarray) -> np.ndarray:
        """Probability of each candidate plus that of candidates within 50 km of it.

        Geneva the canton, the district and the city are one answer to
        "which Geneva?"; together they outweigh a lone namesake elsewhere.
        """
        gaz = self.gazetteer
        lat = np.radians([gaz.lat[r] for r in rows])
        lon = np.radians([gaz.lon[r] for r in rows])
        a = (
            np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
            + np.cos(lat[:, None])
            * np.cos(lat[None, :])
            * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        mass = (km < CLUSTER_KM) @ probs
        return mass


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    seen: set[int] = set()
    out = []
    for c in cands:
        if c.index not in seen:
            seen.add(c.index)
            out.append(c)
    return out


def drop_unconfirmed(
    resolutions: list[Resolution], min_population: int = 50_000
) -> list[Resolution]:
    """Set aside gazetteer-scan guesses that nothing else in the article supports.

    A capitalised word that matched only a small town ("Olaopa", "Wedbush")
    is kept when the model tagged it, when the town is notable, or when it
    lies in a country the article's model-found places point at.  Otherwise
    it stays in the list as *considered*, unplaced, with the reason.
    """
    countries = {
        r.place.country_code
        for r in resolutions
        if r.place is not None and r.toponym.source in {"ner", "dateline"}
    }
    kept = []
    for r in resolutions:
        place = r.place
        if (
            r.toponym.source == "gazetteer"
            and r.toponym.role not in ("demonym", CONSIDERED)
            and (
                place is None
                or (
                    place.feature_class == "P"
                    and place.population < min_population
                    and place.country_code not in countries
                )
            )
        ):
            why = (
                f"only a small place matched ({place.name}, {place.country_code}, "
                f"pop. {place.population:,}) and no other place of the story points there"
                if place is not None
                else (r.reason or "no gazetteer entry fits")
            )
            r = Resolution(replace(r.toponym, role=CONSIDERED), None, 0.0, why, r.provider)
        kept.append(r)
    return kept
