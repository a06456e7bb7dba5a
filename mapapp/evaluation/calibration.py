"""Reliability of scores: equal-width score bins against Acc@161, and their ECE."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


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
