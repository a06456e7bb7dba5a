"""Geoparsing quality of mapapp on the shared gold corpora.

Runs the real geoparser on each corpus in both settings (end-to-end, and
resolution of the gold spans), then writes ``results/quality.json`` and
``results/quality.md``: our scores, published anchor numbers for orientation,
and a reliability table of the resolver's scores.

    python benchmarks/quality.py [--eval-dir ../shared/eval] [--limit N]
                                 [--corpora lgl,geowebnews,geovirus,wiktor]
                                 [--events ../shared/events/event_location.jsonl | --events '']

The event corpus (when present) is scored too, on its held-out half, in the
gold-trigger and end-to-end settings beside the every-NER-place baseline
(`mapapp.evaluation.events`), into the same two files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mapapp import __version__  # noqa: E402
from mapapp.evaluation.calibration import CalibrationRow, expected_calibration_error  # noqa: E402
from mapapp.evaluation.corpus import (  # noqa: E402
    FIT_CORPORA,
    GoldArticle,
    in_fit_split,
    literal_only,
    load_corpus,
)
from mapapp.evaluation.formatting import format_report  # noqa: E402
from mapapp.evaluation.reports import Report, evaluate_corpus  # noqa: E402
from mapapp.evaluation.running import SETTINGS, ParseManyFn, run_system  # noqa: E402

CORPORA = ("lgl", "geowebnews", "geovirus", "wiktor")
LITERAL_BREAKDOWN = frozenset({"geowebnews"})
# corpora whose train half fitted something (resolver weights, calibration): held-out half shown
HELD_OUT = frozenset(FIT_CORPORA) | {"geovirus"}
SURE_SCORE = 0.9  # "at most 5% of places scored this high are wrong"
DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"
DEFAULT_EVENTS = ROOT.parent / "shared" / "events" / "event_location.jsonl"
DEFAULT_OUT_DIR = ROOT / "benchmarks" / "results"

ACL18 = "Gritta et al. 2018 ACL, T1"
LRE18 = "Gritta et al. 2018 LRE, T1"
MORDECAI = "Mordecai 3 README @5028e91"
BASES = {  # how each kind of anchor was measured, and which of our rows is nearest
    "own NER": "resolution of the gold toponyms the system's own NER found, mean error "
    "rounded up to 100 km (nearest: our end-to-end rows)",
    "oracle": "perfect GeoNames disambiguation scored against the gold coordinates",
    "exact match": "LGL recognition, exact match; F1 with inexact match in brackets "
    "(nearest: our end-to-end P/R/F1 exact)",
    "gold spans": "resolution of gold spans on a held-out split of a corpus the model was "
    "trained on (nearest: our gold-spans rows)",
}


def _acl18(system: str, corpus: str, auc: int, mean_100km: int, acc: int) -> dict[str, Any]:
    """One anchor row of the ACL 2018 table (AUC x100, mean in 100s of km, Acc %)."""
    return {
        "source": ACL18,
        "system": system,
        "corpus": corpus,
        "auc": auc / 100,
        "mean_km": f"<={mean_100km * 100}",
        "acc161": acc / 100,
        "basis": "own NER",
    }


def _lre18(system: str, p: float, r: float, f1: float, f1_overlap: float | None) -> dict:
    """One anchor row of the LRE 2018 LGL recognition table."""
    return {
        "source": LRE18,
        "system": system,
        "corpus": "lgl",
        "basis": "exact match",
        "precision": p,
        "recall": r,
        "f1": f1,
        "f1_overlap": f1_overlap,
    }


ANCHORS: tuple[dict[str, Any], ...] = (
    *(
        _acl18(system, corpus, *values)
        for system, rows in (
            ("CamCoder", ((22, 7, 76), (33, 11, 65), (31, 3, 82))),
            ("Edinburgh Geoparser", ((25, 8, 76), (53, 31, 42), (33, 5, 78))),
            ("Yahoo! Placemaker", ((34, 6, 72), (44, 23, 52), (40, 3, 70))),
            ("Population baseline", ((27, 12, 70), (68, 45, 22), (32, 5, 80))),
            ("CLAVIN", ((26, 13, 71), (70, 43, 16), (32, 6, 79))),
            ("GeoTxt", ((29, 14, 68), (70, 47, 18), (33, 6, 79))),
            ("Topocluster", ((38, 12, 63), (63, 38, 26), None)),
        )
        for corpus, values in zip(("lgl", "wiktor", "geovirus"), rows, strict=False)
        if values
    ),
    *(
        {
            "source": ACL18,
            "system": "GeoNames oracle",
            "corpus": corpus,
            "auc": auc,
            "acc161": acc,
            "basis": "oracle",
        }
        for corpus, auc, acc in (
            ("lgl", 0.04, 0.99),
            ("wiktor", 0.14, 0.92),
            ("geovirus", 0.27, 0.88),
        )
    ),
    _lre18("Topocluster", 0.81, 0.64, 0.71, None),
    _lre18("GeoTxt", 0.80, 0.59, 0.68, 0.74),
    _lre18("Edinburgh Geoparser", 0.71, 0.55, 0.62, 0.67),
    _lre18("Yahoo! Placemaker", 0.64, 0.55, 0.59, 0.67),
    _lre18("CLAVIN", 0.81, 0.44, 0.57, 0.59),
    *(
        {
            "source": MORDECAI,
            "system": "Mordecai 3",
            "corpus": corpus,
            "id_accuracy": ids,
            "acc161": acc,
            "mean_km": mean,
            "n": n,
            "basis": "gold spans",
        }
        for corpus, n, ids, acc, mean in (
            ("lgl", 967, 0.794, 0.827, 303.9),
            ("geowebnews", 474, 0.901, 0.941, 249.4),
        )
    ),
)


# ------------------------------------------------------------------- running


def make_parse_many() -> ParseManyFn:
    """The system under test: mapapp's geoparser built from the usual settings."""
    from mapapp.geoparsing import Geoparser
    from mapapp.settings import load_settings

    geoparser = Geoparser.from_settings(load_settings())
    return geoparser.geoparse_many


