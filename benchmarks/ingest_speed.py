"""How fast ``mapapp ingest`` runs beside the NER model it cannot avoid.

Every figure is a ratio of two runs made by this script in the same go, so a
busy machine slows both sides alike.  Each run is its own process; its wall
time, CPU time and peak RSS come from ``wait4``.

1. Throughput: ``mapapp ingest`` of the sample corpus scaled to 5,000
   articles (variants of data/ whose digits, dates and headlines differ, so
   every content hash is new), in articles/s, divided by the bare
   ``nlp.pipe`` of the same model, components and batch size on the same
   texts (target >= 0.8).
2. Cold start: ``mapapp geoparse`` from launch to its first output line, with
   an empty gazetteer cache (the index is built) and with a warm one (target
   < 2 s), beside ``python -c "import spacy"``.
3. Both cores: ``--workers 2`` over ``--workers 1`` on the same corpus
   (target >= 1.7).
4. Memory and growth: ingests of 1k, 10k and 50k articles streamed into a
   fresh store: time, store size and peak RSS, beside the gazetteer's own
   footprint.  These runs recognise with the gazetteer alone
   (MAPAPP_NER_MODEL=none): 50k articles through the model would take about
   half an hour on one core, and the memory and growth questions are about
   reading, resolving and writing, which are the same.

    python benchmarks/ingest_speed.py [--quick] [--out-dir benchmarks/results]

``--only events`` measures what event extraction costs an ingest: the same
corpus ingested with MAPAPP_EVENTS=1 and =0 in turn, into
``ingest_speed[-quick]-events.{json,md}``.

``--quick`` is a smoke run (small sizes, no cold build) written to
``ingest_speed-quick.{json,md}`` so that it never replaces the real figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT_DIR = ROOT / "benchmarks" / "results"
NER_BATCH = 32  # what Geoparser.parse_articles hands to nlp.pipe
FULL = {"throughput": 5000, "workers": 5000, "growth": (1000, 10_000, 50_000), "repeats": 3}
QUICK = {"throughput": 200, "workers": 200, "growth": (100, 400, 1000), "repeats": 1}
TARGETS = {"throughput_ratio": 0.8, "warm_start_s": 2.0, "workers_speedup": 1.7}


# -- the corpus -----------------------------------------------------------------


def _rotate_digits(text: str, k: int) -> str:
    return re.sub(r"\d", lambda m: str((int(m.group()) + k) % 10), text)


def make_corpus(out: Path, rounds: int) -> list[Path]:
    """``rounds`` folders of variants of every article in data/ (one folder per variant)."""
    from mapapp.articles import iter_articles

    txts = sorted((ROOT / "data").glob("*.txt"))
    records = [
        a
        for a in iter_articles([ROOT / "data" / "samples.jsonl", ROOT / "data" / "samples.csv"])
        if not isinstance(a, Exception)
    ]
    folders = []
    for k in range(rounds):
        folder = out / f"round-{k:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for path in txts:  # the plain-text layout, footer date kept so it still parses
            lines = path.read_text(encoding="utf-8").split("\n")
            body = [line if "Section on" in line else _rotate_digits(line, k) for line in lines[1:]]
            (folder / path.name).write_text(
                "\n".join([f"{lines[0]} (#{k})", *body]), encoding="utf-8"
            )
        with (folder / "feed.jsonl").open("w", encoding="utf-8") as feed:
            for a in records:
                day = (a.published or date(2026, 1, 1)) + timedelta(days=k % 365)
                feed.write(
                    json.dumps(
                        {
                            "headline": f"{a.headline} (#{k})",
                            "date": day.isoformat(),
                            "text": _rotate_digits(a.text, k),
                            "url": f"{a.url}?v={k}",
                        }
                    )
                    + "\n"
                )
        folders.append(folder)
    return folders


def per_round() -> int:
    from mapapp.articles import iter_articles

    return sum(1 for a in iter_articles([ROOT / "data"]) if not isinstance(a, Exception))


# -- running and measuring a process ---------------------------------------------


@dataclass
class Run:
    """One measured process, and how busy the rest of the machine was meanwhile."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    output: str
    others_cores: float = 0.0  # cores' worth of CPU that other processes used during the run


