"""The geoparser: recognition then in-context resolution, for articles or raw texts.

`Geoparser` wires the stages together once (model, gazetteer index, resolver)
and is what ingest, ``mapapp geoparse`` and the evaluation harness all call,
so every figure measures the code that users run.  The request lines of
``mapapp geoparse`` (JSON objects ``{"id", "text"[, "spans"]}``) are read,
checked and answered here too, so the command only wires stdin to stdout.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from mapapp.recognition.corrections import Corrections, load_corrections
from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.recognition.gazetteer_cache import load_gazetteer
from mapapp.recognition.sentences import sentence_at
from mapapp.recognition.toponyms import NerModel, Recognizer, load_ner
from mapapp.records import CONSIDERED, MAP_ROLES, Article, Resolution, Toponym
from mapapp.resolution.features import COUNTRY_CODES
from mapapp.resolution.resolver import Resolver, drop_unconfirmed
from mapapp.settings import Settings

Span = tuple[int, int]
# A second opinion on an article's resolutions (e.g. the online fallback, OnlineFallback)
Fallback = Callable[[Article, list[Resolution]], list[Resolution]]
REQUEST_BATCH = 64  # geoparse request lines answered together


class Geoparser:
    """Recognise and resolve the places of texts; build once, use many times."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        nlp: NerModel | None,
        corrections: Corrections | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.fallback = fallback  # re-asks what the gazetteer could not place (articles only)
        self.corrections = corrections or Corrections()
        self.recognizer = Recognizer(gazetteer, nlp, deny=(), aliases=self.corrections.alias_names)
        self.recognizer.deny = set(self.corrections.deny)
        self.resolver = Resolver(gazetteer, corrections=self.corrections)

    @classmethod
    def from_settings(cls, config: Settings, fallback: Fallback | None = None) -> Geoparser:
        """Load the model, the cached gazetteer index and corrections named by ``config``."""
        with _collector_paused():  # millions of objects that live as long as the process
            gazetteer = load_gazetteer(Path(config.data_packages), config.cache_folder)
        return cls(
            gazetteer,
            load_ner(config.ner_model),
            load_corrections(config.corrections),
            fallback=fallback,
        )

    @property
    def has_model(self) -> bool:
        return self.recognizer.nlp is not None

    # -- articles ---------------------------------------------------------
    def parse_articles(
        self, articles: Sequence[Article], batch_size: int = 32
    ) -> list[tuple[Article, list[Resolution]]]:
        """Every article with one resolution per recognised place, focus marked."""
        found = self.recognizer.recognize_articles(articles, batch_size)
        return [
            (a, mark_focus(self._resolve_article(a, t)))
            for a, t in zip(articles, found, strict=False)
        ]

    def _resolve_article(self, article: Article, toponyms: list[Toponym]) -> list[Resolution]:
        """The gazetteer's confirmed resolutions, then the fallback's second opinion if any.

        Unconfirmed guesses are dropped first, so no online request is spent on them.
        """
        resolved = self._resolve_found(toponyms)
        return resolved if self.fallback is None else self.fallback(article, resolved)

    def _resolve_found(self, toponyms: list[Toponym]) -> list[Resolution]:
        """Resolve what recognition found; the names it set aside come back unplaced, with why."""
        considered = [t for t in toponyms if t.role == CONSIDERED]
        if not considered:
            return drop_unconfirmed(self.resolver.resolve(toponyms))
        taken = [t for t in toponyms if t.role != CONSIDERED]
        # one sense per discourse: a name the story names as a place elsewhere is that place
        named = {name_key(t.name) for t in taken if t.role in MAP_ROLES}
        taken += [replace(t, role="mention") for t in considered if name_key(t.name) in named]
        considered = [t for t in considered if name_key(t.name) not in named]
        # a whole name the model labelled a person or organisation is tried as a place too:
        # it is kept only where it agrees with the story's own places (see vouched_for)
        labelled = [replace(t, role="mention") for t in considered if t.source == "label"]
        resolved = drop_unconfirmed(self.resolver.resolve(sorted([*taken, *labelled], key=_start)))
        vouched = vouched_for(resolved)
        out = [
            r
            for r in resolved
            if r.toponym.source != "label" or (r.toponym.start, r.toponym.end) in vouched
        ]
        kept = {(r.toponym.start, r.toponym.end) for r in out}
        aside = [
            Resolution(t, None, 0.0, t.note or "set aside by recognition")
            for t in considered
            if (t.start, t.end) not in kept
        ]
        return sorted([*out, *aside], key=lambda r: r.toponym.start)

    # -- raw texts (the `mapapp geoparse` / evaluation interface) ------------
    def geoparse_many(
        self, items: Sequence[tuple[str, Sequence[Span] | None]], batch_size: int = 32
    ) -> list[list[dict]]:
        """For each (text, spans) the toponyms as dicts.

        With spans given, exactly those are resolved and returned; the places
        recognised elsewhere in the text still serve as their context.
        """
        recognised = self.recognizer.recognize_many([text for text, _ in items], batch_size)
        out = []
        for (text, spans), found in zip(items, recognised, strict=False):
            if spans is None:
                resolved = self._resolve_found(found)
                out.append([resolution_dict(r) for r in mark_focus(resolved)])
                continue
            given = given_toponyms(text, spans, self.recognizer)
            context = [
                t
                for t in found
                if t.role != CONSIDERED
                and not any(t.start < g.end and g.start < t.end for g in given)
            ]
            resolved = self.resolver.resolve(given + context)[: len(given)]
            out.append([resolution_dict(r) for r in mark_focus(resolved)])
        return out


