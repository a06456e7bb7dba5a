"""Vetoes on candidates the model likes but the story rules out, and one sense per name.

The log-linear model scores each candidate; some answers are wrong however
well they score, because of what the rest of the story says:

* a name matched only through another place's alternate name, or a small
  town, lying far from every other place of the story in a country nothing
  else points at ("Hyde Park" in a London story is not the one in Chicago;
  a district of the dateline city is not a namesake abroad);
* a town or a capital's alternate name when the name is exactly that of a
  country or first-order division ("Oklahoma", "Wales");
* anything but a country or division for a qualifier ("Ore." in
  "PORTLAND, Ore.") or after "the state of".

Vetoed candidates lose their probability (the rest are renormalised); a
mention left with none is unplaced with the reason.  Then every mention of the
dateline's name takes the dateline's sense.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from mapapp.geo import NATURAL_AREA_CLASSES, haversine_km
from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.resolution.context import Mention
from mapapp.resolution.features import ADMIN_CODES, COUNTRY_CODES, Feature

NOTABLE_POPULATION = 100_000  # a town this big is not a "small namesake"
NEAR_KM = 161.0  # an alternate-name match this close to another place of the story is fine
FAR_KM = 500.0  # a small exact namesake this far from every other place is doubtful
SURE = 0.5  # a mention this sure of its best candidate tells where the story is
UNIT_CODES = COUNTRY_CODES | {"ADM1"}
KIND_WORDS = {"state": {"ADM1"}, "province": {"ADM1"}, "country": COUNTRY_CODES, "county": {"ADM2"}}
DISTANT = "only namesakes far from the story's other places"
NOT_A_UNIT = "no country or division of that name"

#: The story's confident places: (name key, country code, latitude, longitude).
StoryPoint = tuple[str, str, float, float]


def story_points(gaz: Gazetteer, mentions: list[Mention]) -> list[StoryPoint | None]:
    """Each mention's best candidate when it is sure of it (None otherwise)."""
    out: list[StoryPoint | None] = []
    for m in mentions:
        if not m.rows or m.probs is None:
            out.append(None)
            continue
        probs = m.probs[:-1]
        best = int(np.argmax(probs))
        row = m.rows[best]
        out.append(
            (name_key(m.toponym.name), gaz.country[row], gaz.lat[row], gaz.lon[row])
            if probs[best] >= SURE
            else None
        )
    return out


