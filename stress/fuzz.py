"""Fuzz at scale: the property tests with fresh random cases, then the big inputs.

1. ``tests/test_fuzz.py``'s property tests (parser, file readers, geoparse
   lines, geoparser offsets, every route, query string, path and method) with
   ``MAPAPP_FUZZ_SCALE`` times as many examples, drawn afresh (not the fixed
   cases CI sees); hypothesis' statistics give the number of cases run.
2. The inputs too big for the test suite, each through the real command line
   in a subprocess, into a store that already holds the sample articles:

   * a 50 MB story as .txt, as one JSON line and as one CSV cell;
   * 100,000 one-line stories in one .jsonl file (ingested, then re-ingested);
   * a story listing 10,000 places, and a geoparse request with 10,000 spans;
   * 100,000 geoparse request lines, a tenth of them malformed;
   * 5 MB of random bytes named .txt, .jsonl and .csv;
   * odd files beside good stories: a FIFO and a socket named as stories, a
     mode-000 file and an unreadable sub-folder (run without root's power over
     file modes), a PDF and a .bin in a folder; bidi controls and a formula in
     a headline, then the CSV export of them.

   Each must end in stored articles or ``skipped:``/``Error:`` lines naming
   the input, with no traceback, and nothing stored before may be lost.

Figures go to ``benchmarks/results/fuzz.json`` and ``fuzz.md``; exit 1 on any
failure.

    python stress/fuzz.py [--scale 40] [--skip-properties] [--skip-big]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_reliability import SUMMARY, ingest_env  # noqa: E402

from mapapp.recognition.gazetteer_cache import load_gazetteer  # noqa: E402
from mapapp.settings import load_settings  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "results"
PLACES = [
    "Lagos",
    "Ibadan",
    "Accra",
    "Nairobi",
    "Kampala",
    "Dakar",
    "Abuja",
    "Kano",
    "Lome",
    "Cotonou",
    "Paris",
    "Lyon",
    "Berlin",
    "Madrid",
    "Rome",
    "Tokyo",
    "Lima",
    "Quito",
]


def run_properties(scale: int, env: dict[str, str]) -> dict[str, Any]:
    """The property tests of tests/test_fuzz.py at ``scale``; cases counted per test."""
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_fuzz.py",
            "-k",
            "not every_bad_input and not crlf_or_bom and not extreme",
            "--hypothesis-show-statistics",
        ],
        cwd=ROOT,
        env={**env, "MAPAPP_FUZZ_SCALE": str(scale)},
        capture_output=True,
        text=True,
    )
    counts: dict[str, int] = {}
    current = None
    for line in done.stdout.splitlines():
        if line.startswith("tests/test_fuzz.py::"):
            current = line.split("::")[1].rstrip(":")
        found = re.search(r"(\d+) passing(?: examples)?, (\d+) failing", line)
        if found and current:
            counts[current] = counts.get(current, 0) + int(found[1]) + int(found[2])
    tail = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else [done.stderr[-300:]]
    return {
        "cases": counts,
        "total": sum(counts.values()),
        "passed": done.returncode == 0,
        "result": tail[0],
        "seconds": round(time.monotonic() - started),
    }


def cli(
    env: dict[str, str], *args: str, stdin: bytes | None = None, prefix: Sequence[str] = ()
) -> tuple[int, str, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "mapapp", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=3600,
    )
    return (
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def stored_ids(store: Path) -> set[str]:
    from mapapp.stores import open_store

    return open_store(store).known_ids()


class Big:
    """The big cases, each checked the same way."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env, self.results, self.failures = folder, env, [], []
        self.store = folder / "store" / "mapapp.gpkg"
        code, _, err, _ = cli(
            env, "ingest", str(ROOT / "data"), "--store", str(self.store), "--quiet"
        )
        assert code == 0, err

    def ingest(
        self, name: str, *paths: Path, stored: int, skipped: int, unprivileged: bool = False
    ) -> None:
        """Ingest ``paths``; ``unprivileged`` runs without root's power over file modes."""
        before = stored_ids(self.store)
        code, out, err, seconds = cli(
            self.env,
            "ingest",
            *map(str, paths),
            "--store",
            str(self.store),
            "--quiet",
            prefix=UNPRIVILEGED if unprivileged and os.geteuid() == 0 else (),
        )
        after = stored_ids(self.store)
        lines = [line for line in err.splitlines() if line.strip()]
        if not stored and lines and lines[-1].startswith("Error: found no story to ingest in "):
            lines.pop()  # the sentence a run that stores nothing new ends with
        skips = [line for line in lines if line.startswith("skipped: ")]
        match = SUMMARY.search(out)
        problems = []
        if "Traceback" in err:
            problems.append("traceback")
        if any(not line.startswith(("skipped: ", "note: ")) for line in lines):
            problems.append(f"unexpected stderr {lines[:2]}")
        named = all(any(str(path) in line for path in paths) for line in skips)
        if len(skips) != skipped or not named:
            problems.append(f"{len(skips)} skipped lines, expected {skipped} naming the file")
        if not match or int(match["new"]) != stored or len(after - before) != stored:
            problems.append(f"stored {len(after - before)}, expected {stored}: {out[-200:]}")
        if not before <= after:
            problems.append("articles stored before were lost")
        if code != (2 if skipped else 0):
            problems.append(f"exit {code}")
        size = sum(p.stat().st_size for p in paths if p.is_file())
        self.record(name, seconds, problems, skips[:1] or [out.strip()[-120:]], size=size)

    def geoparse(self, name: str, data: bytes, *, answered: int, refused: int) -> None:
        code, out, err, seconds = cli(self.env, "geoparse", "--store", str(self.store), stdin=data)
        replies = [json.loads(line) for line in out.splitlines() if line.strip()]
        errors = [r for r in replies if "error" in r]
        problems = []
        if "Traceback" in err:
            problems.append("traceback")
        if len(replies) != answered + refused or len(errors) != refused:
            problems.append(
                f"{len(replies)} replies ({len(errors)} errors), expected "
                f"{answered + refused} ({refused})"
            )
        if code != (2 if refused else 0):
            problems.append(f"exit {code}")
        self.record(name, seconds, problems, [e["error"] for e in errors[:1]], size=len(data))

    def record(
        self, name: str, seconds: float, problems: list[str], sample: list[str], size: int
    ) -> None:
        self.results.append(
            {
                "case": name,
                "bytes": size,
                "seconds": round(seconds, 1),
                "ok": not problems,
                "problems": problems,
                "message": (sample or [""])[0][:200],
            }
        )
        self.failures += [f"{name}: {p}" for p in problems]
        print(
            f"{'ok ' if not problems else 'FAILED'} {name} ({seconds:.1f} s) {problems}", flush=True
        )


