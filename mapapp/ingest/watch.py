"""``mapapp watch``: folders and feeds polled on a schedule, only what is new geoparsed.

* A folder (or file) source: each story file's signature (size, mtime) is kept in the
  state file (`state`); a poll reads only the files that are new or changed.
* A URL source: a conditional GET (ETag / Last-Modified); an answer that changed is read,
  and entries the store already has are skipped without fetching their links.

The state is saved only after a poll's stories are in the store, atomically: stopped at
any moment, a watch leaves the store as its last transaction left it and the state old or
new; restarted, it reads again at most what it had not finished, and the store's ids keep
every story from being added twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mapapp.errors import ArticleParseError, ConfigError
from mapapp.ingest.fetch import Fetcher, is_url
from mapapp.ingest.state import SourceState, state_path
from mapapp.settings import Settings

Report = Callable[[str], None]


@dataclass(frozen=True)
class Poll:
    """What one poll did, for its one line of output."""

    number: int
    added: int
    places: int
    already_stored: int
    errors: int
    changed_files: int
    feeds_read: int
    feeds_unchanged: int

    def line(self) -> str:
        """``poll 3 at 12:00:05: 2 new articles, ...`` (one line per poll)."""
        at = datetime.now().strftime("%H:%M:%S")
        return (
            f"poll {self.number} at {at}: {self.added} new articles, {self.places} places "
            f"resolved, {self.already_stored} already stored, {self.errors} errors "
            f"({self.changed_files} new or changed files, {self.feeds_read} feeds changed, "
            f"{self.feeds_unchanged} not modified)"
        )


def check_sources(sources: Sequence[str]) -> list[str | Path]:
    """URLs as they are, the rest as paths that must exist.

    :raise ConfigError: a path that does not exist (a typo would be watched forever).
    """
    checked: list[str | Path] = []
    for source in sources:
        if is_url(source):
            checked.append(source)
        elif not Path(source).exists():
            raise ConfigError(f"{source}: no such file or folder to watch")
        else:
            checked.append(Path(source))
    return checked


def signature(path: Path) -> list[float] | None:
    """A file's (size, mtime in ns) as kept in the state, or None if it is gone."""
    try:
        info = path.stat()
    except OSError:
        return None
    return [float(info.st_size), float(info.st_mtime_ns)]


class Watcher:
    """Polls ``sources`` into the store of ``settings``; one `poll` per interval."""

    def __init__(
        self,
        sources: Sequence[str | Path],
        settings: Settings,
        *,
        report: Report,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.sources = list(sources)
        self.settings = settings
        self.report = report
        self.fetcher = fetcher or Fetcher(settings)
        self.state = SourceState.load(state_path(settings))
        self.geoparser: Any = None
        self.polls = 0

    def _changed_files(self) -> Iterator[Path | ArticleParseError]:
        """The story files under the path sources that are new or changed since last read."""
        from mapapp.articles import ALL_SUFFIXES
        from mapapp.articles.files import expand

        paths = [s for s in self.sources if not is_url(s)]
        for item in expand(paths, ALL_SUFFIXES):
            if isinstance(item, ArticleParseError):
                if self.polls == 1:  # a file mapapp does not read: said once, not every poll
                    self.report(f"skipped: {item}")
                continue
            if self.state.files.get(str(item)) != signature(item):
                yield item

    def poll(self) -> Poll:
        """One pass: read what changed, geoparse it into the store, then save the state."""
        from mapapp.geoparsing import load_geoparser
        from mapapp.ingest.pipeline import IngestSummary, ingest
        from mapapp.ingest.sources import keep_validators, resolve
        from mapapp.stores import open_store

        self.polls += 1
        files = list(self._changed_files())
        before = {str(f): signature(f) for f in files if isinstance(f, Path)}
        urls = [s for s in self.sources if is_url(s)]
        known = open_store(self.settings.store).known_ids() if urls else set()
        resolved = resolve(
            [*files, *urls],
            self.fetcher,
            known=known,
            validators={url: self.state.validators(url) for url in urls},
        )
        summary = IngestSummary()
        if resolved.inputs:
            if self.geoparser is None:
                self.geoparser = load_geoparser(self.settings, self.report)
            summary = ingest(
                resolved.inputs, self.settings, report=self.report, geoparser=self.geoparser
            )
        for name, seen in before.items():  # the signature read before the file was
            if seen is not None:
                self.state.files[name] = seen
        keep_validators(self.state, resolved.urls)
        if files:
            self.state.save()
        return Poll(
            number=self.polls,
            added=summary.articles,
            places=summary.places,
            already_stored=summary.already_stored + sum(read.known for read in resolved.urls),
            errors=len(summary.errors),
            changed_files=len(files),
            feeds_read=sum(1 for r in resolved.urls if r.feed and not r.not_modified),
            feeds_unchanged=sum(1 for r in resolved.urls if r.not_modified),
        )

    def run(
        self,
        every: float,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
        on_poll: Report | None = None,
    ) -> int:
        """Poll until ``stop`` is set (or once); each poll's line goes to ``on_poll``.

        Polls start ``every`` seconds apart (a poll that ran long is followed at once by
        the next).  Returns the number of polls made.
        """
        stop = stop or threading.Event()
        show = on_poll or self.report
        while True:
            started = time.monotonic()
            show(self.poll().line())
            if once or stop.wait(max(0.0, every - (time.monotonic() - started))):
                return self.polls