class Vetoes:
    """Rule out, per mention, the candidates the rest of the story contradicts."""

    def __init__(self, gaz: Gazetteer, mentions: list[Mention]) -> None:
        self.gaz = gaz
        self.mentions = mentions
        self.points = story_points(gaz, mentions)
        # each distinct point once, by name: a story naming Lagos 5,000 times costs one point
        self._by_key: dict[str, set[StoryPoint]] = defaultdict(set)
        self._mentions_of: dict[str, int] = defaultdict(int)
        for point in self.points:
            if point is not None:
                self._by_key[point[0]].add(point)
                self._mentions_of[point[0]] += 1
        self._others: dict[str, tuple[list[StoryPoint], set[str], int]] = {}
        self.dated = any(
            p is not None and m.toponym.role == "dateline"
            for m, p in zip(mentions, self.points, strict=True)
        )

    def apply(self) -> bool:
        """Zero vetoed candidates in every mention's probabilities (in place).

        True when some mention lost every candidate (a point the story had is gone).
        """
        emptied = False
        for m in self.mentions:
            if not m.rows or m.probs is None or m.pinned is not None:
                continue
            keep, reason = self._keep(m)
            if keep.all():
                continue
            probs = m.probs.copy()
            probs[:-1][~keep] = 0.0
            total = probs.sum()
            m.probs = probs / total if total > 0 else probs
            if not keep.any():
                m.veto = reason
                emptied = True
        return emptied

    def _keep(self, m: Mention) -> tuple[np.ndarray, str]:
        gaz, rows = self.gaz, m.rows
        keep = np.ones(len(rows), dtype=bool)
        codes = [gaz.fcode[r] for r in rows]
        alternate = m.static[:, Feature.ALTERNATE_NAME] > 0
        wanted = self._wanted_codes(m)
        if wanted:
            kind = np.array([c in wanted for c in codes])
            if kind.any() or m.toponym.role == "qualifier":
                keep &= kind
                if not keep.any():
                    return keep, NOT_A_UNIT
        primary_unit = any(
            c in UNIT_CODES and not alt for c, alt in zip(codes, alternate, strict=True)
        )
        key = name_key(m.toponym.name)
        others, countries, other_mentions = self._others_than(key)
        unit_countries = {
            gaz.country[r]
            for c, alt, r in zip(codes, alternate, rows, strict=True)
            if c in UNIT_CODES and not alt
        }
        # the unit wins only where the story points at its country: "Lima" beside Ohio is the
        # city in Ohio, not the Peruvian region; "Oklahoma" beside Tulsa is the state
        supported = not others or bool(unit_countries & countries)
        if primary_unit and supported and not m.toponym.qualifier:  # "Oklahoma", "Wales"
            for i, r in enumerate(rows):
                if codes[i] in UNIT_CODES:
                    continue
                longer = alternate[i] and name_key(gaz.name[r]).startswith(key + " ")
                if longer or (
                    gaz.fclass[r] == "P"
                    and not alternate[i]
                    and gaz.population[r] < NOTABLE_POPULATION
                ):
                    keep[i] = False  # "Oklahoma City", "Oklahoma County"; a village "Wales"
        if others and not m.toponym.qualifier:
            exact_home = any(
                not alternate[i] and gaz.country[r] in countries for i, r in enumerate(rows)
            )
            fuzzy = not gaz.candidates(m.toponym.name, fuzzy=False)  # a spelling variant
            for i, r in enumerate(rows):
                if (
                    keep[i]
                    and alternate[i]
                    and exact_home
                    and gaz.population[r] < NOTABLE_POPULATION
                ):
                    keep[i] = False  # "Kadikoy": the place of that very name, not a former name
                    continue
                if keep[i] and self._distant(
                    r, bool(alternate[i]), fuzzy, others, countries, other_mentions
                ):
                    keep[i] = False
        return keep, DISTANT

    def _others_than(self, key: str) -> tuple[list[StoryPoint], set[str], int]:
        """The story's distinct confident points under other names, their countries, and how
        many mentions they stand for."""
        if key not in self._others:
            points = [p for k, group in self._by_key.items() if k != key for p in group]
            count = sum(n for k, n in self._mentions_of.items() if k != key)
            self._others[key] = (points, {p[1] for p in points}, count)
        return self._others[key]

    def _wanted_codes(self, m: Mention) -> set[str]:
        """Feature codes the mention's wording asks for ("the state of Georgia", a qualifier)."""
        if m.toponym.role == "qualifier":
            return UNIT_CODES | ADMIN_CODES
        name = m.toponym.name
        match = re.search(
            r"\b(state|province|country|county) of " + re.escape(name) + r"\b", m.toponym.sentence
        )
        return set(KIND_WORDS[match.group(1)]) if match else set()

    def _distant(
        self,
        row: int,
        alternate: bool,
        fuzzy: bool,
        others: list[StoryPoint],
        countries: set[str],
        other_mentions: int,
    ) -> bool:
        """Is candidate ``row`` a namesake far from the story that nothing supports?

        ``others`` are the story's distinct points under other names, standing for
        ``other_mentions`` mentions."""
        gaz = self.gaz
        code = gaz.fcode[row]
        if code in UNIT_CODES or gaz.fclass[row] in NATURAL_AREA_CLASSES and not alternate:
            return False
        km = min(haversine_km(gaz.lat[row], gaz.lon[row], p[2], p[3]) for p in others)
        small = gaz.population[row] < NOTABLE_POPULATION
        foreign = gaz.country[row] not in countries
        if alternate:
            return km > NEAR_KM and foreign and (small or fuzzy) or km > FAR_KM and small
        return small and foreign and km > FAR_KM and (other_mentions >= 2 or self.dated)


def one_sense_per_name(gaz: Gazetteer, mentions: list[Mention]) -> None:
    """Mentions of the dateline's name take its sense ("Tripoli" after "TRIPOLI, Lebanon")."""
    groups: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.rows and m.probs is not None and m.toponym.role in ("mention", "dateline"):
            groups[name_key(m.toponym.name)].append(m)
    for group in groups.values():
        if len(group) < 2:
            continue
        datelines = [m for m in group if m.toponym.role == "dateline"]
        if not datelines:  # a story may name both Georgias; only the dateline settles it
            continue
        anchor = datelines[0]
        best = anchor.rows[int(np.argmax(anchor.probs[:-1]))]
        share = dict(zip(anchor.rows, anchor.probs[:-1], strict=True))
        for m in group:
            if m is anchor or best not in m.rows:
                continue
            probs = np.array([share.get(r, 0.0) for r in m.rows] + [anchor.probs[-1]])
            m.probs = probs / probs.sum()
            m.veto = ""
