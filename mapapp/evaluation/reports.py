"""One corpus's report: every setting's scores, from predictions or by running the system."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from mapapp.evaluation.calibration import (
    CalibrationRow,
    calibration_table,
    expected_calibration_error,
)
from mapapp.evaluation.corpus import GoldArticle
from mapapp.evaluation.metrics import (
    RecognitionReport,
    ResolutionScores,
    score_resolution,
    summarize_recognition,
    summarize_resolution,
)
from mapapp.evaluation.running import END_TO_END, SETTINGS, ParseManyFn, Prediction, run_system

RECALL_ONLY_CORPORA = frozenset({"wiktor"})


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
