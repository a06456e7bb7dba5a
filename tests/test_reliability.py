"""Crash safety: ``kill -9`` an ingest, run two at once, fill the disk; nothing lost or doubled.

The corpus is ``data/*.txt`` in several takes (each take changes the
headline, so every file is a new article): a few hundred stories, ingested by
the real entry point (``python -m mapapp ingest``) in subprocesses with the
gazetteer alone (``MAPAPP_NER_MODEL=none``) and the session's gazetteer index.
A clean ingest of the same files is the reference every damaged store is
compared with: each stored article must carry exactly the mentions it has
there, and no mention may belong to an article that is not stored.

The longer versions (dozens of kills, kills at every batch size, a real full
tmpfs and a read-only mount) are in ``stress/crash.py``.
"""

from __future__ import annotations

import errno
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import (
    ROOT,
    assert_one_line_failure,
    isolated_env,
    start_mapapp,
    subprocess_env,
    without_root_powers,
)

from mapapp.stores import open_store
from mapapp.stores.locking import lock_path

pytest_plugins = ["geo_fixtures"]

TAKES = 6  # copies of data/*.txt: 37 files x 6 = 222 articles, 4 batches of 64
KILLS = 3  # SIGKILLs of one resumed ingest
SEED = 20261125
SUMMARY = re.compile(
    r"(?P<new>\d+) new articles, (?P<places>\d+) places resolved, "
    r"(?P<unresolved>\d+) unresolved, (?P<already>\d+) already stored, "
    r"(?P<errors>\d+) errors -> "
)
MENTION_KEY = 'name, start, "end", role, geonameid'


# ------------------------------------------------------------------ helpers


def write_corpus(folder: Path, takes: int) -> Path:
    """``takes`` copies of every data/*.txt story, each with its own headline."""
    folder.mkdir(parents=True, exist_ok=True)
    for take in range(1, takes + 1):
        for source in sorted((ROOT / "data").glob("*.txt")):
            headline, rest = source.read_text(encoding="utf-8").split("\n", 1)
            (folder / f"{source.stem}-take{take}.txt").write_text(
                f"{headline} (take {take})\n{rest}", encoding="utf-8"
            )
    return folder


def ingest_env(gazetteer_cache: Path) -> dict[str, str]:
    """The environment without the developer's mapapp settings; gazetteer alone, offline."""
    return isolated_env(
        MAPAPP_CACHE_DIR=str(gazetteer_cache), MAPAPP_NER_MODEL="none", MAPAPP_GEOCODER="offline"
    )


def start_ingest(corpus: Path, store: Path, env: dict[str, str], **popen) -> subprocess.Popen:
    """``mapapp ingest CORPUS --store STORE --quiet`` started in a subprocess."""
    return start_mapapp("ingest", str(corpus), "--store", str(store), "--quiet", env=env, **popen)


def finish(proc: subprocess.Popen, timeout: float = 120) -> SimpleNamespace:
    out, err = proc.communicate(timeout=timeout)
    match = SUMMARY.search(out)
    return SimpleNamespace(
        code=proc.returncode,
        out=out,
        err=err,
        summary={k: int(v) for k, v in match.groupdict().items()} if match else None,
    )


def snapshot(store: Path) -> dict[str, tuple]:
    """Each stored article's mentions, read in one transaction; orphans keep their own key.

    Also runs SQLite's integrity check on the file.
    """
    conn = sqlite3.connect(store, timeout=30, isolation_level=None)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute("BEGIN")
        held = {row[0]: [] for row in conn.execute("SELECT article_id FROM articles")}
        orphans: dict[str, list] = {}
        for article_id, *mention in conn.execute(f"SELECT article_id, {MENTION_KEY} FROM mentions"):
            if article_id in held:
                held[article_id].append(tuple(mention))
            else:
                orphans.setdefault(f"orphan:{article_id}", []).append(tuple(mention))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {k: tuple(sorted(v, key=repr)) for k, v in {**held, **orphans}.items()}


