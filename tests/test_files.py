"""Write aside, then rename (`mapapp.files`): a reader sees the old file or the new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.files import atomic_path, leftovers, scratch_folder


def test_the_new_file_replaces_the_old_one_at_once(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".cache.json.tmp-")
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing seen before the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_a_failed_write_leaves_the_old_file_and_no_scratch(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


@pytest.mark.parametrize("folder", [False, True])
def test_exclusive_keeps_what_another_writer_made_first(tmp_path: Path, folder: bool) -> None:
    target = tmp_path / "store"
    with (
        pytest.raises(FileExistsError),
        atomic_path(target, kind="new", folder=folder, exclusive=True) as tmp,
    ):
        if folder:
            (tmp / "manifest.json").write_text("mine")
            target.mkdir()
            (target / "manifest.json").write_text("theirs")
        else:
            tmp.write_text("mine")
            target.write_text("theirs")
    kept = target / "manifest.json" if folder else target
    assert kept.read_text() == "theirs"
    assert leftovers(target, "new") == []


def test_a_folder_made_aside_appears_whole(tmp_path: Path) -> None:
    target = tmp_path / "archive.parquet"
    with atomic_path(target, kind="new", folder=True, exclusive=True) as tmp:
        (tmp / "manifest.json").write_text("{}")
        assert leftovers(target, "new") == [tmp] and not target.exists()
    assert (target / "manifest.json").read_text() == "{}"
    assert leftovers(target, "new") == []


def test_a_scratch_folder_is_found_while_it_lives_and_removed_after(tmp_path: Path) -> None:
    target = tmp_path / "mapapp.gpkg"
    with scratch_folder(target, "batch") as folder:
        (folder / "batch.gpkg").write_bytes(b"x")
        assert leftovers(target, "batch") == [folder]
    assert leftovers(target, "batch") == [] and list(tmp_path.iterdir()) == []