def _busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``args`` to completion: its wall time, CPU time (user + sys) and peak RSS.

    The child is reaped with ``wait4``, which reports its own resource use.
    """
    started, busy = time.perf_counter(), _busy_s()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        others = max(0.0, _busy_s() - busy - usage.ru_utime - usage.ru_stime) / wall
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        return Run(
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
            out.read(),
            round(others, 2),
        )


def first_line_s(args: list[str], env: dict[str, str], line: str) -> float:
    """Seconds from launching ``args`` to its first line on stdout (stdin gets ``line``)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdin.write(line + "\n")
    proc.stdin.close()
    got = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    proc.stdout.read()
    if proc.wait() != 0 or not got:
        raise SystemExit(f"{' '.join(args)} gave no answer")
    return elapsed


def environment(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env.update({"MAPAPP_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **extra})
    return env


def ingest(paths: list[Path], store: Path, env: dict[str, str], *extra: str) -> Run:
    args = [
        sys.executable,
        "-m",
        "mapapp",
        "ingest",
        *map(str, paths),
        "--store",
        str(store),
        "--quiet",
        *extra,
    ]
    return run(args, env)


# -- children: the bare NER baseline, the gazetteer's footprint -------------------------


def child_ner(texts_file: str, full_pipeline: str) -> None:
    """Time nlp.pipe on the texts (model as mapapp loads it, or with every component)."""
    from mapapp.recognition.toponyms import load_ner
    from mapapp.settings import load_settings

    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    name = load_settings().ner_model
    if full_pipeline == "1":
        import spacy

        nlp = spacy.load(name, exclude=["lemmatizer"])
    else:
        nlp = load_ner(name)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=NER_BATCH):
        pass
    print(
        json.dumps(
            {
                "wall_s": time.perf_counter() - started,
                "cpu_s": time.process_time() - cpu,
                "components": nlp.pipe_names,
            }
        )
    )


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_footprint() -> None:
    """RSS the gazetteer index adds to a process that has imported everything else."""
    from mapapp.recognition.gazetteer_cache import load_gazetteer
    from mapapp.settings import load_settings

    config = load_settings()
    before = _rss_mb()
    gazetteer = load_gazetteer(Path(config.data_packages), config.cache_folder)
    print(json.dumps({"gazetteer_mb": _rss_mb() - before, "entries": len(gazetteer)}))


# -- the measurements ---------------------------------------------------------------


def texts_of(paths: list[Path], out: Path) -> int:
    from mapapp.articles import iter_articles

    texts = [a.text for a in iter_articles(paths) if not isinstance(a, Exception)]
    out.write_text(json.dumps(texts), encoding="utf-8")
    return len(texts)


def ner_run(texts: Path, env: dict[str, str], full: bool = False) -> dict[str, Any]:
    out = run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "ner",
            str(texts),
            "1" if full else "0",
        ],
        env,
    )
    return json.loads(out.output) | {"others_cores": out.others_cores}


def throughput(folders: list[Path], work: Path, cache: Path) -> dict[str, Any]:
    """Ingest vs bare NER on the same texts; NER before and after, averaged."""
    env = environment(cache)
    texts = work / "texts.json"
    n = texts_of(folders, texts)
    ner_before = ner_run(texts, env)
    run_1 = ingest(folders, work / "w1.gpkg", env)
    ner_after = ner_run(texts, env)
    full = ner_run(texts, env, full=True)
    ner_wall = (ner_before["wall_s"] + ner_after["wall_s"]) / 2
    ner_cpu = (ner_before["cpu_s"] + ner_after["cpu_s"]) / 2
    return {
        "articles": n,
        "ner_batch_size": NER_BATCH,
        "components": ner_before["components"],
        "ner_s": [ner_before["wall_s"], ner_after["wall_s"]],
        "others_cores": [ner_before["others_cores"], run_1.others_cores, ner_after["others_cores"]],
        "ner_articles_per_s": n / ner_wall,
        "ingest": asdict(run_1) | {"output": run_1.output.strip()},
        "ingest_articles_per_s": n / run_1.wall_s,
        "ratio": ner_wall / run_1.wall_s,
        "ratio_cpu": ner_cpu / run_1.cpu_s,
        "full_pipeline_s": full["wall_s"],
        "full_pipeline_components": full["components"],
        "ratio_vs_full_pipeline": full["wall_s"] / run_1.wall_s,
    }


