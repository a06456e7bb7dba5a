"""``mapapp corrections export/import``: a store's decisions as a ``MAPAPP_CORRECTIONS`` file.

The file is the JSON the geoparser already reads (``aliases``, ``deny``,
``pins``), so an export can seed another desk's ``MAPAPP_CORRECTIONS``, with
one more part the geoparser ignores, ``mentions``: the decisions about one
mention or one name in one story, keyed by article id and offsets::

    {"pins": {"Georgia": 4197000}, "deny": ["Reading"],
     "mentions": [{"article_id": "...", "start": 120, "end": 126, "name": "Darayya",
                   "scope": "mention", "action": "place", "geonameid": 170017,
                   "place": {"name": "Darayya", "lat": 33.458, "lon": 36.2357, ...},
                   "editor": "ana", "created": "2026-12-02T14:00:00+00:00"}]}

Only active decisions are exported (the log with undos stays in the store).
Importing skips what the store already decides the same way; ``aliases``
stay in the seed file (they add names, they decide no mention).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapapp.errors import ConfigError
from mapapp.files import atomic_path
from mapapp.stores import Store
from mapapp.stores.corrections import SCOPES, rules_as_seed
from mapapp.text import name_key

#: A GeoNames id to its place (keys of `mapapp.stores.corrections.PLACE_FIELDS`), or None.
Lookup = Callable[[int], "dict[str, Any] | None"]
_PLACE_KEYS = ("name", "lat", "lon", "country_code", "admin1", "feature_class", "feature_code")


def corrections_document(store: Store) -> dict[str, Any]:
    """The store's active decisions in the ``MAPAPP_CORRECTIONS`` format."""
    active = store.corrections(include_undone=False)
    rules = rules_as_seed(active)
    mentions = []
    for c in sorted(active, key=lambda r: r["id"]):
        if c["scope"] == "everywhere":
            continue
        entry: dict[str, Any] = {
            "article_id": c["article_id"],
            "start": c["start"],
            "end": c["end"],
            "name": c["name"],
            "scope": c["scope"],
            "action": c["action"],
            "geonameid": c["geonameid"],
            "editor": c["editor"],
            "created": c["created"],
        }
        if c["geonameid"] is not None:
            entry["place"] = {
                "name": c["place_name"],
                "lat": c["lat"],
                "lon": c["lon"],
                "country_code": c["country_code"],
                "admin1": c["admin1_name"],
                "feature_class": c["feature_class"],
                "feature_code": c["feature_code"],
                "population": c["population"],
            }
        mentions.append(entry)
    return {"aliases": {}, "pins": rules["pins"], "deny": rules["deny"], "mentions": mentions}


def export_corrections(store: Store, out: str | Path) -> dict[str, int]:
    """Write the store's decisions to ``out`` atomically; returns how many of each part."""
    document = corrections_document(store)
    out = Path(out)
    try:
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as err:
        raise ConfigError(f"{out}: cannot write the corrections ({err.strerror or err})") from err
    return {part: len(document[part]) for part in ("pins", "deny", "mentions")}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: cannot read corrections ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with aliases, deny, pins and mentions")
    for part, kind in (("pins", dict), ("aliases", dict), ("deny", list), ("mentions", list)):
        if not isinstance(data.get(part, kind()), kind):
            raise ConfigError(
                f"{path}: '{part}' must be a JSON {kind.__name__.replace('dict', 'object')}"
            )
    return data


def _decision(row: dict[str, Any]) -> tuple:
    """What a correction decides, whoever made it and when (to skip what is decided)."""
    return (
        row["scope"],
        row.get("name_key") or name_key(row.get("name") or ""),
        row.get("article_id") if row["scope"] != "everywhere" else None,
        row.get("start") if row["scope"] == "mention" else None,
        row.get("end") if row["scope"] == "mention" else None,
        row["action"],
        row.get("geonameid"),
    )


def import_corrections(store: Store, path: str | Path, lookup: Lookup) -> dict[str, int]:
    """Store the decisions of a corrections file (pins and deny become everywhere-rules);
    returns how many were added, already there, and aliases left to the seed file.

    :raise ConfigError: the file cannot be read, or names a GeoNames id ``lookup`` lacks.
    """
    path = Path(path)
    data = _read(path)
    rows: list[dict[str, Any]] = []
    for name, geonameid in dict(data.get("pins") or {}).items():
        try:
            gid = int(geonameid)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{path}: pin {name!r} needs an integer GeoNames id") from err
        place = lookup(gid)
        if place is None:
            raise ConfigError(f"{path}: pin {name!r}: GeoNames id {gid} is not in the gazetteer")
        rows.append(
            {"scope": "everywhere", "action": "place", "name": str(name), **_columns(place)}
        )
    for name in data.get("deny") or []:
        rows.append({"scope": "everywhere", "action": "not_a_place", "name": str(name)})
    for index, entry in enumerate(data.get("mentions") or []):
        rows.append(_mention_row(path, index, entry, lookup))
    decided = {_decision(r) for r in store.corrections(include_undone=False)}
    fresh, seen = [], set()
    for row in rows:
        row["name_key"] = name_key(row["name"] or "")
        key = _decision(row)
        if key not in decided and key not in seen:
            seen.add(key)
            fresh.append(row)
    added = store.restore_corrections(fresh) if fresh else 0
    return {
        "added": added,
        "already": len(rows) - len(fresh),
        "aliases": len(data.get("aliases") or {}),
    }


def _columns(place: dict[str, Any]) -> dict[str, Any]:
    """A place (a lookup's or a file's) as a correction's new-place columns."""
    return {
        "geonameid": int(place["geonameid"]),
        "place_name": place.get("name"),
        "lat": float(place["lat"]),
        "lon": float(place["lon"]),
        "country_code": place.get("country_code"),
        "admin1_name": place.get("admin1"),
        "feature_class": place.get("feature_class"),
        "feature_code": place.get("feature_code"),
        "population": place.get("population"),
    }


def _mention_row(path: Path, index: int, entry: Any, lookup: Lookup) -> dict[str, Any]:
    """One entry of ``mentions`` as a correction row (checked)."""
    where = f"{path}: mentions[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    scope, action = entry.get("scope", "mention"), entry.get("action")
    if scope not in SCOPES[:2] or action not in ("place", "not_a_place", "accept"):
        raise ConfigError(
            f"{where}: scope must be mention or story and action place, not_a_place or accept"
        )
    try:
        article_id, start, end = str(entry["article_id"]), int(entry["start"]), int(entry["end"])
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{where} needs article_id, start and end ({err})") from err
    row: dict[str, Any] = {
        "article_id": article_id,
        "start": start,
        "end": end,
        "name": str(entry.get("name") or ""),
        "scope": scope,
        "action": action,
        "editor": entry.get("editor"),
        "created": entry.get("created"),
    }
    if entry.get("geonameid") is not None:
        place = entry.get("place")
        if isinstance(place, dict) and all(place.get(k) is not None for k in ("lat", "lon")):
            place = {**{k: place.get(k) for k in _PLACE_KEYS}, **place}
        else:
            place = lookup(int(entry["geonameid"]))
        if place is None:
            raise ConfigError(f"{where}: GeoNames id {entry['geonameid']} is not in the gazetteer")
        row.update(_columns({**place, "geonameid": entry["geonameid"]}))
    elif action == "place":
        raise ConfigError(f"{where}: a 'place' decision needs a geonameid")
    return row
