"""``mapapp watch``: feeds and folders polled, only what is new geoparsed, safe to stop.

The feed is served from a local HTTP server on 127.0.0.1 (`feed_server`); one test runs
``mapapp watch --every 1s`` as a subprocess and stops it with SIGTERM, the others drive
the `Watcher` in-process with the session's gazetteer.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import threading
from pathlib import Path

import pytest
from feed_server import serving_site
from format_samples import BRIDGE_TEXT, MARKET_TEXT, PORT_TEXT, docx_bytes, rss_feed, rss_item
from helpers import start_mapapp, subprocess_env

from mapapp import geoparsing
from mapapp.errors import ConfigError
from mapapp.ingest import pipeline
from mapapp.ingest.state import SourceState, state_path
from mapapp.ingest.watch import Watcher, check_sources
from mapapp.settings import load_settings
from mapapp.stores import open_store

pytest_plugins = ["geo_fixtures"]

POLL = re.compile(
    r"poll (?P<number>\d+) at \S+: (?P<added>\d+) new articles, \d+ places resolved, "
    r"(?P<already>\d+) already stored, (?P<errors>\d+) errors \((?P<files>\d+) new or changed "
    r"files, (?P<changed>\d+) feeds changed, (?P<unchanged>\d+) not modified\)"
)


@pytest.fixture
def settings(tmp_path: Path, gazetteer, gazetteer_cache: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings of a fresh store; the geoparser reuses the session's gazetteer, no spaCy."""
    monkeypatch.setattr(geoparsing, "load_gazetteer", lambda packages, cache: gazetteer)
    return load_settings(
        {
            "STORE": str(tmp_path / "watched.gpkg"),
            "CACHE_DIR": str(tmp_path / "cache"),
            "NER_MODEL": "none",
            "FETCH_MIN_DELAY": 0,
        },
        environ={},
    )


PORT_PAGE = (
    "<html><body><article><h1>Gales</h1>"
    + "".join(f"<p>{p}</p>" for p in PORT_TEXT)
    + "</article></body></html>"
)
EXTRA = {"bridge": ("Bridge reopens", BRIDGE_TEXT), "market": ("Market reopens", MARKET_TEXT)}


def feed_with(base: str, *slugs: str) -> str:
    """The sample feed with more items (`EXTRA`) at its end."""
    items = "".join(rss_item(base, slug, *EXTRA[slug]) for slug in slugs)
    return rss_feed(base, extra_item=items)


def polled(watcher: Watcher) -> dict[str, int]:
    """One poll's numbers, read back from the line it prints."""
    match = POLL.fullmatch(watcher.poll().line())
    assert match, "poll line does not read"
    return {k: int(v) for k, v in match.groupdict().items()}


def stored_count(settings) -> int:
    """How many articles the store holds."""
    return len(open_store(settings.store).articles())


# ------------------------------------------------------------------ folders


def test_folder_watch_reads_only_new_or_changed_files(tmp_path: Path, settings) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "port.txt").write_text(
        "Gales shut port\n\n" + "\n\n".join(PORT_TEXT), encoding="utf-8"
    )
    (inbox / "flood.docx").write_bytes(docx_bytes())
    (inbox / "notes.odt").write_text("not a story", encoding="utf-8")
    said: list[str] = []
    watcher = Watcher(check_sources([str(inbox)]), settings, report=said.append)

    first = polled(watcher)
    assert (first["added"], first["files"], first["errors"]) == (2, 2, 0)
    assert [line for line in said if line.startswith("skipped:")] == [
        f"skipped: {inbox / 'notes.odt'}: unknown format '.odt' (expected one of "
        ".txt, .jsonl, .csv, .rss, .atom, .xml, .html, .htm, .json, .docx, .pdf); skipped"
    ]
    assert polled(watcher)["files"] == 0  # nothing changed: nothing read

    (inbox / "bridge.txt").write_text(
        "Bridge reopens\n\n" + "\n\n".join(BRIDGE_TEXT), encoding="utf-8"
    )
    (inbox / "port.txt").write_text(
        "Gales shut port\n\n" + "\n\n".join(PORT_TEXT) + "\n\nUpdated.", encoding="utf-8"
    )
    third = polled(watcher)
    assert (third["files"], third["added"]) == (2, 2)  # the new file and the edited one
    assert stored_count(settings) == 4
    assert len([line for line in said if line.startswith("skipped:")]) == 1  # said once

    # a restart resumes from the state file: nothing is read again
    again = Watcher(check_sources([str(inbox)]), settings, report=said.append)
    assert polled(again)["files"] == 0
    assert stored_count(settings) == 4