def events_cost(folders: list[Path], work: Path, cache: Path) -> dict[str, Any]:
    """Ingest with events (the default) against MAPAPP_EVENTS=0 on the same texts, run in
    turn off, on, off, on after one warm-up run; the ratio of the mean wall (and CPU) times."""
    n = sum(per_round() for _ in folders)
    runs: dict[str, list[Run]] = {"off": [], "on": []}
    ingest(folders, work / "events-warm.gpkg", environment(cache))  # builds caches; not counted
    for i, mode in enumerate(("off", "on", "off", "on")):
        env = environment(cache, MAPAPP_EVENTS="0" if mode == "off" else "1")
        runs[mode].append(ingest(folders, work / f"events-{mode}-{i}.gpkg", env))

    def mean(mode: str, field: str) -> float:
        return sum(getattr(r, field) for r in runs[mode]) / len(runs[mode])

    return {
        "articles": n,
        "without_s": [r.wall_s for r in runs["off"]],
        "with_s": [r.wall_s for r in runs["on"]],
        "others_cores": [r.others_cores for mode in ("off", "on") for r in runs[mode]],
        "ratio": mean("on", "wall_s") / mean("off", "wall_s"),
        "ratio_cpu": mean("on", "cpu_s") / mean("off", "cpu_s"),
        "peak_rss_mb": [mean("off", "peak_rss_mb"), mean("on", "peak_rss_mb")],
    }


def events_report(e: dict[str, Any]) -> str:
    """The events cost as a small Markdown table."""
    return (
        "| figure | value |\n| --- | --- |\n"
        f"| ingest with events / without (MAPAPP_EVENTS=0), {e['articles']} articles | "
        f"**{e['ratio']:.2f}x** wall (CPU time: {e['ratio_cpu']:.2f}x) |\n"
        f"| mean peak RSS without / with | {e['peak_rss_mb'][0]:.0f} MB / "
        f"{e['peak_rss_mb'][1]:.0f} MB |\n\n"
        f"Wall times without {', '.join(f'{v:.0f} s' for v in e['without_s'])}, with "
        f"{', '.join(f'{v:.0f} s' for v in e['with_s'])}; other processes used "
        f"{', '.join(f'{v:.2f}' for v in e['others_cores'])} cores meanwhile.\n"
    )


def workers(
    folders: list[Path], work: Path, cache: Path, one: dict[str, Any] | None = None
) -> dict[str, Any]:
    """--workers 2 between two --workers 1 runs of the same corpus (the first may be given)."""
    env = environment(cache)
    run_1 = Run(**one["ingest"]) if one else ingest(folders, work / "w1.gpkg", env)
    run_2 = ingest(folders, work / "w2.gpkg", env, "--workers", "2")
    run_1b = ingest(folders, work / "w1b.gpkg", env)
    one_wall = (run_1.wall_s + run_1b.wall_s) / 2
    return {
        "articles": len(folders) * per_round(),
        "workers_1_s": [run_1.wall_s, run_1b.wall_s],
        "workers_2_s": run_2.wall_s,
        "cpu_s": [run_1.cpu_s, run_2.cpu_s, run_1b.cpu_s],
        "others_cores": [run_1.others_cores, run_2.others_cores, run_1b.others_cores],
        "speedup": one_wall / run_2.wall_s,
        "cores": os.cpu_count(),
        # a busy machine slows the 1-worker runs too; their CPU time is what they take
        # on a core of their own, so this one is the figure that a busy core cannot inflate
        "speedup_vs_1_worker_cpu": (run_1.cpu_s + run_1b.cpu_s) / 2 / run_2.wall_s,
        "workers_2_output": run_2.output.strip(),
    }