def load_geoparser(
    config: Settings, report: Callable[[str], None], fallback: Fallback | None = None
) -> Geoparser:
    """`Geoparser.from_settings`, telling ``report`` when the spaCy model is missing."""
    geoparser = Geoparser.from_settings(config, fallback=fallback)
    if not geoparser.has_model:
        report(
            f"note: spaCy model {config.ner_model!r} not available; "
            "recognising places with the gazetteer alone"
        )
    return geoparser


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (loading the index is 20% faster)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def given_toponyms(text: str, spans: Sequence[Span], recognizer: Recognizer) -> list[Toponym]:
    """Toponyms for caller-given spans (gold-spans setting), roles guessed from the text."""
    out = []
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if not 0 <= start < end <= len(text):
            raise ValueError(f"span [{start}, {end}] is outside the text (length {len(text)})")
        name = text[start:end]
        role = (
            "demonym"
            if name in recognizer.gazetteer.demonyms
            or _demonym_key(name) in recognizer.gazetteer.demonyms
            else "mention"
        )
        qualifier = recognizer.qualifier_after(text, end, head=name) if role == "mention" else ""
        out.append(
            Toponym(
                name=name,
                start=start,
                end=end,
                role=role,
                qualifier=qualifier,
                sentence=sentence_at(text, start, end),
                source="given",
            )
        )
    return out


def _demonym_key(name: str) -> str:
    from mapapp.recognition.gazetteer import name_key

    return name_key(name)


def mark_focus(resolutions: list[Resolution]) -> list[Resolution]:
    """Role ``focus`` for mentions of the article's most-mentioned resolved place."""
    counts: Counter[int] = Counter()
    for r in resolutions:
        if r.place is not None and r.place.geonameid and r.toponym.role in ("mention", "dateline"):
            if r.place.feature_code not in COUNTRY_CODES:
                counts[r.place.geonameid] += 2 if r.toponym.role == "dateline" else 1
    if not counts:
        return resolutions
    focus, n = counts.most_common(1)[0]
    if n < 2:
        return resolutions
    return [
        replace(r, toponym=replace(r.toponym, role="focus"))
        if r.toponym.role == "mention" and r.place is not None and r.place.geonameid == focus
        else r
        for r in resolutions
    ]


def _start(toponym: Toponym) -> int:
    return toponym.start


VOUCHING_SOURCES = ("ner", "dateline")
LABELLED_MIN_POPULATION = 5000  # a town smaller than this is not worth overruling the model


