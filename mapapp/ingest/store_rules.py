"""The store's everywhere-rules, merged into the geoparser's corrections for an ingest.

An editor's correction of scope *everywhere* ("Georgia means the US state",
"Reading is not a place") lives in the store's ``corrections`` table; the
geoparser reads corrections from the ``CORRECTIONS`` JSON file.  For every
ingest and reprocess, `store_rules` writes the seed file's content with the
store's active rules on top (the newest decision about a name wins) to a
scratch file for the run, so the in-process geoparser and every worker
process load the same rules.  The seed file is never written.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mapapp.errors import ConfigError
from mapapp.settings import Settings
from mapapp.stores import open_store
from mapapp.stores.corrections import rules_as_seed
from mapapp.text import name_key


def read_seed(path: str | Path | None) -> dict[str, Any]:
    """The JSON object of a ``CORRECTIONS`` file ({} without one)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: cannot read corrections ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with aliases, deny and pins")
    return data


def merged_seed(seed: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """``seed`` with the store's ``rules`` (pins and deny) on top, name by folded name."""
    decided = {name_key(n) for n in [*rules["pins"], *rules["deny"]]}
    pins = {
        n: g for n, g in dict(seed.get("pins") or {}).items() if name_key(str(n)) not in decided
    }
    deny = [n for n in list(seed.get("deny") or []) if name_key(str(n)) not in decided]
    return {
        **seed,
        "pins": {**pins, **rules["pins"]},
        "deny": [*deny, *rules["deny"]],
    }


@contextmanager
def store_rules(settings: Settings) -> Iterator[Settings]:
    """``settings`` whose ``CORRECTIONS`` also holds the store's everywhere-rules (a scratch
    file, for the length of the block); the same settings when the store has none."""
    store = open_store(settings.store)
    rules = None
    if store.exists():
        store.upgrade()  # as the ingest's writes would: an older store gets the corrections table
        rules = rules_as_seed(store.corrections(include_undone=False))
    if not rules or not (rules["pins"] or rules["deny"]):
        yield settings
        return
    merged = merged_seed(read_seed(settings.corrections), rules)
    with tempfile.TemporaryDirectory(prefix="mapapp-rules-") as folder:
        path = Path(folder) / "corrections.json"
        path.write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
        yield settings.replace(CORRECTIONS=str(path))
