"""Crash campaign: kill -9 ingests at random, race them, fill and freeze their disk.

The long version of ``tests/test_reliability.py`` (whose helpers it uses).
Everything runs the real ``python -m mapapp ingest`` in subprocesses on copies
of ``data/*.txt`` (gazetteer alone), and every damaged store is compared with
one clean ingest of the same files: each stored article must hold exactly the
mentions it has there, no mention may lack its article, and SQLite's
integrity check must pass.

1. Kill and resume: ingest, SIGKILL at a random moment, check, restart, ...
   until an ingest completes; then the last run must add exactly the
   missing articles.  Repeated with batch sizes 1, 8 and 64 (the smaller,
   the more commits a kill can land in).  A real ``mapapp serve`` reads the
   store the whole time; every /api/stats answer it gives must be a whole
   prefix of the insert order.
2. Races: two and three ingests of the same files at once, also killing one.
3. Disk: a tmpfs too small for the corpus (ENOSPC), then grown, then
   remounted read-only (EROFS).  Needs root and mount; skipped otherwise.

Figures go to ``benchmarks/results/crash.json`` and ``crash.md``; the exit
code is 1 if any check failed.

    python stress/crash.py [--kills 60] [--takes 8] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_reliability import (  # noqa: E402
    ingest_env,
    scratch_left,
    snapshot,
    whole_prefixes,
    write_corpus,
)

from mapapp.recognition.gazetteer_cache import load_gazetteer  # noqa: E402
from mapapp.settings import load_settings  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "results"
HOT_JOURNAL = bytes.fromhex("d9d505f920a163d7")
BATCHED = (
    "import sys, mapapp.cli as cli, mapapp.ingest.pipeline as pipeline; "
    "pipeline.BATCH_SIZE = int(sys.argv.pop(1)); sys.argv[0] = 'mapapp'; cli.main()"
)


class Campaign:
    """Counts and failures of the whole run."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] = {}
        self.failures: list[str] = []

    def add(self, key: str, n: int = 1) -> None:
        self.figures[key] = self.figures.get(key, 0) + n

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failures.append(message)
            print("FAILED:", message, flush=True)
        return ok