def test_watching_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no-such-inbox: no such file or folder to watch"):
        check_sources([str(tmp_path / "no-such-inbox")])


# ------------------------------------------------------------------ feeds


def test_feed_watch_uses_conditional_get_and_stored_ids(settings) -> None:
    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        site.put("/stories/port", PORT_PAGE, "text/html")
        watcher = Watcher([feed], settings, report=lambda line: None)
        first = polled(watcher)
        assert (first["added"], first["changed"], first["unchanged"]) == (2, 1, 0)
        second = polled(watcher)
        assert (second["added"], second["unchanged"]) == (0, 1)
        assert site.requested("/feed.xml")[1]["if-none-match"] == '"feed.xml-v1"'

        site.put("/feed.xml", feed_with(site.base, "market"), "application/rss+xml", version="2")
        third = polled(watcher)
        # only the new entry is geoparsed; the two stored ones are not fetched again
        assert (third["added"], third["already"], third["changed"]) == (1, 2, 1)
        assert len(site.requested("/stories/port")) == 1
    assert stored_count(settings) == 3
    kept = SourceState.load(state_path(settings))
    assert kept.validators(feed).etag == '"feed.xml-v2"'


def test_a_poll_stopped_midway_keeps_the_old_state(settings, monkeypatch) -> None:
    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        site.put("/stories/port", PORT_PAGE, "text/html")
        watcher = Watcher([feed], settings, report=lambda line: None)
        real_ingest = pipeline.ingest

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt  # Ctrl-C while the stories are geoparsed

        monkeypatch.setattr(pipeline, "ingest", interrupted)
        with pytest.raises(KeyboardInterrupt):
            watcher.poll()
        assert not state_path(settings).exists()  # the validators were not kept
        monkeypatch.setattr(pipeline, "ingest", real_ingest)
        restarted = Watcher([feed], settings, report=lambda line: None)
        assert polled(restarted)["added"] == 2  # fetched again in full, not 304
    assert stored_count(settings) == 2


# ------------------------------------------------------------------ the command


class Lines:
    """The stdout lines of a subprocess, read in a thread so a test can wait with a timeout."""

    def __init__(self, stream) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))

    def next_poll(self, timeout: float = 180) -> dict[str, int]:
        """The numbers of the next poll line."""
        while True:
            line = self.queue.get(timeout=timeout)
            if match := POLL.fullmatch(line):
                return {k: int(v) for k, v in match.groupdict().items()}


