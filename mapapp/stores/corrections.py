"""Editors' corrections: stable mention ids, the log's rows, and how they change what is read.

A correction is one editor's decision about a mention: ``place`` (it means
another gazetteer entry), ``not_a_place`` or ``accept`` (the geoparser was
right).  Its scope is that ``mention``, every mention of the name in the
``story`` or the name ``everywhere`` (a rule future ingests apply too, see
`rules_as_seed`).  Corrections are rows of the store's ``corrections``
table, keyed by article id and code-point offsets, never by a row number,
so they survive ``mapapp ingest --reprocess``, a new model and ``mapapp
store copy``; ``mentions()`` applies the active ones on every read, so the
stored geoparse itself is never rewritten and an undo is one flag.

Each backend gives `Correcting` a transaction (`CorrectionTransaction`)
and its raw ``_raw_mentions``; everything else is written once here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, Protocol

import geopandas
import numpy
import pandas

from mapapp.errors import ConflictError, NotFoundError, QueryError
from mapapp.stores.frames import in_bbox, to_point
from mapapp.stores.schema import (
    CORRECTED_COLUMNS,
    CORRECTION_COLUMNS,
    CRS,
    JOINED_COLUMNS,
    MENTION_COLUMNS,
    typed,
)
from mapapp.text import name_key

ACTIONS = ("place", "not_a_place", "accept")
SCOPES = ("mention", "story", "everywhere")
_SPECIFIC = {"everywhere": 0, "story": 1, "mention": 2}  # the more specific rule wins
NOT_A_PLACE = "not a place (an editor's correction)"
EDITOR_PROVIDER = "editor"  # the provider of a mention an editor placed
PLACE_FIELDS = (
    "geonameid",
    "name",
    "lat",
    "lon",
    "country_code",
    "admin1",
    "feature_class",
    "feature_code",
    "population",
)
_COPY_KEY = ("mention_id", "name_key", "action", "scope", "geonameid", "editor", "created")


def mention_id(article_id: str, start: int, end: int) -> str:
    """The stable id of a mention: its article and offsets ("<article>-<start>-<end>")."""
    return f"{article_id}-{int(start)}-{int(end)}"


def parse_mention_id(value: str) -> tuple[str, int, int]:
    """(article id, start, end) of a mention id.

    :raise NotFoundError: ``value`` is not shaped like a mention id.
    """
    parts = str(value).rsplit("-", 2)
    if len(parts) == 3 and parts[0] and parts[1].isdigit() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    raise NotFoundError(f"{value!r} is not a mention id (expected <article id>-<start>-<end>)")


def utc_now() -> str:
    """Now in UTC, ISO 8601 to the second (the time stamped on a correction or an undo)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """A cell as a plain JSON-ready value (missing values as None, numpy scalars unboxed)."""
    if value is None or value is pandas.NA or value is pandas.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def parse_candidates(text: Any) -> list[dict[str, Any]]:
    """The stored JSON of a mention's weighed candidates as a list (none: [])."""
    if not isinstance(text, str) or not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def mention_record(row: dict[str, Any]) -> dict[str, Any]:
    """One row of ``mentions()`` (corrections applied) as a JSON-ready dict."""
    point = row.get("geometry")
    out = {
        name: _plain(row.get(name))
        for name in (*MENTION_COLUMNS, *JOINED_COLUMNS, *CORRECTED_COLUMNS)
        if name != "candidates"
    }
    located = point is not None and not getattr(point, "is_empty", True)
    out["lat"] = float(point.y) if located else None
    out["lon"] = float(point.x) if located else None
    out["reviewed"] = bool(out.get("reviewed"))
    out["candidates"] = parse_candidates(row.get("candidates"))
    return out


def correction_record(row: dict[str, Any]) -> dict[str, Any]:
    """One stored correction as a JSON-ready dict (``old`` parsed, ``undone`` a bool)."""
    out = {name: _plain(row.get(name)) for name in CORRECTION_COLUMNS}
    out["undone"] = bool(out["undone"])
    try:
        out["old"] = json.loads(out["old"]) if out["old"] else None
    except (TypeError, json.JSONDecodeError):
        out["old"] = None
    return out


