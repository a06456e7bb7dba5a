"""What the sources of a store looked like when last read: feed validators (ETag,
Last-Modified) and the signature (size, mtime) of every file read from a watched folder.

One small JSON file per store under the cache folder, replaced atomically, so a run
stopped at any moment leaves either the old state or the new one.  Losing it costs
only re-reading: the store's own ids still keep every story from being added twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from mapapp.files import atomic_path
from mapapp.ingest.fetch import Validators
from mapapp.settings import Settings

VERSION = 1


def state_path(settings: Settings) -> Path:
    """The state file of ``settings.store``: ``<cache>/sources/<hash of the store>.json``."""
    key = hashlib.sha256(str(settings.store).encode()).hexdigest()[:16]
    return settings.cache_folder / "sources" / f"{key}.json"


@dataclass
class SourceState:
    """Feed validators by URL and file signatures by path (mutable while a poll runs)."""

    path: Path
    feeds: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SourceState:
        """The state saved at ``path``; an empty one if it is missing or unreadable."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            return cls(path)
        feeds = raw.get("feeds") if isinstance(raw.get("feeds"), dict) else {}
        files = raw.get("files") if isinstance(raw.get("files"), dict) else {}
        return cls(path, dict(feeds), dict(files))

    def validators(self, url: str) -> Validators:
        """The validators last seen for the feed at ``url``."""
        kept = self.feeds.get(url) or {}
        return Validators(kept.get("etag"), kept.get("last_modified"))

    def remember(self, url: str, validators: Validators) -> None:
        """Keep the validators of the feed at ``url`` (saved by `save`)."""
        self.feeds[url] = {
            k: v
            for k, v in (("etag", validators.etag), ("last_modified", validators.last_modified))
            if v
        }

    def save(self) -> None:
        """Write the state beside nothing else, atomically (old or new, never half)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": VERSION, "feeds": self.feeds, "files": self.files}
        with atomic_path(self.path, kind="state") as tmp:
            tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