def big_cases(folder: Path, env: dict[str, str]) -> Big:
    rng = random.Random(11)
    big = Big(folder, env)
    fifty = "LAGOS -- " + "Rain fell on Lagos and the farms around Ibadan. " * 1_100_000
    (folder / "fifty.txt").write_text("A very long story\n\n" + fifty, encoding="utf-8")
    big.ingest("50 MB story (.txt)", folder / "fifty.txt", stored=0, skipped=1)
    (folder / "fifty.jsonl").write_text(
        json.dumps({"headline": "Long", "text": fifty})
        + "\n"
        + json.dumps({"text": "Rain in Accra."})
        + "\n",
        encoding="utf-8",
    )
    big.ingest("50 MB story (.jsonl) + a small one", folder / "fifty.jsonl", stored=1, skipped=1)
    (folder / "fifty.csv").write_text(
        'headline,text\nLong,"' + fifty + '"\nShort,Snow in Oslo.\n', encoding="utf-8"
    )
    big.ingest("50 MB story (.csv cell) + a small one", folder / "fifty.csv", stored=1, skipped=1)
    del fifty

    with (folder / "many.jsonl").open("w", encoding="utf-8") as out:
        for i in range(100_000):
            out.write(
                json.dumps(
                    {
                        "headline": f"Brief {i}",
                        "text": f"Rain hit {PLACES[i % 18]} on day {i}.",
                        "date": f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                    }
                )
                + "\n"
            )
    big.ingest("100,000 one-line stories", folder / "many.jsonl", stored=100_000, skipped=0)
    big.ingest("the same 100,000 again", folder / "many.jsonl", stored=0, skipped=0)

    places = ", ".join(PLACES[i % 18] for i in range(10_000))
    (folder / "places.txt").write_text(
        f"Every place\n\nLAGOS -- Flooded: {places}.\n", encoding="utf-8"
    )
    big.ingest("a story listing 10,000 places", folder / "places.txt", stored=1, skipped=0)
    text = f"Flooded: {places}."
    spans, at = [], len("Flooded: ")
    for i in range(10_000):
        name = PLACES[i % 18]
        spans.append([at, at + len(name)])
        at += len(name) + 2
    big.geoparse(
        "geoparse: 10,000 given spans",
        (json.dumps({"id": 1, "text": text, "spans": spans}) + "\n").encode(),
        answered=1,
        refused=0,
    )

    lines, bad = [], 0
    for i in range(100_000):
        if i % 10 == 0:
            lines.append(
                rng.choice(
                    [
                        b"{bad",
                        b"[" * 3000,
                        b'{"text": 5}',
                        b"\xff\xfe",
                        b'{"text": "x", "spans": [[5, 1]]}',
                    ]
                )
            )
            bad += 1
        else:
            lines.append(json.dumps({"id": i, "text": f"Talks in {PLACES[i % 18]}."}).encode())
    big.geoparse(
        "geoparse: 100,000 lines, a tenth malformed",
        b"\n".join(lines) + b"\n",
        answered=100_000 - bad,
        refused=bad,
    )

    noise = rng.randbytes(5_000_000)
    for suffix in (".txt", ".jsonl", ".csv"):
        (folder / f"noise{suffix}").write_bytes(noise)
        big.ingest(
            f"5 MB of random bytes ({suffix})", folder / f"noise{suffix}", stored=0, skipped=1
        )
    return big


