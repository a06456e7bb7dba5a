"""``mapapp watch``: poll folders and feeds into the store (the logic is `ingest.watch`)."""

from __future__ import annotations

import re
import signal
import threading
from types import FrameType
from typing import Any

import click

from mapapp.cli_options import settings_for, store_option

_INTERVAL = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h)?")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


class Interval(click.ParamType):
    """A duration: ``90``, ``30s``, ``5m``, ``1h`` (seconds when no unit is given)."""

    name = "interval"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """Seconds, from a number or a number with a unit."""
        if isinstance(value, (int, float)):
            return float(value)
        match = _INTERVAL.fullmatch(str(value).strip().lower())
        seconds = float(match["number"]) * _SECONDS[match["unit"]] if match else 0
        if not seconds:
            self.fail(f"{value!r} is not an interval such as 30s, 5m or 1h", param, ctx)
        return seconds


def _note(line: str) -> None:
    """Tell the user ``line`` on stderr (skipped files and entries, notes)."""
    click.echo(line, err=True)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@store_option
@click.option(
    "--every",
    type=Interval(),
    default="5m",
    show_default=True,
    help="Time between polls: 30s, 5m, 1h.",
)
@click.option("--once", is_flag=True, help="Poll once and exit (for cron jobs and tests).")
def watch(sources: tuple[str, ...], store: str | None, every: float, once: bool) -> None:
    """Poll folders and feed URLs, geoparsing only new or changed stories into the store.

    One line per poll says what was added.  Stop with Ctrl-C or SIGTERM at any moment:
    the store keeps what was written, and a restart goes on without adding anything twice.
    """
    from mapapp.ingest.watch import Watcher, check_sources

    config = settings_for(store)
    watcher = Watcher(check_sources(sources), config, report=_note)
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        """SIGTERM: stop now, like Ctrl-C (a store write in progress is rolled back)."""
        stop.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stopping)
    try:
        watcher.run(every, once=once, stop=stop, on_poll=lambda line: click.echo(line))
    except KeyboardInterrupt:
        click.echo(f"stopped after {watcher.polls} polls", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
