"""One writer per store: the lock an ingest (or a reprocess) holds for its whole run.

Each batch already lands in one SQLite transaction, so two writers could never
tear the store; the lock is about the run as a whole.  A second ``mapapp
ingest`` into the same store waits, says so on stderr, and then reads the
stored ids afresh, so its summary counts the articles it really added and
nothing is parsed twice.  The lock is ``flock`` on a hidden file beside the
store (``.mapapp.gpkg.lock``); the kernel drops it when its holder exits, even
on ``kill -9``, so a dead ingest never blocks the next one.

Whoever holds the lock also removes the scratch a killed writer left (each
store says what that is, `Store.scratch_paths`): its half-written batches were
never part of the store, as the step that would have committed them never ran.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mapapp.errors import StoreError
from mapapp.files import remove
from mapapp.stores import Store, open_store

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, batches stay atomic anyway
    fcntl = None

log = logging.getLogger(__name__)


def lock_path(store_path: str | Path) -> Path:
    """The lock file of a store: hidden, beside it."""
    store = Path(store_path)
    return store.parent / f".{store.name}.lock"


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it ('pid 123 since 12:00:00'), or ''."""
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _open(store: Path) -> int:
    """Open (creating) the lock file; a StoreError naming the folder if it cannot be written."""
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path(store), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as err:
        raise StoreError(
            f"{store}: cannot write in {store.parent} ({err.strerror or err}); "
            "the store's folder must be writable to ingest"
        ) from err


def sweep_scratch(store: Store) -> int:
    """Remove the scratch of writers that died; only call it holding the store's lock."""
    removed = 0
    for leftover in store.scratch_paths():
        remove(leftover)
        removed += not leftover.exists()
    if removed:
        log.info(
            "removed %d scratch files and folders left by an interrupted ingest into %s",
            removed,
            store.location,
        )
    return removed


@contextmanager
def writer_lock(
    store_path: str | Path, *, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the store's writer lock; wait (calling ``on_wait(holder)`` once) while another has it.

    A path that exists but is not a store is refused first, so nothing is
    written beside it.

    A store that does not need one (PostGIS: its batches are transactions,
    and the unique content hash keeps concurrent ingests from storing a story
    twice) is only checked, so a team's ingests run side by side.

    :raise StoreError: the path is not a store, or its folder cannot be written.
    """
    store = open_store(store_path)
    store.check()  # refuses a location that holds something else
    if not store.needs_writer_lock:
        yield
        return
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = Path(store.location)
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(_holder(fd) or "another process")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # who holds it, for the message of the next one to come (cosmetic)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        except OSError:
            pass
        sweep_scratch(store)
        yield
    finally:
        os.close(fd)  # releases the lock
