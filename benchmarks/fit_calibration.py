"""Fit the map from the resolver's raw score to P(within 161 km of the truth).

Runs the geoparser (with calibration switched off) on the TRAIN half of each
shared corpus, both settings, and fits an isotonic map of raw score to
Acc@161 per kind of place (country/province, town, other) plus one over all
places.  The split is the documented one (``mapapp.evaluation.corpus.in_fit_split``:
first hex digit of sha1(article id) even = train), so the held-out halves
that ``benchmarks/quality.py`` reports were never seen.

    python benchmarks/fit_calibration.py [--eval-dir ../shared/eval]
                                         [--corpora lgl,geowebnews,geovirus]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mapapp.evaluation.corpus import GoldArticle, in_fit_split, load_corpus  # noqa: E402
from mapapp.evaluation.metrics import ACCURACY_KM, error_km, match_overlap  # noqa: E402
from mapapp.evaluation.running import SETTINGS, run_system  # noqa: E402
from mapapp.geoparsing import Geoparser  # noqa: E402
from mapapp.resolution.calibration import (  # noqa: E402
    CALIBRATION_FILE,
    Calibration,
    isotonic,
    place_kind,
)
from mapapp.settings import load_settings  # noqa: E402

MIN_GROUP = 150  # a kind of place with fewer train examples uses the pooled map
MAX_KNOTS = 40


def outcomes(geoparser: Geoparser, articles: list[GoldArticle]) -> list[tuple[float, str, bool]]:
    """(raw score, kind of place, within 161 km) of every placed, gold-matched toponym."""
    out = []
    for setting in SETTINGS:
        predictions = run_system(geoparser.geoparse_many, articles, setting)
        for article, preds in zip(articles, predictions, strict=True):
            pairs = match_overlap([(p["start"], p["end"]) for p in preds], list(article.spans))
            for i, j in pairs:
                pred = preds[i]
                if pred.get("lat") is None:
                    continue
                kind = place_kind(
                    "P" if pred["feature_code"].startswith("PPL") else "",
                    pred["feature_code"] or "",
                )
                correct = error_km(pred, article.toponyms[j]) < ACCURACY_KM
                out.append((float(pred["score"]), kind, correct))
    return out


def thin(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """At most MAX_KNOTS knots of a step function, rounded, still non-decreasing."""
    keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), MAX_KNOTS)).astype(int))
    xs = [0.0, *(round(float(v), 4) for v in x[keep]), 1.0]
    ys = [round(float(y[0]), 4), *(round(float(v), 4) for v in y[keep]), round(float(y[-1]), 4)]
    return xs, list(np.maximum.accumulate(ys))


def fit(rows: list[tuple[float, str, bool]]) -> dict[str, dict[str, list[float]]]:
    """Isotonic knots per kind of place (and "all")."""
    maps = {}
    for kind in ("all", "unit", "town", "other"):
        mine = [(s, c) for s, k, c in rows if kind == "all" or k == kind]
        if len(mine) < MIN_GROUP:
            continue
        x, y = isotonic(np.array([s for s, _ in mine]), np.array([c for _, c in mine]))
        raw, probability = thin(x, y)
        maps[kind] = {"raw": raw, "probability": probability, "n": len(mine)}
    return maps


def main(argv: list[str] | None = None) -> int:
    """Fit on the train halves and write mapapp/data/calibration.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--corpora", default="lgl,geowebnews,geovirus")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    geoparser = Geoparser.from_settings(load_settings())
    geoparser.resolver.calibration = Calibration()  # fit on the raw scores
    rows, used = [], {}
    for corpus in args.corpora.split(","):
        path = args.eval_dir / f"{corpus}.jsonl"
        if not path.exists():
            continue
        train = [a for a in load_corpus(path) if in_fit_split(a.id)]
        found = outcomes(geoparser, train)
        used[corpus] = {"articles": len(train), "places": len(found)}
        rows += found
        print(f"{corpus}: {len(train)} train articles, {len(found)} placed toponyms", flush=True)
    maps = fit(rows)
    data = {
        "maps": maps,
        "fitted_on": {
            "corpora": used,
            "settings": list(SETTINGS),
            "method": "isotonic (PAV) per kind",
            "split": "first hex digit of sha1(article id) even = train",
        },
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    sizes = ", ".join(f"{kind}: n={m['n']}" for kind, m in maps.items())
    print(f"wrote {args.out} ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
