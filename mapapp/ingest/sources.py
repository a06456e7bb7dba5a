"""Stories read from URLs: a feed (each entry's link fetched when the feed has only a
teaser) or one document (a page, ninjs, NewsML-G2, .docx, .pdf), sniffed from the answer.

Nothing is written here: the caller ingests the articles, and only then keeps the feed's
new validators (`state`), so a run stopped half-way fetches the feed again next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapapp.errors import ArticleParseError
from mapapp.ingest.fetch import Fetcher, Response, Validators, is_url
from mapapp.records import Article
from mapapp.settings import Settings

if TYPE_CHECKING:
    from mapapp.ingest.pipeline import IngestSummary

Item = Article | ArticleParseError


@dataclass(frozen=True)
class UrlRead:
    """What one URL gave: its stories and errors, whether it was a feed, and its validators.

    ``known`` counts feed entries skipped because the store has them (their links are not
    fetched); ``not_modified`` is a 304 answer to a conditional GET.
    """

    url: str
    items: tuple[Item, ...] = ()
    feed: bool = False
    validators: Validators | None = None
    not_modified: bool = False
    known: int = 0


def read_url(
    url: str, fetcher: Fetcher, *, known: set[str], validators: Validators | None = None
) -> UrlRead:
    """Fetch ``url`` (conditionally, with ``validators``) and read its stories.

    A feed entry whose id ``known`` holds is not fetched; every failure is an
    ArticleParseError item, never raised.
    """
    from mapapp.articles import read_document
    from mapapp.articles.sniff import kind_of
    from mapapp.articles.sourced import identified_id

    if identified_id(url) in known:  # a page stored from this URL: not fetched again
        return UrlRead(url, known=1)
    try:
        response = fetcher.get(url, validators)
    except ArticleParseError as err:
        return UrlRead(url, (err,))
    if response.not_modified:
        return UrlRead(url, feed=True, validators=response.validators, not_modified=True)
    kind = kind_of(response.body, response.content_type)
    if kind != "feed":
        items = tuple(
            read_document(
                response.body, where=url, kind=kind, content_type=response.content_type, url=url
            )
        )
        return UrlRead(url, items)
    return _read_feed(url, response, fetcher, known)


def _read_feed(url: str, response: Response, fetcher: Fetcher, known: set[str]) -> UrlRead:
    """The stories of a fetched feed; links of entries without full text are followed."""
    from mapapp.articles.feeds import entry_article, parse_feed
    from mapapp.articles.sourced import identified_id
    from mapapp.articles.webpages import parse_page

    try:
        entries = parse_feed(
            response.body, where=url, base=response.url, content_type=response.content_type
        )
    except ArticleParseError as err:
        return UrlRead(url, (err,), feed=True)
    items: list[Item] = []
    skipped = 0
    for entry in entries:
        where = f"{url} entry {entry.link or entry.identifier}"
        if identified_id(entry.identifier) in known:
            skipped += 1
            continue
        try:
            if entry.text is not None:
                items.append(entry_article(entry, where=where))
                continue
            if not is_url(entry.link):
                raise ArticleParseError(f"{where}: only a teaser, and no http(s) link to follow")
            page = fetcher.get(entry.link)  # type: ignore[arg-type]
            story = parse_page(page.body, url=entry.link, identifier=entry.identifier)  # type: ignore[arg-type]
            items.append(entry_article(entry, where=where, text=story.text, fallback=story))
        except ArticleParseError as err:
            items.append(err)
    return UrlRead(url, tuple(items), feed=True, validators=response.validators, known=skipped)


@dataclass
class Resolved:
    """Command-line sources made ready for `pipeline.ingest`: paths, articles and errors,
    in the order given, and what each URL gave."""

    inputs: list[Path | Item] = field(default_factory=list)
    urls: list[UrlRead] = field(default_factory=list)


def resolve(
    sources: Sequence[str | Path],
    fetcher: Fetcher,
    *,
    known: set[str],
    validators: dict[str, Validators] | None = None,
) -> Resolved:
    """Read every URL among ``sources``; paths are kept for the ingest to read."""
    resolved = Resolved()
    for source in sources:
        if is_url(source):
            read = read_url(
                str(source), fetcher, known=known, validators=(validators or {}).get(str(source))
            )
            resolved.urls.append(read)
            resolved.inputs.extend(read.items)
        else:
            resolved.inputs.append(Path(source))
    return resolved


def ingest_sources(
    sources: Sequence[str | Path],
    settings: Settings,
    *,
    fetcher: Fetcher | None = None,
    **ingest_options: Any,
) -> tuple[IngestSummary, Resolved]:
    """`pipeline.ingest` for files, folders and URLs mixed: the URLs are read first (a feed
    with a conditional GET), and a feed's new validators are kept once its stories are in
    the store, and only if every entry was read (a failed one is tried again next time)."""
    from mapapp.ingest import pipeline
    from mapapp.ingest.state import SourceState, state_path
    from mapapp.stores import open_store

    urls = [str(s) for s in sources if is_url(s)]
    state = SourceState.load(state_path(settings)) if urls else None
    known = open_store(settings.store).known_ids() if urls else set()
    resolved = resolve(
        sources,
        fetcher or Fetcher(settings),
        known=known,
        validators={url: state.validators(url) for url in urls} if state else None,
    )
    summary = pipeline.ingest(resolved.inputs, settings, **ingest_options)
    if state is not None:
        keep_validators(state, resolved.urls)
    known_entries = sum(read.known for read in resolved.urls)  # skipped before any fetch
    return replace(summary, already_stored=summary.already_stored + known_entries), resolved


def keep_validators(state: Any, reads: Sequence[UrlRead]) -> None:
    """Save the validators of each feed read whole (no entry failed), atomically."""
    changed = False
    for read in reads:
        clean = not any(isinstance(item, ArticleParseError) for item in read.items)
        if read.feed and read.validators is not None and clean and not read.not_modified:
            state.remember(read.url, read.validators)
            changed = True
    if changed:
        state.save()
