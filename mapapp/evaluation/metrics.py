"""Matching predictions to gold and scoring them: recognition counts, resolution errors."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mapapp.evaluation.corpus import GoldArticle, GoldToponym, Span
from mapapp.evaluation.running import END_TO_END, Prediction
from mapapp.geo import ACC_KM, haversine_km

MAX_ERROR_KM = 20039.0
ACCURACY_KM = ACC_KM

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