def _progress(label: str, started: float):
    """A progress printer for one corpus and setting."""

    def report(done: int, total: int) -> None:
        """Print articles done so far and the time taken."""
        print(
            f"  {label}: {done}/{total} articles, {time.perf_counter() - started:.1f} s", flush=True
        )

    return report


def run_corpus(
    parse_many: ParseManyFn, articles: Sequence[GoldArticle], corpus: str, batch_size: int
) -> tuple[dict[str, list[list[dict]]], dict[str, float]]:
    """Predictions and elapsed seconds per setting for one corpus."""
    predictions, elapsed = {}, {}
    for setting in SETTINGS:
        started = time.perf_counter()
        predictions[setting] = run_system(
            parse_many,
            articles,
            setting,
            batch_size=batch_size,
            progress=_progress(f"{corpus} {setting}", started),
        )
        elapsed[setting] = round(time.perf_counter() - started, 2)
    return predictions, elapsed


def score_corpus(
    articles: Sequence[GoldArticle], corpus: str, predictions: dict[str, list[list[dict]]]
) -> list[Report]:
    """The corpus report, plus a literal-places-only one where the gold has types."""
    reports = [evaluate_corpus(articles, predictions, corpus=corpus)]
    if corpus in HELD_OUT:  # the half the resolver's weights and calibration never saw
        keep = [i for i, a in enumerate(articles) if not in_fit_split(a.id)]
        held = {setting: [preds[i] for i in keep] for setting, preds in predictions.items()}
        reports.append(
            evaluate_corpus([articles[i] for i in keep], held, corpus=f"{corpus} (held-out half)")
        )
    if corpus in LITERAL_BREAKDOWN:
        literal = [literal_only(a) for a in articles]
        reports.append(evaluate_corpus(literal, predictions, corpus=f"{corpus} (literal)"))
    return reports


# ------------------------------------------------------------------- writing


