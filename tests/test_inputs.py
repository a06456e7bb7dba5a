"""Odd inputs: FIFOs, unreadable folders, unknown files, broken CSV quotes, bidi controls.

Each gets a one-line error naming the input, and the good stories beside it
still come through.  Permission tests drop root's power to read anything
(``setpriv``) instead of skipping when the suite runs as root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import without_root_powers

from mapapp.articles import iter_articles, parse_text
from mapapp.errors import ArticleParseError
from mapapp.text import spreadsheet_safe, strip_bidi, web_url

pytest_plugins = ["geo_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
STORY = "Flood waters rise\n\nLYON -- The river rose over its banks in Lyon on Monday.\n"


def split(items) -> tuple[list, list[str]]:
    """Articles and error messages of an ``iter_articles`` run."""
    items = list(items)
    return (
        [i for i in items if not isinstance(i, ArticleParseError)],
        [str(i) for i in items if isinstance(i, ArticleParseError)],
    )


def within(seconds: float, func):
    """``func()``'s result, failing the test if it takes longer (a hang, not slowness)."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(func()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert box, f"still running after {seconds} s (would hang)"
    return box[0]


LIST_ERRORS = (
    "import json, sys\nfrom mapapp.articles import iter_articles\n"
    "from mapapp.errors import ArticleParseError\n"
    "items = list(iter_articles(sys.argv[1:]))\n"
    "print(json.dumps({'errors': [str(i) for i in items "
    "if isinstance(i, ArticleParseError)], 'stories': [i.headline for i in items "
    "if not isinstance(i, ArticleParseError)]}))\n"
)


def iter_without_root(*paths: Path) -> dict:
    done = subprocess.run(
        without_root_powers(sys.executable, "-c", LIST_ERRORS, *map(str, paths)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "good.txt"
    path.parent.mkdir()
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.mark.parametrize("inside_folder", [False, True])
def test_a_fifo_is_skipped_with_a_message_not_waited_on(good: Path, inside_folder: bool) -> None:
    fifo = good.parent / "pipe.txt"
    os.mkfifo(fifo)
    paths = [good.parent] if inside_folder else [fifo, good]
    stories, errors = within(10, lambda: split(iter_articles(paths)))
    assert [s.headline for s in stories] == ["Flood waters rise"]
    assert errors == [f"{fifo}: a FIFO, not a regular file; skipped"]


def test_files_of_unknown_types_in_a_folder_are_named(good: Path) -> None:
    (good.parent / "scan.odt").write_bytes(b"PK\x03\x04")
    (good.parent / "blob.bin").write_bytes(b"\x00\x01")
    (good.parent / "README.md").write_text("notes", encoding="utf-8")
    (good.parent / ".hidden.pdf").write_bytes(b"x")
    stories, errors = split(iter_articles([good.parent]))
    assert len(stories) == 1
    expected = ".txt, .jsonl, .csv, .rss, .atom, .xml, .html, .htm, .json, .docx, .pdf"
    assert errors == [
        f"{good.parent / 'blob.bin'}: unknown format '.bin' (expected one of {expected}); skipped",
        f"{good.parent / 'scan.odt'}: unknown format '.odt' (expected one of {expected}); skipped",
    ]


def test_an_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert split(iter_articles([tmp_path / "empty"])) == (
        [],
        [
            f"{tmp_path / 'empty'}: no story files in this folder (expected .txt, .jsonl, "
            ".csv, .rss, .atom, .xml, .html, .htm, .json, .docx, .pdf files)"
        ],
    )


def test_an_unreadable_sub_folder_is_reported_and_the_rest_lands(good: Path) -> None:
    locked = good.parent / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text(STORY, encoding="utf-8")
    locked.chmod(0)
    try:
        found = iter_without_root(good.parent)
    finally:
        locked.chmod(0o755)
    assert found["stories"] == ["Flood waters rise"]
    assert found["errors"] == [f"{locked}: cannot read this folder (Permission denied); skipped"]


def test_an_unreadable_file_named_directly_is_skipped_beside_good_ones(good: Path) -> None:
    secret = good.parent / "secret.txt"
    secret.write_text(STORY.replace("Lyon", "Nice"), encoding="utf-8")
    secret.chmod(0)
    try:
        found = iter_without_root(secret, good)
    finally:
        secret.chmod(0o644)
    assert found["stories"] == ["Flood waters rise"]
    assert found["errors"] == [f"{secret}: cannot read (Permission denied)"]


def test_the_permission_helper_really_drops_root_powers(tmp_path: Path) -> None:
    """Guards the two tests above: as root, plain reads of a mode-000 file would succeed."""
    locked = tmp_path / "locked.txt"
    locked.write_text("x", encoding="utf-8")
    locked.chmod(0)
    try:
        done = subprocess.run(
            without_root_powers("cat", str(locked)), capture_output=True, text=True, timeout=30
        )
    finally:
        locked.chmod(0o644)
    assert done.returncode != 0 and "Permission denied" in done.stderr


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # the quote opened on line 3 is never closed: the file ends inside it
        ('headline,text\nOne,"Rain in Oslo."\nTwo,"Snow in Riga.\nThree,"Sun in Rome."\n', 3),
        # a stray quote would otherwise glue the next row into this one
        ('headline,text\nOne,"Rain in Oslo."\nTwo,"Snow in Riga.\n"Three","Sun in Rome."\n', 3),
    ],
)
def test_a_broken_csv_quote_names_the_line_it_started_on(
    tmp_path: Path, body: str, line: int
) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(body, encoding="utf-8")
    stories, errors = split(iter_articles([path]))
    assert [s.headline for s in stories] == ["One"]
    [error] = errors
    assert error.startswith(f"{path} line {line}: unreadable CSV (")
    assert f"field that starts on line {line}" in error


