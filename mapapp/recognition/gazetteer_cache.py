"""The gazetteer index pickled under the cache folder, so a run loads it in seconds.

The pickle is keyed by a fingerprint of its format and of every source's
version: a package upgrade or an edited table rebuilds it, and a broken file
is rebuilt instead of failing.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from mapapp.recognition.gazetteer import Gazetteer
from mapapp.recognition.gazetteer_sources import build_gazetteer, source_versions

INDEX_FORMAT = 6
CACHE_NAME = "gazetteer.pickle"


def _fingerprint(data_packages: Path) -> str:
    """The index format and the versions of every input, as one string."""
    return ";".join([f"format={INDEX_FORMAT}", *source_versions(data_packages)])


def load_gazetteer(data_packages: Path, cache_dir: Path | None) -> Gazetteer:
    """The gazetteer from the pickled cache, building (and caching) it when stale."""
    fingerprint = _fingerprint(data_packages)
    cache = Path(cache_dir) / CACHE_NAME if cache_dir else None
    if cache and cache.exists():
        try:
            with cache.open("rb") as handle:
                stored, gaz = pickle.load(handle)
            if stored == fingerprint:
                return gaz
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
            pass  # a stale or broken cache is rebuilt below
    gaz = build_gazetteer(data_packages)
    if cache:
        _write_cache(cache, (fingerprint, gaz))
    return gaz


def _write_cache(path: Path, payload: object) -> None:
    """Pickle beside the cache and rename, so a crash never leaves half a cache."""
    from mapapp.files import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, kind="gazetteer") as tmp, tmp.open("wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