UNPRIVILEGED = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def odd_files(folder: Path, big: Big) -> Big:
    """Non-regular files, permission errors and bidi text, each beside a good story."""
    odd = folder / "odd"
    odd.mkdir()

    def good(tag: str) -> Path:
        path = odd / f"good-{tag}.txt"
        path.write_text(f"Storm {tag}\n\nLAGOS -- A storm ({tag}) hit Lagos.\n", encoding="utf-8")
        return path

    fifo = odd / "pipe.txt"
    os.mkfifo(fifo)
    big.ingest("a FIFO named .txt, beside a story", fifo, good("fifo"), stored=1, skipped=1)
    sock_path = odd / "socket.jsonl"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        big.ingest("a socket named .jsonl", sock_path, good("socket"), stored=1, skipped=1)
    finally:
        sock.close()
    secret = odd / "secret.txt"
    secret.write_text("Hidden\n\nLAGOS -- Hidden in Lagos.\n", encoding="utf-8")
    secret.chmod(0)
    big.ingest(
        "an unreadable file", secret, good("mode-000"), stored=1, skipped=1, unprivileged=True
    )
    tree = odd / "tree"
    (tree / "locked").mkdir(parents=True)
    (tree / "locked" / "inside.txt").write_text("In\n\nLAGOS -- In Lagos.\n", encoding="utf-8")
    (tree / "scan.pdf").write_bytes(b"%PDF-1.7")
    (tree / "blob.bin").write_bytes(bytes(range(256)))
    good("tree").rename(tree / "good.txt")
    (tree / "locked").chmod(0)
    big.ingest(
        "a folder: an unreadable sub-folder, a PDF, a .bin",
        tree,
        stored=1,
        skipped=3,
        unprivileged=True,
    )
    (tree / "locked").chmod(0o755)
    bidi = odd / "bidi.jsonl"
    headline = "=HYPERLINK(1) \u202egnp.exe"
    bidi.write_text(
        json.dumps({"headline": headline, "text": "Rain in \u2067Accra\u2069 today."}) + "\n",
        encoding="utf-8",
    )
    big.ingest("bidi controls and a formula in a headline", bidi, stored=1, skipped=0)
    out = odd / "export.csv"
    code, _, err, seconds = cli(big.env, "export", "--store", str(big.store), "-o", str(out))
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    problems = [f"exit {code}: {err[-200:]}"] if code else []
    if any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"):
        problems.append("a bidi control reached the CSV")
    if ",=HYPERLINK" in text or "\n=HYPERLINK" in text:
        problems.append("a formula cell reached the CSV")
    big.record("CSV export of those", seconds, problems, ["'=HYPERLINK(1) gnp.exe"], len(text))
    return big


def markdown(report: dict[str, Any]) -> str:
    props = report.get("properties") or {}
    lines = [
        "# Fuzz at scale",
        "",
        f"`python stress/fuzz.py --scale {report['scale']}` "
        f"({report['when']}, {report['seconds']} s).",
        "",
    ]
    if props:
        lines += [
            f"Property tests: {props['total']:,} cases, {props['result']} ({props['seconds']} s).",
            "",
            "| property | cases |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {n:,} |" for name, n in props["cases"].items()]
        lines.append("")
    if report.get("big"):
        lines += ["| big input | size | seconds | ok | outcome |", "|---|---:|---:|---|---|"]
        for r in report["big"]:
            lines.append(
                f"| {r['case']} | {r['bytes'] / 1e6:.1f} MB | {r['seconds']} | "
                f"{'yes' if r['ok'] else 'NO'} | {r['message'].replace('|', '/')} |"
            )
    lines += ["", f"Failures: {len(report['failures'])}"] + [f"- {f}" for f in report["failures"]]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=40, help="times the suite's examples")
    parser.add_argument("--skip-properties", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    started = time.monotonic()
    report: dict[str, Any] = {
        "scale": args.scale,
        "failures": [],
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    previous = args.out / "fuzz.json"
    if (args.skip_big or args.skip_properties) and previous.exists():  # keep the other half
        kept = json.loads(previous.read_text(encoding="utf-8"))
        for part, skipped in (("properties", args.skip_properties), ("big", args.skip_big)):
            if skipped and part in kept:
                report[part] = kept[part]
                report["failures"] += [
                    f
                    for f in kept.get("failures", [])
                    if f.startswith("property") == (part == "properties")
                ]
    with tempfile.TemporaryDirectory(prefix="mapapp-fuzz-") as scratch:
        folder = Path(scratch)
        cache = Path(os.environ.get("MAPAPP_CACHE_DIR") or folder / "cache")
        load_gazetteer(Path(load_settings().data_packages), cache)
        env = ingest_env(cache)
        if not args.skip_properties:
            report["properties"] = run_properties(args.scale, env)
            if not report["properties"]["passed"]:
                report["failures"].append(f"property tests: {report['properties']['result']}")
        if not args.skip_big:
            big = odd_files(folder, big_cases(folder, env))
            report["big"], report["failures"] = big.results, report["failures"] + big.failures
    report["seconds"] = round(time.monotonic() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fuzz.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "fuzz.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
