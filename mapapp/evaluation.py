"""Scores a geoparser against gold-standard corpora (recognition and resolution).

Metric code is pure: it compares gold articles with predictions the caller
computed.  Running a system is a separate, thin step (``run_system``) so that a
geoparser can process whole batches of articles at once.  The system under test
only ever sees an article's text and, in the gold-spans setting, the gold
``(start, end)`` spans; names, ids and types stay on this side.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from mapapp.errors import ArticleParseError
from mapapp.geo import ACC_KM, haversine_km

Span = tuple[int, int]
Prediction = Mapping[str, Any]
SystemInput = tuple[str, tuple[Span, ...] | None]
ParseFn = Callable[[str, Sequence[Span] | None], list[dict]]
ParseManyFn = Callable[[list[SystemInput]], list[list[dict]]]

MAX_ERROR_KM = 20039.0
ACCURACY_KM = ACC_KM
END_TO_END = "end_to_end"
GOLD_SPANS = "gold_spans"
SETTINGS = (END_TO_END, GOLD_SPANS)
RECALL_ONLY_CORPORA = frozenset({"wiktor"})
LITERAL_TYPES = frozenset({"Literal", "Literal_Modifier", "Embedded_Literal"})


# --------------------------------------------------------------------- corpus


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


# --------------------------------------------------------------------- running


def system_inputs(articles: Sequence[GoldArticle], setting: str) -> list[SystemInput]:
    """What the system may see per article: text, plus gold spans if that setting."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; use one of {', '.join(SETTINGS)}")
    return [(a.text, a.spans if setting == GOLD_SPANS else None) for a in articles]


def batched(parse: ParseFn) -> ParseManyFn:
    """Turn a one-article parse function into the batched form."""

    def parse_many(inputs: list[SystemInput]) -> list[list[dict]]:
        """Parse each article on its own."""
        return [parse(text, spans) for text, spans in inputs]

    return parse_many


def run_system(
    parse_many: ParseManyFn,
    articles: Sequence[GoldArticle],
    setting: str,
    *,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[dict]]:
    """Run the system over all articles in batches; one prediction list per article."""
    inputs = system_inputs(articles, setting)
    predictions: list[list[dict]] = []
    for first in range(0, len(inputs), batch_size):
        batch = inputs[first : first + batch_size]
        results = parse_many(batch)
        if len(results) != len(batch):
            raise ValueError(f"system returned {len(results)} results for {len(batch)} articles")
        predictions.extend(results)
        if progress is not None:
            progress(len(predictions), len(inputs))
    return predictions


# ------------------------------------------------------------------- distances


def _point(prediction: Prediction | None) -> tuple[float, float] | None:
    """The predicted (lat, lon), or None when missing or unresolved."""
    if prediction is None:
        return None
    lat, lon = prediction.get("lat"), prediction.get("lon")
    if lat is None or lon is None or math.isnan(lat) or math.isnan(lon):
        return None
    return float(lat), float(lon)


def error_km(prediction: Prediction | None, gold: GoldToponym) -> float:
    """Distance from the predicted point to gold; the maximum when unresolved."""
    point = _point(prediction)
    if point is None:
        return MAX_ERROR_KM
    return haversine_km(point[0], point[1], gold.lat, gold.lon)


def auc_of_errors(errors: Sequence[float]) -> float | None:
    """Area under the sorted log-error curve (0 perfect, 1 all antipodal)."""
    if not errors:
        return None
    ys = [math.log(1 + e) / math.log(MAX_ERROR_KM) for e in sorted(errors)]
    if len(ys) == 1:
        return ys[0]
    return sum((ys[i] + ys[i + 1]) / 2 for i in range(len(ys) - 1)) / (len(ys) - 1)


# -------------------------------------------------------------------- matching


def _overlap(a: Span, b: Span) -> int:
    """Number of characters two half-open spans share."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _span(prediction: Prediction) -> Span:
    """A prediction's (start, end)."""
    return int(prediction["start"]), int(prediction["end"])


def match_exact(predicted: Sequence[Span], gold: Sequence[Span]) -> list[tuple[int, int]]:
    """One-to-one (pred index, gold index) pairs with identical spans."""
    free = {span: j for j, span in reversed(list(enumerate(gold)))}
    pairs = []
    for i, span in enumerate(predicted):
        j = free.pop(span, None)
        if j is not None:
            pairs.append((i, j))
    return pairs