def cold_start(work: Path, cache: Path, repeats: int, cold: bool) -> dict[str, Any]:
    """geoparse's first line with an empty and a warm cache, beside importing spaCy."""
    line = json.dumps({"id": "cold", "text": "DAMASCUS -- Talks opened in Damascus on Friday."})
    args = [sys.executable, "-m", "mapapp", "geoparse"]
    result: dict[str, Any] = {}
    if cold:
        empty = work / "cold-cache"
        result["cold_s"] = first_line_s(args, environment(empty), line)
        cache = empty
    warm = [first_line_s(args, environment(cache), line) for _ in range(repeats)]
    spacy = [
        run([sys.executable, "-c", "import spacy"], environment(cache)).wall_s
        for _ in range(repeats)
    ]
    result |= {
        "warm_s": sorted(warm)[len(warm) // 2],
        "warm_runs_s": warm,
        "import_spacy_s": sorted(spacy)[len(spacy) // 2],
    }
    return result


def growth(
    all_folders: list[Path], sizes: tuple[int, ...], size_of_round: int, work: Path, cache: Path
) -> dict[str, Any]:
    """Gazetteer-only ingests of growing size: time, store size, peak RSS."""
    env = environment(cache, MAPAPP_NER_MODEL="none")
    footprint = json.loads(
        run([sys.executable, str(Path(__file__).resolve()), "--child", "footprint"], env).output
    )
    rows = []
    for size in sizes:
        folders = all_folders[: max(1, size // size_of_round)]
        store = work / f"growth-{size}.gpkg"
        done = ingest(folders, store, env)
        articles = len(folders) * size_of_round
        rows.append(
            {
                "articles": articles,
                "wall_s": done.wall_s,
                "cpu_s": done.cpu_s,
                "ms_per_article": 1000 * done.wall_s / articles,
                "store_mb": store.stat().st_size / 2**20,
                "store_kb_per_article": store.stat().st_size / 1024 / articles,
                "peak_rss_mb": done.peak_rss_mb,
                "others_cores": done.others_cores,
            }
        )
    return {
        "recognition": "gazetteer only, MAPAPP_NER_MODEL=none",
        "rows": rows,
        "gazetteer_mb": footprint["gazetteer_mb"],
    }


# -- the report -----------------------------------------------------------------------


def verdict(value: float, target: float, higher: bool = True) -> str:
    ok = value >= target if higher else value < target
    return "meets" if ok else "misses"


def report(results: dict[str, Any]) -> str:
    t, w, c, g = (results[k] for k in ("throughput", "workers", "cold_start", "growth"))
    lines = [
        "# Ingest speed",
        "",
        f"{results['when']} on {results['machine']}; `{results['command']}`.",
        "Ratios come from runs made in the same go (see benchmarks/ingest_speed.py).",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| ingest / bare NER throughput ({t['articles']} articles) | **{t['ratio']:.2f}** "
        f"(CPU time: {t['ratio_cpu']:.2f}) | >= {TARGETS['throughput_ratio']} "
        f"({verdict(t['ratio'], TARGETS['throughput_ratio'])}) |",
        f"| ingest / NER with every pipeline component | {t['ratio_vs_full_pipeline']:.2f} | |",
        f"| `--workers 2` / `--workers 1` ({w.get('articles', t['articles'])} articles, "
        f"{os.cpu_count()} cores{', measured ' + w['when'] if 'when' in w else ''}) | "
        f"**{w['speedup']:.2f}x** | "
        f">= {TARGETS['workers_speedup']} ({verdict(w['speedup'], TARGETS['workers_speedup'])}) |",
        f"| the same against the 1-worker runs' CPU time (a busy core cannot inflate this one) | "
        f"{w.get('speedup_vs_1_worker_cpu', float('nan')):.2f}x | |",
        f"| geoparse first line, warm cache | **{c['warm_s']:.2f} s** | < "
        f"{TARGETS['warm_start_s']} s ({verdict(c['warm_s'], TARGETS['warm_start_s'], False)}) |",
    ]
    if "cold_s" in c:
        lines.append(f"| geoparse first line, empty cache (index built) | {c['cold_s']:.1f} s | |")
    lines += [
        f'| `python -c "import spacy"` | {c["import_spacy_s"]:.2f} s | |',
        f"| gazetteer index in memory | {g['gazetteer_mb']:.0f} MB | |",
        "",
        "Other processes on the machine used "
        f"{', '.join(f'{v:.2f}' for v in t['others_cores'])} cores during the NER, ingest, NER "
        f"runs and {', '.join(f'{v:.2f}' for v in w['others_cores'])} during the 1-, 2-, "
        "1-worker runs (a busy core caps the 2-worker speed-up).",
        "",
        f"Bare NER: {t['ner_articles_per_s']:.1f} articles/s with {', '.join(t['components'])} "
        f"(batch {t['ner_batch_size']}); the full pipeline "
        f"({', '.join(t['full_pipeline_components'])}) took {t['full_pipeline_s']:.0f} s. "
        f"Ingest: {t['ingest_articles_per_s']:.1f} articles/s, peak RSS "
        f"{t['ingest']['peak_rss_mb']:.0f} MB.",
        "",
        f"## Growth and memory ({g['recognition']})",
        "",
        "| articles | time | ms/article | store | KB/article | peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in g["rows"]:
        lines.append(
            f"| {row['articles']:,} | {row['wall_s']:.0f} s | {row['ms_per_article']:.1f} "
            f"| {row['store_mb']:.0f} MB | {row['store_kb_per_article']:.1f} | "
            f"{row['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no cold build")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--only",
        choices=["workers", "events"],
        help="measure this section again and update the saved results "
        "(for a shared machine that was busy during the full run)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        {"ner": child_ner, "footprint": child_footprint}[args.child[0]](*args.child[1:])
        return 0
    from mapapp.settings import load_settings

    sizes = QUICK if args.quick else FULL
    cache = load_settings().cache_folder
    size_of_round = per_round()
    stem = "ingest_speed-quick" if args.quick else "ingest_speed"
    work = Path(tempfile.mkdtemp(prefix="mapapp-ingest-speed-"))
    if args.only == "events":
        return measure_events(args.out_dir, stem, sizes, work, cache)
    if args.only:
        return measure_again(args.out_dir, stem, sizes, work, cache)
    try:
        need = max(sizes["throughput"], sizes["workers"], *sizes["growth"])
        folders = make_corpus(work / "corpus", -(-need // size_of_round))
        base = folders[: max(1, sizes["throughput"] // size_of_round)]
        print(f"corpus of {len(folders) * size_of_round} articles in {work}", file=sys.stderr)
        results: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
            "command": "python benchmarks/ingest_speed.py" + (" --quick" if args.quick else ""),
            "quick": args.quick,
            "targets": TARGETS,
        }
        results["cold_start"] = cold_start(work, cache, sizes["repeats"], cold=not args.quick)
        print(f"cold start: {results['cold_start']}", file=sys.stderr)
        results["throughput"] = throughput(base, work, cache)
        print(f"throughput ratio {results['throughput']['ratio']:.2f}", file=sys.stderr)
        results["workers"] = workers(base, work, cache, results["throughput"])
        print(f"workers speed-up {results['workers']['speedup']:.2f}", file=sys.stderr)
        results["growth"] = growth(folders, sizes["growth"], size_of_round, work, cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save(results, args.out_dir, stem)
    return 0


def measure_events(out_dir: Path, stem: str, sizes: dict[str, Any], work: Path, cache: Path) -> int:
    """``--only events``: what extracting events costs an ingest, into ``<stem>-events.*``."""
    try:
        size_of_round = per_round()
        folders = make_corpus(work / "corpus", max(1, sizes["throughput"] // size_of_round))
        result = events_cost(folders, work, cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}-events.json").write_text(json.dumps(result, indent=2) + "\n")
    text = f"# Ingest speed: the cost of events\n\n{result['when']}\n\n" + events_report(result)
    (out_dir / f"{stem}-events.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def save(results: dict[str, Any], out_dir: Path, stem: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / f"{stem}.md").write_text(report(results), encoding="utf-8")
    print(report(results))


def measure_again(out_dir: Path, stem: str, sizes: dict[str, Any], work: Path, cache: Path) -> int:
    """``--only workers``: the workers section again, merged into the saved results."""
    saved = out_dir / f"{stem}.json"
    if not saved.exists():
        raise SystemExit(f"{saved} not found: run the whole benchmark first")
    results = json.loads(saved.read_text(encoding="utf-8"))
    try:
        folders = make_corpus(work / "corpus", max(1, sizes["workers"] // per_round()))
        results["workers"] = workers(folders, work, cache)
        results["workers"]["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save(results, out_dir, stem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
