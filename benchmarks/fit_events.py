"""Fit the event-place model on the fit half of the event-location corpus.

For every record of the fit half (sha1(id) starting with an even hex digit;
see ``benchmarks/events_quality.py``) and every candidate place in its gold
trigger's sentence, the pair's features (`mapapp.events.places.pair_table`)
and whether the candidate overlaps a gold event place.  An L2-regularised
logistic regression (numpy, Newton steps) is fitted on them, and the threshold
with the best event-place F1 on the fit half (of those within half a point of
it, the one that leaves most place-less events with no place) is kept; both go to
``mapapp/data/event_places.json``.  The held-out half is never read.

    python benchmarks/fit_events.py [--corpus ../shared/events/event_location.jsonl] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from events_quality import DEFAULT_CORPUS, gold_spans, is_fit, load_records  # noqa: E402

from mapapp.events.places import MODEL_FILE  # noqa: E402

L2 = 1.0
F1_SLACK = 0.005  # F1 given up, at most, for more place-less events left empty


def pairs(
    records: list[dict],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int, set[int]]:
    """Feature matrix, labels and record index of every (gold trigger, candidate) pair, the
    number of gold places and the records that have none."""
    from mapapp.events.extract import EventExtractor, with_entities
    from mapapp.events.places import pair_table
    from mapapp.events.triggers import trigger_at
    from mapapp.geoparsing import Geoparser
    from mapapp.settings import load_settings

    config = load_settings({}, {})
    extractor = EventExtractor.from_geoparser(Geoparser.from_settings(config), config.ner_model)
    texts = [r["text"] for r in records]
    docs = extractor.parse_many(texts, 64)
    found = extractor.candidates_many(texts)
    rows, labels, owners, gold_total, empty = [], [], [], 0, set()
    for n, (record, doc, places) in enumerate(zip(records, docs, found, strict=True)):
        gold = gold_spans(record)
        gold_total += len(gold)
        if not gold:
            empty.add(n)
        trigger = trigger_at(doc, record["event"]["start"], record["event"]["end"])
        if trigger is None:
            continue
        for c, _, features in pair_table(doc, trigger, with_entities(doc, places)):
            rows.append(features)
            labels.append(any(c.start < e and s < c.end for s, e in gold))
            owners.append(n)
    names = sorted({name for row in rows for name in row})
    x = np.array([[row.get(name, 0.0) for name in names] for row in rows], dtype=float)
    return names, x, np.array(labels, dtype=float), np.array(owners), gold_total, empty


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 25) -> np.ndarray:
    """Logistic regression weights by Newton's method (the bias column unpenalised)."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w


def best_threshold(
    p: np.ndarray, y: np.ndarray, gold_total: int, owners: np.ndarray, empty: set[int]
) -> tuple[float, float, float]:
    """The probability cut with the best pair-level F1 (gold never offered counts as missed),
    and of the cuts within ``F1_SLACK`` of it the one that leaves the most gold-empty records
    (``empty``, record indices; ``owners`` gives each pair's record) with no place: the
    issue's second target, which F1 alone does not see."""
    rows = []
    for t in np.arange(0.2, 0.8, 0.02):
        tp = float(((p >= t) & (y == 1)).sum())
        fp = float(((p >= t) & (y == 0)).sum())
        precision, recall = tp / max(1.0, tp + fp), tp / max(1, gold_total)
        f1 = 2 * precision * recall / max(1e-9, precision + recall)
        placed = {int(o) for o in owners[p >= t]} & empty
        rows.append((round(float(t), 2), f1, 1 - len(placed) / max(1, len(empty))))
    top = max(f1 for _, f1, _ in rows)
    return max((r for r in rows if r[1] >= top - F1_SLACK), key=lambda r: r[2])


def main(argv: Sequence[str] | None = None) -> int:
    """Fit on the fit half and write mapapp/data/event_places.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    records = [r for r in load_records(args.corpus, args.limit) if is_fit(r["id"])]
    names, x, y, owners, gold_total, empty = pairs(records)
    w = fit(x, y)
    p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
    threshold, f1, empty_accuracy = best_threshold(p, y, gold_total, owners, empty)
    model = {
        "about": "event-place logistic model, benchmarks/fit_events.py, fit half of "
        "event_location (sha1(id) starting with an even hex digit)",
        "records": len(records),
        "pairs": len(y),
        "threshold": threshold,
        "fit_pair_f1": round(f1, 4),
        "fit_gold_empty_accuracy": round(empty_accuracy, 4),
        "weights": {n: round(float(v), 4) for n, v in zip(names, w, strict=True)},
    }
    args.out.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(model, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