def match_overlap(predicted: Sequence[Span], gold: Sequence[Span]) -> list[tuple[int, int]]:
    """One-to-one pairs sharing a character, largest overlap first.

    Ties go to the pair whose union is smallest (the closer fit), then to the
    earlier prediction and gold span.
    """
    candidates = sorted(
        (-_overlap(p, g), max(p[1], g[1]) - min(p[0], g[0]), i, j)
        for i, p in enumerate(predicted)
        for j, g in enumerate(gold)
        if _overlap(p, g) > 0
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, _, i, j in candidates:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j))
    return sorted(pairs)


# ----------------------------------------------------------------- recognition


@dataclass(frozen=True)
class RecognitionScores:
    """TP/FP/FN counts (ignored predictions counted apart) with P, R and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    ignored: int = 0

    @property
    def precision(self) -> float:
        """TP / predicted (0 when nothing counted was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """TP / gold (0 when there is no gold)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: RecognitionScores) -> RecognitionScores:
        """Sum the counts of two articles or corpora."""
        return RecognitionScores(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.ignored + other.ignored
        )

    def to_dict(self, with_precision: bool = True) -> dict[str, Any]:
        """Counts and rates as JSON-able data (P and F1 None when meaningless)."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "ignored": self.ignored,
            "precision": self.precision if with_precision else None,
            "recall": self.recall,
            "f1": self.f1 if with_precision else None,
        }


def score_recognition(
    article: GoldArticle,
    predictions: Sequence[Prediction],
    *,
    exact: bool = False,
    strict: bool = False,
) -> RecognitionScores:
    """Recognition counts for one article (exact or overlap; strict ignores nothing)."""
    predicted = [_span(p) for p in predictions]
    gold = list(article.spans)
    pairs = (match_exact if exact else match_overlap)(predicted, gold)
    matched = {i for i, _ in pairs}
    ignore = [(s, e) for s, e, _ in article.ignore_spans]
    ignored = 0
    if not strict:
        ignored = sum(
            1
            for i, p in enumerate(predicted)
            if i not in matched
            and any(_overlap(p, s) for s in ignore)
            and not any(_overlap(p, g) for g in gold)
        )
    return RecognitionScores(
        tp=len(pairs),
        fp=len(predicted) - len(pairs) - ignored,
        fn=len(gold) - len(pairs),
        ignored=ignored,
    )


@dataclass(frozen=True)
class RecognitionReport:
    """Recognition under both matching rules, with and without ignore spans."""

    overlap: RecognitionScores
    exact: RecognitionScores
    overlap_strict: RecognitionScores
    exact_strict: RecognitionScores

    def to_dict(self, with_precision: bool = True) -> dict[str, Any]:
        """The four variants as JSON-able data."""
        return {
            name: getattr(self, name).to_dict(with_precision)
            for name in ("overlap", "exact", "overlap_strict", "exact_strict")
        }


def summarize_recognition(
    articles: Sequence[GoldArticle], predictions: Sequence[Sequence[Prediction]]
) -> RecognitionReport:
    """Micro-averaged recognition over a corpus."""
    totals = {}
    for exact in (False, True):
        for strict in (False, True):
            scores = [
                score_recognition(a, p, exact=exact, strict=strict)
                for a, p in zip(articles, predictions, strict=False)
            ]
            totals[(exact, strict)] = sum(scores, RecognitionScores())
    return RecognitionReport(
        overlap=totals[(False, False)],
        exact=totals[(True, False)],
        overlap_strict=totals[(False, True)],
        exact_strict=totals[(True, True)],
    )


# ------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class ScoredToponym:
    """One gold toponym's resolution outcome."""

    article_id: str
    gold: GoldToponym
    error_km: float
    resolved: bool
    predicted_geonameid: int | None = None
    score: float | None = None

    @property
    def correct(self) -> bool:
        """Within 161 km of gold."""
        return self.error_km < ACCURACY_KM

    @property
    def id_correct(self) -> bool | None:
        """Same GeoNames id as gold; None when gold has no id."""
        if self.gold.geonameid is None:
            return None
        return self.resolved and self.predicted_geonameid == self.gold.geonameid


def score_resolution(
    article: GoldArticle, predictions: Sequence[Prediction], setting: str
) -> list[ScoredToponym]:
    """Errors for overlap-matched gold toponyms; gold-spans also scores misses."""
    pairs = match_overlap([_span(p) for p in predictions], list(article.spans))
    by_gold: dict[int, Prediction] = {j: predictions[i] for i, j in pairs}
    scored = []
    for j, gold in enumerate(article.toponyms):
        pred = by_gold.get(j)
        if pred is None and setting == END_TO_END:
            continue
        gid = None if pred is None else pred.get("geonameid")
        score = None if pred is None else pred.get("score")
        scored.append(
            ScoredToponym(
                article_id=article.id,
                gold=gold,
                error_km=error_km(pred, gold),
                resolved=_point(pred) is not None,
                predicted_geonameid=None if gid is None else int(gid),
                score=None if score is None else float(score),
            )
        )
    return scored