def _cell(value: Any, digits: int = 3) -> str:
    """A Markdown table cell: numbers rounded, missing values as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def results_table(reports: Sequence[Report]) -> str:
    """Our scores, one row per corpus and setting."""
    lines = [
        "| corpus | setting | P | R | F1 | F1 exact | Acc@161 | mean km | median km "
        "| AUC | id acc | n |",
        "|---|---|" + "---:|" * 10,
    ]
    for report in reports:
        for block in report.settings:
            rec, res = block.recognition, block.resolution
            p = f1 = f1_exact = r = None
            if rec is not None:
                r = rec.overlap.recall
                if report.precision_meaningful:
                    p, f1, f1_exact = rec.overlap.precision, rec.overlap.f1, rec.exact.f1
                else:
                    p = f1 = f1_exact = "n/a"
            cells = [
                p,
                r,
                f1,
                f1_exact,
                res.acc161,
                res.mean_km,
                res.median_km,
                res.auc,
                res.id_accuracy,
                res.n,
            ]
            digits = [3, 3, 3, 3, 3, 0, 1, 3, 3, 0]
            row = [report.corpus, block.setting.replace("_", "-")]
            row += [_cell(c, d) for c, d in zip(cells, digits, strict=False)]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _anchor_cell(value: Any) -> str:
    """An anchor number as published: two decimals unless it was given with three."""
    if isinstance(value, float) and value < 1:
        return f"{value:.3f}" if round(value, 2) != value else f"{value:.2f}"
    return _cell(value, 1)


def anchors_table() -> str:
    """Published numbers, as typed from the papers and READMEs cited."""
    keys = ("precision", "recall", "f1", "acc161", "mean_km", "auc", "id_accuracy", "n")
    lines = [
        "| source | system | corpus | basis | P | R | F1 | Acc@161 | mean km | AUC | id acc | n |",
        "|---|---|---|---|" + "---:|" * 8,
    ]
    for anchor in ANCHORS:
        values = [_anchor_cell(anchor.get(k)) for k in keys]
        if anchor.get("f1_overlap") is not None:
            values[2] += f" ({anchor['f1_overlap']:.2f})"
        row = [anchor["source"], anchor["system"], anchor["corpus"], anchor["basis"], *values]
        lines.append("| " + " | ".join(row) + " |")
    notes = [f"- *{basis}*: {text}." for basis, text in BASES.items()]
    return "\n".join(lines + [""] + notes)


def sure_but_wrong(rows: Sequence[CalibrationRow]) -> tuple[int, float | None]:
    """How many predictions scored >= 0.9, and the share of them not within 161 km."""
    sure = [r for r in rows if r.lower >= SURE_SCORE - 1e-9]
    n = sum(r.n for r in sure)
    return n, (sum(r.n * (1 - r.accuracy) for r in sure) / n if n else None)


def reliability_summary(reports: Sequence[Report]) -> str:
    """Per corpus and setting: ECE (10 equal bins) and the share wrong among scores >= 0.9."""
    lines = [
        "| corpus | setting | n scored | ECE | n >= 0.9 | wrong among >= 0.9 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for report in reports:
        for block in report.settings:
            if not block.calibration:
                continue
            n_sure, wrong = sure_but_wrong(block.calibration)
            lines.append(
                f"| {report.corpus} | {block.setting.replace('_', '-')} | "
                f"{sum(r.n for r in block.calibration)} | "
                f"{_cell(expected_calibration_error(block.calibration))} | "
                f"{n_sure} | {_cell(wrong)} |"
            )
    return "\n".join(lines)


def calibration_table(reports: Sequence[Report]) -> str:
    """Reliability of the resolver's score: Acc@161 per score bin (10 equal bins)."""
    lines = [
        "| corpus | setting | score bin | n | mean score | Acc@161 |",
        "|---|---|---|---:|---:|---:|",
    ]
    for report in reports:
        for block in report.settings:
            for row in block.calibration:
                lines.append(
                    f"| {report.corpus} | {block.setting.replace('_', '-')} | "
                    f"{row.label} | {row.n} | {row.mean_score:.3f} | "
                    f"{row.accuracy:.3f} |"
                )
    return "\n".join(lines)