def vouched_for(resolutions: Sequence[Resolution]) -> set[tuple[int, int]]:
    """Spans of model-labelled names ("Bicester": ORG) that the story's own places vouch for.

    The resolved place must lie in a country that a place the model itself
    called a place (or the dateline) lies in, and be a town of some size or
    an admin unit.
    """
    countries = {
        r.place.country_code
        for r in resolutions
        if r.place is not None and r.toponym.source in VOUCHING_SOURCES
    }
    spans = set()
    for r in resolutions:
        place, top = r.place, r.toponym
        if top.source != "label" or place is None or place.country_code not in countries:
            continue
        if place.feature_class == "P" and place.population < LABELLED_MIN_POPULATION:
            continue
        spans.add((top.start, top.end))
    return spans


def resolution_dict(r: Resolution) -> dict:
    """The stable JSON shape of one resolved (or unresolved) toponym."""
    p = r.place
    return {
        "start": r.toponym.start,
        "end": r.toponym.end,
        "name": r.toponym.name,
        "role": r.toponym.role,
        "lat": p.latitude if p else None,
        "lon": p.longitude if p else None,
        "geonameid": p.geonameid if p else None,
        "resolved_name": p.name if p else None,
        "country_code": p.country_code if p else None,
        "admin1": p.admin1_name if p else None,
        "feature_code": p.feature_code if p else None,
        "score": round(r.score, 4),
        "reason": r.reason,
    }


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- geoparse request lines ------------------------------------------------------


@dataclass(frozen=True)
class BadLine:
    """A geoparse input line that cannot be answered, and the id it carried if any."""

    message: str
    id: Any = None


def read_requests(stream: TextIO | BinaryIO) -> Iterator[tuple[int, dict | BadLine]]:
    """(line number, request dict or BadLine) for each non-blank line (blank lines are skipped).

    Lines may come as bytes: each is decoded on its own, so one line that is
    not UTF-8 gets its own error and the others are still answered.
    """
    from mapapp.articles import MAX_ARTICLE_CHARS

    for number, line in enumerate(stream, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                yield number, BadLine(f"line {number}: not valid UTF-8 (byte {err.start})")
                continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as err:
            reason = getattr(err, "msg", "nested too deeply")
            yield number, BadLine(f"line {number}: not valid JSON ({reason})")
            continue
        ident = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield number, BadLine(f"line {number}: expected an object with a string 'text'", ident)
            continue
        if len(obj["text"]) > MAX_ARTICLE_CHARS:
            yield (
                number,
                BadLine(
                    f"line {number}: 'text' is {len(obj['text']):,} characters "
                    f"long; at most {MAX_ARTICLE_CHARS:,} are taken",
                    ident,
                ),
            )
            continue
        spans = obj.get("spans")
        if spans is not None and not _valid_spans(spans, len(obj["text"])):
            yield (
                number,
                BadLine(
                    f"line {number}: 'spans' must be [[start, end], ...] inside the text", ident
                ),
            )
            continue
        yield number, obj


def _valid_spans(spans: Any, length: int) -> bool:
    return isinstance(spans, list) and all(
        isinstance(s, (list, tuple))
        and len(s) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
        and 0 <= s[0] < s[1] <= length
        for s in spans
    )


def answer_requests(geoparser: Geoparser, stream: TextIO | BinaryIO) -> Iterator[dict]:
    """One answer per request line, in order: ``{"id", "toponyms"}``, or for a line that
    cannot be answered ``{"id", "line", "error"}`` (the others are answered all the same)."""
    for chunk in batches(read_requests(stream), REQUEST_BATCH):
        good = [obj for _, obj in chunk if isinstance(obj, dict)]
        results = iter(geoparser.geoparse_many([(o["text"], o.get("spans")) for o in good]))
        for number, obj in chunk:
            if isinstance(obj, BadLine):
                yield {"id": obj.id, "line": number, "error": obj.message}
            else:
                yield {"id": obj.get("id"), "toponyms": next(results)}