@dataclass(frozen=True)
class ResolutionScores:
    """Error statistics over the scored gold toponyms (None when none scored)."""

    n: int
    unresolved: int
    acc161: float | None
    mean_km: float | None
    median_km: float | None
    auc: float | None
    id_n: int
    id_accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able statistics."""
        return asdict(self)


def summarize_resolution(scored: Sequence[ScoredToponym]) -> ResolutionScores:
    """Acc@161, mean/median error, AUC and GeoNames-id accuracy."""
    errors = [s.error_km for s in scored]
    ids = [s.id_correct for s in scored if s.id_correct is not None]
    return ResolutionScores(
        n=len(errors),
        unresolved=sum(1 for s in scored if not s.resolved),
        acc161=sum(e < ACCURACY_KM for e in errors) / len(errors) if errors else None,
        mean_km=statistics.fmean(errors) if errors else None,
        median_km=statistics.median(errors) if errors else None,
        auc=auc_of_errors(errors),
        id_n=len(ids),
        id_accuracy=sum(ids) / len(ids) if ids else None,
    )


# ----------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationRow:
    """One score bin: how many predictions, their mean score, their Acc@161."""

    lower: float
    upper: float
    n: int
    mean_score: float
    accuracy: float

    @property
    def label(self) -> str:
        """The bin as text, e.g. 0.3-0.4."""
        return f"{self.lower:.1f}-{self.upper:.1f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able row."""
        return {"bin": self.label, **asdict(self)}


def calibration_table(
    pairs: Iterable[tuple[float, bool]], bins: int = 10
) -> tuple[CalibrationRow, ...]:
    """Bin (score, correct) pairs into equal-width score bins over [0, 1]."""
    groups: dict[int, list[tuple[float, bool]]] = {}
    for score, correct in pairs:
        clipped = min(1.0, max(0.0, float(score)))
        groups.setdefault(min(int(clipped * bins), bins - 1), []).append((clipped, correct))
    return tuple(
        CalibrationRow(
            lower=k / bins,
            upper=(k + 1) / bins,
            n=len(rows),
            mean_score=statistics.fmean(s for s, _ in rows),
            accuracy=sum(c for _, c in rows) / len(rows),
        )
        for k, rows in sorted(groups.items())
    )


def expected_calibration_error(rows: Sequence[CalibrationRow]) -> float | None:
    """Sample-weighted mean gap between mean score and accuracy."""
    total = sum(r.n for r in rows)
    if not total:
        return None
    return sum(r.n * abs(r.mean_score - r.accuracy) for r in rows) / total


# --------------------------------------------------------------------- reports


@dataclass(frozen=True)
class SettingReport:
    """Scores for one corpus in one setting."""

    setting: str
    resolution: ResolutionScores
    recognition: RecognitionReport | None = None
    calibration: tuple[CalibrationRow, ...] = ()

    def to_dict(self, with_precision: bool = True) -> dict[str, Any]:
        """JSON-able scores, calibration rows and their ECE."""
        recognition = self.recognition and self.recognition.to_dict(with_precision)
        return {
            "setting": self.setting,
            "recognition": recognition,
            "resolution": self.resolution.to_dict(),
            "calibration": [r.to_dict() for r in self.calibration],
            "ece": expected_calibration_error(self.calibration),
        }


def score_setting(
    articles: Sequence[GoldArticle], predictions: Sequence[Sequence[Prediction]], setting: str
) -> SettingReport:
    """All metrics for one setting from precomputed per-article predictions."""
    if len(articles) != len(predictions):
        raise ValueError(f"{len(predictions)} prediction lists for {len(articles)} articles")
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; use one of {', '.join(SETTINGS)}")
    scored = [
        s
        for a, p in zip(articles, predictions, strict=False)
        for s in score_resolution(a, p, setting)
    ]
    recognition = summarize_recognition(articles, predictions) if setting == END_TO_END else None
    calibration = calibration_table((s.score, s.correct) for s in scored if s.score is not None)
    return SettingReport(
        setting=setting,
        resolution=summarize_resolution(scored),
        recognition=recognition,
        calibration=calibration,
    )