def stored_count(store: Path) -> int:
    """Articles in the store now (0 when there is no file yet)."""
    if not store.exists():
        return 0
    conn = sqlite3.connect(store, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet (the layers are being written)
        return 0
    finally:
        conn.close()


def assert_whole(store: Path, reference: dict[str, tuple]) -> int:
    """The store opens and holds only whole articles of the reference; returns how many."""
    open_store(store).stats()  # opens through the app's own reader (rolls back a hot journal)
    held = snapshot(store)
    orphans = [k for k in held if k.startswith("orphan:")]
    assert orphans == [], f"mentions without their article: {orphans[:3]}"
    torn = [k for k, mentions in held.items() if mentions != reference[k]]
    assert torn == [], f"articles whose mentions differ from a clean ingest: {torn[:3]}"
    return len(held)


def scratch_left(store: Path) -> list[str]:
    return sorted(p.name for p in store.parent.glob(f".{store.name}.*-*"))


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def env(gazetteer, gazetteer_cache: Path) -> dict[str, str]:
    """Subprocess environment; depends on ``gazetteer`` so that its index is cached."""
    return ingest_env(gazetteer_cache)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"), TAKES)


@pytest.fixture(scope="module")
def reference(corpus: Path, env, tmp_path_factory) -> SimpleNamespace:
    """One clean ingest of the corpus: what every article must hold."""
    store = tmp_path_factory.mktemp("reference") / "mapapp.gpkg"
    started = time.monotonic()
    done = finish(start_ingest(corpus, store, env))
    assert done.code == 0, done.err
    held = snapshot(store)
    assert len(held) == done.summary["new"] == len(list(corpus.glob("*.txt")))
    return SimpleNamespace(
        store=store, articles=held, summary=done.summary, seconds=time.monotonic() - started
    )


# ------------------------------------------------------------------ kill -9


class StatsPoller(threading.Thread):
    """A reader hitting the web app's /api/stats and /api/points while ingests run."""

    def __init__(self, store: Path, cache: Path) -> None:
        super().__init__(name="stats-poller", daemon=True)
        from mapapp.web import create_app

        self.client = create_app(
            {"TESTING": True, "STORE": str(store), "CACHE_DIR": str(cache)}
        ).test_client()
        self.seen: list[tuple[int, int]] = []
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            stats = self.client.get("/api/stats")
            points = self.client.get("/api/points")
            if stats.status_code != 200 or points.status_code != 200:
                self.failures.append(
                    f"{stats.status_code} {points.status_code} {stats.get_data(as_text=True)[:200]}"
                )
            else:
                data = stats.get_json()
                self.seen.append((data["articles"], data["mentions"]))
            time.sleep(0.01)


def whole_prefixes(store: Path, reference: dict[str, tuple]) -> set[tuple[int, int]]:
    """(articles, mentions) of every state a reader may see: each prefix of the insert order."""
    conn = sqlite3.connect(store)
    order = [row[0] for row in conn.execute("SELECT article_id FROM articles ORDER BY fid")]
    conn.close()
    states, mentions = {(0, 0)}, 0
    for count, article_id in enumerate(order, start=1):
        mentions += len(reference[article_id])
        states.add((count, mentions))
    return states


def test_kill_9_leaves_whole_articles_and_a_rerun_adds_exactly_the_rest(
    corpus, reference, env, tmp_path
):
    rng = random.Random(SEED)
    store = tmp_path / "store" / "mapapp.gpkg"
    store.parent.mkdir()
    reader = StatsPoller(store, tmp_path / "cache")
    reader.start()
    kills = []
    for _ in range(KILLS):
        before = stored_count(store)
        proc = start_ingest(corpus, store, env)
        while proc.poll() is None and stored_count(store) <= before:  # a batch of this run
            time.sleep(0.02)
        # Soon after this run's first commit, so it still has batches to go (a quiet
        # machine geoparses a batch of 64 in about 0.15 s): the kill lands mid-run.
        time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        killed = proc.returncode == -signal.SIGKILL
        kills.append((killed, assert_whole(store, reference.articles)))
    stored = kills[-1][1]
    rerun = finish(start_ingest(corpus, store, env))
    reader.halt.set()
    reader.join(timeout=30)

    assert rerun.code == 0, rerun.err
    total = len(reference.articles)
    assert sum(killed for killed, _ in kills) >= 2, kills  # at least two kills hit a live run
    assert (rerun.summary["new"], rerun.summary["already"]) == (total - stored, stored), kills
    assert snapshot(store) == reference.articles
    assert scratch_left(store) == []  # the killed runs' half-written batches were swept
    # Readers polled throughout and only ever saw whole batches.
    assert reader.failures == []
    assert len(set(reader.seen)) >= 3, set(reader.seen)
    torn = set(reader.seen) - whole_prefixes(store, reference.articles)
    assert torn == set(), torn


def test_two_ingests_into_postgis_at_once_store_each_article_once(
    corpus, reference, env, postgis_url
):
    """A team: two people run the same ingest into one PostGIS store at the same moment."""
    runs = [start_ingest(corpus, postgis_url, env) for _ in range(2)]
    done = [finish(run) for run in runs]
    assert [d.code for d in done] == [0, 0], [d.err for d in done]
    total = reference.summary["new"]
    assert sum(d.summary["new"] for d in done) == total  # each article stored by one of them
    assert all(d.summary["new"] + d.summary["already"] == total for d in done)
    for key in ("places", "unresolved"):  # each run counts only the places it stored
        assert sum(d.summary[key] for d in done) == reference.summary[key], done
    want, got = open_store(reference.store), open_store(postgis_url)
    assert got.stats() == want.stats()
    columns = ["article_id", "name", "start", "end", "role", "geonameid"]
    assert (
        got.mentions(include_undated=True, resolved_only=False)[columns]
        .sort_values(columns)
        .reset_index(drop=True)
        .equals(
            want.mentions(include_undated=True, resolved_only=False)[columns]
            .sort_values(columns)
            .reset_index(drop=True)
        )
    )


KILL_IN_COMMIT = textwrap.dedent("""
    import os, signal, sqlite3, sys
    sys.path.insert(0, sys.argv[2])
    from conftest import LAGOS, make_story, story_records
    from mapapp.stores import open_store

    real_connect = sqlite3.connect

    class DiesAtCommit:
        # A connection with a tiny page cache, so SQLite writes changed pages into the
        # file before COMMIT (after syncing the journal), killed (-9) just before COMMIT.
        def __init__(self, conn):
            self._conn = conn
            conn.execute("PRAGMA cache_size = 1")
        def __getattr__(self, name):
            return getattr(self._conn, name)
        def execute(self, sql, *args):
            if sql.strip().upper().startswith("COMMIT") and self._conn.in_transaction:
                os.kill(os.getpid(), signal.SIGKILL)
            return self._conn.execute(sql, *args)
        def commit(self):
            os.kill(os.getpid(), signal.SIGKILL)

    sqlite3.connect = lambda *a, **kw: DiesAtCommit(real_connect(*a, **kw))
    floods = [make_story(f"flood-{i}", None, f"Flood {i}", "LAGOS -- " + "Rain in Lagos. " * 200,
                         [("LAGOS", LAGOS, "dateline"), ("Lagos", LAGOS, "focus")])
              for i in range(60)]
    open_store(sys.argv[1]).add(story_records()[3:] + floods)
""")


def test_kill_inside_the_transaction_rolls_back_on_next_open(tmp_path):
    """Killed with half the batch already in the file: the hot journal puts the old state back."""
    from conftest import story_records

    store = open_store(tmp_path / "mapapp.gpkg")
    store.add(story_records()[:3])
    before, old_bytes = snapshot(store.path), store.path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", KILL_IN_COMMIT, str(store.path), str(ROOT / "tests")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    journal = Path(f"{store.path}-journal")
    assert journal.read_bytes()[:8] == bytes.fromhex("d9d505f920a163d7")  # a hot journal
    assert store.path.read_bytes() != old_bytes  # new pages were already in the file
    assert len(store.articles()) == 3  # the first reader rolled the journal back
    assert not journal.exists()
    assert snapshot(store.path) == before
    assert store.add(story_records()).added == 3  # the rest goes in on the next try
    assert len(snapshot(store.path)) == 6


# ------------------------------------------------------------------ two at once


def test_a_second_ingest_waits_and_adds_nothing_twice(corpus, reference, env, tmp_path):
    store = tmp_path / "mapapp.gpkg"
    first = start_ingest(corpus, store, env)
    holder = lock_path(store)
    deadline = time.monotonic() + 60
    while not (holder.exists() and f"pid {first.pid}" in holder.read_text()):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.01)
    second = start_ingest(corpus, store, env)
    one, two = finish(first), finish(second)

    assert (one.code, two.code) == (0, 0), (one.err, two.err)
    assert f"waiting: another ingest into {store} is running (pid {first.pid}" in two.err
    total = len(reference.articles)
    assert (one.summary["new"], one.summary["already"]) == (total, 0)
    assert (two.summary["new"], two.summary["already"]) == (0, total)
    assert snapshot(store) == reference.articles  # nothing lost, nothing doubled


