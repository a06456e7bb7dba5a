"""A corpus report as readable text."""

from __future__ import annotations

from mapapp.evaluation.calibration import expected_calibration_error
from mapapp.evaluation.metrics import RecognitionReport, RecognitionScores, ResolutionScores
from mapapp.evaluation.reports import Report


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
