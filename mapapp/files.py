"""Writing files so that no reader ever sees half of one: write aside, then rename.

Every scratch path is named ``.<target name>.<kind>-<random>`` beside its
target, so whoever owns the target can find (and sweep) what a killed writer
left with `leftovers`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FOLDER_MODE = 0o755  # a folder made aside is as readable as a file made in place


def scratch_name(target: Path, kind: str) -> Path:
    """A fresh scratch path beside ``target`` (keeping its suffix, which some writers read)."""
    return target.parent / f".{target.name}.{kind}-{uuid.uuid4().hex[:12]}{target.suffix}"


def leftovers(target: str | Path, kind: str) -> list[Path]:
    """The scratch paths of ``kind`` beside ``target`` (those a writer that died left)."""
    target = Path(target)
    return sorted(target.parent.glob(f".{target.name}.{kind}-*"))


def remove(path: Path) -> None:
    """Delete a file or a folder tree; nothing there is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a folder's entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename in it), where the system allows it."""
    try:
        _fsync(folder)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a folder
        pass


def _link_new(tmp: Path, target: Path, folder: bool) -> None:
    """Put ``tmp`` at ``target`` only if nothing is there yet.

    :raise FileExistsError: another writer put something there first.
    """
    if folder:
        try:
            os.rename(tmp, target)  # a folder that is not empty is never replaced
        except OSError:
            if target.exists():
                raise FileExistsError(target) from None
            raise
        return
    try:
        os.link(tmp, target)  # fails if another writer created it first
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: a smaller race window
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(tmp, target)


@contextmanager
def atomic_path(
    target: str | Path, *, kind: str = "tmp", folder: bool = False, exclusive: bool = False
) -> Iterator[Path]:
    """A scratch path beside ``target`` to write; on success it becomes ``target`` at once.

    The body writes the file (or, with ``folder``, fills the folder made for
    it); leaving the block fsyncs it and renames it onto ``target``, replacing
    what was there.  With ``exclusive`` an existing ``target`` is kept and
    FileExistsError raised instead.  Whatever goes wrong, the scratch is
    removed and ``target`` is as it was.
    """
    target = Path(target)
    if folder:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{kind}-"))
        tmp.chmod(FOLDER_MODE)
    else:
        tmp = scratch_name(target, kind)
    try:
        yield tmp
        _fsync(tmp)
        if exclusive:
            _link_new(tmp, target, folder)
        else:
            os.replace(tmp, target)
        _fsync_folder(target.parent)
    finally:
        remove(tmp)


@contextmanager
def scratch_folder(target: str | Path, kind: str) -> Iterator[Path]:
    """A folder beside ``target`` for work that is never renamed into place; removed after."""
    target = Path(target)
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{kind}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
