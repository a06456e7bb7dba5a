"""Event-place quality of mapapp on the shared event-location corpus (issue 15).

Gold-trigger setting: each record's sentence goes through the real extractor
(`mapapp.events.extract.EventExtractor`, the code behind ``mapapp events``)
with its gold trigger; the predicted place spans are matched one-to-one to the
gold spans by overlap (and exactly, the strict variant).  The baseline, run on
the same records, takes every place spaCy's NER (GPE/LOC/FAC) finds in the
sentence.  Records whose sha1(id) starts with an even hex digit are the fit
half (``benchmarks/fit_events.py`` fits on them only); the other half is held
out and reported on its own.  Writes ``results/events.json`` and ``events.md``.

    python benchmarks/events_quality.py [--corpus ../shared/events/event_location.jsonl]
                                        [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "events" / "event_location.jsonl"
DEFAULT_OUT_DIR = ROOT / "benchmarks" / "results"
NER_PLACES = ("GPE", "LOC", "FAC")

# the split, the gold spans and the one-to-one matching are the evaluation's own
from mapapp.evaluation.events import Span, gold_spans, is_fit, match  # noqa: E402


def load_records(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The corpus records (the first ``limit`` of them when given)."""
    records = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                records.append(json.loads(line))
            if limit is not None and len(records) >= limit:
                break
    return records


def score(pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]]) -> dict[str, Any]:
    """Micro P/R/F1 (overlap and strict) and the no-location accuracy over (predicted, gold)."""
    c: Counter[str] = Counter()
    for predicted, gold in pairs:
        for kind, strict in (("", False), ("strict_", True)):
            tp = match(predicted, gold, strict)
            c[kind + "tp"] += tp
            c[kind + "fp"] += len(predicted) - tp
            c[kind + "fn"] += len(gold) - tp
        c["records"] += 1
        c["gold_empty" if not gold else "gold_some"] += 1
        c["agree"] += (not predicted) == (not gold)
        c["empty_right"] += not gold and not predicted
        c["some_right"] += bool(gold) and bool(predicted)
    out: dict[str, Any] = {"records": c["records"]}
    for kind in ("", "strict_"):
        tp, fp, fn = c[kind + "tp"], c[kind + "fp"], c[kind + "fn"]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[kind + "precision"] = round(p, 4)
        out[kind + "recall"] = round(r, 4)
        out[kind + "f1"] = round(2 * p * r / (p + r) if p + r else 0.0, 4)
    out["no_place_accuracy"] = round(c["agree"] / max(1, c["records"]), 4)
    out["gold_empty_accuracy"] = round(c["empty_right"] / max(1, c["gold_empty"]), 4)
    out["gold_some_accuracy"] = round(c["some_right"] / max(1, c["gold_some"]), 4)
    out["gold_empty"], out["gold_some"] = c["gold_empty"], c["gold_some"]
    return out


def run(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Our extractor and the NER baseline on the records, scored per half and per source."""
    from mapapp.events.extract import EventExtractor, with_entities
    from mapapp.geoparsing import Geoparser
    from mapapp.settings import load_settings

    config = load_settings({}, {})
    extractor = EventExtractor.from_geoparser(Geoparser.from_settings(config), config.ner_model)
    texts = [r["text"] for r in records]
    started = time.perf_counter()
    docs = extractor.parse_many(texts, 64)
    candidates = [
        with_entities(d, c) for d, c in zip(docs, extractor.candidates_many(texts), strict=True)
    ]
    events = [
        extractor.events_of(doc, places, None, (r["event"]["start"], r["event"]["end"]))
        for r, doc, places in zip(records, docs, candidates, strict=True)
    ]
    seconds = time.perf_counter() - started
    baseline = [
        [(e.start_char, e.end_char) for e in d.ents if e.label_ in NER_PLACES] for d in docs
    ]
    ours = [[(p.start, p.end) for e in found for p in e.places] for found in events]
    offered = [[(c.start, c.end) for c in places] for places in candidates]
    halves: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        halves["fit" if is_fit(r["id"]) else "held_out"].append(i)
        halves["all"].append(i)
    report: dict[str, Any] = {"seconds": round(seconds, 1), "halves": {}, "by_source": {}}
    for name, index in halves.items():
        report["halves"][name] = {
            "mapapp": score((ours[i], gold_spans(records[i])) for i in index),
            "baseline_ner": score((baseline[i], gold_spans(records[i])) for i in index),
        }
    by_source: dict[str, list[int]] = defaultdict(list)
    for i in halves["held_out"]:
        by_source[records[i]["source"]].append(i)
    for source, index in sorted(by_source.items()):
        report["by_source"][source] = score((ours[i], gold_spans(records[i])) for i in index)
    report["errors"] = error_classes(records, ours, offered, halves["held_out"])
    return report


def error_classes(
    records: list[dict[str, Any]],
    ours: list[list[Span]],
    offered: list[list[Span]],
    index: list[int],
) -> dict[str, int]:
    """Why the held-out records' errors happen: a place never recognised, or a wrong choice."""
    c: Counter[str] = Counter()
    for i in index:
        gold = gold_spans(records[i])
        for g in gold:
            if match(ours[i], [g]):
                continue
            c["fn_not_recognised" if not match(offered[i], [g]) else "fn_rejected"] += 1
        for p in ours[i]:
            if not match([p], gold):
                c["fp_gold_empty" if not gold else "fp_other_place"] += 1
    return dict(sorted(c.items()))


def markdown(report: dict[str, Any]) -> str:
    """The report as a short Markdown page."""
    rows = [
        "# Event places: mapapp vs every place spaCy's NER finds (gold trigger given)",
        "",
        f"Corpus: `{report['corpus']}` ({report['records']} records), run {report['run_at']}, "
        f"{report['seconds']} s. Split: sha1(id) starting with an even hex digit is the fit "
        "half (fitted on by `benchmarks/fit_events.py`); the other half is held out.",
        "",
        "| half | system | P | R | F1 | strict F1 | no-place acc | gold-empty acc "
        "| gold-some acc | records |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for half in ("held_out", "fit", "all"):
        for system, s in report["halves"].get(half, {}).items():
            rows.append(
                f"| {half} | {system} | {s['precision']:.3f} | {s['recall']:.3f} "
                f"| {s['f1']:.3f} | {s['strict_f1']:.3f} | {s['no_place_accuracy']:.3f} "
                f"| {s['gold_empty_accuracy']:.3f} | {s['gold_some_accuracy']:.3f} "
                f"| {s['records']} |"
            )
    rows += ["", "## Held-out half per source (mapapp)", "", "| source | F1 | no-place acc "
             "| gold-empty acc | records |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for source, s in report["by_source"].items():
        rows.append(
            f"| {source} | {s['f1']:.3f} | {s['no_place_accuracy']:.3f} "
            f"| {s['gold_empty_accuracy']:.3f} | {s['records']} |"
        )
    rows += ["", "## Held-out errors (mapapp)", ""]
    rows += [f"- {name}: {n}" for name, n in report["errors"].items()]
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation and write results/events.{json,md}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(f"skipped: {args.corpus} is absent")
        return 0
    records = load_records(args.corpus, args.limit)
    report = {
        "corpus": args.corpus.name,
        "records": len(records),
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **run(records),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "events.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    (args.out_dir / "events.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