def _covers(rule: dict[str, Any], article_id: str, start: int, end: int, key: str) -> bool:
    """Does ``rule`` (an active correction) decide the mention at (article, start, end)?"""
    if rule["scope"] == "everywhere":
        return rule["name_key"] == key
    if rule["scope"] == "story":
        return rule["article_id"] == article_id and rule["name_key"] == key
    return rule["article_id"] == article_id and rule["start"] == start and rule["end"] == end


def deciding(
    rules: Iterable[dict[str, Any]], article_id: str, start: int, end: int, name: str
) -> dict[str, Any] | None:
    """The active correction that decides a mention: the most specific, then the newest."""
    key = name_key(name or "")
    found = [
        r for r in rules if not r["undone"] and _covers(r, article_id, int(start), int(end), key)
    ]
    return max(found, key=lambda r: (_SPECIFIC[r["scope"]], r["id"]), default=None)


def apply_corrections(
    frame: geopandas.GeoDataFrame, rules: Sequence[dict[str, Any]]
) -> geopandas.GeoDataFrame:
    """``frame`` (raw mentions) with its mention ids and the active ``rules`` applied.

    Rules go from the least specific to the most specific, oldest first, so
    the one `deciding` names is the one left standing on each row.
    """
    frame = frame.copy()
    n = len(frame)
    frame["mention_id"] = [
        mention_id(a, s, e)
        for a, s, e in zip(frame["article_id"], frame["start"], frame["end"], strict=False)
    ]
    frame["corrected"] = pandas.Series([None] * n, index=frame.index, dtype=object)
    frame["reviewed"] = False
    frame["correction_id"] = pandas.array([pandas.NA] * n, dtype="Int64")
    frame["geoparser_geonameid"] = frame["geonameid"].astype("Int64")
    active = sorted(
        (r for r in rules if not r["undone"]), key=lambda r: (_SPECIFIC[r["scope"]], r["id"])
    )
    geometry = list(frame.geometry)
    if active and n:
        keys = frame["name"].map(lambda v: name_key(v) if isinstance(v, str) else "")
        for rule in active:
            if rule["scope"] == "everywhere":
                mask = keys == rule["name_key"]
            elif rule["scope"] == "story":
                mask = (frame["article_id"] == rule["article_id"]) & (keys == rule["name_key"])
            else:
                mask = (
                    (frame["article_id"] == rule["article_id"])
                    & (frame["start"] == rule["start"])
                    & (frame["end"] == rule["end"])
                )
            if mask.any():
                _apply(frame, geometry, mask.to_numpy(dtype=bool), rule)
    columns = [*MENTION_COLUMNS, *JOINED_COLUMNS, *CORRECTED_COLUMNS]
    rows = typed(pandas.DataFrame(frame[columns]), {**CORRECTED_COLUMNS})
    return geopandas.GeoDataFrame(
        rows, geometry=geopandas.GeoSeries(geometry, index=frame.index, crs=CRS), crs=CRS
    )


def _apply(frame: pandas.DataFrame, geometry: list[Any], mask: numpy.ndarray, rule: dict) -> None:
    """Write one rule's decision into the rows under ``mask`` (and their points)."""
    frame.loc[mask, "corrected"] = rule["action"]
    frame.loc[mask, "reviewed"] = True
    frame.loc[mask, "correction_id"] = int(rule["id"])
    has_place = rule["geonameid"] is not None and rule["lat"] is not None
    if rule["action"] == "not_a_place":
        values: dict[str, Any] = {
            "geonameid": pandas.NA,
            "population": pandas.NA,
            "score": 0.0,
            "reason": NOT_A_PLACE,
        }
        values.update(
            dict.fromkeys(
                ("resolved_name", "country_code", "admin1_name", "feature_class", "feature_code"),
                None,
            )
        )
        point = None
    elif has_place:  # a new place, or the place accepted as is
        values = {
            "geonameid": int(rule["geonameid"]),
            "resolved_name": rule["place_name"],
            "country_code": rule["country_code"],
            "admin1_name": rule["admin1_name"],
            "feature_class": rule["feature_class"],
            "feature_code": rule["feature_code"],
            "population": pandas.NA if rule["population"] is None else int(rule["population"]),
            "score": 1.0,
            "reason": None,
        }
        if rule["action"] == "place":
            values.update(provider=EDITOR_PROVIDER, provider_id=None)
        point = to_point(float(rule["lat"]), float(rule["lon"]))
    else:  # accepted as is, without a place: only marked reviewed
        return
    for column, value in values.items():
        frame.loc[mask, column] = value
    for position in numpy.flatnonzero(mask):
        geometry[int(position)] = point