CONCURRENT_ADD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[3])
    from conftest import make_story, DAMASCUS
    from mapapp.stores import open_store

    first, last = map(int, sys.argv[2].split(":"))
    stories = [make_story(f"a{i:04d}", None, f"Story {i}", "DAMASCUS -- News from Damascus.",
                          [("DAMASCUS", DAMASCUS, "dateline"), ("Damascus", DAMASCUS, "focus")])
               for i in range(first, last)]
    added = sum(open_store(sys.argv[1]).add(stories[i:i + 7]).added
                for i in range(0, len(stories), 7))
    print(added)
""")


def test_writers_without_the_lock_interleave_batches_safely(tmp_path):
    """Two processes appending overlapping batches straight through the Store API."""
    store = tmp_path / "mapapp.gpkg"
    open_store(store).add([])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_ADD, str(store), span, str(ROOT / "tests")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for span in ("0:150", "50:200")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sum(int(out) for out, _ in results) == 200  # each story counted by one writer
    held = snapshot(store)
    assert len(held) == 200 and all(len(m) == 2 for m in held.values())


# ------------------------------------------------------------------ full or read-only disk


def test_a_full_disk_gives_one_line_and_leaves_the_store_intact(corpus, reference, env, tmp_path):
    """A real write failure: the process may not grow any file past the store's size."""
    store = tmp_path / "mapapp.gpkg"
    shutil.copyfile(reference.store, store)
    open_store(store).stats()
    before, size = snapshot(store), store.stat().st_size
    extra = write_corpus(tmp_path / "more", 1)
    for path in extra.glob("*.txt"):  # new headlines, so new articles
        path.write_text("Late edition: " + path.read_text(encoding="utf-8"), encoding="utf-8")

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    done = finish(start_ingest(extra, store, env, preexec_fn=small_disk))
    assert_one_line_failure(done.code, done.err, naming=str(store))
    assert snapshot(store) == before and store.stat().st_size == size
    assert scratch_left(store) == []


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)  # about its file
def test_sqlite_disk_full_inside_the_transaction_rolls_back(store, articles_records, monkeypatch):
    """SQLITE_FULL while copying a batch in: a StoreError, and every old row still there."""
    from conftest import LAGOS, make_story

    before = snapshot(store.path)
    real_connect = sqlite3.connect

    def capped(database, *args, **kwargs):
        conn = real_connect(database, *args, **kwargs)
        if str(database) == str(store.path):
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", capped)
    from mapapp.errors import StoreError

    big = [
        make_story(
            f"big-{i}",
            None,
            f"Flood {i}",
            "LAGOS -- " + "Rain in Lagos. " * 400,
            [("LAGOS", LAGOS, "dateline")],
        )
        for i in range(20)
    ]
    with pytest.raises(StoreError, match=re.escape(str(store.path)) + ".*full"):
        store.add(big)
    monkeypatch.undo()
    assert snapshot(store.path) == before


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)  # about its file
@pytest.mark.parametrize("failure", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_an_unwritable_folder_gives_one_line_and_leaves_the_store_intact(
    failure, store, monkeypatch, capsys, tmp_path
):
    """The store's folder refuses every new file (read-only, no permission, or full)."""
    from mapapp import cli, geoparsing

    folder = store.path.parent
    before = snapshot(store.path)
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path, *args, real, **kwargs):
        target = Path(os.fsdecode(path)).resolve()
        if target.parent == folder.resolve() and target != store.path.resolve():
            raise OSError(failure, os.strerror(failure), os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", lambda p, *a, **k: refuse(p, *a, real=real_open, **k))
    monkeypatch.setattr(os, "mkdir", lambda p, *a, **k: refuse(p, *a, real=real_mkdir, **k))
    monkeypatch.setattr(geoparsing, "load_gazetteer", lambda *a: pytest.fail("got too far"))
    story = tmp_path / "story.txt"
    story.write_text("Rain\n\nLAGOS -- Rain fell on Lagos.\n", encoding="utf-8")
    monkeypatch.setattr(
        sys, "argv", ["mapapp", "ingest", str(story), "--store", str(store.path), "--quiet"]
    )
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert_one_line_failure(exit_.value.code, err, naming=str(store.path))
    assert os.strerror(failure) in err
    monkeypatch.undo()
    assert snapshot(store.path) == before


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)  # about its file
def test_a_really_read_only_folder(store, tmp_path):
    """A store folder nobody may write to (as root too: the override is dropped)."""
    before = snapshot(store.path)
    story = tmp_path / "story.txt"
    story.write_text("Rain\n\nLAGOS -- Rain fell on Lagos.\n", encoding="utf-8")
    env = subprocess_env(MAPAPP_NER_MODEL="none", MAPAPP_CACHE_DIR=str(tmp_path / "cache"))
    store.path.parent.chmod(0o555)
    try:
        done = subprocess.run(
            without_root_powers(
                sys.executable,
                "-m",
                "mapapp",
                "ingest",
                str(story),
                "--store",
                str(store.path),
                "--quiet",
            ),
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            timeout=300,
            check=False,
        )
    finally:
        store.path.parent.chmod(0o755)
    assert_one_line_failure(done.returncode, done.stderr, naming=str(store.path))
    assert snapshot(store.path) == before
