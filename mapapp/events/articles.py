"""Events of geoparsed articles, at ingest: one spaCy parse serves places and events.

`ArticleEvents` gives the geoparser's recogniser the full spaCy pipeline (tags
and lemmas too: the entities are the same, the named-entity component does
not read them) wrapped in `KeptDocs`, which keeps each parse it makes.  After
``geoparser.parse_articles(batch)`` the batch's parses are still there, so the
events are read from the same documents, with the article's resolved map
places as candidates, without parsing or geoparsing anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mapapp.events.extract import (
    EventExtractor,
    as_written,
    candidate,
    is_candidate,
    with_entities,
)
from mapapp.geoparsing import resolution_dict
from mapapp.records import Article, Event, Resolution

if TYPE_CHECKING:
    from mapapp.geoparsing import Geoparser

Parsed = list[tuple[Article, list[Resolution]]]


class KeptDocs:
    """A spaCy pipeline that keeps the documents it yields (the last ``pipe`` call's)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self.kept: list[Any] = []

    def pipe(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[Any]:
        """Parse like the wrapped pipeline, keeping each document."""
        self.kept = []
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            self.kept.append(doc)
            yield doc

    def take(self, texts: Sequence[str]) -> list[Any] | None:
        """The kept parses of exactly ``texts`` (then forgotten), or None if they are not those."""
        docs, self.kept = self.kept, []
        if len(docs) != len(texts) or any(
            d.text.lower() != t.lower() for d, t in zip(docs, texts, strict=True)
        ):
            return None  # not these texts, even as the recogniser's case-restored copies
        return [as_written(d, t) for d, t in zip(docs, texts, strict=True)]


class ArticleEvents:
    """Geoparse articles and read their events from the same parses; build once per process."""

    def __init__(self, geoparser: Geoparser, extractor: EventExtractor) -> None:
        self.geoparser = geoparser
        self.extractor = extractor
        self.docs = KeptDocs(extractor.nlp)
        geoparser.recognizer.nlp = self.docs  # the recogniser now parses with the full pipeline

    @classmethod
    def from_geoparser(cls, geoparser: Geoparser, model_name: str) -> ArticleEvents | None:
        """Events beside ``geoparser``; None when it has no spaCy model (events need a parse)."""
        if not geoparser.has_model:
            return None
        try:
            extractor = EventExtractor.from_geoparser(geoparser, model_name)
        except (ImportError, OSError):
            return None
        return cls(geoparser, extractor)

    def parse_articles(self, articles: Sequence[Article]) -> tuple[Parsed, list[list[Event]]]:
        """Every article with its resolutions (as `Geoparser.parse_articles`) and its events."""
        parsed = self.geoparser.parse_articles(articles)
        texts = [a.text for a in articles]
        docs = self.docs.take(texts)
        if docs is None:  # something else parsed in between: parse again
            docs = self.extractor.parse_many(texts)
        return parsed, [
            self.events_of(article, resolutions, doc)
            for (article, resolutions), doc in zip(parsed, docs, strict=True)
        ]

    def events_of(self, article: Article, resolutions: list[Resolution], doc: Any) -> list[Event]:
        """The events of one parsed article, its map places as the candidates."""
        found = (resolution_dict(r) for r in resolutions)
        places = [candidate(t) for t in found if is_candidate(t)]
        return self.extractor.events_of(doc, with_entities(doc, places), article.published, None)
