"""The offline gazetteer's index: GeoNames entries as columns, found by folded name.

`Gazetteer` holds one row per entry (a city, an admin unit, a country, a
region) and the name indexes that turn a mention into `Candidate` rows.  It is
filled by `mapapp.recognition.gazetteer_sources` and pickled by
`mapapp.recognition.gazetteer_cache`; the pickle names this module's classes,
so they stay here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from mapapp.geo import DRAWN_AREA_CLASSES
from mapapp.records import Place
from mapapp.text import name_key  # the folding every index and correction keys on

__all__ = ["name_key"]  # re-exported: callers import it from here

# How a name reached an entry; lower is more trustworthy.
MATCH_NAME, MATCH_ALIAS, MATCH_ALTERNATE = 0, 1, 2

_ARTICLE = re.compile(r"^(?:the|al|el|ad|an|as|ar|at|az|ash) ")


def squash_key(name: str) -> str:
    """A looser key for transliteration variants: Boukamal ~ Al-Bukamal ~ Abu Kamal."""
    key = _ARTICLE.sub("", name_key(name))
    key = key.replace("ou", "u").replace("ee", "i").replace("oo", "u")
    key = re.sub(r"[^a-z]", "", key)
    key = re.sub(r"(.)\1+", r"\1", key)  # doubled letters
    return key.replace("q", "k").replace("kh", "k").replace("y", "i")


@dataclass(frozen=True)
class Candidate:
    """An entry a name may refer to, and how the name matched it."""

    index: int
    match: int


class Gazetteer:
    """Columns of gazetteer entries plus name indexes; rows become `Place`s."""

    def __init__(self) -> None:
        self.geonameid: list[int | None] = []
        self.name: list[str] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.fclass: list[str] = []
        self.fcode: list[str] = []
        self.country: list[str] = []
        self.admin1: list[str] = []
        self.admin2: list[str] = []
        self.population: list[int] = []
        self.names: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.squashed: dict[str, list[int]] = defaultdict(list)
        self.admin1_names: dict[tuple[str, str], str] = {}
        self.country_index: dict[str, int] = {}
        self.admin1_index: dict[tuple[str, str], int] = {}
        self.by_geonameid: dict[int, int] = {}
        self.demonyms: dict[str, int] = {}
        self.qualifiers: dict[str, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self.name)

    # -- building ---------------------------------------------------------
    def add(
        self,
        *,
        geonameid: int | None,
        name: str,
        lat: float,
        lon: float,
        fclass: str,
        fcode: str,
        country: str,
        admin1: str = "",
        admin2: str = "",
        population: int = 0,
    ) -> int:
        """Append one entry and index its main name; returns its row number."""
        row = len(self.name)
        for column, value in (
            (self.geonameid, geonameid),
            (self.name, name),
            (self.lat, lat),
            (self.lon, lon),
            (self.fclass, fclass),
            (self.fcode, fcode),
            (self.country, country),
            (self.admin1, admin1),
            (self.admin2, admin2),
            (self.population, population),
        ):
            column.append(value)
        if geonameid is not None:
            self.by_geonameid.setdefault(geonameid, row)
        self.index_name(row, name, MATCH_NAME)
        return row

    def index_name(self, row: int, name: str, match: int) -> None:
        """Make ``name`` find entry ``row`` (once, at its most trusted match)."""
        key = name_key(name)
        if not key or len(key) < 2:
            return
        bucket = self.names[key]
        for i, (other, kind) in enumerate(bucket):
            if other == row:
                if match < kind:
                    bucket[i] = (row, match)
                return
        bucket.append((row, match))
        squashed = squash_key(name)
        if len(squashed) >= 5 and row not in self.squashed[squashed]:
            self.squashed[squashed].append(row)

    def freeze(self) -> None:
        """Pack the name indexes into ints (row * 4 + match) so the cache loads fast.

        Lists of tuples cost a Python object each; one int, or a tuple of ints
        for a shared name, unpickles about four times faster.
        """
        self.names = {
            k: (v[0][0] * 4 + v[0][1] if len(v) == 1 else tuple(r * 4 + m for r, m in v))
            for k, v in self.names.items()
        }
        self.squashed = {k: (v[0] if len(v) == 1 else tuple(v)) for k, v in self.squashed.items()}
        self.qualifiers = dict(self.qualifiers)

    # -- reading ----------------------------------------------------------
    def candidates(self, name: str, *, fuzzy: bool = True) -> list[Candidate]:
        """Every entry ``name`` may mean; transliteration variants when none match."""
        packed = self.names.get(name_key(name), ())
        if isinstance(packed, list):  # still building: (row, match) pairs
            packed = tuple(row * 4 + match for row, match in packed)
        found = [Candidate(code >> 2, code & 3) for code in _codes(packed)]
        if not found and fuzzy:
            squashed = squash_key(name)
            if len(squashed) >= 5:
                found = [
                    Candidate(row, MATCH_ALTERNATE)
                    for row in _codes(self.squashed.get(squashed, ()))
                ]
        return found

    def place(self, row: int) -> Place:
        """The entry at ``row`` as a `Place` record."""
        country = self.country[row]
        return Place(
            geonameid=self.geonameid[row],
            name=self.name[row],
            latitude=self.lat[row],
            longitude=self.lon[row],
            feature_class=self.fclass[row],
            feature_code=self.fcode[row],
            country_code=country,
            admin1_code=self.admin1[row],
            admin1_name=self.admin1_names.get((country, self.admin1[row]), ""),
            population=self.population[row],
        )

    def is_area(self, row: int) -> bool:
        """True for countries, admin units, continents and regions (not points)."""
        return self.fclass[row] in DRAWN_AREA_CLASSES


def _codes(packed: object) -> tuple[int, ...]:
    """The packed value of a frozen index as a tuple of ints."""
    return (packed,) if isinstance(packed, int) else tuple(packed)  # type: ignore[arg-type]
