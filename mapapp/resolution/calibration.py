"""The resolver's raw score turned into a probability of being within 161 km of the truth.

The raw score is the model's probability mass of the chosen answer; it is not
a probability of being right.  ``benchmarks/fit_calibration.py`` fits, on the
train half of the shared corpora, an isotonic (monotone) map from raw score to
observed Acc@161 for each kind of place, and writes its knots to
``mapapp/data/calibration.json``; `Calibration` applies them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mapapp.settings import PACKAGE_DATA

CALIBRATION_FILE = PACKAGE_DATA / "calibration.json"
UNIT_CODES = frozenset({"PCLI", "PCLD", "PCLF", "PCLS", "PCL", "PCLIX", "TERR", "ADM1"})


def place_kind(feature_class: str, feature_code: str) -> str:
    """The calibration group of a place: a country or province, a town, or anything else."""
    if feature_code in UNIT_CODES:
        return "unit"
    return "town" if feature_class == "P" else "other"


@dataclass(frozen=True)
class Calibration:
    """Piecewise-linear maps from raw score to probability, one per kind of place."""

    knots: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The fitted maps when the file exists, else the identity."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {kind: (tuple(m["raw"]), tuple(m["probability"])) for kind, m in data["maps"].items()}
        )

    def __call__(self, raw: float, kind: str) -> float:
        """The probability for a raw score of a place of ``kind`` (identity when not fitted)."""
        knots = self.knots.get(kind) or self.knots.get("all")
        if knots is None:
            return raw
        return float(np.interp(raw, knots[0], knots[1]))


def isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators: the non-decreasing fit of ``y`` on ``x`` as (x, fitted) knots."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order].astype(float)
    values, weights, lows, highs = [], [], [], []
    for xv, yv in zip(xs, ys, strict=True):
        values.append(yv)
        weights.append(1.0)
        lows.append(xv)
        highs.append(xv)
        while len(values) > 1 and values[-2] > values[-1]:
            w = weights[-2] + weights[-1]
            values[-2] = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
            weights[-2] = w
            highs[-2] = highs[-1]
            del values[-1], weights[-1], lows[-1], highs[-1]
    knot_x = [v for lo, hi in zip(lows, highs, strict=True) for v in (lo, hi)]
    knot_y = [v for v in values for _ in (0, 1)]
    return np.array(knot_x), np.array(knot_y)