def test_multi_line_quoted_fields_still_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        'headline,text\nOne,"Rain in Oslo.\n\nMore rain in Bergen."\nTwo,"Snow in Riga."\n',
        encoding="utf-8",
    )
    stories, errors = split(iter_articles([path]))
    assert errors == [] and [s.headline for s in stories] == ["One", "Two"]
    assert stories[0].text == "Rain in Oslo.\n\nMore rain in Bergen."


BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_bidi_controls_are_dropped_and_marks_kept(control: str) -> None:
    assert strip_bidi(f"a{control}b\u200fc") == "ab\u200fc"


def test_stories_lose_their_bidi_controls_in_every_format(tmp_path: Path) -> None:
    article = parse_text(f"Talks {BIDI}gnirts\n\nGENEVA -- Envoys met in Geneva{BIDI}.\n")
    assert BIDI not in article.headline + article.text
    record = {"headline": f"{BIDI}Heat", "text": f"Heat in Cairo{BIDI} today.", "deck": f"a{BIDI}b"}
    (tmp_path / "f.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    [stored] = list(iter_articles([tmp_path / "f.jsonl"]))
    assert (stored.headline, stored.text, stored.deck) == (
        "Heat",
        "ab\n\nHeat in Cairo today.",
        "ab",
    )


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Plain headline", "Plain headline"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_spreadsheet_formulas_become_text(cell: str, shown: str) -> None:
    assert spreadsheet_safe(cell) == shown


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://news.example.org/a", "https://news.example.org/a"),
        ("http://news.example.org/a", "http://news.example.org/a"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("ftp://x", None),
        ("", None),
        (None, None),
    ],
)
def test_only_web_links_leave_as_urls(url, kept) -> None:
    assert web_url(url) == kept


# --- the same through `mapapp ingest` and `mapapp export` ------------------------------


def mapapp_without_root(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """``python -m mapapp ARGS`` as a process that cannot read what it may not (even as root)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MAPAPP_NER_MODEL": "none",
        "MAPAPP_CACHE_DIR": str(cache),
    }
    done = subprocess.run(
        without_root_powers(sys.executable, "-m", "mapapp", *args),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    # the gazetteer alone (no spaCy) keeps these runs quick; its one note is not under test
    done.stderr = "".join(
        line
        for line in done.stderr.splitlines(keepends=True)
        if not line.startswith("note: spaCy model")
    )
    return done


def test_ingest_skips_an_unreadable_file_and_stores_the_good_one(
    good: Path, tmp_path: Path, gazetteer, gazetteer_cache: Path
) -> None:
    secret = good.parent / "secret.txt"
    secret.write_text(STORY.replace("Lyon", "Nice"), encoding="utf-8")
    secret.chmod(0)
    store = tmp_path / "store" / "mapapp.gpkg"
    try:
        done = mapapp_without_root(
            "ingest",
            str(secret),
            str(good),
            "--store",
            str(store),
            "--quiet",
            cache=gazetteer_cache,
        )
    finally:
        secret.chmod(0o644)
    assert done.returncode == 2, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith("note: events")]
    assert said == [f"skipped: {secret}: cannot read (Permission denied)"]
    assert done.stdout.startswith("1 new articles, "), done.stdout


def test_ingest_of_a_fifo_on_the_command_line_finishes(
    good: Path, tmp_path: Path, gazetteer, gazetteer_cache: Path
) -> None:
    fifo = good.parent / "pipe.txt"
    os.mkfifo(fifo)
    done = mapapp_without_root(
        "ingest",
        str(fifo),
        str(good),
        "--store",
        str(tmp_path / "s.gpkg"),
        "--quiet",
        cache=gazetteer_cache,
    )
    assert done.returncode == 2 and "1 new articles" in done.stdout, done.stderr
    assert f"skipped: {fifo}: a FIFO, not a regular file; skipped" in done.stderr


def test_a_run_that_finds_no_story_fails_with_a_sentence(
    tmp_path: Path, gazetteer, gazetteer_cache: Path
) -> None:
    (tmp_path / "empty").mkdir()
    done = mapapp_without_root(
        "ingest",
        str(tmp_path / "empty"),
        "--store",
        str(tmp_path / "s.gpkg"),
        "--quiet",
        cache=gazetteer_cache,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"skipped: {tmp_path / 'empty'}: no story files in this folder (expected .txt, .jsonl, "
        ".csv, .rss, .atom, .xml, .html, .htm, .json, .docx, .pdf files)",
        f"Error: found no story to ingest in {tmp_path / 'empty'} (nothing was stored)",
    ]


def test_a_reversed_export_range_is_an_error_not_an_empty_file(tmp_path: Path, store) -> None:
    from click.testing import CliRunner

    from mapapp.cli import cli

    out = tmp_path / "x.csv"
    done = CliRunner().invoke(
        cli,
        [
            "export",
            "--store",
            store.location,
            "-o",
            str(out),
            "--start",
            "2024-05-01",
            "--end",
            "2024-03-01",
        ],
    )
    assert done.exit_code == 2 and not out.exists()
    assert "--start 2024-05-01 is after --end 2024-03-01" in done.output
