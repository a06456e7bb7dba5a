"""Event places scored against an event-location gold corpus (``../shared/events/``).

Each record is one sentence, its event trigger and the spans of the places
where that event happened (none when the sentence does not say).  Two
settings, one parse: *gold trigger* (the extractor is told the trigger, as
``mapapp events`` with ``"trigger"``) and *end to end* (the extractor finds
its own triggers; the record's event is the found one whose trigger overlaps
the gold trigger, and a record whose trigger it never found predicts no
place).  Beside mapapp, in the same run, the obvious baseline: every place
spaCy's NER (GPE/LOC/FAC) finds in the sentence.  Places are matched one to
one by span overlap (and exactly, the strict variant).  The documented split:
records whose sha1(id) starts with an even hex digit are the fit half
(``benchmarks/fit_events.py``), the others the held-out half, which is what
is reported unless asked otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Span = tuple[int, int]
GOLD_TRIGGER, END_TO_END = "gold_trigger", "end_to_end"
EVENT_SETTINGS = (GOLD_TRIGGER, END_TO_END)
HALVES = ("held_out", "fit", "all")
NER_PLACES = ("GPE", "LOC", "FAC")


def is_fit(record_id: str) -> bool:
    """The documented split: sha1(id) starting with an even hex digit is the fit half."""
    return int(hashlib.sha1(record_id.encode("utf-8")).hexdigest()[0], 16) % 2 == 0


def is_event_corpus(path: Path) -> bool:
    """Does ``path`` hold event-location records (``event`` and ``locations``) rather than
    geoparsing gold articles?"""
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and "event" in first and "locations" in first
    return False


def load_event_records(
    path: Path, *, half: str = "held_out", limit: int | None = None
) -> list[dict[str, Any]]:
    """The corpus records of ``half`` (held_out, fit or all), the first ``limit`` of them.

    :raise ValueError: a line that is not a record, naming the file and line.
    """
    if half not in HALVES:
        raise ValueError(f"unknown half {half!r}: use {', '.join(HALVES)}")
    records = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                record["event"]["start"], record["event"]["end"], record["text"]  # noqa: B018
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise ValueError(f"{path}:{number}: not an event-location record ({err})") from err
            if half == "all" or (half == "fit") == is_fit(record["id"]):
                records.append(record)
            if limit is not None and len(records) >= limit:
                break
    return records


def gold_spans(record: dict[str, Any]) -> list[Span]:
    """The record's gold event-place spans."""
    return [(g["start"], g["end"]) for g in record["locations"]]


def match(predicted: Sequence[Span], gold: Sequence[Span], strict: bool = False) -> int:
    """The number of one-to-one matched pairs (overlap, or exact offsets when strict)."""
    used: set[int] = set()
    hits = 0
    for p in predicted:
        for i, g in enumerate(gold):
            ok = p == g if strict else p[0] < g[1] and g[0] < p[1]
            if i not in used and ok:
                used.add(i)
                hits += 1
                break
    return hits


def score(pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]]) -> dict[str, Any]:
    """Micro P/R/F1 (overlap and strict) and the accuracy on records whose gold is empty."""
    c: Counter[str] = Counter()
    for predicted, gold in pairs:
        for kind, strict in (("", False), ("strict_", True)):
            tp = match(predicted, gold, strict)
            c[kind + "tp"] += tp
            c[kind + "fp"] += len(predicted) - tp
            c[kind + "fn"] += len(gold) - tp
        c["records"] += 1
        c["gold_empty" if not gold else "gold_some"] += 1
        c["empty_right"] += not gold and not predicted
    out: dict[str, Any] = {"records": c["records"], "gold_empty": c["gold_empty"]}
    for kind in ("", "strict_"):
        tp, fp, fn = c[kind + "tp"], c[kind + "fp"], c[kind + "fn"]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[kind + "precision"] = round(p, 4)
        out[kind + "recall"] = round(r, 4)
        out[kind + "f1"] = round(2 * p * r / (p + r) if p + r else 0.0, 4)
    out["no_place_accuracy"] = round(c["empty_right"] / max(1, c["gold_empty"]), 4)
    return out


def predict(extractor: Any, records: Sequence[dict[str, Any]], batch_size: int = 64) -> dict:
    """mapapp's places per record in both settings, the baseline's, and triggers found."""
    from mapapp.events.extract import with_entities

    texts = [r["text"] for r in records]
    docs = extractor.parse_many(texts, batch_size)
    candidates = [
        with_entities(d, c) for d, c in zip(docs, extractor.candidates_many(texts), strict=True)
    ]
    out: dict[str, Any] = {GOLD_TRIGGER: [], END_TO_END: [], "baseline": [], "found": 0}
    for record, doc, places in zip(records, docs, candidates, strict=True):
        trigger = (record["event"]["start"], record["event"]["end"])
        given = extractor.events_of(doc, places, None, trigger)
        out[GOLD_TRIGGER].append([(p.start, p.end) for e in given for p in e.places])
        found = [
            e
            for e in extractor.events_of(doc, places, None, None)
            if e.trigger_start < trigger[1] and trigger[0] < e.trigger_end
        ]
        out["found"] += bool(found)
        out[END_TO_END].append([(p.start, p.end) for p in (found[0].places if found else ())])
        out["baseline"].append(
            [(e.start_char, e.end_char) for e in doc.ents if e.label_ in NER_PLACES]
        )
    return out


def evaluate_events(
    extractor: Any, records: Sequence[dict[str, Any]], *, corpus: str = "", half: str = "held_out"
) -> dict[str, Any]:
    """Both settings and the baseline on ``records``, as one JSON-ready report."""
    found = predict(extractor, records)
    gold = [gold_spans(r) for r in records]
    return {
        "corpus": corpus,
        "half": half,
        "records": len(records),
        "trigger_recall": round(found["found"] / max(1, len(records)), 4),
        "settings": {
            setting: {
                "mapapp": score(zip(found[setting], gold, strict=True)),
                "baseline": score(zip(found["baseline"], gold, strict=True)),
            }
            for setting in EVENT_SETTINGS
        },
    }


def format_event_report(report: dict[str, Any]) -> str:
    """The report as a Markdown table (what ``mapapp evaluate`` prints)."""
    rows = [
        f"Event places, {report['corpus']} ({report['half']} half, {report['records']} records; "
        f"end to end found {report['trigger_recall']:.1%} of the gold triggers)",
        "",
        "| setting | system | P | R | F1 | strict F1 | no-place accuracy |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for setting, systems in report["settings"].items():
        for system, s in systems.items():
            name = "every NER place (baseline)" if system == "baseline" else system
            rows.append(
                f"| {setting.replace('_', ' ')} | {name} | {s['precision']:.3f} "
                f"| {s['recall']:.3f} | {s['f1']:.3f} | {s['strict_f1']:.3f} "
                f"| {s['no_place_accuracy']:.3f} |"
            )
    return "\n".join(rows)
