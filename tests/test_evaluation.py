"""Evaluation metrics on hand-made cases, plus a slice of a shared gold corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mapapp.errors import ArticleParseError
from mapapp.evaluation.calibration import calibration_table, expected_calibration_error
from mapapp.evaluation.corpus import GoldArticle, GoldToponym, literal_only, load_corpus
from mapapp.evaluation.formatting import format_report
from mapapp.evaluation.metrics import (
    MAX_ERROR_KM,
    RecognitionScores,
    auc_of_errors,
    error_km,
    match_overlap,
    score_recognition,
)
from mapapp.evaluation.reports import evaluate, evaluate_corpus, score_setting
from mapapp.evaluation.running import (
    END_TO_END,
    GOLD_SPANS,
    SETTINGS,
    ParseManyFn,
    batched,
    run_system,
)
from mapapp.geo import EARTH_RADIUS_KM, haversine_km

EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval"

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def gold(
    start: int,
    end: int,
    lat: float = 0.0,
    lon: float = 0.0,
    geonameid: int | None = None,
    text: str = "",
) -> GoldToponym:
    """A gold toponym whose name is cut from ``text`` (or a placeholder)."""
    return GoldToponym(start, end, text[start:end] or "x" * (end - start), lat, lon, geonameid)


def article(*toponyms: GoldToponym, ignore=(), text: str = " " * 60) -> GoldArticle:
    """A gold article with the given toponyms and ignore spans."""
    return GoldArticle(
        id="a1", text=text, toponyms=tuple(toponyms), ignore_spans=tuple(ignore), corpus="test"
    )


def pred(
    start: int,
    end: int,
    lat: float | None = 0.0,
    lon: float | None = 0.0,
    geonameid: int | None = None,
    score: float | None = None,
) -> dict:
    """A predicted toponym as a system returns it."""
    return {
        "start": start,
        "end": end,
        "name": "",
        "lat": lat,
        "lon": lon,
        "geonameid": geonameid,
        "score": score,
    }


# ------------------------------------------------------------------ distances


def test_haversine_paris_london():
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(344, abs=2)


def test_same_point_is_zero_km():
    assert error_km(pred(0, 5, *PARIS), gold(0, 5, *PARIS)) == 0.0


def test_antipode_is_half_the_circumference():
    km = error_km(pred(0, 5, 0.0, 180.0), gold(0, 5, 0.0, 0.0))
    assert km == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert km == pytest.approx(20015, abs=1)


@pytest.mark.parametrize("missing", [pred(0, 5, None, None), pred(0, 5, 10.0, None), None])
def test_unresolved_or_missing_gets_the_maximum_error(missing):
    assert error_km(missing, gold(0, 5)) == MAX_ERROR_KM == 20039.0


# ------------------------------------------------------------------------ AUC


@pytest.mark.parametrize(
    "errors, expected",
    [
        ([0.0, 0.0, 0.0], 0.0),
        ([20038.0, 20038.0], 1.0),  # ln(1 + 20038) / ln(20039)
        ([20039.0 - 1, 0.0], 0.5),  # y = [0, 1]
        ([0.0, 0.0, 20039.0 - 1], 0.25),  # y = [0, 0, 1]
        ([20039.0 - 1, 20039.0**0.5 - 1, 0.0], 0.5),  # y = [0, 0.5, 1]
        ([20039.0**0.5 - 1], 0.5),  # one error: its own y
    ],
)
def test_auc_on_known_arrays(errors, expected):
    assert auc_of_errors(errors) == pytest.approx(expected)


def test_auc_of_all_unresolved_is_one():
    assert auc_of_errors([MAX_ERROR_KM] * 4) == pytest.approx(1.0, abs=1e-4)


def test_auc_of_nothing_is_none():
    assert auc_of_errors([]) is None


# ------------------------------------------------------------------- matching


def test_exact_versus_overlap_match():
    doc = article(gold(0, 8))
    predictions = [pred(4, 8)]
    assert score_recognition(doc, predictions) == RecognitionScores(tp=1, fp=0, fn=0)
    assert score_recognition(doc, predictions, exact=True) == RecognitionScores(tp=0, fp=1, fn=1)


def test_overlap_is_one_to_one():
    doc = article(gold(0, 10))
    scores = score_recognition(doc, [pred(0, 5), pred(5, 10)])
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 0)
    assert scores.precision == 0.5 and scores.recall == 1.0
    assert scores.f1 == pytest.approx(2 / 3)


def test_duplicate_exact_predictions_count_once():
    scores = score_recognition(article(gold(0, 5)), [pred(0, 5), pred(0, 5)], exact=True)
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 0)


def test_largest_overlap_is_matched_first():
    # Prediction 0 overlaps gold A by 5 and gold B by 3; prediction 1 covers A (10).
    # Taking predictions in order would give prediction 0 gold A and leave one TP.
    gold_spans = [(0, 10), (12, 20)]
    predicted = [(5, 15), (0, 10)]
    assert match_overlap(predicted, gold_spans) == [(0, 1), (1, 0)]
    doc = article(gold(0, 10), gold(12, 20))
    scores = score_recognition(doc, [pred(*p) for p in predicted])
    assert (scores.tp, scores.fp, scores.fn) == (2, 0, 0)


def test_overlap_ties_go_to_the_closer_fit():
    assert match_overlap([(0, 20), (0, 8)], [(0, 8)]) == [(1, 0)]


def test_prediction_on_an_ignore_span_is_neither_tp_nor_fp():
    doc = article(gold(0, 5), ignore=[(10, 17, "Iraqi")])
    predictions = [pred(0, 5), pred(10, 17)]
    lenient = score_recognition(doc, predictions)
    assert lenient == RecognitionScores(tp=1, fp=0, fn=0, ignored=1)
    assert lenient.precision == 1.0


def test_strict_variant_counts_an_ignore_span_prediction_as_fp():
    doc = article(gold(0, 5), ignore=[(10, 17, "Iraqi")])
    strict = score_recognition(doc, [pred(0, 5), pred(10, 17)], strict=True)
    assert strict == RecognitionScores(tp=1, fp=1, fn=0, ignored=0)
    assert strict.precision == 0.5


def test_prediction_touching_gold_and_ignore_span_stays_fp():
    doc = article(gold(0, 5), ignore=[(5, 9, "Kurd")])
    scores = score_recognition(doc, [pred(0, 5), pred(3, 9)])
    assert (scores.tp, scores.fp, scores.ignored) == (1, 1, 0)


def test_empty_predictions():
    doc = article(gold(0, 5), gold(10, 15))
    report = evaluate_corpus([doc], {END_TO_END: [[]], GOLD_SPANS: [[]]})
    rec = report.setting(END_TO_END).recognition.overlap
    assert (rec.tp, rec.fp, rec.fn) == (0, 0, 2)
    assert rec.precision == rec.recall == rec.f1 == 0.0
    e2e = report.setting(END_TO_END).resolution
    assert e2e.n == 0 and e2e.acc161 is None and e2e.auc is None
    spans = report.setting(GOLD_SPANS).resolution
    assert (spans.n, spans.acc161, spans.mean_km) == (2, 0.0, MAX_ERROR_KM)


# ----------------------------------------------------------------- resolution


def test_end_to_end_scores_matched_gold_only():
    doc = article(gold(0, 5, *PARIS, geonameid=2988507), gold(10, 16, *LONDON, geonameid=1))
    predictions = [pred(0, 5, *PARIS, geonameid=2988507), pred(30, 35)]
    res = score_setting([doc], [predictions], END_TO_END).resolution
    assert (res.n, res.acc161, res.mean_km, res.auc) == (1, 1.0, 0.0, 0.0)
    assert (res.id_n, res.id_accuracy) == (1, 1.0)


def test_unresolved_prediction_is_scored_at_the_maximum_error():
    doc = article(gold(0, 5, *PARIS), gold(10, 16, *LONDON))
    predictions = [pred(0, 5, *PARIS), pred(10, 16, None, None)]
    res = score_setting([doc], [predictions], END_TO_END).resolution
    assert (res.n, res.unresolved, res.acc161) == (2, 1, 0.5)
    assert res.mean_km == pytest.approx(MAX_ERROR_KM / 2)
    assert res.median_km == pytest.approx(MAX_ERROR_KM / 2)


def test_gold_spans_setting_scores_every_gold_span():
    doc = article(gold(0, 5, *PARIS, geonameid=2988507), gold(10, 16, *LONDON, geonameid=2643743))
    predictions = [pred(0, 5, *LONDON, geonameid=2643743)]
    res = score_setting([doc], [predictions], GOLD_SPANS).resolution
    assert (res.n, res.acc161, res.id_n, res.id_accuracy) == (2, 0.0, 2, 0.0)
    assert res.mean_km == pytest.approx((haversine_km(*PARIS, *LONDON) + 20039) / 2)


def test_id_accuracy_only_counts_gold_with_ids():
    doc = article(gold(0, 5, *PARIS), gold(10, 16, *LONDON, geonameid=2643743))
    predictions = [pred(0, 5, *PARIS, geonameid=7), pred(10, 16, *LONDON, geonameid=2643743)]
    res = score_setting([doc], [predictions], GOLD_SPANS).resolution
    assert (res.id_n, res.id_accuracy) == (1, 1.0)


# ---------------------------------------------------------------- calibration


def test_calibration_bins_by_score():
    pairs = [(0.05, False), (0.15, True), (0.95, True), (1.0, False), (0.92, True)]
    rows = calibration_table(pairs)
    assert [(r.label, r.n) for r in rows] == [("0.0-0.1", 1), ("0.1-0.2", 1), ("0.9-1.0", 3)]
    top = rows[-1]
    assert top.mean_score == pytest.approx((0.95 + 1.0 + 0.92) / 3)
    assert top.accuracy == pytest.approx(2 / 3)
    ece = expected_calibration_error(rows)
    expected = (0.05 + 0.85 + 3 * abs(top.mean_score - 2 / 3)) / 5
    assert ece == pytest.approx(expected)


def test_calibration_of_nothing_is_empty():
    assert calibration_table([]) == ()
    assert expected_calibration_error(()) is None


def test_settings_collect_scores_for_calibration():
    doc = article(gold(0, 5, *PARIS), gold(10, 16, *LONDON))
    predictions = [pred(0, 5, *PARIS, score=0.9), pred(10, 16, *PARIS, score=0.3)]
    rows = score_setting([doc], [predictions], GOLD_SPANS).calibration
    assert [(r.label, r.accuracy) for r in rows] == [("0.3-0.4", 0.0), ("0.9-1.0", 1.0)]


# -------------------------------------------------------------- corpus and run


def write_corpus(path: Path) -> Path:
    """A two-article JSON Lines corpus in the shared format."""
    text = "Rain in Paris and London."
    records = [
        {
            "id": "t-1",
            "corpus": "test",
            "text": text,
            "ignore_spans": [[0, 4, "Rain"]],
            "toponyms": [
                {
                    "start": 8,
                    "end": 13,
                    "name": "Paris",
                    "lat": PARIS[0],
                    "lon": PARIS[1],
                    "geonameid": 2988507,
                    "gazetteer_name": "Paris, France",
                    "type": "Literal",
                },
                {
                    "start": 18,
                    "end": 24,
                    "name": "London",
                    "lat": LONDON[0],
                    "lon": LONDON[1],
                    "geonameid": None,
                    "type": "Metonymic",
                },
            ],
        },
        {"id": "t-2", "corpus": "test", "text": "Nothing here.", "toponyms": []},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    return path


def test_load_corpus_reads_the_shared_format(tmp_path):
    articles = load_corpus(write_corpus(tmp_path / "c.jsonl"))
    assert [a.id for a in articles] == ["t-1", "t-2"]
    first = articles[0]
    assert first.spans == ((8, 13), (18, 24))
    assert first.toponyms[0] == GoldToponym(8, 13, "Paris", *PARIS, 2988507, "Literal")
    assert first.toponyms[1].geonameid is None
    assert first.ignore_spans == ((0, 4, "Rain"),)
    assert not hasattr(first.toponyms[0], "gazetteer_name")
    assert len(load_corpus(tmp_path / "c.jsonl", limit=1)) == 1


def test_load_corpus_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "text": ""}\n', encoding="utf-8")
    with pytest.raises(ArticleParseError, match="bad.jsonl:1"):
        load_corpus(path)


def test_literal_only_moves_other_types_to_ignore_spans(tmp_path):
    first = literal_only(load_corpus(write_corpus(tmp_path / "c.jsonl"))[0])
    assert [t.name for t in first.toponyms] == ["Paris"]
    assert first.ignore_spans == ((0, 4, "Rain"), (18, 24, "London"))


def test_system_sees_text_and_gold_spans_only(tmp_path):
    articles = load_corpus(write_corpus(tmp_path / "c.jsonl"))
    seen = []

    def parse(text, spans):
        seen.append((text, spans))
        return []

    evaluate(batched(parse), articles)
    assert seen[:2] == [(articles[0].text, None), (articles[1].text, None)]
    assert seen[2:] == [(articles[0].text, ((8, 13), (18, 24))), (articles[1].text, ())]


def test_run_system_batches_and_reports_progress():
    articles = [article(gold(0, 5)) for _ in range(5)]
    calls, progress = [], []

    def parse_many(inputs):
        calls.append(len(inputs))
        return [[] for _ in inputs]

    out = run_system(
        parse_many,
        articles,
        END_TO_END,
        batch_size=2,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert out == [[]] * 5
    assert calls == [2, 2, 1]
    assert progress == [(2, 5), (4, 5), (5, 5)]


def test_run_system_rejects_a_short_answer():
    with pytest.raises(ValueError, match="1 results for 2 articles"):
        run_system(lambda inputs: [[]], [article(), article()], END_TO_END)


def test_report_is_json_and_readable(tmp_path):
    articles = load_corpus(write_corpus(tmp_path / "c.jsonl"))
    oracle = [[pred(8, 13, *PARIS, geonameid=2988507, score=0.8)], []]
    report = evaluate_corpus(articles, {END_TO_END: oracle, GOLD_SPANS: oracle})
    data = json.loads(json.dumps(report.to_dict()))
    assert data["corpus"] == "test" and data["n_gold"] == 2
    assert data["settings"]["end_to_end"]["recognition"]["overlap"]["recall"] == 0.5
    text = format_report(report)
    assert text.startswith("test: 2 articles, 2 gold toponyms")
    assert "end to end" in text and "gold spans" in text and "Acc@161" in text


def test_wiktor_reports_no_precision():
    doc = GoldArticle("w-1", " " * 20, (gold(0, 5),), corpus="wiktor")
    report = evaluate_corpus([doc], {END_TO_END: [[pred(0, 5), pred(8, 12)]]})
    assert not report.precision_meaningful
    overlap_row = next(row for row in format_report(report).splitlines() if "overlap " in row)
    assert overlap_row.split()[1:4] == ["n/a", "1.000", "n/a"]
    overlap = report.to_dict()["settings"]["end_to_end"]["recognition"]["overlap"]
    assert (overlap["precision"], overlap["recall"], overlap["f1"]) == (None, 1.0, None)


# ------------------------------------------------------------ real corpus slice


@pytest.fixture(scope="module")
def lgl_slice() -> list[GoldArticle]:
    path = EVAL_DIR / "lgl.jsonl"
    if not path.exists():
        pytest.skip(f"gold corpus not available at {path}")
    return load_corpus(path, limit=5)


def oracle_parse_many(articles: list[GoldArticle]) -> ParseManyFn:
    """A perfect system, built here from the loaded gold (keyed by text)."""
    answers = {
        a.text: [
            {
                "start": t.start,
                "end": t.end,
                "name": t.name,
                "lat": t.lat,
                "lon": t.lon,
                "geonameid": t.geonameid,
                "score": 1.0,
            }
            for t in a.toponyms
        ]
        for a in articles
    }
    return lambda inputs: [answers[text] for text, _ in inputs]


def test_lgl_slice_oracle_is_perfect(lgl_slice):
    assert len(lgl_slice) == 5 and sum(len(a.toponyms) for a in lgl_slice) > 0
    report = evaluate(oracle_parse_many(lgl_slice), lgl_slice, corpus="lgl")
    rec = report.setting(END_TO_END).recognition
    assert rec.overlap.f1 == rec.exact.f1 == 1.0
    for setting in SETTINGS:
        res = report.setting(setting).resolution
        assert res.n == report.n_gold
        assert (res.acc161, res.auc, res.id_accuracy) == (1.0, 0.0, 1.0)


def test_lgl_slice_silent_system_recalls_nothing(lgl_slice):
    report = evaluate(lambda inputs: [[] for _ in inputs], lgl_slice, corpus="lgl")
    assert report.setting(END_TO_END).recognition.overlap.recall == 0.0
    assert report.setting(END_TO_END).resolution.n == 0
    assert report.setting(GOLD_SPANS).resolution.acc161 == 0.0
