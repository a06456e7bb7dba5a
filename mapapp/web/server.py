"""Serving the app for real: waitress, set up for a shared team server (``mapapp serve``).

Waitress reads every request whole in its one event loop before a worker
thread sees it, so an idle connection or a half-sent request costs a
connection slot and a file descriptor, never a thread.  What locks readers
out is the connection limit: waitress's default of 100 is used up by a
hundred idle sockets, or a hundred browsers keeping their connection alive,
and everyone after them waits in the kernel's queue.  So ``mapapp serve``:

* accepts ``MAPAPP_CONNECTION_LIMIT`` connections (1000), far above the
  thread count, watched with poll() (select() stops at descriptor 1024),
  and raises the soft open-file limit toward the hard one to fit them;
* closes a connection that has been idle, or stuck mid-request, for
  ``MAPAPP_CHANNEL_TIMEOUT`` seconds (15), looked for every second, so slow
  and abandoned clients hand their slot back;
* runs ``MAPAPP_THREADS`` workers (0: twice the cores, 4 to 12; the app
  mostly holds the GIL, and 12 is what the PostGIS pool serves at once);
* keeps waitress's single first-come-first-served queue with one request in
  flight per connection, so a busy client never jumps ahead of a new one.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from flask import Flask

from mapapp.settings import Settings
from mapapp.web.uploads import EXTENSION as UPLOADS

MIN_THREADS, MAX_THREADS = 4, 12  # MAX_THREADS: the PostGIS pool's 4 connections + 8 overflow
# A connection holds its socket, and a spill file while a response outgrows waitress's
# 1 MB output buffer; request bodies are refused past 16 KiB (an upload's past
# UPLOAD_MAX_BYTES: those few spill to a file too).
FDS_PER_CONNECTION = 2
SPARE_FDS = 64  # the store, caches, logs and waitress's own wake-up pipe
CLEANUP_INTERVAL = 1  # seconds between waitress's sweeps for timed-out connections
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServerPlan:
    """How ``mapapp serve`` runs waitress: worker threads, connections and timeouts."""

    threads: int
    connection_limit: int
    channel_timeout: int
    max_body_bytes: int

    def waitress_options(self) -> dict[str, Any]:
        """Keyword arguments for ``waitress.serve`` (besides the address)."""
        return {
            "threads": self.threads,
            "connection_limit": self.connection_limit,
            "channel_timeout": self.channel_timeout,
            "cleanup_interval": CLEANUP_INTERVAL,
            "asyncore_use_poll": True,
            "channel_request_lookahead": 0,  # one request at a time per connection: a fair queue
            "ident": "mapapp",
            "max_request_body_size": self.max_body_bytes,
            "max_request_header_size": MAX_HEADER_BYTES,
        }

    def describe(self) -> str:
        """One line for the console: what the server will put up with."""
        return (
            f"{self.threads} threads, up to {self.connection_limit} connections, "
            f"idle ones closed after {self.channel_timeout} s"
        )


def thread_count(setting: int, cpus: int | None = None) -> int:
    """``MAPAPP_THREADS`` as a number: itself, or for 0 twice the cores within 4..12."""
    if setting > 0:
        return setting
    cores = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(MIN_THREADS, min(MAX_THREADS, 2 * cores))


def open_file_limit(wanted: int) -> int:
    """Raise this process's soft open-file limit toward ``wanted`` (never past the hard
    limit, never lower); the limit now in force."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def plan_server(settings: Settings, max_body_bytes: int) -> ServerPlan:
    """The waitress configuration for ``settings``, fitted to the open-file limit."""
    limit = settings.connection_limit
    available = open_file_limit(limit * FDS_PER_CONNECTION + SPARE_FDS)
    fits = max(1, (available - SPARE_FDS) // FDS_PER_CONNECTION)
    if fits < limit:
        print(
            f"warning: the open-file limit ({available}) fits {fits} connections, not "
            f"MAPAPP_CONNECTION_LIMIT={limit}; raise it with ulimit -n",
            file=sys.stderr,
            flush=True,
        )
        limit = fits
    return ServerPlan(
        threads=thread_count(settings.threads),
        connection_limit=limit,
        channel_timeout=settings.channel_timeout,
        max_body_bytes=max_body_bytes,
    )


def max_body_bytes(app: Flask) -> int:
    """The biggest request body ``app`` reads: MAX_CONTENT_LENGTH, or the upload's own
    UPLOAD_MAX_BYTES when the app takes uploads."""
    body = app.config["MAX_CONTENT_LENGTH"]
    if UPLOADS in app.extensions:
        body = max(body or 0, app.config["MAPAPP_SETTINGS"].upload_max_bytes)
    return body


def serve(app: Flask, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve ``app`` with waitress (a production WSGI server) until interrupted."""
    from waitress import serve as waitress_serve

    plan = plan_server(app.config["MAPAPP_SETTINGS"], max_body_bytes(app))
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"mapapp is serving on http://{shown}:{port}/ (Ctrl+C to stop)", flush=True)
    print(f"  {plan.describe()}", flush=True)
    waitress_serve(app, host=host, port=int(port), **plan.waitress_options())