def ingest(
    corpus: Path, store: Path, env: dict[str, str], batch: int | None = None, **popen: Any
) -> subprocess.Popen:
    head = (
        [sys.executable, "-c", BATCHED, str(batch)] if batch else [sys.executable, "-m", "mapapp"]
    )
    return subprocess.Popen(
        [*head, "ingest", str(corpus), "--store", str(store), "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def summary(out: str) -> dict[str, int] | None:
    from test_reliability import SUMMARY

    match = SUMMARY.search(out)
    return {k: int(v) for k, v in match.groupdict().items()} if match else None


def whole(store: Path, reference: dict[str, tuple], run: Campaign, where: str) -> int:
    """Check the store holds only whole reference articles; returns how many."""
    from mapapp.stores import open_store

    if not store.exists():
        return 0
    try:
        open_store(store).stats()
        held = snapshot(store)
    except Exception as err:  # noqa: BLE001 - any failure to open is what we look for
        run.check(False, f"{where}: the store does not open: {err}")
        return -1
    torn = [k for k, m in held.items() if k.startswith("orphan:") or m != reference.get(k)]
    run.check(not torn, f"{where}: {len(torn)} torn or unknown articles, e.g. {torn[:2]}")
    run.add("stores checked")
    return len(held)


class Reader(threading.Thread):
    """Polls a real ``mapapp serve`` for /api/stats while the campaign writes."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.seen, self.errors, self.halt = base, [], [], threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                with urllib.request.urlopen(self.base + "/api/stats", timeout=60) as response:
                    data = json.loads(response.read())
                self.seen.append((data["articles"], data["mentions"]))
            except Exception as err:  # noqa: BLE001
                self.errors.append(f"{type(err).__name__}: {err}")
            time.sleep(0.005)


def serve(store: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "serve", "--store", str(store), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"mapapp serve did not start: {server.communicate()}")


def kill_and_resume(
    corpus, reference, env, folder: Path, kills: int, rng: random.Random, run: Campaign
) -> None:
    """Kill runs at random moments until ``kills`` kills hit a live ingest."""
    total = len(reference)
    batches = (1, 8, 64)
    for batch in batches:
        store = folder / f"resume-{batch}" / "mapapp.gpkg"
        store.parent.mkdir(parents=True)
        server, base = serve(store, env)
        reader = Reader(base)
        reader.start()
        landed = 0
        started = time.monotonic()
        while landed < kills // len(batches):
            before = whole(store, reference, run, f"batch {batch} before a run")
            proc = ingest(corpus, store, env, batch)
            time.sleep(rng.uniform(0.3, 4.0))  # anywhere: startup, parsing, staging, commit
            if proc.poll() is not None:
                out, err = proc.communicate()
                run.add("runs that finished before their kill")
                if before >= total:
                    store.unlink()  # start again from nothing, so kills keep landing
                continue
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            landed += 1
            run.add("kills of a live ingest")
            journal = Path(f"{store}-journal")
            if journal.exists() and journal.read_bytes()[:8] == HOT_JOURNAL:
                run.add("kills inside a commit (hot journal left)")
            after = whole(store, reference, run, f"batch {batch} after kill {landed}")
            run.add("articles already stored at a kill", max(after, 0))
            if after > before:
                run.add("kills after this run had committed something")
        before = whole(store, reference, run, f"batch {batch} before the last run")
        proc = ingest(corpus, store, env, batch)
        out, err = proc.communicate(timeout=600)
        done = summary(out)
        run.check(proc.returncode == 0 and done is not None, f"last run failed: {err[-400:]}")
        if done:
            run.check(
                (done["new"], done["already"]) == (total - before, before),
                f"batch {batch}: the last run added {done['new']} (missing "
                f"{total - before}) and saw {done['already']} stored ({before})",
            )
            run.add(
                "re-runs that added exactly the missing articles",
                int((done["new"], done["already"]) == (total - before, before)),
            )
        run.check(snapshot(store) == reference, f"batch {batch}: final store differs")
        run.check(scratch_left(store) == [], f"batch {batch}: scratch left {scratch_left(store)}")
        reader.halt.set()
        reader.join(timeout=60)
        server.terminate()
        server.communicate(timeout=30)
        states = whole_prefixes(store, reference)
        torn = set(reader.seen) - states
        run.check(not torn, f"batch {batch}: the server showed torn states {sorted(torn)[:3]}")
        run.check(not reader.errors, f"batch {batch}: reader errors {reader.errors[:3]}")
        run.add("reader polls of a real server during kills", len(reader.seen))
        run.add("distinct store states the reader saw", len(set(reader.seen)))
        run.figures[f"seconds, batch size {batch}"] = round(time.monotonic() - started, 1)


def races(corpus, reference, env, folder: Path, rng: random.Random, run: Campaign) -> None:
    """Two or three ingests of the same files at once; sometimes one is killed."""
    total = len(reference)
    for trial in range(6):
        store = folder / f"race-{trial}" / "mapapp.gpkg"
        store.parent.mkdir(parents=True)
        procs = [ingest(corpus, store, env, rng.choice((8, 64))) for _ in range(2 + trial % 2)]
        victim = procs[-1] if trial >= 4 else None
        if victim is not None:
            time.sleep(rng.uniform(0.5, 3.0))
            victim.send_signal(signal.SIGKILL)
        results = [(p, *p.communicate(timeout=600)) for p in procs]
        added, killed = 0, False
        for proc, out, err in results:
            if proc is victim and proc.returncode == -signal.SIGKILL:
                killed = True
                continue
            done = summary(out)
            run.check(proc.returncode == 0 and done is not None, f"race {trial}: {err[-300:]}")
            if done:  # every run accounts for every article, once
                run.check(
                    done["new"] + done["already"] == total,
                    f"race {trial}: a summary counts {done['new']} + {done['already']}",
                )
                added += done["new"]
        if not killed:
            run.check(added == total, f"race {trial}: summaries add up to {added}, not {total}")
        run.check(snapshot(store) == reference, f"race {trial}: store differs from reference")
        run.add("racing ingests", len(procs))
        run.add("races with nothing lost or doubled", int(snapshot(store) == reference))


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="mapapp-mount-"))
    ok = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True
        ).returncode
        == 0
    )
    if ok:
        subprocess.run(["umount", str(probe)], check=False)
    probe.rmdir()
    return ok


def one_error_line(err: str, store: Path) -> bool:
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    return "Traceback" not in err and len(lines) == 1 and str(store) in lines[0]


def disk(corpus, reference, env, folder: Path, run: Campaign) -> None:
    """A tmpfs too small (ENOSPC), then grown; then remounted read-only (EROFS)."""
    if not can_mount():
        run.figures["disk cases"] = "skipped (needs root and mount)"
        return
    mount = folder / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=900k", "tmpfs", str(mount)], check=True)
    try:
        store = mount / "mapapp.gpkg"
        proc = ingest(corpus, store, env, 16)
        out, err = proc.communicate(timeout=600)
        run.check(
            proc.returncode == 1 and one_error_line(err, store),
            f"full disk: exit {proc.returncode}, stderr {err[-300:]}",
        )
        stored = whole(store, reference, run, "full disk")
        run.check(0 < stored < len(reference), f"full disk: {stored} articles stored")
        run.figures["full disk: articles kept whole before ENOSPC"] = stored
        run.figures["full disk: message"] = [line for line in err.splitlines() if "Error" in line][
            :1
        ]
        subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
        proc = ingest(corpus, store, env, 16)
        out, err = proc.communicate(timeout=600)
        done = summary(out)
        run.check(
            done is not None and done["new"] == len(reference) - stored,
            f"after freeing space: {out[-200:]} {err[-200:]}",
        )
        run.check(snapshot(store) == reference, "after freeing space: store differs")
        run.add("disk cases passed", 2)
        before = snapshot(store)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        extra = write_corpus(folder / "extra", 1)
        for path in extra.glob("*.txt"):
            path.write_text("Late: " + path.read_text(encoding="utf-8"), encoding="utf-8")
        proc = ingest(extra, store, env)
        out, err = proc.communicate(timeout=600)
        run.check(
            proc.returncode == 1 and one_error_line(err, store),
            f"read-only: exit {proc.returncode}, stderr {err[-300:]}",
        )
        run.figures["read-only: message"] = [line for line in err.splitlines() if "Error" in line][
            :1
        ]
        stats = subprocess.run(
            [sys.executable, "-m", "mapapp", "stats", "--json", "--store", str(store)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        run.check(
            stats.returncode == 0 and json.loads(stats.stdout)["articles"] == len(before),
            f"read-only store unreadable: {stats.stderr[-300:]}",
        )
        run.check(snapshot(store) == before, "read-only: store changed")
        run.add("disk cases passed")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Crash campaign",
        "",
        f"`python stress/crash.py --kills {report['kills']} "
        f"--takes {report['takes']} --seed {report['seed']}` ({report['when']}, "
        f"{report['seconds']} s). Corpus: {report['articles']} articles, "
        f"{report['mentions']} mentions.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in report["figures"].items()]
    lines += ["", f"Failures: {len(report['failures'])}"]
    lines += [f"- {f}" for f in report["failures"]]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=60, help="kills of a live ingest")
    parser.add_argument("--takes", type=int, default=8, help="copies of data/*.txt")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    rng, run, started = random.Random(args.seed), Campaign(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mapapp-crash-") as scratch:
        folder = Path(scratch)
        config = load_settings()
        cache = folder / "cache"
        load_gazetteer(
            Path(config.data_packages), Path(os.environ.get("MAPAPP_CACHE_DIR") or cache)
        )
        env = ingest_env(Path(os.environ.get("MAPAPP_CACHE_DIR") or cache))
        corpus = write_corpus(folder / "corpus", args.takes)
        ref_store = folder / "reference" / "mapapp.gpkg"
        proc = ingest(corpus, ref_store, env)
        proc.communicate(timeout=600)
        reference = snapshot(ref_store)
        kill_and_resume(corpus, reference, env, folder, args.kills, rng, run)
        races(corpus, reference, env, folder, rng, run)
        disk(corpus, reference, env, folder, run)
    report = {
        "kills": args.kills,
        "takes": args.takes,
        "seed": args.seed,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": round(time.monotonic() - started),
        "articles": len(reference),
        "mentions": sum(len(m) for m in reference.values()),
        "figures": run.figures,
        "failures": run.failures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "crash.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "crash.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