@dataclass(frozen=True)
class Report:
    """Everything measured on one corpus (one entry per setting that was run)."""

    corpus: str
    n_articles: int
    n_gold: int
    n_gold_with_id: int
    n_ignore_spans: int
    settings: tuple[SettingReport, ...]
    precision_meaningful: bool = True

    def setting(self, name: str) -> SettingReport | None:
        """The block for one setting, if it was run."""
        return next((s for s in self.settings if s.setting == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able report, settings keyed by name."""
        head = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "settings"}
        return {
            **head,
            "settings": {s.setting: s.to_dict(self.precision_meaningful) for s in self.settings},
        }


def precision_is_meaningful(corpus: str) -> bool:
    """False for corpora that annotate only some places (WikToR): recall only."""
    words = corpus.split()
    return not words or words[0].lower() not in RECALL_ONLY_CORPORA


def evaluate_corpus(
    articles: Sequence[GoldArticle],
    predictions: Mapping[str, Sequence[Sequence[Prediction]]],
    corpus: str | None = None,
) -> Report:
    """Score precomputed predictions, keyed by setting, against one corpus."""
    name = corpus if corpus is not None else (articles[0].corpus if articles else "")
    return Report(
        corpus=name,
        n_articles=len(articles),
        n_gold=sum(len(a.toponyms) for a in articles),
        n_gold_with_id=sum(t.geonameid is not None for a in articles for t in a.toponyms),
        n_ignore_spans=sum(len(a.ignore_spans) for a in articles),
        settings=tuple(
            score_setting(articles, predictions[s], s) for s in SETTINGS if s in predictions
        ),
        precision_meaningful=precision_is_meaningful(name),
    )


def evaluate(
    parse_many: ParseManyFn,
    articles: Sequence[GoldArticle],
    settings: Sequence[str] = SETTINGS,
    *,
    corpus: str | None = None,
    batch_size: int = 64,
) -> Report:
    """Run the system in each setting, then score it."""
    predictions = {s: run_system(parse_many, articles, s, batch_size=batch_size) for s in settings}
    return evaluate_corpus(articles, predictions, corpus=corpus)


# ------------------------------------------------------------------ formatting


def _num(value: float | None, digits: int = 3) -> str:
    """A number for a report cell, or 'n/a'."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _recognition_lines(rec: RecognitionReport, precision_meaningful: bool) -> list[str]:
    """Table rows for the four recognition variants."""
    lines = [
        f"    {'recognition':<16}{'P':>7}{'R':>7}{'F1':>7}{'TP':>8}{'FP':>8}{'FN':>8}{'ignored':>9}"
    ]
    for name in ("overlap", "exact", "overlap_strict", "exact_strict"):
        s: RecognitionScores = getattr(rec, name)
        p = _num(s.precision) if precision_meaningful else "n/a"
        f1 = _num(s.f1) if precision_meaningful else "n/a"
        lines.append(
            f"      {name.replace('_', ' '):<14}{p:>7}{_num(s.recall):>7}{f1:>7}"
            f"{s.tp:>8}{s.fp:>8}{s.fn:>8}{s.ignored:>9}"
        )
    return lines


def _resolution_line(res: ResolutionScores) -> str:
    """One line of resolution statistics."""
    ids = f"  id acc {_num(res.id_accuracy)} (n={res.id_n})" if res.id_n else ""
    return (
        f"    resolution  n={res.n} (unresolved {res.unresolved})  "
        f"Acc@161 {_num(res.acc161)}  mean {_num(res.mean_km, 1)} km  "
        f"median {_num(res.median_km, 1)} km  AUC {_num(res.auc)}{ids}"
    )


def format_report(report: Report) -> str:
    """A readable multi-line summary of one corpus report."""
    lines = [
        f"{report.corpus}: {report.n_articles} articles, {report.n_gold} gold toponyms "
        f"({report.n_gold_with_id} with GeoNames id), "
        f"{report.n_ignore_spans} ignore spans"
    ]
    for block in report.settings:
        lines.append(f"  {block.setting.replace('_', ' ')}")
        if block.recognition is not None:
            lines.extend(_recognition_lines(block.recognition, report.precision_meaningful))
        lines.append(_resolution_line(block.resolution))
        if block.calibration:
            ece = expected_calibration_error(block.calibration)
            cells = "  ".join(f"{r.label}: {r.n}/{_num(r.accuracy, 2)}" for r in block.calibration)
            lines.append(f"    calibration (bin: n/Acc@161, ECE {_num(ece)})  {cells}")
    return "\n".join(lines)


FIT_CORPORA = ("lgl", "geowebnews")


def in_fit_split(article_id: str) -> bool:
    """The documented split for fitted weights: sha1(id) starting with an even hex digit."""
    import hashlib

    return int(hashlib.sha1(article_id.encode()).hexdigest()[0], 16) % 2 == 0
