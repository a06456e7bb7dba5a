"""Gold corpora: the records, the JSON Lines reader, and the documented fit split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mapapp.errors import ArticleParseError

Span = tuple[int, int]
LITERAL_TYPES = frozenset({"Literal", "Literal_Modifier", "Embedded_Literal"})
FIT_CORPORA = ("lgl", "geowebnews")


@dataclass(frozen=True)
class GoldToponym:
    """One gold place mention: offsets into the text and its true location."""

    start: int
    end: int
    name: str
    lat: float
    lon: float
    geonameid: int | None = None
    type: str | None = None  # GeoWebNews taxonomy label; never shown to the system

    @property
    def span(self) -> Span:
        """(start, end) of the mention."""
        return (self.start, self.end)


@dataclass(frozen=True)
class GoldArticle:
    """One corpus article with its gold toponyms and spans to leave unscored."""

    id: str
    text: str
    toponyms: tuple[GoldToponym, ...]
    ignore_spans: tuple[tuple[int, int, str], ...] = ()
    corpus: str = ""

    @property
    def spans(self) -> tuple[Span, ...]:
        """Gold (start, end) spans, in text order."""
        return tuple(t.span for t in self.toponyms)


def _parse_toponym(raw: Mapping[str, Any]) -> GoldToponym:
    """Build a GoldToponym from one JSON object, dropping gold-only hints."""
    geonameid = raw.get("geonameid")
    return GoldToponym(
        start=int(raw["start"]),
        end=int(raw["end"]),
        name=str(raw["name"]),
        lat=float(raw["lat"]),
        lon=float(raw["lon"]),
        geonameid=None if geonameid is None else int(geonameid),
        type=raw.get("type"),
    )


def _parse_article(raw: Mapping[str, Any]) -> GoldArticle:
    """Build a GoldArticle from one decoded JSON Lines record."""
    toponyms = tuple(sorted((_parse_toponym(t) for t in raw["toponyms"]), key=lambda t: t.span))
    ignore = tuple((int(s), int(e), str(n)) for s, e, n in raw.get("ignore_spans") or ())
    return GoldArticle(
        id=str(raw["id"]),
        text=str(raw["text"]),
        toponyms=toponyms,
        ignore_spans=ignore,
        corpus=str(raw.get("corpus", "")),
    )


def load_corpus(path: Path, limit: int | None = None) -> list[GoldArticle]:
    """Read a JSON Lines gold corpus, optionally only its first ``limit`` articles."""
    articles: list[GoldArticle] = []
    with Path(path).open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, start=1):
            if limit is not None and len(articles) >= limit:
                break
            if not line.strip():
                continue
            try:
                articles.append(_parse_article(json.loads(line)))
            except (ValueError, KeyError, TypeError) as err:
                raise ArticleParseError(
                    f"{path}:{lineno}: not a gold article record ({err!r}); "
                    "expected id, text and toponyms with start/end/name/lat/lon"
                ) from err
    return articles


def literal_only(article: GoldArticle) -> GoldArticle:
    """Keep literal gold toponyms; non-literal ones become ignore spans."""
    literal = [t.type is None or t.type in LITERAL_TYPES for t in article.toponyms]
    keep = tuple(t for t, ok in zip(article.toponyms, literal, strict=False) if ok)
    moved = tuple(
        (t.start, t.end, t.name) for t, ok in zip(article.toponyms, literal, strict=False) if not ok
    )
    return replace(article, toponyms=keep, ignore_spans=tuple(sorted(article.ignore_spans + moved)))


def in_fit_split(article_id: str) -> bool:
    """The documented split for fitted weights: sha1(id) starting with an even hex digit."""
    return int(hashlib.sha1(article_id.encode()).hexdigest()[0], 16) % 2 == 0
