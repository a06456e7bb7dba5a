"""Editorial corrections a desk applies on every ingest.

A JSON file (setting ``CORRECTIONS``) with three optional parts::

    {"aliases": {"Big Apple": 5128581},     # extra names, by GeoNames id
     "deny": ["Mobile", "Reading"],         # never a place in our corpus
     "pins": {"Georgia": 4197000}}          # in our corpus this name means that entry

Fix a recurring error once, here, instead of in every story.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mapapp.errors import ConfigError
from mapapp.recognition.gazetteer import name_key


@dataclass(frozen=True)
class Corrections:
    """Aliases and pins map a folded name to a GeoNames id; deny holds folded names."""

    aliases: Mapping[str, int] = field(default_factory=dict)
    deny: frozenset[str] = frozenset()
    pins: Mapping[str, int] = field(default_factory=dict)
    alias_names: tuple[str, ...] = ()


def _ids(path: Path, part: str, value: object) -> tuple[dict[str, int], tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: '{part}' must be an object of name -> GeoNames id")
    out: dict[str, int] = {}
    for name, geonameid in value.items():
        try:
            out[name_key(str(name))] = int(geonameid)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"{path}: '{part}' entry {name!r} needs an integer GeoNames id"
            ) from err
    return out, tuple(str(n) for n in value)


def load_corrections(path: str | Path | None) -> Corrections:
    """Read a corrections file; no path means no corrections."""
    if not path:
        return Corrections()
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: cannot read corrections ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with aliases, deny and pins")
    aliases, alias_names = _ids(path, "aliases", data.get("aliases", {}))
    pins, _ = _ids(path, "pins", data.get("pins", {}))
    deny = data.get("deny", [])
    if not isinstance(deny, list):
        raise ConfigError(f"{path}: 'deny' must be a list of names")
    return Corrections(
        aliases=aliases,
        deny=frozenset(name_key(str(n)) for n in deny),
        pins=pins,
        alias_names=alias_names,
    )