def test_mapapp_watch_picks_up_a_new_item_within_one_interval(
    tmp_path: Path, gazetteer_cache: Path
) -> None:
    store = tmp_path / "live.gpkg"
    env = subprocess_env(
        MAPAPP_CACHE_DIR=str(gazetteer_cache),
        MAPAPP_NER_MODEL="none",
        MAPAPP_FETCH_MIN_DELAY="0",
        PYTHONUNBUFFERED="1",
    )
    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        site.put("/stories/port", PORT_PAGE, "text/html")
        watch = start_mapapp("watch", feed, "--every", "1s", "--store", str(store), env=env)
        try:
            lines = Lines(watch.stdout)
            first = lines.next_poll()
            assert first["added"] == 2, first
            site.put(
                "/feed.xml", feed_with(site.base, "bridge"), "application/rss+xml", version="2"
            )
            # a first poll that ran longer than the interval is followed at once, so the
            # next poll may have fetched before the change: the one after it must see it
            picked = lines.next_poll()
            if picked["added"] == 0:
                assert picked["unchanged"] == 1, picked  # the old feed, not a lost item
                picked = lines.next_poll()
            assert picked["added"] == 1 and picked["number"] <= first["number"] + 2, picked
            quiet = lines.next_poll()
            assert (quiet["added"], quiet["unchanged"]) == (0, 1), quiet
            assert site.requested("/feed.xml")[-1]["if-none-match"] == '"feed.xml-v2"'
            # one more item, and a stop at once: between polls or in the middle of one
            site.put(
                "/feed.xml",
                feed_with(site.base, "bridge", "market"),
                "application/rss+xml",
                version="3",
            )
        finally:
            watch.send_signal(signal.SIGTERM)
            _, stderr = watch.communicate(timeout=60)
        assert watch.returncode == 0, stderr
        assert "stopped after" in stderr and "Traceback" not in stderr
        held = len(open_store(store).articles())  # the store reads, whatever the moment
        assert held in (3, 4)
        kept = json.loads(
            state_path(
                load_settings({"STORE": str(store), "CACHE_DIR": str(gazetteer_cache)}, environ={})
            ).read_text(encoding="utf-8")
        )
        assert kept["feeds"][feed]["etag"] in ('"feed.xml-v2"', '"feed.xml-v3"')  # old or new

        # restarted: what was stored is not added again, what was not is
        again = start_mapapp("watch", feed, "--once", "--store", str(store), env=env)
        out, err = again.communicate(timeout=180)
        assert again.returncode == 0, err
        match = POLL.search(out)
        assert match and int(match["added"]) == 4 - held, out
        twice = start_mapapp("watch", feed, "--once", "--store", str(store), env=env)
        out, err = twice.communicate(timeout=180)
        match = POLL.search(out)
        assert match and (match["added"], match["unchanged"]) == ("0", "1"), out
    assert len(open_store(store).articles()) == 4


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("1.5s", 1.5), ("250ms", 0.25)],
)
def test_intervals(text: str, seconds: float) -> None:
    from mapapp.cli_watch import Interval

    assert Interval().convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["0", "5 minutes", "-1s", "soon"])
def test_bad_intervals_are_refused(text: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mapapp.cli import cli

    result = CliRunner().invoke(cli, ["watch", str(tmp_path), "--every", text, "--once"])
    assert result.exit_code == 2
    assert "is not an interval such as 30s, 5m or 1h" in result.output


def test_watch_names_a_missing_source_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    from helpers import assert_one_line_failure, run_main

    done = run_main(monkeypatch, capsys, "watch", str(tmp_path / "nope"), "--once")
    assert_one_line_failure(done.exit_code, done.stderr, naming="nope: no such file or folder")


# ------------------------------------------------------------------ watched, on an open map


@pytest.mark.browser
def test_an_open_map_shows_what_the_watch_picks_up(settings, browser, tmp_path: Path) -> None:
    """A feed item added while a map is open: one watch poll stores it, the page offers it."""
    from conftest import serving

    from mapapp.web import create_app

    with serving_site() as site:
        feed = site.put("/feed.xml", rss_feed(site.base), "application/rss+xml")
        site.put("/stories/port", PORT_PAGE, "text/html")
        watcher = Watcher([feed], settings, report=lambda line: None)
        assert polled(watcher)["added"] == 2
        app = create_app(
            {
                "TESTING": True,
                "STORE": settings.store,
                "CACHE_DIR": str(tmp_path / "web-cache"),
                "LIVE_POLL_SECONDS": 1,
            }
        )
        with serving(app) as base_url:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{base_url}/?layer=mentions")
            page.wait_for_function(
                "() => window.mapapp.live && window.mapapp.live.baseline !== null"
            )
            stories = page.evaluate("window.mapapp.layer.data.storyCount")
            site.put(
                "/feed.xml", feed_with(site.base, "market"), "application/rss+xml", version="2"
            )
            assert polled(watcher)["added"] == 1  # the next interval's poll
            button = page.locator(".mapapp-live-show")
            button.wait_for(state="visible", timeout=10_000)  # the page polls every second
            assert button.inner_text() == "1 new story \u2014 show"
            button.click()
            page.wait_for_function(
                "(n) => window.mapapp.layer.data.storyCount === n + 1", arg=stories
            )
            assert "Market reopens" in page.locator(".mapapp-list").inner_text()
            context.close()