class CorrectionTransaction(Protocol):
    """One write transaction on the corrections table (a backend's own)."""

    def rows(self) -> list[dict[str, Any]]:
        """Every stored correction, oldest first."""

    def insert(self, row: dict[str, Any]) -> int:
        """Store one correction (without ``id``); returns its new id."""

    def mark_undone(self, correction_id: int, when: str) -> None:
        """Flag one correction undone at ``when``."""


class Correcting:
    """The corrections half of the store API, over a backend's ``_raw_mentions``,
    ``_correction_rows`` (a read) and ``_correcting`` (a write transaction)."""

    def _raw_mentions(self, *args: Any, **kwargs: Any) -> geopandas.GeoDataFrame:
        raise NotImplementedError

    def _correction_rows(self) -> list[dict[str, Any]]:
        """Every stored correction, oldest first ([] for a store without the table)."""
        raise NotImplementedError

    def _correcting(self) -> AbstractContextManager[CorrectionTransaction]:
        raise NotImplementedError

    # -- reading ---------------------------------------------------------------
    def mentions(
        self,
        start: date | None = None,
        end: date | None = None,
        *,
        include_undated: bool = False,
        article_id: str | None = None,
        resolved_only: bool = True,
        bbox: tuple[float, float, float, float] | None = None,
        corrected: bool = True,
    ) -> geopandas.GeoDataFrame:
        """Mentions published in [start, end] (all when unbounded), with headline, url, their
        ``mention_id`` and (unless ``corrected`` is False) the editors' corrections applied;
        ``bbox`` (west, south, east, north in degrees) keeps the points inside it."""
        rules = [r for r in self._correction_rows() if not r["undone"]] if corrected else []
        if not rules:
            frame = self._raw_mentions(
                start,
                end,
                include_undated=include_undated,
                article_id=article_id,
                resolved_only=resolved_only,
                bbox=bbox,
            )
            return apply_corrections(frame, [])
        frame = self._raw_mentions(
            start, end, include_undated=include_undated, article_id=article_id, resolved_only=False
        )
        frame = apply_corrections(frame, rules)
        if resolved_only:
            frame = frame[frame.geometry.notna()].reset_index(drop=True)
        return in_bbox(frame, bbox)

    def mention(self, mention_id: str) -> dict[str, Any] | None:
        """One mention (corrections applied) as a dict, candidates parsed; None if not stored."""
        try:
            article_id, start, end = parse_mention_id(mention_id)
        except NotFoundError:
            return None
        frame = self.mentions(article_id=article_id, resolved_only=False)
        hit = frame[(frame["start"] == start) & (frame["end"] == end)]
        if hit.empty:
            return None
        return mention_record(hit.iloc[0].to_dict())

    def candidates(self, mention_id: str) -> list[dict[str, Any]]:
        """The places the resolver weighed for a mention, best first (``chosen`` marks the one
        it shows now).

        :raise NotFoundError: no such mention.
        """
        found = self._mention_or_fail(mention_id)
        current = found["geonameid"]
        return [{**c, "chosen": c.get("geonameid") == current} for c in found["candidates"]]

    def corrections(self, include_undone: bool = True) -> list[dict[str, Any]]:
        """The corrections log, newest first."""
        rows = [correction_record(r) for r in self._correction_rows()]
        rows = [r for r in rows if include_undone or not r["undone"]]
        return sorted(rows, key=lambda r: r["id"], reverse=True)

    def _mention_or_fail(self, mention_id: str) -> dict[str, Any]:
        found = self.mention(mention_id)
        if found is None:
            raise NotFoundError(f"no mention {mention_id!r} in the store")
        return found

    # -- writing ---------------------------------------------------------------
    def add_correction(
        self,
        mention_id: str,
        action: str,
        *,
        scope: str = "mention",
        geonameid: int | None = None,
        place: dict[str, Any] | None = None,
        editor: str = "",
        base: int | None = None,
    ) -> dict[str, Any]:
        """Record an editor's decision about a mention; returns the correction (with its
        ``id``) and, under ``mention``, the mention as it now reads.

        ``place`` (keys of `PLACE_FIELDS`) describes a new place; without it a
        ``geonameid`` must be one of the mention's candidates.  ``base`` is the
        id of the correction the editor saw deciding the mention (0: none):
        when another landed since, the write is refused.  Without ``base`` both
        land and the later one wins.

        :raise QueryError: an unknown action or scope, or a place that cannot be placed.
        :raise NotFoundError: no such mention.
        :raise ConflictError: ``base`` is no longer what decides the mention.
        """
        if action not in ACTIONS:
            raise QueryError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if scope not in SCOPES:
            raise QueryError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        found = self._mention_or_fail(mention_id)
        new_place = self._new_place(found, action, geonameid, place)
        row = {
            "mention_id": found["mention_id"],
            "article_id": found["article_id"],
            "start": int(found["start"]),
            "end": int(found["end"]),
            "name": found["name"],
            "name_key": name_key(found["name"] or ""),
            "action": action,
            "scope": scope,
            **new_place,
            "editor": editor or None,
            "created": utc_now(),
            "old": json.dumps(
                {
                    "geonameid": found["geonameid"],
                    "name": found["resolved_name"],
                    "lat": found["lat"],
                    "lon": found["lon"],
                    "score": found["score"],
                    "correction_id": found["correction_id"],
                    "geoparser_geonameid": found["geoparser_geonameid"],
                },
                ensure_ascii=False,
            ),
            "undone": False,
            "undone_at": None,
        }
        with self._correcting() as tx:
            if base is not None:
                _check_base(tx.rows(), found, int(base))
            row["id"] = tx.insert(row)
        return {**correction_record(row), "mention": self.mention(found["mention_id"])}

    def _new_place(
        self,
        found: dict[str, Any],
        action: str,
        geonameid: int | None,
        place: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The correction's new-place columns (all None for 'not a place')."""
        empty = {
            "geonameid": None,
            "place_name": None,
            "lat": None,
            "lon": None,
            "country_code": None,
            "admin1_name": None,
            "feature_class": None,
            "feature_code": None,
            "population": None,
        }
        if action == "not_a_place":
            return empty
        if action == "accept":
            if found["geonameid"] is None or found["lat"] is None:
                return empty
            place = {
                "geonameid": found["geonameid"],
                "name": found["resolved_name"],
                "lat": found["lat"],
                "lon": found["lon"],
                "country_code": found["country_code"],
                "admin1": found["admin1_name"],
                "feature_class": found["feature_class"],
                "feature_code": found["feature_code"],
                "population": found["population"],
            }
        elif place is None:
            if geonameid is None:
                raise QueryError("a 'place' correction needs the GeoNames id of the place")
            match = [c for c in found["candidates"] if c.get("geonameid") == int(geonameid)]
            if not match:
                raise QueryError(
                    f"GeoNames id {geonameid} is not among the candidates of mention "
                    f"{found['mention_id']!r}; look it up in the gazetteer and pass the place"
                )
            place = match[0]
        return _checked_place(place)

    def undo_correction(self, correction_id: int) -> dict[str, Any]:
        """Undo one correction (it stays in the log, flagged); returns it with, under
        ``mention``, the mention as it now reads (None for a rule without a mention).

        :raise NotFoundError: no such correction.
        :raise ConflictError: it was already undone.
        """
        when = utc_now()
        with self._correcting() as tx:
            rows = {int(r["id"]): r for r in tx.rows()}
            row = rows.get(int(correction_id))
            if row is None:
                raise NotFoundError(f"no correction {correction_id} in the store")
            if row["undone"]:
                raise ConflictError(
                    f"correction {correction_id} was already undone at {row['undone_at']}"
                )
            tx.mark_undone(int(correction_id), when)
        done = correction_record({**row, "undone": True, "undone_at": when})
        mention = self.mention(done["mention_id"]) if done["mention_id"] else None
        return {**done, "mention": mention}

    def restore_corrections(self, rows: Iterable[dict[str, Any]]) -> int:
        """Store corrections read from another store or a file (new ids), in one
        transaction; those already stored are skipped.  Returns how many were stored."""
        added = 0
        with self._correcting() as tx:
            stored = {_copy_key(r) for r in tx.rows()}
            for row in sorted(rows, key=lambda r: (r.get("created") or "", r.get("id") or 0)):
                row = _restorable(row)
                if _copy_key(row) in stored:
                    continue
                tx.insert(row)
                stored.add(_copy_key(row))
                added += 1
        return added


def _check_base(rows: list[dict[str, Any]], found: dict[str, Any], base: int) -> None:
    """Refuse (ConflictError) when the correction deciding the mention is not ``base``."""
    now = deciding(rows, found["article_id"], found["start"], found["end"], found["name"] or "")
    current = 0 if now is None else int(now["id"])
    if current != base:
        who = (now or {}).get("editor") or "someone"
        what = (
            f"was corrected by {who} at {now['created']} (correction {current})"
            if now is not None
            else "had its correction undone"
        )
        raise ConflictError(
            f"Mention {found['mention_id']!r} {what} while you were looking at it; "
            "reload it and decide again"
        )


def _checked_place(place: dict[str, Any]) -> dict[str, Any]:
    """A place dict (keys of `PLACE_FIELDS`) as the correction's columns, checked."""
    try:
        lat, lon = float(place["lat"]), float(place["lon"])
        geonameid = int(place["geonameid"]) if place.get("geonameid") is not None else None
        to_point(lat, lon)
    except (KeyError, TypeError, ValueError) as err:
        raise QueryError(
            f"the new place needs a GeoNames id, lat and lon in degrees ({err})"
        ) from err
    if geonameid is None:
        raise QueryError("the new place needs a GeoNames id")
    population = place.get("population")
    return {
        "geonameid": geonameid,
        "place_name": str(place.get("name") or ""),
        "lat": lat,
        "lon": lon,
        "country_code": place.get("country_code") or None,
        "admin1_name": place.get("admin1") or place.get("admin1_name") or None,
        "feature_class": place.get("feature_class") or None,
        "feature_code": place.get("feature_code") or None,
        "population": int(population) if population not in (None, "") else None,
    }


def _copy_key(row: dict[str, Any]) -> tuple:
    """What makes two stored corrections the same decision (for copies and imports)."""
    return tuple(_plain(row.get(name)) for name in _COPY_KEY)


def _restorable(row: dict[str, Any]) -> dict[str, Any]:
    """A correction from elsewhere as a row to insert: every column, no id, ``old`` as JSON."""
    out = {name: _plain(row.get(name)) for name in CORRECTION_COLUMNS if name != "id"}
    if out["action"] not in ACTIONS or out["scope"] not in SCOPES:
        raise QueryError(f"correction {row!r} has an unknown action or scope")
    if not out["name_key"]:
        out["name_key"] = name_key(out["name"] or "")
    if out["scope"] != "everywhere" and not (
        out["article_id"] and out["start"] is not None and out["end"] is not None
    ):
        raise QueryError(
            f"a correction of scope {out['scope']!r} needs article_id, start and end: {row!r}"
        )
    if out["article_id"] and out["start"] is not None and out["end"] is not None:
        out["mention_id"] = mention_id(out["article_id"], out["start"], out["end"])
    if isinstance(row.get("old"), dict):
        out["old"] = json.dumps(row["old"], ensure_ascii=False)
    out["undone"] = bool(out["undone"])
    out["created"] = out["created"] or utc_now()
    return out


def rules_as_seed(corrections: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The active everywhere-rules in the ``MAPAPP_CORRECTIONS`` format (``pins`` by name,
    ``deny``), the newest rule of a name winning: what the geoparser applies on ingest."""
    pins: dict[str, int] = {}
    deny: dict[str, str] = {}
    names: dict[str, str] = {}
    for rule in sorted(corrections, key=lambda r: r["id"]):
        if rule["undone"] or rule["scope"] != "everywhere":
            continue
        key = rule["name_key"] or name_key(rule["name"] or "")
        name = names.setdefault(key, rule["name"] or key)
        if rule["action"] == "not_a_place":
            pins.pop(name, None)
            deny[key] = name
        elif rule["geonameid"] is not None:
            deny.pop(key, None)
            pins[name] = int(rule["geonameid"])
    return {"pins": pins, "deny": sorted(deny.values())}


def typed_corrections(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows read from a backend as plain dicts with the declared column types' values."""
    out = []
    for row in rows:
        plain = {name: _plain(row.get(name)) for name in CORRECTION_COLUMNS}
        for name in ("id", "start", "end", "geonameid", "population"):
            if plain[name] is not None:
                plain[name] = int(plain[name])
        plain["undone"] = bool(plain["undone"])
        out.append(plain)
    return out