def reliability_diagram(reports: Sequence[Report], path: Path) -> bool:
    """Draw Acc@161 against mean score per bin, one line per report; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for report in reports:
        for block in report.settings:
            if block.calibration:
                ax.plot(
                    [r.mean_score for r in block.calibration],
                    [r.accuracy for r in block.calibration],
                    marker="o",
                    label=f"{report.corpus} {block.setting.replace('_', '-')}",
                )
    ax.set(
        xlabel="mean score in bin",
        ylabel="Acc@161 in bin",
        xlim=(0, 1),
        ylim=(0, 1),
        title="Reliability of mapapp's scores",
    )
    ax.legend(fontsize=6)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True


def render_markdown(reports: Sequence[Report], meta: dict[str, Any]) -> str:
    """The whole Markdown results page."""
    return (
        "\n\n".join(
            [
                "# Geoparsing quality",
                f"mapapp {meta['mapapp_version']} at {meta['git_commit']}, {meta['generated']}; "
                f"NER model `{meta['ner_model']}`; "
                f"articles per corpus: {meta['limit'] or 'all'}.",
                "Recognition is overlap match (one-to-one, largest overlap first; predictions "
                "on ignore spans only are not counted). End-to-end resolution scores the gold "
                "toponyms that recognition matched; gold-spans resolution scores every gold span, "
                "with 20039 km for a span left unresolved. WikToR annotates only each article's "
                "subject, so its precision is n/a.",
                results_table(reports),
                "## Published numbers (orientation only: other protocols)",
                anchors_table(),
                "## Score calibration",
                "A score is meant as the probability of lying within 161 km of the truth "
                "(`benchmarks/fit_calibration.py` fits the map on the train halves). "
                + (
                    "The reliability diagram is `reliability.png`."
                    if meta.get("diagram")
                    else "No reliability diagram: matplotlib is not installed."
                ),
                reliability_summary(reports),
                "### Acc@161 per score bin",
                calibration_table(reports)
                if any(b.calibration for r in reports for b in r.settings)
                else "No prediction carried a score.",
                *events_section(meta.get("events")),
            ]
        )
        + "\n"
    )


def events_section(report: dict[str, Any] | None) -> list[str]:
    """The event-places part of the results page (nothing when the corpus was not run)."""
    if not report:
        return []
    from mapapp.evaluation.events import format_event_report

    return [
        "## Event places",
        "Overlap match, one to one; no-place accuracy is over the records whose gold has no "
        "place. The split: sha1(id) starting with an even hex digit is the fit half "
        "(`benchmarks/fit_events.py`), the rest held out.",
        format_event_report(report),
    ]


def run_events(path: Path, limit: int | None) -> dict[str, Any]:
    """The event corpus's held-out half through the real extractor, and the baseline."""
    from mapapp.evaluation.events import evaluate_events, load_event_records
    from mapapp.events.extract import EventExtractor
    from mapapp.geoparsing import Geoparser
    from mapapp.settings import load_settings

    config = load_settings()
    extractor = EventExtractor.from_geoparser(Geoparser.from_settings(config), config.ner_model)
    return evaluate_events(extractor, load_event_records(path, limit=limit), corpus=path.stem)


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file so a crash leaves the old result whole."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_results(out_dir: Path, reports: Sequence[Report], meta: dict[str, Any]) -> None:
    """quality.json (everything) and quality.md (the tables)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "diagram": reliability_diagram(reports, out_dir / "reliability.png")}
    data = {**meta, "reports": [r.to_dict() for r in reports], "anchors": list(ANCHORS)}
    _write_atomic(out_dir / "quality.json", json.dumps(data, indent=1) + "\n")
    _write_atomic(out_dir / "quality.md", render_markdown(reports, meta))


# ---------------------------------------------------------------------- main


def _git_commit() -> str:
    """The checked-out commit, marked dirty when the tree has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def _corpus_list(value: str) -> list[str]:
    """Parse --corpora, rejecting names we do not know."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CORPORA))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown corpus {', '.join(unknown)}; choose from {', '.join(CORPORA)}"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=DEFAULT_EVAL_DIR,
        help="folder with the gold <corpus>.jsonl files",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="score only the first N articles of each corpus"
    )
    parser.add_argument(
        "--corpora",
        type=_corpus_list,
        default=list(CORPORA),
        help="comma-separated corpora to run (default: all present)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="articles handed to the geoparser per call"
    )
    parser.add_argument(
        "--events",
        type=lambda v: Path(v) if v else None,
        default=DEFAULT_EVENTS,
        help="the event-location corpus (its held-out half is scored); '' skips it",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="where quality.json and quality.md are written",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every requested corpus that is present and write the results."""
    args = parse_args(argv)
    paths = {c: args.eval_dir / f"{c}.jsonl" for c in args.corpora}
    present = {c: p for c, p in paths.items() if p.exists()}
    for corpus in sorted(set(paths) - set(present)):
        print(f"skipping {corpus}: {paths[corpus]} not found", flush=True)
    if not present:
        print(f"no gold corpora found in {args.eval_dir}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        parse_many = make_parse_many()
    except ImportError as err:
        print(f"cannot load mapapp.geoparsing.Geoparser: {err}", file=sys.stderr)
        return 2
    print(f"geoparser ready in {time.perf_counter() - started:.1f} s", flush=True)
    reports, timings = [], {}
    for corpus, path in present.items():
        articles = load_corpus(path, limit=args.limit)
        print(f"{corpus}: {len(articles)} articles", flush=True)
        predictions, timings[corpus] = run_corpus(parse_many, articles, corpus, args.batch_size)
        for report in score_corpus(articles, corpus, predictions):
            print(format_report(report), flush=True)
            reports.append(report)
    meta = _metadata(args, timings, time.perf_counter() - started)
    if args.events is not None and args.events.exists():
        meta["events"] = run_events(args.events, args.limit)
        print(events_section(meta["events"])[-1], flush=True)
    write_results(args.out_dir, reports, meta)
    print(
        f"wrote {args.out_dir / 'quality.json'} and quality.md in {meta['elapsed_s']:.1f} s",
        flush=True,
    )
    return 0


def _metadata(
    args: argparse.Namespace, timings: dict[str, dict[str, float]], elapsed: float
) -> dict[str, Any]:
    """What was run, on what, and how long it took."""
    from mapapp.settings import load_settings

    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "mapapp_version": __version__,
        "git_commit": _git_commit(),
        "ner_model": load_settings().ner_model,
        "limit": args.limit,
        "eval_dir": str(args.eval_dir),
        "elapsed_s": round(elapsed, 1),
        "elapsed_s_by_corpus": timings,
    }


if __name__ == "__main__":
    sys.exit(main())
