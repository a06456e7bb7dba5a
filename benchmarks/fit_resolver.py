"""Fit the resolver's weights on a documented split of the gold corpora.

The resolver scores each candidate place with a log-linear model over a few
general features (see ``mapapp.resolution.features.Feature``) plus a "none of these"
option.  This script fits those weights by maximum likelihood (softmax over
each mention's candidates, L2 penalty) on the TRAIN half of LGL and
GeoWebNews, and writes ``mapapp/data/resolver_weights.json``.

The split is by article: an article is in TRAIN when the first hex digit of
sha1(article id) is even; everything else (the other half of LGL and
GeoWebNews, all of GeoVirus and WikToR) is never seen by the fit and is what
``benchmarks/quality.py`` reports on honestly.

    python benchmarks/fit_resolver.py [--eval-dir ../shared/eval] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mapapp.evaluation.corpus import (  # noqa: E402
    FIT_CORPORA,
    GoldArticle,
    GoldToponym,
    in_fit_split,
    load_corpus,
)
from mapapp.geo import haversine_km  # noqa: E402
from mapapp.geoparsing import Geoparser, given_toponyms  # noqa: E402
from mapapp.resolution.features import (  # noqa: E402
    DEFAULT_WEIGHTS,
    FEATURES,
    NONE_OF_THESE,
    WEIGHTS_FILE,
)
from mapapp.settings import load_settings  # noqa: E402

TRAIN_CORPORA = FIT_CORPORA
MATCH_KM = 161.0


def label_for(gaz, rows: list[int], gold: GoldToponym) -> int:
    """Index of the correct candidate (same GeoNames id, else nearest within 161 km), or -1."""
    if gold.geonameid is not None:
        for i, row in enumerate(rows):
            if gaz.geonameid[row] == gold.geonameid:
                return i
    best, best_km = -1, MATCH_KM
    for i, row in enumerate(rows):
        km = haversine_km(gaz.lat[row], gaz.lon[row], gold.lat, gold.lon)
        if km < best_km:
            best, best_km = i, km
    return best


def examples(geoparser: Geoparser, articles: list[GoldArticle]) -> list[tuple[np.ndarray, int]]:
    """(feature matrix, index of the right candidate) per gold toponym that has one."""
    out = []
    gaz = geoparser.gazetteer
    texts = [a.text for a in articles]
    recognised = dict(
        zip((a.id for a in articles), geoparser.recognizer.recognize_many(texts), strict=False)
    )
    for article in articles:
        spans = [(t.start, t.end) for t in article.toponyms]
        toponyms = given_toponyms(article.text, spans, geoparser.recognizer)
        found = recognised[article.id]
        context = [
            t for t in found if not any(t.start < g.end and g.start < t.end for g in toponyms)
        ]
        by_span = {(t.start, t.end): t for t in article.toponyms}
        features = geoparser.resolver.candidate_features(toponyms + context)[: len(toponyms)]
        for top, (rows, feats) in zip(toponyms, features, strict=False):
            if not rows:
                continue
            label = label_for(gaz, rows, by_span[(top.start, top.end)])
            if label >= 0:  # a gold place the gazetteer lacks teaches nothing about ranking
                out.append((feats, label))
    return out


def fit(
    data: list[tuple[np.ndarray, int]], l2: float = 0.001, steps: int = 800, rate: float = 0.05
) -> np.ndarray:
    """Adam on the mean negative log-likelihood; returns weights + null bias (last).

    The null bias stays at its default: with no negative examples in gold
    spans it cannot be fitted, and the default keeps "none of these" for
    candidates far weaker than a plain small town.
    """
    d = len(FEATURES)
    w = np.array([DEFAULT_WEIGHTS[f] for f in FEATURES] + [DEFAULT_WEIGHTS[NONE_OF_THESE]])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, steps + 1):
        grad = 2 * l2 * np.append(w[:d], 0.0)
        for feats, label in data:
            z = np.append(feats @ w[:d], w[d])
            p = np.exp(z - z.max())
            p /= p.sum()
            p[label] -= 1.0
            grad[:d] += feats.T @ p[:-1] / len(data)
            grad[d] = 0.0
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def accuracy(data: list[tuple[np.ndarray, int]], w: np.ndarray) -> float:
    d = len(FEATURES)
    hits = sum(int(np.argmax(np.append(f @ w[:d], w[d])) == y) for f, y in data)
    return hits / max(1, len(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    train, held = [], []
    for corpus in TRAIN_CORPORA:
        path = args.eval_dir / f"{corpus}.jsonl"
        if not path.exists():
            print(f"missing {path}: nothing to fit on", file=sys.stderr)
            return 2
        for article in load_corpus(path):
            (train if in_fit_split(article.id) else held).append(article)
    geoparser = Geoparser.from_settings(load_settings())
    started = time.time()
    for round_ in range(1, args.rounds + 1):
        data = examples(geoparser, train)
        w = fit(data)
        weights = dict(zip(FEATURES, map(float, w[:-1]), strict=False)) | {
            NONE_OF_THESE: float(w[-1])
        }
        geoparser.resolver.weights = {**DEFAULT_WEIGHTS, **weights}
        geoparser.resolver.vector = w[:-1].copy()
        held_data = examples(geoparser, held)
        print(
            f"round {round_}: {len(data)} train mentions, candidate accuracy "
            f"train {accuracy(data, w):.3f}, held-out {accuracy(held_data, w):.3f} "
            f"({time.time() - started:.0f} s)"
        )
    payload = {
        "weights": {k: round(v, 4) for k, v in weights.items()},
        "fitted_on": {
            "corpora": list(TRAIN_CORPORA),
            "articles": len(train),
            "mentions": len(data),
            "split": "first hex digit of sha1(article id) even = train",
        },
        "held_out_candidate_accuracy": round(accuracy(held_data, w), 4),
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
